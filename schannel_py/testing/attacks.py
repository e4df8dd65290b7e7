"""The attack catalogue: named hostile-server cases, each with the status and alert it must get.

Every case is a script that plays a misbehaving TLS 1.3 or 1.2 server (the
builders of :mod:`schannel_py.testing.builders`) against a client driven call by
call through the real SSPI entry points (:class:`Harness`), and documents in its
docstring what the server does wrong and why the expected answer is right.
The cases live in :mod:`~schannel_py.testing.attacks13` and
:mod:`~schannel_py.testing.attacks12`; this module holds the harness, the
registry and the catalogue:

* :func:`names` lists the cases, :func:`get` returns one (:class:`Attack`: its
  ``status``, ``alert``, ``via`` and ``why``), :func:`cases` returns them all;
* :func:`run` plays one and raises ``AssertionError`` unless the client answered
  with the documented status and alert.  Pass your own :class:`Harness` (a
  subclass whose ``isc`` / ``decrypt`` / ``encrypt`` go through your code) to
  check single SSPI calls of yours instead of the reference calls;
* :func:`run_loop` plays one against a whole loop of yours (``connect()`` and
  ``recv()`` over ``send`` / ``recv`` callables), run in a thread by
  :class:`LoopHarness`.

:class:`Harness` returns the status together with the alert record the client
put in its SECBUFFER_ALERT output buffer.  :func:`watching_failures` records the
alert description the TLS core chose for every failure (the SSPI observer
hook, :mod:`schannel_py.sspi.observe`), the only witness of the alert for
failures inside DecryptMessage, where SSPI has no ALERT buffer.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

import schannel_py as sc

from ..driver import CURL_REQ_FLAGS, SspiDriver, SspiError
from ..sspi import observe
from .builders import Server12, Server13
from .stores import acquire_credential

__all__ = [
    "CURL_FLAGS",
    "Attack",
    "Decision",
    "Harness",
    "LoopFactory",
    "LoopHarness",
    "cases",
    "check_outcome",
    "credential",
    "finish12",
    "get",
    "names",
    "registry",
    "run",
    "run_attack",
    "run_loop",
    "to_client_flight12",
    "watching_failures",
]

#: curl's default ISC request flags, which the harness passes.
CURL_FLAGS = CURL_REQ_FLAGS

AttackVersion = Literal["1.3", "1.2"]


def credential(*, manual: bool = True, disabled: int = 0) -> sc.CredHandle:
    """The harness's credential: :func:`~schannel_py.testing.acquire_credential` with
    manual validation unless told otherwise; ``disabled``: SP_PROT_* bits for
    grbitDisabledProtocols."""
    return acquire_credential(manual_validation=manual, disabled=disabled)


@dataclass
class Decision:
    """What the TLS core decided for one failure."""

    description: int
    remote: bool
    message: str


@contextmanager
def watching_failures() -> Iterator[list[Decision]]:
    """Record every TLS failure the SSPI layer turns into a status, as the
    observer hook reports it (see module docstring)."""
    seen: list[Decision] = []

    def on_call(call: observe.SspiCall) -> None:
        failure = call.failure
        if failure is not None and failure.alert is not None:
            seen.append(Decision(failure.alert, failure.remote, failure.message))

    with observe.add_observer(on_call):
        yield seen


def _no_transport(*_: object) -> bytes:
    raise AssertionError("the attack script moves the bytes, not the driver")


@dataclass
class Harness:
    """The client side, through the real SSPI functions; one ISC per :meth:`isc`.

    A :class:`schannel_py.driver.SspiDriver` without a transport: the script
    hands it bytes call by call (its single-call methods), because every
    attack checks the status of one particular call.  Subclass it and override
    :meth:`isc`, :meth:`decrypt` or :meth:`encrypt` to check your own calls.
    """

    cred: sc.CredHandle = field(default_factory=credential)
    target: str = "localhost"
    ctx: sc.CtxtHandle = field(default_factory=sc.CtxtHandle)
    attrs: sc.ULONG = field(default_factory=sc.ULONG)
    statuses: list[sc.SecStatus] = field(default_factory=list)
    alert: bytes = b""
    extra: int = 0
    missing: int = 0
    token: bytes = b""  # what the last ISC after SEC_I_RENEGOTIATE sent

    def __post_init__(self) -> None:
        self.drv = SspiDriver(_no_transport, _no_transport, self.cred, self.target, CURL_FLAGS)
        self.drv.ctx, self.drv.attrs = self.ctx, self.attrs

    def start(self) -> bytes:
        """The first ISC call: the ClientHello."""
        return self.drv.first_call()

    def isc(self, data: bytes) -> tuple[sc.SecStatus, bytes]:
        """One ISC call with ``data``; returns (status, token out); sets alert/extra/missing."""
        st = self.drv.step(bytes(data))
        self.statuses.append(st.status)
        self.extra, self.missing = st.extra, st.missing
        if st.alert:
            self.alert = st.alert
        return st.status, st.token

    def feed(self, data: bytes) -> tuple[sc.SecStatus, bytes]:
        """ISC over ``data`` until it is consumed, a failure, or more input is needed."""
        token = b""
        while True:
            status, out = self.isc(data)
            token += out
            if status != sc.SEC_I_CONTINUE_NEEDED or not self.extra:
                return status, token
            data = data[len(data) - self.extra :]

    def decrypt(self, data: bytes) -> tuple[list[sc.SecStatus], bytes]:
        """DecryptMessage over ``data`` like curl (SEC_I_RENEGOTIATE -> ISC); stops at a failure."""
        self.drv.encdata = bytearray(data)
        plain = b""
        seen: list[sc.SecStatus] = []
        while self.drv.encdata:
            status, out = self.drv.decrypt_record()
            seen.append(status)
            if status not in (sc.SEC_E_OK, sc.SEC_I_RENEGOTIATE):
                break
            plain += out
            if status == sc.SEC_I_RENEGOTIATE:
                st, self.token = self.isc(bytes(self.drv.encdata))
                if st != sc.SEC_E_OK:
                    seen.append(st)
                    break
        return seen, plain

    def encrypt_status(self, data: bytes = b"x") -> sc.SecStatus:
        """EncryptMessage's status for ``data``."""
        return self.encrypt(data)[0]

    def encrypt(self, data: bytes) -> tuple[sc.SecStatus, bytes]:
        """EncryptMessage over curl's layout: (status, the record when it is SEC_E_OK)."""
        self.drv.sizes = None  # queried each time, as before: the context may have failed
        try:
            return sc.SEC_E_OK, self.drv.encrypt_record(data)
        except SspiError as e:
            return e.status, b""

    def close(self) -> None:
        """DeleteSecurityContext."""
        sc.DeleteSecurityContext(self.ctx)


class _Pipe:
    """The loop's socket in :class:`LoopHarness`: what the script delivers, what
    the loop sent, and whether the loop is waiting for input."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.inbox = bytearray()
        self.sent = bytearray()
        self.waiting = False
        self.closed = False

    def send(self, data: bytes) -> int:
        with self.cond:
            self.sent += data
        return len(data)

    def recv(self, n: int) -> bytes:
        with self.cond:
            while not self.inbox and not self.closed:
                self.waiting = True
                self.cond.notify_all()
                self.cond.wait()
            self.waiting = False
            chunk = bytes(self.inbox[:n])
            del self.inbox[:n]
            return chunk

    def deliver(self, data: bytes) -> None:
        with self.cond:
            self.inbox += data
            self.cond.notify_all()

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()


#: ``client(send, recv, cred)``: builds the loop under test over a pipe and a credential.
LoopFactory = Callable[[Callable[[bytes], object], Callable[[int], bytes], sc.CredHandle], object]


class LoopHarness(Harness):
    """A catalogued attack against *your* loop: the client side is whatever
    ``client(send, recv, cred)`` builds, run in a thread over an in-memory pipe.

    The script's steps become the loop's: :meth:`start` runs ``obj.<connect>()``
    until it waits for input; :meth:`feed` hands the server's bytes to the loop
    and waits until it is waiting again (or has returned or raised); then the
    last ``InitializeSecurityContext`` status the loop got (seen through the
    SSPI observer hook) is the step's status, the bytes the loop sent before it
    are the token and, when that status is a failure, the bytes it sent after it
    are its alert: a loop that does not forward SChannel's alert fails the
    case.  :meth:`decrypt` hands bytes to ``obj.<read>()``, called over and over
    in a thread once the handshake is done, and reports the DecryptMessage
    statuses (and failing ISC statuses) the loop got.  Once the loop has
    stopped, the outcome checks call SSPI on the loop's context directly.

    A step ends when the loop blocks in ``recv`` with nothing left to read: a
    loop with a reader thread of its own, or polling ``recv`` with a timeout,
    is not seen that way.
    """

    def __init__(
        self,
        client: LoopFactory,
        *,
        cred: sc.CredHandle | None = None,
        connect: str = "connect",
        read: str = "recv",
        timeout: float = 10.0,
    ) -> None:
        super().__init__(cred=cred if cred is not None else credential())
        self.pipe = _Pipe()
        self.loop = client(self.pipe.send, self.pipe.recv, self.cred)
        self.connect_name, self.read_name, self.timeout = connect, read, timeout
        #: What the loop raised, if it did (a failing handshake usually raises).
        self.loop_error: BaseException | None = None
        #: ``read()`` results, in order.
        self.plaintext = bytearray()
        self._threads: dict[int, threading.Thread] = {}
        self._events: list[tuple[str, sc.SecStatus, int]] = []  # (function, status, sent mark)
        self._connected = False
        self._reading = False
        self._registration: observe.Registration | None = None

    # --- the loop's threads ---------------------------------------------------------------

    def _on_call(self, call: observe.SspiCall) -> None:
        if threading.get_ident() not in self._threads:
            return
        handle = call.context
        if handle is not None and self.ctx.is_null:
            self.ctx.dwLower, self.ctx.dwUpper = handle.lower, handle.upper
        with self.pipe.cond:
            self._events.append((call.function, call.status, len(self.pipe.sent)))

    def _spawn(self, body: Callable[[], None]) -> None:
        def run() -> None:
            try:
                body()
            except BaseException as e:  # the loop's own error is part of the outcome
                self.loop_error = e
            finally:
                with self.pipe.cond:
                    self._threads.pop(threading.get_ident(), None)
                    self.pipe.cond.notify_all()

        thread = threading.Thread(target=run, name="attack-loop", daemon=True)
        with self.pipe.cond:
            thread.start()
            assert thread.ident is not None
            self._threads[thread.ident] = thread

    def _alive(self) -> bool:
        return bool(self._threads)

    def _wait_quiet(self) -> None:
        """Until the loop waits for input with nothing left to read, or has stopped."""
        with self.pipe.cond:
            quiet = self.pipe.cond.wait_for(
                lambda: not self._threads or (self.pipe.waiting and not self.pipe.inbox),
                self.timeout,
            )
        if not quiet:
            raise AssertionError(
                f"the loop neither stopped nor waited for input within {self.timeout} s"
            )

    def _step(self, data: bytes | None) -> tuple[list[tuple[str, sc.SecStatus, int]], int]:
        with self.pipe.cond:
            first, mark = len(self._events), len(self.pipe.sent)
        if data is not None:
            self.pipe.deliver(data)
        self._wait_quiet()
        with self.pipe.cond:
            return self._events[first:], mark

    # --- the script's steps ---------------------------------------------------------------

    def start(self) -> bytes:
        self._registration = observe.add_observer(self._on_call)

        def connect() -> None:
            getattr(self.loop, self.connect_name)()
            self._connected = True

        self._spawn(connect)
        self._wait_quiet()
        hello = bytes(self.pipe.sent)
        if not hello:
            raise AssertionError(f"the loop sent no ClientHello ({self.loop_error!r})")
        return hello

    def isc(self, data: bytes) -> tuple[sc.SecStatus, bytes]:
        if not self._alive():
            return super().isc(data)  # the loop has stopped: SSPI on its context
        events, mark = self._step(data)
        calls = [e for e in events if e[0] == "InitializeSecurityContext"]
        if not calls:
            raise AssertionError(
                f"the loop called no InitializeSecurityContext ({self.loop_error!r})"
            )
        _, status, at = calls[-1]
        self.statuses.append(status)
        with self.pipe.cond:
            sent = bytes(self.pipe.sent[mark:])
        if status in FAILURES:
            return status, sent
        self.alert = sent[at - mark :]
        return status, sent[: at - mark]

    def feed(self, data: bytes) -> tuple[sc.SecStatus, bytes]:
        if not self._alive():
            return super().feed(data)
        return self.isc(data)  # the loop reads all of it

    def decrypt(self, data: bytes) -> tuple[list[sc.SecStatus], bytes]:
        if not self._alive():
            if not self._connected or self._reading:
                # The handshake failed, or the reads have stopped: SSPI on the context.
                return super().decrypt(data)
            self._reading = True

            def read() -> None:
                while True:
                    chunk = getattr(self.loop, self.read_name)()
                    if not chunk:
                        return
                    self.plaintext += chunk

            self._spawn(read)
        before = len(self.plaintext)
        events, mark = self._step(data)
        seen = [
            status
            for function, status, _ in events
            if function == "DecryptMessage"
            or (function == "InitializeSecurityContext" and status != sc.SEC_E_OK)
        ]
        while len(seen) > 1 and seen[-1] == sc.SEC_E_INCOMPLETE_MESSAGE:
            seen.pop()  # the loop waits for the next record
        with self.pipe.cond:
            self.token = bytes(self.pipe.sent[mark:])
        return seen, bytes(self.plaintext[before:])

    def close(self) -> None:
        self.pipe.close()
        for thread in list(self._threads.values()):
            thread.join(self.timeout)
        if self._registration is not None:
            self._registration()
        super().close()


# --- attack registry ---------------------------------------------------------------------------


@dataclass
class Attack:
    """One named attack: a script and what the client must do about it.

    ``status`` is what the attacked SSPI call must return.  ``alert`` is the
    description of the fatal alert the client must send (None: it must send
    none, e.g. because the peer's own alert ended the connection, or because the
    attack is legal and must be tolerated).  ``via`` tells where the client sent
    it: "isc" (the SECBUFFER_ALERT output buffer) or "decrypt" (DecryptMessage
    has no alert buffer; the core's decision is checked instead).  ``version``
    is the TLS version the hostile server speaks; ``why`` (the script's
    docstring) says what it does wrong and why the outcome is the right one.
    """

    name: str
    run: Callable[..., sc.SecStatus]
    status: sc.SecStatus
    alert: int | None
    via: str = "isc"
    version: AttackVersion = "1.3"

    @property
    def why(self) -> str:
        return (self.run.__doc__ or "").strip()

    @property
    def validates(self) -> bool:
        """Whether the client must validate the server's certificate (else: manual validation)."""
        return bool(getattr(self.run, "validate", False))

    def server(self) -> Server13 | Server12:
        """A fresh hostile server for this case."""
        return Server13() if self.version == "1.3" else Server12()

    def credential(self) -> sc.CredHandle:
        """The credential this case expects: manual validation unless it validates."""
        return credential(manual=not self.validates)

    def harness(self) -> Harness:
        """A fresh :class:`Harness` with the credential this case expects."""
        return Harness(cred=self.credential())


Register = Callable[[Callable[..., sc.SecStatus]], Callable[..., sc.SecStatus]]


def registry(
    version: AttackVersion = "1.3",
) -> tuple[list[Attack], Callable[..., Register]]:
    """A list and a decorator, ``attack(status, alert, via="isc")``, that appends a
    docstring-carrying script to it (for ``version``)."""
    found: list[Attack] = []

    def attack(status: sc.SecStatus, alert: int | None, via: str = "isc") -> Register:
        def register(fn: Callable[..., sc.SecStatus]) -> Callable[..., sc.SecStatus]:
            if not fn.__doc__:
                raise ValueError(f"{fn.__name__}: every attack documents its expected outcome")
            found.append(Attack(fn.__name__, fn, status, alert, via, version))
            return fn

        return register

    return found, attack


def _expect(condition: object, *detail: object) -> None:
    """``assert``, kept under ``python -O``."""
    if not condition:
        raise AssertionError(*detail)


FAILURES = frozenset(
    {
        sc.SEC_E_OK,
        sc.SEC_I_CONTINUE_NEEDED,
        sc.SEC_E_INCOMPLETE_MESSAGE,
        sc.SEC_I_RENEGOTIATE,
        sc.SEC_I_CONTEXT_EXPIRED,
    }
)


def check_outcome(
    case: Attack,
    status: sc.SecStatus,
    harness: Harness,
    seen: list[Decision],
    open_alert: Callable[[bytes], tuple[int, int]],
) -> None:
    """The status, the alert sent (or decided), and that a failed context stays failed."""
    _expect(status == case.status, f"{case.name}: {status!r} != {case.status!r}; {seen}")
    if case.alert is None:
        _expect(not harness.alert, f"{case.name}: unexpected alert {harness.alert.hex()}")
        _expect(all(d.remote for d in seen), seen)
    elif case.via == "isc":
        _expect(open_alert(harness.alert) == (2, case.alert), (case.name, seen))
        if seen:
            _expect(seen[-1].description == case.alert and not seen[-1].remote)
    else:
        _expect(seen and seen[-1].description == case.alert and not seen[-1].remote, seen)
    # The SSPI surface names the same alert (SECPKG_ATTR_PY_HANDSHAKE_INFO, once there is
    # a handshake to report on): what a DecryptMessage caller sends with SCHANNEL_ALERT.
    info = sc.SecPkgContext_PyHandshakeInfo()
    if sc.QueryContextAttributes(harness.ctx, sc.SECPKG_ATTR_PY_HANDSHAKE_INFO, info) == 0:
        expected = case.alert if status not in FAILURES else None
        got_alert = info.bFailureAlert if info.fFailureAlert else None
        _expect(got_alert == expected, (case.name, got_alert, seen))
    if status not in FAILURES:
        # A failed context stays failed: no more handshake, no data either way.
        again, token = harness.isc(b"\x17\x03\x03\x00\x11" + bytes(17))
        _expect(again == status and not token)
        _expect(harness.encrypt_status() != sc.SEC_E_OK)
        got, plain = harness.decrypt(b"\x17\x03\x03\x00\x11" + bytes(17))
        _expect(got[0] != sc.SEC_E_OK and not plain)


def run_attack(case: Attack, server: Server13 | Server12, harness: Harness) -> None:
    """Play ``case`` from the client's ClientHello on, check its outcome, close the harness."""
    try:
        with watching_failures() as seen:
            server.read_client_hello(harness.start())
            status = case.run(server, harness)
            check_outcome(case, status, harness, seen, server.open_alert)
    finally:
        harness.close()


def to_client_flight12(s: Server12, h: Harness) -> None:
    """A correct TLS 1.2 first flight; the client's CKE/CCS/Finished is read (keys both ways)."""
    status, token = h.feed(s.first_flight())
    _expect(status == sc.SEC_I_CONTINUE_NEEDED, status)
    s.read_client_flight(token)


def finish12(s: Server12, h: Harness) -> None:
    """The rest of a correct TLS 1.2 handshake once ``s`` has read the ClientHello."""
    to_client_flight12(s, h)
    status, _ = h.feed(s.ccs() + s.prot(s.finished()))
    _expect(status == sc.SEC_E_OK, status)


# --- the catalogue ----------------------------------------------------------------------------


def cases(version: AttackVersion | None = None) -> list[Attack]:
    """Every catalogued attack (TLS 1.3 ones first), or those for ``version``."""
    from . import attacks12, attacks13

    found = attacks13.ATTACKS + attacks12.ATTACKS
    return [a for a in found if version is None or a.version == version]


def names(version: AttackVersion | None = None) -> list[str]:
    """The names of the catalogued attacks (for ``version``, or all)."""
    return [a.name for a in cases(version)]


def get(name: str) -> Attack:
    """The attack called ``name``; ``KeyError`` (with close names) if there is none."""
    for case in cases():
        if case.name == name:
            return case
    close = difflib.get_close_matches(name, names(), n=3)
    raise KeyError(f"no attack {name!r}" + (f"; did you mean {', '.join(close)}?" if close else ""))


def run_loop(
    case: Attack | str,
    client: LoopFactory,
    *,
    connect: str = "connect",
    read: str = "recv",
    timeout: float = 10.0,
) -> None:
    """Play ``case`` against your own loop (see :class:`LoopHarness`):
    ``client(send, recv, cred)`` builds it, with the credential the case expects;
    ``connect`` and ``read`` name its handshake and read methods."""
    attack = get(case) if isinstance(case, str) else case
    harness = LoopHarness(
        client,
        cred=attack.credential(),
        connect=connect,
        read=read,
        timeout=timeout,
    )
    run_attack(attack, attack.server(), harness)


def run(case: Attack | str, harness: Harness | None = None) -> None:
    """Play ``case`` (an :class:`Attack` or its name) and check the client's answer.

    ``harness`` defaults to :meth:`Attack.harness`; it is closed afterwards.
    Raises ``AssertionError`` unless the attacked call returned ``case.status``
    and the client sent (or decided) ``case.alert``, and a failed context stays failed.
    """
    attack = get(case) if isinstance(case, str) else case
    run_attack(attack, attack.server(), harness if harness is not None else attack.harness())
