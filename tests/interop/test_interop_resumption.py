"""Session resumption against real servers on loopback, through the curl-style SSPI loop.

Every connection goes through :mod:`schannel_py.stream` with ONE credential
handle reused across connections and the same target name, as curl does: the
SSPI session cache (``schannel_py.sspi.cache``) is keyed by target, process,
logon session and credential handle.  A TLS 1.3 ticket only reaches the cache
when the connection reads it: DecryptMessage returns SEC_I_RENEGOTIATE and the
driver's ISC call hands the ticket over; so each connection reads its page or
echo to the end.  The TLS 1.2 session is cached when the handshake completes.

Resumption is observed on both sides: ``QueryContextAttributes(SESSION_INFO)``
has ``SSL_SESSION_RECONNECT`` on the client, and the server says so itself
(``openssl s_server -www`` prints ``Reused, `` or ``New, `` in its status page,
``gnutls-serv`` prints ``*** This is a resumed session``, the Python ``ssl``
server records ``session_reused``).

Peers: ``openssl s_server -www`` (TLS 1.3 tickets; TLS 1.2 by ticket with
``-no_cache`` and by session ID with ``-no_ticket``), ``gnutls-serv`` (TLS 1.3,
TLS 1.2 with and without tickets), Python ``ssl`` (TLS 1.3 and 1.2).  The
handshake-cost test prints client CPU time per full and per resumed TLS 1.3
handshake (``pytest -s`` shows it); it asserts nothing about timing.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import schannel_py as sc
from schannel_py import stream
from schannel_py.sspi import context as sspi_context
from schannel_py.tls.session import Session12, Ticket13
from tests.support import peers

pytestmark = pytest.mark.interop

IO_TIMEOUT = 5.0
PAGE_LIMIT = 1 << 20
GET = b"GET / HTTP/1.0\r\n\r\n"
TLS13_ONLY = "NORMAL:-VERS-ALL:+VERS-TLS1.3"
TLS12_ONLY = "NORMAL:-VERS-ALL:+VERS-TLS1.2"


@pytest.fixture
def cred() -> Iterator[sc.CredHandle]:
    """One credential handle for the whole test (TLS 1.3 and 1.2), as curl keeps one."""
    handle = stream.acquire_default_credential()
    yield handle
    sc.FreeCredentialsHandle(handle)


# --------------------------------------------------------------------------- #
# One connection
# --------------------------------------------------------------------------- #


class Recorder:
    """Counts the driver's DecryptMessage statuses (SEC_I_RENEGOTIATE = a ticket)."""

    def __init__(self) -> None:
        self.decrypt: list[object] = []

    def __call__(self, event: str, details: dict[str, object]) -> None:
        if event == "decrypt":
            self.decrypt.append(details.get("status"))

    @property
    def renegotiates(self) -> int:
        return sum(1 for s in self.decrypt if s == sc.SEC_I_RENEGOTIATE)


@dataclass
class Visit:
    """What one connection saw."""

    reconnect: bool  # SESSION_INFO: SSL_SESSION_RECONNECT
    session_id: bytes  # SESSION_INFO: the session id
    data: bytes  # everything the server sent, to its close_notify
    renegotiates: int  # SEC_I_RENEGOTIATE from DecryptMessage (TLS 1.3 tickets)
    offered_ticket: Ticket13 | None  # what the cache gave this connection
    offered_session12: Session12 | None
    new_tickets: int  # TLS 1.3 tickets this connection received
    version: int


def session_info(s: stream.SChannelStream) -> sc.SecPkgContext_SessionInfo:
    info = sc.SecPkgContext_SessionInfo()
    assert sc.QueryContextAttributes(s.ctx, sc.SECPKG_ATTR_SESSION_INFO, info) == sc.SEC_E_OK
    return info


def read_to_close(s: stream.SChannelStream) -> bytes:
    """Application data up to the server's close_notify."""
    out = b""
    while chunk := s.recv():
        out += chunk
        assert len(out) <= PAGE_LIMIT
    return out


def visit(
    address: tuple[str, int],
    cred: sc.CredHandle,
    *,
    target: str = "localhost",
    request: bytes = GET,
    until: bytes | None = None,
) -> Visit:
    """Connect, send ``request``, read to the server's close_notify (or, with
    ``until``, to that marker, then close_notify both ways)."""
    rec = Recorder()
    host, port = address
    s = stream.connect(host, port, target=target, cred=cred, timeout=IO_TIMEOUT, tracer=rec)
    try:
        ctx = sspi_context.CONTEXTS.get(s.ctx)
        assert ctx is not None
        client = ctx.client
        s.send(request)
        if until is None:
            data = read_to_close(s)
        else:
            data = b""
            while until not in data:
                chunk = s.recv()
                assert chunk, f"closed before {until!r}: {data!r}"
                data += chunk
            s.shutdown()
            data += read_to_close(s)
        info = session_info(s)
        return Visit(
            reconnect=bool(info.dwFlags & sc.SSL_SESSION_RECONNECT),
            session_id=info.rgbSessionId[: info.cbSessionId],
            data=data,
            renegotiates=rec.renegotiates,
            offered_ticket=client.config.resume_ticket,
            offered_session12=client.config.resume_session12,
            new_tickets=len(client.tickets),
            version=client.version,
        )
    finally:
        s.close()
        s.sock.close()


# --------------------------------------------------------------------------- #
# openssl s_server -www
# --------------------------------------------------------------------------- #

WWW_SESSION_LINE = re.compile(r"(?m)^(New|Reused), (TLSv1\.[23]), Cipher is (\S+)\s*$")


def www_session(page: bytes) -> tuple[str, str]:
    """("New" | "Reused", "TLSv1.3" | "TLSv1.2") from an s_server -www status page."""
    text = page.decode("latin-1")
    assert text.startswith("HTTP/1.0 200 ok"), text[:200]
    m = WWW_SESSION_LINE.search(text)
    assert m is not None, text[-2000:]
    return m.group(1), m.group(2)


def www_server(pki: peers.ServerPki, mode: str) -> peers.OpenSSLServer:
    if mode == "tls13":
        return peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), www=True, tls12=False)
    extra = {"tls12-ticket": ["-no_cache"], "tls12-session-id": ["-no_ticket"]}[mode]
    return peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), www=True, tls13=False, extra_args=extra)


@pytest.mark.parametrize("mode", ["tls13", "tls12-ticket", "tls12-session-id"])
def test_openssl_www_resumes(
    pki: peers.ServerPki, root_certs_env: Path, cred: sc.CredHandle, mode: str
) -> None:
    version = "TLSv1.3" if mode == "tls13" else "TLSv1.2"
    with www_server(pki, mode) as srv:
        first = visit(srv.address, cred)
        assert www_session(first.data) == ("New", version)
        assert not first.reconnect
        assert first.offered_ticket is None and first.offered_session12 is None
        if mode == "tls13":
            # The tickets arrived before the page, each as SEC_I_RENEGOTIATE + ISC.
            assert first.renegotiates >= 1 and first.new_tickets >= 1
        else:
            assert first.renegotiates == 0

        for _ in range(2):  # the resumed connection refills the cache itself
            again = visit(srv.address, cred)
            assert www_session(again.data) == ("Reused", version)
            assert again.reconnect
            if mode == "tls13":
                assert again.offered_ticket is not None
                assert again.offered_session12 is None
                assert again.new_tickets >= 1  # a fresh ticket for the next one
            elif mode == "tls12-ticket":
                assert again.offered_session12 is not None
                assert again.offered_session12.ticket  # RFC 5077 ticket
            else:
                assert again.offered_session12 is not None
                assert again.offered_session12.ticket == b""  # -no_ticket: by ID only
                assert again.session_id == first.session_id != b""
        assert srv.is_running()


@pytest.mark.parametrize("mode", ["tls13", "tls12-session-id"])
def test_openssl_www_other_key_does_not_resume(
    pki: peers.ServerPki, root_certs_env: Path, cred: sc.CredHandle, mode: str
) -> None:
    """A different credential handle or target name is another cache key.
    The server certificate is valid for both ``localhost`` and ``127.0.0.1``."""
    version = "TLSv1.3" if mode == "tls13" else "TLSv1.2"
    other = stream.acquire_default_credential()
    try:
        with www_server(pki, mode) as srv:
            assert www_session(visit(srv.address, cred).data) == ("New", version)
            by_cred = visit(srv.address, other)
            assert www_session(by_cred.data) == ("New", version)
            assert not by_cred.reconnect
            assert by_cred.offered_ticket is None and by_cred.offered_session12 is None
            by_target = visit(srv.address, cred, target="127.0.0.1")
            assert www_session(by_target.data) == ("New", version)
            assert not by_target.reconnect
            assert by_target.offered_ticket is None and by_target.offered_session12 is None
            # Control: the original key still resumes (the cache was not empty).
            control = visit(srv.address, cred)
            assert www_session(control.data) == ("Reused", version)
            assert control.reconnect
    finally:
        sc.FreeCredentialsHandle(other)


def test_openssl_tls13_unread_tickets_are_not_cached(
    pki: peers.ServerPki, root_certs_env: Path, cred: sc.CredHandle
) -> None:
    """A connection closed without DecryptMessage never hands its tickets to the cache."""
    with www_server(pki, "tls13") as srv:
        s = stream.connect(*srv.address, target="localhost", cred=cred, timeout=IO_TIMEOUT)
        try:
            s.shutdown()
        finally:
            s.close()
            s.sock.close()
        second = visit(srv.address, cred)
        assert www_session(second.data) == ("New", "TLSv1.3")
        assert not second.reconnect
        third = visit(srv.address, cred)  # the second one did read its tickets
        assert www_session(third.data) == ("Reused", "TLSv1.3")
        assert third.reconnect


def test_openssl_tls13_handshake_cost(
    pki: peers.ServerPki, root_certs_env: Path, cred: sc.CredHandle
) -> None:
    """Client CPU time of stream.connect: full vs resumed TLS 1.3 handshakes (printed)."""
    rounds = 20
    full: list[float] = []
    resumed: list[float] = []
    with www_server(pki, "tls13") as srv:
        host, port = srv.address

        def timed(expect_resumed: bool) -> float:
            start = time.process_time()
            s = stream.connect(host, port, target="localhost", cred=cred, timeout=IO_TIMEOUT)
            cost = time.process_time() - start
            try:
                assert bool(session_info(s).dwFlags & sc.SSL_SESSION_RECONNECT) == expect_resumed
                s.send(GET)
                read_to_close(s)  # the tickets reach the cache
            finally:
                s.close()
                s.sock.close()
            return cost

        timed(False)  # warm-up: imports, trust store, first ticket
        for _ in range(rounds):
            sc.SslEmptyCache("localhost")
            full.append(timed(False))
        for _ in range(rounds):
            resumed.append(timed(True))
    f_ms = statistics.mean(full) * 1000
    r_ms = statistics.mean(resumed) * 1000
    print(
        f"\nclient CPU per TLS 1.3 handshake vs openssl s_server (ECDSA P-256 chain, x25519), "
        f"{rounds} each: full {f_ms:.2f} ms (median {statistics.median(full) * 1000:.2f}), "
        f"resumed {r_ms:.2f} ms (median {statistics.median(resumed) * 1000:.2f}), "
        f"resumed/full = {r_ms / f_ms:.2f}"
    )


# --------------------------------------------------------------------------- #
# gnutls-serv
# --------------------------------------------------------------------------- #

GNUTLS_RESUMED = "*** This is a resumed session"


@pytest.mark.parametrize(
    ("priority", "tickets"),
    [(TLS13_ONLY, True), (TLS12_ONLY, True), (TLS12_ONLY, False)],
    ids=["tls13", "tls12-ticket", "tls12-session-id"],
)
def test_gnutls_resumes(
    pki: peers.ServerPki,
    root_certs_env: Path,
    cred: sc.CredHandle,
    priority: str,
    tickets: bool,
) -> None:
    peers.require_tool("unshare")
    tls13 = priority == TLS13_ONLY
    with peers.GnuTLSServer(
        **pki.ecdsa.server_kwargs(), priority=priority, tickets=tickets, echo=True
    ) as srv:
        first = visit(srv.address, cred, request=b"first\n", until=b"first\n")
        assert not first.reconnect
        assert first.version == (0x0304 if tls13 else 0x0303)
        srv.wait_for_output(r"\*\*\* Processing \d+ bytes command: first")
        assert GNUTLS_RESUMED not in srv.output()
        if tls13:
            assert first.renegotiates >= 1 and first.new_tickets >= 1

        mark = len(srv.output())
        second = visit(srv.address, cred, request=b"second\n", until=b"second\n")
        assert second.reconnect
        assert second.version == first.version
        srv.wait_for_output(r"\*\*\* Processing \d+ bytes command: second", start=mark)
        resumed_at = srv.output().find(GNUTLS_RESUMED, mark)
        assert resumed_at >= 0, srv.output()[mark:]
        if tls13:
            assert second.offered_ticket is not None
        else:
            assert second.offered_session12 is not None
            assert bool(second.offered_session12.ticket) == tickets
            if not tickets:
                assert second.session_id == first.session_id != b""


# --------------------------------------------------------------------------- #
# Python ssl (one SSLContext across connections)
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("tls13", [True, False], ids=["tls13", "tls12"])
def test_python_ssl_resumes(
    pki: peers.ServerPki, root_certs_env: Path, cred: sc.CredHandle, tls13: bool
) -> None:
    import ssl

    top = ssl.TLSVersion.TLSv1_3 if tls13 else ssl.TLSVersion.TLSv1_2
    with peers.PythonTLSServer(
        **pki.ecdsa.server_kwargs(), max_version=top, max_connections=3
    ) as srv:
        visits = [
            visit(srv.address, cred, request=f"ping {i}\n".encode(), until=f"ping {i}\n".encode())
            for i in range(3)
        ]
        records = srv.wait_connections(3)
    for r in records:
        assert r.error is None, r.error
        assert r.handshake_ok and r.clean_close
        assert r.version == ("TLSv1.3" if tls13 else "TLSv1.2")
    assert [r.session_reused for r in records] == [False, True, True]
    assert [v.reconnect for v in visits] == [False, True, True]
    if tls13:
        assert visits[0].renegotiates >= 1
        assert all(v.offered_ticket is not None for v in visits[1:])
