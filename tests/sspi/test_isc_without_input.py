"""ISC with no input after DecryptMessage returned SEC_I_RENEGOTIATE (rule 3.2.9).

Qt answers every SEC_I_RENEGOTIATE with ``InitializeSecurityContext(..., pInput =
nullptr, ...)`` and accepts only SEC_I_CONTINUE_NEEDED (it sends the token) or
SEC_E_OK (qtbase src/plugins/tls/schannel/qtls_schannel.cpp,
TlsCryptographSchannel::renegotiate); Wine's test_communication expects
SEC_I_CONTINUE_NEEDED with a new ClientHello for a TLS 1.2 HelloRequest.  The
context already holds the message, so no input is needed.  The servers are the
scripted ones of schannel_py.testing.builders.
"""

from __future__ import annotations

import pytest

import schannel_py as sc
from schannel_py.sspi import context as X
from schannel_py.sspi.phases import Phase
from schannel_py.testing.attacks import Harness, credential, finish12
from schannel_py.testing.builders import Server12, Server13
from schannel_py.tls.keyschedule import next_traffic_secret, traffic_keys
from schannel_py.tls.messages import HandshakeType as HT
from schannel_py.tls.messages import handshake_message
from schannel_py.tls.record import APPLICATION_DATA, HANDSHAKE, Protection13
from tests.support.isc_call import QT_FLAGS, isc_continue

NST = handshake_message(HT.new_session_ticket, bytes(4 + 4) + b"\x00\x00\x01t\x00\x00")

#: What "no input" may look like: pInput NULL (Qt), a descriptor without buffers, or
#: one with only an EMPTY buffer.
NO_INPUT: dict[str, object] = {
    "null": None,
    "no_buffers": "no_buffers",
    "empty_only": "empty_only",
}


def _input(kind: object) -> sc.SecBufferDesc | None:
    if kind == "no_buffers":
        return sc.SecBufferDesc([])
    if kind == "empty_only":
        return sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None)])
    return None


def renegotiate(h: Harness, kind: object = None) -> tuple[sc.SecStatus, bytes]:
    """Qt's renegotiate(): ISC(cred, ctx, target, flags, pInput, out [TOKEN, ALERT, EMPTY])."""
    return isc_continue(h.cred, h.ctx, h.target, QT_FLAGS, _input(kind))


def decrypt_one(h: Harness, data: bytes) -> sc.SecStatus:
    buf = bytearray(data)
    desc = sc.SecBufferDesc(
        [sc.SecBuffer(len(buf), sc.SECBUFFER_DATA, buf)]
        + [sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None) for _ in range(3)]
    )
    return sc.DecryptMessage(h.ctx, desc, 0, None)


def established13(s: Server13, h: Harness) -> None:
    s.read_client_hello(h.start())
    status, token = h.feed(s.full_flight())
    assert status == sc.SEC_E_OK, status
    assert s.client_hs is not None
    s.client_hs.open(token[-(4 + 32 + 1 + 16 + 5) :])  # the client Finished
    s.switch_to_application_keys()


def phase(h: Harness) -> Phase:
    ctx = X.CONTEXTS.get(h.ctx)
    assert ctx is not None
    return ctx.phase


@pytest.mark.parametrize("kind", list(NO_INPUT.values()), ids=list(NO_INPUT))
def test_new_session_ticket_then_isc_without_input(kind: object) -> None:
    s, h = Server13(), Harness(cred=credential())
    try:
        established13(s, h)
        assert decrypt_one(h, s.prot(NST)) == sc.SEC_I_RENEGOTIATE
        assert h.encrypt_status() == sc.SEC_E_CONTEXT_EXPIRED  # until ISC has run
        assert renegotiate(h, kind) == (sc.SEC_E_OK, b"")
        assert phase(h) is Phase.ESTABLISHED
        status, rec = h.encrypt(b"after the ticket")
        assert status == sc.SEC_E_OK
        assert s.client_ap is not None
        assert s.client_ap.open(rec) == (APPLICATION_DATA, b"after the ticket")
        # Nothing is owed any more: ESTABLISHED's answer to no input again.
        assert renegotiate(h)[0] == sc.SEC_E_INCOMPLETE_MESSAGE
    finally:
        h.close()


def test_key_update_requested_then_isc_without_input_sends_the_answer() -> None:
    s, h = Server13(), Harness(cred=credential())
    try:
        established13(s, h)
        assert decrypt_one(h, s.prot(handshake_message(HT.key_update, b"\x01"))) == (
            sc.SEC_I_RENEGOTIATE
        )
        s.key_update_write()
        status, answer = renegotiate(h)
        assert status == sc.SEC_E_OK and answer
        assert s.client_ap is not None
        # The client's KeyUpdate (update_not_requested) under its old key ...
        assert s.client_ap.open(answer) == (HANDSHAKE, handshake_message(HT.key_update, b"\x00"))
        # ... then its records under the next one; the server's new key reads fine.
        status, rec = h.encrypt(b"new key")
        assert status == sc.SEC_E_OK
        c_ap = next_traffic_secret(s.suite.hash_name, s.c_ap)
        key, iv = traffic_keys(s.suite.hash_name, c_ap, s.suite.key_len)
        assert Protection13(s.suite, c_ap, key, iv).open(rec) == (APPLICATION_DATA, b"new key")
        seen, plain = h.decrypt(s.prot(b"server, new key", APPLICATION_DATA))
        assert (seen, plain) == ([sc.SEC_E_OK], b"server, new key")
    finally:
        h.close()


@pytest.mark.parametrize("kind", list(NO_INPUT.values()), ids=list(NO_INPUT))
def test_hello_request_then_isc_without_input_sends_a_client_hello(kind: object) -> None:
    s, h = Server12(), Harness(cred=credential())
    try:
        s.read_client_hello(h.start())
        finish12(s, h)
        hello_request = s.prot(handshake_message(HT.hello_request, b""))
        assert decrypt_one(h, hello_request) == sc.SEC_I_RENEGOTIATE
        status, token = renegotiate(h, kind)
        assert status == sc.SEC_I_CONTINUE_NEEDED
        assert phase(h) is Phase.HANDSHAKE
        assert s.read is not None
        ctype, hello = s.read.open(token)  # under the current keys
        assert ctype == HANDSHAKE and hello[0] == HT.client_hello
    finally:
        h.close()
