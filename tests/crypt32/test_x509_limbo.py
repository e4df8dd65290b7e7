"""x509-limbo through the project's own validation path (crypt32.verify_server_chain).

Every SERVER case with an expected peer name (197 of the 208) runs through
:func:`schannel_py.crypt32.verify_server_chain` -- path building over the
case's intermediates, the case's trust anchors as ``extra_roots``, the case's
validation time, EKU, and the name check -- exactly as the SSPI layer calls it
for a server's Certificate message.  Expected SUCCESS must give SEC_E_OK,
expected FAILURE any failure status.

Where the project disagrees with the suite, the case is listed in
``DIVERGENCES`` with the project's result and the reason; the test fails if a
listed disagreement disappears (so the list stays true) or an unlisted one
appears.  ``BEYOND_CRYPTOGRAPHY`` names the divergences where
``cryptography``'s own verifier (PolicyBuilder, web-PKI profile) *does* agree
with the suite: those are the project's deliberate, Windows-like choices and
are checked separately against a live run of cryptography.  Everywhere else a
divergence is shared with cryptography (the suite's "undetermined" cases:
CN-vs-SAN, AKI/SKI profile rules, weak keys, CRLs cryptography does not read).

Not run: the 5+5 CLIENT cases (a TLS client validates servers only) and the
one SERVER case without a peer name (``verify_server_chain`` checks no name
then, so it would test nothing more than its neighbours).  cryptography is not
consulted for ``pathological::*`` (its verifier does not finish on
pathological-chain-same-subject-same-key); the project's path builder is
bounded (MAX_SIGNATURE_CHECKS) and answers them.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import json
import warnings
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.verification import PolicyBuilder, Store

import schannel_py.crypt32 as c
from schannel_py.constants import (
    SEC_E_CERT_EXPIRED,
    SEC_E_CERT_UNKNOWN,
    SEC_E_OK,
    SecStatus,
)
from tests.support.paths import ROOT

VECTORS = ROOT / "vectors" / "x509-limbo.json"

CRL = "revocation is not checked: verify_server_chain takes no CRLs (the README's known difference)"
CN = (
    "the subject CN is never used for the name check (RFC 6125 / the crypt32.verify module "
    "docstring), so a CN that does not match is irrelevant"
)
AKI_SKI = (
    "AKI/SKI presence and form are a CA/B profile rule, not a path-validation one; "
    "CryptoAPI builds paths by name and signature"
)
WEAK_KEY = "key-size and algorithm bans of the web-PKI profile are not applied to the path"
EKU_RELAX = (
    "EKU is checked by this module: absent or anyExtendedKeyUsage is accepted, as CryptoAPI "
    "does; the trust anchor's EKU is not checked"
)

# id -> (the project's result, why)
DIVERGENCES: dict[str, tuple[SecStatus, str]] = {
    "crl::revoked-certificate-with-crl": (SEC_E_OK, CRL),
    "crl::crlnumber-missing": (SEC_E_OK, CRL),
    "crl::crlnumber-critical": (SEC_E_OK, CRL),
    "crl::issuer-missing-crlsign": (SEC_E_OK, CRL),
    "crl::issuer-no-keyusage-extension": (
        SEC_E_CERT_UNKNOWN,
        "the structural check (cryptography's) requires keyUsage on a CA certificate",
    ),
    "cve::cve-2025-61727-nc-permits-variant": (
        SEC_E_OK,
        "a wildcard SAN under a permitted-subtree name constraint is accepted by the "
        "structural check (cryptography's behaviour)",
    ),
    "pathlen::validation-ignores-pathlen-in-leaf": (
        SEC_E_CERT_UNKNOWN,
        "the structural check rejects a leaf with a pathLenConstraint (cryptography)",
    ),
    "pathlen::self-issued-certs-pathlen": (
        SEC_E_CERT_UNKNOWN,
        "self-issued intermediates count against pathLenConstraint in the structural check",
    ),
    "pathlen::max-chain-depth-0-exhausted": (
        SEC_E_OK,
        "the case sets a caller maximum chain depth; SChannel has no such knob, so "
        "verify_server_chain takes none (its own bound is MAX_PATH_LENGTH)",
    ),
    "pathlen::max-chain-depth-1-exhausted": (
        SEC_E_OK,
        "the case sets a caller maximum chain depth; SChannel has no such knob",
    ),
    "rfc5280::aki::intermediate-missing-aki": (SEC_E_OK, AKI_SKI),
    "rfc5280::aki::cross-signed-root-missing-aki": (SEC_E_OK, AKI_SKI),
    "rfc5280::nc::permitted-dns-match-noncritical": (
        SEC_E_OK,
        "a non-critical nameConstraints extension is honoured rather than rejected",
    ),
    "rfc5280::pc::ica-noncritical-pc": (
        SEC_E_OK,
        "a non-critical policyConstraints extension is not a reason to reject",
    ),
    "rfc5280::san::noncritical-with-empty-subject": (
        SEC_E_OK,
        "SAN is handled by this module (relaxed in the structural check): its criticality "
        "with an empty subject is a profile rule CryptoAPI does not enforce",
    ),
    "rfc5280::san::underscore-dns": (
        SEC_E_OK,
        "an underscore in a dNSName SAN matches literally, as CryptoAPI's name match does",
    ),
    "rfc5280::serial::zero": (SEC_E_OK, "a zero serial number is accepted (CryptoAPI does)"),
    "rfc5280::serial::negative": (
        SEC_E_OK,
        "a negative serial number is accepted (CryptoAPI does; cryptography only warns)",
    ),
    "rfc5280::ski::root-missing-ski": (SEC_E_OK, AKI_SKI),
    "rfc5280::ski::intermediate-missing-ski": (SEC_E_OK, AKI_SKI),
    "rfc5280::validity::notafter-fractional": (
        SEC_E_CERT_EXPIRED,
        "validation 5 ms after notAfter: the time is compared at full precision, as a "
        "Windows FILETIME comparison does; the suite calls the case ambiguous",
    ),
    "rfc5280::ca-as-leaf": (
        SEC_E_CERT_UNKNOWN,
        "a CA certificate as the leaf is rejected by the structural check (cryptography)",
    ),
    "webpki::aki::root-with-aki-authoritycertissuer": (SEC_E_OK, AKI_SKI),
    "webpki::aki::root-with-aki-authoritycertserialnumber": (SEC_E_OK, AKI_SKI),
    "webpki::aki::root-with-aki-all-fields": (SEC_E_OK, AKI_SKI),
    "webpki::aki::root-with-aki-ski-mismatch": (SEC_E_OK, AKI_SKI),
    "webpki::cn::ipv4-hex-mismatch": (SEC_E_OK, CN),
    "webpki::cn::ipv4-leading-zeros-mismatch": (SEC_E_OK, CN),
    "webpki::cn::ipv6-uppercase-mismatch": (SEC_E_OK, CN),
    "webpki::cn::ipv6-uncompressed-mismatch": (SEC_E_OK, CN),
    "webpki::cn::ipv6-non-rfc5952-mismatch": (SEC_E_OK, CN),
    "webpki::cn::punycode-not-in-san": (SEC_E_OK, CN),
    "webpki::cn::utf8-vs-punycode-mismatch": (SEC_E_OK, CN),
    "webpki::cn::not-in-san": (SEC_E_OK, CN),
    "webpki::cn::case-mismatch": (SEC_E_OK, CN),
    "webpki::eku::ee-anyeku": (SEC_E_OK, EKU_RELAX),
    "webpki::eku::ee-critical-eku": (SEC_E_OK, EKU_RELAX + "; a critical EKU is fine"),
    "webpki::eku::ee-without-eku": (SEC_E_OK, EKU_RELAX),
    "webpki::eku::root-has-eku": (SEC_E_OK, EKU_RELAX),
    "webpki::san::public-suffix-multi-label-wildcard-san": (
        SEC_E_OK,
        "no public-suffix list: a wildcard needs two labels after it, nothing more",
    ),
    "webpki::san::public-suffix-private-namespace-wildcard-san": (
        SEC_E_OK,
        "no public-suffix list: a wildcard needs two labels after it, nothing more",
    ),
    "webpki::san::san-critical-with-nonempty-subject": (
        SEC_E_OK,
        "SAN criticality is a profile rule CryptoAPI does not enforce",
    ),
    "webpki::forbidden-p192-leaf": (SEC_E_OK, WEAK_KEY),
    "webpki::forbidden-dsa-leaf": (SEC_E_OK, WEAK_KEY),
    "webpki::forbidden-weak-rsa-in-leaf": (SEC_E_OK, WEAK_KEY),
    "webpki::forbidden-rsa-not-divisible-by-8-in-root": (SEC_E_OK, WEAK_KEY),
    "webpki::forbidden-rsa-key-not-divisible-by-8-in-leaf": (SEC_E_OK, WEAK_KEY),
}

# Divergences where cryptography's verifier agrees with the suite (checked live below).
BEYOND_CRYPTOGRAPHY = frozenset(
    {
        "pathlen::max-chain-depth-0-exhausted",
        "pathlen::max-chain-depth-1-exhausted",
        "rfc5280::san::noncritical-with-empty-subject",
        "rfc5280::san::underscore-dns",
        "rfc5280::serial::negative",
        "rfc5280::validity::notafter-fractional",
        "webpki::eku::ee-critical-eku",
        "webpki::san::san-critical-with-nonempty-subject",
    }
)


def _load() -> list[dict[str, Any]]:
    cases = json.loads(VECTORS.read_text())["testcases"]
    return [t for t in cases if t["validation_kind"] == "SERVER" and t["expected_peer_name"]]


CASES = _load()


def _cert(pem: str) -> x509.Certificate:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # negative / zero serial numbers
        return x509.load_pem_x509_certificate(pem.encode())


def _der(pem: str) -> bytes:
    return _cert(pem).public_bytes(Encoding.DER)


def _when(case: dict[str, Any]) -> datetime.datetime:
    if case["validation_time"]:
        return datetime.datetime.fromisoformat(case["validation_time"])
    return datetime.datetime.now(datetime.timezone.utc)


def project_result(case: dict[str, Any]) -> SecStatus:
    store = c.CertOpenStore(c.CERT_STORE_PROV_MEMORY, 0, None, 0, None)
    assert store is not None
    for pem in case["trusted_certs"]:
        der = _der(pem)
        assert c.CertAddEncodedCertificateToStore(
            store, c.X509_ASN_ENCODING, der, len(der), c.CERT_STORE_ADD_ALWAYS, None
        )
    chain = [_der(case["peer_certificate"])] + [_der(p) for p in case["untrusted_intermediates"]]
    name = case["expected_peer_name"]["value"]
    return SecStatus(c.verify_server_chain(chain, name, _when(case), extra_roots=store))


def cryptography_result(case: dict[str, Any]) -> str:
    """SUCCESS or FAILURE from cryptography's own web-PKI verifier."""
    roots = [_cert(p) for p in case["trusted_certs"]]
    inter = [_cert(p) for p in case["untrusted_intermediates"]]
    builder = PolicyBuilder().store(Store(roots)).time(_when(case))
    if case["max_chain_depth"] is not None:
        builder = builder.max_chain_depth(case["max_chain_depth"])
    peer = case["expected_peer_name"]
    subject: x509.DNSName | x509.IPAddress = (
        x509.DNSName(peer["value"])
        if peer["kind"] == "DNS"
        else x509.IPAddress(ipaddress.ip_address(peer["value"]))
    )
    try:
        builder.build_server_verifier(subject).verify(_cert(case["peer_certificate"]), inter)
    except Exception:
        return "FAILURE"
    return "SUCCESS"


@functools.cache
def _results() -> dict[str, SecStatus]:
    return {t["id"]: project_result(t) for t in CASES}


@pytest.mark.parametrize("case", CASES, ids=[t["id"] for t in CASES])
def test_limbo_case(case: dict[str, Any]) -> None:
    status = _results()[case["id"]]
    agrees = (status == SEC_E_OK) == (case["expected_result"] == "SUCCESS")
    if case["id"] in DIVERGENCES:
        listed, why = DIVERGENCES[case["id"]]
        if agrees:
            # A newer cryptography may fix a divergence that rests on its verifier
            # (CI installs the newest release): agreement is never a regression.
            return
        assert status == listed, f"{case['id']}: {status!r}, listed as {listed!r} ({why})"
    else:
        assert agrees, f"{case['id']}: expected {case['expected_result']}, got {status!r}"


def test_divergences_are_real_cases() -> None:
    ids = {t["id"] for t in CASES}
    assert set(DIVERGENCES) <= ids
    assert BEYOND_CRYPTOGRAPHY <= set(DIVERGENCES)


def test_agreement_with_cryptography() -> None:
    """Wherever cryptography's verifier agrees with the suite, so does the project -- except
    the BEYOND_CRYPTOGRAPHY entries, each a deliberate CryptoAPI-like choice explained above."""
    beyond = set()
    crypto_agrees = 0
    for case in CASES:
        if case["id"].startswith("pathological::"):
            continue
        if cryptography_result(case) != case["expected_result"]:
            continue
        crypto_agrees += 1
        ours = (_results()[case["id"]] == SEC_E_OK) == (case["expected_result"] == "SUCCESS")
        if not ours:
            beyond.add(case["id"])
    # No disagreement beyond cryptography's own except the explained ones.
    assert beyond <= set(BEYOND_CRYPTOGRAPHY)
    assert crypto_agrees >= 140


def test_agreement_figures() -> None:
    """The totals reported in the closing note: 197 cases, 150 agree, 47 explained."""
    agree = sum(
        (_results()[t["id"]] == SEC_E_OK) == (t["expected_result"] == "SUCCESS") for t in CASES
    )
    assert len(CASES) == 197
    # 150 with cryptography 48; a newer cryptography can only add agreements.
    assert agree >= len(CASES) - len(DIVERGENCES) == 150
