"""Interop: the SSPI client (driven by :mod:`schannel_py.stream`, curl's loop) against real peers.

Peers (see ``tests/support/peers.py``): ``openssl s_server``, ``gnutls-serv`` and a Python
``ssl`` server, all on loopback (127.0.0.1 / ::1).  Everything goes through
``schannel_py.stream`` -- AcquireCredentialsHandle, the InitializeSecurityContext
loop, EncryptMessage / DecryptMessage, SEC_I_RENEGOTIATE handling and the
ApplyControlToken shutdown -- and what was negotiated is read back with
``QueryContextAttributes``, as a Windows caller would.

Every test is bounded in time: sockets time out after ``IO_TIMEOUT``, peers
start and stop within their own limits, and the autouse ``_deadline`` fixture
aborts any test still running after a deadline (conftest.py, INTEROP_DEADLINE).

The tools are required with ``peers.require_tool``: a missing tool skips the
test locally but fails it when ``CI`` is set.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import schannel_py as S
from schannel_py import stream
from schannel_py.sspi import context as sspi_context
from schannel_py.stream import SChannelError, SChannelStream
from schannel_py.testing.pki import KeyType, make_leaf
from tests.support import peers

pytestmark = pytest.mark.interop

IO_TIMEOUT = 5.0
ONE_MIB = 1 << 20

SUITES = {
    "TLS_AES_128_GCM_SHA256": 0x1301,
    "TLS_AES_256_GCM_SHA384": 0x1302,
    "TLS_CHACHA20_POLY1305_SHA256": 0x1303,
}
X25519, SECP256R1, SECP384R1 = 0x001D, 0x0017, 0x0018


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #


@pytest.fixture
def openssl() -> str:
    return peers.require_tool("openssl")


@pytest.fixture
def gnutls() -> str:
    peers.require_tool("unshare")
    return peers.require_tool("gnutls-serv")


class Tracer:
    """Records the driver's events: ``(event, details)`` pairs."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, object]]] = []

    def __call__(self, event: str, details: dict[str, object]) -> None:
        self.events.append((event, details))

    def statuses(self, event: str) -> list[object]:
        return [d.get("status") for e, d in self.events if e == event]

    def count(self, event: str, status: int) -> int:
        return sum(1 for s in self.statuses(event) if s == status)

    def isc_after_renegotiate(self) -> list[dict[str, object]]:
        """The ISC calls made to answer a SEC_I_RENEGOTIATE from DecryptMessage."""
        out = []
        for (e1, d1), (e2, d2) in zip(self.events, self.events[1:], strict=False):
            if e1 == "decrypt" and d1.get("status") == S.SEC_I_RENEGOTIATE and e2 == "isc":
                out.append(d2)
        return out


def token_bytes(isc_details: dict[str, object]) -> int:
    """Bytes of the SECBUFFER_TOKEN output of one traced ISC call."""
    output = isc_details["output"]
    assert isinstance(output, list)
    return sum(size for btype, size in output if btype == S.SECBUFFER_TOKEN)


@contextlib.contextmanager
def session(
    address: tuple[str, int],
    target: str | None = "localhost",
    **kwargs: object,
) -> Iterator[SChannelStream]:
    """``stream.connect`` to ``address``; the context and the socket are released on exit."""
    host, port = address
    s = stream.connect(host, port, target=target, timeout=IO_TIMEOUT, **kwargs)  # type: ignore[arg-type]
    try:
        yield s
    finally:
        s.close()
        s.sock.close()


@contextlib.contextmanager
def small_read_session(
    address: tuple[str, int], recv_size: int, tracer: Tracer | None = None
) -> Iterator[SChannelStream]:
    """Like :func:`session`, but the driver reads at most ``recv_size`` bytes per recv()."""
    sock = socket.create_connection(address, timeout=IO_TIMEOUT)
    s = SChannelStream(
        sock, "localhost", stream.acquire_default_credential(), tracer=tracer, recv_size=recv_size
    )
    try:
        s.handshake()
        yield s
    finally:
        s.close()
        sock.close()


def expect_failure(
    address: tuple[str, int], target: str = "localhost", **kwargs: object
) -> S.SecStatus:
    """Connect, expecting the handshake to fail with SChannelError; return its status."""
    with pytest.raises(SChannelError) as info, session(address, target, **kwargs):
        pass
    assert info.value.call == "InitializeSecurityContext", info.value
    return info.value.status


def recv_exactly(s: SChannelStream, size: int, timeout: float = 20.0) -> bytes:
    """Read until ``size`` bytes arrived (fails on close or timeout)."""
    data = bytearray()
    deadline = time.monotonic() + timeout
    while len(data) < size:
        assert time.monotonic() < deadline, f"only {len(data)} of {size} bytes"
        chunk = s.recv()
        assert chunk, f"connection closed after {len(data)} of {size} bytes"
        data += chunk
    assert len(data) == size, f"got {len(data)} bytes, expected {size}"
    return bytes(data)


def recv_until(s: SChannelStream, marker: bytes, timeout: float = IO_TIMEOUT) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    while marker not in data:
        assert time.monotonic() < deadline, f"no {marker!r} in {data!r}"
        chunk = s.recv()
        assert chunk, f"connection closed before {marker!r}; got {data!r}"
        data += chunk
    return data


def close_cleanly(s: SChannelStream) -> None:
    """Send close_notify, then expect the peer's close_notify (recv() -> b"", .closed)."""
    s.shutdown()
    assert s.recv() == b""
    assert s.closed


def openssl_roundtrip(srv: peers.OpenSSLServer, s: SChannelStream, tag: str) -> None:
    """One line each way through s_server (which also consumes its session tickets).

    Reading first means the tickets are consumed before ``shutdown()``; see
    ``test_tickets_after_client_close_notify`` for tickets read after it.
    """
    mark = len(srv.output())
    s.send(f"client {tag}\n".encode())
    srv.wait_for_output(re.escape(f"client {tag}"), start=mark)
    srv.wait_stdin_drained()
    srv.send_line(f"server {tag}")
    assert recv_until(s, b"\n") == f"server {tag}\n".encode()


def cipher_info(s: SChannelStream) -> S.SecPkgContext_CipherInfo:
    info = S.SecPkgContext_CipherInfo()
    assert S.QueryContextAttributes(s.ctx, S.SECPKG_ATTR_CIPHER_INFO, info) == S.SEC_E_OK
    return info


def connection_info(s: SChannelStream) -> S.SecPkgContext_ConnectionInfo:
    info = S.SecPkgContext_ConnectionInfo()
    assert S.QueryContextAttributes(s.ctx, S.SECPKG_ATTR_CONNECTION_INFO, info) == S.SEC_E_OK
    return info


def remote_chain(s: SChannelStream) -> list[str]:
    """Subjects of SECPKG_ATTR_REMOTE_CERT_CONTEXT's store (the chain as sent), leaf first."""
    pv = S.PVOID()
    assert S.QueryContextAttributes(s.ctx, S.SECPKG_ATTR_REMOTE_CERT_CONTEXT, pv) == S.SEC_E_OK
    leaf = pv.value
    assert isinstance(leaf, S.crypt32.CERT_CONTEXT)
    store = leaf.hCertStore
    assert store is not None
    return [c.certificate.subject.rfc4514_string() for c in store]


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def digit_lines(total: int, width: int = 1023) -> bytes:
    """``total`` bytes of newline-terminated decimal lines (no s_server command letters)."""
    lines = bytearray()
    n = 0
    while len(lines) < total:
        line = (f"{n:08d}" * (width // 8 + 1))[:width].encode() + b"\n"
        lines += line
        n += 1
    del lines[total:]
    lines[-1:] = b"\n"
    return bytes(lines)


def printed_data(srv: peers.OpenSSLServer) -> bytes:
    """s_server's output with its "Read BLOCK" notices (which may split data) removed."""
    return srv.output_bytes().replace(b"Read BLOCK\n", b"")


def hello_retry_count(server_output: str) -> int:
    """How many ClientHellos s_server -msg saw (2 means a HelloRetryRequest happened)."""
    return len(re.findall(r"<<< TLS 1.3, Handshake \[length \w+\], ClientHello", server_output))


# --------------------------------------------------------------------------- #
# openssl s_server
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("suite", list(SUITES))
def test_openssl_cipher_suites(
    openssl: str, pki: peers.ServerPki, root_certs_env: object, suite: str
) -> None:
    with (
        peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), tls12=False, ciphersuites=suite) as srv,
        session(srv.address) as s,
    ):
        info = cipher_info(s)
        assert info.dwCipherSuite == SUITES[suite]
        assert info.szCipherSuite == suite
        assert info.dwKeyType == X25519
        assert info.dwCipherLen == (128 if "128" in suite else 256)
        assert connection_info(s).dwProtocol == S.SP_PROT_TLS1_3_CLIENT
        # client -> server: s_server prints what it receives.
        s.send(b"client says " + suite.encode() + b"\n")
        srv.wait_for_output(f"client says {suite}", start=srv.ready_offset)
        # server -> client: lines written to s_server's stdin.
        srv.wait_stdin_drained()
        srv.send_line(f"server says {suite}")
        assert recv_until(s, b"\n") == f"server says {suite}\n".encode()
        close_cleanly(s)
    assert f"CIPHER is {suite}" in srv.output()


@pytest.mark.parametrize(
    ("groups", "key_type", "hrr"),
    [(None, X25519, False), ("P-256", SECP256R1, True), ("P-384", SECP384R1, True)],
    ids=["x25519-default", "P-256-hrr", "P-384-hrr"],
)
def test_openssl_groups(
    openssl: str,
    pki: peers.ServerPki,
    root_certs_env: object,
    groups: str | None,
    key_type: int,
    hrr: bool,
) -> None:
    # The client sends only an x25519 key share: P-256 / P-384 need a HelloRetryRequest.
    with (
        peers.OpenSSLServer(
            **pki.ecdsa.server_kwargs(), tls12=False, groups=groups, extra_args=["-msg"]
        ) as srv,
        session(srv.address) as s,
    ):
        assert cipher_info(s).dwKeyType == key_type
        openssl_roundtrip(srv, s, f"group {groups}")
        close_cleanly(s)
    assert hello_retry_count(srv.output()) == (2 if hrr else 1), srv.output()[-4000:]


@pytest.mark.parametrize(
    ("cert_name", "cert_kind", "chain_length"),
    [("rsa", "RSA", 2), ("ecdsa", "ECDSA", 2), ("ecdsa_direct", "ECDSA", 1)],
)
def test_openssl_certificates(
    openssl: str,
    pki: peers.ServerPki,
    root_certs_env: object,
    cert_name: str,
    cert_kind: str,
    chain_length: int,
) -> None:
    cert: peers.ServerCert = getattr(pki, cert_name)
    with (
        peers.OpenSSLServer(**cert.server_kwargs(), tls12=False) as srv,
        session(srv.address) as s,
    ):
        assert cipher_info(s).szCertificate == cert_kind
        key_info = S.SecPkgContext_KeyInfo()
        assert S.QueryContextAttributes(s.ctx, S.SECPKG_ATTR_KEY_INFO, key_info) == S.SEC_E_OK
        assert key_info.SignatureAlgorithm == (
            S.CALG_RSA_SIGN if cert_kind == "RSA" else S.CALG_ECDSA
        )
        chain = remote_chain(s)
        assert len(chain) == chain_length, chain
        if chain_length == 2:
            assert chain[1] == pki.intermediate.cert.subject.rfc4514_string()
        openssl_roundtrip(srv, s, cert_name)
        close_cleanly(s)


@pytest.mark.parametrize("target", ["127.0.0.1", "::1"])
def test_openssl_ip_address_target(
    openssl: str, pki: peers.ServerPki, root_certs_env: object, target: str
) -> None:
    # The name checked is an IP address SAN, reached over IPv4 and IPv6.
    with (
        peers.OpenSSLServer(**pki.rsa.server_kwargs(), host=target) as srv,
        session(srv.address, target=target) as s,
    ):
        openssl_roundtrip(srv, s, "via ip")
        close_cleanly(s)


def test_openssl_alpn_selected(openssl: str, pki: peers.ServerPki, root_certs_env: object) -> None:
    with (
        peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), alpn="http/1.1") as srv,
        session(srv.address, alpn=[b"h2", b"http/1.1"]) as s,
    ):
        assert s.negotiated_alpn() == b"http/1.1"
        ap = S.SecPkgContext_ApplicationProtocol()
        assert S.QueryContextAttributes(s.ctx, S.SECPKG_ATTR_APPLICATION_PROTOCOL, ap) == 0
        assert ap.ProtoNegoStatus == S.SecApplicationProtocolNegotiationStatus_Success
        assert ap.ProtoNegoExt == S.SecApplicationProtocolNegotiationExt_ALPN
        openssl_roundtrip(srv, s, "alpn")
        close_cleanly(s)
    assert "ALPN protocols advertised by the client: h2, http/1.1" in srv.output()


def test_openssl_hrr_with_alpn_and_chacha(
    openssl: str, pki: peers.ServerPki, root_certs_env: object
) -> None:
    # Everything negotiated in the first ClientHello must survive the second one.
    with (
        peers.OpenSSLServer(
            **pki.ecdsa.server_kwargs(),
            tls12=False,
            groups="P-384",
            alpn="http/1.1",
            ciphersuites="TLS_CHACHA20_POLY1305_SHA256",
            extra_args=["-msg"],
        ) as srv,
        session(srv.address, alpn=[b"h2", b"http/1.1"]) as s,
    ):
        info = cipher_info(s)
        assert (info.dwKeyType, info.dwCipherSuite) == (SECP384R1, 0x1303)
        assert s.negotiated_alpn() == b"http/1.1"
        openssl_roundtrip(srv, s, "hrr alpn chacha")
        close_cleanly(s)
    assert hello_retry_count(srv.output()) == 2


def test_openssl_alpn_no_overlap(
    openssl: str, pki: peers.ServerPki, root_certs_env: object
) -> None:
    # OpenSSL 3 s_server answers an ALPN list without a common protocol with a fatal
    # no_application_protocol (120) alert; SChannel reports that alert as
    # SEC_E_APPLICATION_PROTOCOL_MISMATCH.
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), alpn="http/1.1") as srv:
        status = expect_failure(srv.address, alpn=[b"h2"])
        assert status == S.SEC_E_APPLICATION_PROTOCOL_MISMATCH
        assert repr(status) == "SEC_E_APPLICATION_PROTOCOL_MISMATCH"
        srv.wait_for_output("no application protocol", start=srv.ready_offset)


def test_openssl_alpn_not_offered_or_not_configured(
    openssl: str, pki: peers.ServerPki, root_certs_env: object
) -> None:
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), alpn="http/1.1") as srv:
        with session(srv.address) as s:  # client offers nothing
            assert s.negotiated_alpn() is None
            openssl_roundtrip(srv, s, "no alpn offered")
            close_cleanly(s)
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs()) as srv:
        with session(srv.address, alpn=[b"h2"]) as s:  # server has no ALPN callback
            assert s.negotiated_alpn() is None
            openssl_roundtrip(srv, s, "no alpn configured")
            close_cleanly(s)


@pytest.mark.parametrize("num_tickets", [0, 2, 5])
def test_openssl_session_tickets(
    openssl: str, pki: peers.ServerPki, root_certs_env: object, num_tickets: int
) -> None:
    # Each NewSessionTicket comes back from DecryptMessage as SEC_I_RENEGOTIATE and is
    # consumed by an ISC call that produces no token; the data after it still flows.
    trace = Tracer()
    with (
        peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), num_tickets=num_tickets) as srv,
        session(srv.address, tracer=trace) as s,
    ):
        srv.wait_stdin_drained()
        srv.send_line("after tickets")
        assert recv_until(s, b"\n") == b"after tickets\n"
        s.send(b"client after tickets\n")
        srv.wait_for_output("client after tickets", start=srv.ready_offset)
        close_cleanly(s)
    assert trace.count("decrypt", S.SEC_I_RENEGOTIATE) == num_tickets
    answers = trace.isc_after_renegotiate()
    assert [d["status"] for d in answers] == [S.SEC_E_OK] * num_tickets
    assert all(token_bytes(d) == 0 for d in answers)


def test_openssl_key_update(openssl: str, pki: peers.ServerPki, root_certs_env: object) -> None:
    trace = Tracer()
    with (
        peers.OpenSSLServer(
            **pki.ecdsa.server_kwargs(), tls12=False, num_tickets=0, extra_args=["-msg"]
        ) as srv,
        session(srv.address, tracer=trace) as s,
    ):
        s.send(b"before\n")
        srv.wait_for_output("before", start=srv.ready_offset)

        # Not requested: the client updates its receiving keys and sends nothing.
        srv.key_update(requested=False)
        srv.send_line("after k")
        assert recv_until(s, b"\n") == b"after k\n"
        (answer,) = trace.isc_after_renegotiate()
        assert answer["status"] == S.SEC_E_OK and token_bytes(answer) == 0
        s.send(b"client after k\n")
        srv.wait_for_output("client after k")

        # Requested: the client must send its own KeyUpdate (update_not_requested) and
        # switch its sending keys, or s_server fails to decrypt the next record.
        for round_ in range(3):
            mark = len(srv.output())
            srv.key_update(requested=True)
            srv.send_line(f"after K {round_}")
            assert recv_until(s, b"\n") == f"after K {round_}\n".encode()
            answer = trace.isc_after_renegotiate()[-1]
            assert answer["status"] == S.SEC_E_OK
            assert token_bytes(answer) > 0  # the client's KeyUpdate record
            s.send(f"client after K {round_}\n".encode())
            srv.wait_for_output(f"client after K {round_}", start=mark)
        assert trace.count("decrypt", S.SEC_I_RENEGOTIATE) == 4
        close_cleanly(s)
    out = srv.output()
    assert not re.search(r"(?m)^ERROR$|:error:", out), out
    # s_server sent 4 KeyUpdates and received exactly one per "K" from the client.
    assert len(re.findall(r">>> TLS 1.3, Handshake \[length 0005\], KeyUpdate", out)) == 4
    assert len(re.findall(r"<<< TLS 1.3, Handshake \[length 0005\], KeyUpdate", out)) == 3


def test_openssl_rev_one_mib(openssl: str, pki: peers.ServerPki, root_certs_env: object) -> None:
    # -rev: s_server sends back every line reversed, so both directions are checked
    # byte for byte.  Sent in 64 KiB windows so that neither side blocks on a full
    # socket buffer while the other is not reading.
    payload = digit_lines(ONE_MIB)
    lines = payload.splitlines(keepends=True)
    window = 64
    with (
        peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), rev=True) as srv,
        session(srv.address) as s,
    ):
        total = 0
        for i in range(0, len(lines), window):
            chunk = lines[i : i + window]
            s.send(b"".join(chunk))
            expected = b"".join(line[:-1][::-1] + b"\n" for line in chunk)
            assert recv_exactly(s, len(expected)) == expected
            total += len(expected)
        assert total == ONE_MIB
        close_cleanly(s)


def test_openssl_interactive_one_mib_each_way(
    openssl: str, pki: peers.ServerPki, root_certs_env: object
) -> None:
    up = digit_lines(ONE_MIB, width=511)
    down = digit_lines(ONE_MIB, width=767)
    with (
        peers.OpenSSLServer(
            **pki.rsa.server_kwargs(), ciphersuites="TLS_CHACHA20_POLY1305_SHA256"
        ) as srv,
        session(srv.address) as s,
    ):
        # client -> server: s_server writes what it receives verbatim to its stdout.
        s.send(up)
        wait_until(lambda: up in printed_data(srv), "1 MiB on s_server's stdout")
        # server -> client: 1 MiB through s_server's stdin, written by a thread since
        # the pipe only holds 64 KiB until s_server reads (and sends) it.
        errors: list[BaseException] = []

        def feed() -> None:
            try:
                srv.send_bytes(down)
            except BaseException as e:  # reported below
                errors.append(e)

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        assert recv_exactly(s, len(down)) == down
        writer.join(IO_TIMEOUT)
        assert not writer.is_alive() and not errors, errors
        close_cleanly(s)


@pytest.mark.parametrize(
    ("cert_name", "status", "alert"),
    [
        ("wrong_name", S.SEC_E_WRONG_PRINCIPAL, 46),  # certificate_unknown
        ("untrusted", S.SEC_E_UNTRUSTED_ROOT, 48),  # unknown_ca
        ("expired", S.SEC_E_CERT_EXPIRED, 45),  # certificate_expired
    ],
)
def test_openssl_certificate_rejected(
    openssl: str,
    pki: peers.ServerPki,
    root_certs_env: object,
    cert_name: str,
    status: int,
    alert: int,
) -> None:
    cert: peers.ServerCert = getattr(pki, cert_name)
    with peers.OpenSSLServer(**cert.server_kwargs()) as srv:
        got = expect_failure(srv.address)
        assert got == status and repr(got) == repr(S.SecStatus(status))
        # The client told the server why, with a fatal alert.
        srv.wait_for_output(rf"SSL alert number {alert}\b", start=srv.ready_offset)


def test_openssl_wrong_name_by_ip(
    openssl: str, pki: peers.ServerPki, root_certs_env: object
) -> None:
    # wrong_name has no IP address SANs: an IP target is a mismatch too.
    with peers.OpenSSLServer(**pki.wrong_name.server_kwargs()) as srv:
        assert expect_failure(srv.address, target="127.0.0.1") == S.SEC_E_WRONG_PRINCIPAL
        srv.wait_for_output(r"SSL alert number 46\b", start=srv.ready_offset)


def test_openssl_missing_intermediate(
    openssl: str, pki: peers.ServerPki, root_certs_env: object
) -> None:
    # The server sends only its leaf: no chain to the trusted root can be built
    # (no AIA fetching here), so the root is "untrusted", as Windows reports a
    # partial chain.
    with peers.OpenSSLServer(cert_file=pki.ecdsa.cert, key_file=pki.ecdsa.key) as srv:
        assert expect_failure(srv.address) == S.SEC_E_UNTRUSTED_ROOT
        srv.wait_for_output(r"SSL alert number 48\b", start=srv.ready_offset)


def test_openssl_no_servername_check(
    openssl: str, pki: peers.ServerPki, root_certs_env: object
) -> None:
    # SCH_CRED_NO_SERVERNAME_CHECK skips only the name check: wrong_name connects,
    # an untrusted chain is still refused.
    cred = stream.acquire_default_credential(flags=S.SCH_CRED_NO_SERVERNAME_CHECK)
    with (
        peers.OpenSSLServer(**pki.wrong_name.server_kwargs()) as srv,
        session(srv.address, cred=cred) as s,
    ):
        openssl_roundtrip(srv, s, "no name check")
        close_cleanly(s)
    with peers.OpenSSLServer(**pki.untrusted.server_kwargs()) as srv:
        assert expect_failure(srv.address, cred=cred) == S.SEC_E_UNTRUSTED_ROOT
        srv.wait_for_output(r"SSL alert number 48\b", start=srv.ready_offset)


def test_openssl_target_name_is_case_insensitive(
    openssl: str, pki: peers.ServerPki, root_certs_env: object
) -> None:
    with (
        peers.OpenSSLServer(**pki.ecdsa.server_kwargs()) as srv,
        session(srv.address, target="LocalHost") as s,
    ):
        openssl_roundtrip(srv, s, "case")
        close_cleanly(s)


@pytest.mark.parametrize("cert_name", ["untrusted", "expired", "wrong_name"])
def test_openssl_manual_cred_validation(
    openssl: str, pki: peers.ServerPki, root_certs_env: object, cert_name: str
) -> None:
    # SCH_CRED_MANUAL_CRED_VALIDATION: SChannel does not validate the server's
    # certificate (the caller would); the handshake completes and data flows.
    cred = stream.acquire_default_credential(flags=S.SCH_CRED_MANUAL_CRED_VALIDATION)
    cert: peers.ServerCert = getattr(pki, cert_name)
    with peers.OpenSSLServer(**cert.server_kwargs()) as srv, session(srv.address, cred=cred) as s:
        assert remote_chain(s)[0] == cert.issued.cert.subject.rfc4514_string()
        openssl_roundtrip(srv, s, "manual validation")
        close_cleanly(s)
    assert "SSL alert number" not in srv.output()


def test_openssl_tls12_only_server_tls13_only_client(
    openssl: str, pki: peers.ServerPki, root_certs_env: object
) -> None:
    # With TLS 1.2 disabled in the credential the ClientHello offers only TLS 1.3
    # (supported_versions = [0x0304]).  A TLS 1.2-only s_server rejects it with a
    # fatal protocol_version (70) alert, which SChannel reports as
    # SEC_E_UNSUPPORTED_FUNCTION (0x80090302) -- the status curl prints on Windows
    # when client and server share no TLS version.  A Windows status, not a
    # Python exception.
    cred = stream.acquire_default_credential(disabled_protocols=S.SP_PROT_TLS1_2_CLIENT)
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), tls13=False, extra_args=["-msg"]) as srv:
        status = expect_failure(srv.address, cred=cred)
        assert status == S.SEC_E_UNSUPPORTED_FUNCTION
        assert repr(status) == "SEC_E_UNSUPPORTED_FUNCTION"
        srv.wait_for_output("unsupported protocol", start=srv.ready_offset)
        srv.wait_for_output(r">>> \S+ \S+, Alert \[length 0002\], fatal protocol_version")


def test_openssl_tls12_only_server_default_client(
    openssl: str, pki: peers.ServerPki, root_certs_env: object
) -> None:
    # The default credential enables TLS 1.3 and TLS 1.2.  (When this suite was
    # first written TLS 1.2 was not implemented and this handshake failed exactly
    # as in the test above, SEC_E_UNSUPPORTED_FUNCTION; TLS 1.2 support has since
    # landed, so a TLS 1.2-only server is now reached over TLS 1.2.)
    with (
        peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), tls13=False) as srv,
        session(srv.address) as s,
    ):
        assert connection_info(s).dwProtocol == S.SP_PROT_TLS1_2_CLIENT
        assert cipher_info(s).dwProtocol == 0x0303
        openssl_roundtrip(srv, s, "tls12")
        close_cleanly(s)
    assert "CIPHER is ECDHE-ECDSA-" in srv.output()


@pytest.mark.parametrize(
    ("cert_name", "option", "value", "server_error"),
    [
        # TLS 1.3 forbids rsa_pkcs1_* in CertificateVerify: nothing to sign with.
        ("rsa", "-sigalgs", "RSA+SHA256", "no suitable signature algorithm"),
        ("ecdsa", "-groups", "ffdhe2048", "no suitable key share"),
        ("ecdsa", "-ciphersuites", "TLS_AES_128_CCM_SHA256", "no shared cipher"),
    ],
    ids=["signature-scheme", "group", "cipher-suite"],
)
def test_openssl_nothing_in_common(
    openssl: str,
    pki: peers.ServerPki,
    root_certs_env: object,
    cert_name: str,
    option: str,
    value: str,
    server_error: str,
) -> None:
    # The server finds nothing acceptable and sends handshake_failure (40), which
    # SChannel reports as SEC_E_ILLEGAL_MESSAGE (Microsoft's alert table).
    cert: peers.ServerCert = getattr(pki, cert_name)
    with peers.OpenSSLServer(
        **cert.server_kwargs(), tls12=False, extra_args=[option, value, "-msg"]
    ) as srv:
        assert expect_failure(srv.address) == S.SEC_E_ILLEGAL_MESSAGE
        srv.wait_for_output(server_error, start=srv.ready_offset)
        srv.wait_for_output(r">>> \S+ \S+, Alert \[length 0002\], fatal handshake_failure")


@pytest.mark.parametrize("sigalg", ["RSA-PSS+SHA256", "RSA-PSS+SHA384", "RSA-PSS+SHA512"])
def test_openssl_rsa_pss_schemes(
    openssl: str, pki: peers.ServerPki, root_certs_env: object, sigalg: str
) -> None:
    with (
        peers.OpenSSLServer(
            **pki.rsa.server_kwargs(), tls12=False, extra_args=["-sigalgs", sigalg]
        ) as srv,
        session(srv.address) as s,
    ):
        openssl_roundtrip(srv, s, sigalg)
        close_cleanly(s)


@pytest.mark.parametrize(
    ("key_type", "cert_kind"), [("p384", "ECDSA"), ("ed25519", "EDDSA"), ("rsa3072", "RSA")]
)
def test_openssl_other_server_key_types(
    openssl: str,
    pki: peers.ServerPki,
    root_certs_env: object,
    tmp_path: Path,
    key_type: KeyType,
    cert_kind: str,
) -> None:
    issued = make_leaf(
        pki.intermediate,
        dns_names=peers.LOCAL_NAMES,
        ip_addresses=peers.LOCAL_IPS,
        key_type=key_type,
    )
    paths = issued.write(tmp_path, f"{key_type}-")
    with (
        peers.OpenSSLServer(paths.cert, paths.key, chain_file=paths.chain, tls12=False) as srv,
        session(srv.address) as s,
    ):
        assert cipher_info(s).szCertificate == cert_kind
        openssl_roundtrip(srv, s, key_type)
        close_cleanly(s)


def test_openssl_record_padding(openssl: str, pki: peers.ServerPki, root_certs_env: object) -> None:
    # s_server pads every TLS 1.3 record (handshake, tickets, data) to 512 bytes.
    trace = Tracer()
    with (
        peers.OpenSSLServer(
            **pki.ecdsa.server_kwargs(), tls12=False, extra_args=["-record_padding", "512"]
        ) as srv,
        session(srv.address, tracer=trace) as s,
    ):
        openssl_roundtrip(srv, s, "padded")
        srv.key_update(requested=True)
        srv.send_line("padded after K")
        assert recv_until(s, b"\n") == b"padded after K\n"
        openssl_roundtrip(srv, s, "padded 2")
        close_cleanly(s)
    assert trace.count("decrypt", S.SEC_I_RENEGOTIATE) == 3  # 2 tickets + KeyUpdate


@pytest.mark.parametrize("groups", [None, "P-256"], ids=["x25519", "P-256-hrr"])
def test_openssl_small_fragments_small_reads(
    openssl: str, pki: peers.ServerPki, root_certs_env: object, groups: str | None
) -> None:
    # Records of at most 512 bytes (handshake messages span several records) and a
    # driver reading one byte at a time: every ISC / DecryptMessage call sees
    # partial records (SEC_E_INCOMPLETE_MESSAGE) and leftovers (SECBUFFER_EXTRA),
    # with and without a HelloRetryRequest.
    trace = Tracer()
    with peers.OpenSSLServer(
        **pki.rsa.server_kwargs(),
        tls12=False,
        groups=groups,
        extra_args=["-max_send_frag", "512"],
    ) as srv:
        with small_read_session(srv.address, recv_size=1, tracer=trace) as s:
            payload = digit_lines(20_000, width=99)
            s.send(payload)
            wait_until(lambda: payload in printed_data(srv), "payload on s_server's stdout")
            srv.wait_stdin_drained()
            srv.send_line("y" * 5000)
            assert recv_until(s, b"\n", timeout=20) == b"y" * 5000 + b"\n"
            srv.key_update(requested=True)
            srv.send_line("z" * 3000)
            assert recv_until(s, b"\n", timeout=20) == b"z" * 3000 + b"\n"
            openssl_roundtrip(srv, s, "after key update")
            close_cleanly(s)
    assert trace.count("isc", S.SEC_E_INCOMPLETE_MESSAGE) > 100
    assert trace.count("decrypt", S.SEC_E_INCOMPLETE_MESSAGE) > 100


def test_openssl_large_certificate_small_reads(
    openssl: str, pki: peers.ServerPki, root_certs_env: object, tmp_path: Path
) -> None:
    # A ~30 KB certificate: the Certificate message spans several 16 KiB records
    # and many socket reads.
    names = ("localhost", *(f"host{i:04d}.schannel-py.example" for i in range(1000)))
    issued = make_leaf(pki.intermediate, dns_names=names)
    assert len(issued.der) > 2 * 16384 - 4096
    paths = issued.write(tmp_path, "big-")
    with peers.OpenSSLServer(paths.cert, paths.key, chain_file=paths.chain) as srv:
        with small_read_session(srv.address, recv_size=97) as s:
            assert remote_chain(s)[0] == issued.cert.subject.rfc4514_string()
            openssl_roundtrip(srv, s, "big cert")
            close_cleanly(s)


def test_openssl_client_certificate_optional(
    openssl: str, pki: peers.ServerPki, root_certs_env: object
) -> None:
    # CertificateRequest without a client certificate in the credential (curl's
    # ISC_REQ_USE_SUPPLIED_CREDS): the client answers with an empty Certificate.
    with (
        peers.OpenSSLServer(
            **pki.ecdsa.server_kwargs(), tls12=False, extra_args=["-verify", "1", "-msg"]
        ) as srv,
        session(srv.address) as s,
    ):
        openssl_roundtrip(srv, s, "no client cert")
        close_cleanly(s)
    out = srv.output()
    assert re.search(r">>> TLS 1.3, Handshake \[length \w+\], CertificateRequest", out)
    assert re.search(r"<<< TLS 1.3, Handshake \[length 0008\], Certificate", out)  # empty


def test_openssl_client_certificate_required(
    openssl: str, pki: peers.ServerPki, root_certs_env: object
) -> None:
    # The TLS 1.3 client finishes its side before the server judges the empty
    # Certificate; the server's fatal certificate_required (116) alert then comes
    # back from DecryptMessage.  Microsoft's alert table has no row for 116; the
    # emulation falls back to SEC_E_ILLEGAL_MESSAGE.
    with (
        peers.OpenSSLServer(
            **pki.ecdsa.server_kwargs(),
            tls12=False,
            verify_client=True,
            client_ca_file=pki.root_ca,
        ) as srv,
        session(srv.address) as s,
    ):
        with pytest.raises(SChannelError) as info:
            s.recv()
        assert info.value.call == "DecryptMessage"
        assert info.value.status == S.SEC_E_ILLEGAL_MESSAGE
        srv.wait_for_output("peer did not return a certificate")


def test_openssl_truncated_connection(
    openssl: str, pki: peers.ServerPki, root_certs_env: object
) -> None:
    # s_server's "q" drops the TCP connection without close_notify: a truncation.
    # The driver reports it as an SChannelError (not a Python socket error) and
    # the stream is not marked cleanly closed.
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs()) as srv, session(srv.address) as s:
        openssl_roundtrip(srv, s, "before truncation")
        srv.end_connection()
        with pytest.raises(SChannelError) as info:
            s.recv()
        assert info.value.status == S.SEC_E_INCOMPLETE_MESSAGE
        assert not s.closed


def test_tickets_after_client_close_notify(
    openssl: str, pki: peers.ServerPki, root_certs_env: object
) -> None:
    # The client sends data and closes without reading: the server's two session
    # tickets are still unread when the client's close_notify goes out.  Draining
    # to the server's close_notify (as curl's shutdown does) must get through the
    # tickets: DecryptMessage -> SEC_I_RENEGOTIATE, ISC -> SEC_E_OK (bytes back as
    # EXTRA), DecryptMessage -> SEC_I_CONTEXT_EXPIRED.  (Regression test: ISC used
    # to answer SEC_E_INCOMPLETE_MESSAGE for ever once the context was closed.)
    trace = Tracer()
    with (
        peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), tls12=False, num_tickets=2) as srv,
        session(srv.address, tracer=trace) as s,
    ):
        s.send(b"close without reading\n")
        srv.wait_for_output("close without reading", start=srv.ready_offset)
        s.shutdown()
        assert s.recv() == b""
        assert s.closed
    assert trace.count("decrypt", S.SEC_I_RENEGOTIATE) == 2
    answers = trace.isc_after_renegotiate()
    assert [d["status"] for d in answers] == [S.SEC_E_OK] * 2
    assert all(token_bytes(d) == 0 for d in answers)  # nothing is sent after close_notify
    assert trace.statuses("decrypt")[-1] == S.SEC_I_CONTEXT_EXPIRED


# --------------------------------------------------------------------------- #
# gnutls-serv (echo mode)
# --------------------------------------------------------------------------- #

TLS13_ONLY = "NORMAL:-VERS-ALL:+VERS-TLS1.3"


@pytest.mark.parametrize("host", peers.LOOPBACK_HOSTS)
def test_gnutls_default_priority(
    gnutls: str, pki: peers.ServerPki, root_certs_env: object, host: str
) -> None:
    with peers.GnuTLSServer(**pki.ecdsa.server_kwargs(), host=host) as srv:
        with session(srv.address) as s:
            info = cipher_info(s)
            assert info.dwProtocol == 0x0304 and info.dwKeyType == X25519
            assert info.dwCipherSuite in SUITES.values()
            s.send(b"echo me\n")
            assert recv_until(s, b"\n") == b"echo me\n"
            close_cleanly(s)
        srv.wait_for_output(r"Version: TLS1\.3")
        srv.wait_for_output(r"Given server name\[1\]: localhost")  # SNI


@pytest.mark.parametrize(
    ("gnutls_cipher", "suite"),
    [
        ("AES-128-GCM", "TLS_AES_128_GCM_SHA256"),
        ("AES-256-GCM", "TLS_AES_256_GCM_SHA384"),
        ("CHACHA20-POLY1305", "TLS_CHACHA20_POLY1305_SHA256"),
    ],
)
def test_gnutls_cipher_suites(
    gnutls: str, pki: peers.ServerPki, root_certs_env: object, gnutls_cipher: str, suite: str
) -> None:
    priority = f"{TLS13_ONLY}:-CIPHER-ALL:+{gnutls_cipher}"
    with peers.GnuTLSServer(**pki.rsa.server_kwargs(), priority=priority) as srv:
        with session(srv.address) as s:
            info = cipher_info(s)
            assert (info.dwCipherSuite, info.szCipherSuite) == (SUITES[suite], suite)
            assert info.szCertificate == "RSA"
            s.send(b"suite " + suite.encode() + b"\n")
            assert recv_until(s, b"\n") == b"suite " + suite.encode() + b"\n"
            close_cleanly(s)
        srv.wait_for_output(rf"Cipher: {gnutls_cipher}")


@pytest.mark.parametrize(
    ("group", "key_type"), [("SECP256R1", SECP256R1), ("SECP384R1", SECP384R1)]
)
def test_gnutls_hello_retry_request(
    gnutls: str, pki: peers.ServerPki, root_certs_env: object, group: str, key_type: int
) -> None:
    priority = f"{TLS13_ONLY}:-GROUP-ALL:+GROUP-{group}"
    with peers.GnuTLSServer(**pki.ecdsa.server_kwargs(), priority=priority) as srv:
        with session(srv.address) as s:
            assert cipher_info(s).dwKeyType == key_type
            s.send(b"hrr\n")
            assert recv_until(s, b"\n") == b"hrr\n"
            close_cleanly(s)
        srv.wait_for_output(rf"Using curve: {group}")


def test_gnutls_no_common_group(gnutls: str, pki: peers.ServerPki, root_certs_env: object) -> None:
    priority = f"{TLS13_ONLY}:-GROUP-ALL:+GROUP-FFDHE2048"
    with peers.GnuTLSServer(**pki.ecdsa.server_kwargs(), priority=priority) as srv:
        assert expect_failure(srv.address) == S.SEC_E_ILLEGAL_MESSAGE
        srv.wait_for_output("No common key share with peer")


def test_gnutls_alpn(gnutls: str, pki: peers.ServerPki, root_certs_env: object) -> None:
    with peers.GnuTLSServer(**pki.ecdsa.server_kwargs(), alpn=["http/1.1"]) as srv:
        with session(srv.address, alpn=[b"h2", b"http/1.1"]) as s:
            assert s.negotiated_alpn() == b"http/1.1"
            s.send(b"alpn\n")
            assert recv_until(s, b"\n") == b"alpn\n"
            close_cleanly(s)
        srv.wait_for_output(r"Application protocol: http/1\.1")
        # No overlap: gnutls-serv (without --alpn-fatal) ignores the extension and
        # carries on; the client sees no protocol negotiated.
        with session(srv.address, alpn=[b"h2"]) as s:
            assert s.negotiated_alpn() is None
            s.send(b"no alpn\n")
            assert recv_until(s, b"\n") == b"no alpn\n"
            close_cleanly(s)


def test_gnutls_rehandshake_key_update(
    gnutls: str, pki: peers.ServerPki, root_certs_env: object
) -> None:
    # Under TLS 1.3 a "**REHANDSHAKE**" line makes gnutls-serv send a
    # KeyUpdate(update_requested): the client answers with its own KeyUpdate.
    trace = Tracer()
    with peers.GnuTLSServer(**pki.ecdsa.server_kwargs(), priority=TLS13_ONLY) as srv:
        with session(srv.address, tracer=trace) as s:
            s.send(b"before\n")
            assert recv_until(s, b"\n") == b"before\n"
            renegotiations = trace.count("decrypt", S.SEC_I_RENEGOTIATE)  # tickets
            for i in range(2):
                s.send(b"**REHANDSHAKE**\n")
                recv_until(s, b"\n")  # "Successfully executed command"
                assert trace.count("decrypt", S.SEC_I_RENEGOTIATE) == renegotiations + 1
                renegotiations += 1
                answer = trace.isc_after_renegotiate()[-1]
                assert answer["status"] == S.SEC_E_OK and token_bytes(answer) > 0
                s.send(f"after key update {i}\n".encode())
                assert recv_until(s, b"\n") == f"after key update {i}\n".encode()
            close_cleanly(s)
        srv.wait_for_output("Sending rehandshake request")


def test_gnutls_echo_lines(gnutls: str, pki: peers.ServerPki, root_certs_env: object) -> None:
    # gnutls-serv echoes per read; send lines one by one and check each comes back.
    with peers.GnuTLSServer(**pki.ecdsa.server_kwargs(), priority=TLS13_ONLY) as srv:
        with session(srv.address) as s:
            total = 0
            for i, size in enumerate((1, 100, 4000, 16383, 16384, 16385, 40000)):
                line = (f"{i}" * size)[:size].encode() + b"\n"
                s.send(line)
                assert recv_exactly(s, len(line)) == line
                total += len(line)
            assert total > 90_000
            close_cleanly(s)


# --------------------------------------------------------------------------- #
# Python ssl server
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(("host", "target"), [("127.0.0.1", "localhost"), ("::1", "::1")])
def test_python_echo_clean_close(
    pki: peers.ServerPki, root_certs_env: object, host: str, target: str
) -> None:
    with peers.PythonTLSServer(**pki.ecdsa.server_kwargs(), alpn=["http/1.1"], host=host) as srv:
        with session(srv.address, target=target, alpn=[b"h2", b"http/1.1"]) as s:
            assert s.negotiated_alpn() == b"http/1.1"
            s.send(b"ping\n")
            assert recv_until(s, b"\n") == b"ping\n"
            close_cleanly(s)
        (record,) = srv.wait_connections()
    assert record.error is None, record.error
    assert record.handshake_ok and record.version == "TLSv1.3" and record.alpn == "http/1.1"
    assert record.clean_close  # our close_notify was valid
    assert bytes(record.received) == b"ping\n"


def test_python_echo_one_mib(pki: peers.ServerPki, root_certs_env: object) -> None:
    payload = bytes(range(256)) * (ONE_MIB // 256)
    window = 64 * 1024  # as much in flight as the echo may buffer without deadlock
    with peers.PythonTLSServer(**pki.rsa.server_kwargs(), num_tickets=3, io_timeout=20) as srv:
        with session(srv.address) as s:
            for i in range(0, len(payload), window):
                chunk = payload[i : i + window]
                s.send(chunk)
                assert recv_exactly(s, len(chunk)) == chunk
            close_cleanly(s)
        (record,) = srv.wait_connections(timeout=20)
    assert record.error is None and record.clean_close
    assert len(record.received) == ONE_MIB and bytes(record.received) == payload


def test_python_tickets_and_many_small_records(
    pki: peers.ServerPki, root_certs_env: object
) -> None:
    trace = Tracer()
    with peers.PythonTLSServer(**pki.ecdsa.server_kwargs(), num_tickets=4) as srv:
        with session(srv.address, tracer=trace) as s:
            for i in range(200):
                msg = f"{i}\n".encode()
                s.send(msg)
                assert recv_exactly(s, len(msg)) == msg
            close_cleanly(s)
        (record,) = srv.wait_connections()
    assert record.error is None and record.clean_close
    assert trace.count("decrypt", S.SEC_I_RENEGOTIATE) == 4
    assert Counter(trace.statuses("encrypt")) == Counter({S.SEC_E_OK: 200})


def test_python_server_closes_first(pki: peers.ServerPki, root_certs_env: object) -> None:
    # The server sends data and its close_notify at once; the client reads the data,
    # then b"" (SEC_I_CONTEXT_EXPIRED), and still answers with its own close_notify,
    # which the server's unwrap() waits for.
    def handler(conn: ssl.SSLSocket, record: peers.ConnectionRecord) -> None:
        conn.sendall(b"goodbye\n")
        conn.unwrap()
        record.clean_close = True

    trace = Tracer()
    with peers.PythonTLSServer(**pki.ecdsa.server_kwargs(), handler=handler) as srv:
        with session(srv.address, tracer=trace) as s:
            assert recv_until(s, b"\n") == b"goodbye\n"
            assert s.recv() == b""
            assert s.closed
            assert trace.statuses("decrypt")[-1] == S.SEC_I_CONTEXT_EXPIRED
            s.shutdown()
        (record,) = srv.wait_connections()
    assert record.error is None, record.error
    assert record.clean_close


def test_python_concurrent_connections_share_a_credential(
    pki: peers.ServerPki, root_certs_env: object
) -> None:
    # One credential handle, eight contexts used from eight threads at once (as
    # curl shares a credential between connections): the session cache is used
    # concurrently and most connections resume a ticket of an earlier one.
    cred = stream.acquire_default_credential()
    count = 8
    errors: list[str] = []

    with peers.PythonTLSServer(**pki.ecdsa.server_kwargs(), max_connections=count) as srv:

        def worker(i: int) -> None:
            try:
                with session(srv.address, cred=cred) as s:
                    data = bytes([i]) * 65536
                    for _ in range(4):
                        s.send(data)
                        assert recv_exactly(s, len(data)) == data
                    close_cleanly(s)
            except BaseException as e:  # reported below
                errors.append(f"connection {i}: {e!r}")

        threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(count)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not any(t.is_alive() for t in threads)
        assert not errors, errors
        records = srv.wait_connections(timeout=10)
    assert all(r.error is None and r.clean_close for r in records), records
    assert sorted(bytes(r.received[:1]) for r in records) == [bytes([i]) for i in range(count)]


# --------------------------------------------------------------------------- #
# TLS 1.3 resumption through the credential's session cache
# --------------------------------------------------------------------------- #


def _exchange(
    srv: peers.OpenSSLServer | peers.GnuTLSServer | peers.PythonTLSServer,
    s: SChannelStream,
    tag: str,
) -> None:
    if isinstance(srv, peers.OpenSSLServer):
        openssl_roundtrip(srv, s, tag)
    else:  # both echo
        s.send(f"{tag}\n".encode())
        assert recv_until(s, b"\n") == f"{tag}\n".encode()


def session_flags(s: SChannelStream) -> int:
    info = S.SecPkgContext_SessionInfo()
    assert S.QueryContextAttributes(s.ctx, S.SECPKG_ATTR_SESSION_INFO, info) == S.SEC_E_OK
    return info.dwFlags


@pytest.mark.parametrize("server", ["openssl", "gnutls", "python"])
def test_resumption(
    pki: peers.ServerPki,
    root_certs_env: object,
    monkeypatch: pytest.MonkeyPatch,
    server: str,
) -> None:
    # Connections made with one credential handle to one target resume the
    # session of a ticket the previous one received (psk_dhe_ke, new x25519 share).
    # The package clock is frozen (ticket ages 0) so that no server-side ticket
    # age tolerance can make the test timing-dependent.
    frozen = time.time()
    monkeypatch.setattr(sspi_context, "clock", lambda: frozen)
    srv: peers.OpenSSLServer | peers.GnuTLSServer | peers.PythonTLSServer
    if server == "openssl":
        peers.require_tool("openssl")
        srv = peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), tls12=False)
    elif server == "gnutls":
        peers.require_tool("unshare")
        peers.require_tool("gnutls-serv")
        srv = peers.GnuTLSServer(**pki.ecdsa.server_kwargs(), priority=TLS13_ONLY)
    else:
        srv = peers.PythonTLSServer(**pki.ecdsa.server_kwargs(), max_connections=3)
    cred = stream.acquire_default_credential()
    with srv:
        for i in range(3):
            with session(srv.address, cred=cred) as s:
                assert session_flags(s) == (S.SSL_SESSION_RECONNECT if i else 0)
                # The server's certificate is still known on a resumed context.
                assert remote_chain(s)[0] == pki.ecdsa.issued.cert.subject.rfc4514_string()
                _exchange(srv, s, f"connection {i}")  # also reads the new tickets
                close_cleanly(s)
        # The servers' own view (their output may lag behind the connection).
        if isinstance(srv, peers.OpenSSLServer):
            srv.wait_for_output(r"(?s)Reused session-id.*Reused session-id")
        elif isinstance(srv, peers.GnuTLSServer):
            srv.wait_for_output(r"(?s)This is a resumed session.*This is a resumed session")
    if isinstance(srv, peers.PythonTLSServer):
        records = srv.wait_connections()
        assert [r.session_reused for r in records] == [False, True, True]
        assert all(r.error is None and r.clean_close for r in records)


def test_resumption_binder_covers_the_ticket_age_sent(
    pki: peers.ServerPki, root_certs_env: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Regression test.  The binder must cover the obfuscated_ticket_age actually
    # sent; the client used to read the clock again after computing the binder, so
    # whenever the millisecond changed in between the server refused the binder
    # (BINDER_DOES_NOT_VERIFY; a few percent of resumptions with the real clock).
    # A clock that moves 2 ms per reading made that failure certain.
    start = time.time()
    ticks = itertools.count()
    monkeypatch.setattr(sspi_context, "clock", lambda: start + 0.002 * next(ticks))
    cred = stream.acquire_default_credential()
    with peers.PythonTLSServer(**pki.ecdsa.server_kwargs(), max_connections=2) as srv:
        with session(srv.address, cred=cred) as s:
            s.send(b"first\n")
            assert recv_until(s, b"\n") == b"first\n"  # reads the tickets too
            close_cleanly(s)
        with session(srv.address, cred=cred) as s:
            assert session_flags(s) == S.SSL_SESSION_RECONNECT
            s.send(b"resumed\n")
            assert recv_until(s, b"\n") == b"resumed\n"
            close_cleanly(s)
        first, second = srv.wait_connections()
    assert second.error is None, second.error
    assert second.session_reused and not first.session_reused
