"""schannel_py extension: the alert for a failure DecryptMessage detected.

DecryptMessage has no SECBUFFER_ALERT output, so after it fails the caller
learns the alert TLS prescribes from SECPKG_ATTR_PY_HANDSHAKE_INFO
(``fFailureAlert`` / ``bFailureAlert``) and sends it with
ApplyControlToken(SCHANNEL_ALERT) + ISC, which protects it under the current
write key.  The scripted servers of schannel_py.testing.builders hold the client's
write keys, so they open that record and name the alert they received.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable

import pytest

import schannel_py as sc
from schannel_py.testing import acquire_credential
from schannel_py.testing.attacks import Harness, credential, finish12
from schannel_py.testing.builders import Server12, Server13, record
from schannel_py.testing.memserver import MemoryServer
from schannel_py.tls.alerts import AlertDescription as A
from schannel_py.tls.messages import HandshakeType as HT
from schannel_py.tls.messages import handshake_message
from schannel_py.tls.record import ALERT, APPLICATION_DATA, HANDSHAKE
from tests.support import peers
from tests.support.sspi_driver import CurlLoop


def failure_alert(ctx: sc.CtxtHandle) -> int | None:
    info = sc.SecPkgContext_PyHandshakeInfo()
    assert sc.QueryContextAttributes(ctx, sc.SECPKG_ATTR_PY_HANDSHAKE_INFO, info) == sc.SEC_E_OK
    if not info.fFailureAlert:
        assert info.bFailureAlert == 0
        return None
    return int(info.bFailureAlert)


def send_alert(h: Harness, description: int) -> bytes:
    """ApplyControlToken(SCHANNEL_ALERT fatal) then ISC with no input: the record to send."""
    token = sc.pack_alert_token(sc.TLS1_ALERT_FATAL, description)
    desc = sc.SecBufferDesc([sc.SecBuffer(len(token), sc.SECBUFFER_TOKEN, token)])
    assert sc.ApplyControlToken(h.ctx, desc) == sc.SEC_E_OK
    out = sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_TOKEN, None)])
    flags = sc.ISC_REQ_ALLOCATE_MEMORY | sc.ISC_REQ_STREAM | sc.ISC_REQ_CONFIDENTIALITY
    status = sc.InitializeSecurityContext(
        h.cred, h.ctx, h.target, flags, 0, 0, None, 0, None, out, h.attrs, None
    )
    assert status == sc.SEC_E_OK, status
    tok = out.pBuffers[0]
    assert tok.pvBuffer is not None and tok.cbBuffer > 0
    return bytes(tok.pvBuffer[: tok.cbBuffer])


# --- TLS 1.3 -----------------------------------------------------------------------------


def established13(s: Server13, h: Harness) -> None:
    s.read_client_hello(h.start())
    assert h.feed(s.full_flight())[0] == sc.SEC_E_OK
    s.switch_to_application_keys()


def tampered13(s: Server13) -> bytes:
    rec = bytearray(s.prot(b"tampered", APPLICATION_DATA))
    rec[-1] ^= 1
    return bytes(rec)


CASES13: list[tuple[str, Callable[[Server13], bytes], sc.SecStatus, int]] = [
    ("bad_record_mac", tampered13, sc.SEC_E_MESSAGE_ALTERED, A.bad_record_mac),
    (
        "decode_error",  # a KeyUpdate with a trailing byte
        lambda s: s.prot(handshake_message(HT.key_update, b"\x00\x00")),
        sc.SEC_E_ILLEGAL_MESSAGE,
        A.decode_error,
    ),
    (
        "illegal_parameter",  # request_update 2
        lambda s: s.prot(handshake_message(HT.key_update, b"\x02")),
        sc.SEC_E_ILLEGAL_MESSAGE,
        A.illegal_parameter,
    ),
    (
        "unexpected_message",  # an unprotected alert record after the handshake
        lambda s: record(ALERT, b"\x02\x28"),
        sc.SEC_E_ILLEGAL_MESSAGE,
        A.unexpected_message,
    ),
]


@pytest.mark.parametrize(
    ("records", "status", "alert"), [c[1:] for c in CASES13], ids=[c[0] for c in CASES13]
)
def test_tls13_failure_alert_reaches_the_server(
    records: Callable[[Server13], bytes], status: sc.SecStatus, alert: int
) -> None:
    s, h = Server13(), Harness()
    try:
        established13(s, h)
        assert failure_alert(h.ctx) is None  # a working context has none
        got, plain = h.decrypt(s.prot(b"before", APPLICATION_DATA) + records(s))
        assert plain == b"before" and got[-1] == status
        assert failure_alert(h.ctx) == alert
        wire = send_alert(h, alert)
        assert wire[0] == APPLICATION_DATA  # protected: the outer type hides the alert
        assert s.client_ap is not None
        assert s.client_ap.open(wire) == (ALERT, bytes([2, alert]))
        assert failure_alert(h.ctx) == alert  # still there after the alert went out
    finally:
        h.close()


def test_tls13_peer_alert_leaves_nothing_to_send() -> None:
    """The server's own fatal alert ended the connection: no alert of ours is due."""
    s, h = Server13(), Harness()
    try:
        established13(s, h)
        got, _ = h.decrypt(s.prot(bytes([2, A.internal_error]), ALERT))
        assert got[-1] == sc.SEC_E_INTERNAL_ERROR
        assert failure_alert(h.ctx) is None
    finally:
        h.close()


def test_bad_record_header_names_its_alert() -> None:
    """Bytes that are no TLS record header at all (SEC_E_INVALID_TOKEN): unexpected_message."""
    s, h = Server13(), Harness()
    try:
        established13(s, h)
        assert h.decrypt(b"\x30\x03\x03\x00\x01x")[0][-1] == sc.SEC_E_INVALID_TOKEN
        assert failure_alert(h.ctx) == A.unexpected_message
    finally:
        h.close()


# --- TLS 1.2 -----------------------------------------------------------------------------


def established12(s: Server12, h: Harness) -> None:
    s.read_client_hello(h.start())
    finish12(s, h)


def tampered12(s: Server12) -> bytes:
    rec = bytearray(s.prot(b"tampered", APPLICATION_DATA))
    rec[-1] ^= 1
    return bytes(rec)


CASES12: list[tuple[str, Callable[[Server12], bytes], sc.SecStatus, int]] = [
    ("bad_record_mac", tampered12, sc.SEC_E_MESSAGE_ALTERED, A.bad_record_mac),
    (
        "decode_error",  # a HelloRequest with a body
        lambda s: s.prot(handshake_message(HT.hello_request, b"\x00")),
        sc.SEC_E_ILLEGAL_MESSAGE,
        A.decode_error,
    ),
    (
        "unexpected_message",  # a ServerHello nobody asked for
        lambda s: s.prot(s.server_hello()),
        sc.SEC_E_ILLEGAL_MESSAGE,
        A.unexpected_message,
    ),
]


@pytest.mark.parametrize(
    ("records", "status", "alert"), [c[1:] for c in CASES12], ids=[c[0] for c in CASES12]
)
def test_tls12_failure_alert_reaches_the_server(
    records: Callable[[Server12], bytes], status: sc.SecStatus, alert: int
) -> None:
    s, h = Server12(), Harness(cred=credential())
    try:
        established12(s, h)
        assert failure_alert(h.ctx) is None
        got, plain = h.decrypt(s.prot(b"before", APPLICATION_DATA) + records(s))
        assert plain == b"before" and got[-1] == status
        assert failure_alert(h.ctx) == alert
        wire = send_alert(h, alert)
        assert wire[0] == ALERT and len(wire) > 7  # TLS 1.2 keeps the type; the body is sealed
        assert s.open_alert(wire) == (2, alert)
    finally:
        h.close()


def test_handshake_failure_alert_also_reported_for_a_renegotiation() -> None:
    """A failure inside a renegotiation (ISC) is reported the same way; its alert is the
    one ISC already put into SECBUFFER_ALERT."""
    s, h = Server12(), Harness(cred=credential())
    try:
        established12(s, h)
        got, _ = h.decrypt(s.prot(handshake_message(HT.hello_request, b"")))
        assert got == [sc.SEC_I_RENEGOTIATE, sc.SEC_I_CONTINUE_NEEDED], got
        assert failure_alert(h.ctx) is None
        assert s.read is not None
        assert s.read.open(h.token)[0] == HANDSHAKE  # the new ClientHello
        s.transcript = type(s.transcript)()
        s.transcript.set_hash(s.suite.hash_name)
        status, _ = h.feed(s.prot(s.server_hello(), HANDSHAKE))  # no renegotiation_info
        assert status == sc.SEC_E_ALGORITHM_MISMATCH
        assert s.open_alert(h.alert) == (2, A.handshake_failure)
        assert failure_alert(h.ctx) == A.handshake_failure
    finally:
        h.close()


def test_python_ssl_server_reads_the_alert(pki: peers.ServerPki) -> None:
    """The same through curl's loop against Python's ssl (TLS 1.3): the server's read
    fails with the alert the package named."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(pki.ecdsa.fullchain, pki.ecdsa.key)
    loop = CurlLoop(MemoryServer.for_context(ctx), acquire_credential(manual_validation=True))
    assert loop.handshake() == sc.SEC_E_OK
    loop.decrypt_all()
    wire = bytearray(loop.server.write(b"tampered"))
    wire[-3] ^= 1
    desc = sc.SecBufferDesc(
        [sc.SecBuffer(len(wire), sc.SECBUFFER_DATA, wire)]
        + [sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None) for _ in range(3)]
    )
    assert sc.DecryptMessage(loop.ctx, desc, 0, None) == sc.SEC_E_MESSAGE_ALTERED
    alert = failure_alert(loop.ctx)
    assert alert == A.bad_record_mac
    h = Harness(cred=loop.cred, ctx=loop.ctx, target="localhost")
    loop.server.incoming.write(send_alert(h, alert))
    with pytest.raises(ssl.SSLError, match="(?i)bad.record.mac"):
        loop.server.tls.read(100)
