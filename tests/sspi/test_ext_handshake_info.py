"""schannel_py extension: QueryContextAttributes(SECPKG_ATTR_PY_HANDSHAKE_INFO).

Against Python's ``ssl`` server in memory (whose own view is the reference where
it has one: ``session_reused``), plus one ``openssl s_server`` loopback check.
"""

from __future__ import annotations

import ssl
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

import schannel_py as sc
from schannel_py import stream
from schannel_py.sspi import cache as K
from schannel_py.testing import acquire_credential
from schannel_py.testing.memserver import MemoryServer
from schannel_py.tls import groups as G
from schannel_py.tls import sigalgs as SA
from tests.support import peers
from tests.support.sspi_driver import CurlLoop, no_unexpected_exceptions
from tests.support.wire import certificate_request_types

TLS12, TLS13 = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    K.CACHE.flush()
    yield
    K.CACHE.flush()


def server_context(
    cert: peers.ServerCert,
    version: ssl.TLSVersion,
    *,
    curve: str | None = None,
    request_cert: bool = False,
    tickets: bool = True,
    root: Path | None = None,
) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ctx.maximum_version = version
    ctx.load_cert_chain(cert.fullchain, cert.key)
    if curve:
        ctx.set_ecdh_curve(curve)
    if request_cert:
        ctx.verify_mode = ssl.CERT_OPTIONAL
        assert root is not None
        ctx.load_verify_locations(root)
    if not tickets:
        ctx.options |= ssl.OP_NO_TICKET
    return ctx


def info_of(ctx: sc.CtxtHandle) -> sc.SecPkgContext_PyHandshakeInfo:
    info = sc.SecPkgContext_PyHandshakeInfo()
    assert sc.QueryContextAttributes(ctx, sc.SECPKG_ATTR_PY_HANDSHAKE_INFO, info) == sc.SEC_E_OK
    assert info.cPeerVerifyPrefs == len(info.aPeerVerifyPrefs)
    assert info.cCertificateTypes == len(info.aCertificateTypes)
    return info


def connect(ctx: ssl.SSLContext, cred: sc.CredHandle | None = None) -> CurlLoop:
    loop = CurlLoop(MemoryServer.for_context(ctx), cred or acquire_credential())
    with no_unexpected_exceptions():
        assert loop.handshake() == sc.SEC_E_OK
    return loop


def read_tickets(loop: CurlLoop) -> None:
    """Let the server's post-handshake messages (tickets) through DecryptMessage + ISC."""
    loop.encdata += loop.server.write(b"pong")
    assert loop.decrypt_all()[0] == b"pong"


def test_tls13_ecdsa(pki: peers.ServerPki, root_certs_env: Path) -> None:
    loop = connect(server_context(pki.ecdsa, TLS13))
    info = info_of(loop.ctx)
    assert info.wPeerSignatureScheme == SA.ECDSA_SECP256R1_SHA256 == 0x0403
    assert info.wKeyExchangeGroup in (G.X25519, G.X25519MLKEM768)
    assert not info.fHelloRetryRequest
    assert info.fExtendedMasterSecret and not info.fSecureRenegotiation
    assert info.aPeerVerifyPrefs == [] and info.cPeerVerifyPrefs == 0
    # The tickets come after the handshake: none yet, then Python's two.
    assert info.cTicketsReceived == 0 and not info.fNewSession
    read_tickets(loop)
    info = info_of(loop.ctx)
    assert info.cTicketsReceived == 2 and info.fNewSession


def test_tls13_rsa_certificate_signs_with_pss(pki: peers.ServerPki, root_certs_env: Path) -> None:
    info = info_of(connect(server_context(pki.rsa, TLS13)).ctx)
    assert info.wPeerSignatureScheme == SA.RSA_PSS_RSAE_SHA256 == 0x0804


def test_hello_retry_request(pki: peers.ServerPki, root_certs_env: Path) -> None:
    # The client shares x25519 (and a hybrid); a P-256-only server must ask again.
    info = info_of(connect(server_context(pki.ecdsa, TLS13, curve="prime256v1")).ctx)
    assert info.fHelloRetryRequest and info.wKeyExchangeGroup == G.SECP256R1 == 0x0017


@pytest.mark.parametrize("cert", ["ecdsa", "rsa"])
def test_tls12(pki: peers.ServerPki, root_certs_env: Path, cert: str) -> None:
    loop = connect(server_context(getattr(pki, cert), TLS12))
    info = info_of(loop.ctx)
    expected = SA.ECDSA_SECP256R1_SHA256 if cert == "ecdsa" else SA.RSA_PSS_RSAE_SHA256
    assert info.wPeerSignatureScheme == expected
    assert info.wKeyExchangeGroup == G.X25519  # no hybrids in TLS 1.2
    assert info.fExtendedMasterSecret and info.fSecureRenegotiation
    assert not info.fHelloRetryRequest
    # The TLS 1.2 NewSessionTicket is part of the handshake.
    assert info.cTicketsReceived == 1 and info.fNewSession
    assert info.aCertificateTypes == [] and info.aPeerVerifyPrefs == []  # no CertificateRequest


@pytest.mark.parametrize("version", [TLS13, TLS12], ids=["tls13", "tls12"])
def test_resumed_handshake(
    pki: peers.ServerPki, root_certs_env: Path, version: ssl.TLSVersion
) -> None:
    ctx, cred = server_context(pki.ecdsa, version), acquire_credential()
    read_tickets(connect(ctx, cred))
    loop = connect(ctx, cred)
    assert loop.server.tls.session_reused
    info = info_of(loop.ctx)
    assert info.wPeerSignatureScheme == 0  # no signature on a resumed handshake
    assert info.fExtendedMasterSecret
    if version == TLS12:
        assert info.wKeyExchangeGroup == 0  # abbreviated: no key exchange
        # New only if the server renewed the ticket.
        assert info.fNewSession == (info.cTicketsReceived == 1)
    else:
        assert info.wKeyExchangeGroup != 0  # psk_dhe_ke
        read_tickets(loop)
        assert info_of(loop.ctx).fNewSession


def test_tls12_session_id_resumption_is_not_a_new_session(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    ctx, cred = server_context(pki.ecdsa, TLS12, tickets=False), acquire_credential()
    # (Kept alive: OpenSSL drops a cached session when its connection is freed unshut.)
    kept = connect(ctx, cred)
    first = info_of(kept.ctx)
    assert first.cTicketsReceived == 0 and first.fNewSession  # a session ID
    loop = connect(ctx, cred)
    assert loop.server.tls.session_reused
    assert not info_of(loop.ctx).fNewSession


def test_reconnects_disabled_means_no_new_session(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    loop = connect(server_context(pki.ecdsa, TLS12))
    assert info_of(loop.ctx).fNewSession
    token = struct.pack("<II", sc.SCHANNEL_SESSION, sc.SSL_SESSION_DISABLE_RECONNECTS)
    desc = sc.SecBufferDesc([sc.SecBuffer(8, sc.SECBUFFER_TOKEN, token)])
    assert sc.ApplyControlToken(loop.ctx, desc) == sc.SEC_E_OK
    assert not info_of(loop.ctx).fNewSession


@pytest.mark.parametrize("version", [TLS13, TLS12], ids=["tls13", "tls12"])
def test_peer_verify_prefs(
    pki: peers.ServerPki, root_certs_env: Path, version: ssl.TLSVersion
) -> None:
    ctx = server_context(pki.ecdsa, version, request_cert=True, root=pki.root_ca)
    loop = connect(ctx)
    prefs = info_of(loop.ctx).aPeerVerifyPrefs
    # OpenSSL's default list: ECDSA, Ed25519, RSA-PSS, PKCS#1 ...
    assert {SA.ECDSA_SECP256R1_SHA256, SA.RSA_PSS_RSAE_SHA256, SA.ED25519} <= set(prefs)
    assert len(prefs) == len(set(prefs)) > 3
    if version == TLS13:
        assert info_of(loop.ctx).aCertificateTypes == []  # TLS 1.3 has no certificate_types


def test_tls12_certificate_types(pki: peers.ServerPki, root_certs_env: Path) -> None:
    """aCertificateTypes is the CertificateRequest's certificate_types, as on the wire."""
    ctx = server_context(pki.ecdsa, TLS12, request_cert=True, root=pki.root_ca)
    loop = CurlLoop(MemoryServer.for_context(ctx), acquire_credential())
    flight = loop.server.feed(loop.first_call())
    loop.encdata += flight
    with no_unexpected_exceptions():
        assert loop.handshake_from_step() == sc.SEC_E_OK
    wire = certificate_request_types(flight)
    assert 64 in wire and 1 in wire  # ecdsa_sign, rsa_sign: OpenSSL asks for both
    info = info_of(loop.ctx)
    assert info.aCertificateTypes == list(wire) and info.cCertificateTypes == len(wire)


def test_before_the_handshake_and_bad_arguments(pki: peers.ServerPki, root_certs_env: Path) -> None:
    loop = CurlLoop(
        MemoryServer.for_context(server_context(pki.ecdsa, TLS13)), acquire_credential()
    )
    loop.first_call()
    attr = sc.SECPKG_ATTR_PY_HANDSHAKE_INFO
    info = sc.SecPkgContext_PyHandshakeInfo()
    with no_unexpected_exceptions():
        assert sc.QueryContextAttributes(loop.ctx, attr, info) == sc.SEC_E_INVALID_HANDLE
        assert info == sc.SecPkgContext_PyHandshakeInfo()  # untouched
        assert sc.QueryContextAttributes(loop.ctx, attr, None) == sc.SEC_E_INTERNAL_ERROR
        wrong = sc.SecPkgContext_ConnectionInfo()
        assert sc.QueryContextAttributes(loop.ctx, attr, wrong) == sc.SEC_E_INVALID_PARAMETER
        assert sc.QueryContextAttributes(None, attr, info) == sc.SEC_E_INVALID_HANDLE
        assert sc.SetContextAttributes(loop.ctx, attr, info, 0) == sc.SEC_E_UNSUPPORTED_FUNCTION


@pytest.mark.interop
def test_openssl_hrr_rsa_pss(pki: peers.ServerPki, root_certs_env: Path) -> None:
    with peers.OpenSSLServer(
        **pki.rsa.server_kwargs(), tls12=False, groups="P-384", num_tickets=0
    ) as srv:
        s = stream.connect("127.0.0.1", srv.port, target="localhost", timeout=5.0)
        try:
            info = info_of(s.ctx)
        finally:
            s.close()
            s.sock.close()
    assert info.fHelloRetryRequest and info.wKeyExchangeGroup == G.SECP384R1
    assert info.wPeerSignatureScheme == SA.RSA_PSS_RSAE_SHA256
    assert info.fExtendedMasterSecret and not info.fSecureRenegotiation
    assert info.cTicketsReceived == 0 and not info.fNewSession
