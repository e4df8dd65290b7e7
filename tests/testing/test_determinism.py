"""The one switch, ``deterministic()``: the same bytes on every run, in every process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from schannel_py.testing import (
    TlsServer,
    Transport,
    deterministic,
    make_self_signed,
    reference_client,
)
from schannel_py.testing.stores import active_determinism
from schannel_py.tls.groups import HYBRIDS

#: One connection under deterministic(seed), its transcript saved or compared.
SCRIPT = textwrap.dedent(
    """
    import sys
    from schannel_py.testing import (
        Chunking, TlsServer, Transport, assert_same_transcript, deterministic,
        reference_client, save_transcript,
    )

    seed, versions, mode, path = int(sys.argv[1]), tuple(sys.argv[2].split(",")), sys.argv[3], sys.argv[4]
    with deterministic(seed=seed):
        server = TlsServer(versions=versions, echo=True, tickets=1)
        transport = Transport(server, Chunking.random(40), seed=seed)
        client = reference_client(transport)
        client.handshake()
        client.send(b"the same every time")
        assert client.recv() == b"the same every time"
        client.shutdown()
    if mode == "save":
        save_transcript(transport, path)
    else:
        assert_same_transcript(transport, path)
    """
)


def _run(seed: int, versions: str, mode: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(seed), versions, mode, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("versions", ["1.3", "1.2"])
def test_a_transcript_saved_in_one_process_matches_a_run_in_another(
    versions: str, tmp_path: Path
) -> None:
    path = tmp_path / "transcript"
    saved = _run(5, versions, "save", path)
    assert saved.returncode == 0, saved.stderr
    again = _run(5, versions, "compare", path)
    assert again.returncode == 0, again.stderr
    other = _run(6, versions, "compare", path)
    assert other.returncode != 0
    assert "TranscriptMismatch" in other.stderr


def test_a_server_made_inside_the_block_takes_the_seed_and_its_identity() -> None:
    assert active_determinism() is None
    with deterministic(seed=3) as det:
        assert active_determinism() is det
        server = TlsServer()
        assert server.deterministic and server.identity is det.identity
        assert server.random is det.server_random
        client = reference_client(Transport(server))
        client.handshake()
        assert server.group not in HYBRIDS  # the client's first share is a hybrid
        assert not server.hello_retry_sent  # its second share is classical
    assert active_determinism() is None
    assert not TlsServer().deterministic


def test_the_seeded_identity_depends_on_the_seed_only() -> None:
    with deterministic(seed=3) as a:
        first = a.identity.der
    with deterministic(seed=3) as b:
        assert b.identity.der == first and b.identity is not a.identity
    with deterministic(seed=4) as c:
        assert c.identity.der != first


def test_an_ecdsa_server_signs_the_same_bytes_every_run() -> None:
    """ECDSA signatures draw a random nonce unless signed deterministically (RFC 6979)."""
    identity = make_self_signed(key_type="p256", key_label="deterministic-ecdsa")
    runs = []
    for _ in range(2):
        with deterministic(seed=9):
            server = TlsServer(identity)
            transport = Transport(server)
            reference_client(transport).handshake()
        runs.append(bytes(transport.delivered))
    assert runs[0] == runs[1]
