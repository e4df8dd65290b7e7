"""RFC 8448 section 4 (``Resumed_0RTT_Handshake``) replayed through the real :class:`TLSClient`.

The ticket comes from replaying section 3 (``Simple_1RTT_Handshake``) to its
NewSessionTicket: the client derives the PSK itself (``client.tickets[0]``).
Section 4's client then offers that ticket (``ClientConfig.resume_ticket``)
with section 4's ``Client_RNG_Pool``, at section 4's ``CurrentTimestamp``
(6 ms after the ticket arrived: exactly the age in the RFC ClientHello).

The RFC ClientHello also carries extensions our client never sends
(early_data, record_size_limit, ...), so ``customize_client_hello``
substitutes it, as in ``test_replay_rfc8448``.  The hook hands back the RFC
ClientHello with its pre_shared_key identity age and binder *zeroed*: the
client must re-encode the obfuscated ticket age from the ticket and the clock
and recompute the binder in ``_bind_psk``, so the record matching
``Record_ClientHello_1`` byte for byte checks both.

What does not apply: we send no 0-RTT data, so neither the early application
data nor EndOfEarlyData (both under client_early_traffic_secret).  The RFC
client's Finished covers EndOfEarlyData and ours cannot, so our Finished
record differs from ``Record_ClientFinished_Part2`` (same key and sequence
number, other transcript).  Everything keyed from the transcript up to the
server Finished is unaffected (the application traffic secrets).  The
early-data records are still checked, by decrypting them with the early
traffic secret derived from our PSK (an independent check of the PSK).

Section 4's values in ``vectors/rfc8448.json`` are the RFC's own (converted from
the RFC text, ``section4-rfc.vec``): Botan's copy of the section had a server
flight regenerated without the empty server_name in EncryptedExtensions, so its
server Finished, and the application traffic keys after it, were not the RFC's.
The tests below of the server Finished, the client Finished and the application
data hold with the RFC's bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

import pytest

from schannel_py.tls.alerts import AlertDescription, TLSError
from schannel_py.tls.client import ClientConfig, TLSClient
from schannel_py.tls.events import (
    ApplicationData,
    CloseNotify,
    Event,
    HandshakeComplete,
    Ignored,
)
from schannel_py.tls.groups import X25519
from schannel_py.tls.keyschedule import (
    KeySchedule13,
    derive_secret,
    finished_verify_data,
    traffic_keys,
)
from schannel_py.tls.messages import (
    ClientHello,
    Ext,
    HandshakeType,
    ServerHello,
    find_ext,
    handshake_message,
    parse_key_share_client,
)
from schannel_py.tls.record import APPLICATION_DATA, HANDSHAKE, Protection13
from schannel_py.tls.session import Ticket13
from schannel_py.tls.suites import SUITES, TLS_AES_128_GCM_SHA256
from tests.support.rfc8448_replay import (
    SIMPLE,
    RandomPool,
    Section,
    b,
    feed,
    section3_ticket,
    split_records,
)
from tests.support.vectors import rfc8448

RESUMED = "Resumed_0RTT_Handshake"
HT = HandshakeType
SUITE = SUITES[TLS_AES_128_GCM_SHA256]


# --- the RFC's pre_shared_key extension ----------------------------------------


@dataclass(frozen=True)
class OfferedPsk:
    """The one PskIdentity and binder of a ClientHello's pre_shared_key extension."""

    identity: bytes
    obfuscated_age: int
    binder: bytes

    @classmethod
    def parse(cls, body: bytes) -> OfferedPsk:
        ids_len = int.from_bytes(body[0:2], "big")
        id_len = int.from_bytes(body[2:4], "big")
        assert ids_len == 2 + id_len + 4, "exactly one identity"
        identity = body[4 : 4 + id_len]
        age = int.from_bytes(body[4 + id_len : 8 + id_len], "big")
        rest = body[2 + ids_len :]
        binders_len = int.from_bytes(rest[0:2], "big")
        assert binders_len == 1 + rest[2] == len(rest) - 2, "exactly one binder"
        return cls(identity, age, rest[3:])

    def encode(self) -> bytes:
        ident = len(self.identity).to_bytes(2, "big") + self.identity
        ident += self.obfuscated_age.to_bytes(4, "big")
        binder = bytes([len(self.binder)]) + self.binder
        return len(ident).to_bytes(2, "big") + ident + len(binder).to_bytes(2, "big") + binder


def rfc_client_hello(sec: Section) -> ClientHello:
    return ClientHello.parse(b(sec, "Message_ClientHello_1"))


def rfc_psk(sec: Section) -> OfferedPsk:
    body = find_ext(rfc_client_hello(sec).extensions, Ext.pre_shared_key)
    assert body is not None
    return OfferedPsk.parse(body)


def rfc_timestamp(sec: Section) -> float:
    ms = sec["CurrentTimestamp"]
    assert isinstance(ms, int)
    return ms / 1000


# --- section 4 -------------------------------------------------------------------


@dataclass
class Resumption:
    sec: Section
    pool: RandomPool
    client: TLSClient
    ticket: Ticket13
    # (ours, what the hook returned) per ClientHello
    hellos: list[tuple[ClientHello, ClientHello]] = field(default_factory=list)

    def feed(self, key: str) -> list[Event]:
        return feed(self.client, self.sec, key)


def start(ticket: Ticket13 | None = None, now: float | None = None) -> Resumption:
    """Section 4's client offering ``ticket`` (section 3's by default) at the RFC's time."""
    sec = rfc8448(RESUMED)
    ticket = ticket if ticket is not None else section3_ticket()
    pool = RandomPool(b(sec, "Client_RNG_Pool"))
    rfc_psk_offer = rfc_psk(sec)
    replay: Resumption

    def substitute(ours: ClientHello) -> ClientHello:
        assert not replay.hellos, "one ClientHello only (no HelloRetryRequest here)"
        theirs = rfc_client_hello(sec)
        assert ours.random == theirs.random == b(sec, "Client_Random")
        assert ours.session_id == theirs.session_id == b""  # middlebox_compat=False
        our_ks = find_ext(ours.extensions, Ext.key_share)
        rfc_ks = find_ext(theirs.extensions, Ext.key_share)
        assert our_ks is not None and rfc_ks is not None
        assert parse_key_share_client(our_ks) == [
            (g, k) for g, k in parse_key_share_client(rfc_ks) if g == X25519
        ]
        # Our own offer: pre_shared_key last, the ticket's identity, a zero binder
        # placeholder (the binder is only computed after this hook).
        assert ours.extensions[-1][0] == Ext.pre_shared_key
        our_offer = OfferedPsk.parse(ours.extensions[-1][1])
        assert our_offer.identity == rfc_psk_offer.identity
        assert our_offer.binder == bytes(SUITE.hash_len)
        assert find_ext(ours.extensions, Ext.psk_key_exchange_modes) == b"\x01\x01"
        # Hand back the RFC's ClientHello with age and binder blanked: the client
        # has to put both back.
        assert theirs.extensions[-1][0] == Ext.pre_shared_key
        blank = replace(rfc_psk_offer, obfuscated_age=0, binder=bytes(SUITE.hash_len))
        theirs.extensions[-1] = (Ext.pre_shared_key, blank.encode())
        replay.hellos.append((ours, theirs))
        return theirs

    config = ClientConfig(
        resume_ticket=ticket,
        middlebox_compat=False,
        key_share_groups=(X25519,),
        verify_certificate=None,
        customize_client_hello=substitute,
    )
    when = rfc_timestamp(sec) if now is None else now
    client = TLSClient(config, random=pool, now=lambda: when)
    replay = Resumption(sec, pool, client, ticket)
    client.start()
    return replay


def handshake_resumed() -> tuple[Resumption, bytes]:
    """Section 4 up to and including our client Finished flight."""
    r = start()
    assert r.client.data_to_send() == b(r.sec, "Record_ClientHello_1")
    assert r.feed("Record_ServerHello") == []
    assert r.client.data_to_send() == b""
    events = r.feed("Record_ServerHandshakeMessages")
    assert events[-1] == HandshakeComplete()
    assert all(e == Ignored() for e in events[:-1])
    return r, r.client.data_to_send()


def protection(secret: bytes) -> Protection13:
    key, iv = traffic_keys(SUITE.hash_name, secret, SUITE.key_len)
    return Protection13(SUITE, secret, key, iv)


# --- tests -------------------------------------------------------------------------


def test_section4_ticket_is_section3_ticket() -> None:
    """Section 4 resumes the ticket of section 3, and the RFC's identity age is 6 ms."""
    sec = rfc8448(RESUMED)
    ticket = section3_ticket()
    assert b(sec, "SessionTicket") == ticket.ticket
    assert b(sec, "Client_SessionData") == b(rfc8448(SIMPLE), "Client_SessionData")
    offer = rfc_psk(sec)
    assert offer.identity == ticket.ticket
    # Derived from the RFC bytes: obfuscated_ticket_age = age_ms + ticket_age_add.
    age_ms = (offer.obfuscated_age - ticket.age_add) % (1 << 32)
    assert age_ms == 6
    # ... which is exactly the time between the two traces' timestamps, so the
    # client clock is simply section 4's CurrentTimestamp.
    assert round((rfc_timestamp(sec) - ticket.received_at) * 1000) == age_ms
    assert ticket.obfuscated_age(rfc_timestamp(sec)) == offer.obfuscated_age
    assert ticket.usable_at(rfc_timestamp(sec))


def test_client_hello_with_recomputed_binder() -> None:
    """The age and the binder the client computes are the RFC's, byte for byte."""
    r = start()
    sent = r.client.data_to_send()
    assert sent == b(r.sec, "Record_ClientHello_1")
    assert r.pool.draws == [32, 32]
    assert r.pool.exhausted
    # Before binding, the client's own offer already had the RFC's identity and age.
    ours, _ = r.hellos[0]
    assert OfferedPsk.parse(ours.extensions[-1][1]).obfuscated_age == rfc_psk(r.sec).obfuscated_age
    sent_hello = ClientHello.parse(sent[5:])
    body = find_ext(sent_hello.extensions, Ext.pre_shared_key)
    assert body is not None
    offer = OfferedPsk.parse(body)
    assert offer.binder == rfc_psk(r.sec).binder
    assert offer.binder != bytes(SUITE.hash_len)
    # The binder is the Finished MAC under the "res binder" key over the
    # ClientHello truncated before the binders list (RFC 8446 section 4.2.11.2).
    message = b(r.sec, "Message_ClientHello_1")
    truncated = message[: len(message) - (2 + 1 + SUITE.hash_len)]
    binder_key = KeySchedule13(SUITE.hash_name, r.ticket.psk).binder_key()
    digest = hashlib.sha256(truncated).digest()
    assert finished_verify_data(SUITE.hash_name, binder_key, digest) == offer.binder
    # The logged (and hashed) ClientHello is the one that was sent.
    assert r.client.message_log[0] == ("out", HT.client_hello, message)


def test_server_hello_selects_the_psk() -> None:
    r = start()
    r.client.data_to_send()
    assert r.feed("Record_ServerHello") == []
    sh = ServerHello.parse(b(r.sec, "Message_ServerHello")[4:])
    assert find_ext(sh.extensions, Ext.pre_shared_key) == b"\x00\x00"  # identity 0
    assert r.client.resumed
    assert r.client.version == 0x0304
    assert r.client.suite is not None and r.client.suite.code == TLS_AES_128_GCM_SHA256
    assert r.client.group == X25519
    assert r.client.server_random == sh.random
    # The certificate is the one remembered with the ticket (section 3's).
    assert r.client.peer_chain == r.ticket.peer_chain
    assert r.client.peer_chain[0] == b(rfc8448(SIMPLE), "Server_Certificate_DER")


def test_resumed_handshake_messages() -> None:
    """The server flight decrypts to exactly EncryptedExtensions and a Finished
    that verifies; no Certificate, no CertificateVerify."""
    r, _ = handshake_resumed()
    c = r.client
    assert c.handshake_complete and c.resumed
    incoming = [m for d, _, m in c.message_log if d == "in"]
    assert incoming[:2] == [
        b(r.sec, "Message_ServerHello"),
        b(r.sec, "Message_EncryptedExtensions"),
    ]
    assert [m[0] for m in incoming] == [HT.server_hello, HT.encrypted_extensions, HT.finished]
    outgoing = [t for d, t, _ in c.message_log if d == "out"]
    assert outgoing == [HT.client_hello, HT.finished]  # no Certificate, no EndOfEarlyData
    assert not c.certificate_requested and not c.client_certificate_sent
    assert c.peer_signature_scheme == 0  # no CertificateVerify in a PSK handshake
    # The server Finished is the MAC under the server handshake traffic secret
    # over ClientHello..EncryptedExtensions (the client checked it; so do we).
    log = [m for _, _, m in c.message_log]
    upto_ee = hashlib.sha256(b"".join(log[:3])).digest()
    s_hs = c.secrets["server_handshake_traffic_secret"]
    expected = handshake_message(HT.finished, finished_verify_data(SUITE.hash_name, s_hs, upto_ee))
    assert incoming[2] == expected


def test_tampered_server_finished_is_rejected() -> None:
    """Control: the server Finished is really checked."""
    r = start()
    r.client.data_to_send()
    r.feed("Record_ServerHello")
    s_hs = r.client.secrets["server_handshake_traffic_secret"]
    (record,) = split_records(b(r.sec, "Record_ServerHandshakeMessages"))
    ctype, plain = protection(s_hs).open(record)
    resealed = protection(s_hs).seal(ctype, flipped(plain, len(plain) - 1))
    with pytest.raises(TLSError) as info:
        r.client.receive_record(resealed)
    assert info.value.description == AlertDescription.decrypt_error


def test_server_finished_is_the_rfc_value() -> None:
    r, _ = handshake_resumed()
    incoming = [m for d, _, m in r.client.message_log if d == "in"]
    assert incoming[2] == b(r.sec, "Message_Server_Finished")


def test_client_finished_record() -> None:
    """Our Finished goes under the RFC's key and sequence number (the RFC's Finished
    record decrypts with our client handshake traffic secret), over our transcript:
    ClientHello..server Finished, without EndOfEarlyData."""
    r, flight = handshake_resumed()
    sec = r.sec
    c_hs = r.client.secrets["client_handshake_traffic_secret"]
    assert split_records(flight) == [flight]  # one record: the Finished (no CCS)
    assert flight != b(sec, "Record_ClientFinished_Part2")
    assert len(flight) == len(b(sec, "Record_ClientFinished_Part2"))
    ctype, rfc_fin = protection(c_hs).open(b(sec, "Record_ClientFinished_Part2"))
    assert ctype == HANDSHAKE and rfc_fin[:4] == b"\x14\x00\x00\x20"
    ctype, our_fin = protection(c_hs).open(flight)
    assert ctype == HANDSHAKE and our_fin != rfc_fin
    log = [m for _, _, m in r.client.message_log]
    assert log[-1] == our_fin
    without = hashlib.sha256(b"".join(log[:4])).digest()
    assert our_fin == handshake_message(
        HT.finished, finished_verify_data(SUITE.hash_name, c_hs, without)
    )


def test_rfc_client_finished_covers_end_of_early_data() -> None:
    """The RFC's client Finished is ours with EndOfEarlyData added to the transcript."""
    r, _ = handshake_resumed()
    c_hs = r.client.secrets["client_handshake_traffic_secret"]
    _, rfc_fin = protection(c_hs).open(b(r.sec, "Record_ClientFinished_Part2"))
    log = [m for _, _, m in r.client.message_log]
    eoed = handshake_message(HT.end_of_early_data, b"")
    with_eoed = hashlib.sha256(b"".join(log[:4]) + eoed).digest()
    assert rfc_fin == handshake_message(
        HT.finished, finished_verify_data(SUITE.hash_name, c_hs, with_eoed)
    )


def test_early_data_records_under_our_psk() -> None:
    """The 0-RTT records we do not send decrypt under the early traffic secret that
    our PSK gives: the RFC's early data, then EndOfEarlyData."""
    sec = rfc8448(RESUMED)
    ticket = section3_ticket()
    early = KeySchedule13(SUITE.hash_name, ticket.psk).early_secret
    ch_hash = hashlib.sha256(b(sec, "Message_ClientHello_1")).digest()
    c_e = derive_secret(SUITE.hash_name, early, b"c e traffic", ch_hash)
    p = protection(c_e)
    assert p.open(b(sec, "Record_Client_EarlyAppData")) == (
        APPLICATION_DATA,
        b(sec, "Client_EarlyAppData"),
    )
    assert p.open(b(sec, "Record_ClientFinished_Part1")) == (
        HANDSHAKE,
        handshake_message(HT.end_of_early_data, b""),
    )


def test_application_data_round_trip() -> None:
    """Application data flows under the (resumed) application keys; what we seal,
    keys derived from the logged transcript open, and the other way round."""
    r, _ = handshake_resumed()
    sec = r.sec
    c = r.client
    data = b(sec, "Client_AppData")
    c.send_application_data(data)
    record = c.data_to_send()
    c_ap = c.secrets["client_application_traffic_secret_0"]
    assert protection(c_ap).open(record) == (APPLICATION_DATA, data)
    s_ap = c.secrets["server_application_traffic_secret_0"]
    reply = protection(s_ap).seal(APPLICATION_DATA, b(sec, "Server_AppData"))
    assert c.receive_record(reply) == [ApplicationData(b(sec, "Server_AppData"))]


def test_application_data_and_close_notify() -> None:
    """The application traffic secrets end at the server Finished, before where the
    flights differ: application data and close_notify are the RFC's records."""
    r, _ = handshake_resumed()
    sec = r.sec
    r.client.send_application_data(b(sec, "Client_AppData"))
    assert r.client.data_to_send() == b(sec, "Record_Client_AppData")
    events = r.client.receive_record(b(sec, "Record_Server_AppData"))
    assert events == [ApplicationData(b(sec, "Server_AppData"))]
    assert r.client.close() == b(sec, "Record_Client_CloseNotify")
    assert r.client.receive_record(b(sec, "Record_Server_CloseNotify")) == [CloseNotify()]
    assert r.client.peer_closed and r.client.local_closed


# --- negative ----------------------------------------------------------------------------


def flipped(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)


def test_wrong_psk_changes_only_the_binder_and_breaks_the_server_flight() -> None:
    ticket = section3_ticket()
    bad = replace(ticket, psk=flipped(ticket.psk, 7))
    r = start(bad)
    sent = r.client.data_to_send()
    rfc = b(r.sec, "Record_ClientHello_1")
    # Same ClientHello up to the binder, which no longer matches the RFC's.
    assert len(sent) == len(rfc)
    assert sent[: -SUITE.hash_len] == rfc[: -SUITE.hash_len]
    assert sent[-SUITE.hash_len :] != rfc[-SUITE.hash_len :]
    # A real server would reject the binder; the recorded one accepted the
    # right PSK, so with ours the handshake keys differ and its flight fails.
    assert r.feed("Record_ServerHello") == []
    with pytest.raises(TLSError) as info:
        r.feed("Record_ServerHandshakeMessages")
    assert info.value.description == AlertDescription.bad_record_mac
    assert not info.value.remote
    assert r.client.failed and not r.client.handshake_complete


def test_wrong_ticket_age_changes_age_and_binder() -> None:
    sec = rfc8448(RESUMED)
    r = start(now=rfc_timestamp(sec) + 1.0)
    sent = ClientHello.parse(r.client.data_to_send()[5:])
    body = find_ext(sent.extensions, Ext.pre_shared_key)
    assert body is not None
    offer = OfferedPsk.parse(body)
    expected = rfc_psk(sec)
    assert offer.identity == expected.identity
    assert offer.obfuscated_age == (expected.obfuscated_age + 1000) % (1 << 32)
    assert offer.binder != expected.binder


def test_server_selecting_another_identity_is_rejected() -> None:
    r = start()
    r.client.data_to_send()
    rec = b(r.sec, "Record_ServerHello")
    at = rec.index(bytes.fromhex("002900020000"))  # pre_shared_key: selected_identity 0
    tampered = rec[: at + 4] + b"\x00\x01" + rec[at + 6 :]
    with pytest.raises(TLSError) as info:
        r.client.receive_record(tampered)
    assert info.value.description == AlertDescription.illegal_parameter
    assert not r.client.resumed


def test_expired_ticket_is_not_offered() -> None:
    """Past its lifetime (30 s here) the ticket is not offered at all."""
    ticket = section3_ticket()
    offered: list[ClientHello] = []

    def keep(ch: ClientHello) -> ClientHello:
        offered.append(ch)
        return ch

    config = ClientConfig(
        resume_ticket=ticket,
        middlebox_compat=False,
        verify_certificate=None,
        customize_client_hello=keep,
    )
    later = ticket.received_at + ticket.lifetime
    client = TLSClient(config, random=RandomPool(bytes(64)), now=lambda: later)
    client.start()
    assert find_ext(offered[0].extensions, Ext.pre_shared_key) is None


def test_binder_covers_the_age_sent_when_the_clock_moves() -> None:
    """The clock advances 10 ms at every reading: the binder must still be computed
    over the ClientHello as sent (one age), or a server rejects it."""
    ticket = section3_ticket()
    readings = iter(range(1000))

    def clock() -> float:
        return ticket.received_at + next(readings) / 100

    config = ClientConfig(resume_ticket=ticket, middlebox_compat=False, verify_certificate=None)
    client = TLSClient(config, random=RandomPool(bytes(64)), now=clock)
    client.start()
    message = client.data_to_send()[5:]
    body = find_ext(ClientHello.parse(message).extensions, Ext.pre_shared_key)
    assert body is not None
    offer = OfferedPsk.parse(body)
    assert (offer.obfuscated_age - ticket.age_add) % (1 << 32) > 0  # the clock did move
    truncated = message[: len(message) - (2 + 1 + SUITE.hash_len)]
    binder_key = KeySchedule13(SUITE.hash_name, ticket.psk).binder_key()
    digest = hashlib.sha256(truncated).digest()
    assert finished_verify_data(SUITE.hash_name, binder_key, digest) == offer.binder
