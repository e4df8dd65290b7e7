"""NSS key log (SSLKEYLOGFILE / --keylog): format, de-duplication, and equality with the servers' logs."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from schannel_py import cli, keylog, stream
from tests.support import peers

CR = bytes(range(32))


def _lines(path: Path) -> set[str]:
    return {line for line in path.read_text().splitlines() if line and not line.startswith("#")}


def test_tls13_and_tls12_lines_and_dedup(tmp_path: Path) -> None:
    keylog.reset()
    path = tmp_path / "k.log"
    c13 = SimpleNamespace(
        version=0x0304,
        client_random=CR,
        secrets={"client_handshake_traffic_secret": b"\x01" * 32, "handshake_secret": b"\x09" * 32},
    )
    assert keylog.log_client(c13, str(path)) == 1
    c13.secrets["server_handshake_traffic_secret"] = b"\x02" * 32
    assert keylog.log_client(c13, str(path)) == 1  # only the new secret
    assert keylog.log_client(c13, str(path)) == 0
    c12 = SimpleNamespace(
        version=0x0303, client_random=b"\xaa" * 32, secrets={"master_secret": b"\x03" * 48}
    )
    assert keylog.log_client(c12, str(path)) == 1
    assert path.read_text().splitlines() == [
        f"CLIENT_HANDSHAKE_TRAFFIC_SECRET {CR.hex()} {'01' * 32}",
        f"SERVER_HANDSHAKE_TRAFFIC_SECRET {CR.hex()} {'02' * 32}",
        f"CLIENT_RANDOM {'aa' * 32} {'03' * 48}",
    ]


def test_off_without_env_or_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(keylog.ENV_VAR, raising=False)
    keylog.set_keylog_file(None)
    assert keylog.keylog_path() is None


def test_demo_keylog_option_writes_five_tls13_lines(tmp_path: Path) -> None:
    path = tmp_path / "demo.keys"
    assert cli.main(["demo", "--keylog", str(path)]) == 0
    labels = sorted(line.split()[0] for line in _lines(path))
    assert labels == sorted(label for _, label in keylog.TLS13_LABELS)
    assert len({line.split()[1] for line in _lines(path)}) == 1  # one client_random


def _wait_lines(path: Path, count: int) -> set[str]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if path.exists() and len(_lines(path)) >= count:
            break
        time.sleep(0.05)
    return _lines(path)


@pytest.mark.interop
@pytest.mark.parametrize("tls13", [True, False], ids=["tls13", "tls12"])
def test_sslkeylogfile_equals_openssl_s_server_keylog(
    pki: peers.ServerPki,
    root_certs_env: object,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tls13: bool,
) -> None:
    """Any SSPI user: SSLKEYLOGFILE lines == ``openssl s_server -keylogfile`` lines."""
    peers.require_tool("openssl")
    ours, theirs = tmp_path / "ours.log", tmp_path / "server.log"
    monkeypatch.setenv(keylog.ENV_VAR, str(ours))
    with peers.OpenSSLServer(
        **pki.ecdsa.server_kwargs(), keylog=theirs, tls13=tls13, tls12=not tls13, rev=True
    ) as srv:
        s = stream.connect("127.0.0.1", srv.port, target="localhost")
        try:
            s.send(b"hello\n")
            assert s.recv().strip() == b"olleh"
            s.shutdown()
        finally:
            s.close()
            s.sock.close()
        expected = 5 if tls13 else 1
        server_lines = _wait_lines(theirs, expected)
    our_lines = _lines(ours)
    assert len(our_lines) == expected
    assert our_lines == server_lines
