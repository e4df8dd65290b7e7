"""The record calls' shape with nothing checked: a bound for section (d).

EncryptMessage and DecryptMessage work in place on the caller's SecBuffers: the
caller points three or four buffers at the record, the package reads them,
seals or opens the record, and describes the result in the same buffers.
:class:`BareRecords` does only that for full-size TLS 1.3 records: no layout or
type checks, no context state, no sequence-number limit, no padding or EXTRA
handling, no error handling (bad input raises).  What it reaches is therefore
the most any correct implementation of these calls can reach in CPython on the
machine at hand; the package never uses it.  Like the package, it lets the
AEAD read and write the same memory only where the installed cryptography
allows it (:data:`~schannel_py.tls.record.AEAD_IN_PLACE`; 51 refuses): it seals
from one work area into another, and opens the record over itself or else
from a copy of its body in a work area.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from schannel_py.constants import (
    SECBUFFER_DATA,
    SECBUFFER_EMPTY,
    SECBUFFER_STREAM_HEADER,
    SECBUFFER_STREAM_TRAILER,
)
from schannel_py.sspi.types import SecBuffer, SecBufferDesc
from schannel_py.tls import keyschedule as ks
from schannel_py.tls.record import AEAD_IN_PLACE, Protection13

_HEADER = 5
_TAG = 16


class BareRecords:
    """Seal with one direction's keys and open with the other's, starting at the
    sequence numbers the context has reached.  The context itself must not be
    used for records afterwards (its sequence numbers are left behind)."""

    def __init__(self, write: Protection13, read: Protection13, record: int) -> None:
        self._seal, self._seal_iv = self._keys(write)
        self._open, self._open_iv = self._keys(read)
        self._seal_seq = write.seq
        self._open_seq = read.seq
        self._record = record
        source = memoryview(bytearray(record + 1))
        work = memoryview(bytearray(record + 1 + _TAG))
        self._source = source
        self._work = work
        self._content = source[:record]
        self._ciphertext = work[:record]
        self._tail = work[record:]
        self._body = work[: record + 1 + _TAG]
        self._hdr = bytes([23, 3, 3]) + (record + 1 + _TAG).to_bytes(2, "big")

    @staticmethod
    def _keys(p: Protection13) -> tuple[AESGCM | ChaCha20Poly1305, int]:
        key, iv = ks.traffic_keys(p.suite.hash_name, p.secret, p.suite.key_len)
        return p.suite.aead(key), int.from_bytes(iv, "big")

    def encrypt(self, ph: object, fqop: int, desc: SecBufferDesc, seq_no: int) -> int:
        """[STREAM_HEADER, DATA, STREAM_TRAILER, ...] with a full record of data."""
        h, d, t = desc.pBuffers[0], desc.pBuffers[1], desc.pBuffers[2]
        seq = self._seal_seq
        self._seal_seq = seq + 1
        data = d.pvBuffer
        self._content[:] = data  # type: ignore[index]
        self._source[self._record] = 23
        self._seal.encrypt_into(
            (self._seal_iv ^ seq).to_bytes(12, "big"), self._source, self._hdr, self._work
        )
        data[:] = self._ciphertext  # type: ignore[index]
        t.pvBuffer[:17] = self._tail  # type: ignore[index]
        h.pvBuffer[:_HEADER] = self._hdr  # type: ignore[index]
        h.cbBuffer = _HEADER
        t.cbBuffer = 1 + _TAG
        return 0

    def decrypt(self, ph: object, desc: SecBufferDesc, seq_no: int, qop: object) -> int:
        """[DATA, EMPTY, EMPTY, EMPTY] holding exactly one full record, whose content
        ends up where its ciphertext was."""
        b0, b1, b2, _ = desc.pBuffers
        view = memoryview(b0.pvBuffer)  # type: ignore[arg-type]
        total = b0.cbBuffer
        end = total - _TAG
        seq = self._open_seq
        self._open_seq = seq + 1
        body = view[_HEADER:total]
        if not AEAD_IN_PLACE:
            self._body[:] = body
            body = self._body
        self._open.decrypt_into(
            (self._open_iv ^ seq).to_bytes(12, "big"), body, view[:_HEADER], view[_HEADER:end]
        )
        length = end - _HEADER - 1  # the last byte is the content type
        b0.BufferType, b0.cbBuffer, b0.pvBuffer = 7, _HEADER, view[:_HEADER]
        b1.BufferType, b1.cbBuffer, b1.pvBuffer = 1, length, view[_HEADER : _HEADER + length]
        b2.BufferType, b2.cbBuffer, b2.pvBuffer = 6, total - _HEADER - length, view[end - 1 : total]
        return 0


# --- the caller's loop with the descriptor built per call --------------------------
#
# A caller that does not keep a SecBuffer array around builds four new SecBuffers and
# a new SecBufferDesc for every call.  These loops do that around any EncryptMessage
# or DecryptMessage of the right signature: the package's, or the bare shape's above
# (its reference in the same rounds, built the same way).

Encrypt = Callable[[Any, int, SecBufferDesc, int], int]
Decrypt = Callable[[Any, SecBufferDesc, int, None], int]


def encrypt_built_per_call(
    encrypt: Encrypt,
    ctx: Any,
    header: int,
    trailer: int,
    record: int,
    views: Sequence[tuple[memoryview, memoryview, memoryview]],
) -> float:
    """Seconds for ``encrypt`` over ``views`` (header, data, trailer of each record),
    a new descriptor of [STREAM_HEADER, DATA, STREAM_TRAILER, EMPTY] for each call."""
    hdr, data, trl, empty = (
        SECBUFFER_STREAM_HEADER,
        SECBUFFER_DATA,
        SECBUFFER_STREAM_TRAILER,
        SECBUFFER_EMPTY,
    )
    gc.collect()
    start = time.perf_counter()
    for hv, dv, tv in views:
        desc = SecBufferDesc(
            [
                SecBuffer(header, hdr, hv),
                SecBuffer(record, data, dv),
                SecBuffer(trailer, trl, tv),
                SecBuffer(0, empty, None),
            ]
        )
        if encrypt(ctx, 0, desc, 0) != 0:
            raise RuntimeError("EncryptMessage")
    return time.perf_counter() - start


def decrypt_built_per_call(
    decrypt: Decrypt, ctx: Any, recs: Sequence[bytearray]
) -> tuple[float, SecBufferDesc]:
    """Seconds for ``decrypt`` over ``recs`` (one whole record each, at least one), a
    new descriptor of [DATA, EMPTY, EMPTY, EMPTY] for each call; and the last
    descriptor, for the caller to check what it describes."""
    data, empty = SECBUFFER_DATA, SECBUFFER_EMPTY
    desc = SecBufferDesc([])
    gc.collect()
    start = time.perf_counter()
    for r in recs:
        desc = SecBufferDesc(
            [
                SecBuffer(len(r), data, r),
                SecBuffer(0, empty, None),
                SecBuffer(0, empty, None),
                SecBuffer(0, empty, None),
            ]
        )
        if decrypt(ctx, desc, 0, None) != 0:
            raise RuntimeError("DecryptMessage")
    return time.perf_counter() - start, desc
