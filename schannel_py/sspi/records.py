"""EncryptMessage and DecryptMessage on a context: one record per call, in the caller's memory.

DecryptMessage opens the record at the start of the DATA buffer in place and
describes it in the caller's four buffers: STREAM_HEADER, DATA (the content),
STREAM_TRAILER, then EXTRA for whatever follows.  A post-handshake handshake
message (NewSessionTicket, KeyUpdate, HelloRequest) makes it return
SEC_I_RENEGOTIATE and moves the context to RENEGOTIATE (the caller's next ISC
answers it); the peer's close_notify gives SEC_I_CONTEXT_EXPIRED and CLOSED.
EncryptMessage seals DATA into one record, the header and tag going to the
STREAM_HEADER and STREAM_TRAILER buffers.  Whether either call works in a phase
is the table's word (:data:`phases.PHASES`, ``ctx.may_encrypt`` /
``ctx.may_decrypt``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .. import constants as C
from ..constants import SecStatus
from ..tls.alerts import TLSError
from ..tls.events import (
    ApplicationData,
    CertificateRequested,
    CloseNotify,
    Event,
    KeyUpdated,
    RenegotiationRequested,
    TicketReceived,
)
from ..tls.record import (
    ALERT,
    APPLICATION_DATA,
    MAX_PLAINTEXT,
    RecordHeaderError,
    frame,
)
from . import buffers as B
from . import context as X
from .phases import Phase, move
from .types import SecBuffer, SecBufferDesc

if TYPE_CHECKING:
    from .context import Context

#: Buffer types read on every record (module constants: cheaper than C.X lookups).
_EMPTY, _DATA, _EXTRA = C.SECBUFFER_EMPTY, C.SECBUFFER_DATA, C.SECBUFFER_EXTRA
_STREAM_HEADER, _STREAM_TRAILER = C.SECBUFFER_STREAM_HEADER, C.SECBUFFER_STREAM_TRAILER
_OK = C.SEC_E_OK


def decrypt(ctx: Context, pMessage: object) -> SecStatus:
    """DecryptMessage: open the record at the start of DATA, in place where the
    caller's memory is writable, and describe it in the caller's buffers.

    One path for every record and layout.  What it meets on every call of a
    stream (the [DATA, EMPTY, EMPTY, EMPTY] layout, a bytearray) it takes
    without a call; anything else it hands to the function that decides the
    general case (:func:`_decrypt_buffers`, :func:`B.writable`, :func:`_events`)
    and goes on the same way with the answer.  The TLS core frames the record
    (:meth:`TLSClient.receive_in_place`): its header is read once, there."""
    if (
        type(pMessage) is SecBufferDesc
        and type(bufs := pMessage.pBuffers) is list
        and len(bufs) == 4
        and pMessage.cBuffers == 4
        and type(dbuf := bufs[0]) is SecBuffer
        and type(dat := bufs[1]) is SecBuffer
        and type(trl := bufs[2]) is SecBuffer
        and type(ext := bufs[3]) is SecBuffer
        and dbuf.BufferType == _DATA
        and dat.BufferType == _EMPTY
        and trl.BufferType == _EMPTY
        and ext.BufferType == _EMPTY
    ):
        pass  # [DATA, EMPTY, EMPTY, EMPTY] as B.buffers would return it
    else:
        found = _decrypt_buffers(B.buffers(pMessage))
        if found is None:
            return C.SEC_E_INVALID_TOKEN
        dbuf, dat, trl, ext = found
    if not ctx.may_decrypt:
        return C.SEC_E_CONTEXT_EXPIRED
    pv = dbuf.pvBuffer
    target = memoryview(pv) if type(pv) is bytearray else B.writable(dbuf)
    if target is not None:
        cb = dbuf.cbBuffer
        if type(cb) is not int or cb < 0:
            cb = B.size(dbuf)
        if cb > len(target):
            return C.SEC_E_INVALID_TOKEN  # the buffer lies about its size
        view = target if cb == len(target) else target[:cb]
    else:
        found_view = B.data(dbuf)
        if found_view is None:
            return C.SEC_E_INVALID_TOKEN
        view = found_view
        cb = len(view)
    if ctx.stash:
        return _deliver_stash(ctx, dbuf, dat, trl, ext, cb)
    client = ctx.client
    try:
        if target is not None:
            # In place, as SChannel decrypts: the content lands where the body was.
            n, hl, length, events = client.receive_in_place(view)
        else:
            n = frame(view, 0)
            length, events = -1, (client.receive_record(view[:n]) if n > 0 else [])
            hl = client.read_header_len
    except RecordHeaderError as e:  # bytes that cannot start a record
        move(ctx, Phase.FAILED)
        ctx.failure_alert = int(e.description)
        return C.SEC_E_INVALID_TOKEN
    except TLSError as e:
        return X.fail(ctx, e, None, False)
    if n < 0:
        dbuf.BufferType = dat.BufferType = C.SECBUFFER_MISSING
        dbuf.cbBuffer = dat.cbBuffer = -n
        return C.SEC_E_INCOMPLETE_MESSAGE
    status = _OK
    if length < 0:  # not application data decrypted in place: what the record said
        status, plaintext = _events(ctx, events)
        length = len(plaintext)
        if target is None:
            view = memoryview(bytearray(view))
        if plaintext:
            view[hl : hl + length] = plaintext
    end = hl + length
    dbuf.BufferType, dbuf.cbBuffer, dbuf.pvBuffer = _STREAM_HEADER, hl, view[:hl]
    dat.BufferType, dat.cbBuffer, dat.pvBuffer = _DATA, length, view[hl:end]
    trl.BufferType, trl.cbBuffer, trl.pvBuffer = _STREAM_TRAILER, n - end, view[end:n]
    if cb > n:
        ext.BufferType, ext.cbBuffer, ext.pvBuffer = _EXTRA, cb - n, view[n:]
    return status


def _decrypt_buffers(
    bufs: list[SecBuffer] | None,
) -> tuple[SecBuffer, SecBuffer, SecBuffer, SecBuffer] | None:
    """Any order: the one DATA buffer and the first three EMPTY buffers (content,
    trailer, EXTRA); None unless there is exactly one DATA and three EMPTY (or
    ``bufs`` is None: not a descriptor)."""
    if bufs is None:
        return None
    data: list[SecBuffer] = []
    empties: list[SecBuffer] = []
    for b in bufs:
        t = B.btype(b)
        if t == _DATA:
            data.append(b)
        elif t == _EMPTY:
            empties.append(b)
    if len(data) != 1 or len(empties) < 3:
        return None
    return data[0], empties[0], empties[1], empties[2]


def _events(ctx: Context, events: Sequence[Event]) -> tuple[SecStatus, bytes]:
    """(status, application data) for a record that was not application data
    opened in place; a post-handshake message or the peer's close_notify moves
    the context as the phase table says."""
    status = C.SEC_E_OK
    plaintext = b""
    for ev in events:
        if isinstance(ev, ApplicationData):
            plaintext = ev.data
        elif isinstance(ev, CloseNotify):
            status = C.SEC_I_CONTEXT_EXPIRED
            move(ctx, Phase.CLOSED)
        elif isinstance(
            ev, (TicketReceived, KeyUpdated, RenegotiationRequested, CertificateRequested)
        ):
            status = C.SEC_I_RENEGOTIATE
    if status == C.SEC_I_RENEGOTIATE:
        # Also after our close_notify: curl drains to the peer's close_notify
        # through tickets, each needing its ISC (which then returns to SHUTDOWN).
        move(ctx, Phase.RENEGOTIATE)
    return status, plaintext


def _deliver_stash(
    ctx: Context,
    hdr: SecBuffer,
    dat: SecBuffer,
    trl: SecBuffer,
    ext: SecBuffer,
    pending: int,
) -> SecStatus:
    """Return the data received during a renegotiation, all of it in one DATA buffer
    (a caller that decrypts only while it holds encrypted bytes would otherwise never
    ask for the rest); the caller's bytes all stay as EXTRA."""
    data, ctx.stash = ctx.stash, bytearray()
    hdr.BufferType, hdr.cbBuffer, hdr.pvBuffer = C.SECBUFFER_STREAM_HEADER, 0, None
    dat.BufferType, dat.cbBuffer, dat.pvBuffer = (
        C.SECBUFFER_DATA,
        len(data),
        memoryview(data),
    )
    trl.BufferType, trl.cbBuffer, trl.pvBuffer = C.SECBUFFER_STREAM_TRAILER, 0, None
    if pending:
        ext.BufferType, ext.cbBuffer = C.SECBUFFER_EXTRA, pending
    return C.SEC_E_OK


def encrypt(ctx: Context, fQOP: int, pMessage: object) -> SecStatus:
    """EncryptMessage: seal DATA into one record, header and trailer around it, in
    the caller's memory where it is writable and large enough (else in new
    buffers put in the descriptor)."""
    if (
        type(pMessage) is SecBufferDesc
        and type(bufs := pMessage.pBuffers) is list
        and len(bufs) == 4
        and pMessage.cBuffers == 4
        and type(hbuf := bufs[0]) is SecBuffer
        and type(dbuf := bufs[1]) is SecBuffer
        and type(tbuf := bufs[2]) is SecBuffer
        and type(bufs[3]) is SecBuffer
        and hbuf.BufferType == _STREAM_HEADER
        and dbuf.BufferType == _DATA
        and tbuf.BufferType == _STREAM_TRAILER
    ):
        pass  # [STREAM_HEADER, DATA, STREAM_TRAILER, any] as B.buffers would return it
    else:  # not the layout every caller passes: found by a walk
        found = _stream_buffers(B.buffers(pMessage))
        if isinstance(found, SecStatus):
            return found
        hbuf, dbuf, tbuf = found
    content_type = APPLICATION_DATA
    if fQOP:
        if fQOP != C.SECQOP_WRAP_OOB_DATA:
            return C.SEC_E_QOP_NOT_SUPPORTED
        content_type = ALERT
    if not ctx.may_encrypt:
        # After either side's close_notify the context is closed for sending too
        # (docs/windows-behaviour.md rule 3.1.7: EncryptMessage after close_notify).
        return C.SEC_E_CONTEXT_EXPIRED
    n = dbuf.cbBuffer
    if type(n) is not int or n < 0:
        # Not a ULONG: encrypting "nothing" would leave the plaintext in place
        # for a caller that sends header + data + trailer from one buffer.
        return C.SEC_E_INVALID_TOKEN
    header, body, trailer = hbuf.pvBuffer, dbuf.pvBuffer, tbuf.pvBuffer
    if not (
        type(header) is memoryview
        and type(body) is memoryview
        and type(trailer) is memoryview
        and not (header.readonly or body.readonly or trailer.readonly)
        and header.ndim == body.ndim == trailer.ndim == 1
        and header.c_contiguous
        and body.c_contiguous
        and trailer.c_contiguous
        and header.format == body.format == trailer.format == "B"
    ):  # not all three already what B.writable returns as they are: ask it
        header, body, trailer = B.writable(hbuf), B.writable(dbuf), B.writable(tbuf)
    data: memoryview | None = None  # None: the plaintext is body[:n], sealed in place
    if body is None or len(body) < n:
        data = B.data(dbuf)
        if data is None:
            return C.SEC_E_INVALID_TOKEN
        body = None
    if n > MAX_PLAINTEXT:
        return C.SEC_E_ENCRYPT_FAILURE
    protection = ctx.client.write_protection
    if protection is None:
        return C.SEC_E_CONTEXT_EXPIRED
    need_header, need_trailer = protection.header_len, protection.trailer_len
    hsize, tsize = hbuf.cbBuffer, tbuf.cbBuffer
    if type(hsize) is not int or type(tsize) is not int:
        hsize, tsize = B.size(hbuf), B.size(tbuf)
    if hsize < need_header or tsize < need_trailer:
        return C.SEC_E_BUFFER_TOO_SMALL
    if fQOP and n != 2:  # an alert (SECQOP_WRAP_OOB_DATA) is two bytes
        return C.SEC_E_INVALID_TOKEN
    if header is None or len(header) < need_header:
        header = _new_memory(hbuf, need_header)
    if trailer is None or len(trailer) < need_trailer:
        trailer = _new_memory(tbuf, need_trailer)
    if body is None:
        body = _new_memory(dbuf, n)
    try:
        protection.seal_into(content_type, n, header, body, trailer, data)
    except TLSError:
        return C.SEC_E_ENCRYPT_FAILURE
    hbuf.cbBuffer = need_header  # DATA keeps its size: the ciphertext is as long
    tbuf.cbBuffer = need_trailer
    return _OK


def _stream_buffers(
    bufs: list[SecBuffer] | None,
) -> tuple[SecBuffer, SecBuffer, SecBuffer] | SecStatus:
    """The first STREAM_HEADER, DATA and STREAM_TRAILER buffers, in any order
    (SEC_E_INVALID_TOKEN if ``bufs`` is None: not a descriptor)."""
    if bufs is None:
        return C.SEC_E_INVALID_TOKEN
    di = hi = ti = -1
    for i, b in enumerate(bufs):
        t = B.btype(b)
        if t == _DATA:
            if di < 0:
                di = i
        elif t == _STREAM_HEADER:
            if hi < 0:
                hi = i
        elif t == _STREAM_TRAILER and ti < 0:
            ti = i
    if di < 0:
        return C.SEC_E_INTERNAL_ERROR
    if hi < 0 or ti < 0:
        return C.SEC_E_INVALID_TOKEN
    return bufs[hi], bufs[di], bufs[ti]


def _new_memory(buf: SecBuffer, size: int) -> memoryview:
    """Memory of the package's for a buffer whose own cannot take its part of the record
    (read-only, or too small): put in the buffer, as SChannel's allocations are."""
    memory = bytearray(size)
    buf.pvBuffer = memory
    return memoryview(memory)
