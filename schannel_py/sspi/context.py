"""Security contexts: InitializeSecurityContext, Encrypt/DecryptMessage, control tokens.

Theory of operation
-------------------
A :class:`Context` wraps one :class:`~schannel_py.tls.client.TLSClient` and
keeps the SSPI-visible state around it:

* ``HANDSHAKE``: ISC feeds whole records from the input TOKEN to the client,
  reports a partial trailing record as SECBUFFER_EXTRA (or, if nothing was
  complete, SEC_E_INCOMPLETE_MESSAGE with SECBUFFER_MISSING), and returns
  SEC_I_CONTINUE_NEEDED until the server Finished, then SEC_E_OK with the
  client Finished as output and anything after it as EXTRA.
* ``ESTABLISHED``: DecryptMessage opens one record per call.  A post-handshake
  handshake message (NewSessionTicket, KeyUpdate) makes it return
  SEC_I_RENEGOTIATE and moves to ``RENEGOTIATE``, where Encrypt/Decrypt fail
  with SEC_E_CONTEXT_EXPIRED until the caller runs ISC with the leftover bytes
  (possibly none).  That ISC sends what the client owes (a KeyUpdate answer),
  hands every input byte back as EXTRA, and returns SEC_E_OK.  A TLS 1.2
  HelloRequest under SECPKG_ATTR_PY_RENEGOTIATION_POLICY IGNORE is dropped
  instead (SEC_E_OK, no data, no phase change).
* A control token (ApplyControlToken SHUTDOWN or ALERT) is pending until the
  next ISC, which emits the alert record and returns SEC_E_OK.  The
  schannel_py KeyUpdate token likewise: the next ISC emits the KeyUpdate record
  (under the old key) and moves the write direction to the new key.
* The application's verify callback (SECPKG_ATTR_PY_VERIFY_CALLBACK) runs inside
  the certificate check ISC makes when the server's Certificate arrives (and, if
  asked, on resumption); a rejection is a TLS failure like any other, so its
  alert is protected with whatever keys the client writes with at that point.
* ``FAILED``: any TLS failure; the alert to send goes into the SECBUFFER_ALERT
  output buffer and the status follows :mod:`errors`.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import ipaddress
import logging
import os
import struct
import threading
import time
from collections.abc import Callable

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from .. import constants as C
from .. import crypt32
from ..constants import SecStatus
from ..crypt32 import CERT_CONTEXT
from ..tls import groups as G
from ..tls.alerts import AlertDescription, TLSError
from ..tls.client import ClientConfig, ClientCredential, TLSClient
from ..tls.clientauth import PAUSE, CertificateRequestInfo
from ..tls.events import (
    ApplicationData,
    CertificateRequested,
    CloseNotify,
    CredentialNeeded,
    Event,
    HandshakeComplete,
    KeyUpdated,
    RenegotiationRefused,
    RenegotiationRequested,
    TicketReceived,
)
from ..tls.handshake_base import StateEnum
from ..tls.record import HEADER_LEN, MAX_PLAINTEXT, Protection13, RecordHeaderError, frame
from ..tls.session import Session12, Ticket13
from . import buffers as B
from . import cache, clientcert
from .credentials import Credential
from .errors import status_for_error
from .handles import HandleTable
from .types import (
    SecBuffer,
    SecBufferDesc,
    SecPkgContext_ApplicationProtocol,
    SecPkgContext_Bindings,
    SecPkgContext_CipherInfo,
    SecPkgContext_ConnectionInfo,
    SecPkgContext_Flags,
    SecPkgContext_IssuerListInfoEx,
    SecPkgContext_KeyInfo,
    SecPkgContext_KeyingMaterial,
    SecPkgContext_KeyingMaterialInfo,
    SecPkgContext_PyHandshakeInfo,
    SecPkgContext_PyRenegotiationPolicy,
    SecPkgContext_PyVerifyCallback,
    SecPkgContext_SessionInfo,
    SecPkgContext_StreamSizes,
    pack_channel_bindings,
    parse_application_protocols,
)

# There is no CALG for ChaCha20 in wincrypt.h; msquic uses this private value.
CALG_CHACHA20_POLY1305 = 0x6612
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


class Phase(StateEnum):
    HANDSHAKE = "handshake"
    ESTABLISHED = "established"
    RENEGOTIATE = "renegotiate"
    CLOSED = "closed"
    FAILED = "failed"


class Context:
    """Package state behind one CtxtHandle.

    Immutable starting values live on the class (as in TLSClient): one is
    created per handshake, inside the first ISC call.
    """

    phase: Phase = Phase.HANDSHAKE
    pending_alert: tuple[int, int] | None = None  # (level, description) from a control token
    pending_key_update: bool | None = None  # KeyUpdate token: update_requested?
    # SECPKG_ATTR_PY_VERIFY_CALLBACK: the application's check, and whether it
    # also runs on resumed handshakes.
    verify_callback: Callable[[CERT_CONTEXT], object] | None = None
    verify_on_resumption: bool = False
    in_callback: bool = False  # the verify callback is running (no re-entrant ISC)
    failure: SecStatus | None = None
    # The fatal alert TLS prescribes for a failure the package detected itself
    # (None when the peer's alert ended the connection, or nothing failed):
    # SECPKG_ATTR_PY_HANDSHAKE_INFO reports it, for the caller of a failed
    # DecryptMessage, which has no ALERT output buffer.
    failure_alert: int | None = None
    validation_error: SecStatus | None = None
    reconnects: bool = True  # SCHANNEL_SESSION token: may this session be cached?
    local_cert: CERT_CONTEXT | None = None  # the client certificate we use
    paused_prefix: bytes = b""  # input consumed before SEC_I_INCOMPLETE_CREDENTIALS
    offered_cred: Credential | None = None  # phCredential of the current ISC call
    keying_material_info: tuple[bytes, bytes | None, int] | None = None  # (label, context, length)

    def __init__(
        self,
        cred: Credential,
        target: str | None,
        req: int,
        client: TLSClient,
        flags64: int = 0,
        cache_key: cache.CacheKey = ("", 0, None, 0),
    ) -> None:
        self.cred = cred
        self.target = target
        self.req = req
        self.client = client
        self.flags64 = flags64
        self.cache_key = cache_key
        self.cached: list[Ticket13 | Session12] = []
        # Application data that arrived inside a TLS 1.2 renegotiation (through ISC);
        # DecryptMessage hands it out before reading new records.
        self.stash = bytearray()
        # Re-entrant: the verify callback runs under it and may call back into the package.
        self.lock = threading.RLock()

    def release(self) -> None:
        """Drop the references that close a cycle through this context (the
        callbacks :func:`create` installs close over it; the TLS client's own
        links are broken by its release), so DeleteSecurityContext frees the
        connection and its secrets by reference counting.  Not from inside the
        verify callback: the handshake that called it still runs, and the cyclic
        collector frees that context instead."""
        with self.lock:
            if self.in_callback:
                return
            config = self.client.config
            config.choose_credential = None
            config.verify_certificate = None
            config.verify_resumed_certificate = None
            self.client.release()


CONTEXTS: HandleTable[Context] = HandleTable(0x53434358)  # "SCCX"
log = logging.getLogger("schannel_py.sspi.context")

#: Most application data held back during one TLS 1.2 renegotiation: far more than
#: a server sends between its HelloRequest and its ServerHello; a server that goes
#: on sending instead of answering is refused rather than buffered without end.
STASH_LIMIT = 1 << 20

#: Buffer types read on every record (module constants: cheaper than C.X lookups).
_EMPTY, _DATA, _EXTRA = C.SECBUFFER_EMPTY, C.SECBUFFER_DATA, C.SECBUFFER_EXTRA
_TOKEN, _ALERT = C.SECBUFFER_TOKEN, C.SECBUFFER_ALERT
_STREAM_HEADER, _STREAM_TRAILER = C.SECBUFFER_STREAM_HEADER, C.SECBUFFER_STREAM_TRAILER
#: Phase.ESTABLISHED for the per-record paths (an Enum member lookup costs ~60 ns
#: on Python 3.11, a module global a few).
_ESTABLISHED = Phase.ESTABLISHED


def _now() -> float:
    return time.time()


# --- helpers --------------------------------------------------------------------


def server_name_for(target: str | None) -> str | None:
    """SNI for a target name: none for an empty name or an IP literal."""
    if not target:
        return None
    if type(target) is not str:  # e.g. a str subclass: not cached
        return _server_name_for(target)
    return _cached_server_name_for(target)


def _server_name_for(target: str) -> str | None:
    host = target.strip("[]")
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    try:
        host.encode("ascii")
    except UnicodeEncodeError:
        try:
            return host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return host


#: A pure function of the name; applications connect to the same few hosts.
_cached_server_name_for = functools.lru_cache(maxsize=256)(_server_name_for)


def ret_flags(req: int) -> int:
    return ALWAYS_RET | (req & ECHOED_REQ)


def _validator(ctx: Context, target: str | None, manual: bool) -> Callable[[list[bytes]], None]:
    """The certificate check ISC runs when the server's Certificate arrives:
    the package's validation (unless manual), then the application's callback."""

    def check(chain: list[bytes]) -> None:
        if not manual:
            now = datetime.datetime.fromtimestamp(ctx.client.now(), datetime.timezone.utc)
            check_name = not (ctx.cred.flags & C.SCH_CRED_NO_SERVERNAME_CHECK)
            status = crypt32.verify_server_chain(chain, target, now, check_name=check_name)
            if status != C.SEC_E_OK:
                ctx.validation_error = SecStatus(status)
                raise TLSError(
                    crypt32.status_to_alert(status),
                    f"certificate rejected: {SecStatus(status)!r}",
                    cause=int(status),
                )
        if ctx.verify_callback is not None:
            run_verify_callback(ctx, chain)

    return check


def _reverifier(ctx: Context) -> Callable[[list[bytes]], None]:
    """The check on a resumed handshake: the callback, if it asked for resumptions."""

    def check(chain: list[bytes]) -> None:
        if ctx.verify_callback is not None and ctx.verify_on_resumption:
            run_verify_callback(ctx, chain)

    return check


def _callback_verdict(result: object) -> tuple[SecStatus, int | None] | None:
    """(status, alert or None) from what a verify callback returned; None if malformed."""
    alert: object = None
    if isinstance(result, tuple):
        if len(result) != 2:
            return None
        result, alert = result
    if not isinstance(result, int) or isinstance(result, bool):
        return None
    if alert is not None and (
        not isinstance(alert, int) or isinstance(alert, bool) or not 0 <= alert <= 255
    ):
        return None
    try:
        status = SecStatus(result)
    except (ValueError, TypeError, OverflowError):
        return None
    if status != C.SEC_E_OK and not status.failed:
        return None  # a success code other than SEC_E_OK cannot fail ISC
    return status, (int(alert) if alert is not None else None)


def run_verify_callback(ctx: Context, chain: list[bytes]) -> None:
    """Call the application's verify callback; raise TLSError if it rejects the server.

    A rejection fails ISC with the callback's status and its alert (by default the
    one ``crypt32.status_to_alert`` gives); an exception or a malformed answer is
    SEC_E_INTERNAL_ERROR with internal_error.
    """
    callback = ctx.verify_callback
    if callback is None:
        return
    verdict: tuple[SecStatus, int | None] | None = None
    leaf = crypt32.chain_context(chain)
    if leaf is not None:
        ctx.in_callback = True
        try:
            verdict = _callback_verdict(callback(leaf))
        except Exception:
            log.debug("verify callback raised", exc_info=True)
        finally:
            ctx.in_callback = False
    if verdict is None:
        raise TLSError(
            AlertDescription.internal_error,
            "verify callback failed",
            cause=int(C.SEC_E_INTERNAL_ERROR),
        )
    status, alert = verdict
    if status == C.SEC_E_OK:
        return
    raise TLSError(
        alert if alert is not None else crypt32.status_to_alert(status),
        f"verify callback rejected the certificate: {status!r}",
        cause=int(status),
    )


def _config(cred: Credential, target: str | None, req: int, alpn: list[bytes]) -> ClientConfig:
    """Groups and key shares: hybrids only when TLS 1.3 is offered (SCHANNEL_CRED never
    is); shares for the first hybrid and the preferred classical group (x25519 if
    enabled), so a classical-only server needs no HelloRetryRequest."""
    versions = cred.versions
    groups, shares = _groups_and_shares(cred.groups, 0x0304 in versions)
    return ClientConfig(
        server_name=server_name_for(target),
        alpn=alpn,
        versions=versions,
        cipher_suites=cred.cipher_suites,
        groups=groups,
        key_share_groups=shares,
        signature_schemes=cred.signature_schemes,
    )


@functools.lru_cache(maxsize=64)
def _groups_and_shares(
    groups: tuple[int, ...], tls13: bool
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(groups offered, groups given a key share): a pure function of the credential."""
    if not tls13:
        groups = tuple(g for g in groups if g not in G.HYBRIDS)
    classical = [g for g in groups if g not in G.HYBRIDS]
    hybrids = [g for g in groups if g in G.HYBRIDS]
    shares = tuple(hybrids[:1]) + ((G.X25519,) if G.X25519 in classical else tuple(classical[:1]))
    return groups, shares


# Injected sources for new contexts; tests replace these to make runs deterministic.
random_source: Callable[[int], bytes] = os.urandom
clock: Callable[[], float] = _now


def create(
    cred: Credential, target: str | None, req: int, alpn: list[bytes], flags64: int
) -> Context:
    config = _config(cred, target, req, alpn)
    key = cache.make_key(target, cred.logon, cred.handle_id)
    reuse = bool(flags64 & C.ISC_REQ_REUSE_SESSION_TICKETS)
    config.resume_ticket, config.resume_session12 = cache.CACHE.lookup(
        key, clock(), reuse_tickets=reuse
    )
    config.client_credential = clientcert.credential_from(cred.certificate, cred.signature_schemes)
    config.post_handshake_auth = not flags64 & C.ISC_REQ_NO_POST_HANDSHAKE_AUTH
    client = TLSClient(config, random_source, clock)
    ctx = Context(cred=cred, target=target, req=req, client=client, flags64=flags64, cache_key=key)
    if config.client_credential is not None:
        ctx.local_cert = cred.certificate
    config.choose_credential = _chooser(ctx)
    manual = bool(req & C.ISC_REQ_MANUAL_CRED_VALIDATION) or cred.manual_validation
    config.verify_certificate = _validator(ctx, target, manual)
    config.verify_resumed_certificate = _reverifier(ctx)
    return ctx


def _chooser(ctx: Context) -> Callable[[CertificateRequestInfo], object]:
    """SChannel's choice when the server asks for a certificate and the credential has none."""

    def choose(info: CertificateRequestInfo) -> object:
        if ctx.req & C.ISC_REQ_USE_SUPPLIED_CREDS:
            return None  # the caller said: use what was supplied (nothing)
        if not ctx.cred.flags & C.SCH_CRED_NO_DEFAULT_CREDS:
            found = clientcert.auto_select(info.authorities, clock())
            credential = clientcert.credential_from(found, ctx.cred.signature_schemes)
            if credential is not None:
                ctx.local_cert = found
                return credential
        return PAUSE  # SEC_I_INCOMPLETE_CREDENTIALS

    return choose


def _resolve_credential(ctx: Context) -> tuple[bool, ClientCredential | None]:
    """After SEC_I_INCOMPLETE_CREDENTIALS: a new credential with a certificate, or USE_SUPPLIED_CREDS."""
    offered = ctx.offered_cred
    if offered is not None and offered is not ctx.cred and offered.certificate is not None:
        credential = clientcert.credential_from(offered.certificate, offered.signature_schemes)
        if credential is not None:
            ctx.cred = offered
            ctx.local_cert = offered.certificate
            return True, credential
    if ctx.req & C.ISC_REQ_USE_SUPPLIED_CREDS:
        return True, None
    return False, None


def alert_output(ctx: Context, out: list[SecBuffer], allocate: bool, description: int) -> None:
    """Put the fatal alert record for a failure into the ALERT output buffer."""
    i = B.find(out, C.SECBUFFER_ALERT)
    if i < 0:
        return
    try:
        record = ctx.client.alert_record(description)
    except Exception:
        return
    B.put_output(out[i], record, allocate)


def fail(
    ctx: Context,
    err: TLSError,
    out: list[SecBuffer] | None,
    allocate: bool,
    status: SecStatus | None = None,
) -> SecStatus:
    """Record a TLS failure on the context and produce its status (and alert).
    ``status`` overrides the one the error maps to (a record header that cannot
    start a record is SEC_E_INVALID_TOKEN, whatever its alert)."""
    ctx.phase = Phase.FAILED
    if status is None:
        status = status_for_error(err)
    ctx.failure = status
    ctx.failure_alert = None if err.remote else int(err.description)
    if out is not None and not err.remote:
        alert_output(ctx, out, allocate, err.description)
    return status


# --- InitializeSecurityContext ------------------------------------------------------


def output_buffers(pOutput: object, req: int) -> tuple[list[SecBuffer], int] | SecStatus:
    """Validate the output descriptor: (buffers, index of the token buffer)."""
    out = B.buffers(pOutput)
    if not out:
        return C.SEC_E_INVALID_TOKEN
    tok = -1
    unsized = False  # a TOKEN or ALERT buffer without memory, and nothing allocated
    allocate = req & C.ISC_REQ_ALLOCATE_MEMORY
    for i, b in enumerate(out):
        t = B.btype(b)
        if t == _TOKEN or t == _EMPTY:
            if tok < 0:
                tok = i
        elif t != _ALERT:
            continue
        if not allocate and t != _EMPTY and B.size(b) == 0:
            unsized = True
    if tok < 0:
        return C.SEC_E_INVALID_TOKEN
    if unsized:
        return C.SEC_E_INSUFFICIENT_MEMORY
    return out, tok


def deliver(out: list[SecBuffer], tok: int, payload: bytes, allocate: bool) -> bool:
    """Write the token, retyping an EMPTY output buffer to TOKEN; clear the ALERT buffer."""
    buf = out[tok]
    if not B.put_output(buf, payload, allocate):
        buf.cbBuffer = 0
        return False
    buf.BufferType = _TOKEN
    for b in out:
        if B.btype(b) == _ALERT:
            b.cbBuffer = 0
    return True


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


def handshake_step(
    ctx: Context, pInput: object, out: list[SecBuffer], tok: int, allocate: bool
) -> SecStatus:
    """One ISC call during the handshake (or after SEC_I_RENEGOTIATE)."""
    if pInput is None:
        return C.SEC_E_INCOMPLETE_MESSAGE
    bufs = B.buffers(pInput)
    if not bufs:
        return C.SEC_E_INVALID_TOKEN
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
        return C.SEC_E_INVALID_TOKEN
    view = B.data(token)
    if view is None:
        return C.SEC_E_INVALID_TOKEN

    client = ctx.client
    start = 0
    resumed_events: list[object] = []
    if client.awaiting_credential:
        ready, credential = _resolve_credential(ctx)
        if not ready:
            out[tok].cbBuffer = 0
            return C.SEC_I_INCOMPLETE_CREDENTIALS
        try:
            resumed_events = list(ctx.client.provide_credential(credential))
        except TLSError as e:
            out[tok].cbBuffer = 0
            return fail(ctx, e, out, allocate)
        prefix, ctx.paused_prefix = ctx.paused_prefix, b""
        if prefix and bytes(view[: len(prefix)]) == prefix:
            start = len(prefix)  # the identical input again: skip what was consumed

    if (
        ctx.phase in (Phase.RENEGOTIATE, Phase.ESTABLISHED)
        and ctx.client.renegotiation_requested
        and not ctx.client.local_closed
    ):
        # TLS 1.2 HelloRequest: run a secure renegotiation through this ISC loop.
        try:
            ctx.client.renegotiate()
        except TLSError as e:
            return fail(ctx, e, out, allocate)
        ctx.phase = Phase.HANDSHAKE
        if len(view) == 0:
            if not deliver(out, tok, ctx.client.data_to_send(), allocate):
                return C.SEC_E_INSUFFICIENT_MEMORY
            return C.SEC_I_CONTINUE_NEEDED

    if ctx.phase in (Phase.RENEGOTIATE, Phase.ESTABLISHED):
        # The post-handshake message was consumed by DecryptMessage; send what
        # the client owes (and a KeyUpdate asked for by control token) and give
        # every input byte back for DecryptMessage.
        failed = queue_key_update(ctx, out, allocate)
        if failed is not None:
            return failed
        pending = ctx.client.data_to_send()
        if ctx.client.local_closed:
            pending = b""  # nothing may follow our close_notify
        if not deliver(out, tok, pending, allocate):
            return C.SEC_E_INSUFFICIENT_MEMORY
        ctx.phase = Phase.CLOSED if ctx.client.local_closed else Phase.ESTABLISHED
        remember_sessions(ctx)
        if len(view) and side is not None:
            side.BufferType = C.SECBUFFER_EXTRA
            side.cbBuffer = len(view)
            side.pvBuffer = view
        return C.SEC_E_OK

    if side is None and _ends_mid_record(view):
        # Nowhere to report the unconsumed tail (EXTRA needs the EMPTY
        # companion): a layout error, refused before any record is consumed.
        return C.SEC_E_INVALID_TOKEN

    offset = start
    total = len(view)
    complete = any(isinstance(e, HandshakeComplete) for e in resumed_events)
    refused = False
    try:
        while offset < total and not complete:
            try:
                n = frame(view, offset)
            except RecordHeaderError as e:
                out[tok].cbBuffer = 0
                return fail(ctx, e, out, allocate, C.SEC_E_INVALID_TOKEN)
            if n < 0:
                if offset == 0 and not resumed_events:
                    if side is not None:
                        side.BufferType = C.SECBUFFER_MISSING
                        side.cbBuffer = -n
                    return C.SEC_E_INCOMPLETE_MESSAGE
                break
            events = client.receive_record(view[offset : offset + n])
            offset += n
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
                return C.SEC_I_INCOMPLETE_CREDENTIALS
        if total == 0 and not resumed_events:
            if side is not None:
                side.BufferType = C.SECBUFFER_MISSING
                side.cbBuffer = HEADER_LEN
            return C.SEC_E_INCOMPLETE_MESSAGE
    except TLSError as e:
        out[tok].cbBuffer = 0
        return fail(ctx, e, out, allocate)
    if offset < total:
        if side is None:
            # Nowhere to report unconsumed bytes: Windows needs the EMPTY companion.
            ctx.phase = Phase.FAILED
            ctx.failure = C.SEC_E_INVALID_TOKEN
            return C.SEC_E_INVALID_TOKEN
        side.BufferType = C.SECBUFFER_EXTRA
        side.cbBuffer = total - offset
        side.pvBuffer = view[offset:]
    if not deliver(out, tok, ctx.client.data_to_send(), allocate):
        ctx.phase = Phase.FAILED
        ctx.failure = C.SEC_E_INSUFFICIENT_MEMORY
        return C.SEC_E_INSUFFICIENT_MEMORY
    if refused:
        ctx.phase = Phase.ESTABLISHED
        return C.SEC_I_NO_RENEGOTIATION
    if complete:
        ctx.phase = Phase.ESTABLISHED
        remember_sessions(ctx)
        return C.SEC_E_OK
    return C.SEC_I_CONTINUE_NEEDED


def set_attribute(ctx: Context, attr: int, pBuffer: object) -> SecStatus:
    """SetContextAttributes: KEYING_MATERIAL_INFO, and the PY_VERIFY_CALLBACK and
    PY_RENEGOTIATION_POLICY extensions."""
    if attr == C.SECPKG_ATTR_PY_VERIFY_CALLBACK:
        return _set_verify_callback(ctx, pBuffer)
    if attr == C.SECPKG_ATTR_PY_RENEGOTIATION_POLICY:
        return _set_renegotiation_policy(ctx, pBuffer)
    if attr != C.SECPKG_ATTR_KEYING_MATERIAL_INFO:
        return C.SEC_E_UNSUPPORTED_FUNCTION
    if not isinstance(pBuffer, SecPkgContext_KeyingMaterialInfo):
        return C.SEC_E_INVALID_PARAMETER
    label = pBuffer.pszLabel
    length = pBuffer.cbKeyingMaterial
    if (
        not isinstance(label, str)  # "" is a label like any other (RFC 5705)
        or not isinstance(length, int)
        or not 0 < length <= 0xFFFF
    ):
        return C.SEC_E_INVALID_PARAMETER
    value = pBuffer.pbContextValue
    if value is not None:
        if not isinstance(value, (bytes, bytearray, memoryview)):
            return C.SEC_E_INVALID_PARAMETER
        size = pBuffer.cbContextValue if isinstance(pBuffer.cbContextValue, int) else -1
        if not 0 <= size <= len(value):
            return C.SEC_E_INVALID_PARAMETER
        value = bytes(value[:size])
    try:
        label_bytes = label.encode("ascii")
    except UnicodeEncodeError:
        return C.SEC_E_INVALID_PARAMETER
    ctx.keying_material_info = (label_bytes, value, length)
    return C.SEC_E_OK


def _set_verify_callback(ctx: Context, pBuffer: object) -> SecStatus:
    """Install, replace (or with pfnCallback None remove) the verify callback."""
    if not isinstance(pBuffer, SecPkgContext_PyVerifyCallback):
        return C.SEC_E_INVALID_PARAMETER
    callback = pBuffer.pfnCallback
    on_resumption = pBuffer.fOnResumption
    if (callback is not None and not callable(callback)) or not isinstance(on_resumption, int):
        return C.SEC_E_INVALID_PARAMETER
    ctx.verify_callback = callback
    ctx.verify_on_resumption = bool(on_resumption)
    return C.SEC_E_OK


_RENEGOTIATION_POLICIES = (C.SCHANNEL_PY_RENEGOTIATION_ACCEPT, C.SCHANNEL_PY_RENEGOTIATION_IGNORE)


def _set_renegotiation_policy(ctx: Context, pBuffer: object) -> SecStatus:
    """Accept (Windows) or ignore the TLS 1.2 HelloRequests that arrive from now on."""
    if not isinstance(pBuffer, SecPkgContext_PyRenegotiationPolicy):
        return C.SEC_E_INVALID_PARAMETER
    policy = pBuffer.dwPolicy
    if type(policy) is not int or policy not in _RENEGOTIATION_POLICIES:
        return C.SEC_E_INVALID_PARAMETER
    ctx.client.config.ignore_hello_request = policy == C.SCHANNEL_PY_RENEGOTIATION_IGNORE
    return C.SEC_E_OK


def remember_sessions(ctx: Context) -> None:
    """Put the context's new tickets / TLS 1.2 session into the session cache."""
    if not ctx.reconnects:
        return
    client = ctx.client
    if not client.tickets and client.session12 is None:
        return  # nothing to cache (a TLS 1.3 handshake until its tickets arrive)
    known = {id(c) for c in ctx.cached}
    fresh: list[Ticket13 | Session12] = [t for t in client.tickets if id(t) not in known]
    if client.session12 is not None and id(client.session12) not in known:
        fresh.append(client.session12)
    for s in fresh:
        cache.CACHE.add(ctx.cache_key, s, clock(), ctx.cred.session_lifespan_ms)
        ctx.cached.append(s)
    # A ticket flood must not grow the cache: keep this connection's newest tickets only.
    tickets = [c for c in ctx.cached if isinstance(c, Ticket13)]
    excess = tickets[: max(0, len(tickets) - client.config.max_tickets)]
    if excess:
        cache.CACHE.remove_sessions(list(excess))
        ctx.cached = [c for c in ctx.cached if all(c is not e for e in excess)]


def set_reconnects(ctx: Context, enabled: bool) -> None:
    """SCHANNEL_SESSION token: stop (and undo) or resume caching this context's sessions."""
    ctx.reconnects = enabled
    if enabled:
        if ctx.phase == Phase.ESTABLISHED:
            remember_sessions(ctx)
    else:
        cache.CACHE.remove_sessions(ctx.cached)
        ctx.cached.clear()


def start_renegotiation(ctx: Context, out: list[SecBuffer], tok: int, allocate: bool) -> SecStatus:
    """Client-initiated TLS 1.2 renegotiation: a new ClientHello under the current keys."""
    try:
        ctx.client.renegotiate()
    except TLSError as e:
        return fail(ctx, e, out, allocate)
    ctx.phase = Phase.HANDSHAKE
    if not deliver(out, tok, ctx.client.data_to_send(), allocate):
        return C.SEC_E_INSUFFICIENT_MEMORY
    return C.SEC_I_CONTINUE_NEEDED


def control_step(ctx: Context, out: list[SecBuffer], tok: int, allocate: bool) -> SecStatus:
    """ISC after ApplyControlToken: emit the pending alert record."""
    assert ctx.pending_alert is not None
    level, desc = ctx.pending_alert
    client = ctx.client
    if client.write_protection is not None and (
        ctx.phase in (Phase.ESTABLISHED, Phase.RENEGOTIATE, Phase.CLOSED)
        or client.handshake_complete  # failed after the handshake (e.g. in DecryptMessage)
    ):
        record = client.alert_record(desc, level)
    else:
        record = struct.pack(">BHHBB", 21, 0x0301, 2, level, desc)
    if not deliver(out, tok, record, allocate):
        return C.SEC_E_INSUFFICIENT_MEMORY
    ctx.pending_alert = None
    ctx.pending_key_update = None  # nothing may follow the alert
    client.local_closed = True
    if ctx.phase not in (Phase.FAILED, Phase.RENEGOTIATE):  # a pending ISC returns to CLOSED
        ctx.phase = Phase.CLOSED
    return C.SEC_E_OK


def request_key_update(ctx: Context, requested: bool) -> SecStatus:
    """ApplyControlToken(SCHANNEL_PY_KEY_UPDATE): the next ISC sends a KeyUpdate."""
    client = ctx.client
    if client.version == 0x0303:
        return C.SEC_E_UNSUPPORTED_FUNCTION  # TLS 1.2 has no KeyUpdate
    if ctx.phase != Phase.ESTABLISHED or client.local_closed or client.version != 0x0304:
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
        return fail(ctx, e, out, allocate)
    return None


def key_update_step(ctx: Context, out: list[SecBuffer], tok: int, allocate: bool) -> SecStatus:
    """ISC with no input after the KeyUpdate token: emit the record(s) the client owes."""
    failed = queue_key_update(ctx, out, allocate)
    if failed is not None:
        return failed
    if not deliver(out, tok, ctx.client.data_to_send(), allocate):
        return C.SEC_E_INSUFFICIENT_MEMORY
    return C.SEC_E_OK


# --- DecryptMessage / EncryptMessage ---------------------------------------------


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
        or ctx.phase is not _ESTABLISHED
        or ctx.stash
        or client.peer_closed
        or type(client.read_protection) is not Protection13
    ):
        return None
    try:
        length, events = client.receive_record_in_place(
            view if total == len(view) else view[:total]
        )
    except TLSError as e:
        return fail(ctx, e, None, False)
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
    if ctx.phase not in (Phase.ESTABLISHED, Phase.CLOSED) or ctx.client.peer_closed:
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
        ctx.phase = Phase.FAILED
        ctx.failure_alert = int(e.description)
        return C.SEC_E_INVALID_TOKEN
    except TLSError as e:
        return fail(ctx, e, None, False)
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
        return fail(ctx, e, None, False)
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
    if status == C.SEC_I_RENEGOTIATE and ctx.phase in (Phase.ESTABLISHED, Phase.CLOSED):
        # Also after our close_notify: curl drains to the peer's close_notify
        # through tickets, each needing its ISC (which then returns to CLOSED).
        ctx.phase = Phase.RENEGOTIATE
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
    if (
        ctx.phase is not _ESTABLISHED
        or type(protection) is not Protection13
        or client.local_closed
        or client.peer_closed
        or not client.handshake_complete
    ):
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
    client = ctx.client
    if ctx.phase != Phase.ESTABLISHED or client.local_closed or client.peer_closed:
        # After either side's close_notify the context is closed for sending too
        # (docs/windows-behaviour.md rule 3.1.7: EncryptMessage after close_notify).
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


# --- QueryContextAttributes ----------------------------------------------------------


def _cert_kind(cert: x509.Certificate | None) -> tuple[str, int]:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    key = cert.public_key() if cert is not None else None
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ECDSA", C.CALG_ECDSA
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "EDDSA", 0
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", C.CALG_RSA_SIGN
    return "", 0


def _endpoint_hash(cert: x509.Certificate) -> bytes:
    """RFC 5929 tls-server-end-point: the certificate's signature hash, SHA-256 at least."""
    algo = cert.signature_hash_algorithm
    if algo is None or isinstance(algo, (hashes.MD5, hashes.SHA1)):
        algo = hashes.SHA256()
    return hashlib.new(algo.name.replace("-", ""), cert.public_bytes(Encoding.DER)).digest()


def _handshake_info(ctx: Context, pBuffer: object) -> SecStatus:
    """SECPKG_ATTR_PY_HANDSHAKE_INFO (schannel_py extension), after the handshake."""
    if pBuffer is None:
        return C.SEC_E_INTERNAL_ERROR
    if not isinstance(pBuffer, SecPkgContext_PyHandshakeInfo):
        return C.SEC_E_INVALID_PARAMETER
    client = ctx.client
    if not client.handshake_complete or client.suite is None:
        return C.SEC_E_INVALID_HANDLE
    pBuffer.wPeerSignatureScheme = client.peer_signature_scheme  # 0: none (resumed)
    pBuffer.wKeyExchangeGroup = client.group
    pBuffer.fHelloRetryRequest = client.hrr_seen
    pBuffer.fExtendedMasterSecret = client.extended_master_secret
    pBuffer.fSecureRenegotiation = client.secure_renegotiation
    pBuffer.cTicketsReceived = client.tickets_received
    pBuffer.fNewSession = client.new_session and ctx.reconnects
    pBuffer.aPeerVerifyPrefs = list(client.peer_verify_schemes)
    pBuffer.cPeerVerifyPrefs = len(pBuffer.aPeerVerifyPrefs)
    alert = ctx.failure_alert if ctx.phase == Phase.FAILED else None
    pBuffer.fFailureAlert = alert is not None
    pBuffer.bFailureAlert = alert if alert is not None else 0
    pBuffer.aCertificateTypes = list(client.certificate_types)
    pBuffer.cCertificateTypes = len(pBuffer.aCertificateTypes)
    return C.SEC_E_OK


def query(ctx: Context, attr: int, pBuffer: object) -> SecStatus:
    client = ctx.client
    suite = client.suite
    established = client.handshake_complete and suite is not None
    if attr == C.SECPKG_ATTR_REMOTE_CERT_CONTEXT:
        if not client.peer_chain:
            return C.SEC_E_NO_CREDENTIALS
        if not hasattr(pBuffer, "value"):
            return C.SEC_E_INTERNAL_ERROR
        pBuffer.value = crypt32.chain_context(client.peer_chain)
        return C.SEC_E_OK
    if attr == C.SECPKG_ATTR_LOCAL_CERT_CONTEXT:
        if ctx.local_cert is None or not client.client_certificate_sent:
            return C.SEC_E_NO_CREDENTIALS
        if not hasattr(pBuffer, "value"):
            return C.SEC_E_INTERNAL_ERROR
        pBuffer.value = ctx.local_cert
        return C.SEC_E_OK
    if attr == C.SECPKG_ATTR_KEYING_MATERIAL:
        if not isinstance(pBuffer, SecPkgContext_KeyingMaterial):
            return C.SEC_E_INTERNAL_ERROR
        if not client.handshake_complete:
            return C.SEC_E_INVALID_HANDLE
        if ctx.keying_material_info is None:
            return C.SEC_E_INVALID_PARAMETER  # KEYING_MATERIAL_INFO was never set
        label, value, length = ctx.keying_material_info
        try:
            material = client.export_keying_material(label, value, length)
        except (TLSError, KeyError):
            return C.SEC_E_INTERNAL_ERROR
        pBuffer.pbKeyingMaterial = material
        pBuffer.cbKeyingMaterial = len(material)
        return C.SEC_E_OK
    if attr == C.SECPKG_ATTR_ISSUER_LIST_EX:
        if not isinstance(pBuffer, SecPkgContext_IssuerListInfoEx):
            return C.SEC_E_INTERNAL_ERROR
        pBuffer.aIssuers = list(client.certificate_authorities)
        pBuffer.cIssuers = len(pBuffer.aIssuers)
        return C.SEC_E_OK
    if attr == C.SECPKG_ATTR_FLAGS and isinstance(pBuffer, SecPkgContext_Flags):
        pBuffer.Flags = ret_flags(ctx.req)
        return C.SEC_E_OK
    if attr == C.SECPKG_ATTR_PY_HANDSHAKE_INFO:
        return _handshake_info(ctx, pBuffer)
    if attr == C.SECPKG_ATTR_PY_RENEGOTIATION_POLICY:
        if not isinstance(pBuffer, SecPkgContext_PyRenegotiationPolicy):
            return C.SEC_E_INVALID_PARAMETER
        pBuffer.dwPolicy = (
            C.SCHANNEL_PY_RENEGOTIATION_IGNORE
            if client.config.ignore_hello_request
            else C.SCHANNEL_PY_RENEGOTIATION_ACCEPT
        )
        return C.SEC_E_OK
    supported = (
        C.SECPKG_ATTR_STREAM_SIZES,
        C.SECPKG_ATTR_CONNECTION_INFO,
        C.SECPKG_ATTR_CIPHER_INFO,
        C.SECPKG_ATTR_KEY_INFO,
        C.SECPKG_ATTR_APPLICATION_PROTOCOL,
        C.SECPKG_ATTR_ENDPOINT_BINDINGS,
        C.SECPKG_ATTR_UNIQUE_BINDINGS,
        C.SECPKG_ATTR_SESSION_INFO,
    )
    if attr not in supported:
        return C.SEC_E_UNSUPPORTED_FUNCTION
    if pBuffer is None:
        return C.SEC_E_INTERNAL_ERROR
    if not established or suite is None:
        return C.SEC_E_INVALID_HANDLE
    bits = suite.key_len * 8
    aes = suite.cipher == "AES"
    calg_cipher = (
        (C.CALG_AES_128 if bits == 128 else C.CALG_AES_256) if aes else CALG_CHACHA20_POLY1305
    )
    calg_hash = C.CALG_SHA_384 if suite.hash_name == "sha384" else C.CALG_SHA_256
    cert_name, cert_alg = _cert_kind(client.peer_certificate)
    if attr == C.SECPKG_ATTR_STREAM_SIZES and isinstance(pBuffer, SecPkgContext_StreamSizes):
        pBuffer.cbHeader, pBuffer.cbTrailer = client.record_overhead
        pBuffer.cbMaximumMessage = MAX_PLAINTEXT
        pBuffer.cBuffers = 4
        pBuffer.cbBlockSize = 16 if aes else 1
        return C.SEC_E_OK
    if attr == C.SECPKG_ATTR_CONNECTION_INFO and isinstance(pBuffer, SecPkgContext_ConnectionInfo):
        pBuffer.dwProtocol = (
            C.SP_PROT_TLS1_3_CLIENT if client.version == 0x0304 else C.SP_PROT_TLS1_2_CLIENT
        )
        pBuffer.aiCipher = calg_cipher
        pBuffer.dwCipherStrength = bits
        pBuffer.aiHash = calg_hash
        pBuffer.dwHashStrength = 0
        pBuffer.aiExch = 0 if client.version == 0x0304 else C.CALG_ECDH_EPHEM
        pBuffer.dwExchStrength = G.GROUP_BITS.get(client.group, 0)
        return C.SEC_E_OK
    if attr == C.SECPKG_ATTR_CIPHER_INFO and isinstance(pBuffer, SecPkgContext_CipherInfo):
        pBuffer.dwVersion = C.SECPKGCONTEXT_CIPHERINFO_V1
        pBuffer.dwProtocol = client.version
        pBuffer.dwCipherSuite = suite.code
        pBuffer.dwBaseCipherSuite = suite.code
        pBuffer.szCipherSuite = suite.name
        pBuffer.szCipher = "AES" if aes else "CHACHA20_POLY1305"
        pBuffer.dwCipherLen = bits
        pBuffer.dwCipherBlockLen = 16 if aes else 1
        pBuffer.szHash = ""
        pBuffer.dwHashLen = 0
        pBuffer.szExchange = "ECDH"
        pBuffer.dwMinExchangeLen = 0
        pBuffer.dwMaxExchangeLen = 65536
        pBuffer.szCertificate = cert_name
        pBuffer.dwKeyType = client.group
        return C.SEC_E_OK
    if attr == C.SECPKG_ATTR_KEY_INFO and isinstance(pBuffer, SecPkgContext_KeyInfo):
        pBuffer.sSignatureAlgorithmName = cert_name
        pBuffer.sEncryptAlgorithmName = "AES" if aes else "CHACHA20_POLY1305"
        pBuffer.KeySize = bits
        pBuffer.SignatureAlgorithm = cert_alg
        pBuffer.EncryptAlgorithm = calg_cipher
        return C.SEC_E_OK
    if attr == C.SECPKG_ATTR_APPLICATION_PROTOCOL and isinstance(
        pBuffer, SecPkgContext_ApplicationProtocol
    ):
        if client.alpn:
            pBuffer.ProtoNegoStatus = C.SecApplicationProtocolNegotiationStatus_Success
            pBuffer.ProtoNegoExt = C.SecApplicationProtocolNegotiationExt_ALPN
            pBuffer.ProtocolIdSize = len(client.alpn)
            pBuffer.ProtocolId = bytes(client.alpn)
        else:
            pBuffer.ProtoNegoStatus = C.SecApplicationProtocolNegotiationStatus_None
            pBuffer.ProtoNegoExt = C.SecApplicationProtocolNegotiationExt_None
            pBuffer.ProtocolIdSize = 0
            pBuffer.ProtocolId = b""
        return C.SEC_E_OK
    if attr == C.SECPKG_ATTR_ENDPOINT_BINDINGS and isinstance(pBuffer, SecPkgContext_Bindings):
        if client.peer_certificate is None:
            return C.SEC_E_NO_CREDENTIALS
        blob = pack_channel_bindings(
            b"tls-server-end-point:" + _endpoint_hash(client.peer_certificate)
        )
        pBuffer.Bindings = blob
        pBuffer.BindingsLength = len(blob)
        return C.SEC_E_OK
    if attr == C.SECPKG_ATTR_UNIQUE_BINDINGS and isinstance(pBuffer, SecPkgContext_Bindings):
        if client.version != 0x0303 or not client.first_finished:
            return C.SEC_E_UNSUPPORTED_FUNCTION  # tls-unique is not defined for TLS 1.3
        blob = pack_channel_bindings(b"tls-unique:" + client.first_finished)
        pBuffer.Bindings = blob
        pBuffer.BindingsLength = len(blob)
        return C.SEC_E_OK
    if attr == C.SECPKG_ATTR_SESSION_INFO and isinstance(pBuffer, SecPkgContext_SessionInfo):
        sid = client.session_id
        pBuffer.dwFlags = C.SSL_SESSION_RECONNECT if client.resumed else 0
        pBuffer.cbSessionId = len(sid)
        pBuffer.rgbSessionId = sid
        return C.SEC_E_OK
    return C.SEC_E_INTERNAL_ERROR
