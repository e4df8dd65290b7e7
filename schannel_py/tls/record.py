"""The TLS record layer: framing, size limits and per-epoch protection.

Framing is separate from protection so that the SSPI layer can look at a
record header (how many bytes are missing, where the next record starts)
without touching keys.  Protection objects are one per direction and epoch;
the sequence number lives in them.
"""

from __future__ import annotations

import struct

from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from .alerts import AlertDescription, TLSError
from .suites import CipherSuite

CHANGE_CIPHER_SPEC = 20
ALERT = 21
HANDSHAKE = 22
APPLICATION_DATA = 23
CONTENT_TYPE_NAMES = {
    CHANGE_CIPHER_SPEC: "change_cipher_spec",
    ALERT: "alert",
    HANDSHAKE: "handshake",
    APPLICATION_DATA: "application_data",
}

HEADER_LEN = 5
MAX_PLAINTEXT = 1 << 14
MAX_CIPHERTEXT_13 = MAX_PLAINTEXT + 256
MAX_CIPHERTEXT_12 = MAX_PLAINTEXT + 2048


class RecordHeaderError(TLSError):
    """The bytes at a record boundary are not a TLS record header at all."""


def frame(buf: bytes | bytearray | memoryview, offset: int = 0) -> int:
    """Length of the whole record starting at ``offset``.

    Returns the total length (header included) if the record is complete, or
    ``-missing`` (the number of bytes still needed) if it is not.  Raises
    :class:`RecordHeaderError` for a header that cannot start a TLS record and
    record_overflow for a length beyond any TLS limit.
    """
    have = len(buf) - offset
    if have >= 1 and not 20 <= buf[offset] <= 23:
        raise RecordHeaderError(
            AlertDescription.unexpected_message, f"bad record type {buf[offset]}"
        )
    if have >= 2 and buf[offset + 1] != 3:
        raise RecordHeaderError(AlertDescription.protocol_version, "record version major is not 3")
    if have < HEADER_LEN:
        return -(HEADER_LEN - have)
    length = (buf[offset + 3] << 8) | buf[offset + 4]
    if length > MAX_CIPHERTEXT_12:
        raise TLSError(AlertDescription.record_overflow, f"record of {length} bytes")
    total = HEADER_LEN + length
    return total if have >= total else -(total - have)


def header(content_type: int, length: int, version: int = 0x0303) -> bytes:
    return struct.pack(">BHH", content_type, version, length)


def plaintext_records(content_type: int, data: bytes, version: int = 0x0303) -> bytes:
    """Unprotected records carrying ``data``, split at the 2^14 limit."""
    if len(data) <= MAX_PLAINTEXT:  # one record (an empty one for no data)
        return header(content_type, len(data), version) + bytes(data)
    out = bytearray()
    for i in range(0, max(len(data), 1), MAX_PLAINTEXT):
        chunk = data[i : i + MAX_PLAINTEXT]
        out += header(content_type, len(chunk), version) + chunk
    return bytes(out)


_pack_header = struct.Struct(">BHH").pack
#: Sequence numbers run up to 2^64 - 2; the last one is never used (RFC 8446 section 5.3).
_LAST_SEQ = (1 << 64) - 1
#: Header of a TLS 1.3 record carrying a full 16 KiB of data (+ type + tag).
_FULL_DATA_HEADER = _pack_header(APPLICATION_DATA, 0x0303, MAX_PLAINTEXT + 17)
#: Whole TLS 1.3 protected records: the shortest (type byte and tag) and longest.
_MIN_RECORD_13 = HEADER_LEN + 17
_MAX_RECORD_13 = HEADER_LEN + MAX_CIPHERTEXT_13
#: A TLS 1.3 record carrying a full 16 KiB of data (+ type + tag), no padding.
_FULL_RECORD_13 = HEADER_LEN + MAX_PLAINTEXT + 17
#: Longest TLSInnerPlaintext content plus its type byte.
_MAX_INNER = MAX_PLAINTEXT + 1
#: Protected records at least this long are opened through the work area.
_SCRATCH_MIN = 4096


class Protection12:
    """TLS 1.2 AEAD record protection (RFC 5288 GCM, RFC 7905 ChaCha20-Poly1305)."""

    __slots__ = ("suite", "_aead", "_iv", "_explicit", "seq", "header_len")

    def __init__(self, suite: CipherSuite, key: bytes, iv: bytes) -> None:
        self.suite = suite
        self._aead = suite.aead(key)
        self._explicit = suite.cipher == "AES"
        self._iv = iv if self._explicit else int.from_bytes(iv, "big")
        self.seq = 0
        self.header_len = HEADER_LEN + (8 if self._explicit else 0)

    def _next(self) -> int:
        seq = self.seq
        if seq >= _LAST_SEQ:
            raise TLSError(AlertDescription.internal_error, "sequence number exhausted")
        self.seq += 1
        return seq

    def _nonce(self, seq: int, explicit: bytes) -> bytes:
        if self._explicit:
            assert isinstance(self._iv, bytes)
            return self._iv + explicit
        assert isinstance(self._iv, int)
        return (self._iv ^ seq).to_bytes(12, "big")

    def seal_parts(self, content_type: int, data: bytes | memoryview) -> tuple[bytes, bytes]:
        """(header incl. explicit nonce, ciphertext-with-tag)."""
        seq = self._next()
        explicit = seq.to_bytes(8, "big") if self._explicit else b""
        aad = struct.pack(">QBHH", seq, content_type, 0x0303, len(data))
        body = self._aead.encrypt(self._nonce(seq, explicit), bytes(data), aad)
        hdr = header(content_type, len(explicit) + len(body)) + explicit
        return hdr, body

    def seal(self, content_type: int, data: bytes | memoryview, padding: int = 0) -> bytes:
        hdr, body = self.seal_parts(content_type, data)
        return hdr + body

    def open(self, record: bytes | memoryview) -> tuple[int, bytes]:
        """(content type, plaintext) of a protected record; bad_record_mac on failure."""
        ctype = record[0]
        body_len = len(record) - HEADER_LEN
        if body_len > MAX_CIPHERTEXT_12:
            raise TLSError(AlertDescription.record_overflow, "protected record too long")
        extra = self.header_len - HEADER_LEN
        if body_len < extra + 16:
            raise TLSError(AlertDescription.bad_record_mac, "protected record too short")
        seq = self._next()
        explicit = bytes(record[HEADER_LEN : self.header_len])
        plain_len = body_len - extra - 16
        aad = struct.pack(">QBHH", seq, ctype, (record[1] << 8) | record[2], plain_len)
        try:
            plain = self._aead.decrypt(
                self._nonce(seq, explicit), bytes(record[self.header_len :]), aad
            )
        except Exception:
            raise TLSError(
                AlertDescription.bad_record_mac, "record authentication failed"
            ) from None
        if len(plain) > MAX_PLAINTEXT:
            raise TLSError(AlertDescription.record_overflow, "plaintext too long")
        return ctype, plain


#: Protection13's sealing work areas: the inner-plaintext area (a full record's
#: inner plaintext), the output area, then the full-size record's content, sealed
#: record, ciphertext and tail (type and tag) views.
_SealAreas = tuple[memoryview, memoryview, memoryview, memoryview, memoryview, memoryview]


class Protection13:
    """TLS 1.3 record protection for one direction and one traffic secret.

    cryptography 51 refuses AEAD input and output that overlap (earlier releases
    allowed it), so sealing goes from one work area into another: the data is
    copied in and the record out either way, so that costs nothing.  Opening in
    the caller's memory copies the body to a work area first where the AEAD
    cannot decrypt over its input (see :data:`AEAD_IN_PLACE`).
    """

    __slots__ = (
        "suite",
        "secret",
        "_aead",
        "_iv",
        "seq",
        "header_len",
        "_scratch",
        "_seal",
        "_full_body",
    )

    def __init__(self, suite: CipherSuite, secret: bytes, key: bytes, iv: bytes) -> None:
        self.suite = suite
        self.header_len = HEADER_LEN
        self.secret = secret
        self._aead = suite.aead(key)
        self._iv = int.from_bytes(iv, "big")
        self.seq = 0
        #: Output work area for sealing and opening large records (see _work_area).
        self._scratch: memoryview | None = None
        #: Sealing's work areas and their views for a full-size record (see _seal_areas).
        self._seal: _SealAreas | None = None
        #: The work area's view for copying a full-size record's body (open_in_place).
        self._full_body: memoryview | None = None

    def _nonce(self) -> bytes:
        if self.seq >= _LAST_SEQ:
            raise TLSError(AlertDescription.internal_error, "sequence number exhausted")
        nonce = (self._iv ^ self.seq).to_bytes(12, "big")
        self.seq += 1
        return nonce

    def seal(self, content_type: int, data: bytes | memoryview, padding: int = 0) -> bytes:
        """One protected record: header || AEAD(data || type || zeros)."""
        inner = bytes(data) + bytes([content_type]) + bytes(padding)
        hdr = header(APPLICATION_DATA, len(inner) + 16)
        return hdr + self._aead.encrypt(self._nonce(), inner, hdr)

    def seal_parts(self, content_type: int, data: bytes | memoryview) -> tuple[bytes, bytes]:
        """(header, ciphertext-with-tag) for callers that lay the record out themselves."""
        inner = bytes(data) + bytes([content_type])
        hdr = header(APPLICATION_DATA, len(inner) + 16)
        return hdr, self._aead.encrypt(self._nonce(), inner, hdr)

    def _work_area(self) -> memoryview:
        """The direction's reused output work area (allocated on first use)."""
        work = self._scratch
        if work is None:
            work = self._scratch = memoryview(bytearray(MAX_CIPHERTEXT_13))
        return work

    def _seal_areas(self) -> _SealAreas:
        """The inner-plaintext area, the output area and, for a full 16 KiB record,
        the views of both that :meth:`seal_data_into` uses (made on first use)."""
        inner = memoryview(bytearray(_MAX_INNER))
        out = self._work_area()
        areas = self._seal = (
            inner,
            out,
            inner[:MAX_PLAINTEXT],
            out[: MAX_PLAINTEXT + 17],
            out[:MAX_PLAINTEXT],
            out[MAX_PLAINTEXT : MAX_PLAINTEXT + 17],
        )
        return areas

    def seal_data_into(
        self,
        n: int,
        header: memoryview,
        body: memoryview,
        trailer: memoryview,
        data: bytes | memoryview | None = None,
    ) -> None:
        """Protect ``n`` bytes of application data straight into the caller's memory:
        the 5-byte header into ``header``, ``n`` bytes of ciphertext into ``body`` and
        the protected content type and tag (17 bytes) into ``trailer``.  The data is
        ``data``, or else the first ``n`` bytes of ``body`` (EncryptMessage encrypts
        in place).  Same record as :meth:`seal_parts`; kept to the fewest Python
        steps per record (full-size records reuse prepared views)."""
        seq = self.seq
        if seq >= _LAST_SEQ:
            raise TLSError(AlertDescription.internal_error, "sequence number exhausted")
        areas = self._seal
        if areas is None:
            areas = self._seal_areas()
        self.seq = seq + 1
        if n == MAX_PLAINTEXT:
            source, _, content, sealed, ciphertext, tail = areas
            inner = source
            hdr = _FULL_DATA_HEADER
        else:
            source, out = areas[0], areas[1]
            content, inner = source[:n], source[: n + 1]
            sealed, ciphertext, tail = out[: n + 17], out[:n], out[n : n + 17]
            hdr = _pack_header(APPLICATION_DATA, 0x0303, n + 17)
        if data is None:
            data = body if len(body) == n else body[:n]
        content[:] = data
        source[n] = APPLICATION_DATA
        self._aead.encrypt_into((self._iv ^ seq).to_bytes(12, "big"), inner, hdr, sealed)
        body[:n] = ciphertext
        trailer[:17] = tail
        header[:5] = hdr

    def open(self, record: bytes | memoryview) -> tuple[int, bytes]:
        """(inner content type, content) of a protected record; bad_record_mac on failure."""
        body_len = _protected_body_length(record)
        view = record if isinstance(record, memoryview) else memoryview(record)
        if body_len >= _SCRATCH_MIN:
            return self._open_large(view, body_len - 16)
        try:
            inner = self._aead.decrypt(self._nonce(), view[HEADER_LEN:], bytes(view[:HEADER_LEN]))
        except Exception:
            raise TLSError(
                AlertDescription.bad_record_mac, "record authentication failed"
            ) from None
        return _split_inner(inner)

    def _open_large(self, view: memoryview, m: int) -> tuple[int, bytes]:
        """:meth:`open` decrypting into the reused work area (one fewer 16 KiB buffer)."""
        out = self._work_area()[:m]
        try:
            self._aead.decrypt_into(self._nonce(), view[HEADER_LEN:], bytes(view[:HEADER_LEN]), out)
        except Exception:
            out[:] = bytes(m)  # no unauthenticated plaintext left behind
            raise TLSError(
                AlertDescription.bad_record_mac, "record authentication failed"
            ) from None
        if out[m - 1]:
            if m - 1 > MAX_PLAINTEXT:
                raise TLSError(AlertDescription.record_overflow, "inner plaintext too long")
            return out[m - 1], bytes(out[: m - 1])
        return _split_inner(bytes(out))

    def open_in_place(self, record: memoryview) -> tuple[int, int]:
        """:meth:`open` over the caller's writable record: the content is decrypted
        over the body and ends up at ``record[HEADER_LEN:HEADER_LEN + length]``.

        Returns (inner content type, content length).  Where the AEAD may write
        over its own input (:data:`AEAD_IN_PLACE`) no copy is made, which is what
        keeps DecryptMessage close to the raw AEAD; elsewhere the body is first
        copied to the work area.  On a failed authentication the body is zeroed,
        so no unauthenticated bytes remain.  The common case (an application-data
        header, a body between 17 bytes and a full record) takes the fewest Python
        steps; anything else goes through the same checks as :meth:`open`.
        """
        n = len(record)
        if record[0] != APPLICATION_DATA or not _MIN_RECORD_13 <= n <= _MAX_RECORD_13:
            _protected_body_length(record)  # raises the alert open() raises
        end = n - 16  # the content, type and padding end where the tag starts
        out = record[HEADER_LEN:end]
        body = record[HEADER_LEN:]
        seq = self.seq
        if seq >= _LAST_SEQ:
            raise TLSError(AlertDescription.internal_error, "sequence number exhausted")
        self.seq = seq + 1
        if not AEAD_IN_PLACE:
            if n == _FULL_RECORD_13:
                copy = self._full_body
                if copy is None:
                    copy = self._full_body = self._work_area()[: _FULL_RECORD_13 - HEADER_LEN]
            else:
                copy = self._work_area()[: n - HEADER_LEN]
            copy[:] = body
            body = copy
        try:
            # The header is not overwritten (the content starts after it), so
            # it can be the associated data as it stands.
            self._aead.decrypt_into(
                (self._iv ^ seq).to_bytes(12, "big"), body, record[:HEADER_LEN], out
            )
        except Exception:
            out[:] = bytes(end - HEADER_LEN)
            raise TLSError(
                AlertDescription.bad_record_mac, "record authentication failed"
            ) from None
        m = end - HEADER_LEN
        ctype = out[m - 1]
        if not ctype:  # padding: the type is the last non-zero byte
            m = len(bytes(out).rstrip(b"\0"))
            if m == 0:
                raise TLSError(AlertDescription.unexpected_message, "record has no content type")
            ctype = out[m - 1]
        if m > _MAX_INNER:
            raise TLSError(AlertDescription.record_overflow, "inner plaintext too long")
        return ctype, m - 1


def _aead_works_in_place() -> bool:
    """Whether the installed cryptography lets ``decrypt_into`` write its output over
    its own input, starting at the same byte (releases up to 50 do; 51 refuses any
    overlap of input and output).  Asked of the library itself, not of its version
    number, for both AEAD classes TLS 1.3 uses."""
    for aead in (AESGCM(bytes(16)), ChaCha20Poly1305(bytes(32))):
        nonce = bytes(12)
        record = bytearray(aead.encrypt(nonce, b"in place", b"aad"))
        view = memoryview(record)
        try:
            aead.decrypt_into(nonce, view, b"aad", view[:8])
        except Exception:
            return False
        if record[:8] != b"in place":
            return False
    return True


#: The AEAD may decrypt over its input; :meth:`Protection13.open_in_place` then
#: skips the copy of each record's body (one 16 KiB copy per full record).
AEAD_IN_PLACE = _aead_works_in_place()


def _protected_body_length(record: bytes | memoryview) -> int:
    """Length of a TLS 1.3 protected record's body, after the checks that need no key."""
    if record[0] != APPLICATION_DATA:
        raise TLSError(AlertDescription.unexpected_message, "unprotected record after keys changed")
    body_len = len(record) - HEADER_LEN
    if body_len > MAX_CIPHERTEXT_13:
        raise TLSError(AlertDescription.record_overflow, "protected record too long")
    if body_len < 17:
        raise TLSError(AlertDescription.bad_record_mac, "protected record too short")
    return body_len


def _split_inner(inner: bytes) -> tuple[int, bytes]:
    """(content type, content) of a TLSInnerPlaintext: content || type || zeros."""
    end = len(inner)
    if not inner[end - 1]:
        end = len(inner.rstrip(b"\0"))
    if end == 0:
        raise TLSError(AlertDescription.unexpected_message, "record has no content type")
    if end - 1 > MAX_PLAINTEXT:
        raise TLSError(AlertDescription.record_overflow, "inner plaintext too long")
    return inner[end - 1], inner[: end - 1]


Protection = Protection12 | Protection13
