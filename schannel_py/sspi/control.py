"""ApplyControlToken: what each control token asks for, and the ISC that carries it out.

The tokens' wire formats are packed and parsed in :mod:`types`
(``pack_*_token``, :func:`~schannel_py.sspi.types.parse_control_token`).
SCHANNEL_SHUTDOWN and SCHANNEL_ALERT queue an alert that the next ISC emits
(:func:`alert_step`), in whatever phase the context is; SCHANNEL_SESSION
switches session caching off or on at once; the schannel_py KeyUpdate token
queues a KeyUpdate that the next ISC emits (:func:`key_update_step`), under the
old key, before the write direction moves to the new one.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from .. import constants as C
from ..constants import SecStatus
from ..tls.alerts import TLSError
from . import buffers as B
from . import cache
from . import context as X
from .phases import Phase, move
from .types import SecBuffer, parse_control_token

if TYPE_CHECKING:
    from .context import Context


#: Phases an alert token leaves as they are: the failure stands, a pending ISC
#: (RENEGOTIATE) returns to SHUTDOWN on its own, and a closed context stays closed.
_KEEP_PHASE = (Phase.FAILED, Phase.RENEGOTIATE, Phase.SHUTDOWN, Phase.CLOSED)


def apply(ctx: Context, view: memoryview) -> SecStatus:
    """ApplyControlToken's input token (already known to be one TOKEN buffer)."""
    parsed = parse_control_token(view)
    if parsed is None:
        return C.SEC_E_UNSUPPORTED_FUNCTION
    token, first, second = parsed
    if token == C.SCHANNEL_SHUTDOWN:
        ctx.pending_alert = (C.TLS1_ALERT_WARNING, C.TLS1_ALERT_CLOSE_NOTIFY)
        return C.SEC_E_OK
    if token == C.SCHANNEL_ALERT:
        if second < 0:
            return C.SEC_E_INVALID_TOKEN
        if first not in (C.TLS1_ALERT_WARNING, C.TLS1_ALERT_FATAL) or second > 255:
            return C.SEC_E_INVALID_TOKEN
        ctx.pending_alert = (first, second)
        return C.SEC_E_OK
    if token == C.SCHANNEL_SESSION:
        if first < 0:
            return C.SEC_E_INVALID_TOKEN
        if first & C.SSL_SESSION_DISABLE_RECONNECTS:
            cache.set_reconnects(ctx, False, X.clock())
        elif first & C.SSL_SESSION_ENABLE_RECONNECTS:
            cache.set_reconnects(ctx, True, X.clock())
        return C.SEC_E_OK
    if token == C.SCHANNEL_PY_KEY_UPDATE:
        if first < 0:
            return C.SEC_E_INVALID_TOKEN
        if first not in (
            C.SCHANNEL_PY_KEY_UPDATE_NOT_REQUESTED,
            C.SCHANNEL_PY_KEY_UPDATE_REQUESTED,
        ):
            return C.SEC_E_INVALID_PARAMETER
        return request_key_update(ctx, bool(first))
    return C.SEC_E_UNSUPPORTED_FUNCTION


def alert_step(ctx: Context, out: list[SecBuffer], tok: int, allocate: bool) -> SecStatus:
    """ISC after ApplyControlToken SHUTDOWN or ALERT: emit the pending alert record."""
    assert ctx.pending_alert is not None
    level, desc = ctx.pending_alert
    client = ctx.client
    if client.write_protection is not None and (
        ctx.phase in (Phase.ESTABLISHED, Phase.RENEGOTIATE, Phase.SHUTDOWN, Phase.CLOSED)
        or client.handshake_complete  # failed after the handshake (e.g. in DecryptMessage)
    ):
        record = client.alert_record(desc, level)
    else:
        record = struct.pack(">BHHBB", 21, 0x0301, 2, level, desc)
    if not B.deliver(out, tok, record, allocate):
        return C.SEC_E_INSUFFICIENT_MEMORY
    ctx.pending_alert = None
    ctx.pending_key_update = None  # nothing may follow the alert
    client.local_closed = True
    if ctx.phase not in _KEEP_PHASE:
        # Reads go on after an established connection's close; an abandoned
        # handshake has nothing left to read.
        move(ctx, Phase.SHUTDOWN if client.handshake_complete else Phase.CLOSED)
    return C.SEC_E_OK


def request_key_update(ctx: Context, requested: bool) -> SecStatus:
    """ApplyControlToken(SCHANNEL_PY_KEY_UPDATE): the next ISC sends a KeyUpdate."""
    client = ctx.client
    if client.version == 0x0303:
        return C.SEC_E_UNSUPPORTED_FUNCTION  # TLS 1.2 has no KeyUpdate
    if ctx.phase is not Phase.ESTABLISHED or client.local_closed or client.version != 0x0304:
        return C.SEC_E_CONTEXT_EXPIRED  # as EncryptMessage: no application write key
    ctx.pending_key_update = bool(ctx.pending_key_update) or requested
    return C.SEC_E_OK


def queue_key_update(ctx: Context, out: list[SecBuffer], allocate: bool) -> SecStatus | None:
    """Queue the pending KeyUpdate in the client (sent by this ISC's output); a failure status."""
    requested, ctx.pending_key_update = ctx.pending_key_update, None
    if requested is None:
        return None
    try:
        ctx.client.key_update(requested)
    except TLSError as e:
        return X.fail(ctx, e, out, allocate)
    return None


def key_update_step(ctx: Context, out: list[SecBuffer], tok: int, allocate: bool) -> SecStatus:
    """ISC with no input after the KeyUpdate token: emit the record(s) the client owes."""
    failed = queue_key_update(ctx, out, allocate)
    if failed is not None:
        return failed
    if not B.deliver(out, tok, ctx.client.data_to_send(), allocate):
        return C.SEC_E_INSUFFICIENT_MEMORY
    return C.SEC_E_OK
