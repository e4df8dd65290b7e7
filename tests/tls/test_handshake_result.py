"""``TLSClient.result``: the negotiated parameters as one read-only value (issue 19).

Each handshake runs against Python's ssl (``MemoryServer``): the result must
hold what the server says was negotiated, and agree with the attributes the
handshakes fill in as they go (which older callers still read).
"""

from __future__ import annotations

import contextlib
import random
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from schannel_py.testing.memserver import MemoryServer
from schannel_py.tls.client import ClientConfig, TLSClient
from schannel_py.tls.events import Event, HandshakeComplete, RenegotiationRefused, TicketReceived
from schannel_py.tls.record import frame
from schannel_py.tls.result import HandshakeResult
from tests.support import peers

TLS12, TLS13 = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3


def server_context(pki: peers.ServerPki, version: ssl.TLSVersion) -> ssl.SSLContext:
    """A server context whose connections share a session cache and ticket keys."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ctx.maximum_version = version
    ctx.load_cert_chain(pki.ecdsa.fullchain, pki.ecdsa.key)
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    return ctx


def fullchain_der(pki: peers.ServerPki) -> tuple[bytes, ...]:
    pem = pki.ecdsa.fullchain.read_bytes()
    return tuple(c.public_bytes(Encoding.DER) for c in x509.load_pem_x509_certificates(pem))


def feed(client: TLSClient, data: bytes) -> list[Event]:
    """Hand the client every record in ``data`` (whole records only)."""
    events: list[Event] = []
    offset = 0
    while offset < len(data):
        n = frame(data, offset)
        assert n > 0, "the server sent a partial record"
        events += client.receive_record(data[offset : offset + n])
        offset += n
    return events


def pump(client: TLSClient, server: MemoryServer) -> list[Event]:
    """Exchange flights until neither side has anything more to send."""
    events: list[Event] = []
    while True:
        reply = server.feed(client.data_to_send())
        if not reply:
            return events
        events += feed(client, reply)


def connect(ctx: ssl.SSLContext, **config: object) -> tuple[TLSClient, MemoryServer, list[Event]]:
    client = TLSClient(
        ClientConfig(server_name="localhost", alpn=[b"h2"], **config),  # type: ignore[arg-type]
        random.Random(len(config)).randbytes,
    )
    server = MemoryServer.for_context(ctx)
    client.start()
    assert client.result is None
    events = pump(client, server)
    assert server.handshake_done and client.handshake_complete
    return client, server, events


def assert_matches_attributes(result: HandshakeResult, client: TLSClient) -> None:
    """Every field equals the attribute it was taken from."""
    assert result.version == client.version
    assert result.suite is client.suite and result.cipher_suite == client.suite.code
    assert result.group == client.group
    assert result.peer_signature_scheme == client.peer_signature_scheme
    assert result.alpn == client.alpn
    assert result.peer_chain == tuple(client.peer_chain)
    assert result.peer_certificate is client.peer_certificate
    assert result.resumed == client.resumed
    assert result.session_id == client.session_id
    assert result.client_random == client.client_random
    assert result.server_random == client.server_random
    assert result.hello_retry_request == client.hrr_seen
    assert result.extended_master_secret == client.extended_master_secret
    assert result.secure_renegotiation == client.secure_renegotiation
    assert result.tls_unique == client.first_finished
    assert result.certificate_requested == client.certificate_requested
    assert result.client_certificate_sent == client.client_certificate_sent
    assert result.session12 is client.session12
    assert result.renegotiation == client.renegotiations
    assert result.client_finished == client.client_verify_data
    assert result.server_finished == client.server_verify_data


def assert_matches_server(result: HandshakeResult, server: MemoryServer) -> None:
    """What Python's ssl says the connection negotiated."""
    name = (server.tls.cipher() or ("",))[0]
    codes = {c["name"]: c["id"] & 0xFFFF for c in server.context.get_ciphers()}
    assert result.cipher_suite == codes[name]
    assert result.version == {"TLSv1.3": 0x0304, "TLSv1.2": 0x0303}[server.tls.version() or ""]
    assert result.alpn == (server.tls.selected_alpn_protocol() or "").encode() or None
    assert result.resumed == server.tls.session_reused
    # OpenSSL's tls-unique on the server side: the client's Finished for a new session,
    # its own when resumed (TLS 1.3 too), so both Finished are checked across the tests.
    expected = result.server_finished if result.resumed else result.client_finished
    assert len(expected) == (12 if result.version == 0x0303 else result.suite.hash_len)
    assert server.tls.get_channel_binding("tls-unique") == expected


def test_result_after_a_full_tls13_handshake(pki: peers.ServerPki) -> None:
    client, server, events = connect(server_context(pki, TLS13), versions=(0x0304,))
    result = client.result
    assert isinstance(result, HandshakeResult)
    # The server's tickets came after the handshake: the client keeps them, the
    # result (set at HandshakeComplete) does not change.
    done = events.index(HandshakeComplete())
    assert TicketReceived() in events[done:] and client.tickets
    assert result.version == 0x0304
    assert result.suite.version == 0x0304
    assert result.group == 0x001D  # x25519, the one key share offered
    assert result.peer_signature_scheme == 0x0403  # ecdsa_secp256r1_sha256, a P-256 leaf
    assert result.alpn == b"h2"
    assert result.peer_chain == fullchain_der(pki)
    assert result.peer_certificate is not None
    assert result.peer_certificate.public_bytes(Encoding.DER) == result.peer_chain[0]
    assert not result.resumed and not result.hello_retry_request
    assert result.extended_master_secret and result.tls_unique == b""
    assert result.session12 is None and result.renegotiation == 0
    assert len(result.session_id) == 32  # middlebox compatibility echo
    assert_matches_attributes(result, client)
    assert_matches_server(result, server)


def test_result_after_a_full_tls12_handshake(pki: peers.ServerPki) -> None:
    client, server, _ = connect(server_context(pki, TLS12), versions=(0x0304, 0x0303))
    result = client.result
    assert result is not None
    assert result.version == 0x0303
    assert result.suite.version == 0x0303 and result.suite.auth == "ECDSA"
    assert result.group == 0x001D
    assert result.alpn == b"h2"
    assert result.peer_chain == fullchain_der(pki)
    assert result.extended_master_secret and result.secure_renegotiation
    assert len(result.tls_unique) == 12  # the client's Finished verify_data
    assert result.session12 is not None and result.session12.suite == result.cipher_suite
    assert not result.resumed
    assert_matches_attributes(result, client)
    assert_matches_server(result, server)


def test_result_after_resumed_tls13_handshake(pki: peers.ServerPki) -> None:
    ctx = server_context(pki, TLS13)
    first, server, _ = connect(ctx, versions=(0x0304,))
    resumed, server2, _ = connect(ctx, versions=(0x0304,), resume_ticket=first.tickets[-1])
    result = resumed.result
    assert result is not None and first.result is not None
    assert result.resumed and server2.tls.session_reused
    assert result.peer_signature_scheme == 0  # no CertificateVerify in a PSK handshake
    assert result.peer_chain == first.result.peer_chain  # the chain stored with the ticket
    assert result.suite == first.result.suite and result.alpn == b"h2"
    assert result != first.result
    assert_matches_attributes(result, resumed)
    assert_matches_server(result, server2)


def test_result_after_resumed_tls12_handshake(pki: peers.ServerPki) -> None:
    ctx = server_context(pki, TLS12)
    first, _, _ = connect(ctx, versions=(0x0303,))
    assert first.result is not None and first.result.session12 is not None
    resumed, server2, _ = connect(ctx, versions=(0x0303,), resume_session12=first.result.session12)
    result = resumed.result
    assert result is not None
    assert result.resumed and server2.tls.session_reused
    assert result.group == 0 and result.peer_signature_scheme == 0  # abbreviated
    assert result.peer_chain == first.result.peer_chain
    assert result.suite == first.result.suite
    assert_matches_attributes(result, resumed)
    assert_matches_server(result, server2)


def test_a_renegotiation_replaces_the_result(pki: peers.ServerPki) -> None:
    ctx = server_context(pki, TLS12)
    # OpenSSL 3 refuses a client's renegotiation unless SSL_OP_ALLOW_CLIENT_RENEGOTIATION
    # (bit 8, which Python's ssl does not name) is set.
    ctx.options = (ctx.options & ~ssl.OP_NO_RENEGOTIATION) | 0x100
    client, server, _ = connect(ctx, versions=(0x0303,))
    first = client.result
    assert first is not None
    first_fields = first._asdict()
    client.renegotiate()
    events: list[Event] = []
    for _ in range(4):  # the server handles the new handshake inside read()
        server.incoming.write(client.data_to_send())
        with contextlib.suppress(ssl.SSLWantReadError):
            server.tls.read(1)
        events += feed(client, server.outgoing.read())
    if RenegotiationRefused() in events:
        pytest.skip("this OpenSSL refuses client-initiated renegotiation")
    assert HandshakeComplete() in events
    result = client.result
    assert result is not None and result is not first
    assert (first.renegotiation, result.renegotiation) == (0, 1)
    assert result.tls_unique != first.tls_unique  # this handshake's own Finished
    assert result.peer_chain == first.peer_chain and result.suite == first.suite
    assert_matches_attributes(result, client)
    assert first._asdict() == first_fields  # the old result did not change


def test_result_is_read_only(pki: peers.ServerPki) -> None:
    client, _, _ = connect(server_context(pki, TLS13), versions=(0x0304,))
    result = client.result
    assert result is not None
    with pytest.raises(AttributeError):
        result.version = 0x0303  # type: ignore[misc]
    # Later changes to the client's scratch attributes do not reach it.
    client.peer_chain.append(b"x")
    assert b"x" not in result.peer_chain
    # No secrets in it, so its repr may be logged.
    assert len(client.secrets) >= 5
    for secret in client.secrets.values():
        assert secret.hex() not in repr(result) and repr(secret)[2:-1] not in repr(result)


@pytest.mark.parametrize("version", [TLS13, TLS12], ids=["tls13", "tls12"])
def test_encrypt_into_writes_a_record_the_server_reads(
    pki: peers.ServerPki, version: ssl.TLSVersion
) -> None:
    """The sans-IO client seals application data into the caller's three views
    (both versions, so it says True), and the server reads what was written."""
    client, server, _ = connect(
        server_context(pki, version), versions=(0x0304 if version is TLS13 else 0x0303,)
    )
    header_len, trailer_len = client.record_overhead
    data = b"written in place"
    record = bytearray(header_len + len(data) + trailer_len)
    view = memoryview(record)
    end = header_len + len(data)
    assert client.encrypt_into(data, view[:header_len], view[header_len:end], view[end:])
    server.incoming.write(bytes(record))
    assert server.tls.read(100) == data
