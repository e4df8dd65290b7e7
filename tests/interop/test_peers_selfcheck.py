"""Self-checks of the interop harness (tests/support/peers.py) using Python's own ssl client.

These say nothing about schannel_py: they prove the servers start, speak what
they were asked to, stop, and that the test PKI is accepted or rejected as
intended, so an interop failure can be blamed on the client under test.
"""

from __future__ import annotations

import os
import re
import socket
import ssl
import time
from pathlib import Path

import pytest

from tests.support import peers

IO_TIMEOUT = 5.0


def client_context(
    cafile: Path,
    *,
    alpn: list[str] | None = None,
    min_version: ssl.TLSVersion | None = None,
    max_version: ssl.TLSVersion | None = None,
) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(cafile))
    if alpn is not None:
        ctx.set_alpn_protocols(alpn)
    if min_version is not None:
        ctx.minimum_version = min_version
    if max_version is not None:
        ctx.maximum_version = max_version
    return ctx


def connect(
    address: tuple[str, int], ctx: ssl.SSLContext, server_hostname: str = "localhost"
) -> ssl.SSLSocket:
    raw = socket.create_connection(address, timeout=IO_TIMEOUT)
    try:
        return ctx.wrap_socket(raw, server_hostname=server_hostname, suppress_ragged_eofs=False)
    except BaseException:
        raw.close()
        raise


def recv_until(conn: ssl.SSLSocket, marker: bytes) -> bytes:
    data = b""
    deadline = time.monotonic() + IO_TIMEOUT
    while marker not in data:
        assert time.monotonic() < deadline, f"no {marker!r} in {data!r}"
        chunk = conn.recv(4096)
        assert chunk, f"connection closed before {marker!r}; got {data!r}"
        data += chunk
    return data


# --------------------------------------------------------------------------- #
# Harness basics (no external tools)
# --------------------------------------------------------------------------- #


def test_free_port_is_bindable() -> None:
    for host in peers.LOOPBACK_HOSTS:
        port = peers.free_port(host)
        assert 0 < port < 65536
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.bind((host, port))


def test_non_loopback_hosts_are_refused(pki: peers.ServerPki) -> None:
    with pytest.raises(ValueError, match="loopback"):
        peers.free_port("0.0.0.0")
    with pytest.raises(ValueError, match="loopback"):
        peers.PythonTLSServer(**pki.ecdsa.server_kwargs(), host="0.0.0.0")


def test_require_tool_skips_locally_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    missing = "schannel-py-no-such-tool"
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        peers.require_tool(missing)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI"):
        peers.require_tool(missing)
    assert peers.require_tool("sh").endswith("sh")


def test_root_ca_fixture(root_ca_pem: Path, root_certs_env: Path) -> None:
    assert root_ca_pem.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    assert os.environ["SCHANNEL_PY_ROOT_CERTS"] == str(root_ca_pem) == str(root_certs_env)


# --------------------------------------------------------------------------- #
# Python ssl server, and the PKI's sanity
# --------------------------------------------------------------------------- #


@pytest.mark.interop
@pytest.mark.parametrize("host", peers.LOOPBACK_HOSTS)
def test_python_server_echo_and_clean_close(pki: peers.ServerPki, host: str) -> None:
    with peers.PythonTLSServer(
        **pki.ecdsa.server_kwargs(), alpn=["h2", "http/1.1"], host=host
    ) as srv:
        ctx = client_context(pki.root_ca, alpn=["http/1.1"])
        with connect(srv.address, ctx, server_hostname=host) as conn:
            assert conn.version() == "TLSv1.3"
            assert conn.selected_alpn_protocol() == "http/1.1"
            conn.sendall(b"ping\n")
            assert recv_until(conn, b"\n") == b"ping\n"
            conn.unwrap()  # close_notify both ways
        (record,) = srv.wait_connections()
    assert record.error is None, record.error
    assert record.handshake_ok and record.clean_close
    assert (record.version, record.alpn, bytes(record.received)) == (
        "TLSv1.3",
        "http/1.1",
        b"ping\n",
    )


@pytest.mark.interop
def test_python_server_tls12_with_cipher(pki: peers.ServerPki) -> None:
    suite = "ECDHE-RSA-AES128-GCM-SHA256"
    with peers.PythonTLSServer(
        **pki.rsa.server_kwargs(), max_version=ssl.TLSVersion.TLSv1_2, ciphers=suite
    ) as srv:
        with connect(srv.address, client_context(pki.root_ca)) as conn:
            assert conn.version() == "TLSv1.2"
            cipher = conn.cipher()
            assert cipher is not None and cipher[0] == suite
            conn.unwrap()
        (record,) = srv.wait_connections()
    assert record.error is None and record.version == "TLSv1.2"


@pytest.mark.interop
def test_python_server_records_handshake_failure(pki: peers.ServerPki) -> None:
    with peers.PythonTLSServer(
        **pki.ecdsa.server_kwargs(), min_version=ssl.TLSVersion.TLSv1_3
    ) as srv:
        ctx = client_context(pki.root_ca, max_version=ssl.TLSVersion.TLSv1_2)
        with pytest.raises(ssl.SSLError):
            connect(srv.address, ctx).close()
        (record,) = srv.wait_connections()
    assert not record.handshake_ok and isinstance(record.error, ssl.SSLError)


@pytest.mark.interop
@pytest.mark.parametrize(
    ("cert_name", "server_hostname", "reason"),
    [
        ("ecdsa", "localhost", None),
        ("ecdsa", "127.0.0.1", None),
        ("ecdsa", "::1", None),
        ("rsa", "localhost", None),
        ("ecdsa_direct", "localhost", None),
        ("expired", "localhost", "expired"),
        ("wrong_name", "localhost", "Hostname mismatch"),
        ("wrong_name", "127.0.0.1", "IP address mismatch"),
        ("untrusted", "localhost", "unable to get local issuer certificate"),
    ],
)
def test_pki_verdicts(
    pki: peers.ServerPki, cert_name: str, server_hostname: str, reason: str | None
) -> None:
    cert: peers.ServerCert = getattr(pki, cert_name)
    host = "::1" if server_hostname == "::1" else "127.0.0.1"
    with peers.PythonTLSServer(**cert.server_kwargs(), host=host) as srv:
        ctx = client_context(pki.root_ca)
        if reason is None:
            with connect(srv.address, ctx, server_hostname) as conn:
                conn.unwrap()
        else:
            with pytest.raises(ssl.SSLCertVerificationError) as info:
                connect(srv.address, ctx, server_hostname).close()
            assert reason in str(info.value.verify_message)
        srv.wait_connections()


def test_pki_shape(pki: peers.ServerPki) -> None:
    assert pki.ecdsa.chain is not None and pki.ecdsa_direct.chain is None
    assert pki.ecdsa.fullchain.read_bytes().count(b"BEGIN CERTIFICATE") == 2
    for cert in (pki.ecdsa, pki.rsa, pki.expired, pki.wrong_name, pki.untrusted):
        assert cert.key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert pki.rsa.issued.cert.public_key().key_size == 2048  # type: ignore[union-attr]


# --------------------------------------------------------------------------- #
# openssl s_server
# --------------------------------------------------------------------------- #


@pytest.mark.interop
@pytest.mark.parametrize("host", peers.LOOPBACK_HOSTS)
def test_openssl_tls13_interactive(pki: peers.ServerPki, host: str) -> None:
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), tls12=False, host=host) as srv:
        with connect(srv.address, client_context(pki.root_ca)) as conn:
            assert conn.version() == "TLSv1.3"
            conn.sendall(b"hello from client\n")
            srv.wait_for_output(r"hello from client", start=srv.ready_offset)
            srv.send_line("hello from server")
            assert recv_until(conn, b"\n") == b"hello from server\n"
            # KeyUpdate, not requested then requested; traffic keeps flowing.
            srv.key_update(requested=False)
            srv.send_line("after k")
            assert recv_until(conn, b"\n") == b"after k\n"
            srv.key_update(requested=True)
            srv.send_line("after K")
            assert recv_until(conn, b"\n") == b"after K\n"
            conn.sendall(b"client after K\n")
            srv.wait_for_output("client after K")
            # 'q' closes the TCP connection *without* close_notify.
            srv.end_connection()
            with pytest.raises(ssl.SSLEOFError):
                conn.recv(100)
        srv.wait_for_output("CONNECTION CLOSED")
        assert srv.is_running()  # q keeps the server accepting


@pytest.mark.interop
def test_openssl_tls12_cipher(pki: peers.ServerPki) -> None:
    suite = "ECDHE-ECDSA-AES128-GCM-SHA256"
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), tls13=False, cipher=suite) as srv:
        with connect(srv.address, client_context(pki.root_ca)) as conn:
            assert conn.version() == "TLSv1.2"
            cipher = conn.cipher()
            assert cipher is not None and cipher[0] == suite
            conn.sendall(b"tls12 data\n")
            srv.wait_for_output("tls12 data")
            conn.unwrap()


@pytest.mark.interop
def test_openssl_ciphersuites_alpn_rsa(pki: peers.ServerPki) -> None:
    with peers.OpenSSLServer(
        **pki.rsa.server_kwargs(), ciphersuites="TLS_CHACHA20_POLY1305_SHA256", alpn="h2,http/1.1"
    ) as srv:
        with connect(srv.address, client_context(pki.root_ca, alpn=["http/1.1"])) as conn:
            cipher = conn.cipher()
            assert cipher is not None and cipher[0] == "TLS_CHACHA20_POLY1305_SHA256"
            assert conn.selected_alpn_protocol() == "http/1.1"
            conn.unwrap()


@pytest.mark.interop
def test_openssl_p384_forces_hello_retry_request(pki: peers.ServerPki) -> None:
    # Python's client (OpenSSL) sends only an x25519 key share: P-384 needs an HRR.
    with peers.OpenSSLServer(
        **pki.ecdsa.server_kwargs(), groups="P-384", extra_args=["-msg"], naccept=1
    ) as srv:
        with connect(srv.address, client_context(pki.root_ca)) as conn:
            assert conn.version() == "TLSv1.3"
            conn.unwrap()
        assert srv.wait_exit() == 0  # -naccept 1
        out = srv.output()
    assert len(re.findall(r"<<< TLS 1.3, Handshake \[length \w+\], ClientHello", out)) == 2, out
    assert "Shared groups: secp384r1" in out


@pytest.mark.interop
def test_openssl_rev_mode(pki: peers.ServerPki) -> None:
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), rev=True) as srv:
        with connect(srv.address, client_context(pki.root_ca)) as conn:
            conn.sendall(b"abc def\n")
            assert recv_until(conn, b"\n") == b"fed cba\n"
            conn.unwrap()


@pytest.mark.interop
def test_openssl_keylog_and_tickets(pki: peers.ServerPki, tmp_path: Path) -> None:
    keylog = tmp_path / "keylog.txt"
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), keylog=keylog, num_tickets=0) as srv:
        with connect(srv.address, client_context(pki.root_ca)) as conn:
            conn.sendall(b"x\n")
            srv.wait_for_output(r"(?m)^x$")
            conn.unwrap()
    assert "CLIENT_HANDSHAKE_TRAFFIC_SECRET" in keylog.read_text()


@pytest.mark.interop
def test_openssl_bad_arguments_raise_with_output(pki: peers.ServerPki) -> None:
    with pytest.raises(peers.PeerError, match="did not start") as info:
        peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), groups="no-such-group")
    assert "s_server" in str(info.value)


# --------------------------------------------------------------------------- #
# gnutls-serv
# --------------------------------------------------------------------------- #


@pytest.mark.interop
@pytest.mark.parametrize("host", peers.LOOPBACK_HOSTS)
def test_gnutls_tls13_echo(pki: peers.ServerPki, host: str) -> None:
    with peers.GnuTLSServer(
        **pki.ecdsa.server_kwargs(), priority="NORMAL:-VERS-ALL:+VERS-TLS1.3", host=host
    ) as srv:
        with connect(srv.address, client_context(pki.root_ca)) as conn:
            assert conn.version() == "TLSv1.3"
            conn.sendall(b"echo me\n")  # gnutls-serv --echo answers per line
            assert recv_until(conn, b"\n") == b"echo me\n"
            # A client line "**REHANDSHAKE**" makes gnutls-serv send a KeyUpdate
            # (update_requested) under TLS 1.3.
            conn.sendall(b"**REHANDSHAKE**\n")
            recv_until(conn, b"\n")
            conn.sendall(b"still here\n")
            assert recv_until(conn, b"\n") == b"still here\n"
            conn.unwrap()
        srv.wait_for_output(r"Version: TLS1\.3")


@pytest.mark.interop
def test_gnutls_tls12_alpn_groups(pki: peers.ServerPki) -> None:
    priority = "NORMAL:-VERS-ALL:+VERS-TLS1.2:-GROUP-ALL:+GROUP-SECP384R1"
    with peers.GnuTLSServer(
        **pki.rsa.server_kwargs(), priority=priority, alpn=["h2", "http/1.1"]
    ) as srv:
        with connect(srv.address, client_context(pki.root_ca, alpn=["http/1.1"])) as conn:
            assert conn.version() == "TLSv1.2"
            assert conn.selected_alpn_protocol() == "http/1.1"
            conn.sendall(b"x\n")
            assert recv_until(conn, b"\n") == b"x\n"
            conn.unwrap()
        srv.wait_for_output(r"Using curve: SECP384R1")


@pytest.mark.interop
def test_gnutls_p384_hello_retry_request(pki: peers.ServerPki) -> None:
    priority = "NORMAL:-GROUP-ALL:+GROUP-SECP384R1"
    with peers.GnuTLSServer(**pki.ecdsa.server_kwargs(), priority=priority) as srv:
        with connect(srv.address, client_context(pki.root_ca)) as conn:
            assert conn.version() == "TLSv1.3"
            conn.unwrap()
        srv.wait_for_output(r"ECDHE-SECP384R1")


@pytest.mark.interop
def test_servers_stop_promptly(pki: peers.ServerPki) -> None:
    start = time.monotonic()
    with (
        peers.OpenSSLServer(**pki.ecdsa.server_kwargs()) as o,
        peers.GnuTLSServer(**pki.ecdsa.server_kwargs()) as g,
    ):
        # A client that connects and then says nothing must not block stop().
        idle = [socket.create_connection(o.address, timeout=IO_TIMEOUT)]
        idle.append(socket.create_connection(g.address, timeout=IO_TIMEOUT))
    for s in idle:
        s.close()
    assert not o.is_running() and not g.is_running()
    assert time.monotonic() - start < 8
