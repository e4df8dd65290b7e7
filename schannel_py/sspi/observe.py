"""Observer hook: one frozen :class:`SspiCall` per SSPI call, to whoever asks.

:func:`add_observer` registers a callback; every public SSPI function
(:mod:`.functions`) then reports each of its calls once it has returned: the
parameters and the buffers as they were before, the buffers after, the status,
and what the package itself knows of the call: the TLS bytes it took from the
peer (``received``) and produced (``sent``), the handshake messages processed,
the secrets derived and, when the call failed the context, the alert and why.
:mod:`schannel_py.trace`, :mod:`schannel_py.keylog` and the CLI are built on it.

Cost.  With no observer, every SSPI function pays one truth test of
:data:`OBSERVERS` (InitializeSecurityContext also of :data:`HANDSHAKE_OBSERVERS`);
everything below runs only for an observed call.

Where the numbers come from.  ``received`` for InitializeSecurityContext is the
span of the input TOKEN the handshake step handed to the TLS client
(``Context.received``, written by :func:`.handshake._records` as it feeds
records); for DecryptMessage it is the DATA buffer less the EXTRA buffer the
package set (nothing for SEC_E_INCOMPLETE_MESSAGE, whose MISSING buffer says
so, or for a failure: a record the package rejected is not counted as
received).  ``sent`` is the output TOKEN (and, for a failure, the ALERT) the
package wrote, or the record EncryptMessage sealed.  Messages and secrets are
what the TLS client logged and derived during the call (its ``message_log``
and ``secrets`` before and after).

Observer exceptions are logged and never reach the caller.  Calls made while
an observed call runs (a verify callback's QueryContextAttributes) or from an
observer itself are not reported.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType, TracebackType
from typing import Any, NamedTuple

from .. import constants as C
from ..constants import SecStatus
from ..crypt32.revocation import RevocationEvent
from ..tls.messages import msg_name
from . import buffers as B
from . import context as X
from .phases import Phase

log = logging.getLogger("schannel_py.sspi.observe")


class Handle(NamedTuple):
    """A CredHandle or CtxtHandle by value."""

    lower: int
    upper: int


@dataclass(frozen=True, slots=True)
class Buffer:
    """One SecBuffer: its BufferType (attribute bits included), cbBuffer and first cbBuffer bytes."""

    type: int
    size: int
    data: bytes = field(repr=False)


Buffers = tuple[Buffer, ...]


@dataclass(frozen=True, slots=True)
class AuthData:
    """pAuthData of AcquireCredentialsHandle: the structure's type name, dwVersion, dwFlags."""

    kind: str
    version: int | None
    flags: int | None


@dataclass(frozen=True, slots=True)
class Message:
    """A handshake message the TLS client sent ("out") or processed ("in"), header included."""

    direction: str
    type: int
    data: bytes = field(repr=False)

    @property
    def name(self) -> str:
        return msg_name(self.type)


@dataclass(frozen=True, slots=True)
class Secret:
    """A secret the key schedule derived (``TLSClient.secrets`` label and value)."""

    label: str
    value: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Failure:
    """The call failed the context: its status, and the TLS alert behind it.

    ``alert`` is the description of the alert the package decided to send
    (``remote`` False; for InitializeSecurityContext it is in the ALERT output
    buffer and in ``sent``) or of the peer's alert that ended the connection
    (``remote`` True); None when the call itself failed, with no TLS error.
    ``message`` is the TLS error's text ("" when there is none)."""

    status: SecStatus
    alert: int | None
    remote: bool
    message: str


@dataclass(frozen=True, slots=True)
class SspiCall:
    """One SSPI call, reported after it returned."""

    #: The function's name without the A/W suffix ("InitializeSecurityContext").
    function: str
    status: SecStatus
    #: Parameters by Windows name, in order, as passed: a handle as Handle (None:
    #: NULL or not a handle), a SecBufferDesc as its Buffers before the call (None:
    #: NULL or not a descriptor), pAuthData as AuthData, ints and strings as they
    #: are; opaque and output-only parameters are left out.
    params: Mapping[str, object]
    #: What the call wrote: each SecBufferDesc's Buffers after it, and the output
    #: parameters the call filled (phCredential of AcquireCredentialsHandle,
    #: phNewContext and pfContextAttr of InitializeSecurityContext).
    after: Mapping[str, object]
    #: The peer's TLS bytes this call consumed, and the TLS bytes it produced.
    received: bytes = field(default=b"", repr=False)
    sent: bytes = field(default=b"", repr=False)
    #: Handshake messages processed during the call, in order.
    messages: tuple[Message, ...] = ()
    #: Secrets derived during the call, in derivation order.
    secrets: tuple[Secret, ...] = ()
    #: The connection's client_random and protocol version after the call
    #: (b"" and 0 without a context); the key log's line needs both.
    client_random: bytes = field(default=b"", repr=False)
    version: int = 0
    failure: Failure | None = None
    #: The revocation sources the call's certificate validation consulted, in order
    #: (which certificate, CRL / OCSP / staple, the URL, the result, cache or network).
    revocation: tuple[RevocationEvent, ...] = ()

    @property
    def context(self) -> Handle | None:
        """The context the call acted on: phContext, or the new one of a first ISC."""
        handle = self.params.get("phContext")
        if handle is None:
            handle = self.after.get("phNewContext")
        return handle if isinstance(handle, Handle) else None

    def buffers(self, name: str, after: bool = False) -> Buffers | None:
        """The buffers of descriptor parameter ``name`` before (or after) the call;
        None when it was NULL or not a descriptor."""
        found = (self.after if after else self.params).get(name)
        return found if isinstance(found, tuple) and not isinstance(found, Handle) else None


Observer = Callable[[SspiCall], object]

#: Every SSPI function tests this list (in place: never rebound) before anything else.
OBSERVERS: list[Observer] = []
#: Observers of InitializeSecurityContext alone, each with the test that switches
#: it on (read at each ISC call; the record calls never look here).
HANDSHAKE_OBSERVERS: list[tuple[Callable[[], bool], Observer]] = []

_lock = threading.Lock()
_local = threading.local()
_DESCRIPTORS = ("pInput", "pOutput", "pMessage")
_OPAQUE = {"pvLogonId", "pGetKeyFn", "pvGetKeyArgument", "pBuffer", "ptsExpiry", "pfQOP"}
_signatures: dict[str, inspect.Signature] = {}


class Registration:
    """What :func:`add_observer` returns: call it (or leave its ``with`` block) to remove."""

    def __init__(self, remove: Callable[[], None]) -> None:
        self._remove = remove

    def __call__(self) -> None:
        self._remove()

    def __enter__(self) -> Registration:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._remove()


def _remover(lst: list[Any], item: object) -> Registration:
    def remove() -> None:
        with _lock:
            for i, x in enumerate(lst):
                if x is item:
                    del lst[i]
                    return

    return Registration(remove)


def add_observer(callback: Observer) -> Registration:
    """Report every SSPI call to ``callback`` from now on; returns its remover."""
    entry = callback
    with _lock:
        OBSERVERS.append(entry)
    return _remover(OBSERVERS, entry)


def add_handshake_observer(callback: Observer, active: Callable[[], bool]) -> Registration:
    """Report InitializeSecurityContext calls (where every secret is derived) to
    ``callback`` while ``active()`` is true; may stay registered for good, since
    EncryptMessage and DecryptMessage never consult it (the key log's
    SSLKEYLOGFILE, read at each handshake call as NSS reads it)."""
    entry = (active, callback)
    with _lock:
        HANDSHAKE_OBSERVERS.append(entry)
    return _remover(HANDSHAKE_OBSERVERS, entry)


def wanted(entries: list[tuple[Callable[[], bool], Observer]]) -> list[Observer]:
    """The handshake observers whose test says they want this call (a test that
    fails is logged and counts as no)."""
    found = []
    for active, callback in list(entries):
        try:
            if active():
                found.append(callback)
        except Exception:
            log.warning("handshake observer test %r failed", active, exc_info=True)
    return found


#: How many observed calls are running, in any thread: a cheap first test for
#: :func:`watching` (a thread-local read costs more than the rest of the check).
_running = [0]


def watching() -> bool:
    """True inside an observed call: the handshake then notes what it received."""
    return _running[0] > 0 and bool(getattr(_local, "busy", False))


def idle() -> bool:
    """True unless this thread is inside an observed call (or one of its observers)."""
    return not getattr(_local, "busy", False)


def dispatch(
    name: str,
    fn: Callable[..., SecStatus],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    also: list[Observer] | tuple[()] = (),
) -> SecStatus:
    """Run ``fn`` (the SSPI function ``name``) and report the call to the observers,
    and to ``also`` (the handshake observers that want it: :func:`wanted`)."""
    observers = list(OBSERVERS)
    observers.extend(also)
    if not observers:
        return fn(*args, **kwargs)
    _local.busy = True
    with _lock:
        _running[0] += 1
    try:
        try:
            watch: _Watch | None = _Watch(name, fn, args, kwargs)
        except Exception:
            log.warning("observing %s failed", name, exc_info=True)
            watch = None
        status = fn(*args, **kwargs)
        if watch is None:
            return status
        try:
            event = watch.event(status)
        except Exception:
            log.warning("observing %s failed", name, exc_info=True)
            return status
        for callback in observers:
            try:
                callback(event)
            except Exception:
                log.warning("observer %r failed; the call is unaffected", callback, exc_info=True)
        return status
    finally:
        _local.busy = False
        with _lock:
            _running[0] -= 1


# --- describing a call ------------------------------------------------------------------


def _handle(h: object) -> Handle | None:
    lower, upper = getattr(h, "dwLower", None), getattr(h, "dwUpper", None)
    if not isinstance(lower, int) or not isinstance(upper, int):
        return None
    return Handle(lower, upper)


def snapshot(desc: object) -> Buffers | None:
    """A SecBufferDesc's buffers as they are now (None if it is not a descriptor)."""
    bufs = B.buffers(desc)
    if bufs is None:
        return None
    out = []
    for b in bufs:
        t = b.BufferType
        n = b.cbBuffer
        t = t if isinstance(t, int) else -1
        n = n if isinstance(n, int) else 0
        raw = b""
        pv = b.pvBuffer
        if isinstance(pv, (bytes, bytearray, memoryview)):
            try:
                raw = bytes(memoryview(pv).cast("B")[: max(n, 0)])
            except (TypeError, ValueError):
                raw = b""
        out.append(Buffer(t, n, raw))
    return tuple(out)


def _auth(auth: object) -> AuthData | None:
    if auth is None:
        return None
    version = getattr(auth, "dwVersion", None)
    flags = getattr(auth, "dwFlags", None)
    return AuthData(
        type(auth).__name__,
        version if isinstance(version, int) else None,
        flags if isinstance(flags, int) else None,
    )


def _describe(name: str, value: object) -> tuple[bool, object]:
    """(kept?, description) of one parameter."""
    if name.startswith("ph"):
        return True, _handle(value)
    if name in _DESCRIPTORS:
        return True, snapshot(value)
    if name == "pAuthData":
        return True, _auth(value)
    if name in _OPAQUE or name == "pfContextAttr":
        return False, None
    if value is None or isinstance(value, (int, str, bytes)):
        return True, value
    return False, None


def _bufs(where: Mapping[str, object], name: str) -> Buffers:
    """The buffers of descriptor ``name`` in ``params`` or ``after`` (none: empty)."""
    found = where.get(name)
    return found if isinstance(found, tuple) and not isinstance(found, Handle) else ()


def _first(bufs: Buffers, kind: int) -> Buffer | None:
    for b in bufs:
        if b.type & B.TYPE_MASK == kind:
            return b
    return None


_RECORD_DESCRIBED = (C.SEC_E_OK, C.SEC_I_RENEGOTIATE, C.SEC_I_CONTEXT_EXPIRED)
_ISC_OUTPUT = (C.SEC_E_OK, C.SEC_I_CONTINUE_NEEDED, C.SEC_I_NO_RENEGOTIATION)


class _Watch:
    """What an observed call looked like before it ran, and its event after."""

    def __init__(
        self,
        name: str,
        fn: Callable[..., SecStatus],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        self.name = name
        sig = _signatures.get(name)
        if sig is None:
            sig = _signatures[name] = inspect.signature(fn)
        try:
            self.bound = sig.bind_partial(*args, **kwargs).arguments
        except TypeError:
            self.bound = {}
        params: dict[str, object] = {}
        for pname, value in self.bound.items():
            kept, described = _describe(pname, value)
            output = pname == "phNewContext" or (
                pname == "phCredential" and name == "AcquireCredentialsHandle"
            )
            if kept and not output:
                params[pname] = described
        self.params = params
        ctx = X.CONTEXTS.get(self.bound.get("phContext"))
        self.ctx = ctx
        self.logged = 0
        self.secrets: dict[str, bytes] = {}
        self.phase_before = Phase.NEW
        self.reason: object = None
        self.revocation_before: object = None
        if ctx is not None:
            self.revocation_before = ctx.revocation_events
            client = ctx.client
            if client.message_log is None:  # kept only while a call is watched
                client.message_log = []
            self.logged = len(client.message_log)
            self.secrets = dict(client.secrets)
            self.phase_before = ctx.phase
            self.reason = ctx.failure_reason
            if name == "InitializeSecurityContext":
                ctx.received = (0, 0)  # what this leg will receive (handshake._records)

    def event(self, status: SecStatus) -> SspiCall:
        name, bound, params = self.name, self.bound, self.params
        after: dict[str, object] = {}
        for pname in _DESCRIPTORS:
            if pname in bound:
                after[pname] = snapshot(bound[pname])
        if name == "AcquireCredentialsHandle":
            after["phCredential"] = _handle(bound.get("phCredential"))
        ctx = self.ctx
        if name == "InitializeSecurityContext":
            new = bound.get("phNewContext")
            if "phContext" in bound and bound["phContext"] is None:
                after["phNewContext"] = _handle(new)
                ctx = X.CONTEXTS.get(new)
            value = getattr(bound.get("pfContextAttr"), "value", None)
            if isinstance(value, int):
                after["pfContextAttr"] = value
        if name == "DeleteSecurityContext":
            ctx = None
        failure = self._failure(ctx, status) if ctx is not None else None
        received, sent = self._bytes(ctx, status, params, after, failure)
        messages: tuple[Message, ...] = ()
        secrets: tuple[Secret, ...] = ()
        revocation: tuple[RevocationEvent, ...] = ()
        client_random, version = b"", 0
        if ctx is not None:
            events = ctx.revocation_events
            if events is not None and events is not self.revocation_before:
                revocation = tuple(events)
            client = ctx.client
            log = client.message_log or []
            messages = tuple(Message(d, t, m) for d, t, m in log[self.logged :])
            before = self.secrets
            secrets = tuple(
                Secret(label, value)
                for label, value in client.secrets.items()
                if before.get(label) != value
            )
            client_random, version = client.client_random, client.version
        return SspiCall(
            function=name,
            status=status if type(status) is SecStatus else SecStatus(status),
            params=MappingProxyType(params),
            after=MappingProxyType(after),
            received=received,
            sent=sent,
            messages=messages,
            secrets=secrets,
            client_random=client_random,
            version=version,
            failure=failure,
            revocation=revocation,
        )

    def _failure(self, ctx: X.Context, status: SecStatus) -> Failure | None:
        reason = ctx.failure_reason
        fresh = reason is not None and reason is not self.reason
        if not fresh and (ctx.phase is not Phase.FAILED or self.phase_before is Phase.FAILED):
            return None
        if fresh and reason is not None:
            alert, remote, message = reason
            return Failure(status, alert, remote, message)
        return Failure(status, ctx.failure_alert, False, "")

    def _bytes(
        self,
        ctx: X.Context | None,
        status: SecStatus,
        params: Mapping[str, object],
        after: Mapping[str, object],
        failure: Failure | None,
    ) -> tuple[bytes, bytes]:
        """(received, sent): see the module docstring for where each comes from."""
        name = self.name
        if name == "InitializeSecurityContext":
            received = b""
            if ctx is not None and self.ctx is ctx:
                start, end = ctx.received
                ctx.received = (0, 0)  # the class's value: nothing kept once reported
                token = _first(_bufs(params, "pInput"), C.SECBUFFER_TOKEN)
                if token is not None and end > start:
                    received = token.data[start:end]
            sent = b""
            out_after = _bufs(after, "pOutput")
            if status in _ISC_OUTPUT:
                token = _first(out_after, C.SECBUFFER_TOKEN)
                sent = token.data if token is not None else b""
            if failure is not None and failure.alert is not None and not failure.remote:
                alert = _first(out_after, C.SECBUFFER_ALERT)
                if alert is not None and alert != _first(
                    _bufs(params, "pOutput"), C.SECBUFFER_ALERT
                ):
                    sent += alert.data
            return received, sent
        if name == "DecryptMessage" and status in _RECORD_DESCRIBED:
            before, now = _bufs(params, "pMessage"), _bufs(after, "pMessage")
            data = _first(before, C.SECBUFFER_DATA)
            if data is None:
                return b"", b""
            extra = sum(
                a.size
                for b, a in zip(before, now, strict=False)
                if a.type & B.TYPE_MASK == C.SECBUFFER_EXTRA
                and b.type & B.TYPE_MASK != C.SECBUFFER_EXTRA
            )
            return data.data[: max(len(data.data) - extra, 0)], b""
        if name == "EncryptMessage" and status == C.SEC_E_OK:
            now = _bufs(after, "pMessage")
            kinds = (C.SECBUFFER_STREAM_HEADER, C.SECBUFFER_DATA, C.SECBUFFER_STREAM_TRAILER)
            parts = [_first(now, kind) for kind in kinds]
            return b"", b"".join(p.data for p in parts if p is not None)
        return b"", b""
