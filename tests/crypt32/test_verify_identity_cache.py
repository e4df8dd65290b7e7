"""crypt32.verify's per-certificate answers are cached by object identity.

Hashing a cryptography Certificate hashes its DER, so the validity, EKU and name
answers are kept per certificate object instead.  These tests pin what that
cache must never get wrong: equal-DER copies, different certificates, a full
cache, and the verifier handing back objects that are not the ones given.
"""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509

from schannel_py import crypt32 as c
from schannel_py.constants import SEC_E_CERT_EXPIRED, SEC_E_OK, SEC_E_WRONG_PRINCIPAL
from schannel_py.crypt32 import verify as V
from schannel_py.testing.pki import make_pki, make_self_signed

UTC = datetime.timezone.utc
NOW = datetime.datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


pytestmark = pytest.mark.usefixtures("isolated_stores")


def test_equal_copies_and_other_certificates_get_their_own_answers() -> None:
    short = make_self_signed(not_after=NOW + datetime.timedelta(days=1))
    long = make_self_signed(not_after=NOW + datetime.timedelta(days=900))
    copy = x509.load_der_x509_certificate(short.der)
    assert copy is not short.cert
    assert V._validity(short.cert)[1] == short.cert.not_valid_after_utc
    assert V._validity(copy)[1] == short.cert.not_valid_after_utc
    assert V._validity(long.cert)[1] == long.cert.not_valid_after_utc
    no_eku = make_self_signed(eku=None)
    client_only = make_self_signed(eku=("clientAuth",))
    assert V._usage_ok(no_eku.cert) is True
    assert V._usage_ok(client_only.cert) is False


def test_a_full_cache_starts_afresh_and_still_answers() -> None:
    certs = [
        make_self_signed(not_after=NOW + datetime.timedelta(days=i + 1)).cert for i in range(3)
    ]
    for i in range(V.IDENTITY_CACHE_SIZE + 5):
        cert = certs[i % 3]
        assert V._validity(cert)[1] == cert.not_valid_after_utc


def test_name_answers_are_per_certificate_and_name() -> None:
    a = make_self_signed(dns_names=("a.example",)).cert
    b = make_self_signed(dns_names=("b.example",)).cert
    assert V.name_matches(a, "a.example")
    assert not V.name_matches(b, "a.example")
    assert V.name_matches(b, "b.example")
    assert not V.name_matches(a, "b.example")
    for i in range(V.IDENTITY_CACHE_SIZE + 1):
        assert V.name_matches(a, "a.example") and not V.name_matches(a, f"n{i}.example")


def _trusted_pki(**kwargs: object) -> list[bytes]:
    pki = make_pki(**kwargs)  # type: ignore[arg-type]
    root = c.CertOpenSystemStore(None, "ROOT")
    assert root is not None
    assert c.CertAddEncodedCertificateToStore(
        root, c.X509_PKCS7_ENCODING, pki.root.der, len(pki.root.der), c.CERT_STORE_ADD_NEW, None
    )
    return pki.chain_der


def test_verifier_returning_copies_is_mapped_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cryptography that returns equal copies of the certificates still validates
    (and the expired intermediate is still found through the mapping)."""
    chain = _trusted_pki()
    real = V.PolicyBuilder.build_client_verifier
    copies = []

    class Copying:
        def __init__(self, inner: object) -> None:
            self.inner = inner

        def verify(self, leaf: x509.Certificate, inters: list[x509.Certificate]) -> object:
            result = self.inner.verify(leaf, inters)  # type: ignore[attr-defined]
            copies.append(leaf)

            class Copied:
                chain = [
                    x509.load_der_x509_certificate(x.public_bytes(V.serialization.Encoding.DER))
                    for x in result.chain
                ]

            return Copied()

    monkeypatch.setattr(V.PolicyBuilder, "build_client_verifier", lambda self: Copying(real(self)))
    assert c.verify_server_chain(chain, "localhost", NOW) == SEC_E_OK
    assert c.verify_server_chain(chain, "other.example", NOW) == SEC_E_WRONG_PRINCIPAL
    assert len(copies) == 2  # the copying verifier was the one used


def test_expired_leaf_found_through_the_identity_cache() -> None:
    chain = _trusted_pki(not_after=NOW + datetime.timedelta(days=1))
    assert c.verify_server_chain(chain, "localhost", NOW) == SEC_E_OK
    later = NOW + datetime.timedelta(days=2)
    assert c.verify_server_chain(chain, "localhost", later) == SEC_E_CERT_EXPIRED
