"""Private-key parsing and the key policy shared by key pairing and the "MY" directory.

Supported keys: RSA of 2048 bits or more, ECDSA on P-256 or P-384, Ed25519.
Everything here returns None / False on bad input and never raises.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from .context import _parse_der, pem_certificates_to_der

#: Smallest RSA modulus accepted for a client key.
MIN_RSA_BITS = 2048

_KEY_PEM_RE = re.compile(
    rb"-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----.*?-----END \1-----",
    re.DOTALL,
)


def supported_key(key: Any) -> bool:
    """Whether ``key`` is one this package signs with (RSA 2048+, P-256, P-384, Ed25519)."""
    if isinstance(key, rsa.RSAPrivateKey):
        return key.key_size >= MIN_RSA_BITS
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return isinstance(key.curve, (ec.SECP256R1, ec.SECP384R1))
    return isinstance(key, ed25519.Ed25519PrivateKey)


def spki_der(public_key: Any) -> bytes | None:
    """SubjectPublicKeyInfo DER of a public key, or None."""
    try:
        data: bytes = public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    except Exception:
        return None
    return data


def key_matches(cert: x509.Certificate, key: Any) -> bool:
    """Whether ``key`` is the private half of ``cert``'s public key."""
    try:
        want = spki_der(cert.public_key())
        have = spki_der(key.public_key())
    except Exception:
        return False
    return want is not None and want == have


def read_input(source: Any) -> bytes | None:
    """Bytes of a ``bytes``/``bytearray``/``memoryview`` argument, or of the file a
    ``Path``/``os.PathLike``/``str`` names.  A ``str`` holding ``-----BEGIN`` is PEM
    text rather than a path.  None when unreadable."""
    try:
        if isinstance(source, (bytes, bytearray, memoryview)):
            return bytes(source)
        if isinstance(source, str):
            if "-----BEGIN" in source:
                return source.encode("latin-1", "replace")
            return Path(source).read_bytes()
        if isinstance(source, os.PathLike):
            return Path(source).read_bytes()
    except (OSError, ValueError, TypeError):
        return None
    return None


def _load_one(data: bytes, der: bool, password: bytes | None) -> PrivateKeyTypes | None:
    load = serialization.load_der_private_key if der else serialization.load_pem_private_key
    for candidate in dict.fromkeys((password, None)):
        try:
            return load(data, candidate)
        except Exception:
            continue
    return None


def load_private_keys(data: bytes, password: bytes | str | None = None) -> list[PrivateKeyTypes]:
    """Every private key in ``data``: each PEM key block (PKCS#8, PKCS#1, SEC1, encrypted
    PKCS#8), or ``data`` itself as DER (PKCS#8, PKCS#1, SEC1).  Undecodable blocks
    are skipped; an unencrypted key is read even when a password is given."""
    if isinstance(password, str):
        password = password.encode("utf-8")
    if password is not None and not isinstance(password, (bytes, bytearray)):
        return []
    pw = bytes(password) if password is not None else None
    if b"-----BEGIN" in data:
        out: list[PrivateKeyTypes] = []
        for match in _KEY_PEM_RE.finditer(data):
            key = _load_one(match.group(0), False, pw)
            if key is not None:
                out.append(key)
        return out
    key = _load_one(data, True, pw)
    return [key] if key is not None else []


def load_certificates(data: bytes) -> list[tuple[bytes, x509.Certificate]]:
    """(DER, certificate) for each certificate of a PEM text, or for ``data`` as one DER
    certificate."""
    if b"-----BEGIN" in data:
        ders = pem_certificates_to_der(data)
    else:
        ders = [data]
    out = []
    for der in ders:
        cert = _parse_der(der)
        if cert is not None:
            out.append((der, cert))
    return out


def pem_bundle(der: bytes, key: PrivateKeyTypes, chain: Sequence[bytes] = ()) -> bytes:
    """A certificate, its chain and its key as one PEM text (unencrypted PKCS#8 key)."""
    parts: list[bytes] = []
    for item in [der, *chain]:
        cert = _parse_der(item)
        if cert is not None:
            parts.append(cert.public_bytes(serialization.Encoding.PEM))
    parts.append(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return b"".join(parts)
