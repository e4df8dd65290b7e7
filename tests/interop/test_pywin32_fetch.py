"""Interop: code written against pywin32's SSPI API, run on ``schannel_py.pywin32``,
against ``openssl s_server`` on 127.0.0.1.

The client (``tests/support/pywin32_script.py``) imports only ``win32security``,
``sspicon`` and ``pywintypes``; what it sees is checked against pywin32's documented
behaviour (docs/pywin32.md), not against this package.
"""

from __future__ import annotations

import datetime
import importlib
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import schannel_py.pywin32 as front
from tests.support import peers

pytestmark = pytest.mark.interop

SEC_E_UNTRUSTED_ROOT = -2146893019  # 0x80090325, signed as pywin32 reports it
SEC_E_INCOMPLETE_MESSAGE = -2146893032
SEC_I_CONTINUE_NEEDED = 590610
SEC_I_RENEGOTIATE = 590625
SEC_I_CONTEXT_EXPIRED = 590615
SECBUFFER_DATA, SECBUFFER_EXTRA, SECBUFFER_STREAM_HEADER = 1, 5, 7


@pytest.fixture
def script(root_certs_env: Path) -> Iterator[ModuleType]:
    """pywin32's names installed, and the pywin32-only client imported."""
    peers.require_tool("openssl")
    front.install()
    try:
        yield importlib.import_module("tests.support.pywin32_script")
    finally:
        front.uninstall()


@pytest.mark.parametrize("tls13", [True, False], ids=["tls13", "tls12"])
def test_pywin32_script_fetches_a_page(
    script: ModuleType, pki: peers.ServerPki, tls13: bool
) -> None:
    with peers.OpenSSLServer(
        **pki.ecdsa.server_kwargs(), tls13=tls13, tls12=not tls13, www=True, num_tickets=2
    ) as srv:
        client, page = script.fetch_page(*srv.address, "localhost")
    assert page.startswith(b"HTTP/1.0 200 ok"), page[:200]
    assert (b"TLSv1.3" if tls13 else b"TLSv1.2") in page
    # ISC's statuses are returned, never raised, when >= 0: CONTINUE_NEEDED, then 0.
    statuses = [r[0] for r in client.isc_results]
    assert statuses[0] == SEC_I_CONTINUE_NEEDED
    assert 0 in statuses
    first_ok = statuses.index(0)
    err, attr, expiry = client.isc_results[first_ok]
    assert isinstance(attr, int) and attr & 0x8000  # ISC_RET_STREAM
    assert isinstance(expiry, datetime.datetime)
    # The credential's expiry: "never" is past year 9999, so pywin32 gives datetime.max.
    assert client.cred_expiry == datetime.datetime.max
    # The server's close_notify reached the script as error(SEC_I_CONTEXT_EXPIRED).
    assert client.decrypt_errors[-1] == SEC_I_CONTEXT_EXPIRED
    if tls13:
        # The two tickets arrived as error(SEC_I_RENEGOTIATE), each answered by ISC.
        assert client.decrypt_errors.count(SEC_I_RENEGOTIATE) == 2
        assert statuses.count(0) == 3
    m = re.search(rb"Ciphers common between both SSL end points", page)
    assert m is not None


def test_stream_sizes_and_connection_info_shapes(script: ModuleType, pki: peers.ServerPki) -> None:
    import sspicon

    with (
        peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), www=True) as srv,
        socket.create_connection(srv.address, timeout=5.0) as sock,
    ):
        client = script.PywinClient(sock, "localhost")
        client.handshake()
        sizes = client.ctxt.QueryContextAttributes(sspicon.SECPKG_ATTR_STREAM_SIZES)
        info = client.ctxt.QueryContextAttributes(sspicon.SECPKG_ATTR_CONNECTION_INFO)
        with pytest.raises(NotImplementedError, match="Attribute is not supported yet"):
            client.ctxt.QueryContextAttributes(sspicon.SECPKG_ATTR_REMOTE_CERT_CONTEXT)
    assert set(sizes) == {"Header", "Trailer", "MaximumMessage", "Buffers", "BlockSize"}
    assert sizes["Buffers"] == 4 and sizes["MaximumMessage"] == 16384
    assert set(info) == {
        "Protocol",
        "Cipher",
        "CipherStrength",
        "Hash",
        "HashStrength",
        "Exch",
        "ExchStrength",
    }


def test_close_notify_raises_context_expired_after_syncing_buffers(
    script: ModuleType, pki: peers.ServerPki
) -> None:
    """DecryptMessage copies the buffers back before it raises (win32security_sspi.cpp:709):
    the close_notify's error(SEC_I_CONTEXT_EXPIRED) comes with the buffers SChannel
    described (STREAM_HEADER, an empty DATA, ...), not the ones the script built."""
    import sspicon
    import win32security

    with (
        peers.OpenSSLServer(
            **pki.ecdsa.server_kwargs(), tls12=False, num_tickets=0, www=True
        ) as srv,
        socket.create_connection(srv.address, timeout=5.0) as sock,
    ):
        client = script.PywinClient(sock, "localhost")
        client.handshake()
        client.send(b"GET / HTTP/1.0\r\n\r\n")
        raw = b""
        seen_ok = 0
        while True:
            if not raw:
                raw = sock.recv(65536)
            desc = win32security.PySecBufferDescType()
            data = win32security.PySecBufferType(len(raw), sspicon.SECBUFFER_DATA)
            data.Buffer = raw
            desc.append(data)
            for _ in range(3):
                desc.append(win32security.PySecBufferType(0, sspicon.SECBUFFER_EMPTY))
            try:
                assert client.ctxt.DecryptMessage(desc, 0) == 0
            except win32security.error as e:
                if e.winerror == SEC_E_INCOMPLETE_MESSAGE:
                    raw += sock.recv(65536)
                    continue
                assert e.winerror == SEC_I_CONTEXT_EXPIRED
                assert e.funcname == "DecryptMessage"
                break
            seen_ok += 1
            extra = [b for b in desc if b.BufferType == SECBUFFER_EXTRA]
            raw = extra[0].Buffer if extra else b""
    assert seen_ok >= 1
    # Synced before the raise: the layout SChannel wrote, an empty DATA (rule 3.2.4).
    assert desc[0].BufferType == SECBUFFER_STREAM_HEADER
    assert desc[1].BufferType == SECBUFFER_DATA and desc[1].BufferSize == 0
    assert desc[1].Buffer == b""


def test_untrusted_server_is_pywintypes_error_from_isc(
    script: ModuleType, pki: peers.ServerPki
) -> None:
    import pywintypes
    import win32security

    with (
        peers.OpenSSLServer(**pki.untrusted.server_kwargs(), www=True) as srv,
        socket.create_connection(srv.address, timeout=5.0) as sock,
    ):
        client = script.PywinClient(sock, "localhost")
        with pytest.raises(pywintypes.error) as info:
            client.handshake()
    e = info.value
    assert isinstance(e, win32security.error)
    assert e.winerror == SEC_E_UNTRUSTED_ROOT == -2146893019
    assert e.funcname == "InitializeSecurityContext"
    assert isinstance(e.strerror, str) and e.strerror
    assert e.args == (e.winerror, e.funcname, e.strerror)


def test_incomplete_message_is_raised_then_the_same_call_succeeds(
    script: ModuleType, pki: peers.ServerPki
) -> None:
    """Half a server flight: ISC raises error(SEC_E_INCOMPLETE_MESSAGE) (status < 0), and
    pOutput is not copied back; with the whole flight the same call goes on."""
    import sspicon
    import win32security

    with (
        peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), www=True) as srv,
        socket.create_connection(srv.address, timeout=5.0) as sock,
    ):
        client = script.PywinClient(sock, "localhost")
        assert client._isc(True, None) == SEC_I_CONTINUE_NEEDED
        flight = client._recv()
        out = win32security.PySecBufferDescType()
        out.append(win32security.PySecBufferType(client.max_token, sspicon.SECBUFFER_TOKEN))
        inp = win32security.PySecBufferDescType()
        half = win32security.PySecBufferType(len(flight), sspicon.SECBUFFER_TOKEN)
        half.Buffer = flight[:10]
        inp.append(half)
        inp.append(win32security.PySecBufferType(0, sspicon.SECBUFFER_EMPTY))
        with pytest.raises(win32security.error) as info:
            win32security.InitializeSecurityContext(
                client.cred,
                client.ctxt,
                "localhost",
                client.flags,
                0,
                inp,
                client.ctxt,
                out,
            )
        assert info.value.winerror == SEC_E_INCOMPLETE_MESSAGE
        assert out[0].BufferSize == client.max_token  # not synced on failure
        # pInput is never copied back: its EMPTY buffer stays as the script made it.
        assert inp[1].BufferType == sspicon.SECBUFFER_EMPTY and inp[1].BufferSize == 0
        assert client._isc(False, flight) in (0, SEC_I_CONTINUE_NEEDED)


def test_extras_alpn_and_peer_certificate_against_s_server(
    script: ModuleType, pki: peers.ServerPki
) -> None:
    """ALPN through a hand-made SECBUFFER_APPLICATION_PROTOCOLS buffer on the first ISC
    (what pywin32 code has to do), read back with extras.negotiated_alpn."""
    import sspicon
    import win32security

    from schannel_py.pywin32 import extras

    with (
        peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), alpn="http/1.1") as srv,
        socket.create_connection(srv.address, timeout=5.0) as sock,
    ):
        client = script.PywinClient(sock, "localhost")
        out = win32security.PySecBufferDescType()
        out.append(win32security.PySecBufferType(client.max_token, sspicon.SECBUFFER_TOKEN))
        inp = win32security.PySecBufferDescType()
        inp.append(extras.application_protocols_buffer([b"h2", b"http/1.1"]))
        err, _, _ = win32security.InitializeSecurityContext(
            client.cred, None, "localhost", client.flags, 0, inp, client.ctxt, out
        )
        assert err == SEC_I_CONTINUE_NEEDED
        sock.sendall(out[0].Buffer)
        data = b""
        while err != 0:
            data += client._recv()
            try:
                err = client._isc(False, data)
            except win32security.error as e:
                if e.winerror == SEC_E_INCOMPLETE_MESSAGE:
                    continue
                raise
            data = b""
        assert extras.negotiated_alpn(client.ctxt) == b"http/1.1"
        assert extras.peer_certificate(client.ctxt) == pki.ecdsa.issued.der
