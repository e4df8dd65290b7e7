"""``TLSClient.receive_in_place``: the record path DecryptMessage takes (issue 20).

It frames the first record of the caller's bytes itself and opens application
data over its own ciphertext while :attr:`TLSClient.app_reader` says nothing
else needs deciding.  Each test runs against Python's ssl (``MemoryServer``)
and checks what the caller sees: where the content lands, how many bytes the
record took, what a partial or malformed record does, and that the fast path
is closed whenever the connection's state must be consulted.
"""

from __future__ import annotations

import random
import ssl

import pytest

from schannel_py.testing.memserver import MemoryServer
from schannel_py.tls.alerts import TLSError
from schannel_py.tls.client import ClientConfig, TLSClient
from schannel_py.tls.events import CloseNotify, Event
from schannel_py.tls.record import RecordHeaderError, frame
from tests.support import peers

TLS12, TLS13 = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3
VERSIONS = pytest.mark.parametrize("version", [TLS13, TLS12], ids=["tls13", "tls12"])


def connect(pki: peers.ServerPki, version: ssl.TLSVersion) -> tuple[TLSClient, MemoryServer]:
    """A completed handshake with every server message (tickets too) received."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ctx.maximum_version = version
    ctx.load_cert_chain(pki.ecdsa.fullchain, pki.ecdsa.key)
    client = TLSClient(
        ClientConfig(server_name="localhost", versions=(0x0304 if version is TLS13 else 0x0303,)),
        random.Random(7).randbytes,
    )
    server = MemoryServer.for_context(ctx)
    client.start()
    assert client.app_reader is None
    while reply := server.feed(client.data_to_send()):
        offset = 0
        while offset < len(reply):
            n = frame(reply, offset)
            client.receive_record(reply[offset : offset + n])
            offset += n
    assert client.handshake_complete
    return client, server


def receive(client: TLSClient, data: bytearray) -> tuple[int, int, list[Event]]:
    """(record length, content length, events); the content offset is checked against
    the read protection's header length on every call."""
    n, offset, length, events = client.receive_in_place(memoryview(data))
    assert offset == client.read_header_len
    return n, length, list(events)


@VERSIONS
@pytest.mark.parametrize("size", [1, 1000, 16384])
def test_content_is_opened_over_the_ciphertext(
    pki: peers.ServerPki, version: ssl.TLSVersion, size: int
) -> None:
    client, server = connect(pki, version)
    assert client.app_reader is client.read_protection is not None
    payload = random.Random(size).randbytes(size)
    record = bytearray(server.write(payload))
    n, length, events = receive(client, record)
    hl = client.read_header_len
    assert (n, length, events) == (len(record), size, [])
    assert bytes(record[hl : hl + length]) == payload


@VERSIONS
def test_only_the_first_record_is_taken(pki: peers.ServerPki, version: ssl.TLSVersion) -> None:
    client, server = connect(pki, version)
    first, second = server.write(b"first"), server.write(b"second")
    data = bytearray(first + second)
    n, length, _ = receive(client, data)
    hl = client.read_header_len
    assert n == len(first) and bytes(data[hl : hl + length]) == b"first"
    rest = data[n:]
    assert receive(client, rest)[:2] == (len(second), 6)
    assert bytes(rest[hl : hl + 6]) == b"second"


@VERSIONS
def test_a_partial_record_says_what_is_missing_and_changes_nothing(
    pki: peers.ServerPki, version: ssl.TLSVersion
) -> None:
    client, server = connect(pki, version)
    record = server.write(b"later")
    for cut in (0, 3, 5, len(record) - 1):
        # Short of a header, what the header needs; then what the record needs.
        missing = 5 - cut if cut < 5 else len(record) - cut
        assert receive(client, bytearray(record[:cut])) == (-missing, -1, [])
    # Nothing was consumed: the whole record still opens under the same sequence number.
    whole = bytearray(record)
    n, length, _ = receive(client, whole)
    hl = client.read_header_len
    assert n == len(record) and bytes(whole[hl : hl + length]) == b"later"


@VERSIONS
def test_bytes_that_cannot_start_a_record_raise_the_header_error(
    pki: peers.ServerPki, version: ssl.TLSVersion
) -> None:
    client, server = connect(pki, version)
    record = bytearray(server.write(b"x"))
    for index, value in ((0, 0x63), (1, 2)):
        bad = bytearray(record)
        bad[index] = value
        with pytest.raises(RecordHeaderError):
            receive(client, bad)
    # The header was refused before anything was read: the genuine record still opens.
    assert receive(client, record)[:2] == (len(record), 1)


@VERSIONS
def test_a_failed_record_closes_the_fast_path_for_good(
    pki: peers.ServerPki, version: ssl.TLSVersion
) -> None:
    client, server = connect(pki, version)
    record = bytearray(server.write(b"tampered"))
    record[-1] ^= 1
    with pytest.raises(TLSError, match="authentication"):
        receive(client, record)
    assert client.failed and client.app_reader is None
    with pytest.raises(TLSError, match="already failed"):
        receive(client, bytearray(server.write(b"next")))


@VERSIONS
def test_close_notify_closes_the_fast_path(pki: peers.ServerPki, version: ssl.TLSVersion) -> None:
    client, server = connect(pki, version)
    data = bytearray(server.write(b"last words"))
    with pytest.raises(ssl.SSLWantReadError):
        server.tls.unwrap()  # sends close_notify, then waits for ours
    close = bytearray(server.pending_output())
    assert receive(client, data)[1] == 10
    n, length, events = receive(client, close)
    assert (n, length) == (len(close), -1)
    assert any(isinstance(e, CloseNotify) for e in events)
    assert client.peer_closed and client.app_reader is None
