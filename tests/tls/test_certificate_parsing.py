"""A server certificate with what cryptography deprecates (a non-positive serial
number, still found in old certificates) is the peer's input: parsing it must not
raise a warning from the package's code (pyproject turns those into errors), in
the TLS core or in the trace, whatever the version of cryptography.  One that
breaks RFC 5280 outright (an extension twice) is a bad certificate, not an
internal error.  tests/crypt32/test_nonpositive_serials.py follows negative
serials through a whole handshake."""

from __future__ import annotations

import datetime
import warnings

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

import schannel_py as sc
from schannel_py import trace
from schannel_py.testing import Version, make_pki
from schannel_py.tls import sigalgs
from tests.support.patched_certs import make_duplicate_extension_leaf, refusal


def negative_serial_certificate() -> bytes:
    """A self-signed certificate whose serial, 0x7E when signed, is patched to -2 in
    the DER (the signature no longer verifies; parsing is what is tested)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "negative serial")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0x7E)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    der = bytearray(cert.public_bytes(Encoding.DER))
    at = der.find(b"\x02\x01\x7e")  # INTEGER, one byte, 0x7E: the serial
    assert at > 0
    der[at + 2] = 0xFE
    return bytes(der)


def test_the_der_really_has_a_negative_serial_that_cryptography_warns_about() -> None:
    der = negative_serial_certificate()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert x509.load_der_x509_certificate(der).serial_number == -2
    assert any("serial number" in str(w.message) for w in caught)


def test_tls_core_parses_it_without_a_warning() -> None:
    der = negative_serial_certificate()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cert = sigalgs.parse_certificate(der)
    assert cert.serial_number == -2
    assert caught == []


def test_trace_names_its_subject_without_a_warning() -> None:
    der = negative_serial_certificate()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert trace._subject(der) == "CN=negative serial"
    assert caught == []


@pytest.mark.parametrize("manual", [True, False], ids=["manual", "automatic"])
@pytest.mark.parametrize("versions", [("1.3",), ("1.2",)], ids=["tls13", "tls12"])
def test_a_duplicated_extension_is_a_bad_certificate(
    versions: tuple[Version, ...], manual: bool
) -> None:
    """A leaf with one extension twice (RFC 5280 4.2): cryptography raises
    DuplicateExtension, not ValueError, when its extensions are read.  The
    handshake fails with SEC_E_CERT_UNKNOWN and a bad_certificate alert, with
    manual validation too (the TLS core reads the key usage itself); it used to
    fail with SEC_E_INTERNAL_ERROR and no alert."""
    pki = make_pki()
    assert pki.leaf.issuer is not None
    leaf = make_duplicate_extension_leaf(pki.leaf.issuer)
    with pytest.raises(x509.DuplicateExtension):
        leaf.cert.extensions  # noqa: B018
    status, alerts = refusal(leaf, pki.root, versions, manual)
    assert status == sc.SEC_E_CERT_UNKNOWN
    assert alerts == [(2, 42)]  # bad_certificate
