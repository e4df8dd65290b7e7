"""The benchmark PKI: an ECDSA P-256 root, intermediate and ``localhost`` server certificate.

Made by :func:`schannel_py.testing.pki.make_pki` (the one certificate generator
of tests, benchmarks and the demo) and written as PEM files for the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from schannel_py.testing.pki import make_pki


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


def build(directory: Path) -> Pki:
    """Generate the PKI and write PEM files under ``directory``."""
    pki = make_pki(
        dns_names=["localhost"],
        ip_addresses=["127.0.0.1"],
        root_name="schannel_py Bench Root CA",
        intermediate_name="schannel_py Bench Intermediate CA",
    )
    assert pki.intermediate is not None
    assert isinstance(pki.leaf.key, ec.EllipticCurvePrivateKey)
    paths = pki.write(directory)
    return Pki(
        pki.root.cert,
        pki.intermediate.cert,
        pki.leaf.cert,
        pki.leaf.key,
        paths.root,
        paths.fullchain,
        paths.key,
    )
