"""Interop: ``sspi.ClientAuth`` (pywin32's helper class, re-implemented by
``schannel_py.pywin32``) drives an SChannel handshake against ``openssl s_server``.

ClientAuth was written for NTLM/Kerberos (docs/pywin32.md): one TOKEN
buffer of MaxToken bytes in, one out, no EXTRA; so the caller reads each whole
server flight before ``authorize``, and catches ``error`` with
``winerror == SEC_E_INCOMPLETE_MESSAGE`` to read more.  Once ``authenticated``,
its context carries records through the stream calls (STREAM_SIZES,
EncryptMessage, DecryptMessage).
"""

from __future__ import annotations

import datetime
import importlib
import select
import socket
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import schannel_py.pywin32 as front
from tests.support import peers

pytestmark = pytest.mark.interop

SEC_E_INCOMPLETE_MESSAGE = -2146893032
SEC_I_CONTINUE_NEEDED = 590610
STREAM_FLAGS = 0x4 | 0x8 | 0x10 | 0x8000  # REPLAY | SEQUENCE | CONFIDENTIALITY | STREAM


@pytest.fixture
def sspi(root_certs_env: Path) -> Iterator[ModuleType]:
    peers.require_tool("openssl")
    front.install()
    try:
        yield importlib.import_module("sspi")
    finally:
        front.uninstall()


def _read_flight(sock: socket.socket) -> bytes:
    data = sock.recv(65536)
    assert data, "server closed the connection"
    while select.select([sock], [], [], 0.1)[0]:
        more = sock.recv(65536)
        if not more:
            break
        data += more
    return data


def _authenticate(sspi: ModuleType, sock: socket.socket, **kwargs: object) -> object:
    import win32security

    ca = sspi.ClientAuth("Schannel", targetspn="localhost", scflags=STREAM_FLAGS, **kwargs)
    err, out = ca.authorize(None)
    assert err == SEC_I_CONTINUE_NEEDED
    sock.sendall(out[0].Buffer)
    data = b""
    while not ca.authenticated:
        data += _read_flight(sock)
        try:
            err, out = ca.authorize(data)
        except win32security.error as e:
            if e.winerror == SEC_E_INCOMPLETE_MESSAGE:
                continue
            raise
        data = b""
        if out[0].BufferSize:
            sock.sendall(out[0].Buffer)
    return ca


@pytest.mark.parametrize("tls13", [True, False], ids=["tls13", "tls12"])
def test_client_auth_reaches_authenticated_and_fetches_a_page(
    sspi: ModuleType, pki: peers.ServerPki, tls13: bool
) -> None:
    script = importlib.import_module("tests.support.pywin32_script")
    with (
        peers.OpenSSLServer(
            **pki.ecdsa.server_kwargs(), tls13=tls13, tls12=not tls13, www=True
        ) as srv,
        socket.create_connection(srv.address, timeout=5.0) as sock,
    ):
        ca = _authenticate(sspi, sock)
        assert ca.authenticated is True
        assert ca.ctxt_attr & 0x8000  # ISC_RET_STREAM
        assert ca.credentials_expiry == datetime.datetime.max
        assert ca.pkg_info["MaxToken"] == 24576 and ca.pkg_info["Name"] == "Schannel"
        # _amend_ctx_name asked NATIVE_NAMES, which SChannel does not answer: swallowed.
        assert (ca.initiator_name, ca.service_name) == (None, None)
        # The context is a plain pywin32 context: the stream calls carry a request.
        client = script.PywinClient(sock, "localhost")
        client.cred, client.ctxt = ca.credentials, ca.ctxt
        client.send(b"GET / HTTP/1.0\r\n\r\n")
        page = client.read_until_closed()
    assert page.startswith(b"HTTP/1.0 200 ok")
    assert (b"TLSv1.3" if tls13 else b"TLSv1.2") in page


def test_client_auth_default_flags_and_kerberos_layouts(
    sspi: ModuleType, pki: peers.ServerPki
) -> None:
    """Default scflags lack ISC_REQ_STREAM; encrypt() asks SECPKG_ATTR_SIZES, which
    SChannel's package here does not answer: error."""
    import win32security

    ca = sspi.ClientAuth("Schannel")
    assert ca.scflags == 0x10000 | 0x8 | 0x4 | 0x10  # INTEGRITY|SEQUENCE|REPLAY|CONFIDENTIALITY
    assert ca.ctxt is None and ca.authenticated is False and ca.next_seq_num == 0
    with (
        peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), www=True) as srv,
        socket.create_connection(srv.address, timeout=5.0) as sock,
    ):
        ca = _authenticate(sspi, sock)
        with pytest.raises(win32security.error) as e:
            ca.encrypt(b"data")
        assert e.value.funcname == "QueryContextAttributes"
    with pytest.raises(ValueError, match=r"Data size \(24577\) greater than allocated buffer size"):
        sspi.ClientAuth("Schannel", targetspn="localhost").authorize(bytes(24577))
    with pytest.raises(win32security.error) as e:
        sspi.ClientAuth("Schannel", auth_info=("user", "domain", "password"))
    assert e.value.funcname == "AcquireCredentialsHandle"
    with pytest.raises(win32security.error) as e:
        sspi.ServerAuth("Schannel")  # this package is a client: no inbound credential
    assert e.value.winerror == -2146893042  # SEC_E_NO_CREDENTIALS
