"""CryptDecodeObjectEx / CryptDecodeObject for the extension values callers decode.

Supported ``lpszStructType`` values:

* subject / issuer alternative names (``szOID_SUBJECT_ALT_NAME2``,
  ``szOID_ISSUER_ALT_NAME2``, the older ``szOID_SUBJECT_ALT_NAME`` /
  ``szOID_ISSUER_ALT_NAME``, ``X509_ALTERNATE_NAME``) -> :class:`CERT_ALT_NAME_INFO`;
* basic constraints (``szOID_BASIC_CONSTRAINTS2``, ``X509_BASIC_CONSTRAINTS2``)
  -> :class:`CERT_BASIC_CONSTRAINTS2_INFO`;
* extended key usage (``szOID_ENHANCED_KEY_USAGE``, ``X509_ENHANCED_KEY_USAGE``)
  -> :class:`CERT_ENHKEY_USAGE`.

With ``CRYPT_DECODE_ALLOC_FLAG`` the structure is returned in
``pvStructInfo.value`` (C's ``LocalAlloc``'d pointer; nothing to free here).
Without it, C's two-call protocol applies: ``pvStructInfo`` None reports the
size in ``pcbStructInfo.value``, else ``pvStructInfo`` is the structure to fill
and must be declared big enough (``ERROR_MORE_DATA`` otherwise).  Sizes are
those of the x64 structures plus the data they point to.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import _der
from ._lasterror import SetLastError
from ._out import is_size_param, size_out
from .certinfo import CRYPT_DATA_BLOB
from .constants import (
    CERT_ALT_NAME_DIRECTORY_NAME,
    CERT_ALT_NAME_DNS_NAME,
    CERT_ALT_NAME_EDI_PARTY_NAME,
    CERT_ALT_NAME_IP_ADDRESS,
    CERT_ALT_NAME_OTHER_NAME,
    CERT_ALT_NAME_REGISTERED_ID,
    CERT_ALT_NAME_RFC822_NAME,
    CERT_ALT_NAME_URL,
    CERT_ALT_NAME_X400_ADDRESS,
    CRYPT_DECODE_ALLOC_FLAG,
    CRYPT_E_ASN1_BADTAG,
    CRYPT_E_ASN1_EOD,
    E_INVALIDARG,
    ERROR_FILE_NOT_FOUND,
    ERROR_INVALID_PARAMETER,
    X509_ALTERNATE_NAME,
    X509_ASN_ENCODING,
    X509_BASIC_CONSTRAINTS2,
    X509_ENHANCED_KEY_USAGE,
    szOID_BASIC_CONSTRAINTS2,
    szOID_ENHANCED_KEY_USAGE,
    szOID_ISSUER_ALT_NAME,
    szOID_ISSUER_ALT_NAME2,
    szOID_SUBJECT_ALT_NAME,
    szOID_SUBJECT_ALT_NAME2,
)
from .context import _as_bytes

__all__ = [
    "CERT_ALT_NAME_ENTRY",
    "CERT_ALT_NAME_INFO",
    "CERT_BASIC_CONSTRAINTS2_INFO",
    "CERT_ENHKEY_USAGE",
    "CERT_OTHER_NAME",
    "CRYPT_DECODE_PARA",
    "PVOID",
    "CTL_USAGE",
    "CryptDecodeObject",
    "CryptDecodeObjectEx",
]


@dataclass
class PVOID:
    """An out-parameter for a pointer the call allocates (``void **``): ``value``."""

    value: Any = None


@dataclass
class CRYPT_DECODE_PARA:
    """Allocation callbacks for CryptDecodeObjectEx (ignored: Python allocates)."""

    cbSize: int = 24
    pfnAlloc: Any = None
    pfnFree: Any = None


@dataclass
class CERT_OTHER_NAME:
    """An otherName: its type OID and the encoded value."""

    pszObjId: str = ""
    Value: CRYPT_DATA_BLOB = field(default_factory=CRYPT_DATA_BLOB)


@dataclass
class CERT_ALT_NAME_ENTRY:
    """One GeneralName; ``dwAltNameChoice`` says which (C union) member is set."""

    dwAltNameChoice: int = 0
    pOtherName: CERT_OTHER_NAME | None = None
    pwszRfc822Name: str | None = None
    pwszDNSName: str | None = None
    DirectoryName: CRYPT_DATA_BLOB = field(default_factory=CRYPT_DATA_BLOB)
    pwszURL: str | None = None
    IPAddress: CRYPT_DATA_BLOB = field(default_factory=CRYPT_DATA_BLOB)
    pszRegisteredID: str | None = None


@dataclass
class CERT_ALT_NAME_INFO:
    """GeneralNames: ``cAltEntry`` entries of ``rgAltEntry``."""

    cAltEntry: int = 0
    rgAltEntry: list[CERT_ALT_NAME_ENTRY] = field(default_factory=list)


@dataclass
class CERT_BASIC_CONSTRAINTS2_INFO:
    """BasicConstraints: CA flag and optional path length."""

    fCA: bool = False
    fPathLenConstraint: bool = False
    dwPathLenConstraint: int = 0


@dataclass
class CERT_ENHKEY_USAGE:
    """ExtKeyUsageSyntax (also CTL_USAGE, what CERT_USAGE_MATCH carries): the usage
    OIDs as dotted strings.  A caller's ``cUsageIdentifier`` of None means all of
    ``rgpszUsageIdentifier``; decoding always sets both."""

    cUsageIdentifier: int | None = None
    rgpszUsageIdentifier: Sequence[str | bytes] | None = field(default_factory=list)


CTL_USAGE = CERT_ENHKEY_USAGE


def _ia5(content: bytes) -> str:
    return content.decode("latin-1")


def _alt_entry(tlv: _der.Tlv) -> tuple[CERT_ALT_NAME_ENTRY, int]:
    """One GeneralName and the bytes C would need for what it points to."""
    tag = tlv.tag
    if tag == 0xA0:
        items = _der.children(tlv.content)
        if len(items) != 2 or items[0].tag != _der.OID or items[1].tag != 0xA0:
            raise _der.DerError(CRYPT_E_ASN1_BADTAG, "bad otherName")
        oid = _der.oid_text(items[0].content)
        value = _der.read_one(items[1].content).encoded
        other = CERT_OTHER_NAME(oid, CRYPT_DATA_BLOB(len(value), value))
        return CERT_ALT_NAME_ENTRY(CERT_ALT_NAME_OTHER_NAME, pOtherName=other), (
            24 + len(oid) + 1 + len(value)
        )
    if tag == 0x81:
        text = _ia5(tlv.content)
        entry = CERT_ALT_NAME_ENTRY(CERT_ALT_NAME_RFC822_NAME, pwszRfc822Name=text)
        return entry, 2 * (len(text) + 1)
    if tag == 0x82:
        text = _ia5(tlv.content)
        return CERT_ALT_NAME_ENTRY(CERT_ALT_NAME_DNS_NAME, pwszDNSName=text), 2 * (len(text) + 1)
    if tag == 0xA3:
        return CERT_ALT_NAME_ENTRY(CERT_ALT_NAME_X400_ADDRESS), 0
    if tag == 0xA4:
        name = _der.read_one(tlv.content, _der.SEQUENCE).encoded
        entry = CERT_ALT_NAME_ENTRY(
            CERT_ALT_NAME_DIRECTORY_NAME, DirectoryName=CRYPT_DATA_BLOB(len(name), name)
        )
        return entry, len(name)
    if tag == 0xA5:
        return CERT_ALT_NAME_ENTRY(CERT_ALT_NAME_EDI_PARTY_NAME), 0
    if tag == 0x86:
        text = _ia5(tlv.content)
        return CERT_ALT_NAME_ENTRY(CERT_ALT_NAME_URL, pwszURL=text), 2 * (len(text) + 1)
    if tag == 0x87:
        raw = tlv.content
        entry = CERT_ALT_NAME_ENTRY(
            CERT_ALT_NAME_IP_ADDRESS, IPAddress=CRYPT_DATA_BLOB(len(raw), raw)
        )
        return entry, len(raw)
    if tag == 0x88:
        oid = _der.oid_text(tlv.content)
        return CERT_ALT_NAME_ENTRY(CERT_ALT_NAME_REGISTERED_ID, pszRegisteredID=oid), len(oid) + 1
    raise _der.DerError(CRYPT_E_ASN1_BADTAG, f"unknown GeneralName tag {tag:#x}")


def _decode_alt_names(data: bytes) -> tuple[CERT_ALT_NAME_INFO, int]:
    entries: list[CERT_ALT_NAME_ENTRY] = []
    size = 16
    for tlv in _der.sequence_items(data):
        entry, extra = _alt_entry(tlv)
        entries.append(entry)
        size += 24 + (extra + 7) // 8 * 8
    return CERT_ALT_NAME_INFO(len(entries), entries), size


def _decode_basic_constraints(data: bytes) -> tuple[CERT_BASIC_CONSTRAINTS2_INFO, int]:
    items = _der.sequence_items(data)
    info = CERT_BASIC_CONSTRAINTS2_INFO()
    rest = items
    if rest and rest[0].tag == _der.BOOLEAN:
        info.fCA = _der.boolean(rest[0])
        rest = rest[1:]
    if rest:
        value = _der.unsigned(rest[0])
        if value < 0 or value > 0xFFFFFFFF or len(rest) > 1:
            raise _der.DerError(CRYPT_E_ASN1_BADTAG, "bad pathLenConstraint")
        info.fPathLenConstraint = True
        info.dwPathLenConstraint = value
    return info, 12


def _decode_eku(data: bytes) -> tuple[CERT_ENHKEY_USAGE, int]:
    oids: list[str] = []
    for tlv in _der.sequence_items(data):
        if tlv.tag != _der.OID:
            raise _der.DerError(CRYPT_E_ASN1_BADTAG, "usage is not an OID")
        oids.append(_der.oid_text(tlv.content))
    size = 16 + sum(8 + (len(o) + 1 + 7) // 8 * 8 for o in oids)
    return CERT_ENHKEY_USAGE(len(oids), oids), size


_Decoder = Callable[[bytes], tuple[Any, int]]

_DECODERS: dict[int | str, _Decoder] = {
    szOID_SUBJECT_ALT_NAME2: _decode_alt_names,
    szOID_ISSUER_ALT_NAME2: _decode_alt_names,
    szOID_SUBJECT_ALT_NAME: _decode_alt_names,
    szOID_ISSUER_ALT_NAME: _decode_alt_names,
    X509_ALTERNATE_NAME: _decode_alt_names,
    szOID_BASIC_CONSTRAINTS2: _decode_basic_constraints,
    X509_BASIC_CONSTRAINTS2: _decode_basic_constraints,
    szOID_ENHANCED_KEY_USAGE: _decode_eku,
    X509_ENHANCED_KEY_USAGE: _decode_eku,
}


def _decoder(struct_type: Any) -> _Decoder | None:
    if isinstance(struct_type, bytes):
        struct_type = struct_type.split(b"\0", 1)[0].decode("ascii", "replace")
    if isinstance(struct_type, bool) or not isinstance(struct_type, (int, str)):
        return None
    return _DECODERS.get(struct_type)


def _decode(
    dwCertEncodingType: Any,
    lpszStructType: Any,
    pbEncoded: Any,
    cbEncoded: Any,
    dwFlags: Any,
    pvStructInfo: Any,
    pcbStructInfo: Any,
) -> bool:
    flags = dwFlags if isinstance(dwFlags, int) else 0
    alloc = bool(flags & CRYPT_DECODE_ALLOC_FLAG)
    if not isinstance(dwCertEncodingType, int) or not dwCertEncodingType & X509_ASN_ENCODING:
        SetLastError(E_INVALIDARG)
        return False
    if not is_size_param(pcbStructInfo):
        SetLastError(ERROR_INVALID_PARAMETER)
        return False
    decoder = _decoder(lpszStructType)
    if decoder is None:
        SetLastError(ERROR_FILE_NOT_FOUND)
        return False
    data = _as_bytes(pbEncoded, cbEncoded)
    if data is None:
        SetLastError(E_INVALIDARG)
        return False
    if not data:
        SetLastError(CRYPT_E_ASN1_EOD)
        return False
    try:
        result, size = decoder(data)
    except _der.DerError as exc:
        SetLastError(exc.code)
        return False
    except (IndexError, ValueError):
        SetLastError(CRYPT_E_ASN1_BADTAG)
        return False
    if alloc:
        if pvStructInfo is None:
            SetLastError(ERROR_INVALID_PARAMETER)
            return False
        try:
            pvStructInfo.value = result
        except (AttributeError, TypeError):
            SetLastError(ERROR_INVALID_PARAMETER)
            return False
        pcbStructInfo.value = size
        return True

    def write() -> int | None:
        if type(pvStructInfo) is not type(result):
            return None
        for item in dataclasses.fields(result):
            setattr(pvStructInfo, item.name, getattr(result, item.name))
        return size

    return size_out(pvStructInfo, pcbStructInfo, size, write, ERROR_INVALID_PARAMETER)


def CryptDecodeObjectEx(
    dwCertEncodingType: int,
    lpszStructType: int | str | bytes,
    pbEncoded: Any,
    cbEncoded: int,
    dwFlags: int,
    pDecodePara: CRYPT_DECODE_PARA | None,
    pvStructInfo: Any,
    pcbStructInfo: Any,
) -> bool:
    """Decode ``cbEncoded`` bytes of ``pbEncoded`` as ``lpszStructType`` (see the module).

    FALSE with ``GetLastError()``: ``ERROR_FILE_NOT_FOUND`` for a structure type
    with no decoder (as Windows, which finds none registered),
    ``CRYPT_E_ASN1_EOD`` / ``CRYPT_E_ASN1_BADTAG`` / ``CRYPT_E_ASN1_CORRUPT`` for
    bad DER, ``ERROR_MORE_DATA`` for a too-small declared size,
    ``ERROR_INVALID_PARAMETER`` / ``E_INVALIDARG`` for unusable arguments.
    ``pDecodePara`` and the other flags (NOCOPY, SHARE_OID_STRING) change nothing.
    """
    return _decode(
        dwCertEncodingType,
        lpszStructType,
        pbEncoded,
        cbEncoded,
        dwFlags,
        pvStructInfo,
        pcbStructInfo,
    )


def CryptDecodeObject(
    dwCertEncodingType: int,
    lpszStructType: int | str | bytes,
    pbEncoded: Any,
    cbEncoded: int,
    dwFlags: int,
    pvStructInfo: Any,
    pcbStructInfo: Any,
) -> bool:
    """CryptDecodeObjectEx without allocation: the two-call size protocol only."""
    flags = dwFlags & ~CRYPT_DECODE_ALLOC_FLAG if isinstance(dwFlags, int) else 0
    return _decode(
        dwCertEncodingType,
        lpszStructType,
        pbEncoded,
        cbEncoded,
        flags,
        pvStructInfo,
        pcbStructInfo,
    )
