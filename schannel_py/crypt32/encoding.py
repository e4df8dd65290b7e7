"""CryptStringToBinary / CryptBinaryToString: base64 (PEM) and hex text <-> bytes.

The A and W forms are the same function here: text goes in as ``str`` or
``bytes`` and comes out through ``pszString.value`` (a ctypes buffer, or any
object with ``value``; bytes are written when ``value`` refuses a ``str``) or
into a ``bytearray``.  Sizes follow C: CryptBinaryToString reports the
characters needed *with* the NUL when ``pszString`` is None, and written
*without* it on success; too small a buffer fails with ``ERROR_MORE_DATA``.

Base64 output has 64 characters a line, each line (the last too) ended by CRLF
(LF with ``CRYPT_STRING_NOCR``, nothing with ``CRYPT_STRING_NOCRLF``).
Encoding ``CRYPT_STRING_HEX`` / ``HEXASCII`` / ``HEXADDR`` layouts is not
implemented (``ERROR_INVALID_PARAMETER``); ``CRYPT_STRING_HEXRAW`` is.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from ._lasterror import SetLastError
from ._out import copy_bytes, is_size_param, size_out
from .constants import (
    CRYPT_STRING_ANY,
    CRYPT_STRING_BASE64,
    CRYPT_STRING_BASE64_ANY,
    CRYPT_STRING_BASE64HEADER,
    CRYPT_STRING_BASE64REQUESTHEADER,
    CRYPT_STRING_BASE64X509CRLHEADER,
    CRYPT_STRING_BINARY,
    CRYPT_STRING_HEX,
    CRYPT_STRING_HEX_ANY,
    CRYPT_STRING_HEXRAW,
    CRYPT_STRING_NOCR,
    CRYPT_STRING_NOCRLF,
    ERROR_INVALID_DATA,
    ERROR_INVALID_PARAMETER,
)
from .context import _as_bytes

__all__ = [
    "CryptBinaryToString",
    "CryptBinaryToStringA",
    "CryptBinaryToStringW",
    "CryptStringToBinary",
    "CryptStringToBinaryA",
    "CryptStringToBinaryW",
]

_HEADERS = {
    CRYPT_STRING_BASE64HEADER: "CERTIFICATE",
    CRYPT_STRING_BASE64REQUESTHEADER: "NEW CERTIFICATE REQUEST",
    CRYPT_STRING_BASE64X509CRLHEADER: "X509 CRL",
}
_FORMAT_MASK = 0x0FFFFFFF


def _encode(data: bytes, flags: int) -> str | None:
    kind = flags & _FORMAT_MASK
    if flags & CRYPT_STRING_NOCR:
        sep = "\n"
    elif flags & CRYPT_STRING_NOCRLF:
        sep = ""
    else:
        sep = "\r\n"
    if kind == CRYPT_STRING_HEXRAW:
        return data.hex() + sep
    if kind != CRYPT_STRING_BASE64 and kind not in _HEADERS:
        return None
    text = base64.b64encode(data).decode("ascii")
    body = "".join(text[i : i + 64] + sep for i in range(0, len(text), 64)) or sep
    label = _HEADERS.get(kind)
    if label is None:
        return body
    return f"-----BEGIN {label}-----{sep}{body}-----END {label}-----{sep}"


def _write(psz: Any, text: str, wide: bool) -> bool:
    """Put ``text`` and its NUL into the caller's buffer; False if it cannot take it."""
    if isinstance(psz, (bytearray, memoryview)):
        return copy_bytes(psz, (text + "\0").encode("utf-16-le" if wide else "latin-1"))
    try:
        psz.value = text
    except TypeError:
        try:
            psz.value = text.encode("latin-1")
        except (AttributeError, TypeError, ValueError):
            return False
    except (AttributeError, ValueError):
        return False
    return True


def _binary_to_string(
    pbBinary: Any, cbBinary: Any, dwFlags: Any, pszString: Any, pcchString: Any, wide: bool
) -> bool:
    data = _as_bytes(pbBinary, cbBinary)
    if data is None or not isinstance(dwFlags, int) or not is_size_param(pcchString):
        SetLastError(ERROR_INVALID_PARAMETER)
        return False
    if dwFlags & _FORMAT_MASK == CRYPT_STRING_BINARY:
        return size_out(
            pszString,
            pcchString,
            len(data),
            lambda: len(data) if copy_bytes(pszString, data) else None,
            ERROR_INVALID_PARAMETER,
        )
    text = _encode(data, dwFlags)
    if text is None:
        SetLastError(ERROR_INVALID_PARAMETER)
        return False
    # The size asked for counts the NUL; the count written does not.
    return size_out(
        pszString,
        pcchString,
        len(text) + 1,
        lambda: len(text) if _write(pszString, text, wide) else None,
        ERROR_INVALID_PARAMETER,
    )


def CryptBinaryToStringA(
    pbBinary: Any, cbBinary: int, dwFlags: int, pszString: Any, pcchString: Any
) -> bool:
    """Bytes to text (base64 with or without PEM armour, raw hex); see the module."""
    return _binary_to_string(pbBinary, cbBinary, dwFlags, pszString, pcchString, wide=False)


def CryptBinaryToStringW(
    pbBinary: Any, cbBinary: int, dwFlags: int, pszString: Any, pcchString: Any
) -> bool:
    """The wide form of :func:`CryptBinaryToStringA` (UTF-16 into a ``bytearray``)."""
    return _binary_to_string(pbBinary, cbBinary, dwFlags, pszString, pcchString, wide=True)


CryptBinaryToString = CryptBinaryToStringW

_ARMOUR = re.compile(r"-----BEGIN [^-\r\n]*-----\r?\n?(.*?)\r?\n?-----END [^-\r\n]*-----", re.S)
_B64_CHARS = re.compile(r"[A-Za-z0-9+/=\s]*")


def _base64(text: str) -> bytes | None:
    if not _B64_CHARS.fullmatch(text):
        return None
    body = "".join(text.split())
    body = body.rstrip("=")
    if "=" in body or len(body) % 4 == 1:
        return None
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return None


def _hex(text: str) -> bytes | None:
    body = "".join(text.split())
    if len(body) % 2 or not re.fullmatch(r"[0-9A-Fa-f]*", body):
        return None
    return bytes.fromhex(body)


def _decode(text: str, kind: int) -> tuple[bytes, int, int] | None:
    """(bytes, characters skipped before the data, the format found) or None."""
    if kind in _HEADERS or kind in (CRYPT_STRING_BASE64_ANY, CRYPT_STRING_ANY):
        match = _ARMOUR.search(text)
        if match is not None:
            data = _base64(match.group(1))
            if data is not None:
                return data, match.start(), CRYPT_STRING_BASE64HEADER
        if kind in _HEADERS:
            return None
    if kind in (CRYPT_STRING_BASE64, CRYPT_STRING_BASE64_ANY, CRYPT_STRING_ANY):
        data = _base64(text)
        if data is not None:
            return data, 0, CRYPT_STRING_BASE64
        if kind != CRYPT_STRING_ANY:
            return None
    if kind in (CRYPT_STRING_HEX, CRYPT_STRING_HEXRAW, CRYPT_STRING_HEX_ANY):
        data = _hex(text)
        return (data, 0, CRYPT_STRING_HEX) if data is not None else None
    if kind in (CRYPT_STRING_BINARY, CRYPT_STRING_ANY):
        return text.encode("latin-1", "replace"), 0, CRYPT_STRING_BINARY
    return None


_DECODABLE = {
    CRYPT_STRING_BASE64HEADER,
    CRYPT_STRING_BASE64,
    CRYPT_STRING_BINARY,
    CRYPT_STRING_BASE64REQUESTHEADER,
    CRYPT_STRING_HEX,
    CRYPT_STRING_BASE64_ANY,
    CRYPT_STRING_ANY,
    CRYPT_STRING_HEX_ANY,
    CRYPT_STRING_BASE64X509CRLHEADER,
    CRYPT_STRING_HEXRAW,
}


def _text(pszString: Any, cchString: Any) -> str | None:
    if isinstance(pszString, (bytes, bytearray, memoryview)):
        raw = bytes(pszString)
        text = raw.decode("latin-1")
    elif isinstance(pszString, str):
        text = pszString
    else:
        return None
    if not isinstance(cchString, int) or isinstance(cchString, bool) or cchString < 0:
        return None
    if cchString == 0:
        return text.split("\0", 1)[0]
    return text[:cchString] if cchString <= len(text) else None


def CryptStringToBinaryA(
    pszString: Any,
    cchString: int,
    dwFlags: int,
    pbBinary: Any,
    pcbBinary: Any,
    pdwSkip: Any,
    pdwFlags: Any,
) -> bool:
    """Text to bytes; ``cchString`` 0 reads up to the first NUL.

    ``CRYPT_STRING_BASE64HEADER`` finds any ``-----BEGIN ...-----`` armour;
    ``BASE64_ANY`` tries armour then bare base64; ``ANY`` also falls back to
    the raw characters; ``HEX`` / ``HEXRAW`` / ``HEX_ANY`` read hex pairs,
    whitespace ignored.  ``pbBinary`` None reports the size in
    ``pcbBinary.value``; ``pdwSkip`` / ``pdwFlags`` (optional) receive where
    the data began and the format found.  Undecodable text: FALSE with
    ``ERROR_INVALID_DATA``; too small a buffer: ``ERROR_MORE_DATA``.
    """
    if not is_size_param(pcbBinary) or not isinstance(dwFlags, int):
        SetLastError(ERROR_INVALID_PARAMETER)
        return False
    text = _text(pszString, cchString)
    if text is None:
        SetLastError(ERROR_INVALID_PARAMETER)
        return False
    kind = dwFlags & _FORMAT_MASK
    if kind not in _DECODABLE:
        SetLastError(ERROR_INVALID_PARAMETER)
        return False
    found = _decode(text, kind)
    if found is None:
        SetLastError(ERROR_INVALID_DATA)
        return False
    data, skip, fmt = found
    if not size_out(
        pbBinary,
        pcbBinary,
        len(data),
        lambda: len(data) if copy_bytes(pbBinary, data) else None,
        ERROR_INVALID_PARAMETER,
    ):
        return False
    for out, value in ((pdwSkip, skip), (pdwFlags, fmt)):
        if out is not None and hasattr(out, "value"):
            out.value = value
    return True


CryptStringToBinaryW = CryptStringToBinaryA
CryptStringToBinary = CryptStringToBinaryA
