"""InitializeSecurityContext's work on a context: one step function per phase.

Theory of operation
-------------------
:func:`first_call` creates the context and sends the ClientHello.  Every later
ISC comes to :func:`step`, which emits a pending control token first
(:mod:`control`) and otherwise runs the step the context's phase has in
:data:`ISC_STEPS`, the code form of the ``isc`` column of
:data:`phases.PHASES`:

* ``HANDSHAKE``: whole records from the input TOKEN go to the TLS client; a
  partial trailing record is reported as SECBUFFER_EXTRA (or, if nothing was
  complete, SEC_E_INCOMPLETE_MESSAGE with SECBUFFER_MISSING); the answer is
  SEC_I_CONTINUE_NEEDED until the server Finished, then SEC_E_OK with the
  client Finished as output and anything after it as EXTRA.
* ``NEED_CREDENTIAL``: the handshake paused on a CertificateRequest the
  credential cannot answer; the next call goes on, with the certificate of a
  new credential it offers, else with none (an empty Certificate).
* ``ESTABLISHED`` / ``RENEGOTIATE``: DecryptMessage consumed a post-handshake
  message; ISC sends what the client owes (a KeyUpdate answer, a TLS 1.2
  renegotiation ClientHello) and hands every input byte back as EXTRA.

In the :data:`WITHOUT_INPUT` phases the context already holds what it answers,
so ``pInput = NULL`` (or no buffers) is the same call with empty input.
* ``SHUTDOWN``, ``CLOSED``, ``FAILED``: nothing to do; the table's status.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from .. import constants as C
from ..constants import SecStatus
from ..tls.alerts import AlertDescription, TLSError
from ..tls.events import (
    ApplicationData,
    CredentialNeeded,
    HandshakeComplete,
    RenegotiationRefused,
)
from ..tls.record import HEADER_LEN, RecordHeaderError, frame
from . import buffers as B
from . import cache, clientcert, control, observe
from . import context as X
from .credentials import Credential
from .phases import Phase, move
from .types import SecBuffer, parse_application_protocols

if TYPE_CHECKING:
    from .context import Context

ALWAYS_RET = (
    C.ISC_RET_REPLAY_DETECT
    | C.ISC_RET_SEQUENCE_DETECT
    | C.ISC_RET_CONFIDENTIALITY
    | C.ISC_RET_STREAM
)
# Requested flags that come back as they were asked for.
ECHOED_REQ = (
    C.ISC_REQ_ALLOCATE_MEMORY
    | C.ISC_REQ_USE_SUPPLIED_CREDS
    | C.ISC_REQ_EXTENDED_ERROR
    | C.ISC_REQ_MANUAL_CRED_VALIDATION
    | C.ISC_REQ_CONNECTION
    | C.ISC_REQ_INTEGRITY
    | C.ISC_REQ_MUTUAL_AUTH
)

#: Most application data held back during one TLS 1.2 renegotiation: far more than
#: a server sends between its HelloRequest and its ServerHello; a server that goes
#: on sending instead of answering is refused rather than buffered without end.
STASH_LIMIT = 1 << 20

_EMPTY, _TOKEN = C.SECBUFFER_EMPTY, C.SECBUFFER_TOKEN


def ret_flags(req: int) -> int:
    """pfContextAttr for the requested flags."""
    return ALWAYS_RET | (req & ECHOED_REQ)


# --- buffers ------------------------------------------------------------------------


def first_call_inputs(pInput: object) -> tuple[list[bytes], int] | SecStatus:
    """ALPN list and 64-bit flags from the optional first-call input buffers."""
    if pInput is None:
        return [], 0
    bufs = B.buffers(pInput)
    if bufs is None:
        return C.SEC_E_INVALID_TOKEN
    alpn: list[bytes] = []
    flags64 = 0
    for b in bufs:
        t = B.btype(b)
        view = B.data(b)
        if t == C.SECBUFFER_APPLICATION_PROTOCOLS:
            if view is None:
                return C.SEC_E_INVALID_TOKEN
            alpn = parse_application_protocols(bytes(view)) or []
        elif t == C.SECBUFFER_FLAGS:
            if view is None or len(view) < 8:
                return C.SEC_E_INVALID_TOKEN
            flags64 = int.from_bytes(view[:8], "little")
            if flags64 & 0xFFFFFFFF:
                return C.SEC_E_INVALID_PARAMETER
    return alpn, flags64


_NO_INPUT = memoryview(b"")


def _token_input(
    pInput: object, optional: bool = False
) -> tuple[memoryview, SecBuffer | None] | SecStatus:
    """The input TOKEN's bytes and the EMPTY companion that will report EXTRA or MISSING
    (no input at all: SEC_E_INCOMPLETE_MESSAGE).  ``optional``: the context already
    holds what it must answer, so no input (NULL, no buffers, no TOKEN) is empty input."""
    if pInput is None:
        return (_NO_INPUT, None) if optional else C.SEC_E_INCOMPLETE_MESSAGE
    bufs = B.buffers(pInput)
    if not bufs:
        return (_NO_INPUT, None) if optional and bufs is not None else C.SEC_E_INVALID_TOKEN
    token: SecBuffer | None = None
    side: SecBuffer | None = None
    for b in bufs:
        t = B.btype(b)
        if t == _TOKEN and token is None:
            token = b
        elif t == _EMPTY:
            if B.size(b) or b.pvBuffer is not None:
                return C.SEC_E_INVALID_TOKEN
            if side is None:
                side = b
    if token is None:
        return (_NO_INPUT, side) if optional else C.SEC_E_INVALID_TOKEN
    view = B.data(token)
    if view is None:
        return C.SEC_E_INVALID_TOKEN
    return view, side


def _give_back(side: SecBuffer | None, view: memoryview, offset: int) -> None:
    """Report the input bytes from ``offset`` on as SECBUFFER_EXTRA."""
    if offset < len(view) and side is not None:
        side.BufferType = C.SECBUFFER_EXTRA
        side.cbBuffer = len(view) - offset
        side.pvBuffer = view[offset:]


def _ends_mid_record(view: memoryview) -> bool:
    """True if ``view`` holds whole records then a partial one (framing only, no state)."""
    offset = 0
    try:
        while offset < len(view):
            n = frame(view, offset)
            if n < 0:
                return offset > 0
            offset += n
    except TLSError:
        return False  # bad bytes: reported when the records are processed
    return False


# --- the calls ------------------------------------------------------------------------


class IscCall:
    """One ISC call's arguments, as the step functions need them."""

    __slots__ = ("pInput", "out", "tok", "allocate")

    def __init__(self, pInput: object, out: list[SecBuffer], tok: int, allocate: bool) -> None:
        self.pInput = pInput
        self.out = out
        self.tok = tok
        self.allocate = allocate


def first_call(
    cred: Credential,
    target: str | None,
    req: int,
    alpn: list[bytes],
    flags64: int,
    out: list[SecBuffer],
    tok: int,
) -> Context | SecStatus:
    """Create the context and put the ClientHello in the output token."""
    ctx = X.create(cred, target, req, alpn, flags64)
    if observe.watching():  # the observers report this call's ClientHello
        ctx.client.message_log = []
    try:
        ctx.client.start()
        delivered = B.deliver(
            out, tok, ctx.client.data_to_send(), bool(req & C.ISC_REQ_ALLOCATE_MEMORY)
        )
    except BaseException:
        ctx.release()  # no handle was made: nothing will delete it
        raise
    if not delivered:
        ctx.release()
        return C.SEC_E_INSUFFICIENT_MEMORY
    move(ctx, Phase.HANDSHAKE)
    return ctx


#: Phases whose ISC step needs no input: the context holds the message it answers
#: (RENEGOTIATE: what DecryptMessage consumed; NEED_CREDENTIAL: the paused flight).
WITHOUT_INPUT = frozenset({Phase.RENEGOTIATE, Phase.NEED_CREDENTIAL})


def no_input(ctx: Context, pOutput: object, req: int) -> SecStatus:
    """ISC with ``pInput = NULL`` and no control token pending, outside :data:`WITHOUT_INPUT`
    (the ``isc_no_input`` column)."""
    result = ctx.client.result
    if ctx.phase is Phase.ESTABLISHED and result is not None and result.version == 0x0303:
        checked = B.output_buffers(pOutput, req)
        if isinstance(checked, SecStatus):
            return checked
        out, tok = checked
        return start_renegotiation(ctx, out, tok, bool(req & C.ISC_REQ_ALLOCATE_MEMORY))
    return C.SEC_E_INCOMPLETE_MESSAGE


def step(
    ctx: Context, pInput: object, pOutput: object, req: int, offered: Credential | None
) -> SecStatus:
    """Every ISC after the first: a pending control token first, else the phase's step
    (which takes this call's flags and credential as the context's own)."""
    if (
        pInput is None
        and ctx.pending_alert is None
        and ctx.pending_key_update is None
        and ctx.phase not in WITHOUT_INPUT
    ):
        return no_input(ctx, pOutput, req)
    checked = B.output_buffers(pOutput, req)
    if isinstance(checked, SecStatus):
        return checked
    call = IscCall(pInput, checked[0], checked[1], bool(req & C.ISC_REQ_ALLOCATE_MEMORY))
    if ctx.pending_alert is not None:
        return control.alert_step(ctx, call.out, call.tok, call.allocate)
    run = ISC_STEPS[ctx.phase]
    takes_call = pInput is not None or ctx.phase in WITHOUT_INPUT
    if takes_call and run is not _failed and run is not _nothing_to_do:
        ctx.req = req
        ctx.offered_cred = offered
    return run(ctx, call)


def _failed(ctx: Context, call: IscCall) -> SecStatus:
    return ctx.failure or C.SEC_E_INTERNAL_ERROR


def _nothing_to_do(ctx: Context, call: IscCall) -> SecStatus:
    return C.SEC_E_INCOMPLETE_MESSAGE


def _need_credential(ctx: Context, call: IscCall) -> SecStatus:
    """After SEC_I_INCOMPLETE_CREDENTIALS: go on, with the certificate of a credential
    this call offers, else with none (an empty Certificate), whatever the flags; the
    input is the same flight again, what followed it, or nothing."""
    parsed = _token_input(call.pInput, optional=True)
    if isinstance(parsed, SecStatus):
        return parsed
    view, side = parsed
    credential = clientcert.resolve_credential(ctx)
    try:
        events = list(ctx.client.provide_credential(credential))
    except TLSError as e:
        call.out[call.tok].cbBuffer = 0
        return X.fail(ctx, e, call.out, call.allocate)
    move(ctx, Phase.HANDSHAKE)
    start = 0
    prefix, ctx.paused_prefix = ctx.paused_prefix, b""
    if prefix and bytes(view[: len(prefix)]) == prefix:
        start = len(prefix)  # the identical input again: skip what was consumed
    return _records(ctx, call, view, side, start, events, resumed=True)


def _handshake(ctx: Context, call: IscCall) -> SecStatus:
    """Feed the input TOKEN's whole records to the TLS client."""
    parsed = _token_input(call.pInput)
    if isinstance(parsed, SecStatus):
        return parsed
    view, side = parsed
    return _records(ctx, call, view, side, 0, [])


def _records(
    ctx: Context,
    call: IscCall,
    view: memoryview,
    side: SecBuffer | None,
    start: int,
    resumed_events: Sequence[object],
    resumed: bool = False,
) -> SecStatus:
    """Feed whole records from ``view[start:]``; ``resumed``: a paused handshake went on
    this call (with ``resumed_events``), so no input is no reason to wait."""

    out, tok, allocate = call.out, call.tok, call.allocate
    if side is None and _ends_mid_record(view):
        # Nowhere to report the unconsumed tail (EXTRA needs the EMPTY
        # companion): a layout error, refused before any record is consumed.
        return C.SEC_E_INVALID_TOKEN
    client = ctx.client
    offset = start
    observed = observe.watching()  # what this leg received is reported, not kept
    if observed:
        ctx.received = (start, start)
    total = len(view)
    complete = any(isinstance(e, HandshakeComplete) for e in resumed_events)
    refused = False
    try:
        while offset < total and not complete:
            try:
                n = frame(view, offset)
            except RecordHeaderError as e:
                out[tok].cbBuffer = 0
                return X.fail(ctx, e, out, allocate, C.SEC_E_INVALID_TOKEN)
            if n < 0:
                if offset == 0 and not resumed:
                    if side is not None:
                        side.BufferType = C.SECBUFFER_MISSING
                        side.cbBuffer = -n
                    return C.SEC_E_INCOMPLETE_MESSAGE
                break
            events = client.receive_record(view[offset : offset + n])
            offset += n
            if observed:
                ctx.received = (start, offset)
            if not events:
                continue
            kinds = {type(e) for e in events}
            if ApplicationData in kinds:
                for event in events:
                    if isinstance(event, ApplicationData):
                        ctx.stash += event.data
                if len(ctx.stash) > STASH_LIMIT:
                    raise TLSError(
                        AlertDescription.unexpected_message,
                        "too much application data during a renegotiation",
                    )
            if RenegotiationRefused in kinds:
                refused = True
                break
            complete = HandshakeComplete in kinds
            if CredentialNeeded in kinds:
                # Windows returns this consuming nothing: the caller re-feeds the same bytes.
                ctx.paused_prefix = bytes(view[:offset])
                out[tok].cbBuffer = 0
                move(ctx, Phase.NEED_CREDENTIAL)
                return C.SEC_I_INCOMPLETE_CREDENTIALS
        if total == 0 and not resumed:
            if side is not None:
                side.BufferType = C.SECBUFFER_MISSING
                side.cbBuffer = HEADER_LEN
            return C.SEC_E_INCOMPLETE_MESSAGE
    except TLSError as e:
        out[tok].cbBuffer = 0
        return X.fail(ctx, e, out, allocate)
    if offset < total:
        if side is None:
            # Nowhere to report unconsumed bytes: Windows needs the EMPTY companion.
            return X.fail_with(ctx, C.SEC_E_INVALID_TOKEN)
        _give_back(side, view, offset)
    if not B.deliver(out, tok, client.data_to_send(), allocate):
        return X.fail_with(ctx, C.SEC_E_INSUFFICIENT_MEMORY)
    if refused:
        move(ctx, Phase.ESTABLISHED)
        return C.SEC_I_NO_RENEGOTIATION
    if complete:
        move(ctx, Phase.CLOSED if client.peer_closed else Phase.ESTABLISHED)
        cache.remember_sessions(ctx, X.clock())
        return C.SEC_E_OK
    return C.SEC_I_CONTINUE_NEEDED


def _post_handshake(ctx: Context, call: IscCall) -> SecStatus:
    """ESTABLISHED or RENEGOTIATE: answer what DecryptMessage consumed, give the input back
    (in RENEGOTIATE the input is optional: the context holds the message)."""
    renegotiate = ctx.phase is Phase.RENEGOTIATE
    if call.pInput is None and not renegotiate:  # only a KeyUpdate token brings us here
        return control.key_update_step(ctx, call.out, call.tok, call.allocate)
    parsed = _token_input(call.pInput, optional=renegotiate)
    if isinstance(parsed, SecStatus):
        return parsed
    view, side = parsed
    client = ctx.client
    out, tok, allocate = call.out, call.tok, call.allocate
    if client.awaiting_credential:
        # A TLS 1.3 post-handshake CertificateRequest the credential cannot answer:
        # SEC_I_INCOMPLETE_CREDENTIALS once, unless this call offers a certificate or
        # USE_SUPPLIED_CREDS; the next call answers, as during the handshake.
        if not (ctx.asked_for_credential or clientcert.answer_now(ctx)):
            ctx.asked_for_credential = True
            out[tok].cbBuffer = 0
            return C.SEC_I_INCOMPLETE_CREDENTIALS
        ctx.asked_for_credential = False
        credential = clientcert.resolve_credential(ctx)
        try:
            client.provide_credential(credential)
        except TLSError as e:
            out[tok].cbBuffer = 0
            return X.fail(ctx, e, out, allocate)
    if client.renegotiation_requested and not client.local_closed:
        # TLS 1.2 HelloRequest: run a secure renegotiation through this ISC loop.
        try:
            client.renegotiate()
        except TLSError as e:
            return X.fail(ctx, e, out, allocate)
        move(ctx, Phase.HANDSHAKE)
        if len(view) == 0:
            if not B.deliver(out, tok, client.data_to_send(), allocate):
                return C.SEC_E_INSUFFICIENT_MEMORY
            return C.SEC_I_CONTINUE_NEEDED
        return _records(ctx, call, view, side, 0, [])
    failed = control.queue_key_update(ctx, out, allocate)
    if failed is not None:
        return failed
    pending = client.data_to_send()
    if client.local_closed:
        pending = b""  # nothing may follow our close_notify
    if not B.deliver(out, tok, pending, allocate):
        return C.SEC_E_INSUFFICIENT_MEMORY
    move(ctx, Phase.SHUTDOWN if client.local_closed else Phase.ESTABLISHED)
    cache.remember_sessions(ctx, X.clock())
    _give_back(side, view, 0)
    return C.SEC_E_OK


#: The ``isc`` column of :data:`phases.PHASES` (NEW has :func:`first_call`).
ISC_STEPS: Mapping[Phase, Callable[[Context, IscCall], SecStatus]] = {
    Phase.HANDSHAKE: _handshake,
    Phase.NEED_CREDENTIAL: _need_credential,
    Phase.ESTABLISHED: _post_handshake,
    Phase.RENEGOTIATE: _post_handshake,
    Phase.SHUTDOWN: _nothing_to_do,
    Phase.CLOSED: _nothing_to_do,
    Phase.FAILED: _failed,
}


def start_renegotiation(ctx: Context, out: list[SecBuffer], tok: int, allocate: bool) -> SecStatus:
    """Client-initiated TLS 1.2 renegotiation: a new ClientHello under the current keys."""
    try:
        ctx.client.renegotiate()
    except TLSError as e:
        return X.fail(ctx, e, out, allocate)
    move(ctx, Phase.HANDSHAKE)
    if not B.deliver(out, tok, ctx.client.data_to_send(), allocate):
        return C.SEC_E_INSUFFICIENT_MEMORY
    return C.SEC_I_CONTINUE_NEEDED
