"""The revocation engine (crypt32/revocation.py, ocsp.py, crl.py, fetch.py) against a real
HTTP repository on 127.0.0.1, through verify_server_chain (ISC's check) and the chain engine.

The rows of the revocation evidence (issue 22) that need a TLS server are in
tests/interop/test_interop_revocation.py; here each source and each failure is
checked with certificates, CRLs and OCSP responses made for the test.
"""

from __future__ import annotations

import dataclasses
import datetime
import http.server
import threading
import time
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization

from schannel_py import constants as C
from schannel_py import crypt32
from schannel_py.crypt32 import chain as ch
from schannel_py.crypt32 import constants as c
from schannel_py.crypt32 import fetch, ocsp
from schannel_py.crypt32.crl import evaluate_crl
from schannel_py.crypt32.revocation import RevocationEvent, RevocationParams
from schannel_py.testing.pki import make_crl, make_leaf, make_ocsp_response, new_key
from tests.support.revocation import HANG, HttpRepo, RevPki, big_crl, closed_url, make_rev_pki

NOW = datetime.datetime.now(datetime.timezone.utc)
HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def repo() -> Iterator[HttpRepo]:
    with HttpRepo() as r:
        yield r


def crl_pki(repo: HttpRepo, **kw: list[str]) -> RevPki:
    """Leaf CRL at /leaf.crl, intermediate CRL at /inter.crl; both good by default."""
    pki = make_rev_pki(leaf_crl=[repo.url("/leaf.crl")], inter_crl=[repo.url("/inter.crl")], **kw)
    repo.routes["/leaf.crl"] = make_crl(pki.intermediate)
    repo.routes["/inter.crl"] = make_crl(pki.root)
    return pki


def roots(pki: RevPki) -> crypt32.CertStore:
    store = crypt32.CertOpenStore(
        c.CERT_STORE_PROV_MEMORY, 0, None, c.CERT_STORE_CREATE_NEW_FLAG, None
    )
    assert store is not None
    der = pki.root.der
    assert crypt32.CertAddEncodedCertificateToStore(
        store, c.X509_ASN_ENCODING, der, len(der), c.CERT_STORE_ADD_NEW, None
    )
    return store


def verify(
    pki: RevPki,
    scope: str | None = "chain",
    *,
    staple: bytes | None = None,
    cache_only: bool = False,
    ignore_offline: bool = False,
    ignore_no_check: bool = False,
    timeout: float | None = None,
    events: list[RevocationEvent] | None = None,
) -> int:
    params = (
        RevocationParams(scope, cache_only=cache_only, timeout=timeout)  # type: ignore[arg-type]
        if scope is not None
        else None
    )
    return int(
        crypt32.verify_server_chain(
            pki.chain_der,
            "localhost",
            NOW,
            extra_roots=roots(pki),
            revocation=params,
            ignore_offline=ignore_offline,
            ignore_no_check=ignore_no_check,
            staple=staple,
            events=events,
        )
    )


# --- the rows of the revocation evidence (issue 22), at the engine ------------------------------------------------


def test_revoked_leaf_by_crl(repo: HttpRepo) -> None:
    pki = crl_pki(repo)
    repo.routes["/leaf.crl"] = make_crl(pki.intermediate, [pki.leaf])
    assert verify(pki) == C.CRYPT_E_REVOKED


def test_good_leaf_by_crl_fetches_the_leafs_crl(repo: HttpRepo) -> None:
    pki = crl_pki(repo)
    assert verify(pki) == C.SEC_E_OK
    assert repo.hits("/leaf.crl") == 1 and repo.hits("/inter.crl") == 1


def test_pem_crl_is_accepted(repo: HttpRepo) -> None:
    pki = crl_pki(repo)
    der = make_crl(pki.intermediate, [pki.leaf])
    from cryptography import x509

    repo.routes["/leaf.crl"] = x509.load_der_x509_crl(der).public_bytes(serialization.Encoding.PEM)
    assert verify(pki) == C.CRYPT_E_REVOKED


def test_unreachable_cdp_is_offline_and_ignorable() -> None:
    pki = make_rev_pki(leaf_crl=[closed_url()], inter_crl=[closed_url()])
    assert verify(pki) == C.CRYPT_E_REVOCATION_OFFLINE
    assert verify(pki, ignore_offline=True) == C.SEC_E_OK
    # IGNORE_NO_REVOCATION_CHECK is about the other code.
    assert verify(pki, ignore_no_check=True) == C.CRYPT_E_REVOCATION_OFFLINE


def test_cdp_answering_404_is_offline(repo: HttpRepo) -> None:
    pki = crl_pki(repo)
    repo.routes["/leaf.crl"] = 404
    assert verify(pki) == C.CRYPT_E_REVOCATION_OFFLINE


def test_no_cdp_and_no_aia_is_no_revocation_check() -> None:
    pki = make_rev_pki()
    events: list[RevocationEvent] = []
    assert verify(pki, events=events) == C.CRYPT_E_NO_REVOCATION_CHECK
    assert verify(pki, ignore_no_check=True) == C.SEC_E_OK
    assert verify(pki, ignore_offline=True) == C.CRYPT_E_NO_REVOCATION_CHECK
    assert {e.result for e in events} == {"no source", "good"}  # the root needs none


def test_the_root_without_revocation_information_is_not_an_error(repo: HttpRepo) -> None:
    # CHECK_CHAIN covers the root too; a root naming no source passes (Wine, curl + public roots).
    pki = crl_pki(repo)
    events: list[RevocationEvent] = []
    assert verify(pki, "chain", events=events) == C.SEC_E_OK
    assert any("Revocation Root" in e.subject and e.result == "good" for e in events)


def test_root_with_an_unreachable_cdp_counts_under_chain_only(repo: HttpRepo) -> None:
    pki = crl_pki(repo, root_crl=[closed_url()])
    assert verify(pki, "chain") == C.CRYPT_E_REVOCATION_OFFLINE
    assert verify(pki, "chain_exclude_root") == C.SEC_E_OK


def test_ocsp_and_cdp_unreachable_end_cert_is_offline() -> None:
    pki = make_rev_pki(leaf_crl=[closed_url()], leaf_ocsp=[closed_url("/ocsp")])
    assert verify(pki, "end") == C.CRYPT_E_REVOCATION_OFFLINE


def test_stapled_good_response_with_every_server_offline(repo: HttpRepo) -> None:
    pki = make_rev_pki(leaf_crl=[closed_url()], leaf_ocsp=[closed_url("/ocsp")])
    staple = make_ocsp_response(pki.leaf, "good")
    events: list[RevocationEvent] = []
    assert verify(pki, "end", staple=staple, events=events) == C.SEC_E_OK
    assert [e.source for e in events] == ["staple"]


def test_stapled_revoked_response(repo: HttpRepo) -> None:
    pki = crl_pki(repo)
    staple = make_ocsp_response(pki.leaf, "revoked")
    assert verify(pki, "end", staple=staple) == C.CRYPT_E_REVOKED
    assert repo.requests == []  # the staple answered: nothing fetched


def test_exclude_root_with_a_staple(repo: HttpRepo) -> None:
    pki = crl_pki(repo)
    staple = make_ocsp_response(pki.leaf, "good")
    assert verify(pki, "chain_exclude_root", staple=staple) == C.SEC_E_OK
    assert repo.hits("/leaf.crl") == 0 and repo.hits("/inter.crl") == 1


@pytest.mark.parametrize("scope", ["chain", "chain_exclude_root"])
def test_revoked_intermediate(repo: HttpRepo, scope: str) -> None:
    pki = crl_pki(repo)
    repo.routes["/inter.crl"] = make_crl(pki.root, [pki.intermediate])
    assert verify(pki, scope) == C.CRYPT_E_REVOKED


def test_revoked_intermediate_with_end_cert_passes(repo: HttpRepo) -> None:
    pki = crl_pki(repo)
    repo.routes["/inter.crl"] = make_crl(pki.root, [pki.intermediate])
    assert verify(pki, "end") == C.SEC_E_OK
    assert repo.hits("/inter.crl") == 0


def test_no_check_requested_fetches_nothing(repo: HttpRepo) -> None:
    pki = crl_pki(repo)
    repo.routes["/leaf.crl"] = make_crl(pki.intermediate, [pki.leaf])
    assert verify(pki, None) == C.SEC_E_OK
    assert repo.requests == []


def test_cache_only_with_nothing_cached() -> None:
    # Sources named but not fetched: offline; no source at all: no check (the revocation evidence (issue 22), weak).
    named = make_rev_pki(leaf_crl=[closed_url()], inter_crl=[closed_url()])
    assert verify(named, cache_only=True) == C.CRYPT_E_REVOCATION_OFFLINE
    assert verify(make_rev_pki(), cache_only=True) == C.CRYPT_E_NO_REVOCATION_CHECK


def test_cache_only_answers_from_preloaded_crls(repo: HttpRepo) -> None:
    pki = crl_pki(repo)
    assert crypt32.preload_crl(make_crl(pki.intermediate, [pki.leaf]))
    assert crypt32.preload_crl(make_crl(pki.root))
    assert verify(pki, cache_only=True) == C.CRYPT_E_REVOKED
    assert repo.requests == []


def test_preloaded_ocsp_response_serves_a_certificate_without_sources() -> None:
    pki = make_rev_pki()
    assert crypt32.preload_ocsp_response(make_ocsp_response(pki.leaf, "revoked"))
    assert verify(pki, "end") == C.CRYPT_E_REVOKED


# --- the cache and the fetcher -------------------------------------------------------------


def test_fetched_crls_are_cached_until_next_update(repo: HttpRepo) -> None:
    pki = crl_pki(repo)
    events: list[RevocationEvent] = []
    assert verify(pki) == C.SEC_E_OK
    assert verify(pki, events=events) == C.SEC_E_OK
    assert repo.hits("/leaf.crl") == 1
    assert all(e.from_cache for e in events if e.source == "crl")
    # A CRL past its nextUpdate is dropped and fetched again.
    crypt32.clear_revocation_cache()
    repo.routes["/leaf.crl"] = make_crl(
        pki.intermediate, this_update=NOW - 3 * HOUR, next_update=NOW - HOUR
    )
    assert verify(pki) == C.CRYPT_E_REVOCATION_OFFLINE
    assert verify(pki) == C.CRYPT_E_REVOCATION_OFFLINE
    assert repo.hits("/leaf.crl") == 3


def test_injected_fetcher_sees_every_request(repo: HttpRepo) -> None:
    pki = crl_pki(repo)
    seen: list[fetch.FetchRequest] = []

    def recorder(request: fetch.FetchRequest) -> bytes:
        seen.append(request)
        return fetch.http_fetch(request)

    crypt32.set_fetcher(recorder)
    assert verify(pki, timeout=3.0) == C.SEC_E_OK
    assert [r.url for r in seen] == [repo.url("/leaf.crl"), repo.url("/inter.crl")]
    assert all(r.timeout == 3.0 and r.max_size == fetch.MAX_CRL_SIZE for r in seen)


def test_offline_fetcher_never_connects(repo: HttpRepo) -> None:
    pki = crl_pki(repo)
    crypt32.set_fetcher(crypt32.offline_fetcher)
    assert verify(pki) == C.CRYPT_E_REVOCATION_OFFLINE
    assert repo.requests == []


def test_a_fetcher_that_raises_anything_is_offline() -> None:
    pki = make_rev_pki(leaf_crl=["http://127.0.0.1:1/x.crl"])

    def broken(request: fetch.FetchRequest) -> bytes:
        raise RuntimeError("boom")

    crypt32.set_fetcher(broken)
    assert verify(pki, "end") == C.CRYPT_E_REVOCATION_OFFLINE


# --- hostile and broken sources ------------------------------------------------------------


def test_hanging_cdp_times_out(repo: HttpRepo) -> None:
    pki = crl_pki(repo)
    repo.routes["/leaf.crl"] = HANG
    start = time.monotonic()
    assert verify(pki, timeout=0.5) == C.CRYPT_E_REVOCATION_OFFLINE
    assert time.monotonic() - start < 5


def test_default_timeout_is_configurable(repo: HttpRepo) -> None:
    pki = crl_pki(repo)
    repo.routes["/leaf.crl"] = HANG
    assert crypt32.set_default_timeout(0.3) == fetch.DEFAULT_TIMEOUT == 15.0
    start = time.monotonic()
    assert verify(pki) == C.CRYPT_E_REVOCATION_OFFLINE
    assert time.monotonic() - start < 5


def test_crl_of_several_megabytes_is_refused(repo: HttpRepo) -> None:
    pki = crl_pki(repo)
    big = big_crl(pki.intermediate, 150_000)
    assert len(big) > 3 * 1024 * 1024
    assert evaluate_crl(big, pki.leaf.cert, pki.intermediate.cert, NOW).status == "good"
    repo.routes["/leaf.crl"] = big
    events: list[RevocationEvent] = []
    assert verify(pki, events=events) == C.CRYPT_E_REVOCATION_OFFLINE
    assert any("limit" in e.detail for e in events)


@pytest.mark.parametrize("location", ["file:///etc/passwd", "https://127.0.0.1:1/x.crl"])
def test_redirect_to_a_non_http_url_is_refused(repo: HttpRepo, location: str) -> None:
    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.handle_request, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/leaf.crl"
    try:
        with pytest.raises(fetch.FetchError, match="non-HTTP|HTTP 302"):
            fetch.http_fetch(fetch.FetchRequest(url, timeout=5))
    finally:
        server.server_close()


def test_non_http_cdp_is_not_fetched() -> None:
    pki = make_rev_pki(leaf_crl=["ldap://127.0.0.1/cn=x", "file:///etc/passwd"])
    events: list[RevocationEvent] = []
    assert verify(pki, "end", events=events) == C.CRYPT_E_REVOCATION_OFFLINE
    assert {e.detail for e in events} == {"not an http URL"}


@pytest.mark.parametrize(
    "case", ["truncated", "garbage", "wrong_signer", "expired", "future", "other_ca"]
)
def test_unusable_crl_is_offline(repo: HttpRepo, case: str) -> None:
    pki = crl_pki(repo)
    good = make_crl(pki.intermediate, [pki.leaf])
    crl = {
        "truncated": lambda: good[: len(good) // 2],
        "garbage": lambda: b"\x30\x03\x02\x01\x00",
        "wrong_signer": lambda: make_crl(pki.intermediate, [pki.leaf], signer=new_key()),
        "expired": lambda: make_crl(
            pki.intermediate, [pki.leaf], this_update=NOW - 3 * HOUR, next_update=NOW - HOUR
        ),
        "future": lambda: make_crl(
            pki.intermediate, [pki.leaf], this_update=NOW + HOUR, next_update=NOW + 2 * HOUR
        ),
        "other_ca": lambda: make_crl(pki.root, [pki.leaf]),
    }[case]()
    repo.routes["/leaf.crl"] = crl
    assert verify(pki) == C.CRYPT_E_REVOCATION_OFFLINE


def test_evaluate_crl_never_raises() -> None:
    pki = make_rev_pki()
    for data in (b"", b"-----BEGIN X509 CRL-----\nnope\n-----END X509 CRL-----", b"\xff" * 40):
        assert evaluate_crl(data, pki.leaf.cert, pki.intermediate.cert, NOW).status == "invalid"


# --- OCSP ----------------------------------------------------------------------------------


def ocsp_pki(repo: HttpRepo) -> RevPki:
    return make_rev_pki(leaf_ocsp=[repo.url("/ocsp")], inter_crl=[repo.url("/inter.crl")])


def test_ocsp_from_the_aia_responder(repo: HttpRepo) -> None:
    pki = ocsp_pki(repo)
    repo.routes["/inter.crl"] = make_crl(pki.root)
    repo.routes["/ocsp"] = make_ocsp_response(pki.leaf, "revoked")
    assert verify(pki) == C.CRYPT_E_REVOKED
    repo.routes["/ocsp"] = make_ocsp_response(pki.leaf, "good")
    crypt32.clear_revocation_cache()
    assert verify(pki) == C.SEC_E_OK
    # RFC 5019: a small request goes as GET, base64 in the path.
    assert {r.method for r in repo.requests if r.path.startswith("/ocsp")} == {"GET"}


def test_ocsp_post_when_the_get_url_is_too_long(repo: HttpRepo) -> None:
    long_base = repo.url("/ocsp/" + "a" * 200)
    pki = make_rev_pki(leaf_ocsp=[long_base])
    repo.routes["/ocsp"] = make_ocsp_response(pki.leaf, "good")
    assert verify(pki, "end") == C.SEC_E_OK
    post = [r for r in repo.requests if r.method == "POST"]
    assert len(post) == 1 and post[0].body[:1] == b"\x30"


def test_ocsp_unknown_falls_back_to_the_crl(repo: HttpRepo) -> None:
    pki = make_rev_pki(leaf_ocsp=[repo.url("/ocsp")], leaf_crl=[repo.url("/leaf.crl")])
    repo.routes["/ocsp"] = make_ocsp_response(pki.leaf, "unknown")
    repo.routes["/leaf.crl"] = make_crl(pki.intermediate, [pki.leaf])
    assert verify(pki, "end") == C.CRYPT_E_REVOKED
    # Unknown alone, with no other answer: the status cannot be checked.
    del repo.routes["/leaf.crl"]
    crypt32.clear_revocation_cache()
    assert verify(pki, "end") == C.CRYPT_E_NO_REVOCATION_CHECK


def test_delegated_responder_needs_the_ocsp_signing_eku(repo: HttpRepo) -> None:
    pki = make_rev_pki(leaf_ocsp=[repo.url("/ocsp")])
    delegate = make_leaf(pki.intermediate, dns_names=(), eku=("OCSPSigning",))
    repo.routes["/ocsp"] = make_ocsp_response(pki.leaf, "revoked", responder=delegate)
    assert verify(pki, "end") == C.CRYPT_E_REVOKED
    crypt32.clear_revocation_cache()
    impostor = make_leaf(pki.intermediate, dns_names=(), eku=("serverAuth",))
    repo.routes["/ocsp"] = make_ocsp_response(pki.leaf, "revoked", responder=impostor)
    assert verify(pki, "end") == C.CRYPT_E_REVOCATION_OFFLINE


@pytest.mark.parametrize(
    "case",
    ["truncated", "garbage", "wrong_signer", "expired", "other_cert", "other_ca", "try_later"],
)
def test_unusable_ocsp_response(repo: HttpRepo, case: str) -> None:
    pki = make_rev_pki(leaf_ocsp=[repo.url("/ocsp")])
    revoked = make_ocsp_response(pki.leaf, "revoked")
    other = make_rev_pki()
    data = {
        "truncated": lambda: revoked[:-20],
        "garbage": lambda: b"not ocsp",
        "wrong_signer": lambda: make_ocsp_response(
            pki.leaf, "revoked", responder=other.intermediate
        ),
        "expired": lambda: make_ocsp_response(
            pki.leaf, "revoked", this_update=NOW - 3 * HOUR, next_update=NOW - HOUR
        ),
        "other_cert": lambda: make_ocsp_response(make_leaf(pki.intermediate), "revoked"),
        "other_ca": lambda: make_ocsp_response(other.leaf, "revoked"),
        "try_later": lambda: bytes.fromhex("30030a0103"),
    }[case]()
    repo.routes["/ocsp"] = data
    events: list[RevocationEvent] = []
    assert verify(pki, "end", events=events) == C.CRYPT_E_REVOCATION_OFFLINE
    assert [e.result for e in events] == ["invalid"]
    # The same bytes as a staple are ignored, then the responder is asked.
    assert verify(pki, "end", staple=data) == C.CRYPT_E_REVOCATION_OFFLINE
    assert ocsp.evaluate_response(data, pki.leaf.cert, pki.intermediate.cert, NOW).status == (
        "invalid"
    )


def test_evaluate_response_interface() -> None:
    pki = make_rev_pki()
    good = make_ocsp_response(pki.leaf, "good", next_update=NOW + HOUR)
    result = ocsp.evaluate_response(good, pki.leaf.cert, pki.intermediate.cert, NOW)
    assert result.status == "good" and result.next_update is not None
    assert abs(result.next_update - (NOW + HOUR)) < datetime.timedelta(seconds=1)
    bad = ocsp.evaluate_response(b"\x00" * 3, pki.leaf.cert, pki.intermediate.cert, NOW)
    assert bad.status == "invalid" and bad.reason
    with pytest.raises(dataclasses.FrozenInstanceError):
        ocsp.OcspResult("good").status = "revoked"  # type: ignore[misc]


# --- the chain engine: trust bits and the policy ---------------------------------------------


def chain_of(
    pki: RevPki, flags: int, para: ch.CERT_CHAIN_PARA | None = None
) -> ch.CERT_CHAIN_CONTEXT:
    store = roots(pki)
    for der in pki.chain_der:
        crypt32.CertAddEncodedCertificateToStore(
            store, c.X509_ASN_ENCODING, der, len(der), c.CERT_STORE_ADD_USE_EXISTING, None
        )
    config = ch.CERT_CHAIN_ENGINE_CONFIG(hExclusiveRoot=store)
    engine = ch.HCERTCHAINENGINE()
    assert ch.CertCreateCertificateChainEngine(config, engine)
    leaf = next(x for x in store if x.pbCertEncoded == pki.leaf.der)
    out = ch.PCCERT_CHAIN_CONTEXT()
    assert ch.CertGetCertificateChain(
        engine, leaf, NOW, store, para or ch.CERT_CHAIN_PARA(), flags, None, out
    )
    assert out.value is not None
    return out.value


def element_errors(context: ch.CERT_CHAIN_CONTEXT) -> list[int]:
    return [e.TrustStatus.dwErrorStatus for e in context.rgpChain[0].rgpElement]


def policy(context: ch.CERT_CHAIN_CONTEXT, flags: int = 0) -> tuple[int, int]:
    status = ch.CERT_CHAIN_POLICY_STATUS()
    para = ch.CERT_CHAIN_POLICY_PARA(dwFlags=flags)
    assert ch.CertVerifyCertificateChainPolicy(c.CERT_CHAIN_POLICY_SSL, context, para, status)
    return status.dwError, status.lElementIndex


def test_chain_engine_revoked_leaf(repo: HttpRepo) -> None:
    pki = crl_pki(repo)
    repo.routes["/leaf.crl"] = make_crl(pki.intermediate, [pki.leaf])
    context = chain_of(pki, c.CERT_CHAIN_REVOCATION_CHECK_CHAIN)
    assert element_errors(context) == [c.CERT_TRUST_IS_REVOKED, 0, 0]
    assert context.TrustStatus.dwErrorStatus == c.CERT_TRUST_IS_REVOKED
    assert policy(context) == (C.CRYPT_E_REVOKED, 0)
    # The rev-unknown ignore flags do not hide a revocation.
    assert policy(context, c.CERT_CHAIN_POLICY_IGNORE_ALL_REV_UNKNOWN_FLAGS)[0] == C.CRYPT_E_REVOKED


def test_chain_engine_offline_and_unknown_bits() -> None:
    pki = make_rev_pki(leaf_crl=[closed_url()])
    context = chain_of(pki, c.CERT_CHAIN_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT)
    offline = c.CERT_TRUST_REVOCATION_STATUS_UNKNOWN | c.CERT_TRUST_IS_OFFLINE_REVOCATION
    assert element_errors(context) == [offline, c.CERT_TRUST_REVOCATION_STATUS_UNKNOWN, 0]
    assert policy(context) == (C.CRYPT_E_REVOCATION_OFFLINE, 0)
    # Per element: ignoring the end certificate's unknown leaves the CA's.
    assert policy(context, c.CERT_CHAIN_POLICY_IGNORE_END_REV_UNKNOWN_FLAG) == (
        C.CRYPT_E_NO_REVOCATION_CHECK,
        1,
    )
    assert policy(context, c.CERT_CHAIN_POLICY_IGNORE_ALL_REV_UNKNOWN_FLAGS) == (0, -1)


def test_chain_engine_without_a_revocation_flag_checks_nothing(repo: HttpRepo) -> None:
    pki = crl_pki(repo)
    repo.routes["/leaf.crl"] = make_crl(pki.intermediate, [pki.leaf])
    context = chain_of(pki, c.CERT_CHAIN_CACHE_END_CERT)
    assert element_errors(context) == [0, 0, 0] and repo.requests == []


def test_chain_engine_url_retrieval_timeout(repo: HttpRepo) -> None:
    pki = crl_pki(repo)
    repo.routes["/leaf.crl"] = HANG
    start = time.monotonic()
    context = chain_of(
        pki, c.CERT_CHAIN_REVOCATION_CHECK_END_CERT, ch.CERT_CHAIN_PARA(dwUrlRetrievalTimeout=300)
    )
    assert time.monotonic() - start < 5
    assert element_errors(context)[0] & c.CERT_TRUST_IS_OFFLINE_REVOCATION


def test_chain_engine_uses_the_ocsp_response_property(repo: HttpRepo) -> None:
    # The Windows OCSP_Response sample: property 70, then END_CERT | CACHE_ONLY, no network.
    pki = crl_pki(repo)
    store = roots(pki)
    der = pki.leaf.der
    leaf = crypt32.PCCERT_CONTEXT()
    assert crypt32.CertAddEncodedCertificateToStore(
        store, c.X509_ASN_ENCODING, der, len(der), c.CERT_STORE_ADD_NEW, leaf
    )
    assert leaf.value is not None
    response = make_ocsp_response(pki.leaf, "revoked")
    blob = crypt32.CRYPT_DATA_BLOB(len(response), response)
    assert crypt32.CertSetCertificateContextProperty(
        leaf.value, c.CERT_OCSP_RESPONSE_PROP_ID, 0, blob
    )
    inter = pki.intermediate.der
    crypt32.CertAddEncodedCertificateToStore(
        store, c.X509_ASN_ENCODING, inter, len(inter), c.CERT_STORE_ADD_NEW, None
    )
    engine = ch.HCERTCHAINENGINE()
    assert ch.CertCreateCertificateChainEngine(
        ch.CERT_CHAIN_ENGINE_CONFIG(hExclusiveRoot=store), engine
    )
    out = ch.PCCERT_CHAIN_CONTEXT()
    flags = c.CERT_CHAIN_REVOCATION_CHECK_END_CERT | c.CERT_CHAIN_REVOCATION_CHECK_CACHE_ONLY
    assert ch.CertGetCertificateChain(
        engine, leaf.value, NOW, store, ch.CERT_CHAIN_PARA(), flags, None, out
    )
    assert out.value is not None
    assert element_errors(out.value)[0] == c.CERT_TRUST_IS_REVOKED
    assert repo.requests == []
