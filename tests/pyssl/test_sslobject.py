"""schannel_py.ssl in memory: the SSLObject contract row by row, against Python's ssl server.

The server is a stdlib ``ssl.SSLObject`` over its own MemoryBIOs; bytes are moved by
hand, so every WantRead, EOF and close_notify case is under the test's control.
"""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path

import pytest

from schannel_py import ssl as sch_ssl
from tests.support import peers

HOST = "localhost"


class Pair:
    """A schannel_py client and a Python ssl server joined by memory BIOs."""

    def __init__(
        self,
        ctx: ssl.SSLContext,
        pki: peers.ServerPki,
        version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3,
        cert: peers.ServerCert | None = None,
        hostname: str | None = HOST,
    ) -> None:
        cert = cert or pki.ecdsa
        sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        sctx.maximum_version = version
        sctx.load_cert_chain(cert.fullchain, cert.key)
        self.cin, self.cout = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.sin, self.sout = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.client = ctx.wrap_bio(self.cin, self.cout, server_hostname=hostname)
        self.server = sctx.wrap_bio(self.sin, self.sout, server_side=True)

    def to_server(self) -> None:
        self.sin.write(self.cout.read())

    def to_client(self) -> None:
        self.cin.write(self.sout.read())

    def handshake(self) -> None:
        for _ in range(10):
            done = 0
            for obj in (self.client, self.server):
                try:
                    obj.do_handshake()
                    done += 1
                except ssl.SSLWantReadError:
                    pass
                self.to_server()
                self.to_client()
            if done == 2:
                return
        raise AssertionError("handshake did not finish")


def ctx_for(pki: peers.ServerPki) -> sch_ssl.SSLContext:
    ctx = sch_ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=pki.root_ca)
    return ctx


def test_context_is_an_ssl_context() -> None:
    ctx = sch_ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    assert isinstance(ctx, ssl.SSLContext)
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert sch_ssl.SSLContext().protocol == ssl.PROTOCOL_TLS_CLIENT


def test_server_side_refused() -> None:
    with pytest.raises(ValueError, match="PROTOCOL_TLS_CLIENT"):
        sch_ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx = sch_ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    with pytest.raises(ValueError, match="client-side only"):
        ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_side=True)
    with pytest.raises(ValueError, match="check_hostname requires server_hostname"):
        ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO())


def test_old_versions_refused() -> None:
    ctx = sch_ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    for version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.SSLv3):
        with pytest.raises(ValueError, match="only TLS 1.2 and TLS 1.3"):
            ctx.minimum_version = version
        with pytest.raises(ValueError, match="only TLS 1.2 and TLS 1.3"):
            ctx.maximum_version = version
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    with pytest.raises(ssl.SSLError) as info:
        ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname=HOST)
    assert info.value.reason == "NO_PROTOCOLS_AVAILABLE"


def _python_server(
    pki: peers.ServerPki, sock: socket.socket, unwrap: bool = True
) -> threading.Thread:
    """Python's ssl echoes one line over ``sock`` (TLS 1.3), then answers close_notify."""
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(pki.ecdsa.fullchain, pki.ecdsa.key)

    def serve() -> None:
        with sctx.wrap_socket(sock, server_side=True) as tls:
            line = tls.makefile("rb").readline()
            tls.sendall(line)
            if unwrap:
                tls.unwrap()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def test_wrap_socket_over_socketpair(pki: peers.ServerPki) -> None:
    ctx = ctx_for(pki)
    a, b = socket.socketpair()
    a.settimeout(10)
    thread = _python_server(pki, b)
    with ctx.wrap_socket(a, server_hostname=HOST) as tls:
        assert isinstance(tls, ssl.SSLSocket)
        assert tls.version() == "TLSv1.3"
        tls.sendall(memoryview(b"echo me\n"))
        assert tls.makefile("rb").readline() == b"echo me\n"
        assert tls.unwrap() is tls
    thread.join(10)


def test_wrap_socket_then_connect(pki: peers.ServerPki) -> None:
    """An unconnected socket: SSLSocket.connect builds the engine, then handshakes."""
    ctx = ctx_for(pki)
    listener = socket.create_server(("127.0.0.1", 0))
    with listener:
        sock = ctx.wrap_socket(socket.socket(), server_hostname=HOST)
        sock.settimeout(10)
        box: list[threading.Thread] = []
        acceptor = threading.Thread(
            target=lambda: box.append(_python_server(pki, listener.accept()[0], unwrap=False))
        )
        acceptor.start()
        with sock:
            sock.connect(listener.getsockname())
            sock.sendall(b"x\n")
            assert sock.recv(10) == b"x\n"
        acceptor.join(10)


@pytest.mark.parametrize(
    "junk", [b"HTTP/1.1 400 Bad Request\r\n\r\n", b"\x16\x03\x03\x00\x05hello", b"\x15" * 7]
)
def test_wrap_socket_hostile_peer_raises_ssl_errors(junk: bytes) -> None:
    """Whatever the peer sends back, only ssl exceptions come out of the handshake."""
    ctx = sch_ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    a, b = socket.socketpair()
    with a, b:
        a.settimeout(5)
        b.sendall(junk)
        b.shutdown(socket.SHUT_WR)
        with pytest.raises(ssl.SSLError):
            ctx.wrap_socket(a, server_hostname=HOST)


def test_before_handshake(pki: peers.ServerPki) -> None:
    ctx = ctx_for(pki)
    pair = Pair(ctx, pki)
    obj = pair.client
    assert isinstance(obj, ssl.SSLObject)
    assert obj.context is ctx and obj.server_hostname == HOST and not obj.server_side
    assert obj.version() is None and obj.cipher() is None
    assert obj.selected_alpn_protocol() is None and obj.compression() is None
    assert obj.get_channel_binding() is None and obj.pending() == 0
    with pytest.raises(ValueError, match="handshake not done yet"):
        obj.getpeercert()
    with pytest.raises(ssl.SSLWantReadError) as info:
        obj.do_handshake()
    assert info.value.errno == ssl.SSL_ERROR_WANT_READ
    assert pair.cout.pending > 0  # the ClientHello
    # write() continues the handshake, as OpenSSL does.
    with pytest.raises(ssl.SSLWantReadError):
        obj.write(b"early")


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2])
def test_data_and_close_notify(pki: peers.ServerPki, version: ssl.TLSVersion) -> None:
    pair = Pair(ctx_for(pki), pki, version)
    pair.handshake()
    c = pair.client
    assert c.version() == ("TLSv1.3" if version == ssl.TLSVersion.TLSv1_3 else "TLSv1.2")
    assert c.cipher() == pair.server.cipher()
    assert c.getpeercert() == ssl._ssl._test_decode_cert(str(pki.ecdsa.cert))  # type: ignore[attr-defined]
    assert c.write(memoryview(b"ping")) == 4
    pair.to_server()
    assert pair.server.read(10) == b"ping"
    pair.server.write(b"hello world")
    pair.to_client()
    assert c.read(5) == b"hello"
    assert c.pending() == 6
    buf = bytearray(16)
    n: object = c.read(16, buf)
    assert n == 6 and buf[:6] == b" world"
    with pytest.raises(ssl.SSLWantReadError):
        c.read()
    # The server's close_notify: read gives b"", unwrap answers with ours and returns.
    with pytest.raises(ssl.SSLWantReadError):
        pair.server.unwrap()
    pair.to_client()
    assert c.read() == b""
    c.unwrap()  # returns (None) at once: the peer's close_notify is in
    pair.to_server()
    pair.server.unwrap()


def test_unwrap_waits_for_peer(pki: peers.ServerPki) -> None:
    pair = Pair(ctx_for(pki), pki)
    pair.handshake()
    with pytest.raises(ssl.SSLWantReadError):
        pair.client.unwrap()
    pair.to_server()
    pair.server.unwrap()  # reads ours, answers
    pair.to_client()
    pair.client.unwrap()
    with pytest.raises(ssl.SSLError) as info:
        pair.client.write(b"x")
    assert info.value.reason == "PROTOCOL_IS_SHUTDOWN"


def test_eof_without_close_notify(pki: peers.ServerPki) -> None:
    pair = Pair(ctx_for(pki), pki)
    pair.handshake()
    pair.server.write(b"abc")
    record = pair.sout.read()
    pair.cin.write(record[:-3])  # a truncated record, then EOF
    pair.cin.write_eof()
    with pytest.raises(ssl.SSLEOFError) as info:
        pair.client.read()
    exc = info.value
    assert exc.errno == ssl.SSL_ERROR_EOF
    assert "UNEXPECTED_EOF_WHILE_READING" in str(exc.strerror)
    assert exc.reason == "UNEXPECTED_EOF_WHILE_READING"
    assert exc.library == "SSL"


def test_eof_during_handshake(pki: peers.ServerPki) -> None:
    pair = Pair(ctx_for(pki), pki)
    with pytest.raises(ssl.SSLWantReadError):
        pair.client.do_handshake()
    pair.cin.write_eof()
    with pytest.raises(ssl.SSLEOFError):
        pair.client.do_handshake()


def test_hostile_bytes_raise_ssl_errors(pki: peers.ServerPki) -> None:
    for junk in (b"HTTP/1.1 400 Bad Request\r\n\r\n", b"\x16\x03\x03\x00\x05hello", b"\x15" * 7):
        pair = Pair(ctx_for(pki), pki)
        with pytest.raises(ssl.SSLWantReadError):
            pair.client.do_handshake()
        pair.cin.write(junk)
        pair.cin.write_eof()
        with pytest.raises(ssl.SSLError):
            pair.client.do_handshake()
        with pytest.raises(ssl.SSLError):  # the failure sticks
            pair.client.do_handshake()


def test_maximum_version_tls12(pki: peers.ServerPki) -> None:
    ctx = ctx_for(pki)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    pair = Pair(ctx, pki)
    pair.handshake()
    assert pair.client.version() == "TLSv1.2"
    assert pair.client.cipher()[0] == "ECDHE-ECDSA-AES256-GCM-SHA384"  # type: ignore[index]


@pytest.mark.parametrize("how", ["cadata-pem", "cadata-der", "capath"])
def test_verify_locations(pki: peers.ServerPki, how: str, tmp_path: Path) -> None:
    ctx = sch_ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    pem = pki.root_ca.read_text()
    if how == "cadata-pem":
        ctx.load_verify_locations(cadata=pem)
    elif how == "cadata-der":
        ctx.load_verify_locations(cadata=ssl.PEM_cert_to_DER_cert(pem))
    else:
        (tmp_path / "root.pem").write_text(pem)
        ctx.load_verify_locations(capath=tmp_path)
    pair = Pair(ctx, pki)
    pair.handshake()
    assert pair.client.getpeercert()["subjectAltName"][0] == ("DNS", "localhost")  # type: ignore[index]


def test_no_trust_without_cas(pki: peers.ServerPki, isolated_stores: None) -> None:
    pair = Pair(sch_ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), pki)
    with pytest.raises(ssl.SSLCertVerificationError) as info:
        pair.handshake()
    assert info.value.verify_code == 20
    assert info.value.reason == "CERTIFICATE_VERIFY_FAILED"


def test_trust_is_per_context(pki: peers.ServerPki, isolated_stores: None) -> None:
    trusting = ctx_for(pki)
    Pair(trusting, pki).handshake()
    with pytest.raises(ssl.SSLCertVerificationError):
        Pair(sch_ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), pki).handshake()


def test_ip_address_mismatch(pki: peers.ServerPki) -> None:
    pair = Pair(ctx_for(pki), pki, hostname="192.0.2.1")
    with pytest.raises(ssl.SSLCertVerificationError) as info:
        pair.handshake()
    assert info.value.verify_code == 64
    assert info.value.verify_message == (
        "IP address mismatch, certificate is not valid for '192.0.2.1'."
    )


def test_decode_certificate_matches_cpython(pki: peers.ServerPki) -> None:
    for cert in (pki.ecdsa, pki.rsa, pki.expired, pki.wrong_name, pki.untrusted):
        der = ssl.PEM_cert_to_DER_cert(cert.cert.read_text())
        expected = ssl._ssl._test_decode_cert(str(cert.cert))  # type: ignore[attr-defined]
        assert sch_ssl.decode_certificate(der) == expected


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2])
def test_tampered_record_is_an_ssl_error(pki: peers.ServerPki, version: ssl.TLSVersion) -> None:
    """A record that does not authenticate: SSLError (bad record MAC), never another type."""
    pair = Pair(ctx_for(pki), pki, version)
    pair.handshake()
    pair.server.write(b"data")
    record = bytearray(pair.sout.read())
    record[-1] ^= 1
    pair.cin.write(bytes(record))
    with pytest.raises(ssl.SSLError) as info:
        pair.client.read()
    assert info.value.reason == "DECRYPTION_FAILED_OR_BAD_RECORD_MAC"
    with pytest.raises(ssl.SSLError) as again:  # fatal: the connection stays failed
        pair.client.read()
    assert again.value is info.value


def test_argument_errors_and_internal_failures(
    pki: peers.ServerPki, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Argument errors are CPython's; a failure inside the package surfaces as SSLError."""
    pair = Pair(ctx_for(pki), pki)
    pair.handshake()
    with pytest.raises(TypeError):
        pair.client.write("text")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="negative"):
        pair.client.read(-1)
    engine = pair.client._sslobj  # type: ignore[attr-defined]

    def broken() -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(engine._driver, "decrypt_record", broken)
    pair.server.write(b"x")
    pair.to_client()
    with pytest.raises(ssl.SSLError) as info:
        pair.client.read()
    assert info.value.reason == "INTERNAL_ERROR"
    assert type(info.value) is ssl.SSLError
