"""the revocation evidence (issue 22)'s table through InitializeSecurityContext, against real components on loopback:
``openssl s_server`` serving a PKI whose certificates name CRLs on a small HTTP server
(tests/support/revocation.py) or a real ``openssl ocsp`` responder (in a loopback-only
network namespace), and a closed port for "offline".

The stapling rows (status_request in the ClientHello, the staple kept as property 70)
need the TLS core's stapling; the engine's handling of a staple is tested in
tests/crypt32/test_revocation.py (``test_stapled_*``, ``test_exclude_root_with_a_staple``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import schannel_py as sc
from schannel_py import crypt32, stream
from schannel_py.crypt32 import constants as c
from schannel_py.testing.pki import make_crl, make_leaf, revocation_info
from tests.support import peers
from tests.support.revocation import HttpRepo, RevPki, closed_url, make_rev_pki

CHECK_CHAIN = sc.SCH_CRED_REVOCATION_CHECK_CHAIN
END_CERT = sc.SCH_CRED_REVOCATION_CHECK_END_CERT
EXCLUDE_ROOT = sc.SCH_CRED_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT
IGNORE_OFFLINE = sc.SCH_CRED_IGNORE_REVOCATION_OFFLINE
IGNORE_NO_CHECK = sc.SCH_CRED_IGNORE_NO_REVOCATION_CHECK


@pytest.fixture
def repo() -> Iterator[HttpRepo]:
    with HttpRepo() as r:
        yield r


def crl_pki(repo: HttpRepo, *, revoked_leaf: bool = False, revoked_inter: bool = False) -> RevPki:
    pki = make_rev_pki(leaf_crl=[repo.url("/leaf.crl")], inter_crl=[repo.url("/inter.crl")])
    repo.routes["/leaf.crl"] = make_crl(pki.intermediate, [pki.leaf] * revoked_leaf)
    repo.routes["/inter.crl"] = make_crl(pki.root, [pki.intermediate] * revoked_inter)
    return pki


def trust(pki: RevPki) -> None:
    root = crypt32.CertOpenSystemStore(None, "ROOT")
    assert root is not None
    der = pki.root.der
    assert crypt32.CertAddEncodedCertificateToStore(
        root, c.X509_ASN_ENCODING, der, len(der), c.CERT_STORE_ADD_USE_EXISTING, None
    )


def handshake(
    pki: RevPki, tmp_path: Path, flags: int, *, tls13: bool = True, schannel_cred: bool = False
) -> tuple[int, bytes]:
    """(ISC's final status, the alert record it produced) for one connection."""
    trust(pki)
    paths = pki.leaf.write(tmp_path)
    with peers.OpenSSLServer(
        paths.cert, paths.key, chain_file=paths.chain, tls13=tls13, tls12=not tls13
    ) as server:
        if schannel_cred:
            auth: object = sc.SCHANNEL_CRED(dwVersion=sc.SCHANNEL_CRED_VERSION, dwFlags=flags)
            cred = sc.CredHandle()
            status = sc.AcquireCredentialsHandle(
                None, sc.UNISP_NAME, sc.SECPKG_CRED_OUTBOUND, None, auth, None, None, cred, None
            )
            assert status == sc.SEC_E_OK
        else:
            cred = stream.acquire_default_credential(flags)
        try:
            s = stream.connect(*server.address, target="localhost", cred=cred)
        except stream.SChannelError as e:
            return int(e.status), e.alert
        s.close()
        return sc.SEC_E_OK, b""


pytestmark = [pytest.mark.interop, pytest.mark.usefixtures("isolated_stores")]


# --- the revocation evidence (issue 22), row by row ---------------------------------------------------------------


@pytest.mark.parametrize("tls13", [True, False], ids=["tls13", "tls12"])
def test_revoked_leaf_crl_reachable_check_chain(
    repo: HttpRepo, tmp_path: Path, tls13: bool
) -> None:
    pki = crl_pki(repo, revoked_leaf=True)
    status, alert = handshake(pki, tmp_path, CHECK_CHAIN, tls13=tls13)
    assert status == sc.CRYPT_E_REVOKED
    if not tls13:  # a TLS 1.2 alert before ChangeCipherSpec is readable: certificate_revoked
        assert alert[-2:] == bytes([2, sc.TLS1_ALERT_CERTIFICATE_REVOKED])


def test_good_leaf_crl_reachable_check_chain(repo: HttpRepo, tmp_path: Path) -> None:
    pki = crl_pki(repo)
    assert handshake(pki, tmp_path, CHECK_CHAIN)[0] == sc.SEC_E_OK
    assert repo.hits("/leaf.crl") == 1  # the leaf's CRL is fetched


def test_cdp_unreachable_is_offline(tmp_path: Path) -> None:
    pki = make_rev_pki(leaf_crl=[closed_url()], inter_crl=[closed_url()])
    status, alert = handshake(pki, tmp_path, CHECK_CHAIN, tls13=False)
    assert status == sc.CRYPT_E_REVOCATION_OFFLINE
    assert alert[-2:] == bytes([2, sc.TLS1_ALERT_CERTIFICATE_UNKNOWN])  # our choice (ALERT)


def test_cdp_unreachable_with_ignore_offline(tmp_path: Path) -> None:
    pki = make_rev_pki(leaf_crl=[closed_url()], inter_crl=[closed_url()])
    assert handshake(pki, tmp_path, CHECK_CHAIN | IGNORE_OFFLINE)[0] == sc.SEC_E_OK


def test_no_cdp_no_aia_is_no_revocation_check(tmp_path: Path) -> None:
    status, alert = handshake(make_rev_pki(), tmp_path, CHECK_CHAIN, tls13=False)
    assert status == sc.CRYPT_E_NO_REVOCATION_CHECK
    assert alert[-2:] == bytes([2, sc.TLS1_ALERT_CERTIFICATE_UNKNOWN])


def test_no_cdp_no_aia_with_ignore_no_check(tmp_path: Path) -> None:
    assert handshake(make_rev_pki(), tmp_path, CHECK_CHAIN | IGNORE_NO_CHECK)[0] == sc.SEC_E_OK


def test_revoked_leaf_by_a_live_ocsp_responder(tmp_path: Path) -> None:
    # A real responder (openssl ocsp -index), named by the leaves' AIA; nothing else.
    port = peers.free_port()
    url = f"http://127.0.0.1:{port}/"
    revoked = make_rev_pki(leaf_ocsp=[url])
    root, inter = revoked.root, revoked.intermediate
    good = RevPki(
        root,
        inter,
        make_leaf(
            inter,
            ip_addresses=("127.0.0.1",),
            extra_extensions=revocation_info(ocsp_urls=[url]),
        ),
    )
    index = [(revoked.leaf, True), (good.leaf, False)]
    with peers.OpenSSLOcspResponder(inter, index, port=port):
        flags = CHECK_CHAIN | IGNORE_NO_CHECK  # the intermediate names no source
        assert handshake(revoked, tmp_path, flags)[0] == sc.CRYPT_E_REVOKED
        assert handshake(good, tmp_path / "good", flags)[0] == sc.SEC_E_OK
        # Without the IGNORE flag the intermediate's missing information shows.
        crypt32.clear_revocation_cache()
        assert handshake(good, tmp_path / "again", CHECK_CHAIN)[0] == sc.CRYPT_E_NO_REVOCATION_CHECK
        assert handshake(good, tmp_path / "end", END_CERT)[0] == sc.SEC_E_OK


def test_live_ocsp_responder_with_a_delegated_signer(tmp_path: Path) -> None:
    port = peers.free_port()
    url = f"http://127.0.0.1:{port}/"
    pki = make_rev_pki(leaf_ocsp=[url])
    delegate = make_leaf(pki.intermediate, dns_names=(), eku=("OCSPSigning",))
    with peers.OpenSSLOcspResponder(
        pki.intermediate, [(pki.leaf, True)], signer=delegate, port=port
    ):
        assert handshake(pki, tmp_path, END_CERT)[0] == sc.CRYPT_E_REVOKED


def test_ocsp_and_cdp_unreachable_end_cert(tmp_path: Path) -> None:
    pki = make_rev_pki(leaf_crl=[closed_url()], leaf_ocsp=[closed_url("/ocsp")])
    assert handshake(pki, tmp_path, END_CERT)[0] == sc.CRYPT_E_REVOCATION_OFFLINE


@pytest.mark.parametrize("flag", [CHECK_CHAIN, EXCLUDE_ROOT], ids=["chain", "exclude_root"])
def test_revoked_intermediate(repo: HttpRepo, tmp_path: Path, flag: int) -> None:
    pki = crl_pki(repo, revoked_inter=True)
    assert handshake(pki, tmp_path, flag)[0] == sc.CRYPT_E_REVOKED


def test_revoked_intermediate_end_cert_checks_only_the_leaf(repo: HttpRepo, tmp_path: Path) -> None:
    pki = crl_pki(repo, revoked_inter=True)
    assert handshake(pki, tmp_path, END_CERT)[0] == sc.SEC_E_OK
    assert repo.hits("/inter.crl") == 0


def test_no_check_flag_accepts_a_revoked_leaf_and_fetches_nothing(
    repo: HttpRepo, tmp_path: Path
) -> None:
    pki = crl_pki(repo, revoked_leaf=True)
    assert handshake(pki, tmp_path, 0)[0] == sc.SEC_E_OK
    assert repo.requests == []


def test_only_the_ignore_flags_fetch_nothing(repo: HttpRepo, tmp_path: Path) -> None:
    # curl --ssl-no-revoke: the IGNORE flags without a CHECK flag have no effect.
    pki = crl_pki(repo, revoked_leaf=True)
    assert handshake(pki, tmp_path, IGNORE_NO_CHECK | IGNORE_OFFLINE)[0] == sc.SEC_E_OK
    assert repo.requests == []


def test_cache_only_with_nothing_cached(repo: HttpRepo, tmp_path: Path) -> None:
    pki = crl_pki(repo)
    flags = CHECK_CHAIN | sc.SCH_CRED_REVOCATION_CHECK_CACHE_ONLY
    assert handshake(pki, tmp_path, flags)[0] == sc.CRYPT_E_REVOCATION_OFFLINE
    assert repo.requests == []
    # Primed, the same credential flags pass without the network.
    assert crypt32.preload_crl(make_crl(pki.intermediate))
    assert crypt32.preload_crl(make_crl(pki.root))
    assert handshake(pki, tmp_path, flags)[0] == sc.SEC_E_OK
    assert repo.requests == []


# --- the flags at AcquireCredentialsHandle, and real callers' combinations -----------------------


@pytest.mark.parametrize(
    "flags",
    [CHECK_CHAIN | END_CERT, CHECK_CHAIN | EXCLUDE_ROOT, END_CERT | EXCLUDE_ROOT],
)
@pytest.mark.parametrize("structure", ["SCHANNEL_CRED", "SCH_CREDENTIALS"])
def test_two_check_flags_are_refused(flags: int, structure: str) -> None:
    auth: object
    if structure == "SCHANNEL_CRED":
        auth = sc.SCHANNEL_CRED(dwVersion=sc.SCHANNEL_CRED_VERSION, dwFlags=flags)
    else:
        auth = sc.SCH_CREDENTIALS(dwVersion=sc.SCH_CREDENTIALS_VERSION, dwFlags=flags)
    cred = sc.CredHandle()
    status = sc.AcquireCredentialsHandle(
        None, sc.UNISP_NAME, sc.SECPKG_CRED_OUTBOUND, None, auth, None, None, cred, None
    )
    assert status == sc.SEC_E_UNKNOWN_CREDENTIALS
    assert (cred.dwLower, cred.dwUpper) == (0, 0)


def test_schannel_cred_checks_like_sch_credentials(repo: HttpRepo, tmp_path: Path) -> None:
    pki = crl_pki(repo, revoked_leaf=True)
    status, _ = handshake(pki, tmp_path, CHECK_CHAIN, tls13=False, schannel_cred=True)
    assert status == sc.CRYPT_E_REVOKED


@pytest.mark.parametrize("offline", [True, False], ids=["offline", "no_cdp"])
def test_dotnet_flags_never_see_crypt_e(tmp_path: Path, offline: bool) -> None:
    # .NET: END_CERT | both IGNORE flags; its status table has no CRYPT_E_* entry.
    pki = make_rev_pki(leaf_crl=[closed_url()]) if offline else make_rev_pki()
    flags = END_CERT | IGNORE_NO_CHECK | IGNORE_OFFLINE
    assert handshake(pki, tmp_path, flags)[0] == sc.SEC_E_OK


def test_manual_validation_checks_nothing_in_isc(repo: HttpRepo, tmp_path: Path) -> None:
    # curl --cacert: MANUAL | CHECK_CHAIN; the caller's CertGetCertificateChain checks.
    pki = crl_pki(repo, revoked_leaf=True)
    flags = sc.SCH_CRED_MANUAL_CRED_VALIDATION | CHECK_CHAIN
    assert handshake(pki, tmp_path, flags)[0] == sc.SEC_E_OK
    assert repo.requests == []


# --- the CLI and the trace ---------------------------------------------------------------------


def test_cli_connect_revocation_shows_the_checks(
    repo: HttpRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from schannel_py import cli

    pki = crl_pki(repo, revoked_leaf=True)
    trust(pki)
    paths = pki.leaf.write(tmp_path)
    with peers.OpenSSLServer(paths.cert, paths.key, chain_file=paths.chain) as server:
        target = f"127.0.0.1:{server.port}"
        args = ["connect", target, "--servername", "localhost", "--revocation", "chain"]
        assert cli.main(args) == 1
        out, err = capsys.readouterr()
        assert "CRYPT_E_REVOKED" in err
        assert f"crl {repo.url('/leaf.crl')} -> revoked (network)" in out
        # The next run answers from the cache; --trace logs the checks too.
        assert cli.main([*args, "--trace"]) == 1
        out, _ = capsys.readouterr()
        assert f"crl {repo.url('/leaf.crl')} -> revoked (cache)" in out
    cert, key, chain = _files(make_rev_pki(), tmp_path / "nocdp")
    with peers.OpenSSLServer(cert, key, chain_file=chain) as server:
        target = f"127.0.0.1:{server.port}"
        args = ["connect", target, "--servername", "localhost", "--revocation", "end"]
        assert cli.main(args) == 1
        assert "CRYPT_E_NO_REVOCATION_CHECK" in capsys.readouterr().err
        assert cli.main([*args, "--ignore-no-check"]) == 0
        assert "-> no source" in capsys.readouterr().out


def _files(pki: RevPki, directory: Path) -> tuple[Path, Path, Path]:
    trust(pki)
    paths = pki.leaf.write(directory)
    return paths.cert, paths.key, paths.chain
