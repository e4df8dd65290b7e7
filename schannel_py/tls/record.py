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
#: Each content type as the one byte that ends a TLS 1.3 inner plaintext.
_TYPE_BYTE = [bytes((t,)) for t in range(256)]
#: Sequence numbers run up to 2^64 - 2; the last one is never used (RFC 8446 section 5.3).
_LAST_SEQ = (1 << 64) - 1
#: Header of a TLS 1.3 record carrying a full 16 KiB of data (+ type + tag).
_FULL_DATA_HEADER = _pack_header(APPLICATION_DATA, 0x0303, MAX_PLAINTEXT + 17)
#: Whole TLS 1.3 protected records: the shortest (type byte and tag) and longest.
_MIN_RECORD_13 = HEADER_LEN + 17
_MAX_RECORD_13 = HEADER_LEN + MAX_CIPHERTEXT_13
#: A TLS 1.3 record carrying a full 16 KiB of data (+ type + tag), no padding; also
#: the longest whose TLSInnerPlaintext (content, type, padding) is legal.
_FULL_RECORD_13 = HEADER_LEN + MAX_PLAINTEXT + 17


#: Records shorter than this are sealed and opened through new bytes (handshake
#: messages, small writes); longer ones through the direction's reused work areas.
_SMALL_RECORD = 4096


def _area(current: memoryview | None, size: int) -> memoryview:
    """``current`` if it holds ``size`` bytes, else a new area that does: the size
    asked for at first (a handshake key seals and opens a few small records), then
    at least twice the old one, so growing to a full record takes a few steps."""
    if current is not None and len(current) >= size:
        return current
    if current is not None:
        size = max(size, min(2 * len(current), MAX_CIPHERTEXT_12))
    return memoryview(bytearray(size))


class Protection12:
    """TLS 1.2 AEAD record protection (RFC 5288 GCM, RFC 7905 ChaCha20-Poly1305).

    One seal (:meth:`seal_into`) and one open (:meth:`open_in_place`), both in
    the caller's memory; :meth:`seal` and :meth:`open` are the same two for
    callers that want bytes.
    """

    __slots__ = ("suite", "_aead", "_iv", "_explicit", "seq", "header_len", "_scratch")

    #: Bytes after the data in a record: the tag.
    trailer_len = 16

    def __init__(self, suite: CipherSuite, key: bytes, iv: bytes) -> None:
        self.suite = suite
        self._aead = suite.aead(key)
        self._explicit = suite.cipher == "AES"
        self._iv = iv if self._explicit else int.from_bytes(iv, "big")
        self.seq = 0
        self.header_len = HEADER_LEN + (8 if self._explicit else 0)
        #: Reused work area (sealing, and opening where the AEAD cannot work in place).
        self._scratch: memoryview | None = None

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

    def _work_area(self, size: int) -> memoryview:
        """The direction's reused work area, grown to ``size`` bytes if needed."""
        work = self._scratch
        if work is None or len(work) < size:
            work = self._scratch = _area(work, size)
        return work

    def seal_into(
        self,
        content_type: int,
        n: int,
        header: memoryview,
        body: memoryview,
        trailer: memoryview,
        data: bytes | memoryview | None = None,
        padding: int = 0,
    ) -> None:
        """Protect ``n`` bytes into the caller's memory: the header and explicit nonce
        (``header_len`` bytes) into ``header``, the ciphertext into ``body``, the tag
        (16 bytes) into ``trailer``.  The data is ``data``, or else the first ``n``
        bytes of ``body`` (sealed in place).  TLS 1.2 has no padding."""
        if padding:
            raise TLSError(AlertDescription.internal_error, "TLS 1.2 records have no padding")
        seq = self._next()
        explicit = seq.to_bytes(8, "big") if self._explicit else b""
        aad = struct.pack(">QBHH", seq, content_type, 0x0303, n)
        if data is None:
            data = body[:n]
        if n < _SMALL_RECORD:
            out: bytes | memoryview = self._aead.encrypt(self._nonce(seq, explicit), data, aad)
        else:
            out = self._work_area(n + 16)[: n + 16]
            self._aead.encrypt_into(self._nonce(seq, explicit), data, aad, out)
        body[:n] = out[:n]
        trailer[:16] = out[n:]
        header[: self.header_len] = (
            _pack_header(content_type, 0x0303, len(explicit) + n + 16) + explicit
        )

    def seal(self, content_type: int, data: bytes | memoryview, padding: int = 0) -> bytes:
        """One protected record as bytes (through :meth:`seal_into`)."""
        return _sealed(self, content_type, data, padding, 16)

    def open_in_place(self, record: memoryview) -> tuple[int, int]:
        """Open the caller's writable record over itself: (content type, plaintext
        length), the plaintext at ``record[header_len:header_len + length]``.  A
        failed authentication zeroes that area (no unauthenticated bytes remain)."""
        ctype = record[0]
        body_len = len(record) - HEADER_LEN
        if body_len > MAX_CIPHERTEXT_12:
            raise TLSError(AlertDescription.record_overflow, "protected record too long")
        hl = self.header_len
        if body_len < hl - HEADER_LEN + 16:
            raise TLSError(AlertDescription.bad_record_mac, "protected record too short")
        seq = self._next()
        explicit = bytes(record[HEADER_LEN:hl])
        plain_len = body_len - (hl - HEADER_LEN) - 16
        aad = struct.pack(">QBHH", seq, ctype, (record[1] << 8) | record[2], plain_len)
        sealed: bytes | memoryview = record[hl:]
        out = record[hl : hl + plain_len]
        if not AEAD_IN_PLACE:
            if body_len < _SMALL_RECORD:
                sealed = record[hl:].tobytes()
            else:
                copy = self._work_area(len(sealed))[: len(sealed)]
                copy[:] = sealed
                sealed = copy
        try:
            self._aead.decrypt_into(self._nonce(seq, explicit), sealed, aad, out)
        except Exception:
            out[:] = bytes(plain_len)
            raise TLSError(
                AlertDescription.bad_record_mac, "record authentication failed"
            ) from None
        if plain_len > MAX_PLAINTEXT:
            raise TLSError(AlertDescription.record_overflow, "plaintext too long")
        return ctype, plain_len

    def open(self, record: bytes | memoryview) -> tuple[int, bytes]:
        """(content type, plaintext) of a protected record (through :meth:`open_in_place`)."""
        return _opened(self, record)


#: Protection13's views for a full-size record: the inner-plaintext area, the
#: record's inner plaintext and content in it, then its sealed record, ciphertext
#: and tail (type and tag) in the output work area.
_SealAreas = tuple[memoryview, memoryview, memoryview, memoryview, memoryview, memoryview]


class Protection13:
    """TLS 1.3 record protection for one direction and one traffic secret.

    One seal (:meth:`seal_into`) and one open (:meth:`open_in_place`), both in
    the caller's memory; :meth:`seal` and :meth:`open` are the same two for
    callers that want bytes.  cryptography 51 refuses AEAD input and output that
    overlap (earlier releases allowed it), so sealing goes from one work area
    into another: the data is copied in and the record out either way, so that
    costs nothing.  Opening in the caller's memory copies the body to a work
    area first where the AEAD cannot decrypt over its input (see
    :data:`AEAD_IN_PLACE`).
    """

    __slots__ = (
        "suite",
        "secret",
        "_aead",
        "_iv",
        "seq",
        "header_len",
        "_scratch",
        "_inner",
        "_seal",
        "_full_body",
    )

    #: Bytes after the data in a record (no padding): the content type and the tag.
    trailer_len = 17

    def __init__(self, suite: CipherSuite, secret: bytes, key: bytes, iv: bytes) -> None:
        self.suite = suite
        self.header_len = HEADER_LEN
        self.secret = secret
        self._aead = suite.aead(key)
        self._iv = int.from_bytes(iv, "big")
        self.seq = 0
        #: Output work area for sealing and opening (see _work_area).
        self._scratch: memoryview | None = None
        #: Sealing's inner-plaintext area (grown as _work_area is).
        self._inner: memoryview | None = None
        #: The work areas' views for a full-size record (see _seal_areas).
        self._seal: _SealAreas | None = None
        #: The work area's view for copying a full-size record's body (open_in_place).
        self._full_body: memoryview | None = None

    def _work_area(self, size: int) -> memoryview:
        """The direction's reused output work area, grown to ``size`` bytes if needed
        (a handshake key's stays small; application data's becomes a full record's)."""
        work = self._scratch
        if work is None or len(work) < size:
            work = self._scratch = _area(work, size)
            self._seal = self._full_body = None  # views of the old area
        return work

    def _inner_area(self, size: int) -> memoryview:
        """The reused inner-plaintext area, grown to ``size`` bytes if needed."""
        inner = self._inner
        if inner is None or len(inner) < size:
            inner = self._inner = _area(inner, size)
            self._seal = None  # views of the old area
        return inner

    def _seal_areas(self) -> _SealAreas:
        """For a full 16 KiB record, the views of the inner-plaintext and output work
        areas that :meth:`seal_into` uses (made on first use)."""
        out = self._work_area(MAX_PLAINTEXT + 17)
        inner = self._inner_area(MAX_PLAINTEXT + 1)
        areas = self._seal = (
            inner,
            inner[: MAX_PLAINTEXT + 1],
            inner[:MAX_PLAINTEXT],
            out[: MAX_PLAINTEXT + 17],
            out[:MAX_PLAINTEXT],
            out[MAX_PLAINTEXT : MAX_PLAINTEXT + 17],
        )
        return areas

    def seal_into(
        self,
        content_type: int,
        n: int,
        header: memoryview,
        body: memoryview,
        trailer: memoryview,
        data: bytes | memoryview | None = None,
        padding: int = 0,
    ) -> None:
        """Protect ``n`` bytes straight into the caller's memory: the 5-byte header
        into ``header``, ``n`` bytes of ciphertext into ``body`` and the protected
        content type, ``padding`` zeros and tag (17 + padding bytes) into
        ``trailer``.  The data is ``data``, or else the first ``n`` bytes of ``body``
        (EncryptMessage encrypts in place).  Kept to the fewest Python steps per
        record: full-size application data reuses prepared views."""
        seq = self.seq
        if seq >= _LAST_SEQ:
            raise TLSError(AlertDescription.internal_error, "sequence number exhausted")
        self.seq = seq + 1
        if n == MAX_PLAINTEXT and content_type == APPLICATION_DATA and not padding:
            areas = self._seal
            if areas is None:
                areas = self._seal_areas()
            source, inner, content, sealed, ciphertext, tail = areas
            hdr = _FULL_DATA_HEADER
        elif n + padding < _SMALL_RECORD:
            if data is None:
                data = body[:n]
            hdr = _pack_header(APPLICATION_DATA, 0x0303, n + 17 + padding)
            sealed_bytes = self._aead.encrypt(
                (self._iv ^ seq).to_bytes(12, "big"),
                b"".join((data, _TYPE_BYTE[content_type], bytes(padding))),
                hdr,
            )
            body[:n] = sealed_bytes[:n]
            trailer[: 17 + padding] = sealed_bytes[n:]
            header[:5] = hdr
            return
        else:
            end = n + 17 + padding
            out = self._work_area(end)
            source = self._inner_area(end - 16)
            content, inner = source[:n], source[: n + 1 + padding]
            sealed, ciphertext, tail = out[:end], out[:n], out[n:end]
            if padding:
                source[n + 1 : n + 1 + padding] = bytes(padding)
            hdr = _pack_header(APPLICATION_DATA, 0x0303, end)
        if data is None:
            data = body if len(body) == n else body[:n]
        content[:] = data
        source[n] = content_type
        self._aead.encrypt_into((self._iv ^ seq).to_bytes(12, "big"), inner, hdr, sealed)
        body[:n] = ciphertext
        trailer[: 17 + padding] = tail
        header[:5] = hdr

    def seal(self, content_type: int, data: bytes | memoryview, padding: int = 0) -> bytes:
        """One protected record as bytes: header || AEAD(data || type || zeros)."""
        return _sealed(self, content_type, data, padding, 17 + padding)

    def open(self, record: bytes | memoryview) -> tuple[int, bytes]:
        """(inner content type, content) of a protected record (through :meth:`open_in_place`)."""
        return _opened(self, record)

    def open_in_place(self, record: memoryview) -> tuple[int, int]:
        """Open the caller's writable record over itself: the content is decrypted
        over the body and ends up at ``record[HEADER_LEN:HEADER_LEN + length]``.

        Returns (inner content type, content length).  Where the AEAD may write
        over its own input (:data:`AEAD_IN_PLACE`) no copy is made, which is what
        keeps DecryptMessage close to the raw AEAD; elsewhere the body is first
        copied to the work area.  On a failed authentication the body is zeroed,
        so no unauthenticated bytes remain.  The common case (an application-data
        header, a body between 17 bytes and a full record) takes the fewest Python
        steps; anything else goes through the checks that need no key first.
        """
        n = len(record)
        if record[0] != APPLICATION_DATA or not _MIN_RECORD_13 <= n <= _MAX_RECORD_13:
            _protected_body_length(record)  # raises the alert open() raises
        end = n - 16  # the content, type and padding end where the tag starts
        out = record[HEADER_LEN:end]
        body: bytes | memoryview = record[HEADER_LEN:]
        seq = self.seq
        if seq >= _LAST_SEQ:
            raise TLSError(AlertDescription.internal_error, "sequence number exhausted")
        self.seq = seq + 1
        if not AEAD_IN_PLACE:
            if n == _FULL_RECORD_13:
                copy = self._full_body
                if copy is None:
                    size = _FULL_RECORD_13 - HEADER_LEN
                    copy = self._full_body = self._work_area(size)[:size]
                copy[:] = body
                body = copy
            elif n < _SMALL_RECORD:
                body = record[HEADER_LEN:].tobytes()
            else:
                copy = self._work_area(n - HEADER_LEN)[: n - HEADER_LEN]
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
        if n > _FULL_RECORD_13:  # RFC 8446 5.4: content, type and padding <= 2^14 + 1
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


def _sealed(
    protection: Protection12 | Protection13,
    content_type: int,
    data: bytes | memoryview,
    padding: int,
    trailer_len: int,
) -> bytes:
    """The record :meth:`seal_into` makes, in a new buffer."""
    n = len(data)
    hl = protection.header_len
    record = bytearray(hl + n + trailer_len)
    view = memoryview(record)
    protection.seal_into(
        content_type, n, view[:hl], view[hl : hl + n], view[hl + n :], data, padding
    )
    return bytes(record)


def _opened(
    protection: Protection12 | Protection13, record: bytes | memoryview
) -> tuple[int, bytes]:
    """What :meth:`open_in_place` finds in a copy of ``record``, as bytes."""
    copy = bytearray(record)
    ctype, length = protection.open_in_place(memoryview(copy))
    hl = protection.header_len
    return ctype, bytes(copy[hl : hl + length])


Protection = Protection12 | Protection13
