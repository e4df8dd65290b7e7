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
from ..tls.record import HEADER_LEN, MAX_PLAINTEXT, Protection13, RecordHeaderError, frame
from . import buffers as B
from . import context as X
from .phases import Phase, move
from .types import SecBuffer, SecBufferDesc

if TYPE_CHECKING:
    from .context import Context

#: Buffer types read on every record (module constants: cheaper than C.X lookups).
_EMPTY, _DATA, _EXTRA = C.SECBUFFER_EMPTY, C.SECBUFFER_DATA, C.SECBUFFER_EXTRA
_STREAM_HEADER, _STREAM_TRAILER = C.SECBUFFER_STREAM_HEADER, C.SECBUFFER_STREAM_TRAILER


def decrypt_fast(ctx: Context, desc: SecBufferDesc) -> SecStatus | None:
    """DecryptMessage for the call every stream makes: [DATA, EMPTY, EMPTY, EMPTY]
    over writable memory holding at least one whole TLS 1.3 record.  None when
    anything is unusual (incomplete, TLS 1.2, odd layout): :func:`decrypt` then
    decides exactly as for any other input."""
    lst = desc.pBuffers
    if type(lst) is not list or len(lst) != 4 or desc.cBuffers != 4:
        return None
    b0, b1, b2, b3 = lst
    if (
        type(b0) is not SecBuffer
        or type(b1) is not SecBuffer
        or type(b2) is not SecBuffer
        or type(b3) is not SecBuffer
        or b0.BufferType != _DATA
        or b1.BufferType != _EMPTY
        or b2.BufferType != _EMPTY
        or b3.BufferType != _EMPTY
    ):
        return None
    pv, cb = b0.pvBuffer, b0.cbBuffer
    if type(pv) is bytearray:
        view = memoryview(pv)
    elif type(pv) is memoryview and not pv.readonly and pv.format == "B" and pv.c_contiguous:
        view = pv
    else:
        return None
    if type(cb) is not int or not HEADER_LEN <= cb <= len(view) or view[0] != 23 or view[1] != 3:
        return None
    total = HEADER_LEN + ((view[3] << 8) | view[4])
    client = ctx.client
    if (
        total > cb
        or not ctx.may_decrypt
        or ctx.stash
        or type(client.read_protection) is not Protection13
    ):
        return None
    try:
        length, events = client.receive_record_in_place(
            view if total == len(view) else view[:total]
        )
    except TLSError as e:
        return X.fail(ctx, e, None, False)
    if length < 0:
        return _lay_out(ctx, lst, 0, [1, 2, 3], view[:cb], view, total, HEADER_LEN, length, events)
    end = HEADER_LEN + length  # application data, decrypted in place
    b0.BufferType, b0.cbBuffer, b0.pvBuffer = _STREAM_HEADER, HEADER_LEN, view[:HEADER_LEN]
    b1.BufferType, b1.cbBuffer, b1.pvBuffer = _DATA, length, view[HEADER_LEN:end]
    b2.BufferType, b2.cbBuffer, b2.pvBuffer = _STREAM_TRAILER, total - end, view[end:total]
    if cb > total:
        b3.BufferType, b3.cbBuffer, b3.pvBuffer = _EXTRA, cb - total, view[total:cb]
    return C.SEC_E_OK


def decrypt(ctx: Context, pMessage: object) -> SecStatus:
    bufs = B.buffers(pMessage)
    if bufs is None or len(bufs) < 4:
        return C.SEC_E_INVALID_TOKEN
    data_idx: list[int] = []
    empties: list[int] = []
    for i, b in enumerate(bufs):
        t = B.btype(b)
        if t == C.SECBUFFER_DATA:
            data_idx.append(i)
        elif t == C.SECBUFFER_EMPTY:
            empties.append(i)
    if len(data_idx) != 1 or len(empties) < 3:
        return C.SEC_E_INVALID_TOKEN
    if not ctx.may_decrypt:
        return C.SEC_E_CONTEXT_EXPIRED
    di = data_idx[0]
    dbuf = bufs[di]
    view = B.data(dbuf)
    if view is None:
        return C.SEC_E_INVALID_TOKEN
    if ctx.stash:
        return _deliver_stash(ctx, bufs, di, empties, len(view))
    try:
        n = frame(view, 0)
    except RecordHeaderError as e:
        move(ctx, Phase.FAILED)
        ctx.failure_alert = int(e.description)
        return C.SEC_E_INVALID_TOKEN
    except TLSError as e:
        return X.fail(ctx, e, None, False)
    if n < 0:
        for i in (di, empties[0]):
            bufs[i].BufferType = C.SECBUFFER_MISSING
            bufs[i].cbBuffer = -n
        return C.SEC_E_INCOMPLETE_MESSAGE
    client = ctx.client
    hl = client.read_header_len
    target = B.writable(dbuf)
    try:
        if target is not None:
            # In place, as SChannel decrypts: the content lands where the body was.
            length, events = client.receive_record_in_place(target[:n])
        else:
            length, events = -1, client.receive_record(view[:n])
    except TLSError as e:
        return X.fail(ctx, e, None, False)
    return _lay_out(ctx, bufs, di, empties, view, target, n, hl, length, events)


def _lay_out(
    ctx: Context,
    bufs: list[SecBuffer],
    di: int,
    empties: list[int],
    view: memoryview,
    target: memoryview | None,
    n: int,
    hl: int,
    length: int,
    events: list[Event],
) -> SecStatus:
    """Describe the processed record in the caller's buffers: header, content,
    trailer, then what follows (EXTRA).  ``length`` >= 0: application data
    already in place after the header; otherwise the record's ``events``."""
    status = C.SEC_E_OK
    plaintext = b""
    if length < 0:
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
        length = len(plaintext)
    if target is not None:
        if plaintext:
            target[hl : hl + length] = plaintext
        region: memoryview = target
    else:
        copy = bytearray(view)
        copy[hl : hl + length] = plaintext
        region = memoryview(copy)
    hdr, dat, trl = bufs[di], bufs[empties[0]], bufs[empties[1]]
    end = hl + length
    hdr.BufferType, hdr.cbBuffer, hdr.pvBuffer = _STREAM_HEADER, hl, region[:hl]
    dat.BufferType, dat.cbBuffer, dat.pvBuffer = _DATA, length, region[hl:end]
    trl.BufferType, trl.cbBuffer, trl.pvBuffer = _STREAM_TRAILER, n - end, region[end:n]
    if len(view) > n:
        ext = bufs[empties[2]]
        ext.BufferType, ext.cbBuffer, ext.pvBuffer = (
            C.SECBUFFER_EXTRA,
            len(view) - n,
            region[n : len(view)],
        )
    if status == C.SEC_I_RENEGOTIATE:
        # Also after our close_notify: curl drains to the peer's close_notify
        # through tickets, each needing its ISC (which then returns to SHUTDOWN).
        move(ctx, Phase.RENEGOTIATE)
    return status


def _deliver_stash(
    ctx: Context, bufs: list[SecBuffer], di: int, empties: list[int], pending: int
) -> SecStatus:
    """Return the data received during a renegotiation, all of it in one DATA buffer
    (a caller that decrypts only while it holds encrypted bytes would otherwise never
    ask for the rest); the caller's bytes all stay as EXTRA."""
    data, ctx.stash = ctx.stash, bytearray()
    hdr, dat, trl, ext = bufs[di], bufs[empties[0]], bufs[empties[1]], bufs[empties[2]]
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


def encrypt_fast(ctx: Context, desc: SecBufferDesc) -> SecStatus | None:
    """EncryptMessage(fQOP=0) for the call every stream makes: an established TLS 1.3
    context and writable byte views [STREAM_HEADER, DATA, STREAM_TRAILER, ...] that
    are large enough.  None when anything is unusual: :func:`encrypt` then decides
    (and reports) exactly as for any other layout."""
    lst = desc.pBuffers
    count = desc.cBuffers
    if type(lst) is not list or type(count) is not int or not 3 <= count <= len(lst):
        return None
    h, d, t = lst[0], lst[1], lst[2]
    if type(h) is not SecBuffer or type(d) is not SecBuffer or type(t) is not SecBuffer:
        return None
    hv, dv, tv = h.pvBuffer, d.pvBuffer, t.pvBuffer
    n = d.cbBuffer
    if (
        h.BufferType != _STREAM_HEADER
        or d.BufferType != _DATA
        or t.BufferType != _STREAM_TRAILER
        or type(hv) is not memoryview
        or type(dv) is not memoryview
        or type(tv) is not memoryview
        or hv.readonly
        or dv.readonly
        or tv.readonly
        or type(n) is not int
        or not 0 <= n <= MAX_PLAINTEXT
        or n > len(dv)
        or h.cbBuffer < 5
        or t.cbBuffer < 17
        or len(hv) < 5
        or len(tv) < 17
        or hv.format != "B"
        or dv.format != "B"
        or tv.format != "B"
        or hv.ndim != 1
        or dv.ndim != 1
        or tv.ndim != 1
        or not hv.c_contiguous
        or not dv.c_contiguous
        or not tv.c_contiguous
    ):
        return None
    client = ctx.client
    protection = client.write_protection
    if not ctx.may_encrypt or type(protection) is not Protection13:
        return None
    try:
        protection.seal_data_into(n, hv, dv, tv)
    except TLSError:
        return C.SEC_E_ENCRYPT_FAILURE
    h.cbBuffer = 5
    t.cbBuffer = 17
    return C.SEC_E_OK


def encrypt(ctx: Context, fQOP: int, pMessage: object) -> SecStatus:
    bufs = B.buffers(pMessage)
    if bufs is None:
        return C.SEC_E_INVALID_TOKEN
    di = hi = ti = -1  # the first buffer of each type
    for i, b in enumerate(bufs):
        t = B.btype(b)
        if t == C.SECBUFFER_DATA:
            if di < 0:
                di = i
        elif t == C.SECBUFFER_STREAM_HEADER:
            if hi < 0:
                hi = i
        elif t == C.SECBUFFER_STREAM_TRAILER and ti < 0:
            ti = i
    if di < 0:
        return C.SEC_E_INTERNAL_ERROR
    if hi < 0 or ti < 0:
        return C.SEC_E_INVALID_TOKEN
    if fQOP not in (0, C.SECQOP_WRAP_OOB_DATA):
        return C.SEC_E_QOP_NOT_SUPPORTED
    if not ctx.may_encrypt:
        # After either side's close_notify the context is closed for sending too
        # (SCHANNEL_BEHAVIOUR.md, checklist: EncryptMessage after close_notify).
        return C.SEC_E_CONTEXT_EXPIRED
    dbuf, hbuf, tbuf = bufs[di], bufs[hi], bufs[ti]
    cb = dbuf.cbBuffer
    if type(cb) is not int or cb < 0:
        # Not a ULONG: encrypting "nothing" would leave the plaintext in place
        # for a caller that sends header + data + trailer from one buffer.
        return C.SEC_E_INVALID_TOKEN
    plain = B.data(dbuf)
    if plain is None:
        return C.SEC_E_INVALID_TOKEN
    if len(plain) > MAX_PLAINTEXT:
        return C.SEC_E_ENCRYPT_FAILURE
    need_header, need_trailer = ctx.client.record_overhead
    if B.size(hbuf) < need_header or B.size(tbuf) < need_trailer:
        return C.SEC_E_BUFFER_TOO_SMALL
    protection = ctx.client.write_protection
    if protection is None:
        return C.SEC_E_CONTEXT_EXPIRED
    n = len(plain)
    if fQOP == 0:
        # Straight into the caller's memory when all three buffers are writable
        # and large enough (TLS 1.3 with cryptography's encrypt_into).
        hview, dview, tview = B.writable(hbuf), B.writable(dbuf), B.writable(tbuf)
        if (
            hview is not None
            and dview is not None
            and tview is not None
            and hview.nbytes >= need_header
            and dview.nbytes >= n
            and tview.nbytes >= need_trailer
        ):
            try:
                done = ctx.client.encrypt_into(plain, hview, dview, tview)
            except TLSError:
                return C.SEC_E_ENCRYPT_FAILURE
            if done:
                hbuf.cbBuffer = need_header
                dbuf.cbBuffer = n
                tbuf.cbBuffer = need_trailer
                return C.SEC_E_OK
    try:
        if fQOP == C.SECQOP_WRAP_OOB_DATA:
            if len(plain) != 2:
                return C.SEC_E_INVALID_TOKEN
            header, body = protection.seal_parts(21, bytes(plain))
        else:
            header, body = ctx.client.encrypt(plain)
    except TLSError:
        return C.SEC_E_ENCRYPT_FAILURE
    for buf, payload in ((hbuf, header), (dbuf, body[:n]), (tbuf, body[n:])):
        target = B.writable(buf)
        if target is not None and target.nbytes >= len(payload):
            target[: len(payload)] = payload
        else:
            buf.pvBuffer = bytearray(payload)
        buf.cbBuffer = len(payload)
    return C.SEC_E_OK
