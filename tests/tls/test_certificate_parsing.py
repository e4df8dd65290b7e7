"""A server certificate with what cryptography deprecates (a non-positive serial
number, still found in old certificates) is the peer's input: parsing it must not
raise a warning from the package's code (pyproject turns those into errors), in
the TLS core or in the trace, whatever the version of cryptography."""

from __future__ import annotations

import datetime
import warnings

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from schannel_py import trace
from schannel_py.tls import sigalgs


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
