"""A strict, minimal DER reader for the structures crypt32 hands out raw.

CryptoAPI gives C callers the encoded pieces of a certificate (issuer and
subject blobs, extension values, parameters) byte for byte, and decodes a few
extension values itself.  ``cryptography`` re-encodes or hides those bytes, so
this module walks the TLVs directly.  Failures raise :class:`DerError` carrying
the ``CRYPT_E_ASN1_*`` code CryptDecodeObjectEx reports.
"""

from __future__ import annotations

from dataclasses import dataclass

from .constants import CRYPT_E_ASN1_BADTAG, CRYPT_E_ASN1_CORRUPT, CRYPT_E_ASN1_EOD

SEQUENCE = 0x30
INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
OID = 0x06
BOOLEAN = 0x01
UTC_TIME = 0x17
GENERALIZED_TIME = 0x18


class DerError(ValueError):
    """Malformed DER; ``code`` is the CRYPT_E_ASN1_* value to report."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Tlv:
    """One element: its tag byte, its whole encoding and its contents."""

    tag: int
    encoded: bytes
    content: bytes

    @property
    def constructed(self) -> bool:
        return bool(self.tag & 0x20)


def read_tlv(data: bytes, offset: int = 0) -> tuple[Tlv, int]:
    """The element at ``offset`` and the offset after it (definite lengths only)."""
    if offset + 2 > len(data):
        raise DerError(CRYPT_E_ASN1_EOD, "truncated tag or length")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise DerError(CRYPT_E_ASN1_BADTAG, "multi-byte tags are not used here")
    first = data[offset + 1]
    pos = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4:
            raise DerError(CRYPT_E_ASN1_CORRUPT, "indefinite or oversized length")
        if pos + count > len(data):
            raise DerError(CRYPT_E_ASN1_EOD, "truncated length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    end = pos + length
    if end > len(data):
        raise DerError(CRYPT_E_ASN1_EOD, "content runs past the end")
    return Tlv(tag, bytes(data[offset:end]), bytes(data[pos:end])), end


def read_one(data: bytes, tag: int | None = None) -> Tlv:
    """Exactly one element filling ``data`` (of ``tag`` when given)."""
    tlv, end = read_tlv(data)
    if tag is not None and tlv.tag != tag:
        raise DerError(CRYPT_E_ASN1_BADTAG, f"expected tag {tag:#x}, got {tlv.tag:#x}")
    if end != len(data):
        raise DerError(CRYPT_E_ASN1_CORRUPT, "trailing bytes after the element")
    return tlv


def children(content: bytes) -> list[Tlv]:
    """The elements one after another in a constructed element's contents."""
    out: list[Tlv] = []
    pos = 0
    while pos < len(content):
        tlv, pos = read_tlv(content, pos)
        out.append(tlv)
    return out


def sequence_items(data: bytes) -> list[Tlv]:
    """The items of the SEQUENCE that fills ``data``."""
    return children(read_one(data, SEQUENCE).content)


def oid_text(content: bytes) -> str:
    """An OBJECT IDENTIFIER's contents as dotted text."""
    if not content or content[-1] & 0x80:
        raise DerError(CRYPT_E_ASN1_CORRUPT, "bad object identifier")
    arcs: list[int] = []
    value = 0
    for byte in content:
        if value == 0 and byte == 0x80:
            raise DerError(CRYPT_E_ASN1_CORRUPT, "non-minimal object identifier arc")
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(a) for a in head + arcs[1:])


def boolean(tlv: Tlv) -> bool:
    if tlv.tag != BOOLEAN or len(tlv.content) != 1:
        raise DerError(CRYPT_E_ASN1_BADTAG, "expected a BOOLEAN")
    return tlv.content != b"\x00"


def unsigned(tlv: Tlv) -> int:
    if tlv.tag != INTEGER or not tlv.content:
        raise DerError(CRYPT_E_ASN1_BADTAG, "expected an INTEGER")
    return int.from_bytes(tlv.content, "big", signed=True)
