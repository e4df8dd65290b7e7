"""Connections through the session cache, shared by the session-cache tests and the
reference-cycle checks: an in-memory server context, one curl-style connection, and
whether it was resumed."""

from __future__ import annotations

import ssl

import schannel_py as sc
from schannel_py.testing.memserver import MemoryServer
from tests.support import peers
from tests.support.sspi_driver import CurlLoop


def server_context(
    pki: peers.ServerPki, max_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3
) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.maximum_version = max_version
    ctx.load_cert_chain(pki.ecdsa.fullchain, pki.ecdsa.key)
    return ctx


def connect(
    ctx: ssl.SSLContext, cred: sc.CredHandle, target: str = "localhost", flags64: int = 0
) -> CurlLoop:
    """One connection: handshake, then read the server's tickets (RENEGOTIATE + ISC) and one reply."""
    loop = CurlLoop(MemoryServer.for_context(ctx), cred, target=target, flags64=flags64)
    assert loop.handshake() == sc.SEC_E_OK
    loop.server.feed(loop.encrypt(b"ping"))
    assert loop.server.read() == b"ping"
    loop.encdata += loop.server.write(b"pong")
    plain, _ = loop.decrypt_all()
    assert plain == b"pong"
    return loop


def reconnected(loop: CurlLoop) -> bool:
    info = sc.SecPkgContext_SessionInfo()
    assert sc.QueryContextAttributes(loop.ctx, sc.SECPKG_ATTR_SESSION_INFO, info) == sc.SEC_E_OK
    flag = bool(info.dwFlags & sc.SSL_SESSION_RECONNECT)
    assert flag == loop.server.tls.session_reused  # what we report is what the server did
    return flag


def schannel_cred(lifespan_ms: int = 0, logon: object = None) -> sc.CredHandle:
    cred = sc.CredHandle()
    auth = sc.SCHANNEL_CRED(dwVersion=sc.SCHANNEL_CRED_VERSION, dwSessionLifespan=lifespan_ms)
    status = sc.AcquireCredentialsHandle(
        None, sc.UNISP_NAME, sc.SECPKG_CRED_OUTBOUND, logon, auth, None, None, cred, sc.TimeStamp()
    )
    assert status == sc.SEC_E_OK
    return cred
