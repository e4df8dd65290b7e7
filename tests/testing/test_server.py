"""schannel_py.testing.TlsServer against the package's SSPI client (the reference loop)."""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path

import pytest

import schannel_py as sc
from schannel_py.driver import CURL_REQ_FLAGS, SspiEOFError, SspiError
from schannel_py.testing import (
    CHUNKINGS,
    MISBEHAVIOURS,
    Chunking,
    SocketPeer,
    TlsServer,
    TranscriptMismatch,
    Transport,
    acquire_credential,
    assert_same_transcript,
    client_certificate_context,
    deterministic,
    make_leaf,
    make_pki,
    make_self_signed,
    reference_client,
    save_transcript,
)
from schannel_py.tls.alerts import AlertDescription
from schannel_py.tls.groups import SECP256R1, SECP384R1, X25519, X25519MLKEM768

VERSIONS = [("1.3",), ("1.2",)]


def connect(server: TlsServer, chunking: Chunking | None = None, **kw: object) -> tuple:
    transport = Transport(server, chunking, seed=7)
    client = reference_client(transport, **kw)  # type: ignore[arg-type]
    client.handshake()
    return client, transport


@pytest.mark.parametrize("versions", VERSIONS, ids=["tls13", "tls12"])
@pytest.mark.parametrize("chunking", CHUNKINGS, ids=str)
def test_default_server_is_a_normal_server(versions: tuple, chunking: Chunking) -> None:
    server = TlsServer(versions=versions, echo=True)
    client, transport = connect(server, chunking)
    assert server.handshake_complete and server.error is None
    assert server.version == (0x0304 if versions == ("1.3",) else 0x0303)
    client.send(b"ping" * 5000)  # two records
    assert b"".join(client.recv() for _ in range(2)) == b"ping" * 5000
    assert bytes(server.received) == b"ping" * 5000
    server.close()
    assert client.recv() == b""
    client.shutdown()
    assert server.client_closed
    if chunking.kind == "bytes":
        assert set(transport.reads) == {1}


def test_prefers_tls13_and_the_clients_suite_and_group() -> None:
    server = TlsServer()
    connect(server)
    assert server.version == 0x0304
    assert server.cipher_suite == 0x1302  # SChannel's first suite
    assert server.group == X25519MLKEM768  # SChannel's first key share
    assert not server.hello_retry_sent


@pytest.mark.parametrize("suite", [0x1301, 0x1302, 0x1303])
def test_forced_tls13_suite(suite: int) -> None:
    server = TlsServer(suite=suite, echo=True)
    client, _ = connect(server)
    info = sc.SecPkgContext_CipherInfo()
    client.query(sc.SECPKG_ATTR_CIPHER_INFO, info)
    assert info.dwCipherSuite == suite == server.cipher_suite


@pytest.mark.parametrize("suite", [0xC02B, 0xC02C, 0xCCA9])
def test_forced_tls12_suite(suite: int) -> None:
    server = TlsServer(versions=("1.2",), suite=suite)
    connect(server)
    assert server.cipher_suite == suite


def test_tls12_with_an_rsa_certificate() -> None:
    server = TlsServer(make_self_signed(key_type="rsa2048", key_label="rsa"), versions=("1.2",))
    connect(server)
    assert server.cipher_suite in (0xC02F, 0xC030, 0xCCA8)


def test_group_without_a_share_makes_a_hello_retry() -> None:
    server = TlsServer(group=SECP384R1)
    client, _ = connect(server)
    assert server.hello_retry_sent and server.client_hellos == 2 and server.group == SECP384R1
    info = sc.SecPkgContext_PyHandshakeInfo()
    client.query(sc.SECPKG_ATTR_PY_HANDSHAKE_INFO, info)
    assert info.fHelloRetryRequest


def test_forced_hello_retry_for_a_shared_group_uses_a_cookie() -> None:
    server = TlsServer(group=X25519, hello_retry=True)
    connect(server)
    assert server.hello_retry_sent and server.client_hellos == 2 and server.group == X25519


def test_tls12_group_choice() -> None:
    server = TlsServer(versions=("1.2",), group=SECP256R1)
    connect(server)
    assert server.group == SECP256R1


def test_alpn() -> None:
    server = TlsServer(alpn=[b"h2"])
    client, _ = connect(server, alpn=[b"http/1.1", b"h2"])
    assert client.negotiated_alpn() == b"h2" == server.selected_alpn


def test_no_common_version_is_a_protocol_version_alert() -> None:
    server = TlsServer(versions=("1.2",))
    transport = Transport(server)
    client = reference_client(
        transport, acquire_credential(manual_validation=True, versions=("1.3",))
    )
    with pytest.raises(SspiError) as failure:
        client.handshake()
    assert server.error is not None and server.error.alert == AlertDescription.protocol_version
    assert failure.value.status == sc.SEC_E_UNSUPPORTED_FUNCTION  # a protocol_version alert


def test_ticket_and_data_in_one_read_byte_at_a_time() -> None:
    server = TlsServer(tickets=2)
    server.send_data(b"first")
    seen: list[str] = []
    client, _ = connect(
        server, Chunking.byte_at_a_time(), on_renegotiate=lambda d: seen.append("renegotiate")
    )
    assert client.recv() == b"first"
    assert seen == ["renegotiate", "renegotiate"]


def test_key_update_both_ways() -> None:
    server = TlsServer(echo=True)
    client, _ = connect(server)
    server.key_update(request=True)
    server.send_data(b"after")
    assert client.recv() == b"after"  # the client answered with its own KeyUpdate
    assert server.key_updates_received == 1
    client.key_update(requested=True)
    client.send(b"again")
    assert client.recv() == b"again"
    assert server.key_updates_received == 2


@pytest.mark.parametrize("versions", VERSIONS, ids=["tls13", "tls12"])
def test_client_certificate_required(versions: tuple) -> None:
    pki = make_pki(dns_names=["localhost"])
    client_leaf = make_leaf(pki.intermediate, common_name="me", dns_names=(), eku=("clientAuth",))
    server = TlsServer(
        pki.leaf, versions=versions, client_auth="required", client_cas=[pki.root], echo=True
    )
    cert = client_certificate_context(client_leaf)
    asked: list[int] = []

    def retry(driver: object) -> None:
        asked.append(1)
        client.cred = acquire_credential(certificate=cert, manual_validation=True)

    transport = Transport(server)
    client = reference_client(
        transport,
        acquire_credential(flags=sc.SCH_CRED_NO_DEFAULT_CREDS, manual_validation=True),
        req_flags=CURL_REQ_FLAGS & ~sc.ISC_REQ_USE_SUPPLIED_CREDS,
        check_flags=False,
        on_incomplete_credentials=retry,
    )
    client.handshake()
    assert asked == [1]
    assert server.client_certificate is not None
    assert server.client_certificate[0] == client_leaf.der
    client.send(b"x")
    assert client.recv() == b"x"


def test_missing_required_client_certificate_is_refused() -> None:
    server = TlsServer(client_auth="required")
    transport = Transport(server)
    client = reference_client(transport)  # curl: continues without a certificate
    client.handshake()  # TLS 1.3: the client is done before the server decides
    with pytest.raises(SspiError):
        client.recv()
    assert server.client_certificate == []
    assert server.error is not None
    assert server.error.alert == AlertDescription.certificate_required


def test_hello_request_renegotiates() -> None:
    server = TlsServer(versions=("1.2",), echo=True)
    client, _ = connect(server)
    server.hello_request()
    server.send_data(b"late")
    assert client.recv() == b"late"
    assert server.handshakes == 2


def test_hello_request_refused_by_a_server_that_will_not_renegotiate() -> None:
    server = TlsServer(versions=("1.2",), renegotiation=False)
    client, _ = connect(server)
    assert client.renegotiate() == sc.SEC_I_NO_RENEGOTIATION
    assert server.handshakes == 1


@pytest.mark.parametrize("versions", VERSIONS, ids=["tls13", "tls12"])
def test_fatal_alert_from_the_server(versions: tuple) -> None:
    server = TlsServer(versions=versions)
    client, _ = connect(server)
    server.send_alert(AlertDescription.internal_error)
    with pytest.raises(SspiError) as failure:
        client.recv()
    assert failure.value.call == "DecryptMessage"
    assert server.closed


def test_close_without_close_notify_is_a_truncation() -> None:
    server = TlsServer()
    client, _ = connect(server)
    server.send_data(b"partial")
    server.close(notify=False)
    assert client.recv() == b"partial"
    with pytest.raises(SspiEOFError) as eof:
        client.recv()
    assert not eof.value.truncated


def test_truncated_stream() -> None:
    server = TlsServer()
    client, _ = connect(server)
    server.send_data(b"0123456789")
    transport = Transport(server, truncate_after=3)  # a fresh view of the same server
    client._recv = transport.recv
    with pytest.raises(SspiEOFError) as eof:
        client.recv()
    assert eof.value.truncated


@pytest.mark.parametrize("seed", range(4))
def test_one_flipped_byte_fails_the_handshake(seed: int) -> None:
    server = TlsServer()
    transport = Transport(server, seed=seed, flip="random", flip_window=300)
    client = reference_client(transport)
    with pytest.raises(SspiError):
        client.handshake()
    assert transport.flip_at is not None and transport.flip_at < len(transport.delivered)


def test_flip_is_reproducible_from_the_seed() -> None:
    a = Transport(TlsServer(), seed=5, flip="random")
    b = Transport(TlsServer(), seed=5, flip="random")
    assert a.flip_at == b.flip_at and repr(a) == repr(b)
    assert "seed=5" in repr(a)


@pytest.mark.parametrize("versions", VERSIONS, ids=["tls13", "tls12"])
def test_deterministic_runs_are_identical_byte_for_byte(versions: tuple) -> None:
    identity = make_self_signed(key_type="ed25519", key_label="deterministic")
    runs = []
    for _ in range(2):
        with deterministic(seed=11) as det:
            server = TlsServer(identity, versions=versions, group=X25519, random=det.server_random)
            server.send_data(b"hello")
            client, transport = connect(server, Chunking.random(50))
            assert client.recv() == b"hello"
            client.send(b"bye")
        runs.append((bytes(transport.sent), bytes(transport.delivered), transport.reads))
    assert runs[0] == runs[1]
    with deterministic(seed=12) as det:
        server = TlsServer(identity, versions=versions, group=X25519, random=det.server_random)
        _, transport = connect(server)
    assert bytes(transport.sent)[:200] != runs[0][0][:200]


def test_records_chunking_hands_out_whole_records() -> None:
    server = TlsServer(versions=("1.2",))
    _, transport = connect(server, Chunking.records())
    data, off = bytes(transport.delivered), 0
    for n in transport.reads:
        assert int.from_bytes(data[off + 3 : off + 5], "big") + 5 == n
        off += n


def test_stalled_loop_is_reported() -> None:
    from schannel_py.testing import Stalled

    server = TlsServer()
    client, _ = connect(server)
    with pytest.raises(Stalled, match="nothing to send"):
        client.recv()


def test_idle_eof() -> None:
    server = TlsServer()
    transport = Transport(server, idle_eof=True)
    client = reference_client(transport)
    client.handshake()
    with pytest.raises(SspiEOFError):
        client.recv()


def test_a_server_refuses_what_is_not_a_client_hello() -> None:
    server = TlsServer()
    server.receive(b"\x16\x03\x01\x00\x04" + bytes(4))  # a HelloRequest
    assert server.error is not None
    assert server.error.alert == AlertDescription.unexpected_message
    assert server.take() == b"\x15\x03\x03\x00\x02\x02\x0a" and server.closed


def test_queued_actions_are_one_flight_after_the_handshake() -> None:
    server = TlsServer(versions=("1.2",))
    server.send_data(b"a")
    server.send_data(b"b")
    client, _ = connect(server)
    # TLS 1.2: the data rides with the server's Finished (EXTRA of the last ISC).
    assert client.recv() + client.recv() == b"ab"


def test_client_initiated_tls12_renegotiation() -> None:
    server = TlsServer(versions=("1.2",), echo=True)
    client, _ = connect(server)
    assert client.renegotiate() == sc.SEC_E_OK
    assert server.handshakes == 2
    client.send(b"after")
    assert client.recv() == b"after"


def test_tickets_are_accepted_back_by_a_server_sharing_the_sessions() -> None:
    """The client offers the ticket on its next connection: a server with another
    session store ignores it (a full handshake, which SChannel accepts); one sharing
    the first server's ``sessions`` resumes (tests/testing/test_server_resumption.py)."""
    cred = acquire_credential(manual_validation=True)
    first = TlsServer(tickets=2)  # the client uses each ticket once
    client, _ = connect(first, cred=cred)
    first.send_data(b"x")
    assert client.recv() == b"x"
    info = sc.SecPkgContext_PyHandshakeInfo()
    client.query(sc.SECPKG_ATTR_PY_HANDSHAKE_INFO, info)
    assert info.cTicketsReceived == 2
    other = TlsServer()
    connect(other, cred=cred)
    assert other.client_hello is not None
    assert any(code == 41 for code, _ in other.client_hello.extensions)  # pre_shared_key
    assert other.handshake_complete and not other.resumed
    second = TlsServer(sessions=first.sessions)
    connect(second, cred=cred)
    assert second.handshake_complete and second.resumed and second.resumed_with == "psk"


def test_tls12_ticket_during_the_handshake() -> None:
    server = TlsServer(versions=("1.2",), tickets=1, echo=True)
    client, _ = connect(server)
    info = sc.SecPkgContext_PyHandshakeInfo()
    client.query(sc.SECPKG_ATTR_PY_HANDSHAKE_INFO, info)
    assert info.cTicketsReceived == 1 and info.fExtendedMasterSecret
    assert info.fSecureRenegotiation
    client.send(b"t")
    assert client.recv() == b"t"


def test_transcript_recorded_then_compared(tmp_path: Path) -> None:
    identity = make_self_signed(key_type="ed25519", key_label="deterministic")

    def run(seed: int) -> Transport:
        with deterministic(seed=seed) as det:
            server = TlsServer(identity, group=X25519, random=det.server_random, echo=True)
            client, transport = connect(server, Chunking.fixed(100))
            client.send(b"same every time")
            assert client.recv() == b"same every time"
        return transport

    path = tmp_path / "transcript"
    save_transcript(run(3), path)
    assert_same_transcript(run(3), path)
    with pytest.raises(TranscriptMismatch, match="sent: first difference at byte"):
        assert_same_transcript(run(4), path)


def test_a_plaintext_alert_after_the_server_flight_is_read() -> None:
    """A client that fails on the ServerHello answers in plaintext (it has no keys yet)."""
    server = TlsServer(suite=0x1302)
    transport = Transport(server)
    client = reference_client(transport)
    hello = client.first_call()
    transport.send(hello)
    assert server.take()  # ServerHello and the encrypted flight
    server.receive(b"\x15\x03\x03\x00\x02\x02\x2f")  # illegal_parameter, in the clear
    assert server.alerts == [(2, 47)] and server.closed
    client.close()


#: Each misbehaviour, and what SChannel makes of it: (status, the call that returns it,
#: the alert the server reads, or the alert the context failed on when the call has no
#: ALERT buffer).
MISBEHAVING = {
    "bad_finished": (sc.SEC_E_DECRYPT_FAILURE, "InitializeSecurityContext", 51),
    "bad_signature": (sc.SEC_E_DECRYPT_FAILURE, "InitializeSecurityContext", 51),
    "unoffered_suite": (sc.SEC_E_ILLEGAL_MESSAGE, "InitializeSecurityContext", 47),
    "downgrade_sentinel": (sc.SEC_E_DOWNGRADE_DETECTED, "InitializeSecurityContext", 47),
    "no_renegotiation_info": (sc.SEC_E_ALGORITHM_MISMATCH, "InitializeSecurityContext", 40),
    "oversized_record": (sc.SEC_E_ILLEGAL_MESSAGE, "DecryptMessage", 22),
}


def test_every_misbehaviour_is_tested() -> None:
    assert set(MISBEHAVING) == set(MISBEHAVIOURS)
    with pytest.raises(ValueError, match="unknown misbehaviour"):
        TlsServer(misbehave="nonsense")  # type: ignore[arg-type]


@pytest.mark.parametrize("versions", VERSIONS, ids=["tls13", "tls12"])
@pytest.mark.parametrize("name", sorted(MISBEHAVING))
def test_misbehaviour(name: str, versions: tuple) -> None:
    status, call, alert = MISBEHAVING[name]
    server = TlsServer(versions=versions, misbehave=name)  # type: ignore[arg-type]
    client = reference_client(Transport(server))
    with pytest.raises(SspiError) as failure:
        client.handshake()
        server.send_data(b"x" * 20000)
        client.recv()
    assert (failure.value.call, failure.value.status) == (call, status)
    if call == "InitializeSecurityContext":
        assert server.alerts == [(2, alert)]
    else:
        info = sc.SecPkgContext_PyHandshakeInfo()
        client.query(sc.SECPKG_ATTR_PY_HANDSHAKE_INFO, info)
        assert info.fFailureAlert and info.bFailureAlert == alert


def _python_echo_server(sock: socket.socket, cert: Path, key: Path, errors: list) -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    try:
        with ctx.wrap_socket(sock, server_side=True) as tls:
            tls.sendall(b"echo: " + tls.recv(100))
            tls.unwrap()
    except Exception as e:  # reported by the test
        errors.append(e)


@pytest.mark.parametrize("chunking", [Chunking.byte_at_a_time(), Chunking.random(7)], ids=str)
def test_a_real_server_over_a_socket_pair(tmp_path: Path, chunking: Chunking) -> None:
    """SocketPeer: Python's ssl server on a socket pair, its bytes cut by the transport."""
    paths = make_self_signed(key_type="p256").write(tmp_path)
    ours, theirs = socket.socketpair()
    errors: list = []
    thread = threading.Thread(
        target=_python_echo_server, args=(theirs, paths.cert, paths.key, errors)
    )
    thread.start()
    try:
        transport = Transport(SocketPeer(ours), chunking, seed=1)
        client = reference_client(transport)
        client.handshake()
        client.send(b"hi")
        assert client.recv() == b"echo: hi"  # Python's tickets came first
        client.shutdown()
        assert client.recv() == b""
        assert set(transport.reads) <= set(range(1, 8))
    finally:
        thread.join(10)
        ours.close()
        theirs.close()
    assert not errors
