"""A scripted, misbehaving TLS 1.3 / TLS 1.2 server for attack tests.

The builders (:class:`Server13`, :class:`Server12`, records) are
:mod:`schannel_py.testing.builders`, re-exported here.  Built on the project's own codec, key schedule and record protection, it does
*not* run a state machine of its own: a test script calls the builders in any
order, with any overrides, and decides which (possibly malformed) records go
to the client.  Where an attack must get past decryption the server holds the
right keys: after :meth:`Server13.derive_handshake` it can protect records
under the server handshake secret and open the client's records (its alert)
under the client handshake secret, exactly as a real peer would.

The client, :class:`Harness`, runs the real SSPI entry points
(``InitializeSecurityContext``, ``DecryptMessage``) through the single-call
methods of :class:`schannel_py.driver.SspiDriver`, the way curl's loop does, and returns the status together with the alert record
the client put in its SECBUFFER_ALERT output buffer.  ``decided`` records the
alert description the TLS core chose for every failure (the ``failure`` of the
SSPI observer hook's events, :mod:`schannel_py.sspi.observe`), which is the
only witness of the alert for failures inside DecryptMessage, where SSPI has
no ALERT buffer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import schannel_py as sc
from schannel_py.driver import SspiDriver, SspiError
from schannel_py.sspi import observe
from schannel_py.testing.builders import (  # noqa: F401  (the attack modules import them from here)
    COMPAT_CCS,
    ECDSA_P256_SHA256,
    HT,
    TLS12_ECDHE_ECDSA_AES128,
    TLS13_AES128,
    Exts,
    Identity,
    Server12,
    Server13,
    certificate_status,
    ext_block,
    handshake_messages,
    identity,
    record,
    split_records,
    u16,
)
from schannel_py.tls.alerts import TLSError
from schannel_py.tls.groups import X25519, KeyShare  # noqa: F401
from schannel_py.tls.messages import Ext, HandshakeType  # noqa: F401
from schannel_py.tls.record import (  # noqa: F401
    ALERT,
    APPLICATION_DATA,
    CHANGE_CIPHER_SPEC,
    HANDSHAKE,
    HEADER_LEN,
    frame,
)
from tests.support.sspi_driver import CURL_FLAGS, acquire

# --- the SSPI side ---------------------------------------------------------------------------


def credential(*, manual: bool = True, disabled: int = 0) -> sc.CredHandle:
    """SCH_CREDENTIALS (TLS 1.3 and 1.2), manual validation unless told otherwise."""
    return acquire(sc.SCH_CRED_MANUAL_CRED_VALIDATION if manual else 0, disabled=disabled)


@dataclass
class Decision:
    """What the TLS core decided for one failure."""

    description: int
    remote: bool
    message: str


DECISIONS: list[Decision] = []


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
    attack checks the status of one particular call.
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
        return self.encrypt(data)[0]

    def encrypt(self, data: bytes) -> tuple[sc.SecStatus, bytes]:
        """EncryptMessage over curl's layout: (status, the record when it is SEC_E_OK)."""
        self.drv.sizes = None  # queried each time, as before: the context may have failed
        try:
            return sc.SEC_E_OK, self.drv.encrypt_record(data)
        except SspiError as e:
            return e.status, b""

    def close(self) -> None:
        sc.DeleteSecurityContext(self.ctx)


Script = Callable[[Server13, Harness], None]


def tls_error_alert(err: TLSError) -> int:
    return err.description


# --- attack registry ---------------------------------------------------------------------------


@dataclass
class Attack:
    """One named attack: a script and what the client must do about it.

    ``alert`` is the description of the fatal alert the client must send
    (None: it must send none, e.g. because the peer's own alert ended the
    connection, or because the attack is legal and must be tolerated).
    ``via`` tells where the client sent it: "isc" (the SECBUFFER_ALERT output
    buffer) or "decrypt" (DecryptMessage has no alert buffer; the core's
    decision is checked instead).
    """

    name: str
    run: Callable[..., sc.SecStatus]
    status: sc.SecStatus
    alert: int | None
    via: str = "isc"

    @property
    def why(self) -> str:
        return (self.run.__doc__ or "").strip()


def registry() -> tuple[list[Attack], Callable[..., Callable[..., Callable[..., sc.SecStatus]]]]:
    """A list and a decorator that appends a docstring-carrying script to it."""
    found: list[Attack] = []

    def attack(
        status: sc.SecStatus, alert: int | None, via: str = "isc"
    ) -> Callable[[Callable[..., sc.SecStatus]], Callable[..., sc.SecStatus]]:
        def register(fn: Callable[..., sc.SecStatus]) -> Callable[..., sc.SecStatus]:
            assert fn.__doc__, f"{fn.__name__}: every attack documents its expected outcome"
            found.append(Attack(fn.__name__, fn, status, alert, via))
            return fn

        return register

    return found, attack


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
    assert status == case.status, f"{case.name}: {status!r} != {case.status!r}; {seen}"
    if case.alert is None:
        assert not harness.alert, f"{case.name}: unexpected alert {harness.alert.hex()}"
        assert all(d.remote for d in seen), seen
    elif case.via == "isc":
        assert open_alert(harness.alert) == (2, case.alert), (case.name, seen)
        if seen:
            assert seen[-1].description == case.alert and not seen[-1].remote
    else:
        assert seen and seen[-1].description == case.alert and not seen[-1].remote, seen
    # The SSPI surface names the same alert (SECPKG_ATTR_PY_HANDSHAKE_INFO, once there is
    # a handshake to report on): what a DecryptMessage caller sends with SCHANNEL_ALERT.
    info = sc.SecPkgContext_PyHandshakeInfo()
    if sc.QueryContextAttributes(harness.ctx, sc.SECPKG_ATTR_PY_HANDSHAKE_INFO, info) == 0:
        expected = case.alert if status not in FAILURES else None
        got_alert = info.bFailureAlert if info.fFailureAlert else None
        assert got_alert == expected, (case.name, got_alert, seen)
    if status not in FAILURES:
        # A failed context stays failed: no more handshake, no data either way.
        again, token = harness.isc(b"\x17\x03\x03\x00\x11" + bytes(17))
        assert again == status and not token
        assert harness.encrypt_status() != sc.SEC_E_OK
        got, plain = harness.decrypt(b"\x17\x03\x03\x00\x11" + bytes(17))
        assert got[0] != sc.SEC_E_OK and not plain


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
    assert status == sc.SEC_I_CONTINUE_NEEDED, status
    s.read_client_flight(token)


def finish12(s: Server12, h: Harness) -> None:
    """The rest of a correct TLS 1.2 handshake once ``s`` has read the ClientHello."""
    to_client_flight12(s, h)
    status, _ = h.feed(s.ccs() + s.prot(s.finished()))
    assert status == sc.SEC_E_OK, status
