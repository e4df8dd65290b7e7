"""The SSPI observer hook (schannel_py.sspi.observe): one event per call, the
package's own account of the bytes, messages and secrets each call moved."""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

import pytest

import schannel_py as sc
from schannel_py import keylog
from schannel_py.sspi import context as X
from schannel_py.sspi import observe
from schannel_py.testing import acquire_credential
from schannel_py.testing.memserver import MemoryServer
from schannel_py.tls.alerts import AlertDescription
from schannel_py.tls.keyschedule import traffic_keys
from schannel_py.tls.messages import HandshakeType as HT
from schannel_py.tls.record import ALERT, Protection13
from tests.support import peers
from tests.support.sspi_driver import CurlLoop

TLS12 = ssl.TLSVersion.TLSv1_2
TLS13 = ssl.TLSVersion.TLSv1_3


class RecordingServer(MemoryServer):
    """A MemoryServer that keeps every byte it was given and every byte it sent."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.got = bytearray()
        self.gave = bytearray()
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def feed(self, data: bytes) -> bytes:
        self.got += data
        out = super().feed(data)
        self.gave += out
        return out

    def write(self, data: bytes) -> bytes:
        out = super().write(data)
        self.gave += out
        return out

    def pending_output(self) -> bytes:
        out = super().pending_output()
        self.gave += out
        return out


def server(pki: peers.ServerPki, version: ssl.TLSVersion) -> RecordingServer:
    cert = pki.ecdsa
    return RecordingServer(
        Path(cert.fullchain), Path(cert.key), min_version=version, max_version=version
    )


def connection(loop: CurlLoop, srv: RecordingServer) -> list[sc.SecStatus]:
    """Handshake, data both ways, close_notify both ways, delete: every status the
    caller saw (the ISC legs of the handshake, then each call after it)."""
    statuses = [loop.handshake()]
    assert statuses[0] == sc.SEC_E_OK
    srv.feed(loop.encrypt(b"ping"))
    assert srv.read() == b"ping"
    loop.encdata += srv.write(b"pong")
    plain, seen = loop.decrypt_all()
    assert plain == b"pong"
    statuses += seen
    srv.feed(loop.shutdown())
    assert srv.read() == b""  # the client's close_notify: the server answers it
    try:
        srv.tls.unwrap()
    except ssl.SSLError:
        pass
    loop.encdata += srv.pending_output()
    _, seen = loop.decrypt_all()
    statuses += seen
    assert not loop.encdata
    statuses.append(sc.DeleteSecurityContext(loop.ctx))
    return statuses


def run(
    pki: peers.ServerPki, version: ssl.TLSVersion
) -> tuple[list[sc.SecStatus], RecordingServer]:
    srv = server(pki, version)
    loop = CurlLoop(srv, acquire_credential())
    return connection(loop, srv), srv


FLIGHT13 = [
    ("out", HT.client_hello),
    ("in", HT.server_hello),
    ("in", HT.encrypted_extensions),
    ("in", HT.certificate),
    ("in", HT.certificate_verify),
    ("in", HT.finished),
    ("out", HT.finished),
]
FLIGHT12 = [
    ("out", HT.client_hello),
    ("in", HT.server_hello),
    ("in", HT.certificate),
    ("in", HT.server_key_exchange),
    ("in", HT.server_hello_done),
    ("out", HT.client_key_exchange),
    ("out", HT.finished),
    ("in", HT.new_session_ticket),
    ("in", HT.finished),
]
SECRETS13 = [
    "early_secret",
    "ecdhe_shared_secret",
    "handshake_secret",
    "client_handshake_traffic_secret",
    "server_handshake_traffic_secret",
    "master_secret",
    "client_application_traffic_secret_0",
    "server_application_traffic_secret_0",
    "exporter_master_secret",
    "resumption_master_secret",
]


@pytest.mark.parametrize("version", [TLS13, TLS12], ids=["tls13", "tls12"])
def test_every_call_of_a_connection_is_reported(
    pki: peers.ServerPki, root_certs_env: Path, version: ssl.TLSVersion
) -> None:
    events: list[observe.SspiCall] = []
    with observe.add_observer(events.append):
        statuses, srv = run(pki, version)
    assert not observe.OBSERVERS

    calls = [(e.function, e.status) for e in events]
    isc = [s for f, s in calls if f == "InitializeSecurityContext"]
    assert isc[0] == sc.SEC_I_CONTINUE_NEEDED  # the ClientHello
    assert sc.SEC_E_OK in isc
    assert ("EncryptMessage", sc.SEC_E_OK) in calls
    assert ("ApplyControlToken", sc.SEC_E_OK) in calls
    assert ("DecryptMessage", sc.SEC_I_CONTEXT_EXPIRED) in calls
    assert calls[-1] == ("DeleteSecurityContext", sc.SEC_E_OK)
    decrypts = [s for f, s in calls if f == "DecryptMessage"]
    assert decrypts == statuses[1:-1]  # what the caller saw, call by call
    if version == TLS13:  # two tickets (each answered by an ISC), the data, close_notify
        assert decrypts == [sc.SEC_I_RENEGOTIATE] * 2 + [sc.SEC_E_OK, sc.SEC_I_CONTEXT_EXPIRED]
    else:
        assert decrypts == [sc.SEC_E_OK, sc.SEC_I_CONTEXT_EXPIRED]
    # One context throughout, named by every call that has one.
    contexts = {e.context for e in events if e.context is not None}
    assert len(contexts) == 1
    assert events[0].function == "AcquireCredentialsHandle"  # acquire() runs inside
    assert isinstance(events[0].after["phCredential"], observe.Handle)
    first = next(e for e in events if e.function == "InitializeSecurityContext")
    assert first.after["phNewContext"] in contexts
    assert first.params["phContext"] is None
    assert first.params["pszTargetName"] == "localhost"
    assert first.params["phCredential"] == events[0].after["phCredential"]

    # The bytes: exactly what crossed the wire, in order, either way.
    assert b"".join(e.received for e in events) == bytes(srv.gave)
    assert b"".join(e.sent for e in events) == bytes(srv.got)

    # The handshake messages, as the transcript has them.
    messages = [m for e in events for m in e.messages]
    flight = FLIGHT13 if version == TLS13 else FLIGHT12
    assert [(m.direction, m.type) for m in messages[: len(flight)]] == flight
    rest = [(m.direction, m.type) for m in messages[len(flight) :]]
    assert rest == ([("in", HT.new_session_ticket)] * 2 if version == TLS13 else [])
    assert messages[0].name == "client_hello"
    assert first.sent[5:] == messages[0].data  # the ClientHello record's body
    # Each message is reported by the call that processed it.
    assert [m.type for m in first.messages] == [HT.client_hello]

    # Secrets: names in derivation order, values the ones the connection used.
    secrets = [s for e in events for s in e.secrets]
    if version == TLS13:
        assert [s.label for s in secrets] == SECRETS13
        assert all(len(s.value) in (32, 48) for s in secrets)
    else:
        assert [s.label for s in secrets] == ["master_secret"]
        assert len(secrets[0].value) == 48
    assert secrets[0].value.hex() not in repr(secrets[0])  # events are safe to log
    deriving = [e for e in events if e.secrets]
    assert all(e.function == "InitializeSecurityContext" for e in deriving)
    assert all(len(e.client_random) == 32 for e in deriving)
    assert {e.version for e in deriving} == {0x0304 if version == TLS13 else 0x0303}
    assert all(e.failure is None for e in events)


def test_sslkeylogfile_set_after_import_is_honoured(
    pki: peers.ServerPki,
    root_certs_env: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The key log is a handshake observer switched on by the variable, no call needed."""
    keylog.reset()
    path = tmp_path / "keys.log"
    monkeypatch.setenv(keylog.ENV_VAR, str(path))
    assert not observe.OBSERVERS
    events: list[observe.SspiCall] = []
    with observe.add_observer(events.append):
        run(pki, TLS13)
    lines = path.read_text().splitlines()
    assert [line.split()[0] for line in lines] == [label for _, label in keylog.TLS13_LABELS]
    secrets = {s.label: s.value for e in events for s in e.secrets}
    cr = next(e.client_random for e in events if e.secrets)
    assert lines[0] == (
        f"CLIENT_HANDSHAKE_TRAFFIC_SECRET {cr.hex()} "
        f"{secrets['client_handshake_traffic_secret'].hex()}"
    )
    monkeypatch.delenv(keylog.ENV_VAR)
    run(pki, TLS13)
    assert len(path.read_text().splitlines()) == 5  # off again


def test_buffers_before_and_after_are_the_callers(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    events: list[observe.SspiCall] = []
    srv = server(pki, TLS13)
    loop = CurlLoop(srv, acquire_credential())
    with observe.add_observer(events.append):
        assert loop.handshake() == sc.SEC_E_OK
        loop.encrypt(b"x" * 10)
    isc = [e for e in events if e.function == "InitializeSecurityContext"]
    step = isc[1]
    before = step.buffers("pInput")
    after = step.buffers("pInput", after=True)
    assert before is not None and after is not None
    assert [b.type for b in before] == [sc.SECBUFFER_TOKEN, sc.SECBUFFER_EMPTY]
    assert before[0].data[: len(step.received)] == step.received
    out = step.buffers("pOutput", after=True)
    assert out is not None and out[0].type == sc.SECBUFFER_TOKEN
    assert step.params["fContextReq"] == loop.flags
    assert isinstance(step.after["pfContextAttr"], int)
    enc = next(e for e in events if e.function == "EncryptMessage")
    plain = enc.buffers("pMessage")
    sealed = enc.buffers("pMessage", after=True)
    assert plain is not None and sealed is not None
    assert plain[1].data == b"x" * 10 and sealed[1].data != b"x" * 10
    assert enc.sent == sealed[0].data + sealed[1].data + sealed[2].data
    sc.DeleteSecurityContext(loop.ctx)


def test_an_observer_that_raises_changes_nothing(
    pki: peers.ServerPki, root_certs_env: Path, caplog: pytest.LogCaptureFixture
) -> None:
    plain_statuses, _ = run(pki, TLS13)

    def broken(call: observe.SspiCall) -> None:
        raise RuntimeError("observer bug")

    events: list[observe.SspiCall] = []
    with caplog.at_level(logging.WARNING, logger="schannel_py.sspi.observe"):
        with observe.add_observer(broken), observe.add_observer(events.append):
            statuses, srv = run(pki, TLS13)
    assert statuses == plain_statuses
    assert b"".join(e.received for e in events) == bytes(srv.gave)  # the next one saw all
    assert any("observer bug" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_removing_the_observer_stops_events(pki: peers.ServerPki, root_certs_env: Path) -> None:
    events: list[observe.SspiCall] = []
    remove = observe.add_observer(events.append)
    sc.FreeCredentialsHandle(None)
    remove()
    remove()  # twice: harmless
    assert [e.function for e in events] == ["FreeCredentialsHandle"]
    assert events[0].status == sc.SEC_E_INVALID_HANDLE
    run(pki, TLS13)
    assert len(events) == 1


def test_calls_from_inside_an_observer_are_not_reported() -> None:
    seen: list[str] = []

    def nosy(call: observe.SspiCall) -> None:
        seen.append(call.function)
        sc.FreeCredentialsHandle(None)  # would recurse if it were reported

    with observe.add_observer(nosy):
        sc.FreeContextBuffer(None)
    assert seen == ["FreeContextBuffer"]


def test_a_wrong_name_certificate_is_reported_with_the_alert_sent(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    events: list[observe.SspiCall] = []
    srv = server(pki, TLS13)
    loop = CurlLoop(srv, acquire_credential(), target="wrong.example")
    with observe.add_observer(events.append):
        status = loop.handshake()
    assert status == sc.SEC_E_WRONG_PRINCIPAL
    failed = [e for e in events if e.failure is not None]
    assert len(failed) == 1
    event = failed[0]
    failure = event.failure
    assert failure is not None
    assert event.function == "InitializeSecurityContext" and event.status == status
    assert failure.status == status
    assert failure.alert == AlertDescription.certificate_unknown and not failure.remote
    assert failure.message
    assert loop.last_alert and event.sent.endswith(loop.last_alert)  # the alert record
    sc.DeleteSecurityContext(loop.ctx)


def test_a_bad_record_is_reported_with_the_alert_decided(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    srv = server(pki, TLS12)
    loop = CurlLoop(srv, acquire_credential())
    assert loop.handshake() == sc.SEC_E_OK
    record = bytearray(srv.write(b"data"))
    record[-1] ^= 1
    loop.encdata += record
    events: list[observe.SspiCall] = []
    with observe.add_observer(events.append):
        status, _ = loop.drv.decrypt_record()
    assert status == sc.SEC_E_MESSAGE_ALTERED
    (event,) = events
    assert event.function == "DecryptMessage" and event.status == status
    assert event.failure == observe.Failure(
        status,
        AlertDescription.bad_record_mac,
        False,
        event.failure.message if event.failure else "",
    )
    assert event.received == b""  # a rejected record is not counted as received
    ctx = X.CONTEXTS.get(loop.ctx)
    assert ctx is not None and ctx.failure_alert == AlertDescription.bad_record_mac
    sc.DeleteSecurityContext(loop.ctx)


def test_the_peers_alert_is_reported_as_received(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    srv = server(pki, TLS13)
    loop = CurlLoop(srv, acquire_credential())
    assert loop.handshake() == sc.SEC_E_OK
    loop.decrypt_all()  # the tickets
    events: list[observe.SspiCall] = []
    ctx = X.CONTEXTS.get(loop.ctx)
    assert ctx is not None
    # Python's ssl sends no alert on request: seal one as the server would.
    sealed = _server_record(ctx, ALERT, bytes([2, AlertDescription.handshake_failure]))
    loop.encdata += sealed
    with observe.add_observer(events.append):
        status, _ = loop.drv.decrypt_record()
    (event,) = events
    assert status != sc.SEC_E_OK
    assert event.failure is not None and event.failure.remote
    assert event.failure.alert == AlertDescription.handshake_failure
    sc.DeleteSecurityContext(loop.ctx)


def _server_record(ctx: X.Context, content_type: int, body: bytes) -> bytes:
    """A record sealed under the server's application keys, as the server would seal it."""
    client = ctx.client
    suite = client.suite
    assert suite is not None
    secret = client.secrets["server_application_traffic_secret_0"]
    key, iv = traffic_keys(suite.hash_name, secret, suite.key_len)
    protection = Protection13(suite, secret, key, iv)
    read = client.read_protection
    assert isinstance(read, Protection13)
    protection.seq = read.seq
    return protection.seal(content_type, body)


def test_a_connection_nobody_watches_keeps_no_handshake_messages(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    """Handshake messages are kept only for the calls an observer watches: an
    unobserved connection holds none of its handshake bytes afterwards (issue 20:
    the log cost time on every handshake and memory on every idle context)."""
    srv = server(pki, TLS13)
    loop = CurlLoop(srv, acquire_credential())
    assert loop.handshake() == sc.SEC_E_OK
    ctx = X.CONTEXTS.get(loop.ctx)
    assert ctx is not None and ctx.client.message_log is None
    sc.DeleteSecurityContext(loop.ctx)


def test_an_observer_added_mid_connection_sees_the_messages_of_its_calls(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    """Added after an unobserved handshake, an observer still gets the messages of
    every call it watches: here the NewSessionTickets DecryptMessage reads (each
    then answered by an ISC call)."""
    srv = server(pki, TLS13)
    loop = CurlLoop(srv, acquire_credential())
    assert loop.handshake() == sc.SEC_E_OK
    events: list[observe.SspiCall] = []
    with observe.add_observer(events.append):
        loop.encdata += srv.pending_output()  # the server's tickets
        loop.decrypt_all()
    decrypted = [e for e in events if e.function == "DecryptMessage"]
    assert decrypted and all(e.status == sc.SEC_I_RENEGOTIATE for e in decrypted)
    assert [[(m.direction, m.type) for m in e.messages] for e in decrypted] == [
        [("in", HT.new_session_ticket)]
    ] * len(decrypted)
    sc.DeleteSecurityContext(loop.ctx)
