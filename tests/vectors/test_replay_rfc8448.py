"""Byte-for-byte replays of the RFC 8448 traces through the real :class:`TLSClient`.

The client draws all its randomness from the section's ``Client_RNG_Pool``.
The RFC ClientHello carries extensions our client never sends (record_size_limit,
ffdhe groups, ...), so ``customize_client_hello`` substitutes the RFC's exact
ClientHello. It first checks that the random, the session id and the key_share
our client generated from the injected randomness are the RFC's. The server records
are then fed one at a time. Every client output (Finished flight, application data,
close_notify) must equal the RFC record bytes, and every decrypted server message
must equal the RFC's ``Message_*`` value.

Certificate validation is off (the RFC certificates are RSA-1024 and expired),
but the core still checks the server's CertificateVerify signature and Finished MAC.

``Resumed_0RTT_Handshake`` (section 4) is replayed in
``test_replay_rfc8448_resumption`` (PSK resumption; the client sends no early data).

Key schedule: RFC 8448 prints the intermediate secrets, but they are not in
``vectors/rfc8448.json``. Every record we produce or decrypt matching the RFC
proves the traffic secrets indirectly. The resumption PSK is checked directly
against Botan's ``Client_SessionData`` (see ``test_new_session_ticket``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest

from schannel_py.tls.alerts import AlertDescription, TLSError
from schannel_py.tls.events import (
    ApplicationData,
    CloseNotify,
    TicketReceived,
)
from schannel_py.tls.groups import SECP256R1, X25519
from schannel_py.tls.keyschedule import traffic_keys
from schannel_py.tls.messages import (
    CertificateVerify,
    Ext,
    HandshakeType,
    ServerHello,
    certificate_verify_input,
    find_ext,
    handshake_message,
    parse_key_share_client,
)
from schannel_py.tls.record import HANDSHAKE, Protection13
from schannel_py.tls.sigalgs import RSA_PSS_RSAE_SHA256
from schannel_py.tls.suites import SUITES, TLS_AES_128_GCM_SHA256
from tests.support.rfc8448_replay import (
    CLIENT_AUTH,
    HRR,
    MIDDLEBOX,
    SIMPLE,
    b,
    handshake,
    split_records,
    start,
)
from tests.support.vectors import rfc8448

REPLAYED = (SIMPLE, HRR, CLIENT_AUTH, MIDDLEBOX)

HT = HandshakeType

# The decrypted server handshake messages of each section, in order.
SERVER_FLIGHT = {
    SIMPLE: (
        "Message_EncryptedExtensions",
        "Message_Server_Certificate",
        "Message_Server_CertificateVerify",
        "Message_Server_Finished",
    ),
    HRR: (
        "Message_EncryptedExtensions",
        "Message_Server_Certificate",
        "Message_Server_CertificateVerify",
        "Message_Server_Finished",
    ),
    CLIENT_AUTH: (
        "Message_EncryptedExtensions",
        "Message_CertificateRequest",
        "Message_Server_Certificate",
        "Message_Server_CertificateVerify",
        "Message_Server_Finished",
    ),
    MIDDLEBOX: (
        "Message_EncryptedExtensions",
        "Message_Server_Certificate",
        "Message_Server_CertificateVerify",
        "Message_Server_Finished",
    ),
}


def rfc_server_records(section: str) -> list[bytes]:
    """The server's records up to its Finished, in wire order."""
    sec = rfc8448(section)
    keys = ["Record_HelloRetryRequest"] if "Record_HelloRetryRequest" in sec else []
    keys += ["Record_ServerHello", "Record_ServerHandshakeMessages"]
    return [rec for key in keys for rec in split_records(b(sec, key))]


# --- the full replays ---------------------------------------------------------


@pytest.mark.parametrize("section", REPLAYED)
def test_client_hello(section: str) -> None:
    r = start(section)
    sent = r.client.data_to_send()
    assert sent == b(r.sec, "Record_ClientHello_1")
    assert len(r.hellos) == 1
    ours, _ = r.hellos[0]
    assert ours.random == b(r.sec, "Client_Random")
    expected_draws = [32, 32, 32] if section == MIDDLEBOX else [32, 32]
    assert r.pool.draws == expected_draws
    if section == MIDDLEBOX:
        assert ours.session_id == b(r.sec, "Client_SessionId")
    else:
        assert ours.session_id == b""


@pytest.mark.parametrize("section", REPLAYED)
def test_handshake_flight(section: str) -> None:
    r, flight = handshake(section)
    sec = r.sec
    assert flight == b(sec, "Record_ClientFinished")
    if section == MIDDLEBOX:
        # The compatibility CCS comes first, then the encrypted Finished.
        assert split_records(flight) == [
            b(sec, "Record_ClientFinished_Part1"),
            b(sec, "Record_ClientFinished_Part2"),
        ]
        assert flight.startswith(b"\x14\x03\x03\x00\x01\x01")
    assert r.pool.exhausted, "the client must use all of the RFC's randomness"
    assert r.client.handshake_complete


@pytest.mark.parametrize("section", REPLAYED)
def test_decrypted_server_messages(section: str) -> None:
    r, _ = handshake(section)
    sec = r.sec
    incoming = [m for d, _, m in r.client.message_log if d == "in"]
    expected = []
    if section == HRR:
        expected.append(b(sec, "Message_HelloRetryRequest"))
    expected.append(b(sec, "Message_ServerHello"))
    expected += [b(sec, k) for k in SERVER_FLIGHT[section]]
    assert incoming == expected


@pytest.mark.parametrize("section", REPLAYED)
def test_outgoing_messages(section: str) -> None:
    r, _ = handshake(section)
    sec = r.sec
    out = [(t, m) for d, t, m in r.client.message_log if d == "out"]
    hellos = [m for t, m in out if t == HT.client_hello]
    expected_hellos = [b(sec, "Message_ClientHello_1")]
    if section == HRR:
        expected_hellos.append(b(sec, "Message_ClientHello_2"))
    assert hellos == expected_hellos
    types = [t for t, _ in out]
    if section == CLIENT_AUTH:
        assert types[-3:] == [HT.certificate, HT.certificate_verify, HT.finished]
        cv = CertificateVerify.parse(out[-2][1][4:])
        assert cv.scheme == RSA_PSS_RSAE_SHA256
        assert cv.signature == b(sec, "Client_MessageSignature")
        assert r.signed == [(RSA_PSS_RSAE_SHA256, b(sec, "Client_MessageToSign"))]
        assert r.client.client_certificate_sent
        assert r.client.certificate_requested
    else:
        assert types[-1] == HT.finished
        assert HT.certificate not in types


@pytest.mark.parametrize("section", REPLAYED)
def test_server_transcript_to_sign(section: str) -> None:
    """The logged messages hash to the transcript the server signed (Botan's
    ``Server_MessageToSign``). For HRR this includes RFC 8446 section 4.4.1's
    message_hash substitution of ClientHello1."""
    r, _ = handshake(section)
    log = [m for _, _, m in r.client.message_log]
    upto_cert = log[: log.index(b(r.sec, "Message_Server_Certificate")) + 1]
    if section == HRR:
        ch1 = b(r.sec, "Message_ClientHello_1")
        assert upto_cert[0] == ch1
        upto_cert[0] = handshake_message(HT.message_hash, hashlib.sha256(ch1).digest())
    digest = hashlib.sha256(b"".join(upto_cert)).digest()
    assert certificate_verify_input(digest, server=True) == b(r.sec, "Server_MessageToSign")
    cv = CertificateVerify.parse(b(r.sec, "Message_Server_CertificateVerify")[4:])
    assert cv.signature == b(r.sec, "Server_MessageSignature")
    assert r.client.peer_signature_scheme == cv.scheme


@pytest.mark.parametrize("section", REPLAYED)
def test_negotiated_parameters(section: str) -> None:
    r, _ = handshake(section)
    c = r.client
    assert c.version == 0x0304
    assert c.suite is not None and c.suite.code == TLS_AES_128_GCM_SHA256
    assert c.group == (SECP256R1 if section == HRR else X25519)
    assert c.peer_chain[0] == b(r.sec, "Server_Certificate_DER")
    assert c.client_random == b(r.sec, "Client_Random")
    assert c.server_random == b(r.sec, "Message_ServerHello")[6:38]
    assert c.alpn is None


def test_hello_retry_request() -> None:
    r = start(HRR)
    assert r.client.data_to_send() == b(r.sec, "Record_ClientHello_1")
    assert r.pool.draws == [32, 32]
    assert r.feed("Record_HelloRetryRequest") == []
    # The second ClientHello carries a fresh P-256 share from the pool and the cookie.
    assert r.client.data_to_send() == b(r.sec, "Record_ClientHello_2")
    assert r.pool.draws == [32, 32, 32]
    assert r.pool.exhausted
    ours, theirs = r.hellos[1]
    ks = find_ext(ours.extensions, Ext.key_share)
    assert ks is not None
    assert [g for g, _ in parse_key_share_client(ks)] == [SECP256R1]
    # The cookie the client echoed (opaque cookie<1..2^16-1>) is the server's.
    cookie = find_ext(ours.extensions, Ext.cookie)
    assert cookie is not None
    assert cookie == find_ext(theirs.extensions, Ext.cookie)
    expected = b(r.sec, "HelloRetryRequest_Cookie")
    assert cookie == len(expected).to_bytes(2, "big") + expected
    hrr = ServerHello.parse(b(r.sec, "Message_HelloRetryRequest")[4:])
    assert find_ext(hrr.extensions, Ext.cookie) == cookie


@pytest.mark.parametrize("section", REPLAYED)
def test_application_data_and_close_notify(section: str) -> None:
    r, _ = handshake(section)
    if "Record_NewSessionTicket" in r.sec:
        # Sent before the application data: it takes the server's sequence number 0.
        assert r.client.receive_record(b(r.sec, "Record_NewSessionTicket")) == [TicketReceived()]
    if "Record_Client_AppData" in r.sec:
        r.client.send_application_data(b(r.sec, "Client_AppData"))
        assert r.client.data_to_send() == b(r.sec, "Record_Client_AppData")
        events = r.client.receive_record(b(r.sec, "Record_Server_AppData"))
        assert events == [ApplicationData(b(r.sec, "Server_AppData"))]
    assert r.client.close() == b(r.sec, "Record_Client_CloseNotify")
    assert r.client.receive_record(b(r.sec, "Record_Server_CloseNotify")) == [CloseNotify()]
    assert r.client.peer_closed and r.client.local_closed


def test_new_session_ticket() -> None:
    r, _ = handshake(SIMPLE)
    assert r.client.receive_record(b(r.sec, "Record_NewSessionTicket")) == [TicketReceived()]
    nst = r.client.message_log[-1]
    assert nst[:2] == ("in", HT.new_session_ticket)
    assert len(r.client.tickets) == 1
    ticket = r.client.tickets[0]
    assert ticket.ticket == b(r.sec, "SessionTicket")
    assert ticket.suite == TLS_AES_128_GCM_SHA256
    assert ticket.lifetime == int.from_bytes(nst[2][4:8], "big")
    assert ticket.age_add == int.from_bytes(nst[2][8:12], "big")
    assert ticket.nonce == b"\x00\x00"
    timestamp = r.sec["CurrentTimestamp"]
    assert isinstance(timestamp, int)
    assert ticket.received_at == timestamp / 1000
    # Botan's serialized client session stores the resumption PSK as a DER
    # OCTET STRING: finding it there checks res_master and the "resumption"
    # derivation against independent data.
    assert b"\x04\x20" + ticket.psk in b(r.sec, "Client_SessionData")


# --- negative replays ------------------------------------------------------------


def flip(record: bytes, index: int) -> bytes:
    out = bytearray(record)
    out[index] ^= 0x01
    return bytes(out)


def replay_until_failure(section: str, tamper: Callable[[list[bytes]], list[bytes]]) -> TLSError:
    r = start(section)
    r.client.data_to_send()
    records = tamper(rfc_server_records(section))
    with pytest.raises(TLSError) as info:
        for rec in records:
            r.client.receive_record(rec)
            r.client.data_to_send()
    assert r.client.failed
    assert not r.client.handshake_complete
    # The connection is dead afterwards.
    with pytest.raises(TLSError):
        r.client.receive_record(records[-1])
    err = info.value
    assert not err.remote
    # The alert goes out under the handshake keys (they exist from ServerHello on).
    assert r.client.write_protection is not None
    assert r.client.alert_record(err.description)[:3] == b"\x17\x03\x03"
    return err


@pytest.mark.parametrize("index", [5, 100, -17, -1])
def test_tampered_encrypted_flight_is_bad_record_mac(index: int) -> None:
    """One flipped bit anywhere in the encrypted server flight (ciphertext or tag)."""

    def tamper(records: list[bytes]) -> list[bytes]:
        return records[:-1] + [flip(records[-1], index)]

    err = replay_until_failure(SIMPLE, tamper)
    assert err.description == AlertDescription.bad_record_mac


def test_tampered_record_header_is_bad_record_mac() -> None:
    """The record header is the AEAD's additional data."""

    def tamper(records: list[bytes]) -> list[bytes]:
        rec = records[-1]
        return records[:-1] + [rec[:2] + b"\x01" + rec[3:]]

    err = replay_until_failure(SIMPLE, tamper)
    assert err.description == AlertDescription.bad_record_mac


def test_tampered_server_hello_breaks_the_keys() -> None:
    """A changed ServerHello random changes the transcript, so the handshake keys."""

    def tamper(records: list[bytes]) -> list[bytes]:
        return [flip(records[0], 5 + 4 + 2 + 7)] + records[1:]

    err = replay_until_failure(SIMPLE, tamper)
    assert err.description == AlertDescription.bad_record_mac


def reseal_server_flight(
    section: str, edit: Callable[[bytes], bytes]
) -> Callable[[list[bytes]], list[bytes]]:
    """Decrypt the encrypted server flight with the real server handshake keys,
    edit its plaintext, and encrypt it again, so that only the edit is wrong."""
    r, _ = handshake(section)
    secret = r.client.secrets["server_handshake_traffic_secret"]
    suite = SUITES[TLS_AES_128_GCM_SHA256]

    def tamper(records: list[bytes]) -> list[bytes]:
        key, iv = traffic_keys(suite.hash_name, secret, suite.key_len)
        ctype, plain = Protection13(suite, secret, key, iv).open(records[-1])
        assert ctype == HANDSHAKE
        edited = edit(plain)
        assert edited != plain and len(edited) == len(plain)
        return records[:-1] + [Protection13(suite, secret, key, iv).seal(HANDSHAKE, edited)]

    return tamper


def test_resealed_flight_is_accepted_unchanged() -> None:
    """Control for the two tests below: re-encrypting without an edit still works."""
    r, _ = handshake(SIMPLE)
    secret = r.client.secrets["server_handshake_traffic_secret"]
    suite = SUITES[TLS_AES_128_GCM_SHA256]
    key, iv = traffic_keys(suite.hash_name, secret, suite.key_len)
    records = rfc_server_records(SIMPLE)
    ctype, plain = Protection13(suite, secret, key, iv).open(records[-1])
    assert Protection13(suite, secret, key, iv).seal(ctype, plain) == records[-1]


def test_tampered_server_finished_is_decrypt_error() -> None:
    def edit(plain: bytes) -> bytes:
        return flip(plain, len(plain) - 1)  # last byte of the Finished verify_data

    err = replay_until_failure(SIMPLE, reseal_server_flight(SIMPLE, edit))
    assert err.description == AlertDescription.decrypt_error


def test_tampered_certificate_verify_is_decrypt_error() -> None:
    """CertificateVerify signatures are checked even with certificate validation off."""
    sec = rfc8448(SIMPLE)
    signature = b(sec, "Server_MessageSignature")

    def edit(plain: bytes) -> bytes:
        at = plain.index(signature)
        return flip(plain, at + 10)

    err = replay_until_failure(SIMPLE, reseal_server_flight(SIMPLE, edit))
    assert err.description == AlertDescription.decrypt_error
