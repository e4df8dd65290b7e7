"""The benchmark PKI: an ECDSA P-256 root, intermediate and ``localhost`` server certificate."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_NOT_BEFORE = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
_NOT_AFTER = datetime.datetime(2049, 1, 1, tzinfo=datetime.timezone.utc)


@dataclass
class Pki:
    root: x509.Certificate
    intermediate: x509.Certificate
    leaf: x509.Certificate
    leaf_key: ec.EllipticCurvePrivateKey
    root_pem: Path
    fullchain_pem: Path  # leaf then intermediate
    key_pem: Path

    @property
    def chain_der(self) -> list[bytes]:
        """What the server sends: leaf, intermediate (DER)."""
        return [c.public_bytes(serialization.Encoding.DER) for c in (self.leaf, self.intermediate)]


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "schannel_py benchmarks"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _ku(ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool,
    path_length: int | None = None,
) -> x509.Certificate:
    issuer_name = issuer[0].subject if issuer else _name(subject)
    signer = issuer[1] if issuer else key
    b = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_NOT_BEFORE)
        .not_valid_after(_NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(_ku(ca), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is not None:
        b = b.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
            critical=False,
        )
    if not ca:
        b = b.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return b.sign(signer, hashes.SHA256())


def build(directory: Path) -> Pki:
    """Generate the PKI and write PEM files under ``directory``."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    inter_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    root = _cert("schannel_py Bench Root CA", root_key, None, ca=True)
    inter = _cert(
        "schannel_py Bench Intermediate CA", inter_key, (root, root_key), ca=True, path_length=0
    )
    leaf = _cert("localhost", leaf_key, (inter, inter_key), ca=False)
    pem = serialization.Encoding.PEM
    root_pem = directory / "root.pem"
    root_pem.write_bytes(root.public_bytes(pem))
    fullchain = directory / "fullchain.pem"
    fullchain.write_bytes(leaf.public_bytes(pem) + inter.public_bytes(pem))
    key_pem = directory / "key.pem"
    key_pem.write_bytes(
        leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return Pki(root, inter, leaf, leaf_key, root_pem, fullchain, key_pem)
