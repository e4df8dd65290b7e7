"""OCSP stapling against scripted servers: what a revocation flag asks for, what a stapled
response becomes, and the exact status and alert for every malformed or unsolicited staple.

The client asks for a staple (status_request, RFC 6066 section 8) when the credential
carries a SCH_CRED_REVOCATION_CHECK_* flag; the credentials here add manual validation,
so the hostile server's self-signed certificate is not what fails.  TLS 1.2 carries
the staple in a CertificateStatus message after an empty status_request in the
ServerHello; TLS 1.3 in the status_request extension of the leaf's CertificateEntry
(RFC 8446 section 4.4.2.1).  Decoding is strict, as OpenSSL and BoringSSL decode it:
a CertificateStatus whose status_type is not ocsp, whose OCSPResponse is empty or
truncated, or with trailing bytes is decode_error; a message out of place is
unexpected_message; an extension nobody asked for is unsupported_extension, one in a
message that cannot carry it illegal_parameter (RFC 8446 section 4.2).  Every such
failure is SEC_E_ILLEGAL_MESSAGE (``sspi/errors.py``, docs/windows-behaviour.md 0.4).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import schannel_py as sc
from schannel_py import crypt32
from schannel_py.testing import acquire_credential
from schannel_py.testing.attacks import Attack, Harness, registry, run_attack
from schannel_py.testing.builders import Server12, Server13, certificate_status, identity, record
from schannel_py.testing.pki import make_self_signed
from schannel_py.tls.alerts import AlertDescription as A
from schannel_py.tls.messages import Ext, HandshakeType, find_ext, handshake_message
from schannel_py.tls.record import HANDSHAKE
from tests.support.revocation import staple_property

HT = HandshakeType
ILLEGAL = sc.SEC_E_ILLEGAL_MESSAGE
#: An OCSPResponse (RFC 6960 4.2.1) with responseStatus malformedRequest: short, valid DER.
STAPLE = bytes.fromhex("30030a0101")
OTHER_STAPLE = bytes.fromhex("30030a0102")  # tryLater
STATUS = [(Ext.status_request, certificate_status(STAPLE))]
CHECK_FLAGS = (
    sc.SCH_CRED_REVOCATION_CHECK_END_CERT,
    sc.SCH_CRED_REVOCATION_CHECK_CHAIN,
    sc.SCH_CRED_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT,
)


def stapling_credential(check: int = sc.SCH_CRED_REVOCATION_CHECK_END_CERT) -> sc.CredHandle:
    """Manual validation plus a revocation flag (as .NET passes them)."""
    return acquire_credential(flags=sc.SCH_CRED_MANUAL_CRED_VALIDATION | check)


def intermediate_der() -> bytes:
    """Some other certificate to stand as an intermediate (manual validation: any will do)."""
    return make_self_signed(("ca.invalid",), key_type="p256", key_label="h-int").der


# --- TLS 1.3 -------------------------------------------------------------------------------------

ATTACKS13, attack13 = registry()


def flight13(s: Server13, *, ee: Any = (), **certificate: Any) -> bytes:
    """ServerHello, then EE, Certificate (with ``certificate``'s arguments), CV, Finished."""
    sh = s.sh_flight()
    msgs = s.encrypted_extensions(ee) + s.certificate(**certificate)
    return sh + s.prot(msgs + s.certificate_verify() + s.finished())


def through_certificate13(s: Server13, **certificate: Any) -> bytes:
    """ServerHello, then EE and the Certificate only (the failure comes there)."""
    sh = s.sh_flight()
    return sh + s.prot(s.encrypted_extensions() + s.certificate(**certificate))


@attack13(sc.SEC_E_OK, None)
def staple13_leaf(s: Server13, h: Harness) -> sc.SecStatus:
    """Control: a staple in the leaf's CertificateEntry completes the handshake and is the
    certificate's CERT_OCSP_RESPONSE_PROP_ID, byte for byte."""
    status = h.feed(flight13(s, entry_extensions=[STATUS]))[0]
    assert staple_property(h.ctx) == STAPLE
    return status


@attack13(sc.SEC_E_OK, None)
def staple13_none_sent(s: Server13, h: Harness) -> sc.SecStatus:
    """Asked, but the server staples nothing (RFC 8446 4.4.2.1 "MAY"): no property 70."""
    status = h.feed(flight13(s))[0]
    assert staple_property(h.ctx) is None
    return status


@attack13(sc.SEC_E_OK, None)
def staple13_on_intermediate_ignored(s: Server13, h: Harness) -> sc.SecStatus:
    """A well-formed staple on an intermediate's entry is allowed (4.4.2.1: the entry of
    "the associated certificate") and ignored, as BoringSSL's
    IgnoreExtensionsOnIntermediates-TLS13 and OpenSSL do: the leaf's own staple stays the
    certificate's property."""
    other = [(Ext.status_request, certificate_status(OTHER_STAPLE))]
    chain = identity().chain + [intermediate_der()]
    status = h.feed(flight13(s, chain=chain, entry_extensions=[STATUS, other]))[0]
    assert staple_property(h.ctx) == STAPLE
    return status


@attack13(sc.SEC_E_OK, None)
def staple13_only_on_intermediate(s: Server13, h: Harness) -> sc.SecStatus:
    """A staple on the intermediate only: the leaf has none, so no property 70."""
    other = [(Ext.status_request, certificate_status(OTHER_STAPLE))]
    chain = identity().chain + [intermediate_der()]
    status = h.feed(flight13(s, chain=chain, entry_extensions=[[], other]))[0]
    assert staple_property(h.ctx) is None
    return status


def _leaf_status13(body: bytes) -> Callable[[Server13, Harness], sc.SecStatus]:
    def run(s: Server13, h: Harness) -> sc.SecStatus:
        exts = [(Ext.status_request, body)]
        return h.feed(through_certificate13(s, entry_extensions=[exts]))[0]

    return run


@attack13(ILLEGAL, A.decode_error)
def staple13_wrong_status_type(s: Server13, h: Harness) -> sc.SecStatus:
    """status_type 2 (ocsp_multi, RFC 6961) in the leaf's status_request: decode_error,
    as OpenSSL (SSL_R_UNSUPPORTED_STATUS_TYPE) and BoringSSL answer."""
    return _leaf_status13(certificate_status(STAPLE, status_type=2))(s, h)


@attack13(ILLEGAL, A.decode_error)
def staple13_truncated(s: Server13, h: Harness) -> sc.SecStatus:
    """An OCSPResponse length of 100 over 5 bytes: decode_error."""
    return _leaf_status13(b"\x01\x00\x00\x64" + STAPLE)(s, h)


@attack13(ILLEGAL, A.decode_error)
def staple13_empty_response(s: Server13, h: Harness) -> sc.SecStatus:
    """OCSPResponse<1..2^24-1> of length 0: decode_error (out of range)."""
    return _leaf_status13(b"\x01\x00\x00\x00")(s, h)


@attack13(ILLEGAL, A.decode_error)
def staple13_empty_extension(s: Server13, h: Harness) -> sc.SecStatus:
    """The TLS 1.2 style empty acknowledgement inside a CertificateEntry: its body must be
    a CertificateStatus (4.4.2.1), decode_error."""
    return _leaf_status13(b"")(s, h)


@attack13(ILLEGAL, A.decode_error)
def staple13_trailing_bytes(s: Server13, h: Harness) -> sc.SecStatus:
    """A byte after the OCSPResponse: decode_error."""
    return _leaf_status13(certificate_status(STAPLE) + b"\x00")(s, h)


@attack13(ILLEGAL, A.decode_error)
def staple13_malformed_on_intermediate(s: Server13, h: Harness) -> sc.SecStatus:
    """An intermediate's staple is ignored, but decoded first (as BoringSSL does): a
    truncated one is decode_error."""
    bad = [(Ext.status_request, b"\x01\x00\x00\x64")]
    chain = identity().chain + [intermediate_der()]
    return h.feed(through_certificate13(s, chain=chain, entry_extensions=[STATUS, bad]))[0]


@attack13(ILLEGAL, A.decode_error)
def staple13_twice_in_leaf(s: Server13, h: Harness) -> sc.SecStatus:
    """status_request twice in one CertificateEntry: a duplicate extension, decode_error
    (BoringSSL's SendDuplicateExtensionsOnCerts-TLS13)."""
    return h.feed(through_certificate13(s, entry_extensions=[STATUS + STATUS]))[0]


@attack13(ILLEGAL, A.illegal_parameter)
def staple13_in_encrypted_extensions(s: Server13, h: Harness) -> sc.SecStatus:
    """status_request in EncryptedExtensions (RFC 8446 4.2 lists it for CH, CR and CT
    only): illegal_parameter."""
    sh = s.sh_flight()
    ee = s.encrypted_extensions([(Ext.status_request, b"")])
    return h.feed(sh + s.prot(ee + s.certificate()))[0]


@attack13(ILLEGAL, A.unsupported_extension)
def staple13_unrequested(s: Server13, h: Harness) -> sc.SecStatus:
    """A well-formed staple the client never asked for (no revocation flag): RFC 8446 4.4.2
    / 4.2, unsupported_extension (BoringSSL's SendUnsolicitedOCSPOnCertificate-TLS13)."""
    return h.feed(through_certificate13(s, entry_extensions=[STATUS]))[0]


staple13_unrequested.requested = False  # type: ignore[attr-defined]


@attack13(ILLEGAL, A.unexpected_message)
def staple13_certificate_status_message(s: Server13, h: Harness) -> sc.SecStatus:
    """A TLS 1.2 CertificateStatus message in a TLS 1.3 handshake: there is none in TLS 1.3,
    unexpected_message."""
    sh = s.sh_flight()
    msgs = s.encrypted_extensions() + s.certificate()
    msgs += s.add(handshake_message(HT.certificate_status, certificate_status(STAPLE)))
    return h.feed(sh + s.prot(msgs))[0]


@pytest.mark.parametrize("case", ATTACKS13, ids=[a.name for a in ATTACKS13])
def test_attack13(case: Attack) -> None:
    requested = getattr(case.run, "requested", True)
    cred = stapling_credential() if requested else acquire_credential(manual_validation=True)
    run_attack(case, Server13(), Harness(cred=cred))


# --- TLS 1.2 -------------------------------------------------------------------------------------

ATTACKS12, attack12 = registry()
ACK = [(Ext.status_request, b"")]


def finish12(s: Server12, h: Harness, first_flight: bytes) -> sc.SecStatus:
    """The client's flight after ``first_flight``, then the server's CCS and Finished."""
    status, token = h.feed(first_flight)
    assert status == sc.SEC_I_CONTINUE_NEEDED, status
    s.read_client_flight(token)
    return h.feed(s.ccs() + s.prot(s.finished()))[0]


def messages12(s: Server12, *builders: Callable[[], bytes], ack: bool = True) -> bytes:
    """ServerHello (with the status_request acknowledgement) and the built messages, in one
    record; built lazily, in order, so that the server's transcript is right."""
    msgs = s.server_hello(extra=ACK if ack else [])
    for build in builders:
        msgs += build()
    return record(HANDSHAKE, msgs)


@attack12(sc.SEC_E_OK, None)
def staple12_certificate_status(s: Server12, h: Harness) -> sc.SecStatus:
    """Control: status_request acknowledged, CertificateStatus after Certificate; the
    handshake completes and the staple is the certificate's property 70, byte for byte."""
    flight = messages12(
        s,
        s.certificate,
        lambda: s.certificate_status(STAPLE),
        s.server_key_exchange,
        s.server_hello_done,
    )
    status = finish12(s, h, flight)
    assert staple_property(h.ctx) == STAPLE
    return status


@attack12(sc.SEC_E_OK, None)
def staple12_acknowledged_but_skipped(s: Server12, h: Harness) -> sc.SecStatus:
    """Acknowledged, then no CertificateStatus: RFC 6066 section 8 lets the server change its
    mind (BoringSSL's SkipCertificateStatus); no property 70."""
    flight = messages12(s, s.certificate, s.server_key_exchange, s.server_hello_done)
    status = finish12(s, h, flight)
    assert staple_property(h.ctx) is None
    return status


@attack12(sc.SEC_E_OK, None)
def staple12_not_acknowledged(s: Server12, h: Harness) -> sc.SecStatus:
    """Asked, not acknowledged, no staple: an ordinary handshake, no property 70."""
    flight = messages12(s, s.certificate, s.server_key_exchange, s.server_hello_done, ack=False)
    status = finish12(s, h, flight)
    assert staple_property(h.ctx) is None
    return status


@attack12(ILLEGAL, A.unexpected_message)
def staple12_without_acknowledgement(s: Server12, h: Harness) -> sc.SecStatus:
    """CertificateStatus although the ServerHello did not acknowledge status_request:
    RFC 6066 section 8 ("MUST have included" it), unexpected_message."""
    flight = messages12(s, s.certificate, lambda: s.certificate_status(STAPLE), ack=False)
    return h.feed(flight)[0]


@attack12(ILLEGAL, A.unexpected_message)
def staple12_unrequested(s: Server12, h: Harness) -> sc.SecStatus:
    """No revocation flag, so no status_request; a CertificateStatus anyway:
    unexpected_message."""
    flight = messages12(s, s.certificate, lambda: s.certificate_status(STAPLE), ack=False)
    return h.feed(flight)[0]


staple12_unrequested.requested = False  # type: ignore[attr-defined]


@attack12(ILLEGAL, A.unsupported_extension)
def staple12_unrequested_acknowledgement(s: Server12, h: Harness) -> sc.SecStatus:
    """No revocation flag, yet the ServerHello acknowledges status_request:
    unsupported_extension (RFC 5246 7.4.1.4)."""
    return h.feed(messages12(s))[0]


staple12_unrequested_acknowledgement.requested = False  # type: ignore[attr-defined]


@attack12(ILLEGAL, A.decode_error)
def staple12_acknowledgement_with_body(s: Server12, h: Harness) -> sc.SecStatus:
    """The ServerHello's status_request must be empty (RFC 6066 section 8): decode_error."""
    msgs = s.server_hello(extra=[(Ext.status_request, certificate_status(STAPLE))])
    return h.feed(record(HANDSHAKE, msgs))[0]


def _status12(body: bytes) -> Callable[[Server12, Harness], sc.SecStatus]:
    def run(s: Server12, h: Harness) -> sc.SecStatus:
        flight = messages12(s, s.certificate, lambda: s.certificate_status(body=body))
        return h.feed(flight)[0]

    return run


@attack12(ILLEGAL, A.decode_error)
def staple12_wrong_status_type(s: Server12, h: Harness) -> sc.SecStatus:
    """status_type 2 in CertificateStatus: decode_error (OpenSSL's
    SSL_R_UNSUPPORTED_STATUS_TYPE with SSL_AD_DECODE_ERROR)."""
    return _status12(certificate_status(STAPLE, status_type=2))(s, h)


@attack12(ILLEGAL, A.decode_error)
def staple12_truncated(s: Server12, h: Harness) -> sc.SecStatus:
    """An OCSPResponse length beyond the message: decode_error."""
    return _status12(b"\x01\x00\x01\x00" + STAPLE)(s, h)


@attack12(ILLEGAL, A.decode_error)
def staple12_empty_response(s: Server12, h: Harness) -> sc.SecStatus:
    """OCSPResponse of length 0 (it is <1..2^24-1>): decode_error."""
    return _status12(b"\x01\x00\x00\x00")(s, h)


@attack12(ILLEGAL, A.decode_error)
def staple12_empty_message(s: Server12, h: Harness) -> sc.SecStatus:
    """A CertificateStatus with no body at all: decode_error."""
    return _status12(b"")(s, h)


@attack12(ILLEGAL, A.decode_error)
def staple12_trailing_bytes(s: Server12, h: Harness) -> sc.SecStatus:
    """A byte after the OCSPResponse (BoGo's TrailingMessageData-CertificateStatus):
    decode_error."""
    return _status12(certificate_status(STAPLE) + b"\x00")(s, h)


@attack12(ILLEGAL, A.unexpected_message)
def staple12_twice(s: Server12, h: Harness) -> sc.SecStatus:
    """Two CertificateStatus messages: the second is unexpected_message."""
    flight = messages12(
        s,
        s.certificate,
        lambda: s.certificate_status(STAPLE),
        lambda: s.certificate_status(STAPLE),
    )
    return h.feed(flight)[0]


@attack12(ILLEGAL, A.unexpected_message)
def staple12_before_certificate(s: Server12, h: Harness) -> sc.SecStatus:
    """CertificateStatus before the Certificate: unexpected_message."""
    return h.feed(messages12(s, lambda: s.certificate_status(STAPLE), s.certificate))[0]


@attack12(ILLEGAL, A.unexpected_message)
def staple12_after_server_key_exchange(s: Server12, h: Harness) -> sc.SecStatus:
    """CertificateStatus after the ServerKeyExchange (its place is right after Certificate):
    unexpected_message."""
    flight = messages12(
        s, s.certificate, s.server_key_exchange, lambda: s.certificate_status(STAPLE)
    )
    return h.feed(flight)[0]


@pytest.mark.parametrize("case", ATTACKS12, ids=[a.name for a in ATTACKS12])
def test_attack12(case: Attack) -> None:
    requested = getattr(case.run, "requested", True)
    cred = stapling_credential() if requested else acquire_credential(manual_validation=True)
    run_attack(case, Server12(), Harness(cred=cred))


def test_enough_attacks() -> None:
    assert len(ATTACKS13) >= 12 and len(ATTACKS12) >= 12
    names = [a.name for a in ATTACKS13 + ATTACKS12]
    assert len(set(names)) == len(names)


# --- what the ClientHello asks for ---------------------------------------------------------------


def client_hello_status_request(cred: sc.CredHandle) -> bytes | None:
    h = Harness(cred=cred)
    try:
        return find_ext(Server13().read_client_hello(h.start()).extensions, Ext.status_request)
    finally:
        h.close()


@pytest.mark.parametrize("check", CHECK_FLAGS, ids=lambda f: hex(f))
@pytest.mark.parametrize("manual", [False, True], ids=["automatic", "manual"])
def test_a_revocation_flag_sends_status_request(check: int, manual: bool) -> None:
    """Each CHECK flag, with or without manual validation: status_request for OCSP with no
    responder IDs and no extensions (RFC 6066 section 8), in SCH_CREDENTIALS and in
    SCHANNEL_CRED (whose ClientHello is TLS 1.2 only)."""
    flags = check | (sc.SCH_CRED_MANUAL_CRED_VALIDATION if manual else 0)
    assert client_hello_status_request(acquire_credential(flags=flags)) == b"\x01\x00\x00\x00\x00"
    cred = sc.CredHandle()
    auth = sc.SCHANNEL_CRED(
        dwVersion=sc.SCHANNEL_CRED_VERSION,
        grbitEnabledProtocols=sc.SP_PROT_TLS1_2_CLIENT,
        dwFlags=flags,
    )
    assert (
        sc.AcquireCredentialsHandle(
            None, sc.UNISP_NAME, sc.SECPKG_CRED_OUTBOUND, None, auth, None, None, cred, None
        )
        == sc.SEC_E_OK
    )
    assert client_hello_status_request(cred) == b"\x01\x00\x00\x00\x00"


@pytest.mark.parametrize(
    "flags",
    [
        0,
        sc.SCH_CRED_MANUAL_CRED_VALIDATION,
        sc.SCH_CRED_IGNORE_NO_REVOCATION_CHECK | sc.SCH_CRED_IGNORE_REVOCATION_OFFLINE,
        sc.SCH_CRED_REVOCATION_CHECK_CACHE_ONLY,
    ],
    ids=["none", "manual", "ignore-flags-only", "cache-only-alone"],
)
def test_no_revocation_flag_no_status_request(flags: int) -> None:
    """Without a CHECK flag (the IGNORE flags alone, as curl's --ssl-no-revoke passes them,
    included) the ClientHello does not ask for a staple."""
    assert client_hello_status_request(acquire_credential(flags=flags)) is None


# --- the staple in the certificate check ---------------------------------------------------------


def _callback_sees(version: int, monkeypatch: pytest.MonkeyPatch) -> list[bytes | None]:
    """The staple (property 70 of the leaf it is given) as the application's verify callback
    sees it, and what verify_server_chain is given (``staple=``) under automatic validation."""
    seen: list[bytes | None] = []
    given: list[bytes | None] = []
    original = crypt32.verify_server_chain

    def verify_server_chain(*args: Any, staple: bytes | None = None, **kw: Any) -> Any:
        given.append(staple)
        original(*args, **kw)
        return sc.SEC_E_OK  # the hostile server's certificate is self-signed

    monkeypatch.setattr(crypt32, "verify_server_chain", verify_server_chain)

    def callback(leaf: crypt32.CERT_CONTEXT) -> int:
        size = crypt32.DWORD()
        prop = crypt32.CERT_OCSP_RESPONSE_PROP_ID
        if crypt32.CertGetCertificateContextProperty(leaf, prop, None, size):
            buf = bytearray(size.value)
            crypt32.CertGetCertificateContextProperty(leaf, prop, buf, size)
            seen.append(bytes(buf))
        else:
            seen.append(None)
        return sc.SEC_E_OK

    h = Harness(cred=acquire_credential(flags=sc.SCH_CRED_REVOCATION_CHECK_CHAIN))
    try:
        first = h.start()
        info = sc.SecPkgContext_PyVerifyCallback(pfnCallback=callback)
        assert sc.SetContextAttributes(h.ctx, sc.SECPKG_ATTR_PY_VERIFY_CALLBACK, info, 0) == 0
        if version == 0x0304:
            s13 = Server13()
            s13.read_client_hello(first)
            assert h.feed(flight13(s13, entry_extensions=[STATUS]))[0] == sc.SEC_E_OK
        else:
            s12 = Server12()
            s12.read_client_hello(first)
            flight = messages12(
                s12,
                s12.certificate,
                lambda: s12.certificate_status(STAPLE),
                s12.server_key_exchange,
                s12.server_hello_done,
            )
            assert finish12(s12, h, flight) == sc.SEC_E_OK
    finally:
        h.close()
    return seen + given


@pytest.mark.parametrize("version", [0x0304, 0x0303], ids=["tls13", "tls12"])
def test_the_certificate_check_gets_the_staple(
    version: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check ISC runs sees the staple: crypt32's chain check gets it as ``staple=`` (when
    it takes that keyword), the verify callback finds it on the leaf as property 70.  In
    TLS 1.2 the check waits for the CertificateStatus after the Certificate."""
    assert _callback_sees(version, monkeypatch) == [STAPLE, STAPLE]
