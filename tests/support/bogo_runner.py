"""The stand-in for BoringSSL's BoGo runner that the bogo/shim.py tests share.

:func:`run_shim` listens on loopback, starts the shim with ``-port``/``-shim-id``,
checks the 8-byte id of each connection and hands the socket to a handler: Python's
``ssl`` (:func:`tls_echo`, :func:`server_context`) or ``openssl s_server`` behind a
relay (:func:`relay`, :func:`openssl_server`, one :class:`Leg` per connection).
"""

from __future__ import annotations

import os
import re
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from schannel_py.testing.pki import PemPaths
from tests.support import peers
from tests.support.paths import ROOT
from tests.support.wire import plaintext_handshake_messages

TIMEOUT = 20.0
SHIM_ID = 0x0123456789ABCDEF
MESSAGE = bytes(0x42 ^ j for j in range(32))
ECHO = bytes(b ^ 0xFF for b in MESSAGE)


def server_context(
    files: PemPaths, version: str = "1.3", *, tickets: bool = True
) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(files.fullchain, files.key)
    tls = ssl.TLSVersion.TLSv1_3 if version == "1.3" else ssl.TLSVersion.TLSv1_2
    ctx.minimum_version = ctx.maximum_version = tls
    if not tickets:
        ctx.options |= ssl.OP_NO_TICKET
    return ctx


@dataclass
class ShimResult:
    returncode: int
    stdout: str
    stderr: str
    records: list[dict[str, Any]] = field(default_factory=list)


Handler = Callable[[socket.socket, int, dict[str, Any]], None]


def run_shim(
    flags: list[str],
    handler: Handler | None,
    *,
    connections: int = 1,
    ipv6: bool = False,
    shim_id: int = SHIM_ID,
    env: dict[str, str] | None = None,
) -> ShimResult:
    """Listen, start the shim, and hand each accepted connection (id checked) to ``handler``."""
    family = socket.AF_INET6 if ipv6 else socket.AF_INET
    host = "::1" if ipv6 else "127.0.0.1"
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.bind((host, 0))
    listener.listen(4)
    listener.settimeout(TIMEOUT)
    port = listener.getsockname()[1]
    argv = [sys.executable, "-m", "bogo.shim", "-port", str(port), "-shim-id", str(shim_id)]
    if ipv6:
        argv.append("-ipv6")
    argv += flags
    proc = subprocess.Popen(
        argv,
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT), **(env or {})),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    records: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            for i in range(connections):
                sock, _ = listener.accept()
                sock.settimeout(TIMEOUT)
                rec: dict[str, Any] = {}
                records.append(rec)
                with sock:
                    got = b""
                    while len(got) < 8:
                        chunk = sock.recv(8 - len(got))
                        if not chunk:
                            break
                        got += chunk
                    rec["id"] = struct.unpack("<Q", got)[0] if len(got) == 8 else None
                    if handler is not None:
                        handler(sock, i, rec)
        except BaseException as e:  # reported by the caller
            errors.append(e)

    thread = threading.Thread(target=serve, daemon=True)
    try:
        thread.start()
        out, err = proc.communicate(timeout=TIMEOUT * 2)
        thread.join(TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    finally:
        listener.close()
    result = ShimResult(proc.returncode, out.decode(), err.decode(), records)
    for e in errors:
        if not isinstance(e, (ssl.SSLError, OSError)):
            raise e
    for rec in records:
        assert rec["id"] == shim_id, rec
    return result


def tls_echo(
    ctx_for: Callable[[int], ssl.SSLContext],
    *,
    writes_first: bool = False,
    message: bytes = MESSAGE,
) -> Handler:
    """The runner's doExchange: handshake, message, check the echo, close_notify."""

    def handler(sock: socket.socket, i: int, rec: dict[str, Any]) -> None:
        tls = ctx_for(i).wrap_socket(sock, server_side=True)
        rec["resumed"] = tls.session_reused
        rec["version"] = tls.version()
        rec["alpn"] = tls.selected_alpn_protocol()
        rec["peercert"] = tls.getpeercert(binary_form=True)
        rec["tls_unique"] = tls.get_channel_binding("tls-unique")
        if writes_first:
            rec["first"] = recv_exact(tls, 5)
        tls.sendall(message)
        rec["echo"] = recv_exact(tls, len(message))
        tls.unwrap()

    return handler


def recv_exact(sock: socket.socket, n: int) -> bytes:
    """Up to ``n`` bytes: fewer only when the peer closes first (plain or TLS socket)."""
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def assert_success(result: ShimResult) -> None:
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def assert_failure(result: ShimResult, needle: str) -> None:
    assert result.returncode == 1, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("TLSERR reason="), result.stderr
    assert needle in lines[0], lines[0]


def client_hello_extensions(stream: bytes) -> dict[int, bytes]:
    """The extensions (type -> body) of the first ClientHello in ``stream``."""
    for t, body in plaintext_handshake_messages(stream):
        if t != 1:
            continue
        i = 2 + 32
        i += 1 + body[i]  # legacy_session_id
        i += 2 + int.from_bytes(body[i : i + 2], "big")  # cipher_suites
        i += 1 + body[i]  # legacy_compression_methods
        end = i + 2 + int.from_bytes(body[i : i + 2], "big")
        i += 2
        out: dict[int, bytes] = {}
        while i + 4 <= end:
            n = int.from_bytes(body[i + 2 : i + 4], "big")
            out[int.from_bytes(body[i : i + 2], "big")] = body[i + 4 : i + 4 + n]
            i += 4 + n
        return out
    raise AssertionError("no complete ClientHello")


def _pump(src: socket.socket, dst: socket.socket, copy: bytearray | None) -> None:
    try:
        while data := src.recv(65536):
            if copy is not None:
                copy += data
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def splice(
    sock: socket.socket,
    address: tuple[str, int],
    run: Callable[[], None],
    to_upstream: bytearray | None = None,
    to_sock: bytearray | None = None,
) -> None:
    """Relay ``sock`` to a new connection to ``address`` both ways while ``run()``
    drives the far end, keeping copies of each direction when buffers are given."""
    upstream = socket.create_connection(address, timeout=TIMEOUT)
    threads = [
        threading.Thread(target=_pump, args=(sock, upstream, to_upstream), daemon=True),
        threading.Thread(target=_pump, args=(upstream, sock, to_sock), daemon=True),
    ]
    for t in threads:
        t.start()
    try:
        run()
    finally:
        for t in threads:
            t.join(TIMEOUT)
        upstream.close()


PING = b"ping\n"  # what s_server sends for send_line("ping")
PING_ECHO = bytes(b ^ 0xFF for b in PING)


@dataclass
class Leg:
    """One relayed connection: the bytes each way and s_server's output for it."""

    index: int
    srv: peers.OpenSSLServer
    mark: int  # where this connection's part of s_server's output starts (bytes)
    to_server: bytearray = field(default_factory=bytearray)
    to_client: bytearray = field(default_factory=bytearray)

    def output(self) -> bytes:
        return self.srv.output_bytes()[self.mark :]

    def wait(self, pattern: bytes, timeout: float = TIMEOUT) -> re.Match[bytes]:
        """Wait until this connection's output matches ``pattern`` (a bytes regex)."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.output())
            if m is not None:
                return m
            if time.monotonic() > deadline or not self.srv.is_running():
                raise peers.PeerError(
                    f"s_server output has no {pattern!r}:\n{self.output()[-4000:]!r}"
                )
            time.sleep(0.02)


Script = Callable[[Leg], None]


def relay(srv: peers.OpenSSLServer, script: Script, legs: list[Leg]) -> Any:
    """A run_shim handler relaying each connection to s_server while ``script`` drives it."""

    def handler(sock: socket.socket, i: int, rec: dict[str, Any]) -> None:
        leg = Leg(i, srv, len(srv.output_bytes()))
        legs.append(leg)
        splice(sock, srv.address, lambda: script(leg), leg.to_server, leg.to_client)

    return handler


def echo_then_eof(leg: Leg) -> None:
    """The runner's message exchange, s_server style: send a line, await the XOR echo, EOF."""
    leg.wait(rb"CIPHER is")
    leg.srv.send_line(PING.decode().strip())
    leg.wait(re.escape(PING_ECHO))
    leg.srv.end_connection()  # EOF without close_notify: the shim stops cleanly


def openssl_server(
    pki: peers.ServerPki, version: str, extra: list[str], **kwargs: Any
) -> peers.OpenSSLServer:
    return peers.OpenSSLServer(
        **pki.ecdsa.server_kwargs(),
        tls13=version == "1.3",
        tls12=version == "1.2",
        extra_args=extra,
        **kwargs,
    )
