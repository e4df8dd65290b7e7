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
  check your SSPI-driving code instead of the reference calls.

:class:`Harness` returns the status together with the alert record the client
put in its SECBUFFER_ALERT output buffer.  :func:`watching_failures` records the
alert description the TLS core chose for every failure (the SSPI observer
hook, :mod:`schannel_py.sspi.observe`), the only witness of the alert for
failures inside DecryptMessage, where SSPI has no ALERT buffer.
"""

from __future__ import annotations

import difflib
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
    "cases",
    "check_outcome",
    "credential",
    "finish12",
    "get",
    "names",
    "registry",
    "run",
    "run_attack",
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

    def harness(self) -> Harness:
        """A fresh :class:`Harness` with the credential this case expects."""
        return Harness(cred=credential(manual=not self.validates))


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


def run(case: Attack | str, harness: Harness | None = None) -> None:
    """Play ``case`` (an :class:`Attack` or its name) and check the client's answer.

    ``harness`` defaults to :meth:`Attack.harness`; it is closed afterwards.
    Raises ``AssertionError`` unless the attacked call returned ``case.status``
    and the client sent (or decided) ``case.alert``, and a failed context stays failed.
    """
    attack = get(case) if isinstance(case, str) else case
    run_attack(attack, attack.server(), harness if harness is not None else attack.harness())
