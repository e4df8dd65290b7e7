"""schannel_py.ssl.SSLContext.wrap_socket: a real ssl.SSLSocket over the SSPI client.

Against openssl s_server and gnutls-serv on 127.0.0.1: http.client over TLS 1.3
and 1.2, ``socket.create_connection`` + ``wrap_socket`` under a timeout (send,
sendall, recv, recv_into, makefile, unwrap), certificate failures at connect,
timeouts and non-blocking sockets, and truncation compared with Python's own ssl.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
from pathlib import Path

import pytest

from schannel_py import ssl as sch_ssl
from tests.support import peers

pytestmark = pytest.mark.interop

TIMEOUT = 10.0


def context(ca: Path | None) -> sch_ssl.SSLContext:
    ctx = sch_ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca is not None:
        ctx.load_verify_locations(cafile=ca)
    return ctx


def connect(port: int, ctx: ssl.SSLContext, hostname: str = "localhost") -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    return ctx.wrap_socket(raw, server_hostname=hostname)


@pytest.mark.parametrize("tls13", [True, False], ids=["tls13", "tls12"])
def test_http_client_get(pki: peers.ServerPki, tls13: bool) -> None:
    ctx = context(pki.root_ca)
    with peers.OpenSSLServer(
        **pki.ecdsa.server_kwargs(), tls13=tls13, tls12=not tls13, www=True
    ) as srv:
        conn = http.client.HTTPSConnection("localhost", srv.port, context=ctx, timeout=TIMEOUT)
        conn.request("GET", "/")
        sock = conn.sock
        assert isinstance(sock, ssl.SSLSocket)
        assert sock.context is ctx
        version = "TLSv1.3" if tls13 else "TLSv1.2"
        assert sock.version() == version
        cipher = sock.cipher()
        assert cipher is not None and cipher[1] == version
        response = conn.getresponse()
        body = response.read()
        conn.close()
    assert response.status == 200
    assert f"Protocol  : {version}".encode() in body
    assert cipher[0].encode() in body


def test_socket_io_against_gnutls(pki: peers.ServerPki) -> None:
    """send / sendall / recv / recv_into / makefile / pending over an echo server."""
    ctx = context(pki.root_ca)
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    with peers.GnuTLSServer(**pki.ecdsa.server_kwargs(), echo=True, alpn="http/1.1") as srv:
        with connect(srv.port, ctx) as sock:
            assert isinstance(sock, ssl.SSLSocket)
            assert sock.gettimeout() == TIMEOUT
            assert sock.version() == "TLSv1.3"
            assert sock.selected_alpn_protocol() == "http/1.1"
            assert sock.server_hostname == "localhost"
            assert sock.getpeercert() == ssl._ssl._test_decode_cert(str(pki.ecdsa.cert))  # type: ignore[attr-defined]
            assert sock.getpeercert(True) == ssl.PEM_cert_to_DER_cert(pki.ecdsa.cert.read_text())
            assert sock.send(b"one\n") == 4
            got = b""
            while len(got) < 4:
                got += sock.recv(1024)
            assert got == b"one\n"
            line = bytes(range(32, 127)) * 100 + b"\n"
            sock.sendall(line)
            buf = bytearray(len(line))
            view = memoryview(buf)
            n = 0
            while n < len(line):
                n += sock.recv_into(view[n:])
            assert bytes(buf) == line
            assert sock.pending() == 0
            sock.write(b"three\n")
            with sock.makefile("rb") as f:
                assert f.readline() == b"three\n"


def test_unwrap_returns_the_plain_socket(pki: peers.ServerPki) -> None:
    """unwrap(): our close_notify, the server's answer, then the plain socket back."""
    ctx = context(pki.root_ca)
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs()) as srv:
        sock = connect(srv.port, ctx)
        sock.sendall(b"hello\n")
        srv.wait_for_output("hello")
        plain = sock.unwrap()
        assert type(plain) is ssl.SSLSocket and plain is sock
        assert sock.version() is None and sock.cipher() is None  # no TLS layer any more
        with pytest.raises(ValueError, match="No SSL wrapper"):
            sock.unwrap()
        sock.close()


@pytest.mark.parametrize(
    ("which", "hostname", "code"),
    [("ecdsa", "wrong.example", 62), ("untrusted", "localhost", 20), ("expired", "localhost", 10)],
)
def test_verification_failures_at_connect(
    pki: peers.ServerPki, which: str, hostname: str, code: int
) -> None:
    cert: peers.ServerCert = getattr(pki, which)
    with peers.OpenSSLServer(**cert.server_kwargs(), naccept=2, www=True) as srv:
        with pytest.raises(ssl.SSLCertVerificationError) as mine:
            connect(srv.port, context(pki.root_ca), hostname)
        with pytest.raises(ssl.SSLCertVerificationError) as theirs:
            connect(srv.port, ssl.create_default_context(cafile=str(pki.root_ca)), hostname)
    assert mine.value.verify_code == theirs.value.verify_code == code
    assert mine.value.verify_message == theirs.value.verify_message
    assert mine.value.reason == "CERTIFICATE_VERIFY_FAILED"


def test_http_client_wrong_name(pki: peers.ServerPki) -> None:
    with peers.OpenSSLServer(**pki.wrong_name.server_kwargs(), www=True) as srv:
        conn = http.client.HTTPSConnection(
            "localhost", srv.port, context=context(pki.root_ca), timeout=TIMEOUT
        )
        with pytest.raises(ssl.SSLCertVerificationError):
            conn.request("GET", "/")


class SilentServer:
    """Accepts TCP connections and never says anything."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        try:
            while True:
                self.conns.append(self.listener.accept()[0])
        except OSError:
            pass

    def close(self) -> None:
        self.listener.close()
        for c in self.conns:
            c.close()


def test_handshake_timeout_and_nonblocking() -> None:
    ctx = sch_ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    srv = SilentServer()
    try:
        raw = socket.create_connection(("127.0.0.1", srv.port), timeout=0.3)
        with pytest.raises(TimeoutError):
            ctx.wrap_socket(raw, server_hostname="localhost")
        assert raw.fileno() == -1  # detached into the SSLSocket, which closed it
        raw = socket.create_connection(("127.0.0.1", srv.port))
        raw.setblocking(False)
        with ctx.wrap_socket(
            raw, server_hostname="localhost", do_handshake_on_connect=False
        ) as sock:
            with pytest.raises(ssl.SSLWantReadError) as info:
                sock.do_handshake()
            assert info.value.errno == ssl.SSL_ERROR_WANT_READ
            with pytest.raises(ssl.SSLWantReadError):
                sock.do_handshake()  # again: no new ClientHello, still waiting
    finally:
        srv.close()


def test_nonblocking_handshake_completes(pki: peers.ServerPki) -> None:
    import selectors

    ctx = context(pki.root_ca)
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), www=True) as srv:
        raw = socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT)
        raw.setblocking(False)
        sock = ctx.wrap_socket(raw, server_hostname="localhost", do_handshake_on_connect=False)
        with selectors.DefaultSelector() as sel, sock:
            sel.register(sock, selectors.EVENT_READ)
            for _ in range(100):
                try:
                    sock.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    assert sel.select(TIMEOUT)
            assert sock.version() == "TLSv1.3"
            sock.settimeout(TIMEOUT)
            sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
            with sock.makefile("rb") as f:
                assert f.readline().startswith(b"HTTP/1.0 200 ok")


@pytest.mark.parametrize("suppress", [True, False])
def test_truncation_as_cpython(pki: peers.ServerPki, suppress: bool) -> None:
    """s_server drops the connection without close_notify: b"" with suppress_ragged_eofs,
    else SSLEOFError, as with Python's ssl."""
    outcomes = []
    for ctx in (context(pki.root_ca), ssl.create_default_context(cafile=str(pki.root_ca))):
        with peers.OpenSSLServer(**pki.ecdsa.server_kwargs()) as srv:
            raw = socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT)
            with ctx.wrap_socket(
                raw, server_hostname="localhost", suppress_ragged_eofs=suppress
            ) as sock:
                sock.sendall(b"ping\n")
                srv.wait_for_output("ping")
                srv.end_connection()
                try:
                    outcomes.append(sock.recv(100))
                except ssl.SSLEOFError as e:
                    outcomes.append(type(e))
    assert outcomes[0] == outcomes[1] == (b"" if suppress else ssl.SSLEOFError)


def test_server_side_refused() -> None:
    ctx = sch_ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    a, b = socket.socketpair()
    with a, b:
        with pytest.raises(ValueError):
            ctx.wrap_socket(a, server_side=True)
        c, d = socket.socketpair()
        with c, d, pytest.raises(ValueError, match="check_hostname requires server_hostname"):
            ctx.wrap_socket(c)


@pytest.mark.parametrize("tls13", [True, False], ids=["tls13", "tls12"])
def test_keylog_filename_matches_the_servers(
    pki: peers.ServerPki, tmp_path: Path, tls13: bool
) -> None:
    """keylog_filename: after CPython's own header line, the file is line for line
    what s_server -keylogfile wrote for the same connection."""
    ctx = context(pki.root_ca)
    mine, theirs = tmp_path / "client.log", tmp_path / "server.log"
    ctx.keylog_filename = str(mine)
    assert ctx.keylog_filename == str(mine)
    with peers.OpenSSLServer(
        **pki.ecdsa.server_kwargs(), keylog=theirs, tls13=tls13, tls12=not tls13, www=True
    ) as srv:
        with connect(srv.port, ctx) as sock:
            sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
            with sock.makefile("rb") as f:
                assert f.read().startswith(b"HTTP/1.0 200 ok")
    client_lines = mine.read_text().splitlines()
    server_lines = theirs.read_text().splitlines()
    assert client_lines[0].startswith("# ") and server_lines[0].startswith("# ")
    assert client_lines[1:] == server_lines[1:]
    assert len(client_lines[1:]) == (5 if tls13 else 1)


def test_keylog_filename_is_per_context(pki: peers.ServerPki, tmp_path: Path) -> None:
    """A context without keylog_filename writes nothing into another context's file."""
    logged = context(pki.root_ca)
    path = tmp_path / "keys.log"
    logged.keylog_filename = str(path)
    header = path.read_text()
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), naccept=2, www=True) as srv:
        with connect(srv.port, context(pki.root_ca)):
            pass
        assert path.read_text() == header
        with connect(srv.port, logged):
            # The handshake is over: nothing keeps the ISC observer switched on.
            assert not sch_ssl._KEYLOG_PATHS
    assert path.read_text().count("CLIENT_TRAFFIC_SECRET_0") == 1
