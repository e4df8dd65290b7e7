"""The TLS 1.2 attack catalogue (ECDHE-ECDSA-AES128-GCM): exact SSPI status and alert per attack.

List and run the cases through :mod:`schannel_py.testing.attacks`.

The client offers TLS 1.3 and 1.2 (SCH_CREDENTIALS defaults); the hostile
server answers with TLS 1.2.  Alerts sent before the client's
ChangeCipherSpec are plaintext; after it they are protected under the
client's write keys, which the server derived from the ClientKeyExchange and
uses to open them.  Expected alerts follow RFC 5246 (and RFC 5746 for
renegotiation, RFC 7627 for extended master secret, RFC 8422 for ECC); the
statuses follow ``sspi/errors.py`` (section 0.4, with a locally detected
handshake_failure reported as SEC_E_ALGORITHM_MISMATCH).
"""

from __future__ import annotations

from typing import Any

import schannel_py as sc
from schannel_py.sspi import cache
from schannel_py.sspi import context as X
from schannel_py.tls.alerts import AlertDescription as A
from schannel_py.tls.groups import SECP256R1, X25519
from schannel_py.tls.messages import Ext, HandshakeType, handshake_message
from schannel_py.tls.record import (
    ALERT,
    APPLICATION_DATA,
    CHANGE_CIPHER_SPEC,
    HANDSHAKE,
    plaintext_records,
)
from schannel_py.tls.sigalgs import RSA_PSS_RSAE_SHA256

from .attacks import Harness, finish12, registry, to_client_flight12
from .builders import Server12, identity, record
from .pki import KEY_AGREEMENT_ONLY, make_self_signed

__all__ = ["ATTACKS"]

HT = HandshakeType
ATTACKS, attack = registry("1.2")
ILLEGAL = sc.SEC_E_ILLEGAL_MESSAGE


def sh_only(s: Server12, h: Harness, **kw: object) -> sc.SecStatus:
    return h.feed(record(HANDSHAKE, s.server_hello(**kw)))[0]  # type: ignore[arg-type]


# --- ServerHello -----------------------------------------------------------------------------


@attack(ILLEGAL, A.illegal_parameter)
def sh12_unoffered_suite(s: Server12, h: Harness) -> sc.SecStatus:
    """TLS_RSA_WITH_AES_128_GCM_SHA256 (static RSA), never offered: illegal_parameter
    (RFC 5246 7.4.1.3)."""
    return sh_only(s, h, suite=0x009C)


@attack(ILLEGAL, A.illegal_parameter)
def sh12_tls13_suite(s: Server12, h: Harness) -> sc.SecStatus:
    """TLS_AES_128_GCM_SHA256 (offered for 1.3) in a TLS 1.2 ServerHello: illegal_parameter."""
    return sh_only(s, h, suite=0x1301)


@attack(ILLEGAL, A.illegal_parameter)
def sh12_compression(s: Server12, h: Harness) -> sc.SecStatus:
    """Compression method 1 (DEFLATE), never offered: illegal_parameter (7.4.1.3)."""
    return sh_only(s, h, compression=1)


@attack(sc.SEC_E_UNSUPPORTED_FUNCTION, A.protocol_version)
def sh12_ssl3(s: Server12, h: Harness) -> sc.SecStatus:
    """The server picks SSL 3.0: protocol_version (RFC 7568), SEC_E_UNSUPPORTED_FUNCTION."""
    return sh_only(s, h, legacy_version=0x0300)


@attack(ILLEGAL, A.unsupported_extension)
def sh12_unsolicited_extension(s: Server12, h: Harness) -> sc.SecStatus:
    """status_request, never requested: unsupported_extension (7.4.1.4)."""
    return sh_only(s, h, extra=[(Ext.status_request, b"")])


@attack(ILLEGAL, A.unsupported_extension)
def sh12_tls13_only_extension(s: Server12, h: Harness) -> sc.SecStatus:
    """key_share (offered, but meaningless in TLS 1.2) in a TLS 1.2 ServerHello:
    unsupported_extension (7.4.1.4: not requested for this version)."""
    return sh_only(s, h, extra=[(Ext.key_share, b"\x00\x1d")])


@attack(ILLEGAL, A.unsupported_extension)
def sh12_unoffered_alpn(s: Server12, h: Harness) -> sc.SecStatus:
    """ALPN selected although none was offered: unsupported_extension (RFC 7301 3.1 / 5246)."""
    return sh_only(s, h, extra=[(Ext.alpn, b"\x00\x03\x02h2")])


@attack(ILLEGAL, A.illegal_parameter)
def sh12_echoes_compatibility_session_id(s: Server12, h: Harness) -> sc.SecStatus:
    """The TLS 1.3 compatibility-mode session ID (random, resuming nothing) echoed in a full
    TLS 1.2 handshake: a resumption the client never offered, illegal_parameter (BoGo
    EchoTLS13CompatibilitySessionID)."""
    assert s.ch is not None and len(s.ch.session_id) == 32
    return sh_only(s, h, session_id=s.ch.session_id)


@attack(ILLEGAL, A.unexpected_message)
def shd12_followed_by_partial_message(s: Server12, h: Harness) -> sc.SecStatus:
    """The first byte of a NewSessionTicket after ServerHelloDone in its record: the server
    spoke before the client's flight, unexpected_message (BoGo
    PartialNewSessionTicketWithServerHelloDone)."""
    return h.feed(_shd_then(s, b"\x04"))[0]


@attack(ILLEGAL, A.unexpected_message)
def shd12_followed_by_message(s: Server12, h: Harness) -> sc.SecStatus:
    """A whole NewSessionTicket after ServerHelloDone in its record, before the client's flight
    could have arrived: unexpected_message."""
    nst = handshake_message(HandshakeType.new_session_ticket, bytes(4) + b"\x00\x01x")
    return h.feed(_shd_then(s, nst))[0]


def _shd_then(s: Server12, extra: bytes) -> bytes:
    msgs = s.server_hello() + s.certificate() + s.server_key_exchange() + s.server_hello_done()
    return record(HANDSHAKE, msgs + extra)


@attack(ILLEGAL, A.decode_error)
def sh12_duplicate_extension(s: Server12, h: Harness) -> sc.SecStatus:
    """extended_master_secret twice (7.4.1.4: at most one of each type): decode_error."""
    return sh_only(s, h, extra=[(Ext.extended_master_secret, b"")])


@attack(sc.SEC_E_ALGORITHM_MISMATCH, A.handshake_failure)
def sh12_missing_renegotiation_info(s: Server12, h: Harness) -> sc.SecStatus:
    """No renegotiation_info: the server does not support secure renegotiation; the client
    refuses such servers with handshake_failure (RFC 5746 4.1).  A locally detected
    handshake_failure is SEC_E_ALGORITHM_MISMATCH in sspi/errors.py."""
    return sh_only(s, h, reneg=None)


@attack(sc.SEC_E_ALGORITHM_MISMATCH, A.handshake_failure)
def sh12_nonempty_renegotiation_info(s: Server12, h: Harness) -> sc.SecStatus:
    """renegotiation_info with a non-empty renegotiated_connection on the initial handshake:
    RFC 5746 3.4 mandates handshake_failure."""
    return sh_only(s, h, reneg=b"\x0c" + bytes(12))


@attack(ILLEGAL, A.decode_error)
def sh12_extended_master_secret_with_body(s: Server12, h: Harness) -> sc.SecStatus:
    """extended_master_secret must be empty (RFC 7627 5.1): decode_error."""
    return sh_only(s, h, ems=False, extra=[(Ext.extended_master_secret, b"\x00")])


@attack(ILLEGAL, A.illegal_parameter)
def sh12_point_formats_without_uncompressed(s: Server12, h: Harness) -> sc.SecStatus:
    """ec_point_formats without "uncompressed": RFC 8422 5.2 requires it, illegal_parameter."""
    return sh_only(s, h, extra=[(Ext.ec_point_formats, b"\x01\x01")])


@attack(ILLEGAL, A.unexpected_message)
def sh12_hello_retry_random(s: Server12, h: Harness) -> sc.SecStatus:
    """A TLS 1.2 ServerHello carrying the HelloRetryRequest random: there is no HRR in TLS 1.2,
    unexpected_message."""
    from schannel_py.tls.messages import HRR_RANDOM

    return sh_only(s, h, random=HRR_RANDOM)


@attack(sc.SEC_E_OK, None)
def sh12_supported_groups_tolerated(s: Server12, h: Harness) -> sc.SecStatus:
    """supported_groups echoed in a TLS 1.2 ServerHello: not defined there, but the client
    offered it (so 7.4.1.4 allows it) and servers send it; ignored, the handshake completes
    (BoGo SupportedCurves-ServerHello-TLS12)."""
    status, token = h.feed(s.first_flight(extra=[(Ext.supported_groups, b"\x00\x02\x00\x17")]))
    assert status == sc.SEC_I_CONTINUE_NEEDED
    s.read_client_flight(token)
    return h.feed(s.ccs() + s.prot(s.finished()))[0]


@attack(sc.SEC_E_OK, None)
def warning_alert_before_server_hello_tolerated(s: Server12, h: Harness) -> sc.SecStatus:
    """A warning unrecognized_name before the ServerHello (RFC 6066 3 lets a server warn
    about SNI): no version is known yet, so it is a survivable warning, as in TLS 1.2, and
    the handshake completes (BoGo SendSNIWarningAlert)."""
    status, token = h.feed(record(ALERT, b"\x01\x70") + s.first_flight())
    assert status == sc.SEC_I_CONTINUE_NEEDED
    s.read_client_flight(token)
    return h.feed(s.ccs() + s.prot(s.finished()))[0]


@attack(sc.SEC_E_OK, None)
def warning_user_canceled_tolerated(s: Server12, h: Harness) -> sc.SecStatus:
    """A warning user_canceled during the handshake: a closure alert that close_notify should
    follow (RFC 5246 7.2.1), not an error; ignored like other warnings, and the handshake
    completes."""
    msgs = record(HANDSHAKE, s.server_hello()) + record(ALERT, b"\x01\x5a")
    msgs += record(HANDSHAKE, s.certificate() + s.server_key_exchange() + s.server_hello_done())
    status, token = h.feed(msgs)
    assert status == sc.SEC_I_CONTINUE_NEEDED
    s.read_client_flight(token)
    return h.feed(s.ccs() + s.prot(s.finished()))[0]


@attack(sc.SEC_E_OK, None)
def missing_ems_allowed_but_not_resumable(s: Server12, h: Harness) -> sc.SecStatus:
    """No extended_master_secret: the handshake is allowed (as Windows allows it) but the
    session must not be resumable (RFC 7627 5.3): nothing is cached although the server gave
    a session ID, and the next connection offers no session."""
    status, token = h.feed(s.first_flight(ems=False, session_id=b"\x55" * 32))
    assert status == sc.SEC_I_CONTINUE_NEEDED
    s.read_client_flight(token)
    status, _ = h.feed(s.ccs() + s.prot(s.finished()))
    ctx = X.CONTEXTS.get(h.ctx)
    assert ctx is not None and ctx.client.handshake_complete
    assert not ctx.client.extended_master_secret
    assert ctx.client.session12 is None
    assert cache.CACHE.lookup(ctx.cache_key, X.clock())[1] is None
    return status


@attack(sc.SEC_E_OK, None)
def with_ems_is_resumable(s: Server12, h: Harness) -> sc.SecStatus:
    """Control for the case above: the same server with EMS leaves a resumable session."""
    status, token = h.feed(s.first_flight(session_id=b"\x56" * 32))
    s.read_client_flight(token)
    status, _ = h.feed(s.ccs() + s.prot(s.finished()))
    ctx = X.CONTEXTS.get(h.ctx)
    assert ctx is not None and ctx.client.session12 is not None
    cache.CACHE.remove_sessions([ctx.client.session12])
    return status


# --- Certificate -----------------------------------------------------------------------------


def flight_with(s: Server12, *builders: str, **kw: dict[str, Any]) -> bytes:
    msgs = s.server_hello()
    for b in builders:
        msgs += getattr(s, b)(**kw.get(b, {}))
    return plaintext_records(HANDSHAKE, msgs)  # in records of at most 2^14 bytes


@attack(ILLEGAL, A.decode_error)
def cert12_empty_list(s: Server12, h: Harness) -> sc.SecStatus:
    """An empty Certificate while the suite needs one: decode_error (as TLS 1.3 4.4.2.4; RFC
    5246 leaves it to the client, which cannot continue)."""
    return h.feed(flight_with(s, "certificate", certificate={"chain": []}))[0]


@attack(sc.SEC_E_CERT_UNKNOWN, A.bad_certificate)
def cert12_chain_too_deep(s: Server12, h: Harness) -> sc.SecStatus:
    """101 certificates, beyond the limit of 100: bad_certificate, SEC_E_CERT_UNKNOWN."""
    return h.feed(flight_with(s, "certificate", certificate={"chain": identity().chain * 101}))[0]


@attack(sc.SEC_E_CERT_UNKNOWN, A.unsupported_certificate)
def cert12_rsa_key_for_ecdsa_suite(s: Server12, h: Harness) -> sc.SecStatus:
    """An RSA certificate for an ECDHE_ECDSA suite: unsupported_certificate (RFC 8422 5.3),
    SEC_E_CERT_UNKNOWN (section 0.4)."""
    rsa_leaf = make_self_signed(("localhost",), key_type="rsa2048", key_label="h-rsa")
    return h.feed(flight_with(s, "certificate", certificate={"chain": [rsa_leaf.der]}))[0]


@attack(sc.SEC_E_CERT_UNKNOWN, A.unsupported_certificate)
def cert12_key_usage_without_signature(s: Server12, h: Harness) -> sc.SecStatus:
    """An ECDSA leaf whose key usage is keyAgreement only, for an ECDHE_ECDSA suite: the
    key may not sign the ServerKeyExchange (RFC 5246 7.4.2), unsupported_certificate
    (BoGo ECDSAKeyUsage-Client-TLS12)."""
    leaf = make_self_signed(key_label="h-ku", key_usage=KEY_AGREEMENT_ONLY)
    return h.feed(flight_with(s, "certificate", certificate={"chain": [leaf.der]}))[0]


# --- ServerKeyExchange -------------------------------------------------------------------------


@attack(sc.SEC_E_DECRYPT_FAILURE, A.decrypt_error)
def ske_bad_signature(s: Server12, h: Harness) -> sc.SecStatus:
    """A ServerKeyExchange signature that does not verify: decrypt_error (RFC 5246 7.2.2)."""
    return h.feed(
        flight_with(s, "certificate", "server_key_exchange", server_key_exchange={"tamper": True})
    )[0]


@attack(ILLEGAL, A.illegal_parameter)
def ske_unoffered_curve(s: Server12, h: Harness) -> sc.SecStatus:
    """secp521r1, not in supported_groups: illegal_parameter (RFC 8422 5.4)."""
    kw = {"group": 0x0019, "public": b"\x04" + bytes(132)}
    return h.feed(flight_with(s, "certificate", "server_key_exchange", server_key_exchange=kw))[0]


@attack(ILLEGAL, A.illegal_parameter)
def ske_explicit_curve(s: Server12, h: Harness) -> sc.SecStatus:
    """ECParameters with curve_type explicit_prime (1): deprecated (RFC 8422 5.4),
    illegal_parameter."""
    body = b"\x01" + bytes(40)
    msgs = s.server_hello() + s.certificate() + handshake_message(HT.server_key_exchange, body)
    return h.feed(record(HANDSHAKE, msgs))[0]


@attack(ILLEGAL, A.illegal_parameter)
def ske_x25519_zero_point(s: Server12, h: Harness) -> sc.SecStatus:
    """A signed all-zero x25519 public value: the shared secret would be zero, abort with
    illegal_parameter (RFC 8422 5.11)."""
    kw = {"group": X25519, "public": bytes(32)}
    return h.feed(
        flight_with(
            s, "certificate", "server_key_exchange", "server_hello_done", server_key_exchange=kw
        )
    )[0]


@attack(ILLEGAL, A.illegal_parameter)
def ske_p256_off_curve(s: Server12, h: Harness) -> sc.SecStatus:
    """A signed secp256r1 point not on the curve: illegal_parameter (RFC 8422 5.4 / 5.11)."""
    kw = {"group": SECP256R1, "public": b"\x04" + bytes(63) + b"\x01"}
    return h.feed(
        flight_with(
            s, "certificate", "server_key_exchange", "server_hello_done", server_key_exchange=kw
        )
    )[0]


@attack(ILLEGAL, A.illegal_parameter)
def ske_unoffered_scheme(s: Server12, h: Harness) -> sc.SecStatus:
    """Signed with ecdsa_sha1 (0x0203), not offered in signature_algorithms: illegal_parameter
    (RFC 5246 7.4.1.4.1)."""
    kw = {"scheme": 0x0203}
    return h.feed(flight_with(s, "certificate", "server_key_exchange", server_key_exchange=kw))[0]


@attack(ILLEGAL, A.illegal_parameter)
def ske_scheme_wrong_for_key(s: Server12, h: Harness) -> sc.SecStatus:
    """rsa_pss_rsae_sha256 (offered) with an ECDSA certificate: illegal_parameter."""
    kw = {"scheme": RSA_PSS_RSAE_SHA256}
    return h.feed(flight_with(s, "certificate", "server_key_exchange", server_key_exchange=kw))[0]


@attack(ILLEGAL, A.decode_error)
def ske_trailing_bytes(s: Server12, h: Harness) -> sc.SecStatus:
    """A byte after the signature: decode_error."""
    msgs = s.server_hello() + s.certificate()
    ske = s.server_key_exchange()
    ske = handshake_message(HT.server_key_exchange, ske[4:] + b"\x00")
    return h.feed(record(HANDSHAKE, msgs + ske))[0]


# --- order -------------------------------------------------------------------------------------


@attack(ILLEGAL, A.unexpected_message)
def server_hello_done_before_key_exchange(s: Server12, h: Harness) -> sc.SecStatus:
    """ServerHelloDone without ServerKeyExchange (mandatory for ECDHE): unexpected_message."""
    return h.feed(flight_with(s, "certificate", "server_hello_done"))[0]


@attack(ILLEGAL, A.unexpected_message)
def key_exchange_before_certificate(s: Server12, h: Harness) -> sc.SecStatus:
    """ServerKeyExchange before Certificate: unexpected_message."""
    msgs = s.server_hello()
    ske = handshake_message(HT.server_key_exchange, b"\x03\x00\x1d\x01\x00")
    return h.feed(record(HANDSHAKE, msgs + ske))[0]


@attack(ILLEGAL, A.unexpected_message)
def finished_without_ccs(s: Server12, h: Harness) -> sc.SecStatus:
    """The server's Finished in plaintext, without ChangeCipherSpec: unexpected_message.
    The client has sent its CCS, so its alert is protected."""
    to_client_flight12(s, h)
    return h.feed(record(HANDSHAKE, s.finished()))[0]


@attack(ILLEGAL, A.unexpected_message)
def ccs12_wrong_payload(s: Server12, h: Harness) -> sc.SecStatus:
    """A ChangeCipherSpec whose byte is 2: unexpected_message (RFC 5246 7.1 allows only 1)."""
    to_client_flight12(s, h)
    return h.feed(record(CHANGE_CIPHER_SPEC, b"\x02"))[0]


@attack(ILLEGAL, A.unexpected_message)
def ccs12_too_early(s: Server12, h: Harness) -> sc.SecStatus:
    """ChangeCipherSpec right after the Certificate, before any keys: unexpected_message."""
    return h.feed(flight_with(s, "certificate") + record(CHANGE_CIPHER_SPEC, b"\x01"))[0]


@attack(sc.SEC_E_MESSAGE_ALTERED, A.bad_record_mac)
def ccs12_twice(s: Server12, h: Harness) -> sc.SecStatus:
    """A second ChangeCipherSpec: after the first the read keys are active, so the plaintext
    record cannot authenticate: bad_record_mac (RFC 5246 6.2.3.3)."""
    to_client_flight12(s, h)
    return h.feed(s.ccs() + s.ccs())[0]


@attack(sc.SEC_E_DECRYPT_FAILURE, A.decrypt_error)
def finished12_wrong(s: Server12, h: Harness) -> sc.SecStatus:
    """A server Finished that does not verify: decrypt_error (RFC 5246 7.4.9)."""
    to_client_flight12(s, h)
    return h.feed(s.ccs() + s.prot(s.finished(tamper=True)))[0]


@attack(sc.SEC_E_MESSAGE_ALTERED, A.bad_record_mac)
def finished12_record_tampered(s: Server12, h: Harness) -> sc.SecStatus:
    """The protected Finished record with one ciphertext bit flipped: bad_record_mac."""
    to_client_flight12(s, h)
    rec = bytearray(s.prot(s.finished()))
    rec[20] ^= 1
    return h.feed(s.ccs() + bytes(rec))[0]


@attack(ILLEGAL, A.unexpected_message)
def app_data12_before_finished(s: Server12, h: Harness) -> sc.SecStatus:
    """Protected application data between the server's CCS and Finished: unexpected_message
    (RFC 5246 7.1 / 6: no data before the handshake completes)."""
    to_client_flight12(s, h)
    return h.feed(s.ccs() + s.prot(b"early", APPLICATION_DATA) + s.prot(s.finished()))[0]


@attack(sc.SEC_E_OK, None)
def hello_request_during_handshake_ignored(s: Server12, h: Harness) -> sc.SecStatus:
    """A HelloRequest in the middle of the initial handshake: RFC 5246 7.4.1.1 says it "will
    be ignored by the client if the client is currently negotiating a session", and it is
    not part of the transcript: the handshake completes."""
    msgs = s.server_hello() + s.certificate()
    msgs += handshake_message(HT.hello_request, b"")
    msgs += s.server_key_exchange() + s.server_hello_done()
    status, token = h.feed(record(HANDSHAKE, msgs))
    assert status == sc.SEC_I_CONTINUE_NEEDED
    s.read_client_flight(token)
    return h.feed(s.ccs() + s.prot(s.finished()))[0]


# --- alerts ------------------------------------------------------------------------------------


@attack(ILLEGAL, A.unexpected_message)
def warning_alert_flood(s: Server12, h: Harness) -> sc.SecStatus:
    """Five warning alerts during the handshake: TLS 1.2 warnings are survivable, but the
    client tolerates four (bounded work); the fifth is unexpected_message."""
    warning = record(ALERT, b"\x01\x70")
    return h.feed(record(HANDSHAKE, s.server_hello()) + warning * 5)[0]


@attack(sc.SEC_E_ALGORITHM_MISMATCH, None)
def server_fatal_insufficient_security(s: Server12, h: Harness) -> sc.SecStatus:
    """The server's fatal insufficient_security: nothing sent back, SEC_E_ALGORITHM_MISMATCH
    (section 0.4)."""
    return h.feed(record(HANDSHAKE, s.server_hello()) + record(ALERT, b"\x02\x47"))[0]


# --- renegotiation -----------------------------------------------------------------------------


def renegotiation_hello(s: Server12, h: Harness) -> None:
    """Established; the server asks for renegotiation and reads the client's new ClientHello."""
    finish12(s, h)
    got, _ = h.decrypt(s.prot(handshake_message(HT.hello_request, b"")))
    assert got == [sc.SEC_I_RENEGOTIATE, sc.SEC_I_CONTINUE_NEEDED], got
    assert s.read is not None
    ctype, payload = s.read.open(h.token)
    assert ctype == HANDSHAKE and payload[0] == HT.client_hello


def reneg_server_hello(s: Server12, **kw: object) -> bytes:
    s.transcript = type(s.transcript)()
    s.transcript.set_hash(s.suite.hash_name)
    return s.prot(s.server_hello(**kw))  # type: ignore[arg-type]


@attack(sc.SEC_E_ALGORITHM_MISMATCH, A.handshake_failure)
def renegotiation_info_empty_on_renegotiation(s: Server12, h: Harness) -> sc.SecStatus:
    """Insecure renegotiation: the renegotiation ServerHello carries an empty
    renegotiation_info instead of both Finished values: handshake_failure (RFC 5746 3.5)."""
    renegotiation_hello(s, h)
    return h.feed(reneg_server_hello(s))[0]


@attack(sc.SEC_E_ALGORITHM_MISMATCH, A.handshake_failure)
def renegotiation_info_missing_on_renegotiation(s: Server12, h: Harness) -> sc.SecStatus:
    """No renegotiation_info at all in the renegotiation ServerHello: handshake_failure
    (RFC 5746 3.5)."""
    renegotiation_hello(s, h)
    return h.feed(reneg_server_hello(s, reneg=None))[0]


@attack(sc.SEC_E_ALGORITHM_MISMATCH, A.handshake_failure)
def renegotiation_info_wrong_on_renegotiation(s: Server12, h: Harness) -> sc.SecStatus:
    """renegotiation_info with the right length but the wrong verify_data: handshake_failure."""
    renegotiation_hello(s, h)
    return h.feed(reneg_server_hello(s, reneg=b"\x18" + bytes(24)))[0]


@attack(sc.SEC_E_ALGORITHM_MISMATCH, A.handshake_failure)
def renegotiation_drops_extended_master_secret(s: Server12, h: Harness) -> sc.SecStatus:
    """A correct renegotiation_info but no extended_master_secret, which the first handshake
    had: handshake_failure (RFC 7627 5.3)."""
    renegotiation_hello(s, h)
    ri = s.client_verify_data + s.server_verify_data
    return h.feed(reneg_server_hello(s, reneg=bytes([len(ri)]) + ri, ems=False))[0]


@attack(ILLEGAL, A.unexpected_message, via="decrypt")
def unsolicited_server_hello_after_handshake(s: Server12, h: Harness) -> sc.SecStatus:
    """A server starting a renegotiation with a ServerHello nobody asked for:
    unexpected_message (only HelloRequest may start one)."""
    finish12(s, h)
    return h.decrypt(s.prot(s.server_hello()))[0][-1]


@attack(ILLEGAL, A.decode_error, via="decrypt")
def hello_request_with_body(s: Server12, h: Harness) -> sc.SecStatus:
    """A HelloRequest with a body (it is empty by definition): decode_error."""
    finish12(s, h)
    return h.decrypt(s.prot(handshake_message(HT.hello_request, b"\x00")))[0][-1]
