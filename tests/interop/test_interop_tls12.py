"""TLS 1.2 against real peers on loopback, through the curl-style SSPI loop (schannel_py.stream)."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest

import schannel_py as sc
from schannel_py import stream
from tests.support import peers

pytestmark = pytest.mark.interop

SUITES_12 = [
    ("ecdsa", "ECDHE-ECDSA-AES128-GCM-SHA256", 0xC02B),
    ("ecdsa", "ECDHE-ECDSA-AES256-GCM-SHA384", 0xC02C),
    ("ecdsa", "ECDHE-ECDSA-CHACHA20-POLY1305", 0xCCA9),
    ("rsa", "ECDHE-RSA-AES128-GCM-SHA256", 0xC02F),
    ("rsa", "ECDHE-RSA-AES256-GCM-SHA384", 0xC030),
    ("rsa", "ECDHE-RSA-CHACHA20-POLY1305", 0xCCA8),
]


def schannel_cred(flags: int = 0) -> sc.CredHandle:
    """curl's SCHANNEL_CRED (no TLS 1.3 ever)."""
    cred = sc.CredHandle()
    auth = sc.SCHANNEL_CRED(
        dwVersion=sc.SCHANNEL_CRED_VERSION,
        grbitEnabledProtocols=sc.SP_PROT_TLS1_2_CLIENT,
        dwFlags=flags | sc.SCH_USE_STRONG_CRYPTO,
    )
    status = sc.AcquireCredentialsHandle(
        None, sc.UNISP_NAME, sc.SECPKG_CRED_OUTBOUND, None, auth, None, None, cred, sc.TimeStamp()
    )
    assert status == sc.SEC_E_OK
    return cred


def cipher_info(s: stream.SChannelStream) -> sc.SecPkgContext_CipherInfo:
    ci = sc.SecPkgContext_CipherInfo()
    assert sc.QueryContextAttributes(s.ctx, sc.SECPKG_ATTR_CIPHER_INFO, ci) == sc.SEC_E_OK
    return ci


class Recorder:
    """Collects the stream's SSPI events (for counting SEC_I_RENEGOTIATE)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []
        self.details: list[tuple[str, object, object]] = []

    def __call__(self, event: str, details: dict[str, object]) -> None:
        self.events.append((event, details.get("status")))
        self.details.append((event, details.get("status"), details.get("buffers")))

    def count(self, event: str, status: int) -> int:
        return sum(1 for e, s in self.events if e == event and s == status)


def recv_until(s: stream.SChannelStream, marker: bytes, limit: int = 1 << 22) -> bytes:
    got = b""
    while marker not in got:
        chunk = s.recv()
        assert chunk, f"connection closed before {marker!r}; got {got[-200:]!r}"
        got += chunk
        assert len(got) <= limit
    return got


@pytest.mark.parametrize(("kind", "cipher", "code"), SUITES_12, ids=[c for _, c, _ in SUITES_12])
def test_openssl_tls12_suites(
    pki: peers.ServerPki, root_certs_env: Path, kind: str, cipher: str, code: int
) -> None:
    cert = getattr(pki, kind)
    with peers.OpenSSLServer(**cert.server_kwargs(), tls13=False, cipher=cipher) as srv:
        s = stream.connect("127.0.0.1", srv.port, target="localhost", cred=schannel_cred())
        try:
            ci = cipher_info(s)
            assert (ci.dwProtocol, ci.dwCipherSuite) == (0x0303, code)
            assert ci.szCertificate == ("RSA" if kind == "rsa" else "ECDSA")
            s.send(b"client says hi\n")
            srv.wait_for_output("client says hi")
            srv.send_line("server says hi")
            assert recv_until(s, b"server says hi\n").endswith(b"server says hi\n")
            s.shutdown()
        finally:
            s.close()


@pytest.mark.parametrize("letter", ["r", "R"])
def test_openssl_server_initiated_renegotiation(
    pki: peers.ServerPki, root_certs_env: Path, letter: str
) -> None:
    rec = Recorder()
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), tls13=False) as srv:
        s = stream.connect(
            "127.0.0.1", srv.port, target="localhost", cred=schannel_cred(), tracer=rec
        )
        try:
            s.send(b"before\n")
            srv.wait_for_output("before")
            srv.send_line(letter)  # HelloRequest (R: also asks for a client certificate)
            time.sleep(0.2)
            srv.send_line("after renegotiation")
            assert recv_until(s, b"after renegotiation\n")
            s.send(b"client after\n")
            srv.wait_for_output("client after")
            assert rec.count("decrypt", sc.SEC_I_RENEGOTIATE) == 1
            # Buffers as observed on Windows for a HelloRequest: STREAM_HEADER 13, DATA cb 0, STREAM_TRAILER.
            layout = next(
                bufs for e, st, bufs in rec.details if e == "decrypt" and st == sc.SEC_I_RENEGOTIATE
            )
            assert layout[:3] == [
                (sc.SECBUFFER_STREAM_HEADER, 13),
                (sc.SECBUFFER_DATA, 0),
                (sc.SECBUFFER_STREAM_TRAILER, 4 + 16),
            ]
            # The renegotiation ran through ISC: CONTINUE legs then SEC_E_OK.
            after = rec.events[rec.events.index(("decrypt", sc.SEC_I_RENEGOTIATE)) + 1 :]
            isc = [st for e, st in after if e == "isc"]
            assert isc[0] == sc.SEC_I_CONTINUE_NEEDED and sc.SEC_E_OK in isc
            unique = sc.SecPkgContext_Bindings()
            assert (
                sc.QueryContextAttributes(s.ctx, sc.SECPKG_ATTR_UNIQUE_BINDINGS, unique)
                == sc.SEC_E_OK
            )
            s.shutdown()
        finally:
            s.close()


def test_client_initiated_renegotiation(pki: peers.ServerPki, root_certs_env: Path) -> None:
    rec = Recorder()
    args = ["-client_renegotiation"]
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), tls13=False, extra_args=args) as srv:
        s = stream.connect(
            "127.0.0.1", srv.port, target="localhost", cred=schannel_cred(), tracer=rec
        )
        try:
            first = sc.SecPkgContext_Bindings()
            assert (
                sc.QueryContextAttributes(s.ctx, sc.SECPKG_ATTR_UNIQUE_BINDINGS, first)
                == sc.SEC_E_OK
            )
            # ISC on an established TLS 1.2 context with no input: a new, encrypted ClientHello.
            assert s.renegotiate() == sc.SEC_E_OK
            second = sc.SecPkgContext_Bindings()
            assert (
                sc.QueryContextAttributes(s.ctx, sc.SECPKG_ATTR_UNIQUE_BINDINGS, second)
                == sc.SEC_E_OK
            )
            assert first.Bindings != second.Bindings  # a new handshake, a new first Finished
            isc = [st for e, st in rec.events if e == "isc"]
            assert isc[-1] == sc.SEC_E_OK and isc.count(sc.SEC_I_CONTINUE_NEEDED) >= 3
            s.send(b"after client renegotiation\n")
            srv.wait_for_output("after client renegotiation")
            srv.send_line("pong")
            assert recv_until(s, b"pong\n")
            s.shutdown()
        finally:
            s.close()


@pytest.mark.parametrize(
    ("frag", "lines"),
    [(None, ["line-1", "line-2"]), ("512", ["x" * 2000])],
    ids=["two-lines", "fragmented-2001-bytes"],
)
def test_data_sent_during_server_renegotiation_all_arrives(
    pki: peers.ServerPki, root_certs_env: Path, frag: str | None, lines: list[str]
) -> None:
    """Records the server sends after its HelloRequest, before it has our new
    ClientHello, are read by ISC during the renegotiation; every byte of them must
    still reach a loop that decrypts only while it holds encrypted bytes."""
    args = ["-max_send_frag", frag] if frag else []
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), tls13=False, extra_args=args) as srv:
        s = stream.connect(
            "127.0.0.1", srv.port, target="localhost", cred=schannel_cred(), timeout=5.0
        )
        try:
            s.send(b"before\n")
            srv.wait_for_output("before")
            srv.send_line("r")
            for line in lines:
                srv.wait_stdin_drained()
                srv.send_line(line)
            srv.wait_stdin_drained()
            time.sleep(0.3)  # all of it is on its way before the client reads
            expected = "".join(f"{line}\n" for line in lines).encode()
            assert recv_until(s, expected[-10:]) == expected
            s.shutdown()
        finally:
            s.close()


def test_replies_in_flight_during_client_renegotiation_all_arrive(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    args = ["-client_renegotiation"]
    with peers.OpenSSLServer(
        **pki.ecdsa.server_kwargs(), tls13=False, rev=True, extra_args=args
    ) as srv:
        s = stream.connect(
            "127.0.0.1", srv.port, target="localhost", cred=schannel_cred(), timeout=5.0
        )
        try:
            for line in (b"abc\n", b"def\n", b"ghi\n"):
                s.send(line)
            time.sleep(0.3)  # the three replies are in our socket buffer, unread
            assert s.renegotiate() == sc.SEC_E_OK
            assert recv_until(s, b"ihg\n") == b"cba\nfed\nihg\n"
            s.shutdown()
        finally:
            s.close()


def test_client_renegotiation_refused_by_server(pki: peers.ServerPki, root_certs_env: Path) -> None:
    """OpenSSL 3 refuses client renegotiation with a no_renegotiation warning: SEC_I_NO_RENEGOTIATION."""
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), tls13=False) as srv:
        s = stream.connect("127.0.0.1", srv.port, target="localhost", cred=schannel_cred())
        try:
            assert s.renegotiate() == sc.SEC_I_NO_RENEGOTIATION
            s.send(b"still fine\n")
            srv.wait_for_output("still fine")
            srv.send_line("pong")
            assert recv_until(s, b"pong\n")
        finally:
            s.close()


def test_openssl_tls12_alpn_and_megabyte_both_ways(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    rng = random.Random(12)
    lines = [("".join(rng.choice("abcdefghij") for _ in range(1023)) + "\n") for _ in range(1024)]
    blob = "".join(lines).encode()
    assert len(blob) == 1 << 20
    with peers.OpenSSLServer(**pki.rsa.server_kwargs(), tls13=False, alpn="http/1.1") as srv:
        s = stream.connect(
            "127.0.0.1",
            srv.port,
            target="localhost",
            cred=schannel_cred(),
            alpn=[b"h2", b"http/1.1"],
        )
        try:
            assert s.negotiated_alpn() == b"http/1.1"
            start = len(srv.output_bytes())
            s.send(blob + b"END-OF-UPLOAD\n")
            srv.wait_for_output("END-OF-UPLOAD", timeout=30)
            received = srv.output_bytes()[start:]
            assert blob in received
            srv.send_bytes(blob + b"END-OF-DOWNLOAD\n")
            got = recv_until(s, b"END-OF-DOWNLOAD\n")
            assert got == blob + b"END-OF-DOWNLOAD\n"
            s.shutdown()
        finally:
            s.close()


def test_gnutls_tls12_echo_and_rehandshake(pki: peers.ServerPki, root_certs_env: Path) -> None:
    rec = Recorder()
    with peers.GnuTLSServer(
        **pki.ecdsa.server_kwargs(), priority="NORMAL:-VERS-ALL:+VERS-TLS1.2"
    ) as srv:
        s = stream.connect(
            "127.0.0.1", srv.port, target="localhost", cred=schannel_cred(), tracer=rec
        )
        try:
            assert cipher_info(s).dwProtocol == 0x0303
            s.send(b"echo me\n")
            assert recv_until(s, b"echo me\n") == b"echo me\n"
            # gnutls-serv answers this line with a HelloRequest under TLS 1.2.
            s.send(b"**REHANDSHAKE**\n")
            got = recv_until(s, b"\n")
            assert rec.count("decrypt", sc.SEC_I_RENEGOTIATE) >= 1, got
            s.send(b"after rehandshake\n")
            assert recv_until(s, b"after rehandshake\n").endswith(b"after rehandshake\n")
        finally:
            s.close()


def test_python_ssl_tls12_server(pki: peers.ServerPki, root_certs_env: Path) -> None:
    import ssl

    with peers.PythonTLSServer(
        **pki.ecdsa.server_kwargs(), max_version=ssl.TLSVersion.TLSv1_2
    ) as srv:
        s = stream.connect("127.0.0.1", srv.port, target="localhost", cred=schannel_cred())
        try:
            data = os.urandom(1 << 20)
            s.send(data)
            got = b""
            while len(got) < len(data):
                got += s.recv()
            assert got == data
            s.shutdown()
            assert s.recv() == b"" and s.closed
        finally:
            s.close()
        (record,) = srv.wait_connections(1)
        assert record.version == "TLSv1.2" and record.clean_close


@pytest.mark.parametrize(("use_sch_credentials", "expected"), [(True, 0x0304), (False, 0x0303)])
def test_dual_version_server_picks_by_credential(
    pki: peers.ServerPki, root_certs_env: Path, use_sch_credentials: bool, expected: int
) -> None:
    cred = stream.acquire_default_credential() if use_sch_credentials else schannel_cred()
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs()) as srv:
        s = stream.connect("127.0.0.1", srv.port, target="localhost", cred=cred)
        try:
            assert cipher_info(s).dwProtocol == expected
        finally:
            s.close()
