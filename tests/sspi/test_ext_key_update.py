"""schannel_py extension: a TLS 1.3 KeyUpdate from the application.

ApplyControlToken(SCHANNEL_PY_KEY_UPDATE_TOKEN), then ISC with no input returns
SEC_E_OK with the KeyUpdate record (under the old key) and the write key moves
on.  The server reading data sent afterwards is the proof that both sides moved
to the same key.
"""

from __future__ import annotations

import re
import ssl
from pathlib import Path

import pytest

import schannel_py as sc
from schannel_py import stream
from schannel_py.sspi import context as X
from schannel_py.testing import acquire_credential
from schannel_py.testing.memserver import MemoryServer
from tests.support import peers
from tests.support.sspi_driver import CURL_FLAGS, CurlLoop, no_unexpected_exceptions

TLS12, TLS13 = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3


def established(pki: peers.ServerPki, version: ssl.TLSVersion = TLS13) -> CurlLoop:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ctx.maximum_version = version
    ctx.load_cert_chain(pki.ecdsa.fullchain, pki.ecdsa.key)
    loop = CurlLoop(MemoryServer.for_context(ctx), acquire_credential())
    assert loop.handshake() == sc.SEC_E_OK
    return loop


def apply(ctx: sc.CtxtHandle, token: bytes) -> sc.SecStatus:
    desc = sc.SecBufferDesc([sc.SecBuffer(len(token), sc.SECBUFFER_TOKEN, token)])
    with no_unexpected_exceptions():
        return sc.ApplyControlToken(ctx, desc)


def isc_no_input(loop: CurlLoop) -> tuple[sc.SecStatus, bytes]:
    out = sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_TOKEN, None)])
    new = sc.CtxtHandle()
    status = sc.InitializeSecurityContext(
        loop.cred, loop.ctx, "localhost", CURL_FLAGS, 0, 0, None, 0, new, out, loop.attrs, None
    )
    tok = out.pBuffers[0]
    data = bytes(tok.pvBuffer[: tok.cbBuffer]) if tok.pvBuffer is not None else b""
    if status == sc.SEC_E_OK:
        assert (new.dwLower, new.dwUpper) == (loop.ctx.dwLower, loop.ctx.dwUpper)
    return status, data


def key_update(loop: CurlLoop, requested: int) -> bytes:
    assert apply(loop.ctx, sc.pack_key_update_token(requested)) == sc.SEC_E_OK
    status, record = isc_no_input(loop)
    assert status == sc.SEC_E_OK
    return record


def roundtrip(loop: CurlLoop, data: bytes) -> None:
    loop.server.feed(loop.encrypt(data))
    assert loop.server.read() == data


def write_secret(loop: CurlLoop) -> bytes:
    context = X.CONTEXTS.get(loop.ctx)
    assert context is not None
    handshake = context.client.handshake
    return bytes(handshake.c_ap)  # type: ignore[attr-defined]


def test_pack_helper() -> None:
    assert sc.pack_key_update_token(1) == b"\x03\x00\x50\x53\x01\x00\x00\x00"
    token = sc.SCHANNEL_PY_KEY_UPDATE_TOKEN(dwUpdateRequested=sc.SCHANNEL_PY_KEY_UPDATE_REQUESTED)
    assert token.pack() == sc.pack_key_update_token(sc.SCHANNEL_PY_KEY_UPDATE_REQUESTED)
    assert sc.SCHANNEL_PY_KEY_UPDATE == 0x53500003


def test_key_update_not_requested(pki: peers.ServerPki, root_certs_env: Path) -> None:
    loop = established(pki)
    loop.decrypt_all()  # the server's tickets
    before = write_secret(loop)
    assert apply(loop.ctx, sc.pack_key_update_token(0)) == sc.SEC_E_OK
    # Until ISC runs, data still goes out under the old key.
    roundtrip(loop, b"old key")
    status, record = isc_no_input(loop)
    assert status == sc.SEC_E_OK
    # One protected record: KeyUpdate (4 + 1 bytes), content type, 16-byte tag.
    assert record[:3] == b"\x17\x03\x03" and len(record) == 5 + 5 + 1 + 16
    assert write_secret(loop) != before
    loop.server.feed(record)
    for i in range(3):
        roundtrip(loop, b"new key %d" % i)
    # A second ISC has nothing more to send.
    assert isc_no_input(loop)[0] == sc.SEC_E_INCOMPLETE_MESSAGE


def test_key_update_requested_gets_the_server_answer(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    loop = established(pki)
    loop.decrypt_all()
    loop.server.feed(key_update(loop, sc.SCHANNEL_PY_KEY_UPDATE_REQUESTED))
    roundtrip(loop, b"after update")
    # The server updates its own key before its next write; the client follows.
    loop.encdata += loop.server.write(b"server after update")
    plain, statuses = loop.decrypt_all()
    assert plain == b"server after update"
    assert statuses.count(sc.SEC_I_RENEGOTIATE) == 1  # the server's KeyUpdate
    roundtrip(loop, b"still fine")


def test_many_updates_in_a_row(pki: peers.ServerPki, root_certs_env: Path) -> None:
    loop = established(pki)
    loop.decrypt_all()
    records = b"".join(key_update(loop, 0) for _ in range(5))
    loop.server.feed(records)
    roundtrip(loop, b"five keys later")


def test_pending_update_goes_out_with_a_post_handshake_answer(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    loop = established(pki)  # the server's tickets are still unread in encdata
    assert loop.encdata
    assert apply(loop.ctx, sc.pack_key_update_token(0)) == sc.SEC_E_OK
    # DecryptMessage -> SEC_I_RENEGOTIATE -> ISC with the leftover bytes: that ISC
    # sends the pending KeyUpdate (decrypt_all feeds it to the server).
    plain, statuses = loop.decrypt_all()
    assert sc.SEC_I_RENEGOTIATE in statuses
    roundtrip(loop, b"new key")
    assert isc_no_input(loop)[0] == sc.SEC_E_INCOMPLETE_MESSAGE  # nothing left pending


def test_shutdown_after_the_token_wins(pki: peers.ServerPki, root_certs_env: Path) -> None:
    loop = established(pki)
    loop.decrypt_all()
    assert apply(loop.ctx, sc.pack_key_update_token(0)) == sc.SEC_E_OK
    close = loop.shutdown()  # close_notify only, under the key the server still has
    loop.server.feed(close)
    try:
        assert loop.server.tls.read(10) == b""
    except ssl.SSLZeroReturnError:
        pass


def test_tls12_is_unsupported(pki: peers.ServerPki, root_certs_env: Path) -> None:
    loop = established(pki, TLS12)
    assert apply(loop.ctx, sc.pack_key_update_token(0)) == sc.SEC_E_UNSUPPORTED_FUNCTION
    assert isc_no_input(loop)[0] == sc.SEC_I_CONTINUE_NEEDED  # (a TLS 1.2 renegotiation)


def test_states_and_bad_tokens(pki: peers.ServerPki, root_certs_env: Path) -> None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.ecdsa.fullchain, pki.ecdsa.key)
    unfinished = CurlLoop(MemoryServer.for_context(ctx), acquire_credential())
    unfinished.first_call()
    # As EncryptMessage: no application write key yet.
    assert apply(unfinished.ctx, sc.pack_key_update_token(0)) == sc.SEC_E_CONTEXT_EXPIRED

    loop = established(pki)
    token = sc.pack_key_update_token(0)
    assert apply(loop.ctx, token[:4]) == sc.SEC_E_INVALID_TOKEN
    assert apply(loop.ctx, token[:6]) == sc.SEC_E_INVALID_TOKEN
    assert apply(loop.ctx, sc.pack_key_update_token(2)) == sc.SEC_E_INVALID_PARAMETER
    assert apply(loop.ctx, token[:3]) == sc.SEC_E_UNSUPPORTED_FUNCTION  # shorter than a DWORD
    assert apply(loop.ctx, token + b"extra") == sc.SEC_E_OK  # trailing bytes ignored
    assert sc.ApplyControlToken(None, sc.SecBufferDesc([])) == sc.SEC_E_INVALID_HANDLE

    loop.decrypt_all()
    loop.server.feed(loop.shutdown())
    assert apply(loop.ctx, token) == sc.SEC_E_CONTEXT_EXPIRED  # after our close_notify


@pytest.mark.interop
def test_openssl_key_update(pki: peers.ServerPki, root_certs_env: Path) -> None:
    with peers.OpenSSLServer(
        **pki.ecdsa.server_kwargs(), tls12=False, num_tickets=0, extra_args=["-msg"]
    ) as srv:
        s = stream.connect("127.0.0.1", srv.port, target="localhost", timeout=5.0)
        try:
            s.send(b"before\n")
            srv.wait_for_output("before", start=srv.ready_offset)
            for requested in (0, 1):
                mark = len(srv.output())
                s.key_update(requested=bool(requested))
                s.send(f"after {requested}\n".encode())
                srv.wait_for_output(f"after {requested}", start=mark)
                srv.send_line(f"reply {requested}")
                got = b""
                while b"\n" not in got:
                    got += s.recv()
                assert got == f"reply {requested}\n".encode()
            s.shutdown()
        finally:
            s.close()
            s.sock.close()
    out = srv.output()
    assert not re.search(r"(?m)^ERROR$|:error:", out), out
    assert len(re.findall(r"<<< TLS 1.3, Handshake \[length 0005\], KeyUpdate", out)) == 2
    # The requested one made s_server update its own key before writing.
    assert len(re.findall(r">>> TLS 1.3, Handshake \[length 0005\], KeyUpdate", out)) == 1
