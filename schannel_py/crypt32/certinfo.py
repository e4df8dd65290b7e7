"""CERT_INFO as C sees it: the decoded fields of a certificate, byte for byte.

``CERT_CONTEXT.pCertInfo`` is a :class:`CERT_INFO` built from the certificate's
own DER (the parsed ``cryptography`` object is ``CERT_CONTEXT.certificate``).
Names, algorithm parameters and extension values are the encoded bytes exactly
as they appear in the certificate; the serial number is little-endian, as
Windows stores it.  Also here: :func:`CertFindExtension` and
:func:`CertVerifyTimeValidity`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

from schannel_py.constants import CRYPT_E_NOT_FOUND

from . import _der
from ._lasterror import SetLastError
from ._x509 import serial_number
from .constants import CERT_V1, CRYPT_E_ASN1_BADTAG, CRYPT_E_ASN1_CORRUPT, E_INVALIDARG

__all__ = [
    "CERT_EXTENSION",
    "CERT_INFO",
    "CERT_NAME_BLOB",
    "CERT_PUBLIC_KEY_INFO",
    "CRYPT_ALGORITHM_IDENTIFIER",
    "CRYPT_BIT_BLOB",
    "CRYPT_DATA_BLOB",
    "CRYPT_HASH_BLOB",
    "CRYPT_INTEGER_BLOB",
    "CRYPT_OBJID_BLOB",
    "FILETIME",
    "CertFindExtension",
    "CertVerifyTimeValidity",
]


@dataclass
class CRYPT_DATA_BLOB:
    """A counted byte string (``cbData`` bytes of ``pbData`` are meaningful)."""

    cbData: int = 0
    pbData: bytes | bytearray | memoryview | None = None

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> CRYPT_DATA_BLOB:
        """Blob over ``data`` with ``cbData`` set to its length."""
        return cls(len(data), data)

    def tobytes(self) -> bytes:
        """The meaningful bytes (``pbData[:cbData]``); empty when ``pbData`` is NULL."""
        if self.pbData is None or not isinstance(self.cbData, int) or self.cbData <= 0:
            return b""
        return bytes(memoryview(self.pbData)[: self.cbData])


#: wincrypt.h typedefs that share CRYPT_DATA_BLOB's layout.
CRYPT_HASH_BLOB = CRYPT_DATA_BLOB
CRYPT_INTEGER_BLOB = CRYPT_DATA_BLOB
CERT_NAME_BLOB = CRYPT_DATA_BLOB
CRYPT_OBJID_BLOB = CRYPT_DATA_BLOB


@dataclass
class CRYPT_BIT_BLOB:
    """A BIT STRING: ``cbData`` bytes, the last ``cUnusedBits`` bits of which are padding."""

    cbData: int = 0
    pbData: bytes | None = None
    cUnusedBits: int = 0


@dataclass
class FILETIME:
    """100-nanosecond intervals since 1601-01-01 UTC, split in two DWORDs."""

    dwLowDateTime: int = 0
    dwHighDateTime: int = 0

    #: 1601-01-01 to 1970-01-01 in 100 ns units.
    EPOCH_DELTA = 116444736000000000

    @property
    def QuadPart(self) -> int:
        """Both halves as one 64-bit count."""
        return (self.dwHighDateTime << 32) | self.dwLowDateTime

    @classmethod
    def from_int(cls, ticks: int) -> FILETIME:
        ticks = max(0, min(ticks, (1 << 64) - 1))
        return cls(ticks & 0xFFFFFFFF, ticks >> 32)

    @classmethod
    def from_datetime(cls, when: datetime.datetime) -> FILETIME:
        """The FILETIME of an aware (or UTC-naive) datetime."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.timezone.utc)
        epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        delta = when - epoch
        ticks = (delta.days * 86400 + delta.seconds) * 10_000_000 + delta.microseconds * 10
        return cls.from_int(ticks + cls.EPOCH_DELTA)

    @classmethod
    def now(cls) -> FILETIME:
        return cls.from_datetime(datetime.datetime.now(datetime.timezone.utc))


@dataclass
class CRYPT_ALGORITHM_IDENTIFIER:
    """An algorithm OID and its encoded parameters (empty blob when absent)."""

    pszObjId: str = ""
    Parameters: CRYPT_DATA_BLOB = field(default_factory=CRYPT_DATA_BLOB)


@dataclass
class CERT_PUBLIC_KEY_INFO:
    """SubjectPublicKeyInfo: the key's algorithm and its bits."""

    Algorithm: CRYPT_ALGORITHM_IDENTIFIER = field(default_factory=CRYPT_ALGORITHM_IDENTIFIER)
    PublicKey: CRYPT_BIT_BLOB = field(default_factory=CRYPT_BIT_BLOB)


@dataclass
class CERT_EXTENSION:
    """One extension: OID, criticality and the encoded value (the OCTET STRING's contents)."""

    pszObjId: str = ""
    fCritical: bool = False
    Value: CRYPT_DATA_BLOB = field(default_factory=CRYPT_DATA_BLOB)


@dataclass
class CERT_INFO:
    """The to-be-signed part of a certificate, field by field as wincrypt.h lays it out."""

    dwVersion: int = CERT_V1
    SerialNumber: CRYPT_DATA_BLOB = field(default_factory=CRYPT_DATA_BLOB)
    SignatureAlgorithm: CRYPT_ALGORITHM_IDENTIFIER = field(
        default_factory=CRYPT_ALGORITHM_IDENTIFIER
    )
    Issuer: CRYPT_DATA_BLOB = field(default_factory=CRYPT_DATA_BLOB)
    NotBefore: FILETIME = field(default_factory=FILETIME)
    NotAfter: FILETIME = field(default_factory=FILETIME)
    Subject: CRYPT_DATA_BLOB = field(default_factory=CRYPT_DATA_BLOB)
    SubjectPublicKeyInfo: CERT_PUBLIC_KEY_INFO = field(default_factory=CERT_PUBLIC_KEY_INFO)
    IssuerUniqueId: CRYPT_BIT_BLOB = field(default_factory=CRYPT_BIT_BLOB)
    SubjectUniqueId: CRYPT_BIT_BLOB = field(default_factory=CRYPT_BIT_BLOB)
    cExtension: int = 0
    rgExtension: list[CERT_EXTENSION] = field(default_factory=list)


def _blob(data: bytes) -> CRYPT_DATA_BLOB:
    return CRYPT_DATA_BLOB(len(data), data)


def _bit_blob(content: bytes) -> CRYPT_BIT_BLOB:
    if not content or content[0] > 7:
        raise _der.DerError(CRYPT_E_ASN1_CORRUPT, "bad BIT STRING")
    return CRYPT_BIT_BLOB(len(content) - 1, content[1:], content[0])


def _algorithm(tlv: _der.Tlv) -> CRYPT_ALGORITHM_IDENTIFIER:
    items = _der.children(tlv.content) if tlv.tag == _der.SEQUENCE else []
    if not items or items[0].tag != _der.OID:
        raise _der.DerError(CRYPT_E_ASN1_BADTAG, "bad AlgorithmIdentifier")
    params = items[1].encoded if len(items) > 1 else b""
    return CRYPT_ALGORITHM_IDENTIFIER(_der.oid_text(items[0].content), _blob(params))


def _extension(tlv: _der.Tlv) -> CERT_EXTENSION:
    items = _der.children(tlv.content)
    if not 2 <= len(items) <= 3 or items[0].tag != _der.OID:
        raise _der.DerError(CRYPT_E_ASN1_BADTAG, "bad Extension")
    critical = _der.boolean(items[1]) if len(items) == 3 else False
    value = items[-1]
    if value.tag != _der.OCTET_STRING:
        raise _der.DerError(CRYPT_E_ASN1_BADTAG, "extension value is not an OCTET STRING")
    return CERT_EXTENSION(_der.oid_text(items[0].content), critical, _blob(value.content))


def cert_info_from(der: bytes, cert: x509.Certificate) -> CERT_INFO:
    """The CERT_INFO of one certificate (``cert`` is its parsed form, for the times).

    ``cryptography`` has already accepted ``der``; a structure this reader still
    cannot walk gives a CERT_INFO with the fields ``cryptography`` can supply.
    """
    info = CERT_INFO(
        NotBefore=FILETIME.from_datetime(cert.not_valid_before_utc),
        NotAfter=FILETIME.from_datetime(cert.not_valid_after_utc),
    )
    try:
        tbs = _der.sequence_items(der)[0]
        items = _der.children(tbs.content)
        index = 0
        if items[0].tag == 0xA0:
            info.dwVersion = _der.unsigned(_der.read_one(items[0].content))
            index = 1
        serial, signature, issuer, _validity, subject, spki = items[index : index + 6]
        info.SerialNumber = _blob(serial.content[::-1])
        info.SignatureAlgorithm = _algorithm(signature)
        info.Issuer = _blob(issuer.encoded)
        info.Subject = _blob(subject.encoded)
        key_items = _der.children(spki.content)
        info.SubjectPublicKeyInfo = CERT_PUBLIC_KEY_INFO(
            _algorithm(key_items[0]), _bit_blob(key_items[1].content)
        )
        for extra in items[index + 6 :]:
            if extra.tag == 0x81:
                info.IssuerUniqueId = _bit_blob(extra.content)
            elif extra.tag == 0x82:
                info.SubjectUniqueId = _bit_blob(extra.content)
            elif extra.tag == 0xA3:
                outer = _der.read_one(extra.content, _der.SEQUENCE)
                info.rgExtension = [_extension(e) for e in _der.children(outer.content)]
    except (_der.DerError, IndexError, ValueError):
        value = serial_number(cert)
        serial_bytes = value.to_bytes((value.bit_length() + 8) // 8, "big", signed=True)
        info.SerialNumber = _blob(serial_bytes[::-1])
        info.Issuer = _blob(cert.issuer.public_bytes())
        info.Subject = _blob(cert.subject.public_bytes())
        info.rgExtension = []
    info.cExtension = len(info.rgExtension)
    return info


def CertFindExtension(
    pszObjId: str | bytes | None, cExtensions: int, rgExtensions: Any
) -> CERT_EXTENSION | None:
    """The first of ``cExtensions`` entries of ``rgExtensions`` whose OID is ``pszObjId``.

    None (NULL) when there is none, with ``GetLastError() == CRYPT_E_NOT_FOUND``;
    ``E_INVALIDARG`` for arguments that are not an OID and a list of CERT_EXTENSION.
    """
    if isinstance(pszObjId, bytes):
        pszObjId = pszObjId.split(b"\0", 1)[0].decode("ascii", "replace")
    if (
        not isinstance(pszObjId, str)
        or not isinstance(cExtensions, int)
        or isinstance(cExtensions, bool)
        or cExtensions < 0
        or (cExtensions and not isinstance(rgExtensions, (list, tuple)))
    ):
        SetLastError(E_INVALIDARG)
        return None
    for ext in list(rgExtensions or ())[:cExtensions]:
        if isinstance(ext, CERT_EXTENSION) and ext.pszObjId == pszObjId:
            return ext
    SetLastError(CRYPT_E_NOT_FOUND)
    return None


def CertVerifyTimeValidity(pTimeToVerify: FILETIME | None, pCertInfo: CERT_INFO | None) -> int:
    """-1 if the time is before NotBefore, 1 if after NotAfter, 0 inside the window.

    ``pTimeToVerify`` None means now.  A ``pCertInfo`` that is not a CERT_INFO
    (or a time that is not a FILETIME) answers 1, "not valid", with
    ``E_INVALIDARG``: C would crash, and 0 would call garbage valid.
    """
    if not isinstance(pCertInfo, CERT_INFO) or not (
        pTimeToVerify is None or isinstance(pTimeToVerify, FILETIME)
    ):
        SetLastError(E_INVALIDARG)
        return 1
    now = (pTimeToVerify or FILETIME.now()).QuadPart
    if now < pCertInfo.NotBefore.QuadPart:
        return -1
    if now > pCertInfo.NotAfter.QuadPart:
        return 1
    return 0
