"""The transport's client -> server faults and its simulated delay."""

from __future__ import annotations

import pytest

from schannel_py.driver import SspiError
from schannel_py.testing import (
    Chunking,
    Stalled,
    TlsServer,
    Transport,
    make_self_signed,
    reference_client,
)

# Ed25519 signatures have one length (an ECDSA one varies), so every run's flights
# have the same sizes and a seed gives the same reads.
ED25519 = make_self_signed(key_type="ed25519", key_label="transport-ed25519")


def test_a_flipped_byte_from_the_client_fails_the_handshake() -> None:
    server = TlsServer()
    transport = Transport(server, send_flip="random", send_flip_window=100, seed=3)
    with pytest.raises(SspiError):
        reference_client(transport).handshake()
    assert server.error is not None
    at = transport.send_flip_at
    assert at is not None and at < 100
    assert transport.forwarded[at] != transport.sent[at]
    assert transport.forwarded[:at] == transport.sent[:at]
    assert f"send_flip={at}" in repr(transport)


def test_the_client_flip_is_reproducible_and_leaves_the_cuts_alone() -> None:
    a = Transport(TlsServer(), Chunking.random(20), seed=5, send_flip="random")
    b = Transport(TlsServer(), Chunking.random(20), seed=5, send_flip="random")
    plain = Transport(TlsServer(), Chunking.random(20), seed=5)
    assert a.send_flip_at == b.send_flip_at is not None
    assert [a.rng.random() for _ in range(5)] == [plain.rng.random() for _ in range(5)]


def test_a_truncated_client_stream_leaves_the_client_waiting() -> None:
    server = TlsServer()
    transport = Transport(server, send_truncate_after=10)
    with pytest.raises(Stalled):
        reference_client(transport).handshake()
    assert len(transport.forwarded) == 10 and len(transport.sent) > 10


def test_a_fixed_delay_is_simulated_and_reported_to_the_callback() -> None:
    slept: list[float] = []
    transport = Transport(TlsServer(), Chunking.records(), delay=0.25, sleep=slept.append)
    reference_client(transport).handshake()
    assert transport.reads and slept == [0.25] * len(transport.reads) == transport.delays
    assert transport.elapsed == pytest.approx(0.25 * len(transport.reads))


def test_a_delay_range_is_drawn_from_the_seed() -> None:
    runs = []
    for _ in range(2):
        server = TlsServer(ED25519)
        transport = Transport(server, Chunking.random(40), seed=8, delay=(0.01, 0.5))
        reference_client(transport).handshake()
        assert all(0.01 <= d <= 0.5 for d in transport.delays)
        runs.append((transport.delays, transport.reads))
    assert runs[0] == runs[1]
    undelayed = Transport(TlsServer(ED25519), Chunking.random(40), seed=8)
    reference_client(undelayed).handshake()
    assert undelayed.reads == runs[0][1] and undelayed.elapsed == 0


def test_a_negative_delay_is_refused() -> None:
    with pytest.raises(ValueError):
        Transport(TlsServer(), delay=-1)
    with pytest.raises(ValueError):
        Transport(TlsServer(), delay=(0.5, 0.1))
