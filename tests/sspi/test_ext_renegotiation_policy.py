"""schannel_py extension: SetContextAttributes(SECPKG_ATTR_PY_RENEGOTIATION_POLICY).

SCHANNEL_PY_RENEGOTIATION_ACCEPT (the default) is Windows' behaviour: a TLS 1.2
HelloRequest makes DecryptMessage return SEC_I_RENEGOTIATE, after which
Encrypt/DecryptMessage answer SEC_E_CONTEXT_EXPIRED until ISC renegotiates.
SCHANNEL_PY_RENEGOTIATION_IGNORE drops the HelloRequest (BoringSSL's
ssl_renegotiate_ignore): DecryptMessage returns SEC_E_OK with no data and the
connection goes on under the same keys.  The scripted TLS 1.2 server of
schannel_py.testing.builders sends the HelloRequests and checks the keys; one test
uses ``openssl s_server``'s ``r`` command.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import schannel_py as sc
from schannel_py import stream
from schannel_py.testing.attacks import Harness, credential, finish12
from schannel_py.testing.builders import Server12, Server13, record
from schannel_py.tls.messages import HandshakeType as HT
from schannel_py.tls.messages import handshake_message
from schannel_py.tls.record import APPLICATION_DATA, HANDSHAKE
from tests.support import peers
from tests.support.sspi_driver import no_unexpected_exceptions

HELLO_REQUEST = handshake_message(HT.hello_request, b"")
ATTR = sc.SECPKG_ATTR_PY_RENEGOTIATION_POLICY


def set_policy(ctx: sc.CtxtHandle, policy: int) -> sc.SecStatus:
    info = sc.SecPkgContext_PyRenegotiationPolicy(dwPolicy=policy)
    return sc.SetContextAttributes(ctx, ATTR, info, 0)


def get_policy(ctx: sc.CtxtHandle) -> int:
    info = sc.SecPkgContext_PyRenegotiationPolicy(dwPolicy=-1)
    assert sc.QueryContextAttributes(ctx, ATTR, info) == sc.SEC_E_OK
    return info.dwPolicy


def decrypt_one(h: Harness, data: bytes) -> tuple[sc.SecStatus, list[tuple[int, int]], int]:
    """One DecryptMessage: (status, [(type, cb)] of the four buffers, EXTRA bytes)."""
    buf = bytearray(data)
    desc = sc.SecBufferDesc(
        [sc.SecBuffer(len(buf), sc.SECBUFFER_DATA, buf)]
        + [sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None) for _ in range(3)]
    )
    status = sc.DecryptMessage(h.ctx, desc, 0, None)
    layout = [(b.BufferType, b.cbBuffer) for b in desc.pBuffers]
    extra = desc.pBuffers[3].cbBuffer if desc.pBuffers[3].BufferType == sc.SECBUFFER_EXTRA else 0
    return status, layout, extra


def established12(s: Server12, h: Harness, *, policy: int | None = None) -> None:
    s.read_client_hello(h.start())
    if policy is not None:  # right after the first ISC, as the BoGo shim does
        assert set_policy(h.ctx, policy) == sc.SEC_E_OK
    finish12(s, h)


def client_record(h: Harness, data: bytes) -> bytes:
    """An application-data record the client encrypts (EncryptMessage must work)."""
    status, rec = h.encrypt(data)
    assert status == sc.SEC_E_OK, status
    return rec


def test_default_is_windows_behaviour() -> None:
    """ACCEPT: SEC_I_RENEGOTIATE, then SEC_E_CONTEXT_EXPIRED both ways until ISC runs."""
    s, h = Server12(), Harness(cred=credential())
    try:
        established12(s, h)
        assert get_policy(h.ctx) == sc.SCHANNEL_PY_RENEGOTIATION_ACCEPT
        status, layout, _ = decrypt_one(h, s.prot(HELLO_REQUEST))
        assert status == sc.SEC_I_RENEGOTIATE
        assert layout[1] == (sc.SECBUFFER_DATA, 0)
        assert h.encrypt_status() == sc.SEC_E_CONTEXT_EXPIRED
        assert decrypt_one(h, s.prot(b"x", APPLICATION_DATA))[0] == sc.SEC_E_CONTEXT_EXPIRED
        status, token = h.isc(b"")  # the renegotiation starts: a ClientHello
        assert status == sc.SEC_I_CONTINUE_NEEDED and token
    finally:
        h.close()


def test_ignore_drops_hello_requests() -> None:
    s, h = Server12(), Harness(cred=credential())
    try:
        established12(s, h, policy=sc.SCHANNEL_PY_RENEGOTIATION_IGNORE)
        assert get_policy(h.ctx) == sc.SCHANNEL_PY_RENEGOTIATION_IGNORE
        # The HelloRequest alone: SEC_E_OK, no data, the record described as for
        # SEC_I_RENEGOTIATE (header, empty DATA, trailer); what follows is EXTRA.
        hello_request = s.prot(HELLO_REQUEST)
        data = s.prot(b"after", APPLICATION_DATA)
        status, layout, extra = decrypt_one(h, hello_request + data)
        assert status == sc.SEC_E_OK
        assert layout[:3] == [
            (sc.SECBUFFER_STREAM_HEADER, 13),
            (sc.SECBUFFER_DATA, 0),
            (sc.SECBUFFER_STREAM_TRAILER, 4 + 16),
        ]
        assert extra == len(data)
        # Nothing is pending: data flows both ways under the same keys, no ISC needed.
        got, plain = h.decrypt(data + s.prot(HELLO_REQUEST) + s.prot(b"more", APPLICATION_DATA))
        assert got == [sc.SEC_E_OK] * 3 and plain == b"aftermore"
        assert h.token == b""  # no ISC ran, nothing was sent
        assert s.read is not None
        assert s.read.open(client_record(h, b"reply")) == (APPLICATION_DATA, b"reply")
        info = sc.SecPkgContext_PyHandshakeInfo()
        assert sc.QueryContextAttributes(h.ctx, sc.SECPKG_ATTR_PY_HANDSHAKE_INFO, info) == 0
        assert not info.fFailureAlert
    finally:
        h.close()


def test_policy_can_change_on_an_established_context() -> None:
    """Set after the handshake, and back to ACCEPT: each HelloRequest follows the
    policy in force when it arrives."""
    s, h = Server12(), Harness(cred=credential())
    try:
        established12(s, h)
        assert set_policy(h.ctx, sc.SCHANNEL_PY_RENEGOTIATION_IGNORE) == sc.SEC_E_OK
        assert decrypt_one(h, s.prot(HELLO_REQUEST))[0] == sc.SEC_E_OK
        assert set_policy(h.ctx, sc.SCHANNEL_PY_RENEGOTIATION_ACCEPT) == sc.SEC_E_OK
        got, _ = h.decrypt(s.prot(HELLO_REQUEST))
        assert got == [sc.SEC_I_RENEGOTIATE, sc.SEC_I_CONTINUE_NEEDED]  # ISC renegotiates
    finally:
        h.close()


def test_policy_is_per_context() -> None:
    s1, h1 = Server12(), Harness(cred=credential())
    s2, h2 = Server12(), Harness(cred=credential())
    try:
        established12(s1, h1, policy=sc.SCHANNEL_PY_RENEGOTIATION_IGNORE)
        established12(s2, h2)
        assert decrypt_one(h1, s1.prot(HELLO_REQUEST))[0] == sc.SEC_E_OK
        assert decrypt_one(h2, s2.prot(HELLO_REQUEST))[0] == sc.SEC_I_RENEGOTIATE
    finally:
        h1.close()
        h2.close()


def test_ignore_still_rejects_a_malformed_hello_request() -> None:
    """A HelloRequest with a body is decode_error whatever the policy (as BoringSSL)."""
    s, h = Server12(), Harness(cred=credential())
    try:
        established12(s, h, policy=sc.SCHANNEL_PY_RENEGOTIATION_IGNORE)
        bad = s.prot(handshake_message(HT.hello_request, b"\x00"))
        assert decrypt_one(h, bad)[0] == sc.SEC_E_ILLEGAL_MESSAGE
        info = sc.SecPkgContext_PyHandshakeInfo()
        assert sc.QueryContextAttributes(h.ctx, sc.SECPKG_ATTR_PY_HANDSHAKE_INFO, info) == 0
        assert info.fFailureAlert and info.bFailureAlert == sc.TLS1_ALERT_DECODE_ERROR
    finally:
        h.close()


def test_hello_request_inside_a_handshake_is_ignored_under_both_policies() -> None:
    """During a handshake (the first one here; a renegotiation likewise) the package
    ignores a HelloRequest anyway (RFC 5246 7.4.1.1): the policy changes nothing."""
    for policy in (sc.SCHANNEL_PY_RENEGOTIATION_ACCEPT, sc.SCHANNEL_PY_RENEGOTIATION_IGNORE):
        s, h = Server12(), Harness(cred=credential())
        try:
            s.read_client_hello(h.start())
            assert set_policy(h.ctx, policy) == sc.SEC_E_OK
            msgs = s.server_hello() + s.certificate() + HELLO_REQUEST
            msgs += s.server_key_exchange() + s.server_hello_done()
            status, token = h.feed(record(HANDSHAKE, msgs))
            assert status == sc.SEC_I_CONTINUE_NEEDED
            s.read_client_flight(token)
            assert h.feed(s.ccs() + s.prot(s.finished()))[0] == sc.SEC_E_OK
        finally:
            h.close()


def test_tls13_hello_request_is_unexpected_whatever_the_policy() -> None:
    s, h = Server13(), Harness()
    try:
        s.read_client_hello(h.start())
        assert set_policy(h.ctx, sc.SCHANNEL_PY_RENEGOTIATION_IGNORE) == sc.SEC_E_OK
        assert h.feed(s.full_flight())[0] == sc.SEC_E_OK
        s.switch_to_application_keys()
        assert decrypt_one(h, s.prot(HELLO_REQUEST))[0] == sc.SEC_E_ILLEGAL_MESSAGE
    finally:
        h.close()


def test_bad_arguments() -> None:
    s, h = Server12(), Harness(cred=credential())
    try:
        s.read_client_hello(h.start())
        with no_unexpected_exceptions():
            for bad in (2, -1, "1", True, None, 1.0):
                info = sc.SecPkgContext_PyRenegotiationPolicy(dwPolicy=bad)  # type: ignore[arg-type]
                assert sc.SetContextAttributes(h.ctx, ATTR, info, 0) == sc.SEC_E_INVALID_PARAMETER
            wrong = sc.SecPkgContext_PyVerifyCallback()
            assert sc.SetContextAttributes(h.ctx, ATTR, wrong, 0) == sc.SEC_E_INVALID_PARAMETER
            assert sc.QueryContextAttributes(h.ctx, ATTR, wrong) == sc.SEC_E_INVALID_PARAMETER
            assert sc.SetContextAttributes(h.ctx, ATTR, None, 0) == sc.SEC_E_INTERNAL_ERROR
            info = sc.SecPkgContext_PyRenegotiationPolicy(sc.SCHANNEL_PY_RENEGOTIATION_IGNORE)
            assert sc.SetContextAttributes(None, ATTR, info, 0) == sc.SEC_E_INVALID_HANDLE
            # Refused values changed nothing; before the handshake the query works.
            assert get_policy(h.ctx) == sc.SCHANNEL_PY_RENEGOTIATION_ACCEPT
        assert sc.SECPKG_ATTR_PY_RENEGOTIATION_POLICY == 0x53500004
        assert (sc.SCHANNEL_PY_RENEGOTIATION_ACCEPT, sc.SCHANNEL_PY_RENEGOTIATION_IGNORE) == (0, 1)
    finally:
        h.close()


@pytest.mark.interop
def test_openssl_hello_request_ignored(pki: peers.ServerPki, root_certs_env: Path) -> None:
    """s_server -tls1_2 sends a HelloRequest (``r``); the client drops it and the
    conversation goes on: no SEC_I_RENEGOTIATE, no second ClientHello."""
    events: list[tuple[str, object]] = []
    with peers.OpenSSLServer(
        **pki.ecdsa.server_kwargs(), tls13=False, extra_args=["-trace"]
    ) as srv:
        s = stream.connect(
            "127.0.0.1",
            srv.port,
            target="localhost",
            tracer=lambda e, d: events.append((e, d.get("status"))),
            timeout=10.0,
        )
        try:
            info = sc.SecPkgContext_PyRenegotiationPolicy(sc.SCHANNEL_PY_RENEGOTIATION_IGNORE)
            assert sc.SetContextAttributes(s.ctx, ATTR, info, 0) == sc.SEC_E_OK
            s.send(b"before\n")
            srv.wait_for_output("before")
            srv.send_line("r")  # HelloRequest
            srv.wait_for_output("SSL_do_handshake -> 1")
            time.sleep(0.3)  # let s_server finish the command before the next line
            srv.send_line("server after")
            got = b""
            while b"server after\n" not in got:
                chunk = s.recv()
                assert chunk, got
                got += chunk
            s.send(b"client after\n")
            srv.wait_for_output("client after")
            s.shutdown()
        finally:
            s.close()
        output = srv.output()
    assert "HelloRequest" in output  # the server did send one
    assert output.count("ClientHello") == 1  # and the client never renegotiated
    decrypts = [st for e, st in events if e == "decrypt"]
    assert sc.SEC_I_RENEGOTIATE not in decrypts and decrypts.count(sc.SEC_E_OK) >= 2
