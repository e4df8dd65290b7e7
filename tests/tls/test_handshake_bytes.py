"""Handshake messages split from record payloads: what stays buffered when a handler fails.

``TLSClient`` splits a handshake record into messages without copying it into
its reassembly buffer first.  A handler that raises something other than a
TLSError (an application's verify hook with a bug) leaves the connection not
failed; the bytes after the failing message must then stay buffered, so the
next record is judged as the protocol requires (an alert cannot interleave
with a fragmented handshake message).
"""

from __future__ import annotations

import random
import ssl

import pytest

from schannel_py.testing.memserver import MemoryServer
from schannel_py.tls.alerts import AlertDescription, TLSError
from schannel_py.tls.client import ClientConfig, TLSClient
from schannel_py.tls.record import frame
from tests.support import peers


def record(content_type: int, body: bytes) -> bytes:
    return bytes([content_type, 3, 3]) + len(body).to_bytes(2, "big") + body


def test_bytes_after_a_failing_handler_stay_buffered(pki: peers.ServerPki) -> None:
    server = MemoryServer(
        pki.ecdsa.fullchain,
        pki.ecdsa.key,
        min_version=ssl.TLSVersion.TLSv1_2,
        max_version=ssl.TLSVersion.TLSv1_2,
    )
    calls = []

    def verify(chain: list[bytes]) -> None:
        calls.append(chain)
        raise RuntimeError("a bug in the hook")

    rnd = random.Random(7)
    client = TLSClient(
        ClientConfig(server_name="localhost", versions=(0x0303,), verify_certificate=verify),
        rnd.randbytes,
    )
    client.start()
    flight = server.feed(client.data_to_send())
    # Every handshake message of the server's flight in one record.
    messages = b""
    offset = 0
    while offset < len(flight):
        n = frame(flight, offset)
        assert flight[offset] == 22
        messages += flight[offset + 5 : offset + n]
        offset += n
    with pytest.raises(RuntimeError):
        client.receive_record(record(22, messages))
    assert calls and not client.failed
    # ServerKeyExchange and ServerHelloDone are still buffered after the failed
    # Certificate: an alert now interleaves with them.
    with pytest.raises(TLSError) as err:
        client.receive_record(record(21, b"\x01\x00"))
    assert err.value.description == AlertDescription.unexpected_message
