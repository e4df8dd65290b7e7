"""Byte-for-byte replay of "The Illustrated TLS 1.3 Connection" through :class:`TLSClient`.

The trace uses TLS_AES_256_GCM_SHA384, x25519 and middlebox compatibility mode,
with SNI example.ulfheim.net and two session tickets. The client's randomness is
00..1f (client random), e0..ff (legacy session id), 20..3f (x25519 private key).

Our own ClientHello cannot be made identical to the capture's: the capture is an
OpenSSL ClientHello that also offers TLS 1.2 (TLS_EMPTY_RENEGOTIATION_INFO_SCSV,
ec_point_formats, session_ticket, encrypt_then_mac, extended_master_secret) and
other groups and signature schemes, and ``ClientConfig`` controls none of those.
So ``customize_client_hello`` substitutes the capture's ClientHello after checking
that every field our client derives from its randomness and configuration is the
same (random, session id, key share, SNI, versions, PSK modes).

The decrypted capture files (``serverextensions``, ``servercert``, ...) end with the
TLSInnerPlaintext content type byte, which is stripped before comparing.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from schannel_py.tls.alerts import AlertDescription, TLSError
from schannel_py.tls.client import ClientConfig, TLSClient
from schannel_py.tls.events import (
    ApplicationData,
    HandshakeComplete,
    Ignored,
    TicketReceived,
)
from schannel_py.tls.groups import X25519
from schannel_py.tls.messages import (
    ClientHello,
    Ext,
    HandshakeType,
    NewSessionTicket13,
    find_ext,
    parse_key_share_client,
)
from schannel_py.tls.record import frame
from schannel_py.tls.sigalgs import RSA_PSS_RSAE_SHA256
from schannel_py.tls.suites import TLS_AES_256_GCM_SHA384
from tests.support.vectors import IllustratedTrace, illustrated13

HT = HandshakeType
NOW = 1_700_000_000.0

SERVER_HANDSHAKE_RECORDS = (
    "serverhello",
    "serverccs",
    "serverencextensions",
    "serverenccert",
    "serverenccertverify",
    "serverencfinished",
)
# Decrypted server handshake messages (plaintext files, inner content type included).
SERVER_MESSAGES = ("serverextensions", "servercert", "servercertverify", "serverfinished")

KEYLOG_TO_SECRETS = {
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET": "client_handshake_traffic_secret",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET": "server_handshake_traffic_secret",
    "CLIENT_TRAFFIC_SECRET_0": "client_application_traffic_secret_0",
    "SERVER_TRAFFIC_SECRET_0": "server_application_traffic_secret_0",
    "EXPORTER_SECRET": "exporter_master_secret",
}

# What the capture's ClientHello offers beyond anything our client can send.
TLS12_ONLY_EXTENSIONS = {
    Ext.ec_point_formats,
    Ext.session_ticket,
    Ext.encrypt_then_mac,
    Ext.extended_master_secret,
}


def trace() -> IllustratedTrace:
    return illustrated13()


def inner(trace_: IllustratedTrace, name: str, content_type: int) -> bytes:
    """A decrypted capture file without its trailing inner content type byte."""
    data = trace_.captures[name]
    assert data[-1] == content_type, name
    return data[:-1]


def one_record(data: bytes) -> bytes:
    assert frame(data) == len(data)
    return data


class RandomPool:
    """Serves fixed bytes in order; over-drawing fails the test."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def __call__(self, n: int) -> bytes:
        assert self.pos + n <= len(self.data), "client drew more randomness than the trace"
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    @property
    def exhausted(self) -> bool:
        return self.pos == len(self.data)


def trace_randomness(t: IllustratedTrace) -> bytes:
    facts = t.facts
    pool = bytes(range(0x00, 0x20)) + bytes(range(0xE0, 0x100)) + bytes(range(0x20, 0x40))
    assert pool == bytes.fromhex(
        facts["client_random"] + facts["session_id"] + facts["client_x25519_private"]
    )
    assert pool[64:] == t.keys["client_ephemeral_private"]
    return pool


class Replay:
    def __init__(self) -> None:
        self.trace = t = trace()
        self.theirs = ClientHello.parse(t.captures["clienthello"][5:])
        self.ours: ClientHello | None = None
        self.pool = RandomPool(trace_randomness(t))
        config = ClientConfig(
            server_name=t.facts["sni"],
            middlebox_compat=True,
            key_share_groups=(X25519,),
            verify_certificate=None,
            customize_client_hello=self.substitute,
        )
        self.client = TLSClient(config, random=self.pool, now=lambda: NOW)

    def substitute(self, ours: ClientHello) -> ClientHello:
        assert self.ours is None, "only one ClientHello expected"
        self.ours = ours
        return self.theirs

    def feed(self, *names: str) -> list[object]:
        events: list[object] = []
        for name in names:
            events.extend(self.client.receive_record(one_record(self.trace.captures[name])))
        return events

    def handshake(self) -> bytes:
        self.client.start()
        assert self.client.data_to_send() == self.trace.captures["clienthello"]
        events = self.feed(*SERVER_HANDSHAKE_RECORDS)
        assert events == [Ignored(), HandshakeComplete()]
        return self.client.data_to_send()


# --- ClientHello ------------------------------------------------------------------


def test_own_client_hello_matches_the_capture_where_it_can() -> None:
    r = Replay()
    r.client.start()
    assert r.client.data_to_send() == r.trace.captures["clienthello"]
    ours, theirs = r.ours, r.theirs
    assert ours is not None
    assert r.pool.exhausted
    assert ours.random == theirs.random == bytes(range(32))
    assert ours.session_id == theirs.session_id == bytes(range(0xE0, 0x100))
    assert ours.legacy_version == theirs.legacy_version == 0x0303
    assert ours.compression_methods == theirs.compression_methods == b"\x00"
    for code in (Ext.server_name, Ext.supported_versions, Ext.psk_key_exchange_modes):
        assert find_ext(ours.extensions, code) == find_ext(theirs.extensions, code), code
    # Our x25519 share, from the injected private key, is the capture's share.
    our_ks = find_ext(ours.extensions, Ext.key_share)
    their_ks = find_ext(theirs.extensions, Ext.key_share)
    assert our_ks is not None and their_ks is not None
    assert parse_key_share_client(our_ks) == parse_key_share_client(their_ks)
    assert parse_key_share_client(our_ks) == [(X25519, r.trace.keys["client_ephemeral_public"])]
    # Why the capture's ClientHello is substituted: it offers TLS 1.2 as well.
    their_types = {code for code, _ in theirs.extensions}
    our_types = {code for code, _ in ours.extensions}
    assert TLS12_ONLY_EXTENSIONS <= their_types - our_types
    assert 0x00FF in theirs.cipher_suites
    assert set(ours.cipher_suites) <= set(theirs.cipher_suites)


# --- handshake --------------------------------------------------------------------


def test_client_finished_flight() -> None:
    r = Replay()
    flight = r.handshake()
    captures = r.trace.captures
    assert flight == captures["clientccs"] + captures["clientencfinished"]
    c = r.client
    assert c.handshake_complete
    assert c.suite is not None and c.suite.code == TLS_AES_256_GCM_SHA384
    assert c.group == X25519
    assert c.peer_signature_scheme == RSA_PSS_RSAE_SHA256
    assert c.peer_chain == [r.trace.server_crt_der]
    assert c.client_random == bytes(range(32))
    assert c.server_random == captures["serverhello"][11:43]


def test_decrypted_server_messages() -> None:
    r = Replay()
    r.handshake()
    t = r.trace
    incoming = [(mt, m) for d, mt, m in r.client.message_log if d == "in"]
    expected_bytes = [t.captures["serverhello"][5:]] + [
        inner(t, name, 22) for name in SERVER_MESSAGES
    ]
    assert [m for _, m in incoming] == expected_bytes
    assert [mt for mt, _ in incoming] == [
        HT.server_hello,
        HT.encrypted_extensions,
        HT.certificate,
        HT.certificate_verify,
        HT.finished,
    ]
    outgoing = [(mt, m) for d, mt, m in r.client.message_log if d == "out"]
    assert outgoing == [
        (HT.client_hello, t.captures["clienthello"][5:]),
        (HT.finished, inner(t, "clientfinished", 22)),
    ]


def test_traffic_secrets_match_the_keylog() -> None:
    r = Replay()
    r.handshake()
    client_random = bytes(range(32))
    assert set(r.trace.keylog) == set(KEYLOG_TO_SECRETS)
    for label, name in KEYLOG_TO_SECRETS.items():
        assert r.client.secrets[name] == r.trace.keylog[label][client_random], label


def test_application_data_and_tickets() -> None:
    r = Replay()
    r.handshake()
    t = r.trace
    c = r.client
    # Wire order of the capture: client "ping", then two tickets, then "pong".
    c.send_application_data(inner(t, "clientdata", 23))
    assert c.data_to_send() == t.captures["clientencdata"]
    assert r.feed("serverencticket1", "serverencticket2") == [TicketReceived(), TicketReceived()]
    assert r.feed("serverencdata") == [ApplicationData(b"pong")]
    assert inner(t, "serverdata", 23) == b"pong"

    assert len(c.tickets) == t.facts["tickets"] == 2
    for ticket, name in zip(c.tickets, ("serverticket1", "serverticket2"), strict=True):
        message = inner(t, name, 22)
        nst = NewSessionTicket13.parse(message[4:])
        assert ticket.ticket == nst.ticket
        assert ticket.lifetime == nst.lifetime
        assert ticket.age_add == nst.age_add
        assert ticket.nonce == nst.nonce
        assert ticket.suite == TLS_AES_256_GCM_SHA384
        assert ticket.server_name == "example.ulfheim.net"
        assert ticket.received_at == NOW
        assert len(ticket.psk) == 48
    assert c.tickets[0].ticket != c.tickets[1].ticket
    assert c.tickets[0].psk != c.tickets[1].psk
    logged = [m for d, mt, m in c.message_log if d == "in" and mt == HT.new_session_ticket]
    assert logged == [inner(t, "serverticket1", 22), inner(t, "serverticket2", 22)]


def test_close_notify_after_replay() -> None:
    r = Replay()
    r.handshake()
    r.client.send_application_data(b"ping")
    r.client.data_to_send()
    record = r.client.close()
    # An encrypted alert under the client application keys (seq 1): header + 2 + 1 + 16.
    assert record[:5] == b"\x17\x03\x03\x00\x13"
    assert r.client.local_closed


# --- negative replays ------------------------------------------------------------


def flip(record: bytes, index: int) -> bytes:
    out = bytearray(record)
    out[index] ^= 0x80
    return bytes(out)


def fail_at(name: str, tamper: Callable[[bytes], bytes]) -> TLSError:
    r = Replay()
    r.client.start()
    r.client.data_to_send()
    with pytest.raises(TLSError) as info:
        for rec_name in SERVER_HANDSHAKE_RECORDS:
            data = r.trace.captures[rec_name]
            r.client.receive_record(tamper(data) if rec_name == name else data)
    assert r.client.failed
    assert not r.client.handshake_complete
    assert r.client.data_to_send() == b""
    return info.value


@pytest.mark.parametrize("index", [5, 40, -1])
def test_tampered_server_finished_record(index: int) -> None:
    err = fail_at("serverencfinished", lambda rec: flip(rec, index))
    assert err.description == AlertDescription.bad_record_mac
    assert not err.remote


def test_tampered_certificate_record() -> None:
    err = fail_at("serverenccert", lambda rec: flip(rec, 300))
    assert err.description == AlertDescription.bad_record_mac


def test_tampered_server_hello_key_share() -> None:
    """A different server share gives different handshake keys: the first
    encrypted record no longer authenticates."""
    err = fail_at("serverhello", lambda rec: flip(rec, len(rec) - 1))
    assert err.description == AlertDescription.bad_record_mac


def test_out_of_order_record() -> None:
    """Finished before CertificateVerify: decrypts under the wrong sequence number."""
    r = Replay()
    r.client.start()
    r.client.data_to_send()
    r.feed("serverhello", "serverccs", "serverencextensions", "serverenccert")
    with pytest.raises(TLSError) as info:
        r.feed("serverencfinished")
    assert info.value.description == AlertDescription.bad_record_mac
