"""CryptQueryObject: what a blob or file holds (certificate, PKCS#7, PFX), and its contents.

Enough for curl's CA-file loader (``add_certs_data_to_store`` in
lib/vtls/schannel_verify.c: one PEM certificate at a time, expecting
``CERT_QUERY_CONTENT_CERT`` and a CERT_CONTEXT) and for callers that load a
DER or PEM certificate file, a certs-only PKCS#7 bundle or recognise a PFX.
"""

from __future__ import annotations

import os
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

from ._lasterror import SetLastError
from .certinfo import CRYPT_DATA_BLOB
from .constants import (
    CERT_QUERY_CONTENT_CERT,
    CERT_QUERY_CONTENT_FLAG_CERT,
    CERT_QUERY_CONTENT_FLAG_PFX,
    CERT_QUERY_CONTENT_FLAG_PKCS7_SIGNED,
    CERT_QUERY_CONTENT_PFX,
    CERT_QUERY_CONTENT_PKCS7_SIGNED,
    CERT_QUERY_FORMAT_BASE64_ENCODED,
    CERT_QUERY_FORMAT_BINARY,
    CERT_QUERY_FORMAT_FLAG_BASE64_ENCODED,
    CERT_QUERY_FORMAT_FLAG_BINARY,
    CERT_QUERY_OBJECT_BLOB,
    CERT_QUERY_OBJECT_FILE,
    CERT_STORE_ADD_ALWAYS,
    CRYPT_E_NO_MATCH,
    CRYPT_STRING_BASE64_ANY,
    E_INVALIDARG,
    ERROR_FILE_NOT_FOUND,
    X509_PKCS7_ENCODING,
)
from .context import PCCERT_CONTEXT, _parse_der
from .encoding import _decode as _text_decode
from .pfx import PFXIsPFXBlob
from .store import CertStore

__all__ = ["CryptQueryObject"]

#: Larger objects are not read (a certificate file is small; this bounds a bad path).
_MAX_OBJECT = 16 * 1024 * 1024


def _object_bytes(dwObjectType: Any, pvObject: Any) -> bytes | int:
    """The object's bytes, or the last-error code explaining why there are none."""
    if dwObjectType == CERT_QUERY_OBJECT_BLOB:
        if isinstance(pvObject, CRYPT_DATA_BLOB):
            if pvObject.pbData is not None and not isinstance(
                pvObject.pbData, (bytes, bytearray, memoryview)
            ):
                return E_INVALIDARG
            return pvObject.tobytes()
        if isinstance(pvObject, (bytes, bytearray, memoryview)):
            return bytes(pvObject)
        return E_INVALIDARG
    if dwObjectType == CERT_QUERY_OBJECT_FILE:
        if isinstance(pvObject, bytes):
            pvObject = pvObject.split(b"\0", 1)[0].decode("utf-8", "replace")
        if not isinstance(pvObject, (str, os.PathLike)):
            return E_INVALIDARG
        try:
            with open(pvObject, "rb") as handle:
                return handle.read(_MAX_OBJECT)
        except (OSError, ValueError):
            return ERROR_FILE_NOT_FOUND
    return E_INVALIDARG


def _candidates(data: bytes, formats: int) -> list[tuple[bytes, int]]:
    """The binary forms of ``data`` to try, with the format each came from."""
    out: list[tuple[bytes, int]] = []
    if formats & CERT_QUERY_FORMAT_FLAG_BINARY:
        out.append((data, CERT_QUERY_FORMAT_BINARY))
    if formats & CERT_QUERY_FORMAT_FLAG_BASE64_ENCODED:
        text = data.decode("latin-1")
        if "\0" in text.rstrip("\0") and len(data) % 2 == 0:
            text = data.decode("utf-16-le", "replace")  # a wide string
        found = _text_decode(text.rstrip("\0"), CRYPT_STRING_BASE64_ANY)
        if found is not None and found[0]:
            out.append((found[0], CERT_QUERY_FORMAT_BASE64_ENCODED))
    return out


def _fill(out: Any, value: Any) -> None:
    if out is not None and hasattr(out, "value"):
        out.value = value


def CryptQueryObject(
    dwObjectType: int,
    pvObject: Any,
    dwExpectedContentTypeFlags: int,
    dwExpectedFormatTypeFlags: int,
    dwFlags: int,
    pdwMsgAndCertEncodingType: Any,
    pdwContentType: Any,
    pdwFormatType: Any,
    phCertStore: Any,
    phMsg: Any,
    ppvContext: Any,
) -> bool:
    """Identify a blob (``CERT_QUERY_OBJECT_BLOB``, a CRYPT_DATA_BLOB) or a file
    (``CERT_QUERY_OBJECT_FILE``, a path) and open what it holds.

    Recognised contents, when their flag is expected: a certificate
    (``CERT_QUERY_CONTENT_CERT``: ``ppvContext.value`` is its CERT_CONTEXT,
    ``phCertStore.value`` a memory store holding it), a certs-only PKCS#7
    (``CERT_QUERY_CONTENT_PKCS7_SIGNED``: the store holds its certificates) and
    a PFX (``CERT_QUERY_CONTENT_PFX``: recognised only; import it with
    PFXImportCertStore).  Formats: binary (DER) and base64, with or without PEM
    armour.  Every out-parameter may be None.  Nothing recognised: FALSE with
    ``CRYPT_E_NO_MATCH``; an unreadable file: ``ERROR_FILE_NOT_FOUND``.
    ``phMsg`` is always set to None (no CryptMsg support).
    """
    if not isinstance(dwExpectedContentTypeFlags, int) or not isinstance(
        dwExpectedFormatTypeFlags, int
    ):
        SetLastError(E_INVALIDARG)
        return False
    data = _object_bytes(dwObjectType, pvObject)
    if isinstance(data, int):
        SetLastError(data)
        return False
    content_flags = dwExpectedContentTypeFlags
    for raw, fmt in _candidates(data, dwExpectedFormatTypeFlags):
        store: CertStore | None = None
        context = None
        content = 0
        if content_flags & CERT_QUERY_CONTENT_FLAG_CERT:
            cert = _parse_der(raw)
            if cert is not None:
                store = CertStore(None)
                holder = PCCERT_CONTEXT()
                store._add(raw, cert, None, CERT_STORE_ADD_ALWAYS, holder)
                context, content = holder.value, CERT_QUERY_CONTENT_CERT
        if content == 0 and content_flags & CERT_QUERY_CONTENT_FLAG_PKCS7_SIGNED:
            store = _pkcs7_store(raw)
            if store is not None:
                content = CERT_QUERY_CONTENT_PKCS7_SIGNED
        if content == 0 and content_flags & CERT_QUERY_CONTENT_FLAG_PFX and PFXIsPFXBlob(raw):
            content = CERT_QUERY_CONTENT_PFX
        if content == 0:
            continue
        _fill(pdwMsgAndCertEncodingType, X509_PKCS7_ENCODING)
        _fill(pdwContentType, content)
        _fill(pdwFormatType, fmt)
        _fill(phCertStore, store)
        _fill(phMsg, None)
        _fill(ppvContext, context)
        return True
    SetLastError(CRYPT_E_NO_MATCH)
    return False


def _pkcs7_store(raw: bytes) -> CertStore | None:
    if raw[:1] != b"\x30":
        return None
    try:
        certs = pkcs7.load_der_pkcs7_certificates(raw)
    except Exception:
        return None
    store = CertStore(None)
    for cert in certs:
        der = cert.public_bytes(Encoding.DER)
        parsed = _parse_der(der)
        if parsed is not None:
            store._add(der, parsed, None, CERT_STORE_ADD_ALWAYS, None)
    return store
