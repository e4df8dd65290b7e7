"""schannel_py.driver.SspiDriver: handshake, data and shutdown over sockets and in memory,
byte-at-a-time input, SEC_I_RENEGOTIATE, failures; and the ISC loop exists once."""

from __future__ import annotations

import ast
import socket
import ssl
import threading
from pathlib import Path

import pytest

import schannel_py as sc
from schannel_py.driver import SspiDriver, SspiEOFError, SspiError
from schannel_py.testing import (
    CHUNKINGS,
    Chunking,
    TlsServer,
    Transport,
    acquire_credential,
    make_pki,
    reference_client,
    trusted_root,
)
from schannel_py.testing.memserver import MemoryServer
from tests.support import peers
from tests.support.paths import ROOT


def server_context(pki: peers.ServerPki, version: ssl.TLSVersion) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ctx.maximum_version = version
    ctx.load_cert_chain(pki.ecdsa.fullchain, pki.ecdsa.key)
    return ctx


def echo_server(ctx: ssl.SSLContext, sock: socket.socket, errors: list[BaseException]) -> None:
    """Echo one message with a prefix, then answer close_notify with close_notify."""
    try:
        with ctx.wrap_socket(sock, server_side=True) as tls:
            data = tls.recv(65536)
            tls.sendall(b"echo: " + data)
            tls.unwrap()
    except BaseException as e:  # reported by the test
        errors.append(e)


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2])
def test_socketpair_to_a_python_ssl_server(
    pki: peers.ServerPki, root_certs_env: Path, version: ssl.TLSVersion
) -> None:
    ours, theirs = socket.socketpair()
    ours.settimeout(10)
    theirs.settimeout(10)
    errors: list[BaseException] = []
    thread = threading.Thread(
        target=echo_server, args=(server_context(pki, version), theirs, errors)
    )
    thread.start()
    drv = SspiDriver(ours.sendall, ours.recv, acquire_credential(), "localhost")
    try:
        assert drv.handshake() == sc.SEC_E_OK
        assert drv.attrs.value == drv.req
        info = sc.SecPkgContext_ConnectionInfo()
        drv.query(sc.SECPKG_ATTR_CONNECTION_INFO, info)
        want = (
            sc.SP_PROT_TLS1_3_CLIENT
            if version == ssl.TLSVersion.TLSv1_3
            else sc.SP_PROT_TLS1_2_CLIENT
        )
        assert info.dwProtocol == want
        assert drv.send(b"hello") == 5
        assert drv.recv() == b"echo: hello"  # TLS 1.3 tickets: SEC_I_RENEGOTIATE on the way
        drv.shutdown()
        assert drv.recv() == b"" and drv.closed  # the server's close_notify
    finally:
        drv.close()
        thread.join(10)
        ours.close()
        theirs.close()
    assert not errors, errors


def memory_driver(
    server: MemoryServer, *, one_byte: bool = False, **kw: object
) -> tuple[SspiDriver, list[str]]:
    calls: list[str] = []

    def observe(event: str, details: dict[str, object]) -> None:
        calls.append(f"{event}:{details.get('call', '')}:{sc.SecStatus(details['status']).name}")  # type: ignore[call-overload]

    drv = SspiDriver(
        server.client_send,
        server.client_recv,
        acquire_credential(),
        "localhost",
        recv_size=1 if one_byte else 16384,
        observer=observe,
        **kw,  # type: ignore[arg-type]
    )
    return drv, calls


@pytest.mark.parametrize("one_byte", [False, True], ids=["whole", "byte-at-a-time"])
@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2])
def test_in_memory_server(
    pki: peers.ServerPki, root_certs_env: Path, version: ssl.TLSVersion, one_byte: bool
) -> None:
    server = MemoryServer.for_context(server_context(pki, version))
    drv, calls = memory_driver(server, one_byte=one_byte)
    assert drv.handshake() == sc.SEC_E_OK
    if one_byte:
        assert calls.count("isc:step:SEC_E_INCOMPLETE_MESSAGE") > 100
    drv.send(b"ping" * 5000)  # more than one record
    got = b""
    while chunk := server.read():
        got += chunk
    assert got == b"ping" * 5000
    server.to_client += server.write(b"pong")
    got = b""
    while len(got) < 4:
        got += drv.recv()
    assert got == b"pong"
    drv.shutdown()
    drv.close()


def test_recv_max_bytes_keeps_the_rest() -> None:
    server = TlsServer()
    drv = reference_client(Transport(server))
    drv.handshake()
    server.send_data(b"abcdef")
    assert drv.recv(2) == b"ab"
    assert drv.recv(3) == b"cde"
    assert drv.recv() == b"f"
    assert drv.recv(block=False) == b""
    drv.close()


@pytest.mark.parametrize("chunking", CHUNKINGS, ids=str)
def test_server_key_update_and_tickets_under_every_chunking(chunking: Chunking) -> None:
    """A server-initiated KeyUpdate (update_requested) and two tickets, in one flight with
    data: each is a SEC_I_RENEGOTIATE the driver answers; the client's KeyUpdate reaches
    the server, and data flows under the new keys both ways."""
    server = TlsServer(tickets=2, echo=True)
    seen: list[int] = []
    drv = reference_client(Transport(server, chunking), on_renegotiate=lambda d: seen.append(1))
    drv.handshake()
    server.key_update(request=True)
    server.send_data(b"new keys")
    assert drv.recv() == b"new keys"
    assert len(seen) == 3 and server.key_updates_received == 1
    drv.send(b"echo")
    assert drv.recv() == b"echo"
    drv.close()


def test_new_session_ticket_and_key_update_are_renegotiate(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    """TLS 1.3 post-handshake messages come out of DecryptMessage as SEC_I_RENEGOTIATE;
    the driver answers each with ISC (the hook sees them) and keeps reading."""
    server = MemoryServer.for_context(server_context(pki, ssl.TLSVersion.TLSv1_3))
    seen: list[int] = []
    drv, calls = memory_driver(server, on_renegotiate=lambda d: seen.append(len(d.encdata)))
    drv.handshake()
    server.to_client += server.write(b"after tickets")
    assert drv.recv() == b"after tickets"
    assert len(seen) == 2  # Python's ssl sends two tickets
    assert calls.count("decrypt::SEC_I_RENEGOTIATE") == 2
    # A KeyUpdate from the client (schannel_py extension), then data under the new key.
    drv.key_update(requested=True)
    drv.send(b"new key")
    assert server.read() == b"new key"
    server.to_client += server.pending_output()  # the server's own KeyUpdate
    server.to_client += server.write(b"both updated")
    assert drv.recv() == b"both updated"
    assert calls.count("decrypt::SEC_I_RENEGOTIATE") == 3
    drv.close()


def test_failed_handshake_raises_with_the_status() -> None:
    """An untrusted server certificate: ISC fails, the alert goes out, SspiError says why."""
    server = TlsServer(make_pki(dns_names=["localhost"]).leaf)  # its root is not trusted
    drv = reference_client(Transport(server), acquire_credential())
    with pytest.raises(SspiError) as err:
        drv.handshake()
    assert err.value.call == "InitializeSecurityContext"
    assert err.value.status == sc.SEC_E_UNTRUSTED_ROOT
    assert err.value.alert  # the ALERT output buffer, sent to the server
    assert server.alerts == [(2, 48)]  # unknown_ca, as the server read it
    drv.close()


def test_eof_during_the_handshake(pki: peers.ServerPki) -> None:
    sent: list[bytes] = []
    drv = SspiDriver(sent.append, lambda n: b"", acquire_credential(), "localhost")
    with pytest.raises(SspiEOFError) as err:
        drv.handshake()
    assert err.value.status == sc.SEC_E_INCOMPLETE_MESSAGE and err.value.call == "recv"
    assert len(sent) == 1  # the ClientHello
    drv.close()


def test_caller_supplied_buffers() -> None:
    """Without ISC_REQ_ALLOCATE_MEMORY the driver passes its own output memory."""
    pki = make_pki(dns_names=["localhost"])
    server = TlsServer(pki.leaf)
    flags = sc.ISC_REQ_SEQUENCE_DETECT | sc.ISC_REQ_REPLAY_DETECT | sc.ISC_REQ_CONFIDENTIALITY
    flags |= sc.ISC_REQ_STREAM | sc.ISC_REQ_USE_SUPPLIED_CREDS
    with trusted_root(pki.root):
        drv = reference_client(Transport(server), acquire_credential(), req_flags=flags)
        assert drv.handshake() == sc.SEC_E_OK
    drv.send(b"x")
    assert server.received == b"x"
    drv.close()


# --- the ISC loop exists once ----------------------------------------------------------------

#: The places that once had their own copy of curl's loop; they now use the driver.
DRIVER_USERS = [
    "schannel_py/stream.py",
    "tests/support/sspi_driver.py",
    "schannel_py/testing/attacks.py",
    "benchmarks/harness.py",
    "bogo/shim.py",
]


def isc_call_sites(path: Path) -> list[int]:
    """Lines that call InitializeSecurityContext (any spelling: F., sc., S., bare)."""
    tree = ast.parse(path.read_text(), str(path))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
            if name == "InitializeSecurityContext":
                lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("rel", DRIVER_USERS)
def test_no_private_isc_loop(rel: str) -> None:
    assert isc_call_sites(ROOT / rel) == [], f"{rel} calls ISC itself: use schannel_py.driver"


def test_isc_loops_only_in_the_driver_and_the_curl_port() -> None:
    """No module of the package, benchmarks, BoGo shim or example calls ISC inside a loop,
    except the driver, examples/curl_loop.py (a literal port of curl's loop) and
    examples/testing_project/myloop.py (a user's own loop: the code its tests test)."""
    allowed = {
        "schannel_py/driver.py",
        "examples/curl_loop.py",
        "examples/testing_project/myloop.py",
    }
    offenders = []
    for folder in ("schannel_py", "benchmarks", "bogo", "examples"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel in allowed or rel.startswith(("schannel_py/sspi/", "schannel_py/tls/")):
                continue
            tree = ast.parse(path.read_text(), rel)
            for loop in ast.walk(tree):
                if isinstance(loop, (ast.For, ast.While)):
                    for node in ast.walk(loop):
                        if isinstance(node, ast.Call):
                            f = node.func
                            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
                            if name == "InitializeSecurityContext":
                                offenders.append(f"{rel}:{node.lineno}")
    assert offenders == []
    assert isc_call_sites(ROOT / "schannel_py/driver.py")
    doc = ast.get_docstring(ast.parse((ROOT / "examples/curl_loop.py").read_text())) or ""
    assert "lib/vtls/schannel.c" in doc
