"""The TLS 1.3 attack catalogue: every attack gets the exact SSPI status and alert.

List and run the cases through :mod:`schannel_py.testing.attacks`.

Each attack is a function whose docstring says what the server does wrong and
why the client's answer is the right one (RFC 8446's mandated alert, and the
status it maps to by docs/windows-behaviour.md section 0.4 through
``sspi/errors.py``: a locally detected handshake_failure is
SEC_E_ALGORITHM_MISMATCH, a downgrade is SEC_E_DOWNGRADE_DETECTED, a
received alert maps by the table).  The client runs through the real
InitializeSecurityContext; its alert is taken from SECBUFFER_ALERT and, once
handshake keys exist, decrypted with the client handshake secret, which the
hostile server knows.  Attacks after the handshake go through DecryptMessage,
which has no alert buffer; there the core's decision is asserted.
"""

from __future__ import annotations

from collections.abc import Callable

import schannel_py as sc
from schannel_py.tls.alerts import AlertDescription as A
from schannel_py.tls.groups import SECP256R1, SECP384R1, X25519
from schannel_py.tls.messages import (
    DOWNGRADE_TLS11,
    DOWNGRADE_TLS12,
    Ext,
    HandshakeType,
    handshake_message,
)
from schannel_py.tls.record import ALERT, APPLICATION_DATA, CHANGE_CIPHER_SPEC
from schannel_py.tls.sigalgs import RSA_PSS_RSAE_SHA256

from .attacks import Harness, registry
from .builders import (
    ECDSA_P256_SHA256,
    Server13,
    ext_block,
    identity,
    record,
    u16,
)
from .pki import KEY_AGREEMENT_ONLY, make_self_signed

__all__ = ["ATTACKS"]

HT = HandshakeType
ATTACKS, attack = registry("1.3")
ILLEGAL = sc.SEC_E_ILLEGAL_MESSAGE


def after_hrr(s: Server13, h: Harness, group: int) -> None:
    """A HelloRetryRequest for ``group``; the client's second ClientHello is read."""
    status, token = h.feed(s.plain(s.hello_retry_request(group=group)))
    assert status == sc.SEC_I_CONTINUE_NEEDED, status
    s.read_client_hello(token)


# --- ServerHello -----------------------------------------------------------------------------


@attack(ILLEGAL, A.illegal_parameter)
def sh_unoffered_suite(s: Server13, h: Harness) -> sc.SecStatus:
    """TLS_AES_128_CCM_SHA256 was not offered: RFC 8446 4.1.3 illegal_parameter."""
    return h.feed(s.plain(s.server_hello(suite=0x1304)))[0]


@attack(ILLEGAL, A.illegal_parameter)
def sh_tls12_suite_with_tls13(s: Server13, h: Harness) -> sc.SecStatus:
    """A TLS 1.2 suite (offered, for 1.2) in a TLS 1.3 ServerHello: illegal_parameter (4.1.3)."""
    return h.feed(s.plain(s.server_hello(suite=0xC02B)))[0]


@attack(ILLEGAL, A.illegal_parameter)
def sh_group_without_share(s: Server13, h: Harness) -> sc.SecStatus:
    """secp384r1 was offered in supported_groups but no share was sent: illegal_parameter (4.2.8)."""
    return h.feed(s.plain(s.server_hello(group=SECP384R1)))[0]


@attack(ILLEGAL, A.illegal_parameter)
def sh_unoffered_group(s: Server13, h: Harness) -> sc.SecStatus:
    """A share for ffdhe2048, never offered: illegal_parameter (4.2.8)."""
    return h.feed(
        s.plain(
            s.server_hello(
                share=bytes(256),
                extensions=[
                    (Ext.supported_versions, u16(0x0304)),
                    (Ext.key_share, u16(0x0100) + u16(256) + bytes(256)),
                ],
            )
        )
    )[0]


@attack(ILLEGAL, A.illegal_parameter)
def sh_unoffered_version(s: Server13, h: Harness) -> sc.SecStatus:
    """supported_versions selects 0x0305, which was not offered: illegal_parameter (4.2.1)."""
    share = s.server_hello(add=False)  # for a well-formed key_share
    del share
    assert s.share is not None
    return h.feed(
        s.plain(
            s.server_hello(
                share=s.share.public,
                extensions=[
                    (Ext.supported_versions, u16(0x0305)),
                    (Ext.key_share, u16(X25519) + u16(32) + s.share.public),
                ],
            )
        )
    )[0]


@attack(ILLEGAL, A.illegal_parameter)
def sh_supported_versions_tls12(s: Server13, h: Harness) -> sc.SecStatus:
    """supported_versions naming TLS 1.2 (prior to 1.3) is illegal_parameter (4.2.1)."""
    return h.feed(s.plain(s.server_hello(extensions=[(Ext.supported_versions, u16(0x0303))])))[0]


@attack(sc.SEC_E_UNSUPPORTED_FUNCTION, A.protocol_version)
def sh_legacy_version_not_tls12(s: Server13, h: Harness) -> sc.SecStatus:
    """legacy_version 0x0304 in the ServerHello: protocol_version (4.1.3 requires 0x0303).

    protocol_version maps to SEC_E_UNSUPPORTED_FUNCTION (section 0.4).
    """
    return h.feed(s.plain(s.server_hello(legacy_version=0x0304)))[0]


@attack(ILLEGAL, A.illegal_parameter)
def sh_compression(s: Server13, h: Harness) -> sc.SecStatus:
    """legacy_compression_method 1: 4.1.3 says illegal_parameter for anything but 0."""
    return h.feed(s.plain(s.server_hello(compression=1)))[0]


@attack(ILLEGAL, A.illegal_parameter)
def sh_session_id_echo_mismatch(s: Server13, h: Harness) -> sc.SecStatus:
    """legacy_session_id_echo differs from the client's: illegal_parameter (4.1.3)."""
    return h.feed(s.plain(s.server_hello(session_id=bytes(32))))[0]


@attack(ILLEGAL, A.illegal_parameter)
def sh_session_id_echo_missing(s: Server13, h: Harness) -> sc.SecStatus:
    """An empty echo although the client sent a 32-byte session ID: illegal_parameter (4.1.3)."""
    return h.feed(s.plain(s.server_hello(session_id=b"")))[0]


@attack(ILLEGAL, A.unsupported_extension)
def sh_unsolicited_extension(s: Server13, h: Harness) -> sc.SecStatus:
    """early_data (known, not offered) in the ServerHello: unsupported_extension (4.2)."""
    return h.feed(s.plain(s.server_hello(extra=[(Ext.early_data, b"")])))[0]


@attack(ILLEGAL, A.unsupported_extension)
def sh_unknown_extension(s: Server13, h: Harness) -> sc.SecStatus:
    """An unknown extension code (0x4A4A) the client never sent: unsupported_extension (4.2)."""
    return h.feed(s.plain(s.server_hello(extra=[(0x4A4A, b"")])))[0]


@attack(ILLEGAL, A.unsupported_extension)
def sh_unoffered_pre_shared_key(s: Server13, h: Harness) -> sc.SecStatus:
    """pre_shared_key selected although no PSK was offered: unsupported_extension (4.2).

    The extension was not in the ClientHello, so 4.2's rule for unsolicited
    extensions applies before 4.2.11's illegal_parameter for a bad index.
    """
    return h.feed(s.plain(s.server_hello(extra=[(Ext.pre_shared_key, b"\x00\x00")])))[0]


@attack(ILLEGAL, A.illegal_parameter)
def sh_forbidden_extension(s: Server13, h: Harness) -> sc.SecStatus:
    """server_name (offered, but only allowed in EncryptedExtensions) in the ServerHello.

    4.2: a recognised extension in a message it is not specified for is
    illegal_parameter.
    """
    return h.feed(s.plain(s.server_hello(extra=[(Ext.server_name, b"")])))[0]


@attack(ILLEGAL, A.decode_error)
def sh_duplicate_extension(s: Server13, h: Harness) -> sc.SecStatus:
    """supported_versions twice.  4.2 forbids duplicates without naming an alert; an
    extension block that cannot be a valid encoding is decode_error (as OpenSSL and
    BoringSSL send)."""
    return h.feed(s.plain(s.server_hello(extra=[(Ext.supported_versions, u16(0x0304))])))[0]


@attack(ILLEGAL, A.missing_extension)
def sh_missing_key_share(s: Server13, h: Harness) -> sc.SecStatus:
    """No key_share in a (non-PSK) ServerHello: missing_extension (9.2); 109 is not in the
    section 0.4 table, so "any other" -> SEC_E_ILLEGAL_MESSAGE."""
    return h.feed(s.plain(s.server_hello(extensions=[(Ext.supported_versions, u16(0x0304))])))[0]


@attack(ILLEGAL, A.decode_error)
def sh_trailing_bytes(s: Server13, h: Harness) -> sc.SecStatus:
    """Bytes after the extension block: the message does not parse, decode_error (6.2)."""
    sh = s.server_hello(add=False)
    body = sh[4:] + b"\x00"
    return h.feed(s.plain(handshake_message(HT.server_hello, body)))[0]


# --- key shares ------------------------------------------------------------------------------


@attack(ILLEGAL, A.illegal_parameter)
def x25519_all_zero_result(s: Server13, h: Harness) -> sc.SecStatus:
    """The all-zero x25519 point gives an all-zero shared secret: RFC 8446 7.4.2 / RFC 7748 6.1
    say abort; illegal_parameter (4.2.8.2 for an invalid share)."""
    return h.feed(s.plain(s.server_hello(share=bytes(32))))[0]


@attack(ILLEGAL, A.illegal_parameter)
def x25519_low_order_point(s: Server13, h: Harness) -> sc.SecStatus:
    """u = 1, a small-order point that also yields the all-zero secret: illegal_parameter."""
    return h.feed(s.plain(s.server_hello(share=(1).to_bytes(32, "little"))))[0]


@attack(ILLEGAL, A.illegal_parameter)
def x25519_short_share(s: Server13, h: Harness) -> sc.SecStatus:
    """A 31-byte x25519 share: invalid for the group, illegal_parameter (4.2.8)."""
    return h.feed(s.plain(s.server_hello(share=bytes(range(31)))))[0]


@attack(ILLEGAL, A.decode_error)
def key_share_empty(s: Server13, h: Harness) -> sc.SecStatus:
    """key_exchange<1..2^16-1> of length 0: the vector's minimum is violated, decode_error."""
    return h.feed(s.plain(s.server_hello(share=b"")))[0]


@attack(ILLEGAL, A.illegal_parameter)
def p256_off_curve(s: Server13, h: Harness) -> sc.SecStatus:
    """After an HRR for secp256r1, a share that is not on the curve: illegal_parameter (4.2.8.2)."""
    after_hrr(s, h, SECP256R1)
    bad = b"\x04" + (1).to_bytes(32, "big") + (1).to_bytes(32, "big")
    return h.feed(s.plain(s.server_hello(group=SECP256R1, share=bad)))[0]


@attack(ILLEGAL, A.illegal_parameter)
def p256_compressed_point(s: Server13, h: Harness) -> sc.SecStatus:
    """A compressed secp256r1 point: TLS 1.3 allows only uncompressed (4.2.8.2), illegal_parameter."""
    after_hrr(s, h, SECP256R1)
    from schannel_py.tls.groups import KeyShare

    pub = KeyShare(SECP256R1, __import__("os").urandom).public
    compressed = bytes([2 + (pub[-1] & 1)]) + pub[1:33]
    return h.feed(s.plain(s.server_hello(group=SECP256R1, share=compressed)))[0]


@attack(ILLEGAL, A.illegal_parameter)
def p256_point_at_infinity(s: Server13, h: Harness) -> sc.SecStatus:
    """The point at infinity (a single 0x00): not a valid share, illegal_parameter (4.2.8.2)."""
    after_hrr(s, h, SECP256R1)
    return h.feed(s.plain(s.server_hello(group=SECP256R1, share=b"\x00")))[0]


# --- HelloRetryRequest -----------------------------------------------------------------------


@attack(ILLEGAL, A.unexpected_message)
def hrr_twice(s: Server13, h: Harness) -> sc.SecStatus:
    """A second HelloRetryRequest: 4.1.4 mandates unexpected_message."""
    after_hrr(s, h, SECP256R1)
    return h.feed(s.plain(s.hello_retry_request(group=SECP384R1)))[0]


@attack(ILLEGAL, A.illegal_parameter)
def hrr_changes_nothing(s: Server13, h: Harness) -> sc.SecStatus:
    """An HRR without key_share or cookie would not change the ClientHello: illegal_parameter (4.1.4)."""
    return h.feed(s.plain(s.hello_retry_request()))[0]


@attack(ILLEGAL, A.illegal_parameter)
def hrr_group_already_shared(s: Server13, h: Harness) -> sc.SecStatus:
    """An HRR asking for x25519, whose share was already sent: illegal_parameter (4.2.8)."""
    return h.feed(s.plain(s.hello_retry_request(group=X25519)))[0]


@attack(ILLEGAL, A.illegal_parameter)
def hrr_group_not_offered(s: Server13, h: Harness) -> sc.SecStatus:
    """An HRR asking for secp521r1, not in supported_groups: illegal_parameter (4.2.8)."""
    return h.feed(s.plain(s.hello_retry_request(group=0x0019)))[0]


@attack(ILLEGAL, A.unsupported_extension)
def hrr_unsolicited_extension(s: Server13, h: Harness) -> sc.SecStatus:
    """early_data in an HRR, never offered: unsupported_extension (4.1.4 / 4.2)."""
    return h.feed(s.plain(s.hello_retry_request(group=SECP256R1, extra=[(Ext.early_data, b"")])))[0]


@attack(ILLEGAL, A.illegal_parameter)
def hrr_duplicate_extension(s: Server13, h: Harness) -> sc.SecStatus:
    """cookie twice in an HRR: illegal_parameter, as BoringSSL answers a duplicate in an HRR
    (BoGo HelloRetryRequest-DuplicateCookie-TLS13; 4.2 names no alert)."""
    cookie = (Ext.cookie, u16(1) + b"c")
    return h.feed(s.plain(s.hello_retry_request(group=SECP256R1, extra=[cookie, cookie])))[0]


@attack(ILLEGAL, A.decode_error)
def hrr_without_extension_block(s: Server13, h: Harness) -> sc.SecStatus:
    """An HRR that ends after its compression method: a TLS 1.3 message without its
    extension block does not parse, decode_error."""
    hrr = s.hello_retry_request(group=SECP256R1)
    body = hrr[4 : -(2 + 6 + 6)]  # the block: supported_versions (6) and key_share (6)
    return h.feed(s.plain(handshake_message(HT.server_hello, body)))[0]


@attack(ILLEGAL, A.illegal_parameter)
def hrr_forbidden_extension(s: Server13, h: Harness) -> sc.SecStatus:
    """signature_algorithms (offered, never allowed in an HRR): illegal_parameter (4.2)."""
    return h.feed(
        s.plain(s.hello_retry_request(group=SECP256R1, extra=[(Ext.signature_algorithms, b"")]))
    )[0]


@attack(ILLEGAL, A.unexpected_message)
def hrr_with_partial_server_hello(s: Server13, h: Harness) -> sc.SecStatus:
    """The first byte of a ServerHello in the HelloRetryRequest's record: the server must
    wait for the second ClientHello, so unexpected_message, in plaintext (BoGo
    PartialServerHelloWithHelloRetryRequest)."""
    hrr = s.hello_retry_request(group=SECP256R1)
    return h.feed(s.plain(hrr + bytes([HT.server_hello])))[0]


@attack(ILLEGAL, A.illegal_parameter)
def hrr_then_server_hello_other_suite(s: Server13, h: Harness) -> sc.SecStatus:
    """The ServerHello after an HRR chooses another suite: illegal_parameter (4.1.4)."""
    after_hrr(s, h, SECP256R1)
    return h.feed(s.plain(s.server_hello(group=SECP256R1, suite=0x1302)))[0]


@attack(ILLEGAL, A.illegal_parameter)
def hrr_then_tls12_server_hello(s: Server13, h: Harness) -> sc.SecStatus:
    """After an HRR (TLS 1.3 chosen) a ServerHello without supported_versions: illegal_parameter."""
    after_hrr(s, h, SECP256R1)
    return h.feed(s.plain(s.server_hello(group=SECP256R1, extensions=[])))[0]


# --- downgrade ---------------------------------------------------------------------------------


@attack(sc.SEC_E_DOWNGRADE_DETECTED, A.illegal_parameter)
def downgrade_sentinel_tls12(s: Server13, h: Harness) -> sc.SecStatus:
    """A TLS 1.2 ServerHello whose random ends in DOWNGRD\\x01 while 1.3 was offered:
    illegal_parameter (4.1.3), reported as SEC_E_DOWNGRADE_DETECTED."""
    rnd = bytes(24) + DOWNGRADE_TLS12
    return h.feed(s.plain(s.server_hello(random=rnd, suite=0xC02B, extensions=[])))[0]


@attack(sc.SEC_E_DOWNGRADE_DETECTED, A.illegal_parameter)
def downgrade_sentinel_tls11(s: Server13, h: Harness) -> sc.SecStatus:
    """The TLS 1.1-or-below sentinel DOWNGRD\\x00 in a TLS 1.2 ServerHello: likewise."""
    rnd = bytes(24) + DOWNGRADE_TLS11
    return h.feed(s.plain(s.server_hello(random=rnd, suite=0xC02B, extensions=[])))[0]


@attack(sc.SEC_E_UNSUPPORTED_FUNCTION, A.protocol_version)
def downgrade_to_tls11(s: Server13, h: Harness) -> sc.SecStatus:
    """The server picks TLS 1.1 (legacy_version 0x0302): not offered, protocol_version (RFC 8446
    4.1.3 / RFC 8996)."""
    return h.feed(s.plain(s.server_hello(legacy_version=0x0302, suite=0xC02B, extensions=[])))[0]


# --- EncryptedExtensions ---------------------------------------------------------------------


def ee_attack(s: Server13, h: Harness, body: bytes) -> sc.SecStatus:
    flight = s.sh_flight() + s.prot(handshake_message(HT.encrypted_extensions, body))
    return h.feed(flight)[0]


@attack(ILLEGAL, A.illegal_parameter)
def ee_forbidden_extension(s: Server13, h: Harness) -> sc.SecStatus:
    """key_share (offered) in EncryptedExtensions, where it is not allowed: illegal_parameter (4.2)."""
    return ee_attack(s, h, ext_block([(Ext.key_share, u16(X25519))]))


@attack(ILLEGAL, A.decode_error)
def ee_empty_body(s: Server13, h: Harness) -> sc.SecStatus:
    """An EncryptedExtensions with no extension block at all (not even its length): decode_error
    (BoGo EmptyEncryptedExtensions-TLS13)."""
    return ee_attack(s, h, b"")


@attack(ILLEGAL, A.illegal_parameter)
def ee_supported_versions(s: Server13, h: Harness) -> sc.SecStatus:
    """supported_versions repeated in EncryptedExtensions: illegal_parameter (4.2)."""
    return ee_attack(s, h, ext_block([(Ext.supported_versions, u16(0x0304))]))


@attack(ILLEGAL, A.unsupported_extension)
def ee_unsolicited_alpn(s: Server13, h: Harness) -> sc.SecStatus:
    """ALPN in EncryptedExtensions although the client offered none: unsupported_extension (4.2)."""
    return ee_attack(s, h, ext_block([(Ext.alpn, b"\x00\x03\x02h2")]))


@attack(ILLEGAL, A.unsupported_extension)
def ee_unknown_extension(s: Server13, h: Harness) -> sc.SecStatus:
    """An unknown extension the client did not send: unsupported_extension (4.2)."""
    return ee_attack(s, h, ext_block([(0x7A7A, b"x")]))


@attack(ILLEGAL, A.decode_error)
def ee_duplicate_extension(s: Server13, h: Harness) -> sc.SecStatus:
    """server_name twice in EncryptedExtensions: a malformed block, decode_error (see
    sh_duplicate_extension)."""
    return ee_attack(s, h, ext_block([(Ext.server_name, b""), (Ext.server_name, b"")]))


@attack(ILLEGAL, A.decode_error)
def ee_truncated(s: Server13, h: Harness) -> sc.SecStatus:
    """An extension block whose length exceeds the message: decode_error (6.2)."""
    return ee_attack(s, h, b"\x00\x10\x00\x00")


# --- authentication ----------------------------------------------------------------------------


def auth_flight(s: Server13, *after_ee: Callable[[], bytes]) -> bytes:
    """ServerHello, then EncryptedExtensions and the built messages in one protected record.

    The messages are built lazily, in order, so that the server's transcript is right.
    """
    sh = s.sh_flight()
    msgs = s.encrypted_extensions()
    for build in after_ee:
        msgs += build()
    step = 1 << 14  # the largest plaintext a record may carry
    return sh + b"".join(s.prot(msgs[i : i + step]) for i in range(0, len(msgs), step))


@attack(sc.SEC_E_DECRYPT_FAILURE, A.decrypt_error)
def cv_bad_signature(s: Server13, h: Harness) -> sc.SecStatus:
    """A CertificateVerify signature over the wrong transcript: decrypt_error (4.4.3)."""
    sh = s.sh_flight()
    ee, cert = s.encrypted_extensions(), s.certificate()
    sig = identity().sign(b"not the transcript")
    cv = s.certificate_verify(signature=sig)
    return h.feed(sh + s.prot(ee + cert + cv + s.finished()))[0]


@attack(sc.SEC_E_DECRYPT_FAILURE, A.decrypt_error)
def cv_garbage_signature(s: Server13, h: Harness) -> sc.SecStatus:
    """A signature that is not even DER: decrypt_error (4.4.3)."""
    sh = s.sh_flight()
    ee, cert = s.encrypted_extensions(), s.certificate()
    cv = s.certificate_verify(signature=b"\x30\x02\x00\x00")
    return h.feed(sh + s.prot(ee + cert + cv))[0]


@attack(ILLEGAL, A.illegal_parameter)
def cv_unoffered_scheme(s: Server13, h: Harness) -> sc.SecStatus:
    """ecdsa_sha1 (0x0203), never offered: 4.4.3 says illegal_parameter."""
    sh = s.sh_flight()
    ee, cert = s.encrypted_extensions(), s.certificate()
    cv = s.certificate_verify(scheme=0x0203)
    return h.feed(sh + s.prot(ee + cert + cv))[0]


@attack(ILLEGAL, A.illegal_parameter)
def cv_scheme_wrong_for_key(s: Server13, h: Harness) -> sc.SecStatus:
    """rsa_pss_rsae_sha256 (offered) with an ECDSA certificate: illegal_parameter (4.4.3)."""
    sh = s.sh_flight()
    ee, cert = s.encrypted_extensions(), s.certificate()
    cv = s.certificate_verify(scheme=RSA_PSS_RSAE_SHA256)
    return h.feed(sh + s.prot(ee + cert + cv))[0]


@attack(ILLEGAL, A.illegal_parameter)
def cv_rsa_pkcs1_in_tls13(s: Server13, h: Harness) -> sc.SecStatus:
    """rsa_pkcs1_sha256 may not sign a TLS 1.3 CertificateVerify (4.2.3): illegal_parameter."""
    sh = s.sh_flight()
    ee, cert = s.encrypted_extensions(), s.certificate()
    cv = s.certificate_verify(scheme=0x0401)
    return h.feed(sh + s.prot(ee + cert + cv))[0]


@attack(sc.SEC_E_DECRYPT_FAILURE, A.decrypt_error)
def finished_wrong(s: Server13, h: Harness) -> sc.SecStatus:
    """A server Finished that does not verify: decrypt_error (4.4.4)."""
    sh = s.sh_flight()
    msgs = s.encrypted_extensions() + s.certificate() + s.certificate_verify()
    return h.feed(sh + s.prot(msgs + s.finished(tamper=True)))[0]


@attack(sc.SEC_E_DECRYPT_FAILURE, A.decrypt_error)
def finished_truncated(s: Server13, h: Harness) -> sc.SecStatus:
    """A Finished of 31 bytes instead of 32: it cannot verify, decrypt_error (4.4.4)."""
    sh = s.sh_flight()
    msgs = s.encrypted_extensions() + s.certificate() + s.certificate_verify()
    return h.feed(sh + s.prot(msgs + handshake_message(HT.finished, bytes(31))))[0]


@attack(ILLEGAL, A.decode_error)
def certificate_empty_list(s: Server13, h: Harness) -> sc.SecStatus:
    """An empty server Certificate: 4.4.2.4 mandates decode_error."""
    return h.feed(auth_flight(s, lambda: s.certificate(chain=[])))[0]


@attack(sc.SEC_E_CERT_UNKNOWN, A.bad_certificate)
def certificate_chain_too_deep(s: Server13, h: Harness) -> sc.SecStatus:
    """101 certificates, beyond the limit of 100 (ClientConfig.max_chain_length):
    bad_certificate, SEC_E_CERT_UNKNOWN (section 0.4)."""
    return h.feed(auth_flight(s, lambda: s.certificate(chain=identity().chain * 101)))[0]


@attack(sc.SEC_E_CERT_UNKNOWN, A.unsupported_certificate)
def certificate_key_usage_without_signature(s: Server13, h: Harness) -> sc.SecStatus:
    """A leaf whose key usage is keyAgreement only: the key may not sign the
    CertificateVerify (RFC 8446 4.4.2.2), unsupported_certificate (BoGo
    ECDSAKeyUsage-Client-TLS13)."""
    leaf = make_self_signed(key_label="h-ku", key_usage=KEY_AGREEMENT_ONLY)
    return h.feed(auth_flight(s, lambda: s.certificate(chain=[leaf.der])))[0]


@attack(ILLEGAL, A.decode_error)
def certificate_request_empty_signature_algorithms(s: Server13, h: Harness) -> sc.SecStatus:
    """A CertificateRequest whose signature_algorithms list is empty: the vector is
    <2..2^16-2> (4.2.3), decode_error (BoGo ClientAuth-NoFallback-TLS13)."""
    body = b"\x00" + ext_block([(Ext.signature_algorithms, u16(0))])
    return h.feed(auth_flight(s, lambda: handshake_message(HT.certificate_request, body)))[0]


@attack(sc.SEC_E_CERT_UNKNOWN, A.bad_certificate)
def certificate_not_der(s: Server13, h: Harness) -> sc.SecStatus:
    """A leaf that is not a certificate: bad_certificate (6.2: "corrupt certificate")."""
    return h.feed(auth_flight(s, lambda: s.certificate(chain=[b"\x30\x03\x02\x01\x00"])))[0]


@attack(ILLEGAL, A.illegal_parameter)
def certificate_with_request_context(s: Server13, h: Harness) -> sc.SecStatus:
    """A non-empty certificate_request_context in the server's Certificate: illegal_parameter
    (4.4.2: it is zero length in the main handshake)."""
    return h.feed(auth_flight(s, lambda: s.certificate(context=b"\x01")))[0]


@attack(ILLEGAL, A.illegal_parameter)
def certificate_entry_forbidden_extension(s: Server13, h: Harness) -> sc.SecStatus:
    """key_share inside a CertificateEntry: illegal_parameter (4.4.2 / 4.2)."""
    der = identity().chain[0]
    entry = len(der).to_bytes(3, "big") + der + ext_block([(Ext.key_share, b"")])
    body = b"\x00" + len(entry).to_bytes(3, "big") + entry
    return h.feed(auth_flight(s, lambda: s.add(handshake_message(HT.certificate, body))))[0]


@attack(sc.SEC_E_UNTRUSTED_ROOT, A.unknown_ca)
def certificate_untrusted_with_validation(s: Server13, h: Harness) -> sc.SecStatus:
    """Automatic validation on: a self-signed leaf is not trusted -> unknown_ca and
    SEC_E_UNTRUSTED_ROOT (docs/windows-behaviour.md rule 0.5.3: the validation verdict wins)."""
    return h.feed(auth_flight(s, lambda: s.certificate()))[0]


certificate_untrusted_with_validation.validate = True  # type: ignore[attr-defined]


# --- order ---------------------------------------------------------------------------------------


@attack(ILLEGAL, A.unexpected_message)
def finished_without_certificate(s: Server13, h: Harness) -> sc.SecStatus:
    """EncryptedExtensions then Finished (no Certificate, no PSK): unexpected_message (4.4)."""
    return h.feed(auth_flight(s, lambda: s.finished()))[0]


@attack(ILLEGAL, A.unexpected_message)
def certificate_verify_before_certificate(s: Server13, h: Harness) -> sc.SecStatus:
    """CertificateVerify where Certificate must come: unexpected_message."""
    return h.feed(auth_flight(s, lambda: s.certificate_verify()))[0]


@attack(ILLEGAL, A.unexpected_message)
def encrypted_extensions_skipped(s: Server13, h: Harness) -> sc.SecStatus:
    """Certificate straight after ServerHello: unexpected_message."""
    return h.feed(s.sh_flight() + s.prot(s.certificate()))[0]


@attack(ILLEGAL, A.unexpected_message)
def server_hello_twice(s: Server13, h: Harness) -> sc.SecStatus:
    """A second ServerHello, protected: unexpected_message."""
    first = s.sh_flight()
    return h.feed(first + s.prot(s.server_hello(add=False)))[0]


@attack(ILLEGAL, A.unexpected_message)
def new_session_ticket_in_handshake(s: Server13, h: Harness) -> sc.SecStatus:
    """NewSessionTicket before the server Finished: unexpected_message."""
    nst = handshake_message(HT.new_session_ticket, bytes(4 + 4 + 1) + b"\x00\x01x\x00\x00")
    return h.feed(auth_flight(s, lambda: nst))[0]


@attack(ILLEGAL, A.unexpected_message)
def key_update_in_handshake(s: Server13, h: Harness) -> sc.SecStatus:
    """KeyUpdate before the handshake completed: unexpected_message (4.6.3)."""
    return h.feed(auth_flight(s, lambda: handshake_message(HT.key_update, b"\x00")))[0]


@attack(ILLEGAL, A.unexpected_message)
def unknown_handshake_type(s: Server13, h: Harness) -> sc.SecStatus:
    """Handshake type 99 where EncryptedExtensions should be: unexpected_message."""
    return h.feed(s.sh_flight() + s.prot(handshake_message(99, b"")))[0]


@attack(ILLEGAL, A.unexpected_message)
def client_hello_from_server(s: Server13, h: Harness) -> sc.SecStatus:
    """The server echoes a ClientHello instead of answering: unexpected_message."""
    assert s.ch is not None
    return h.feed(s.plain(s.ch.encode()))[0]


@attack(ILLEGAL, A.unexpected_message)
def encrypted_extensions_in_plaintext(s: Server13, h: Harness) -> sc.SecStatus:
    """EncryptedExtensions in a plaintext record after the keys changed: unexpected_message
    (5.2: every record after ServerHello is protected)."""
    return h.feed(s.sh_flight() + s.plain(s.encrypted_extensions()))[0]


@attack(ILLEGAL, A.unexpected_message)
def handshake_message_spans_key_change(s: Server13, h: Harness) -> sc.SecStatus:
    """ServerHello and the start of EncryptedExtensions in one plaintext record: 5.1 says a
    message before a key change must end at a record boundary, unexpected_message."""
    sh = s.server_hello()
    return h.feed(s.plain(sh + handshake_message(HT.encrypted_extensions, b"\x00\x00")[:3]))[0]


@attack(ILLEGAL, A.unexpected_message)
def application_data_before_finished(s: Server13, h: Harness) -> sc.SecStatus:
    """Protected application data after CertificateVerify, before Finished: unexpected_message
    (nothing is handed out before the server is authenticated)."""
    flight = auth_flight(s, lambda: s.certificate(), lambda: s.certificate_verify())
    return h.feed(flight + s.prot(b"GET /", APPLICATION_DATA) + s.prot(s.finished()))[0]


@attack(ILLEGAL, A.unexpected_message)
def application_data_before_server_hello(s: Server13, h: Harness) -> sc.SecStatus:
    """An application_data record before any keys: unexpected_message."""
    return h.feed(record(APPLICATION_DATA, b"hello"))[0]


@attack(ILLEGAL, A.unexpected_message)
def handshake_interleaved_with_alert(s: Server13, h: Harness) -> sc.SecStatus:
    """The Certificate message split over two records with a warning alert between them:
    5.1 forbids interleaving, unexpected_message."""
    sh = s.sh_flight()
    ee = s.encrypted_extensions()
    cert = s.certificate()
    flight = sh + s.prot(ee + cert[:10])
    return h.feed(flight + s.prot(b"\x01\x00", ALERT) + s.prot(cert[10:]))[0]


@attack(ILLEGAL, A.unexpected_message)
def handshake_interleaved_with_application_data(s: Server13, h: Harness) -> sc.SecStatus:
    """The Certificate message split with an application_data record in between: unexpected."""
    sh = s.sh_flight()
    ee = s.encrypted_extensions()
    cert = s.certificate()
    flight = sh + s.prot(ee + cert[:10])
    return h.feed(flight + s.prot(b"x", APPLICATION_DATA) + s.prot(cert[10:]))[0]


# --- alerts from the server ------------------------------------------------------------------


@attack(ILLEGAL, None)
def server_fatal_alert(s: Server13, h: Harness) -> sc.SecStatus:
    """The server sends handshake_failure: nothing is sent back; section 0.4 maps a received
    handshake_failure to SEC_E_ILLEGAL_MESSAGE."""
    return h.feed(record(ALERT, b"\x02\x28"))[0]


@attack(sc.SEC_E_UNTRUSTED_ROOT, None)
def server_alert_unknown_ca(s: Server13, h: Harness) -> sc.SecStatus:
    """A protected unknown_ca from the server after ServerHello: SEC_E_UNTRUSTED_ROOT (0.4)."""
    return h.feed(s.sh_flight() + s.prot(b"\x02\x30", ALERT))[0]


@attack(ILLEGAL, None)
def server_warning_alert_in_tls13(s: Server13, h: Harness) -> sc.SecStatus:
    """A warning-level unrecognized_name: in TLS 1.3 every alert but close_notify (and
    user_canceled) is fatal whatever its level (6); 112 -> "any other" -> ILLEGAL_MESSAGE."""
    return h.feed(s.sh_flight() + s.prot(b"\x01\x70", ALERT))[0]


@attack(sc.SEC_E_OK, None, via="decrypt")
def user_canceled_warnings_tolerated(s: Server13, h: Harness) -> sc.SecStatus:
    """Four warning user_canceled alerts after the handshake, then data: user_canceled is a
    closure alert (6.1: close_notify should follow), not an error alert; ignored like TLS
    1.2 warnings (BoGo SendUserCanceledAlerts-TLS13)."""
    established(s, h)
    alerts = b"".join(s.prot(b"\x01\x5a", ALERT) for _ in range(4))
    got, plain = h.decrypt(alerts + s.prot(b"data", APPLICATION_DATA))
    assert plain == b"data"
    return got[-1]


@attack(ILLEGAL, A.unexpected_message, via="decrypt")
def user_canceled_warning_flood(s: Server13, h: Harness) -> sc.SecStatus:
    """Five warning user_canceled alerts: the same bound as TLS 1.2 warnings, the fifth is
    unexpected_message."""
    established(s, h)
    return h.decrypt(b"".join(s.prot(b"\x01\x5a", ALERT) for _ in range(5)))[0][-1]


@attack(sc.SEC_E_UNFINISHED_CONTEXT_DELETED, None)
def fatal_user_canceled_ends_the_handshake(s: Server13, h: Harness) -> sc.SecStatus:
    """user_canceled sent as a fatal alert still ends the connection: nothing sent back,
    SEC_E_UNFINISHED_CONTEXT_DELETED by section 0.4's table."""
    return h.feed(s.sh_flight() + s.prot(b"\x02\x5a", ALERT))[0]


@attack(ILLEGAL, A.decode_error)
def alert_record_wrong_length(s: Server13, h: Harness) -> sc.SecStatus:
    """A three-byte alert: decode_error."""
    return h.feed(s.sh_flight() + s.prot(b"\x02\x28\x00", ALERT))[0]


# --- ChangeCipherSpec --------------------------------------------------------------------------


@attack(ILLEGAL, A.unexpected_message)
def ccs_wrong_payload(s: Server13, h: Harness) -> sc.SecStatus:
    """A CCS whose byte is 0x02: 5 mandates unexpected_message."""
    return h.feed(s.sh_flight() + record(CHANGE_CIPHER_SPEC, b"\x02"))[0]


@attack(ILLEGAL, A.unexpected_message)
def ccs_two_bytes(s: Server13, h: Harness) -> sc.SecStatus:
    """A CCS of two bytes: unexpected_message (5)."""
    return h.feed(s.sh_flight() + record(CHANGE_CIPHER_SPEC, b"\x01\x01"))[0]


@attack(ILLEGAL, A.unexpected_message)
def ccs_protected(s: Server13, h: Harness) -> sc.SecStatus:
    """A CCS inside a protected record: 5 mandates unexpected_message."""
    return h.feed(s.sh_flight() + s.prot(b"\x01", CHANGE_CIPHER_SPEC))[0]


@attack(sc.SEC_E_OK, None)
def ccs_before_server_hello(s: Server13, h: Harness) -> sc.SecStatus:
    """A CCS before the ServerHello.  RFC 8446 5: a CCS received any time after the first
    ClientHello and before the peer's Finished MUST be dropped; the handshake completes."""
    return h.feed(record(CHANGE_CIPHER_SPEC, b"\x01") + s.full_flight())[0]


@attack(sc.SEC_E_OK, None)
def ccs_between_encrypted_records(s: Server13, h: Harness) -> sc.SecStatus:
    """Compatibility CCS records between protected handshake records are dropped (5)."""
    ccs = record(CHANGE_CIPHER_SPEC, b"\x01")
    flight = s.sh_flight() + ccs + s.prot(s.encrypted_extensions()) + ccs
    flight += s.prot(s.auth_messages())
    return h.feed(flight)[0]


@attack(ILLEGAL, A.unexpected_message, via="decrypt")
def ccs_after_finished(s: Server13, h: Harness) -> sc.SecStatus:
    """An unprotected CCS after the handshake: too late (5), unexpected_message."""
    assert h.feed(s.full_flight())[0] == sc.SEC_E_OK
    return h.decrypt(record(CHANGE_CIPHER_SPEC, b"\x01"))[0][-1]


@attack(ILLEGAL, A.unexpected_message)
def ccs_inside_fragmented_message(s: Server13, h: Harness) -> sc.SecStatus:
    """A CCS between two fragments of one handshake message: unexpected_message (5.1)."""
    sh = s.sh_flight()
    ee = s.encrypted_extensions()
    cert = s.certificate()
    flight = sh + s.prot(ee + cert[:10])
    return h.feed(flight + record(CHANGE_CIPHER_SPEC, b"\x01") + s.prot(cert[10:]))[0]


# --- post-handshake --------------------------------------------------------------------------


def established(s: Server13, h: Harness) -> None:
    status, token = h.feed(s.full_flight())
    assert status == sc.SEC_E_OK, status
    assert s.client_hs is not None
    s.client_hs.open(token[-(4 + 32 + 1 + 16 + 5) :])  # the client Finished
    s.switch_to_application_keys()


@attack(ILLEGAL, A.illegal_parameter, via="decrypt")
def key_update_bad_value(s: Server13, h: Harness) -> sc.SecStatus:
    """KeyUpdate with request_update 2: 4.6.3 mandates illegal_parameter."""
    established(s, h)
    return h.decrypt(s.prot(handshake_message(HT.key_update, b"\x02")))[0][-1]


@attack(ILLEGAL, A.unexpected_message, via="decrypt")
def key_update_not_at_record_end(s: Server13, h: Harness) -> sc.SecStatus:
    """KeyUpdate followed by another message in the same record: 5.1 requires a key change
    to align with a record boundary, unexpected_message."""
    established(s, h)
    ku = handshake_message(HT.key_update, b"\x00")
    return h.decrypt(s.prot(ku + ku))[0][-1]


@attack(ILLEGAL, A.unexpected_message, via="decrypt")
def key_update_flood(s: Server13, h: Harness) -> sc.SecStatus:
    """KeyUpdates without application data in between: the client allows 32 (as BoringSSL
    does), then unexpected_message.  Memory stays bounded either way (each KeyUpdate replaces
    the read keys), but an endless flood would make the caller spin in ISC."""
    established(s, h)
    ku = handshake_message(HT.key_update, b"\x01")
    seen: list[sc.SecStatus] = []
    for _ in range(40):
        rec = s.prot(ku)
        s.key_update_write()
        got, _plain = h.decrypt(rec)
        seen += got
        if got[-1] not in (sc.SEC_E_OK, sc.SEC_I_RENEGOTIATE):
            break
    assert seen.count(sc.SEC_I_RENEGOTIATE) == 32, seen
    return seen[-1]


@attack(sc.SEC_E_OK, None, via="decrypt")
def key_update_with_data_between_is_fine(s: Server13, h: Harness) -> sc.SecStatus:
    """40 KeyUpdates each followed by application data: the limit counts only consecutive
    ones, so every record decrypts and the data comes through."""
    established(s, h)
    ku = handshake_message(HT.key_update, b"\x00")
    plain = b""
    for i in range(40):
        rec = s.prot(ku)
        s.key_update_write()
        got, _ = h.decrypt(rec)
        assert got == [sc.SEC_I_RENEGOTIATE], got
        got, data = h.decrypt(s.prot(b"%d," % i, APPLICATION_DATA))
        assert got == [sc.SEC_E_OK], got
        plain += data
    assert plain.count(b",") == 40
    return sc.SEC_E_OK


@attack(sc.SEC_E_OK, None, via="decrypt")
def new_session_ticket_flood(s: Server13, h: Harness) -> sc.SecStatus:
    """300 NewSessionTickets: each is accepted (RFC 8446 puts no limit on them), but the client
    keeps at most ClientConfig.max_tickets (8) of them; memory does not grow with the flood."""
    from schannel_py.sspi import context as X

    established(s, h)
    for i in range(300):
        body = (7200).to_bytes(4, "big") + i.to_bytes(4, "big") + b"\x01" + bytes([i & 0xFF])
        body += b"\x00\x04" + i.to_bytes(4, "big") + b"\x00\x00"
        got, _ = h.decrypt(s.prot(handshake_message(HT.new_session_ticket, body)))
        assert got == [sc.SEC_I_RENEGOTIATE], got
    ctx = X.CONTEXTS.get(h.ctx)
    assert ctx is not None
    assert len(ctx.client.tickets) == 8
    from schannel_py.sspi import cache

    cache.CACHE.remove_sessions(ctx.cached)  # see test_ticket_flood_does_not_grow_the_session_cache
    return sc.SEC_E_OK


@attack(ILLEGAL, A.illegal_parameter, via="decrypt")
def new_session_ticket_forbidden_extension(s: Server13, h: Harness) -> sc.SecStatus:
    """A NewSessionTicket carrying key_share: illegal_parameter (4.2: only early_data is
    specified for NewSessionTicket)."""
    established(s, h)
    body = (7200).to_bytes(4, "big") + bytes(4) + b"\x00" + b"\x00\x01x"
    body += ext_block([(Ext.key_share, b"")])
    return h.decrypt(s.prot(handshake_message(HT.new_session_ticket, body)))[0][-1]


@attack(ILLEGAL, A.illegal_parameter, via="decrypt")
def new_session_ticket_duplicate_early_data(s: Server13, h: Harness) -> sc.SecStatus:
    """A NewSessionTicket with early_data twice: illegal_parameter, as BoringSSL answers
    (BoGo TLS13-DuplicateTicketEarlyDataSupport)."""
    established(s, h)
    body = (7200).to_bytes(4, "big") + bytes(4) + b"\x00" + b"\x00\x01x"
    early = (Ext.early_data, (16384).to_bytes(4, "big"))
    body += ext_block([early, early])
    return h.decrypt(s.prot(handshake_message(HT.new_session_ticket, body)))[0][-1]


@attack(ILLEGAL, A.decode_error, via="decrypt")
def new_session_ticket_without_extension_block(s: Server13, h: Harness) -> sc.SecStatus:
    """A NewSessionTicket that ends after its ticket: decode_error (4.6.1 has the block)."""
    established(s, h)
    body = (7200).to_bytes(4, "big") + bytes(4) + b"\x00" + b"\x00\x01x"
    return h.decrypt(s.prot(handshake_message(HT.new_session_ticket, body)))[0][-1]


@attack(ILLEGAL, A.unexpected_message, via="decrypt")
def certificate_after_handshake(s: Server13, h: Harness) -> sc.SecStatus:
    """An unsolicited Certificate after the handshake: unexpected_message."""
    established(s, h)
    return h.decrypt(s.prot(s.certificate()))[0][-1]


@attack(sc.SEC_E_MESSAGE_ALTERED, A.bad_record_mac, via="decrypt")
def records_still_under_handshake_keys(s: Server13, h: Harness) -> sc.SecStatus:
    """After Finished the server keeps using its handshake keys: bad_record_mac (5.2)."""
    established(s, h)
    s.write = s._prot(s.s_hs)
    return h.decrypt(s.prot(b"data", APPLICATION_DATA))[0][-1]


@attack(sc.SEC_E_OK, None)
def ecdsa_signature_accepted(s: Server13, h: Harness) -> sc.SecStatus:
    """Control case: the hostile server's correct flight completes (ecdsa_secp256r1_sha256)."""
    status = h.feed(s.full_flight())[0]
    assert ECDSA_P256_SHA256 == 0x0403
    return status
