"""TlsServer resumes sessions: TLS 1.3 tickets (PSK with (EC)DHE), TLS 1.2 session IDs
and RFC 5077 tickets; against the package's SSPI client and Python's ssl (OpenSSL)."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import pytest

import schannel_py as sc
from schannel_py.driver import SspiDriver
from schannel_py.sspi import observe
from schannel_py.testing import (
    CHUNKINGS,
    Chunking,
    TlsServer,
    Transport,
    acquire_credential,
    client_certificate_context,
    make_leaf,
    make_pki,
    reference_client,
)
from schannel_py.testing.builders import record
from schannel_py.tls.alerts import AlertDescription
from schannel_py.tls.groups import SECP384R1
from schannel_py.tls.messages import ClientHello, Ext, HandshakeType
from schannel_py.tls.record import HANDSHAKE

HT = HandshakeType

#: (versions, tickets): TLS 1.3 resumes a ticket; TLS 1.2 a ticket or a session ID.
CASES = {
    "tls13": (("1.3",), 1, "psk"),
    "tls12-ticket": (("1.2",), 1, "ticket"),
    "tls12-session-id": (("1.2",), 0, "session_id"),
}


def connect(
    server: TlsServer, cred: sc.CredHandle, chunking: Chunking | None = None, **kw: Any
) -> tuple[SspiDriver, list[int]]:
    """A handshake of the reference client; also the handshake message types it read."""
    calls: list[observe.SspiCall] = []
    with observe.add_observer(calls.append):
        client = reference_client(Transport(server, chunking, seed=7), cred, **kw)
        client.handshake()
    read = [m.type for call in calls for m in call.messages if m.direction == "in"]
    return client, read


def reconnected(client: SspiDriver) -> bool:
    """The client's side: SECPKG_ATTR_SESSION_INFO says SSL_SESSION_RECONNECT."""
    info = sc.SecPkgContext_SessionInfo()
    client.query(sc.SECPKG_ATTR_SESSION_INFO, info)
    return bool(info.dwFlags & sc.SSL_SESSION_RECONNECT)


def handshake_info(client: SspiDriver) -> sc.SecPkgContext_PyHandshakeInfo:
    info = sc.SecPkgContext_PyHandshakeInfo()
    client.query(sc.SECPKG_ATTR_PY_HANDSHAKE_INFO, info)
    return info


def first_connection(versions: tuple[str, ...], tickets: int, **kw: Any) -> tuple:
    """A full handshake that leaves a session in the client's cache and the server's store."""
    cred = acquire_credential(manual_validation=True)
    first = TlsServer(versions=versions, tickets=tickets, echo=True, **kw)  # type: ignore[arg-type]
    client, read = connect(first, cred)
    client.send(b"one")
    assert client.recv() == b"one"  # (TLS 1.3: the ticket is read with the data)
    assert not first.resumed and first.resumed_with is None and not reconnected(client)
    assert HT.certificate in read
    return cred, first


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("chunking", CHUNKINGS, ids=str)
def test_second_connection_resumes(case: str, chunking: Chunking) -> None:
    versions, tickets, how = CASES[case]
    cred, first = first_connection(versions, tickets)
    assert len(first.sessions.tickets) == tickets
    assert len(first.sessions.session_ids) == (versions == ("1.2",))
    second = TlsServer(versions=versions, tickets=tickets, echo=True, sessions=first.sessions)
    client, read = connect(second, cred, chunking)
    assert second.resumed and second.resumed_with == how and second.error is None
    assert reconnected(client)
    assert second.sessions is first.sessions and first.sessions.resumptions == 1
    # Nothing that authenticates the server: no Certificate, no signature.
    assert HT.certificate not in read and HT.certificate_verify not in read
    assert HT.server_key_exchange not in read
    assert handshake_info(client).wPeerSignatureScheme == 0
    assert second.cipher_suite == first.cipher_suite
    if versions == ("1.3",):
        assert read == [HT.server_hello, HT.encrypted_extensions, HT.finished]
        assert second.group is not None  # psk_dhe_ke
    else:
        # Abbreviated: the server's Finished first; the ServerHello echoed the session ID.
        assert read[0] == HT.server_hello and read[-1] == HT.finished
        assert second.client_hello is not None and second.group is None
        assert second.session_id == second.client_hello.session_id
        if how == "session_id":
            assert second.session_id == first.session_id
    client.send(b"two" * 7000)
    assert b"".join(client.recv() for _ in range(2)) == b"two" * 7000
    assert bytes(second.received) == b"two" * 7000


@pytest.mark.parametrize("case", sorted(CASES))
def test_resumption_false_makes_every_handshake_full(case: str) -> None:
    versions, tickets, _ = CASES[case]
    cred, first = first_connection(versions, tickets)
    second = TlsServer(versions=versions, sessions=first.sessions, resumption=False)
    client, read = connect(second, cred)
    assert not second.resumed and not reconnected(client) and second.error is None
    assert HT.certificate in read
    assert first.sessions.resumptions == 0


@pytest.mark.parametrize("versions", [("1.3",), ("1.2",)], ids=["tls13", "tls12"])
def test_a_server_without_resumption_remembers_nothing(versions: tuple[str, ...]) -> None:
    cred = acquire_credential(manual_validation=True)
    server = TlsServer(versions=versions, tickets=2, resumption=False)  # type: ignore[arg-type]
    client, _ = connect(server, cred)
    server.send_data(b"x")
    assert client.recv() == b"x"
    assert handshake_info(client).cTicketsReceived == (2 if versions == ("1.3",) else 1)
    assert server.sessions.tickets == {} and server.sessions.session_ids == {}
    assert server.session_id == b""  # TLS 1.2: no session ID either


@pytest.mark.parametrize("case", sorted(CASES))
def test_another_servers_session_is_not_resumed(case: str) -> None:
    """Unknown to the server's store: a full handshake, which the client accepts."""
    versions, tickets, _ = CASES[case]
    cred, first = first_connection(versions, tickets)
    other = TlsServer(versions=versions)  # type: ignore[arg-type]
    client, read = connect(other, cred)
    assert not other.resumed and not reconnected(client) and other.error is None
    assert HT.certificate in read
    assert other.client_hello is not None
    offered = dict(other.client_hello.extensions)
    if versions == ("1.3",):
        assert Ext.pre_shared_key in offered  # the client did offer its ticket
    else:
        assert other.client_hello.session_id  # its session ID (and ticket) too


def test_send_ticket_after_the_handshake_is_resumable() -> None:
    cred = acquire_credential(manual_validation=True)
    first = TlsServer(echo=True)
    client, _ = connect(first, cred)
    first.send_ticket(ticket=b"chosen by the test")
    client.send(b"x")
    assert client.recv() == b"x"
    assert list(first.sessions.tickets) == [b"chosen by the test"]
    second = TlsServer(sessions=first.sessions)
    client, _ = connect(second, cred)
    assert second.resumed and reconnected(client)


def test_tickets_of_a_resumed_connection_resume_again() -> None:
    cred, first = first_connection(("1.3",), 1)
    second = TlsServer(tickets=1, echo=True, sessions=first.sessions)
    client, _ = connect(second, cred)
    client.send(b"x")
    assert client.recv() == b"x"  # reads the resumed connection's own ticket
    assert second.resumed and len(first.sessions.tickets) == 2
    third = TlsServer(sessions=first.sessions)
    client, read = connect(third, cred)
    assert third.resumed and reconnected(client) and HT.certificate not in read
    assert first.sessions.resumptions == 2


def test_tls13_resumption_after_a_hello_retry_request() -> None:
    """The binder of the second ClientHello covers message_hash(ClientHello1) and the
    HelloRetryRequest (RFC 8446 4.2.11.2)."""
    cred, first = first_connection(("1.3",), 1)
    second = TlsServer(group=SECP384R1, sessions=first.sessions)
    client, read = connect(second, cred)
    assert second.hello_retry_sent and second.client_hellos == 2
    assert second.resumed and reconnected(client) and HT.certificate not in read
    assert handshake_info(client).fHelloRetryRequest


def test_a_wrong_binder_is_a_decrypt_error() -> None:
    cred, first = first_connection(("1.3",), 1)
    second = TlsServer(sessions=first.sessions)
    client = reference_client(Transport(second), cred)
    hello = client.first_call()
    assert ClientHello.parse(hello[5:]).extensions[-1][0] == Ext.pre_shared_key
    second.receive(hello[:-1] + bytes([hello[-1] ^ 1]))  # the binder's last bit
    assert second.error is not None and second.error.alert == AlertDescription.decrypt_error
    assert "binder" in str(second.error)
    assert second.take() == b"\x15\x03\x03\x00\x02\x02\x33" and second.closed
    assert not second.resumed and first.sessions.resumptions == 0
    client.close()


def _rewritten(hello: bytes, change: Callable[[ClientHello], ClientHello]) -> bytes:
    """The client's first flight (one ClientHello record), changed by ``change``."""
    return record(HANDSHAKE, change(ClientHello.parse(hello[5:])).encode())


def _with_extensions(ch: ClientHello, exts: list[tuple[int, bytes]]) -> ClientHello:
    return ClientHello(ch.random, ch.session_id, ch.cipher_suites, exts, ch.legacy_version)


def test_psk_ke_alone_gets_a_full_handshake() -> None:
    """Only psk_ke (no (EC)DHE): the server does not resume (it has no PSK-only mode)."""
    cred, first = first_connection(("1.3",), 1)
    second = TlsServer(sessions=first.sessions)
    client = reference_client(Transport(second), cred)
    ch = ClientHello.parse(client.first_call()[5:])
    modes = dict(ch.extensions)[Ext.psk_key_exchange_modes]
    assert modes == b"\x01\x01"  # the client offers psk_dhe_ke
    exts = [(c, b"\x01\x00" if c == Ext.psk_key_exchange_modes else b) for c, b in ch.extensions]
    second.receive(record(HANDSHAKE, _with_extensions(ch, exts).encode()))
    assert second.error is None and not second.resumed and second.version == 0x0304
    client.close()


def test_tls12_session_without_extended_master_secret_is_refused() -> None:
    """RFC 7627 5.3: a session made with EMS, offered without it, aborts the handshake."""
    cred, first = first_connection(("1.2",), 0)
    second = TlsServer(versions=("1.2",), sessions=first.sessions)
    client = reference_client(Transport(second), cred)
    hello = client.first_call()
    assert ClientHello.parse(hello[5:]).session_id == first.session_id
    second.receive(
        _rewritten(
            hello,
            lambda ch: _with_extensions(
                ch, [e for e in ch.extensions if e[0] != Ext.extended_master_secret]
            ),
        )
    )
    assert second.error is not None
    assert second.error.alert == AlertDescription.handshake_failure and not second.resumed
    client.close()


def test_tls12_session_whose_suite_is_not_offered_gets_a_full_handshake() -> None:
    cred, first = first_connection(("1.2",), 0)
    second = TlsServer(versions=("1.2",), sessions=first.sessions)
    client = reference_client(Transport(second), cred)
    hello = client.first_call()

    def without_the_suite(ch: ClientHello) -> ClientHello:
        suites = [s for s in ch.cipher_suites if s != first.cipher_suite]
        return ClientHello(ch.random, ch.session_id, suites, ch.extensions, ch.legacy_version)

    second.receive(_rewritten(hello, without_the_suite))
    assert second.error is None and not second.resumed
    assert second.cipher_suite != first.cipher_suite and second.session_id != first.session_id
    client.close()


@pytest.mark.parametrize("versions", [("1.3",), ("1.2",)], ids=["tls13", "tls12"])
def test_resumed_handshake_keeps_the_client_certificate(versions: tuple[str, ...]) -> None:
    pki = make_pki(dns_names=["localhost"])
    leaf = make_leaf(pki.intermediate, common_name="me", dns_names=(), eku=("clientAuth",))
    cred = acquire_credential(certificate=client_certificate_context(leaf), manual_validation=True)
    options: dict[str, Any] = {
        "versions": versions,
        "client_auth": "required",
        "client_cas": [pki.root],
        "tickets": 1,
        "echo": True,
    }
    first = TlsServer(pki.leaf, **options)
    client, _ = connect(first, cred)
    client.send(b"x")
    assert client.recv() == b"x"
    assert first.client_certificate is not None and first.client_certificate[0] == leaf.der
    second = TlsServer(pki.leaf, sessions=first.sessions, **options)
    client, read = connect(second, cred)
    assert second.resumed and reconnected(client)
    assert HT.certificate_request not in read  # RFC 8446 4.3.2: not with a PSK
    assert second.client_certificate == first.client_certificate
    client.send(b"y")
    assert client.recv() == b"y"


@pytest.mark.parametrize("versions", [("1.3",), ("1.2",)], ids=["tls13", "tls12"])
def test_a_server_requiring_a_certificate_does_not_resume_a_session_without_one(
    versions: tuple[str, ...],
) -> None:
    pki = make_pki(dns_names=["localhost"])
    leaf = make_leaf(pki.intermediate, common_name="me", dns_names=(), eku=("clientAuth",))
    cred = acquire_credential(certificate=client_certificate_context(leaf), manual_validation=True)
    first = TlsServer(pki.leaf, versions=versions, tickets=1, echo=True)  # type: ignore[arg-type]
    client, _ = connect(first, cred)
    client.send(b"x")
    assert client.recv() == b"x"
    assert first.client_certificate is None and first.sessions.tickets
    second = TlsServer(
        pki.leaf,
        versions=versions,  # type: ignore[arg-type]
        client_auth="required",
        client_cas=[pki.root],
        echo=True,
        sessions=first.sessions,
    )
    client, read = connect(second, cred)
    assert not second.resumed and not reconnected(client)
    assert HT.certificate_request in read
    client.send(b"y")
    assert client.recv() == b"y"
    assert second.client_certificate is not None and second.client_certificate[0] == leaf.der


# --- Python's ssl module (OpenSSL) as the client -----------------------------------------


class PySslClient:
    """An ssl.SSLObject over memory BIOs, its bytes carried to a TlsServer."""

    def __init__(
        self, ctx: ssl.SSLContext, server: TlsServer, session: ssl.SSLSession | None = None
    ) -> None:
        self.server = server
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(
            self.incoming, self.outgoing, server_hostname="localhost", session=session
        )

    def _flush(self) -> None:
        self.server.receive(self.outgoing.read())

    def _run(self, step: Callable[[], Any]) -> Any:
        for _ in range(100):
            try:
                result = step()
            except ssl.SSLWantReadError:
                self._flush()
                data = self.server.take()
                assert data, f"stalled; server error {self.server.error}"
                self.incoming.write(data)
            else:
                self._flush()
                return result
        raise AssertionError("no progress")

    def handshake(self) -> None:
        self._run(self.tls.do_handshake)

    def echo(self, data: bytes) -> bytes:
        self.tls.write(data)
        self._flush()
        return bytes(self._run(lambda: self.tls.read(len(data))))


def _pyssl_context(version: ssl.TLSVersion) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx.maximum_version = version
    return ctx


@pytest.mark.parametrize(
    ("version", "tickets", "how"),
    [
        (ssl.TLSVersion.TLSv1_3, 1, "psk"),
        (ssl.TLSVersion.TLSv1_2, 1, "ticket"),
        (ssl.TLSVersion.TLSv1_2, 0, "session_id"),
    ],
    ids=["tls13", "tls12-ticket", "tls12-session-id"],
)
def test_pythons_ssl_client_resumes(version: ssl.TLSVersion, tickets: int, how: str) -> None:
    """An independent client (OpenSSL through Python's ssl) resumes the server's session."""
    ctx = _pyssl_context(version)
    first = TlsServer(tickets=tickets, echo=True)
    one = PySslClient(ctx, first)
    one.handshake()
    assert one.echo(b"first") == b"first"  # (TLS 1.3: the ticket comes before it)
    assert not one.tls.session_reused and not first.resumed
    session = one.tls.session
    assert session is not None and session.has_ticket == bool(tickets)
    second = TlsServer(tickets=tickets, echo=True, sessions=first.sessions)
    two = PySslClient(ctx, second, session)
    two.handshake()
    assert two.tls.session_reused  # OpenSSL's view
    assert second.resumed and second.resumed_with == how and second.error is None
    assert second.version == first.version == (0x0304 if how == "psk" else 0x0303)
    assert two.echo(b"second") == b"second"
    # Without resumption the same offer gets a full handshake.
    third = TlsServer(sessions=first.sessions, resumption=False)
    three = PySslClient(ctx, third, session)
    three.handshake()
    assert not three.tls.session_reused and not third.resumed and third.error is None


def test_a_renegotiation_of_a_resumed_connection_is_not_a_reconnect() -> None:
    """A renegotiation offers no session, so after a resumed TLS 1.2 handshake it is a
    full one: SECPKG_ATTR_SESSION_INFO no longer says SSL_SESSION_RECONNECT.  (The
    client used to keep reporting the first handshake's resumption.)"""
    cred = acquire_credential(manual_validation=True, versions=("1.2",))
    first = TlsServer(versions=("1.2",), echo=True)
    connect(first, cred)
    second = TlsServer(versions=("1.2",), sessions=first.sessions, echo=True)
    client, _ = connect(second, cred)
    assert second.resumed and reconnected(client)
    second.hello_request()
    second.send_data(b"after")
    assert client.recv() == b"after"
    assert second.handshakes == 2 and not second.resumed  # the server did a full one
    assert not reconnected(client)
