"""Security contexts: the state behind one CtxtHandle, and how one is created.

A :class:`Context` wraps one :class:`~schannel_py.tls.client.TLSClient` and keeps
the SSPI-visible state around it.  Its phase and the calls each phase allows are
the table in :mod:`phases`; the work is split by concern:

* :mod:`config`: what the credential and target name mean for the ClientHello;
* :mod:`validation`: the server certificate check and the verify callback;
* :mod:`clientcert`: the client certificate, chosen or asked for;
* :mod:`handshake`: InitializeSecurityContext, one step per phase;
* :mod:`control`: ApplyControlToken's tokens and the ISC that emits them;
* :mod:`records`: EncryptMessage and DecryptMessage;
* :mod:`attributes`: QueryContextAttributes and SetContextAttributes as tables.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
import time
from collections.abc import Callable

from .. import constants as C
from ..constants import SecStatus
from ..crypt32 import CERT_CONTEXT
from ..crypt32.revocation import RevocationEvent
from ..tls.alerts import TLSError
from ..tls.client import TLSClient
from ..tls.session import Session12, Ticket13
from . import buffers as B
from . import cache, clientcert, validation
from .config import client_config
from .credentials import Credential
from .errors import status_for_error
from .handles import HandleTable
from .phases import Phase, move
from .types import SecBuffer


class Context:
    """Package state behind one CtxtHandle.

    Immutable starting values live on the class (as in TLSClient): one is
    created per handshake, inside the first ISC call.
    """

    phase: Phase = Phase.NEW
    # What the phase allows (phases.move keeps these in step with the table):
    # read on every record, so plain attributes rather than a table lookup.
    may_encrypt: bool = False
    may_decrypt: bool = False
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
    # The TLS error behind the failure, as (alert description, remote, text):
    # plain values, so no traceback keeps the context alive (observe.py reports it).
    failure_reason: tuple[int, bool, str] | None = None
    # The span of the input TOKEN the last handshake leg handed to the TLS client
    # (start, end): what the call received, for observe.py.
    received: tuple[int, int] = (0, 0)
    validation_error: SecStatus | None = None
    # The revocation sources the last validation consulted (observe.py reports them).
    revocation_events: list[RevocationEvent] | None = None
    reconnects: bool = True  # SCHANNEL_SESSION token: may this session be cached?
    local_cert: CERT_CONTEXT | None = None  # the client certificate we use
    paused_prefix: bytes = b""  # input consumed before SEC_I_INCOMPLETE_CREDENTIALS
    # A post-handshake CertificateRequest was answered with SEC_I_INCOMPLETE_CREDENTIALS:
    # the next ISC goes on (during the handshake the NEED_CREDENTIAL phase says so).
    asked_for_credential: bool = False
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


def _now() -> float:
    return time.time()


# Injected sources for new contexts; tests replace these to make runs deterministic.
random_source: Callable[[int], bytes] = os.urandom
clock: Callable[[], float] = _now


def create(
    cred: Credential, target: str | None, req: int, alpn: list[bytes], flags64: int
) -> Context:
    """A new context (phase NEW) whose TLS client is configured from the credential."""
    config = client_config(cred, target, alpn)
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
    config.choose_credential = clientcert.chooser(ctx)
    manual = bool(req & C.ISC_REQ_MANUAL_CRED_VALIDATION) or cred.manual_validation
    config.verify_certificate = validation.validator(ctx, target, manual)
    config.verify_resumed_certificate = validation.reverifier(ctx)
    return ctx


# --- failures -------------------------------------------------------------------------


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
    move(ctx, Phase.FAILED)
    if status is None:
        status = status_for_error(err)
    ctx.failure = status
    ctx.failure_alert = None if err.remote else int(err.description)
    ctx.failure_reason = (int(err.description), err.remote, err.message)
    if out is not None and not err.remote:
        alert_output(ctx, out, allocate, err.description)
    return status


def fail_with(ctx: Context, status: SecStatus) -> SecStatus:
    """A failure of the call itself (no TLS error, no alert): the context is done."""
    move(ctx, Phase.FAILED)
    ctx.failure = status
    return status


#: Names that lived here before the split, and the module that has each now.
_MOVED = {
    "ALWAYS_RET": "handshake",
    "ECHOED_REQ": "handshake",
    "STASH_LIMIT": "handshake",
    "first_call_inputs": "handshake",
    "ret_flags": "handshake",
    "start_renegotiation": "handshake",
    "deliver": "buffers",
    "output_buffers": "buffers",
    "remember_sessions": "cache",
    "key_update_step": "control",
    "queue_key_update": "control",
    "request_key_update": "control",
    "CALG_CHACHA20_POLY1305": "attributes",
    "query": "attributes",
    "set_attribute": "attributes",
    "decrypt": "records",
    "encrypt": "records",
    "run_verify_callback": "validation",
    "server_name_for": "config",
}


def __getattr__(name: str) -> object:
    """Old names, found where they live now (imported on first use: no import cycle)."""
    where = _MOVED.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__package__}.{where}"), name)


def set_reconnects(ctx: Context, enabled: bool) -> None:
    """SCHANNEL_SESSION token: stop (and undo) or resume caching this context's sessions."""
    cache.set_reconnects(ctx, enabled, clock())
