"""Replaying RFC 8448's traces through the real TLSClient, shared by the replay and
key-schedule tests (tests/vectors/): the RFC's randomness (:class:`RandomPool`), its
ClientHello(s) substituted for ours, and :func:`handshake` up to the client's Finished;
:func:`section3_ticket` is the client's own ticket from section 3, for section 4."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from schannel_py.tls.client import ClientConfig, ClientCredential, TLSClient
from schannel_py.tls.events import (
    Event,
    HandshakeComplete,
    Ignored,
    TicketReceived,
)
from schannel_py.tls.groups import X25519
from schannel_py.tls.messages import (
    ClientHello,
    Ext,
    find_ext,
    parse_key_share_client,
)
from schannel_py.tls.record import frame
from schannel_py.tls.session import Ticket13
from schannel_py.tls.sigalgs import RSA_PSS_RSAE_SHA256
from tests.support.vectors import rfc8448, rfc8448_pem

SIMPLE = "Simple_1RTT_Handshake"
HRR = "HelloRetryRequest_Handshake"
CLIENT_AUTH = "Client_Authentication_Handshake"
MIDDLEBOX = "Middlebox_Compatibility_Mode"
Section = dict[str, bytes | int | str]


def b(sec: Section, key: str) -> bytes:
    value = sec[key]
    assert isinstance(value, bytes), key
    return value


def split_records(data: bytes) -> list[bytes]:
    """Concatenated records -> list of records, using the core's own framing."""
    out: list[bytes] = []
    off = 0
    while off < len(data):
        n = frame(data, off)
        assert n > 0, "incomplete record in the vector"
        out.append(data[off : off + n])
        off += n
    return out


class RandomPool:
    """Serves the bytes of ``Client_RNG_Pool`` in order; over-drawing fails the test."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.draws: list[int] = []

    def __call__(self, n: int) -> bytes:
        assert self.pos + n <= len(self.data), (
            f"client drew {n} bytes with only {len(self.data) - self.pos} left in the pool"
        )
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        self.draws.append(n)
        return out

    @property
    def exhausted(self) -> bool:
        return self.pos == len(self.data)


def feed(client: TLSClient, sec: Section, key: str) -> list[Event]:
    """Hand the client the records of the section's value ``key``; their events."""
    events: list[Event] = []
    for rec in split_records(b(sec, key)):
        events.extend(client.receive_record(rec))
    return events


def client_cert_der() -> bytes:
    pem = rfc8448_pem("client_certificate.pem").encode()
    return x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)


@dataclass
class Replay:
    section: str
    sec: Section
    pool: RandomPool
    client: TLSClient
    hellos: list[tuple[ClientHello, ClientHello]] = field(default_factory=list)
    signed: list[tuple[int, bytes]] = field(default_factory=list)

    def feed(self, key: str) -> list[Event]:
        return feed(self.client, self.sec, key)


def start(section: str) -> Replay:
    """A client for ``section`` with the RFC's randomness, ClientHello(s) and credential."""
    sec = rfc8448(section)
    pool = RandomPool(b(sec, "Client_RNG_Pool"))
    rfc_hellos = [ClientHello.parse(b(sec, "Message_ClientHello_1"))]
    if "Message_ClientHello_2" in sec:
        rfc_hellos.append(ClientHello.parse(b(sec, "Message_ClientHello_2")))
    replay: Replay

    def substitute(ours: ClientHello) -> ClientHello:
        n = len(replay.hellos)
        assert n < len(rfc_hellos), "client sent more ClientHellos than the RFC"
        theirs = rfc_hellos[n]
        # Our key generation from the injected randomness must give the RFC's shares.
        our_ks = find_ext(ours.extensions, Ext.key_share)
        rfc_ks = find_ext(theirs.extensions, Ext.key_share)
        assert our_ks is not None and rfc_ks is not None
        rfc_shares = dict(parse_key_share_client(rfc_ks))
        our_shares = parse_key_share_client(our_ks)
        assert our_shares
        for group, public in our_shares:
            assert rfc_shares.get(group) == public, f"key share for group {group:#06x}"
        assert ours.random == theirs.random
        assert ours.session_id == theirs.session_id
        replay.hellos.append((ours, theirs))
        return theirs

    credential = None
    if section == CLIENT_AUTH:

        def sign(scheme: int, to_be_signed: bytes) -> bytes:
            replay.signed.append((scheme, to_be_signed))
            assert scheme == RSA_PSS_RSAE_SHA256
            assert to_be_signed == b(sec, "Client_MessageToSign")
            return b(sec, "Client_MessageSignature")

        credential = ClientCredential(
            chain=[client_cert_der()], schemes=(RSA_PSS_RSAE_SHA256,), sign=sign
        )

    config = ClientConfig(
        middlebox_compat=section == MIDDLEBOX,
        key_share_groups=(X25519,),
        verify_certificate=None,
        client_credential=credential,
        customize_client_hello=substitute,
    )
    timestamp = sec["CurrentTimestamp"]
    assert isinstance(timestamp, int)
    client = TLSClient(config, random=pool, now=lambda: timestamp / 1000)
    replay = Replay(section, sec, pool, client)
    client.start()
    return replay


def handshake(section: str) -> tuple[Replay, bytes]:
    """Run ``section`` up to and including the client's Finished flight."""
    r = start(section)
    assert r.client.data_to_send() == b(r.sec, "Record_ClientHello_1")
    if "Record_HelloRetryRequest" in r.sec:
        assert r.feed("Record_HelloRetryRequest") == []
        assert r.client.data_to_send() == b(r.sec, "Record_ClientHello_2")
    assert r.feed("Record_ServerHello") == []
    assert r.client.data_to_send() == b""
    events = r.feed("Record_ServerHandshakeMessages")
    assert events[-1] == HandshakeComplete()
    assert all(e == Ignored() for e in events[:-1])
    return r, r.client.data_to_send()


def section3_ticket() -> Ticket13:
    """Replay section 3 through its NewSessionTicket; the client's own ticket."""
    r, _ = handshake(SIMPLE)
    assert r.client.receive_record(b(r.sec, "Record_NewSessionTicket")) == [TicketReceived()]
    assert len(r.client.tickets) == 1
    return r.client.tickets[0]
