"""Hostile TLS 1.3 servers: the catalogue's cases (schannel_py.testing.attacks13), one test each.

The cases, with the status and alert each must get and why, are the package's
public catalogue; this file runs them and a few checks that are not cases.
"""

from __future__ import annotations

import pytest

import schannel_py as sc
from schannel_py.testing import attacks
from schannel_py.testing.attacks import Attack, Harness, credential, run_attack
from schannel_py.testing.attacks13 import ILLEGAL, established
from schannel_py.testing.builders import COMPAT_CCS, HT, Server13
from schannel_py.tls.alerts import AlertDescription as A
from schannel_py.tls.keyschedule import next_traffic_secret
from schannel_py.tls.messages import handshake_message
from schannel_py.tls.record import ALERT, APPLICATION_DATA, CHANGE_CIPHER_SPEC, HANDSHAKE

ATTACKS = attacks.cases("1.3")


@pytest.mark.parametrize("case", ATTACKS, ids=[a.name for a in ATTACKS])
def test_attack(case: Attack) -> None:
    manual = not getattr(case.run, "validate", False)
    run_attack(case, Server13(), Harness(cred=credential(manual=manual)))


def test_enough_attacks() -> None:
    assert len(ATTACKS) >= 50
    assert len({a.name for a in ATTACKS}) == len(ATTACKS)


def test_scripted_server_flight_is_valid_without_attack() -> None:
    """The builders alone make a handshake the client accepts, so every failure above is the
    attack's doing, and data flows both ways afterwards."""
    s, h = Server13(), Harness()
    s.read_client_hello(h.start())
    established(s, h)
    got, plain = h.decrypt(s.prot(b"hello", APPLICATION_DATA))
    assert got == [sc.SEC_E_OK] and plain == b"hello"
    assert h.encrypt_status() == sc.SEC_E_OK
    h.close()


def test_ticket_flood_does_not_grow_the_session_cache() -> None:
    """A NewSessionTicket flood must not grow what the SSPI layer keeps per connection."""
    from schannel_py.sspi import cache
    from schannel_py.sspi import context as X

    s, h = Server13(), Harness()
    try:
        s.read_client_hello(h.start())
        established(s, h)
        before = len(cache.CACHE)
        for i in range(50):
            body = (7200).to_bytes(4, "big") + i.to_bytes(4, "big") + b"\x01\x00"
            body += b"\x00\x04" + i.to_bytes(4, "big") + b"\x00\x00"
            h.decrypt(s.prot(handshake_message(HT.new_session_ticket, body)))
        ctx = X.CONTEXTS.get(h.ctx)
        assert ctx is not None
        grown = len(cache.CACHE) - before
        cache.CACHE.remove_sessions(ctx.cached)
        assert len(ctx.cached) <= ctx.client.config.max_tickets
        assert grown <= ctx.client.config.max_tickets
    finally:
        h.close()


def _bad_encrypted_flight(s: Server13, sh: bytes) -> bytes:
    """``sh`` then a protected Finished where EncryptedExtensions belongs."""
    return sh + s.prot(handshake_message(HT.finished, bytes(32)))


def test_encrypted_alert_follows_the_compatibility_ccs() -> None:
    """RFC 8446 D.4: the alert for a bad encrypted server flight is the client's first
    protected record, so the compatibility CCS goes out first, in the same ALERT output."""
    s, h = Server13(), Harness()
    try:
        s.read_client_hello(h.start())
        assert s.ch is not None and s.ch.session_id  # compatibility mode
        status, token = h.feed(_bad_encrypted_flight(s, s.sh_flight()))
        assert status == ILLEGAL and not token
        assert h.alert.startswith(COMPAT_CCS)
        rest = h.alert[len(COMPAT_CCS) :]
        assert rest[0] == APPLICATION_DATA
        assert s.open_alert(rest) == (2, A.unexpected_message)
    finally:
        h.close()


def test_no_second_ccs_before_the_alert_after_hrr() -> None:
    """After a HelloRetryRequest the CCS went out with the second ClientHello: the
    alert is then the protected record alone."""
    s, h = Server13(), Harness()
    try:
        s.read_client_hello(h.start())
        status, token = h.feed(s.plain(s.hello_retry_request(cookie=b"c")))
        assert status == sc.SEC_I_CONTINUE_NEEDED and token.startswith(COMPAT_CCS)
        s.read_client_hello(token)
        status, _ = h.feed(_bad_encrypted_flight(s, s.sh_flight()))
        assert status == ILLEGAL
        assert h.alert[0] == APPLICATION_DATA and CHANGE_CIPHER_SPEC not in h.alert[:1]
        assert s.open_alert(h.alert) == (2, A.unexpected_message)
    finally:
        h.close()


def test_plaintext_alert_has_no_ccs() -> None:
    """A failure before any keys (a bad ServerHello) sends a plaintext alert, no CCS."""
    s, h = Server13(), Harness()
    try:
        s.read_client_hello(h.start())
        status, _ = h.feed(s.plain(s.server_hello(suite=0x1304)))
        assert status == ILLEGAL and h.alert[0] == ALERT
        assert s.open_alert(h.alert) == (2, A.illegal_parameter)
    finally:
        h.close()


def test_key_updates_while_silent_get_one_answer() -> None:
    """Five KeyUpdates requesting ours, with no application data of ours between them, get a
    single KeyUpdate (RFC 8446 4.6.3; BoGo KeyUpdate-RequestACK); once the client has written
    under its new key, the next request is answered again."""
    s, h = Server13(), Harness(cred=credential())
    try:
        s.read_client_hello(h.start())
        established(s, h)
        ku = handshake_message(HT.key_update, b"\x01")
        answers: list[bytes] = []
        for _ in range(5):
            rec = s.prot(ku)
            s.key_update_write()
            h.token = b""
            assert h.decrypt(rec) == ([sc.SEC_I_RENEGOTIATE], b"")
            answers.append(h.token)
        assert [bool(a) for a in answers] == [True, False, False, False, False]
        assert s.client_ap is not None
        assert s.client_ap.open(answers[0]) == (
            HANDSHAKE,
            handshake_message(HT.key_update, b"\x00"),
        )
        c_ap = next_traffic_secret(s.suite.hash_name, s.c_ap)
        client = s._prot(c_ap)
        status, data = h.encrypt(b"one update")
        assert status == sc.SEC_E_OK
        assert client.open(data) == (APPLICATION_DATA, b"one update")
        # Data went out under the new key: a new request gets a new answer.
        rec = s.prot(ku)
        s.key_update_write()
        h.token = b""
        assert h.decrypt(rec) == ([sc.SEC_I_RENEGOTIATE], b"")
        assert client.open(h.token) == (HANDSHAKE, handshake_message(HT.key_update, b"\x00"))
    finally:
        h.close()
