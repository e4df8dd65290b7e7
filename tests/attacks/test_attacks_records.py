"""Hostile record layers: sizes, padding, versions, truncation, replay (TLS 1.3 server).

As in test_attacks_tls13.py, each attack's docstring records the alert RFC
8446 section 5 mandates and the status it maps to.  One project decision is
visible here: bytes that cannot start a TLS record at all (a content type
outside 20..23, a major version other than 3) are reported as
SEC_E_INVALID_TOKEN -- the input is not a TLS token -- while the alert sent is
still RFC 8446's (unexpected_message for the type, protocol_version for the
version).
"""

from __future__ import annotations

import struct

import pytest

import schannel_py as sc
from schannel_py.testing.attacks import Attack, Harness, registry, run_attack
from schannel_py.testing.builders import Server12, Server13, record
from schannel_py.tls.alerts import AlertDescription as A
from schannel_py.tls.messages import HandshakeType, handshake_message
from schannel_py.tls.record import (
    ALERT,
    APPLICATION_DATA,
    CHANGE_CIPHER_SPEC,
    HANDSHAKE,
    MAX_PLAINTEXT,
)

HT = HandshakeType
ATTACKS, attack = registry()
ILLEGAL = sc.SEC_E_ILLEGAL_MESSAGE


def raw_protected(length: int) -> bytes:
    return struct.pack(">BHH", APPLICATION_DATA, 0x0303, length) + bytes(length)


# --- sizes -----------------------------------------------------------------------------------


@attack(ILLEGAL, A.record_overflow)
def protected_record_over_limit(s: Server13, h: Harness) -> sc.SecStatus:
    """A protected record of 2^14 + 256 + 1 bytes: record_overflow (RFC 8446 5.2), which
    section 0.4 maps to SEC_E_ILLEGAL_MESSAGE."""
    return h.feed(s.sh_flight() + raw_protected(MAX_PLAINTEXT + 257))[0]


@attack(ILLEGAL, A.record_overflow)
def plaintext_record_over_limit(s: Server13, h: Harness) -> sc.SecStatus:
    """A plaintext handshake record of 2^14 + 1 bytes: record_overflow (5.1)."""
    return h.feed(record(HANDSHAKE, bytes(MAX_PLAINTEXT + 1)))[0]


@attack(ILLEGAL, A.record_overflow)
def record_length_beyond_any_version(s: Server13, h: Harness) -> sc.SecStatus:
    """A header announcing 2^14 + 2049 bytes (beyond even TLS 1.2's limit): record_overflow at
    once, from the header alone, without waiting for the body."""
    return h.feed(struct.pack(">BHH", HANDSHAKE, 0x0303, MAX_PLAINTEXT + 2049))[0]


@attack(ILLEGAL, A.record_overflow)
def inner_plaintext_over_limit(s: Server13, h: Harness) -> sc.SecStatus:
    """A protected record that authenticates but whose content is 2^14 + 1 bytes:
    record_overflow (5.4)."""
    return h.feed(s.sh_flight() + s.prot(bytes(MAX_PLAINTEXT + 1)))[0]


@attack(sc.SEC_E_OK, None)
def maximal_padding_accepted(s: Server13, h: Harness) -> sc.SecStatus:
    """Control: padding up to an inner plaintext of 2^14 + 1 bytes is legal (5.4); the
    handshake completes."""
    flight = s.sh_flight()
    ee = s.encrypted_extensions()
    flight += s.prot(ee, padding=MAX_PLAINTEXT - len(ee))
    flight += s.prot(s.auth_messages())
    return h.feed(flight)[0]


@attack(ILLEGAL, A.record_overflow)
def padding_over_the_inner_limit(s: Server13, h: Harness) -> sc.SecStatus:
    """Padding that takes the inner plaintext (content, type, zeros) to 2^14 + 2 bytes, the
    record still under the 2^14 + 256 ciphertext limit: "the full encoded TLSInnerPlaintext
    MUST NOT exceed 2^14 + 1 octets" (5.4), record_overflow (BoGo's
    LargePlaintext-TLS13-Padded-*)."""
    flight = s.sh_flight()
    ee = s.encrypted_extensions()
    return h.feed(flight + s.prot(ee, padding=MAX_PLAINTEXT + 1 - len(ee)))[0]


# --- fragments and padding -------------------------------------------------------------------


@attack(ILLEGAL, A.unexpected_message)
def zero_length_plaintext_handshake(s: Server13, h: Harness) -> sc.SecStatus:
    """A zero-length handshake fragment before the keys: 5.1 forbids sending them;
    unexpected_message."""
    return h.feed(record(HANDSHAKE, b""))[0]


@attack(ILLEGAL, A.unexpected_message)
def zero_length_protected_handshake(s: Server13, h: Harness) -> sc.SecStatus:
    """A protected zero-length handshake fragment: unexpected_message (5.1)."""
    return h.feed(s.sh_flight() + s.prot(b""))[0]


@attack(ILLEGAL, A.unexpected_message)
def all_zero_inner_plaintext(s: Server13, h: Harness) -> sc.SecStatus:
    """Bad padding: an inner plaintext of zeros only, so no content type: 5.4 mandates
    unexpected_message."""
    return h.feed(s.sh_flight() + s.prot(b"", ctype=0, padding=40))[0]


@attack(ILLEGAL, A.unexpected_message)
def unknown_inner_content_type(s: Server13, h: Harness) -> sc.SecStatus:
    """Inner content type 99: unexpected_message (5)."""
    return h.feed(s.sh_flight() + s.prot(b"x", ctype=99))[0]


@attack(sc.SEC_E_OK, None)
def one_byte_fragments_accepted(s: Server13, h: Harness) -> sc.SecStatus:
    """Control: the encrypted flight cut into one-byte handshake records is legal (5.1)."""
    flight = s.sh_flight()
    msgs = s.encrypted_extensions() + s.auth_messages()
    flight += b"".join(s.prot(msgs[i : i + 1]) for i in range(len(msgs)))
    return h.feed(flight)[0]


# --- authentication of records ---------------------------------------------------------------


@attack(sc.SEC_E_MESSAGE_ALTERED, A.bad_record_mac)
def protected_record_too_short(s: Server13, h: Harness) -> sc.SecStatus:
    """A protected record of 16 bytes, shorter than tag + content type: bad_record_mac."""
    return h.feed(s.sh_flight() + raw_protected(16))[0]


@attack(sc.SEC_E_MESSAGE_ALTERED, A.bad_record_mac)
def ciphertext_truncated(s: Server13, h: Harness) -> sc.SecStatus:
    """A protected record with its last byte cut (length adjusted): bad_record_mac (5.2)."""
    sh = s.sh_flight()
    rec = s.prot(s.encrypted_extensions())
    cut = struct.pack(">BHH", rec[0], 0x0303, len(rec) - 6) + rec[5:-1]
    return h.feed(sh + cut)[0]


@attack(sc.SEC_E_MESSAGE_ALTERED, A.bad_record_mac)
def record_version_in_aad(s: Server13, h: Harness) -> sc.SecStatus:
    """A protected record whose header version was rewritten to 0x0301: the header is the
    AEAD's additional data, so it no longer authenticates: bad_record_mac."""
    sh = s.sh_flight()
    rec = bytearray(s.prot(s.encrypted_extensions()))
    rec[2] = 0x01
    return h.feed(sh + bytes(rec))[0]


@attack(sc.SEC_E_MESSAGE_ALTERED, A.bad_record_mac)
def wrong_keys(s: Server13, h: Harness) -> sc.SecStatus:
    """The encrypted flight under the client's handshake secret instead of the server's:
    bad_record_mac."""
    sh = s.sh_flight()
    s.write = s._prot(s.c_hs)
    return h.feed(sh + s.prot(s.encrypted_extensions()))[0]


# --- versions and types ----------------------------------------------------------------------


@attack(sc.SEC_E_OK, None)
def legacy_record_version_ignored(s: Server13, h: Harness) -> sc.SecStatus:
    """Control: a plaintext ServerHello record with version 0x0301 and one with 0x0399 are
    fine, legacy_record_version "MUST be ignored for all purposes" (5.1)."""
    sh = s.server_hello()
    s.derive_handshake()
    flight = record(HANDSHAKE, sh[:10], 0x0301) + record(HANDSHAKE, sh[10:], 0x0399)
    flight += s.prot(s.encrypted_extensions() + s.auth_messages())
    return h.feed(flight)[0]


@attack(sc.SEC_E_INVALID_TOKEN, A.protocol_version)
def record_major_version_2(s: Server13, h: Harness) -> sc.SecStatus:
    """A record whose version major byte is 2 (SSL 2 style): not a TLS record; the project
    reports SEC_E_INVALID_TOKEN and sends protocol_version."""
    return h.feed(record(HANDSHAKE, s.server_hello(), 0x0200))[0]


@attack(sc.SEC_E_INVALID_TOKEN, A.unexpected_message)
def record_type_heartbeat(s: Server13, h: Harness) -> sc.SecStatus:
    """Content type 24 (heartbeat, never negotiated): RFC 8446 5 mandates unexpected_message;
    the status is SEC_E_INVALID_TOKEN (see module docstring)."""
    return h.feed(record(24, b"\x01\x00\x10" + bytes(16)))[0]


@attack(sc.SEC_E_INVALID_TOKEN, A.unexpected_message)
def record_type_after_handshake_records(s: Server13, h: Harness) -> sc.SecStatus:
    """A valid ServerHello record followed by a record of type 0: the first is consumed, the
    second cannot be a record; unexpected_message (RFC 8446 5), SEC_E_INVALID_TOKEN."""
    return h.feed(s.sh_flight() + b"\x00\x03\x03\x00\x01\x00")[0]


# --- truncation ------------------------------------------------------------------------------


@attack(sc.SEC_E_INCOMPLETE_MESSAGE, None)
def peer_stops_mid_record(s: Server13, h: Harness) -> sc.SecStatus:
    """Half a ServerHello record, then nothing: SEC_E_INCOMPLETE_MESSAGE with the exact
    number of missing bytes, no alert, no progress -- and the same answer when ISC is
    called again with the same bytes (the peer has stopped)."""
    rec = s.sh_flight()
    half = rec[: len(rec) // 2]
    status = h.feed(half)[0]
    assert h.missing == len(rec) - len(half)
    assert h.feed(half)[0] == status
    assert h.encrypt_status() != sc.SEC_E_OK
    return status


@attack(sc.SEC_E_INCOMPLETE_MESSAGE, None)
def peer_stops_mid_header(s: Server13, h: Harness) -> sc.SecStatus:
    """Three bytes of a record header: INCOMPLETE with two bytes missing."""
    status = h.feed(s.sh_flight()[:3])[0]
    assert h.missing == 2
    return status


@attack(sc.SEC_E_INCOMPLETE_MESSAGE, None)
def peer_stops_mid_encrypted_flight(s: Server13, h: Harness) -> sc.SecStatus:
    """ServerHello whole, the encrypted record cut: the ServerHello is consumed (EXTRA), then
    INCOMPLETE for the rest; the handshake is not complete."""
    flight = s.sh_flight()
    enc = s.prot(s.encrypted_extensions() + s.auth_messages())
    status = h.feed(flight + enc[:-7])[0]
    assert h.missing == 7
    return status


@attack(sc.SEC_E_OK, None)
def byte_by_byte_delivery(s: Server13, h: Harness) -> sc.SecStatus:
    """Control: the whole flight delivered one byte at a time (curl's loop) completes."""
    flight = s.full_flight()
    buf = b""
    status = sc.SEC_E_INCOMPLETE_MESSAGE
    for i in range(len(flight)):
        buf += flight[i : i + 1]
        status, _ = h.isc(buf)
        if status == sc.SEC_I_CONTINUE_NEEDED:
            buf = buf[len(buf) - h.extra :] if h.extra else b""
        elif status != sc.SEC_E_INCOMPLETE_MESSAGE:
            break
    return status


# --- after the handshake ---------------------------------------------------------------------


def established(s: Server13, h: Harness) -> None:
    assert h.feed(s.full_flight())[0] == sc.SEC_E_OK
    s.switch_to_application_keys()


@attack(sc.SEC_E_MESSAGE_ALTERED, A.bad_record_mac, via="decrypt")
def replayed_record(s: Server13, h: Harness) -> sc.SecStatus:
    """The same application-data record twice: the sequence number moved on, so the replay
    does not authenticate: bad_record_mac (replay detection, 5.3)."""
    established(s, h)
    rec = s.prot(b"once", APPLICATION_DATA)
    got, plain = h.decrypt(rec + rec)
    assert plain == b"once"
    return got[-1]


@attack(sc.SEC_E_MESSAGE_ALTERED, A.bad_record_mac, via="decrypt")
def reordered_records(s: Server13, h: Harness) -> sc.SecStatus:
    """Two application-data records swapped: bad_record_mac on the first, nothing released."""
    established(s, h)
    one = s.prot(b"one", APPLICATION_DATA)
    two = s.prot(b"two", APPLICATION_DATA)
    got, plain = h.decrypt(two + one)
    assert plain == b""
    return got[-1]


@attack(sc.SEC_E_OK, None, via="decrypt")
def empty_application_data_accepted(s: Server13, h: Harness) -> sc.SecStatus:
    """Control: a zero-length application-data record is legal (5.1) and yields no data."""
    established(s, h)
    got, plain = h.decrypt(s.prot(b"", APPLICATION_DATA) + s.prot(b"x", APPLICATION_DATA))
    assert plain == b"x"
    return got[-1]


@attack(sc.SEC_E_OK, None, via="decrypt")
def empty_records_up_to_the_limit_accepted(s: Server13, h: Harness) -> sc.SecStatus:
    """Control: 32 empty application-data records in a row, then data, twice (the count
    starts again after a record with content): legal, as BoringSSL allows."""
    established(s, h)
    got: list[sc.SecStatus] = []
    plain = b""
    for data in (b"x", b"y"):
        flood = b"".join(s.prot(b"", APPLICATION_DATA) for _ in range(32))
        statuses, out = h.decrypt(flood + s.prot(data, APPLICATION_DATA))
        got += statuses
        plain += out
    assert plain == b"xy" and len(got) == 66
    return got[-1]


@attack(ILLEGAL, A.unexpected_message, via="decrypt")
def empty_record_flood(s: Server13, h: Harness) -> sc.SecStatus:
    """33 empty application-data records in a row: a peer that sends nothing but records is
    stopped (BoringSSL's limit of 32, TOO_MANY_EMPTY_FRAGMENTS; BoGo SendEmptyRecords)."""
    established(s, h)
    got, plain = h.decrypt(b"".join(s.prot(b"", APPLICATION_DATA) for _ in range(33)))
    assert plain == b""
    return got[-1]


@attack(sc.SEC_E_OK, None)
def compat_ccs_up_to_the_limit_accepted(s: Server13, h: Harness) -> sc.SecStatus:
    """Control: 32 compatibility CCS records before the encrypted flight are tolerated."""
    flight = s.sh_flight()
    flight += record(CHANGE_CIPHER_SPEC, b"\x01") * 32
    return h.feed(flight + s.prot(s.encrypted_extensions() + s.auth_messages()))[0]


@attack(ILLEGAL, A.unexpected_message)
def compat_ccs_flood(s: Server13, h: Harness) -> sc.SecStatus:
    """33 TLS 1.3 CCS records in a row: each carries nothing, so they count as empty records
    (BoringSSL: TOO_MANY_EMPTY_FRAGMENTS; BoGo TooManyChangeCipherSpec-Client-TLS13)."""
    return h.feed(s.sh_flight() + record(CHANGE_CIPHER_SPEC, b"\x01") * 33)[0]


@attack(ILLEGAL, A.unexpected_message, via="decrypt")
def plaintext_alert_after_keys(s: Server13, h: Harness) -> sc.SecStatus:
    """An unprotected alert record after the handshake: every record is protected now (5.2);
    unexpected_message."""
    established(s, h)
    return h.decrypt(record(ALERT, b"\x02\x28"))[0][-1]


@attack(ILLEGAL, A.unexpected_message)
def tls12_zero_length_handshake(s: Server13, h: Harness) -> sc.SecStatus:
    """TLS 1.2 too: a zero-length handshake fragment after the ServerHello is
    unexpected_message (RFC 5246 6.2.1 forbids them)."""
    s12 = Server12()
    s12.ch = s.ch
    s12.transcript = s.transcript
    return h.feed(record(HANDSHAKE, s12.server_hello()) + record(HANDSHAKE, b""))[0]


@pytest.mark.parametrize("case", ATTACKS, ids=[a.name for a in ATTACKS])
def test_attack(case: Attack) -> None:
    run_attack(case, Server13(), Harness())


def test_close_notify_then_data() -> None:
    """After the peer's close_notify DecryptMessage says SEC_I_CONTEXT_EXPIRED, and any record
    after it is refused (SEC_E_CONTEXT_EXPIRED) without releasing plaintext."""
    s, h = Server13(), Harness()
    s.read_client_hello(h.start())
    established(s, h)
    got, plain = h.decrypt(s.prot(b"\x01\x00", ALERT))
    assert got == [sc.SEC_I_CONTEXT_EXPIRED]
    got, plain = h.decrypt(s.prot(b"late", APPLICATION_DATA))
    assert got == [sc.SEC_E_CONTEXT_EXPIRED] and plain == b""
    h.close()


def test_key_update_at_record_end_then_data() -> None:
    """A KeyUpdate alone in its record, then data under the new keys: both accepted."""
    s, h = Server13(), Harness()
    s.read_client_hello(h.start())
    established(s, h)
    ku = s.prot(handshake_message(HT.key_update, b"\x00"))
    s.key_update_write()
    got, plain = h.decrypt(ku + s.prot(b"after", APPLICATION_DATA))
    assert got == [sc.SEC_I_RENEGOTIATE, sc.SEC_E_OK] and plain == b"after"
    h.close()
