"""PKCS#12 import: PFXImportCertStore and PFXIsPFXBlob.

The imported store is a memory store; the certificate that matches the PFX's
private key carries it in ``CERT_CONTEXT.private_key`` (Windows links it
through CERT_KEY_PROV_INFO_PROP_ID), ready to be a client credential.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from ._lasterror import SetLastError
from .constants import (
    CERT_STORE_ADD_ALWAYS,
    CRYPT_E_BAD_ENCODE,
    E_INVALIDARG,
    HRESULT_ERROR_INVALID_PASSWORD,
)
from .context import CRYPT_DATA_BLOB
from .store import CertStore

__all__ = ["PFXImportCertStore", "PFXIsPFXBlob"]


def _blob(pPFX: Any) -> bytes | None:
    if isinstance(pPFX, CRYPT_DATA_BLOB):
        return pPFX.tobytes()
    if isinstance(pPFX, (bytes, bytearray, memoryview)):
        return bytes(pPFX)
    return None


def _password_candidates(szPassword: str | bytes | None) -> list[bytes | None]:
    """Windows tries both NULL and "" when either is given."""
    if szPassword is None or szPassword in ("", b""):
        return [None, b""]
    if isinstance(szPassword, str):
        return [szPassword.encode("utf-8")]
    return [bytes(szPassword)]


def PFXIsPFXBlob(pPFX: CRYPT_DATA_BLOB | bytes | None) -> bool:
    """Whether the blob decodes as PKCS#12 (password not checked)."""
    data = _blob(pPFX)
    # PFX ::= SEQUENCE { version INTEGER (3), ... }
    return bool(data) and data is not None and data[:1] == b"\x30" and b"\x02\x01\x03" in data[:8]


def PFXImportCertStore(
    pPFX: CRYPT_DATA_BLOB | bytes | None, szPassword: str | bytes | None, dwFlags: int = 0
) -> CertStore | None:
    """Decode a PFX into a new memory store (certificates with their private key).

    Returns None on failure: wrong password -> ``GetLastError()`` is
    ``HRESULT_FROM_WIN32(ERROR_INVALID_PASSWORD)``; undecodable data ->
    ``CRYPT_E_BAD_ENCODE``.  ``dwFlags`` (key storage options) have no effect.
    """
    data = _blob(pPFX)
    if not data:
        SetLastError(E_INVALIDARG)
        return None
    if not PFXIsPFXBlob(data):
        SetLastError(CRYPT_E_BAD_ENCODE)
        return None
    loaded = None
    for password in _password_candidates(szPassword):
        try:
            loaded = pkcs12.load_pkcs12(data, password)
            break
        except Exception:
            continue
    if loaded is None:
        SetLastError(HRESULT_ERROR_INVALID_PASSWORD)
        return None
    store = CertStore(None)
    key = loaded.key
    key_spki = _spki(key.public_key()) if key is not None else None
    certs = []
    if loaded.cert is not None:
        certs.append(loaded.cert.certificate)
    certs.extend(c.certificate for c in loaded.additional_certs)
    for cert in certs:
        der = cert.public_bytes(serialization.Encoding.DER)
        owns_key = key_spki is not None and _spki(cert.public_key()) == key_spki
        store._add(der, cert, key if owns_key else None, CERT_STORE_ADD_ALWAYS, None)
    return store


def _spki(public_key: Any) -> bytes:
    data: bytes = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return data
