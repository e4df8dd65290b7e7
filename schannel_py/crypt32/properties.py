"""Certificate context properties: CertGet/SetCertificateContextProperty.

Properties live with the certificate in its store (every context of that
certificate in the store, and every link to it, sees the same ones); a context
in no store has its own.  Values are what C sees: byte strings for the hashes,
the friendly name (UTF-16LE with its NUL) and the OCSP response; a
:class:`CRYPT_KEY_PROV_INFO` for the key provider information.

The two-call size protocol is C's: ``pvData`` None puts the size in
``pcbData.value`` and returns TRUE; a buffer smaller than the value fails with
``ERROR_MORE_DATA`` and the size needed in ``pcbData.value``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from schannel_py.constants import CRYPT_E_NOT_FOUND

from ._lasterror import SetLastError
from ._out import copy_bytes, is_size_param, size_out
from ._x509 import extensions_of
from .certinfo import CRYPT_DATA_BLOB
from .constants import (
    CERT_KEY_IDENTIFIER_PROP_ID,
    CERT_KEY_PROV_INFO_PROP_ID,
    CERT_MD5_HASH_PROP_ID,
    CERT_SHA1_HASH_PROP_ID,
    CERT_SHA256_HASH_PROP_ID,
    CERT_SIGNATURE_HASH_PROP_ID,
    CERT_SUBJECT_PUBLIC_KEY_MD5_HASH_PROP_ID,
    E_INVALIDARG,
    MS_KEY_STORAGE_PROVIDER,
)
from .context import CERT_CONTEXT

__all__ = [
    "CRYPT_KEY_PROV_INFO",
    "CRYPT_KEY_PROV_PARAM",
    "DWORD",
    "CertEnumCertificateContextProperties",
    "CertGetCertificateContextProperty",
    "CertSetCertificateContextProperty",
]


@dataclass
class DWORD:
    """A ``DWORD*`` out/in-out parameter (``value``); ctypes' ``c_ulong`` works too."""

    value: int = 0


@dataclass
class CRYPT_KEY_PROV_PARAM:
    """One provider parameter of CRYPT_KEY_PROV_INFO."""

    dwParam: int = 0
    pbData: bytes | None = None
    cbData: int = 0
    dwFlags: int = 0


@dataclass
class CRYPT_KEY_PROV_INFO:
    """Where a certificate's private key lives (container, provider, key spec).

    ``dwProvType`` 0 means a CNG key storage provider.
    """

    pwszContainerName: str | None = None
    pwszProvName: str | None = None
    dwProvType: int = 0
    dwFlags: int = 0
    cProvParam: int = 0
    rgProvParam: list[CRYPT_KEY_PROV_PARAM] = field(default_factory=list)
    dwKeySpec: int = 0

    def c_size(self) -> int:
        """The bytes C would need: the x64 structure, its strings and parameters."""
        size = 48
        for text in (self.pwszContainerName, self.pwszProvName):
            if text is not None:
                size += 2 * (len(text) + 1)
        for param in self.rgProvParam[: self.cProvParam]:
            size += 24 + (param.cbData if isinstance(param.cbData, int) else 0)
        return size


def _spki_bits(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _computed(ctx: CERT_CONTEXT, prop: int) -> Any:
    """The value Windows derives when a property was never set (None if none)."""
    der = ctx.pbCertEncoded
    if prop == CERT_SHA1_HASH_PROP_ID:
        return hashlib.sha1(der).digest()
    if prop == CERT_MD5_HASH_PROP_ID:
        return hashlib.md5(der).digest()
    if prop == CERT_SHA256_HASH_PROP_ID:
        return hashlib.sha256(der).digest()
    if prop == CERT_SIGNATURE_HASH_PROP_ID:
        return hashlib.sha1(ctx.certificate.tbs_certificate_bytes).digest()
    if prop == CERT_KEY_IDENTIFIER_PROP_ID:
        try:
            ski = extensions_of(ctx.certificate).get_extension_for_class(x509.SubjectKeyIdentifier)
            return ski.value.digest
        except Exception:
            info = ctx.pCertInfo.SubjectPublicKeyInfo.PublicKey
            return hashlib.sha1(info.pbData or b"").digest()
    if prop == CERT_SUBJECT_PUBLIC_KEY_MD5_HASH_PROP_ID:
        return hashlib.md5(ctx.pCertInfo.SubjectPublicKeyInfo.PublicKey.pbData or b"").digest()
    if prop == CERT_KEY_PROV_INFO_PROP_ID and ctx.private_key is not None:
        thumb = hashlib.sha1(der).hexdigest()
        return CRYPT_KEY_PROV_INFO(
            pwszContainerName=f"schannel_py-{thumb}",
            pwszProvName=MS_KEY_STORAGE_PROVIDER,
            dwProvType=0,
            dwKeySpec=0,
        )
    return None


def _value(ctx: CERT_CONTEXT, prop: int) -> Any:
    stored = ctx._props.get(prop)
    return stored if stored is not None else _computed(ctx, prop)


def CertGetCertificateContextProperty(
    pCertContext: CERT_CONTEXT | None, dwPropId: int, pvData: Any, pcbData: Any
) -> bool:
    """Read one property of a certificate context.

    Byte-valued properties (hashes, friendly name, OCSP response, any user
    property) are copied into ``pvData``, a writable buffer (``bytearray``,
    ctypes array); ``CERT_KEY_PROV_INFO_PROP_ID`` fills a
    :class:`CRYPT_KEY_PROV_INFO` passed as ``pvData`` (present when the context
    has a private key, or when one was set).  The hashes (SHA-1, MD5, SHA-256,
    signature hash, key identifier) are computed when never set.  An absent
    property: FALSE with ``CRYPT_E_NOT_FOUND``; bad arguments: ``E_INVALIDARG``.
    """
    if (
        not isinstance(pCertContext, CERT_CONTEXT)
        or not isinstance(dwPropId, int)
        or not is_size_param(pcbData)
    ):
        SetLastError(E_INVALIDARG)
        return False
    value = _value(pCertContext, dwPropId)
    if value is None:
        SetLastError(CRYPT_E_NOT_FOUND)
        return False
    size = value.c_size() if isinstance(value, CRYPT_KEY_PROV_INFO) else len(value)

    def write() -> int | None:
        if not isinstance(value, CRYPT_KEY_PROV_INFO):
            return size if copy_bytes(pvData, value) else None
        if not isinstance(pvData, CRYPT_KEY_PROV_INFO):
            return None
        for name in CRYPT_KEY_PROV_INFO.__dataclass_fields__:
            setattr(pvData, name, getattr(value, name))
        pvData.rgProvParam = list(value.rgProvParam)
        return size

    return size_out(pvData, pcbData, size, write, E_INVALIDARG)


def _blob_bytes(pvData: Any) -> bytes | None:
    if isinstance(pvData, CRYPT_DATA_BLOB):
        if pvData.pbData is not None and not isinstance(
            pvData.pbData, (bytes, bytearray, memoryview)
        ):
            return None
        return pvData.tobytes()
    return None


def CertSetCertificateContextProperty(
    pCertContext: CERT_CONTEXT | None, dwPropId: int, dwFlags: int, pvData: Any
) -> bool:
    """Set, replace or (``pvData`` None) delete one property of a certificate context.

    ``pvData`` is a CRYPT_DATA_BLOB for byte-valued properties (the friendly
    name and description as NUL-terminated UTF-16LE, as C passes them) and a
    :class:`CRYPT_KEY_PROV_INFO` for ``CERT_KEY_PROV_INFO_PROP_ID``.  Deleting
    CERT_KEY_PROV_INFO_PROP_ID also detaches the context's private key.
    FALSE with ``E_INVALIDARG`` for anything else.
    """
    if (
        not isinstance(pCertContext, CERT_CONTEXT)
        or not isinstance(dwPropId, int)
        or isinstance(dwPropId, bool)
        or dwPropId <= 0
    ):
        SetLastError(E_INVALIDARG)
        return False
    props = pCertContext._props
    if pvData is None:
        props.pop(dwPropId, None)
        if dwPropId == CERT_KEY_PROV_INFO_PROP_ID:
            _detach_key(pCertContext)
        return True
    if dwPropId == CERT_KEY_PROV_INFO_PROP_ID:
        if not isinstance(pvData, CRYPT_KEY_PROV_INFO):
            SetLastError(E_INVALIDARG)
            return False
        props[dwPropId] = CRYPT_KEY_PROV_INFO(**vars(pvData))
        return True
    data = _blob_bytes(pvData)
    if data is None:
        SetLastError(E_INVALIDARG)
        return False
    props[dwPropId] = data
    return True


def _detach_key(ctx: CERT_CONTEXT) -> None:
    store = ctx.hCertStore
    ctx.private_key = None
    if store is not None:
        entry = store._lookup(ctx.pbCertEncoded)
        if entry is not None:
            entry.private_key = None


def CertEnumCertificateContextProperties(pCertContext: CERT_CONTEXT | None, dwPropId: int) -> int:
    """The property ID after ``dwPropId`` that the context has (start with 0); 0 at the end.

    Lists set properties, the SHA-1 hash (always there) and the key provider
    information when the context has a key, in ascending order.
    """
    if not isinstance(pCertContext, CERT_CONTEXT) or not isinstance(dwPropId, int):
        SetLastError(E_INVALIDARG)
        return 0
    present = {p for p, v in pCertContext._props.items() if v is not None}
    present.add(CERT_SHA1_HASH_PROP_ID)
    if pCertContext.private_key is not None:
        present.add(CERT_KEY_PROV_INFO_PROP_ID)
    following = sorted(p for p in present if p > dwPropId)
    return following[0] if following else 0
