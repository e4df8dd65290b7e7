"""Certificates cryptography's builder will not make, made by building one with
placeholders, patching them in the DER and signing it again.

- Negative serial numbers: RFC 5280 wants positive ones, cryptography warns when
  it reads another (the serial itself, or an authority key identifier's) and its
  builder refuses them; old roots and some servers still have them.  The CA's
  serial becomes CA_SERIAL, the leaf's LEAF_SERIAL (``with_serial``), and the
  leaf's authority key identifier names its issuer by name and CA_SERIAL.
- A duplicated extension (RFC 5280 4.2 forbids it): a second private
  extension's OID is patched into the first's.

``refusal`` runs the package's client against one of them.
"""

from __future__ import annotations

import datetime
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from schannel_py.crypt32 import _der
from schannel_py.driver import SspiError
from schannel_py.testing import (
    Issued,
    TlsServer,
    Transport,
    Version,
    acquire_credential,
    reference_client,
    trusted_root,
)
from schannel_py.testing.pki import make_ca, make_leaf, make_self_signed
from tests.support.revocation import der_tlv

CA_SERIAL = -2
LEAF_SERIAL = -3


def tbs_of(der: bytes) -> bytes:
    """The TBSCertificate of a certificate's DER, tag and length included."""
    outer = _der.read_one(der, _der.SEQUENCE)
    _, tbs_end = _der.read_tlv(outer.content, 0)
    return outer.content[:tbs_end]


def signed_again(der: bytes, tbs: bytes, key: ec.EllipticCurvePrivateKey) -> bytes:
    """A certificate with ``tbs`` (whatever bytes) in place of ``der``'s, under
    ``der``'s signature algorithm (ECDSA with SHA-256), signed by ``key``."""
    outer = _der.read_one(der, _der.SEQUENCE)
    _, tbs_end = _der.read_tlv(outer.content, 0)
    _, alg_end = _der.read_tlv(outer.content, tbs_end)
    signature = key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    body = tbs + outer.content[tbs_end:alg_end] + der_tlv(0x03, b"\x00" + signature)
    return der_tlv(0x30, body)


def _load(der: bytes) -> x509.Certificate:
    """The certificate of ``der``; newer cryptography warns already at loading one
    with a negative serial, which the tests here know."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return x509.load_der_x509_certificate(der)


def _ec_key(issued: Issued) -> ec.EllipticCurvePrivateKey:
    assert isinstance(issued.key, ec.EllipticCurvePrivateKey)
    return issued.key


def patched(
    cert: x509.Certificate, key: ec.EllipticCurvePrivateKey, old: bytes, new: bytes
) -> x509.Certificate:
    """``cert`` with the last occurrence of ``old`` in its TBSCertificate replaced by
    ``new`` (as long), signed again with ``key``."""
    der = cert.public_bytes(Encoding.DER)
    tbs = bytearray(tbs_of(der))
    at = tbs.rfind(old)
    assert at > 0 and len(old) == len(new)
    tbs[at : at + len(old)] = new
    return _load(signed_again(der, bytes(tbs), key))


def with_serial(issued: Issued, serial: int, signer: Issued) -> Issued:
    """``issued`` with ``serial`` (any integer) as its serial number, signed again by
    ``signer`` (an ECDSA P-256 CA, or ``issued`` itself for a root)."""
    der = issued.der
    content = _der.read_one(tbs_of(der), _der.SEQUENCE).content
    version, at = _der.read_tlv(content, 0)  # [0] version, then the serial
    _, serial_end = _der.read_tlv(content, at)
    number = serial.to_bytes((serial.bit_length() + 8) // 8, "big", signed=True)
    tbs = der_tlv(0x30, version.encoded + der_tlv(0x02, number) + content[serial_end:])
    cert = _load(signed_again(der, tbs, _ec_key(signer)))
    return Issued(cert=cert, key=issued.key, issuer=issued.issuer)


@dataclass(frozen=True)
class NegativeSerials:
    root: Issued
    leaf: Issued


def make_negative_serials(
    dns_name: str = "localhost", ca: bool = True, broken_extension: bool = False
) -> NegativeSerials:
    """The chain.  ``ca`` False makes the root a self-signed end-entity certificate
    (no CA basic constraints: a path RFC 5280 rejects whatever the serials).
    ``broken_extension``: the leaf also has a nameConstraints extension whose
    value is a NULL, after its AKI, so that reading its extensions warns (the
    AKI) and then fails, and every read warns again (cryptography caches only a
    block that parsed)."""
    made = make_ca("schannel_py negative-serial CA") if ca else make_self_signed(("root",))
    root = with_serial(made, CA_SERIAL, made)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    assert -0x80 <= CA_SERIAL < 0  # one content byte, like the placeholder 0x7E
    aki = x509.AuthorityKeyIdentifier(  # issuer and serial, the serial patched below
        x509.SubjectKeyIdentifier.from_public_key(root.key.public_key()).digest,
        [x509.DirectoryName(root.cert.subject)],
        0x7E,
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_name)]))
        .issuer_name(root.cert.subject)
        .public_key(key.public_key())
        .serial_number(1)  # LEAF_SERIAL below
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(aki, critical=False)  # its serial is the last 82 01 7E
    )
    if broken_extension:
        broken = x509.UnrecognizedExtension(x509.ObjectIdentifier("2.5.29.30"), b"\x05\x00")
        builder = builder.add_extension(broken, critical=False)
    leaf = patched(
        builder.sign(_ec_key(root), hashes.SHA256()),
        _ec_key(root),
        b"\x82\x01\x7e",
        bytes([0x82, 0x01, CA_SERIAL & 0xFF]),
    )
    issued = Issued(cert=leaf, key=key, issuer=root)
    return NegativeSerials(root=root, leaf=with_serial(issued, LEAF_SERIAL, root))


def make_duplicate_extension_leaf(issuer: Issued) -> Issued:
    """A leaf of ``issuer`` (an EC CA) carrying the private extension 1.2.3.4 twice."""
    extensions = [
        (x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), b"\x05\x00"), False)
        for oid in ("1.2.3.4", "1.2.3.5")
    ]
    leaf = make_leaf(issuer, extra_extensions=extensions)
    # OID 1.2.3.5 is 06 03 2A 03 05; the last occurrence is the extension's
    cert = patched(leaf.cert, _ec_key(issuer), b"\x06\x03\x2a\x03\x05", b"\x06\x03\x2a\x03\x04")
    return Issued(cert=cert, key=leaf.key, issuer=issuer)


def refusal(
    leaf: Issued, root: Issued, versions: Sequence[Version], manual: bool = False
) -> tuple[int, list[tuple[int, int]]]:
    """(status, the server's alerts) of the package's client, trusting ``root``,
    against a TlsServer presenting ``leaf``, when the handshake fails."""
    server = TlsServer(leaf, versions=tuple(versions))
    with trusted_root(root):
        client = reference_client(Transport(server), acquire_credential(manual_validation=manual))
        try:
            client.handshake()
        except SspiError as failure:
            return failure.status, server.alerts
    raise AssertionError("the handshake succeeded")
