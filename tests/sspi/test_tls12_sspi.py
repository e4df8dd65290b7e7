"""TLS 1.2 through the SSPI surface: version negotiation as Windows does it, attributes, layout."""

from __future__ import annotations

import hashlib
import ssl
from pathlib import Path

import pytest

import schannel_py as sc
from schannel_py.testing import acquire_credential
from schannel_py.testing.memserver import MemoryServer
from schannel_py.tls.messages import DOWNGRADE_TLS12
from schannel_py.tls.record import frame
from tests.support import peers
from tests.support.sspi_driver import CurlLoop

TLS12 = ssl.TLSVersion.TLSv1_2
TLS13 = ssl.TLSVersion.TLSv1_3


def schannel_cred(grbit: int = 0, flags: int = 0) -> sc.CredHandle:
    cred = sc.CredHandle()
    auth = sc.SCHANNEL_CRED(
        dwVersion=sc.SCHANNEL_CRED_VERSION, grbitEnabledProtocols=grbit, dwFlags=flags
    )
    status = sc.AcquireCredentialsHandle(
        None, sc.UNISP_NAME, sc.SECPKG_CRED_OUTBOUND, None, auth, None, None, cred, sc.TimeStamp()
    )
    assert status == sc.SEC_E_OK, status
    return cred


def server(pki: peers.ServerPki, kind: str = "ecdsa", **kw: object) -> MemoryServer:
    cert = getattr(pki, kind)
    return MemoryServer(Path(cert.fullchain), Path(cert.key), **kw)  # type: ignore[arg-type]


def cipher_info(loop: CurlLoop) -> sc.SecPkgContext_CipherInfo:
    ci = sc.SecPkgContext_CipherInfo()
    assert sc.QueryContextAttributes(loop.ctx, sc.SECPKG_ATTR_CIPHER_INFO, ci) == sc.SEC_E_OK
    return ci


def test_schannel_cred_negotiates_tls12_with_a_dual_version_server(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    loop = CurlLoop(server(pki, min_version=TLS12, max_version=TLS13), schannel_cred())
    assert loop.handshake() == sc.SEC_E_OK
    assert cipher_info(loop).dwProtocol == 0x0303
    assert loop.server.tls.version() == "TLSv1.2"


def test_sch_credentials_negotiate_tls13_with_the_same_server(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    loop = CurlLoop(server(pki, min_version=TLS12, max_version=TLS13), acquire_credential())
    assert loop.handshake() == sc.SEC_E_OK
    assert cipher_info(loop).dwProtocol == 0x0304


def test_sch_credentials_with_tls13_disabled_use_tls12(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    loop = CurlLoop(
        server(pki, min_version=TLS12, max_version=TLS13),
        acquire_credential(disabled=sc.SP_PROT_TLS1_3_CLIENT),
    )
    assert loop.handshake() == sc.SEC_E_OK
    assert cipher_info(loop).dwProtocol == 0x0303


def test_sch_credentials_tls13_only_fails_against_tls12_server(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    srv = server(pki, min_version=TLS12, max_version=TLS12)
    loop = CurlLoop(srv, acquire_credential(disabled=sc.SP_PROT_TLS1_2_CLIENT))
    with pytest.raises(ssl.SSLError, match="UNSUPPORTED_PROTOCOL"):
        srv.feed(loop.first_call())
    loop.encdata += srv.pending_output()  # the server's protocol_version alert
    status, _ = loop.step()
    assert status == sc.SEC_E_UNSUPPORTED_FUNCTION  # protocol_version (70), per the alert table


@pytest.mark.parametrize(
    ("kind", "ciphers", "suite", "name", "header", "key_bits", "cert"),
    [
        (
            "ecdsa",
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            0xC02B,
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            13,
            128,
            "ECDSA",
        ),
        (
            "ecdsa",
            "ECDHE-ECDSA-AES256-GCM-SHA384",
            0xC02C,
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            13,
            256,
            "ECDSA",
        ),
        (
            "ecdsa",
            "ECDHE-ECDSA-CHACHA20-POLY1305",
            0xCCA9,
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            5,
            256,
            "ECDSA",
        ),
        (
            "rsa",
            "ECDHE-RSA-AES128-GCM-SHA256",
            0xC02F,
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            13,
            128,
            "RSA",
        ),
        (
            "rsa",
            "ECDHE-RSA-AES256-GCM-SHA384",
            0xC030,
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            13,
            256,
            "RSA",
        ),
        (
            "rsa",
            "ECDHE-RSA-CHACHA20-POLY1305",
            0xCCA8,
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            5,
            256,
            "RSA",
        ),
    ],
)
def test_tls12_suites_attributes_and_record_layout(
    pki: peers.ServerPki,
    root_certs_env: Path,
    kind: str,
    ciphers: str,
    suite: int,
    name: str,
    header: int,
    key_bits: int,
    cert: str,
) -> None:
    loop = CurlLoop(
        server(pki, kind, min_version=TLS12, max_version=TLS12, ciphers=ciphers), schannel_cred()
    )
    assert loop.handshake() == sc.SEC_E_OK
    assert loop.attrs.value == loop.flags
    ci = cipher_info(loop)
    assert (ci.dwProtocol, ci.dwCipherSuite, ci.dwBaseCipherSuite, ci.szCipherSuite) == (
        0x0303,
        suite,
        suite,
        name,
    )
    assert (ci.szHash, ci.dwHashLen, ci.szExchange, ci.szCertificate) == ("", 0, "ECDH", cert)
    assert ci.dwCipherLen == key_bits and ci.dwKeyType == 0x1D
    conn = sc.SecPkgContext_ConnectionInfo()
    assert sc.QueryContextAttributes(loop.ctx, sc.SECPKG_ATTR_CONNECTION_INFO, conn) == sc.SEC_E_OK
    assert conn.dwProtocol == sc.SP_PROT_TLS1_2_CLIENT
    assert (
        conn.aiExch == sc.CALG_ECDH_EPHEM
        and conn.dwHashStrength == 0
        and conn.dwCipherStrength == key_bits
    )
    sizes = loop.stream_sizes()
    assert (sizes.cbHeader, sizes.cbTrailer, sizes.cbMaximumMessage, sizes.cBuffers) == (
        header,
        16,
        16384,
        4,
    )
    # EncryptMessage writes exactly header + data + trailer, and the peer accepts it.
    payload = b"x" * 1000
    record = loop.encrypt(payload)
    assert len(record) == header + len(payload) + 16
    assert frame(record) == len(record)
    loop.server.feed(record)
    assert loop.server.read() == payload
    # And the other way, through DecryptMessage.
    loop.encdata += loop.server.write(b"pong" * 100)
    plain, statuses = loop.decrypt_all()
    assert plain == b"pong" * 100 and statuses[-1] == sc.SEC_E_OK


def test_tls12_channel_bindings(pki: peers.ServerPki, root_certs_env: Path) -> None:
    loop = CurlLoop(server(pki, min_version=TLS12, max_version=TLS12), schannel_cred())
    assert loop.handshake() == sc.SEC_E_OK
    unique = sc.SecPkgContext_Bindings()
    assert (
        sc.QueryContextAttributes(loop.ctx, sc.SECPKG_ATTR_UNIQUE_BINDINGS, unique) == sc.SEC_E_OK
    )
    assert unique.Bindings is not None
    # Python's ssl exposes tls-unique for TLS 1.2: the same bytes must follow the prefix.
    expected = loop.server.tls.get_channel_binding("tls-unique")
    assert expected is not None
    assert unique.Bindings[32:] == b"tls-unique:" + expected
    assert unique.BindingsLength == 32 + len(b"tls-unique:") + 12
    endpoint = sc.SecPkgContext_Bindings()
    assert (
        sc.QueryContextAttributes(loop.ctx, sc.SECPKG_ATTR_ENDPOINT_BINDINGS, endpoint)
        == sc.SEC_E_OK
    )
    assert endpoint.Bindings is not None
    leaf = pki.ecdsa.issued.der
    assert endpoint.Bindings[32:] == b"tls-server-end-point:" + hashlib.sha256(leaf).digest()


def test_tls13_has_no_tls_unique(pki: peers.ServerPki, root_certs_env: Path) -> None:
    loop = CurlLoop(server(pki), acquire_credential())
    assert loop.handshake() == sc.SEC_E_OK
    b = sc.SecPkgContext_Bindings()
    assert (
        sc.QueryContextAttributes(loop.ctx, sc.SECPKG_ATTR_UNIQUE_BINDINGS, b)
        == sc.SEC_E_UNSUPPORTED_FUNCTION
    )


def test_downgrade_sentinel_is_detected(pki: peers.ServerPki, root_certs_env: Path) -> None:
    """A TLS 1.2 ServerHello carrying DOWNGRD\\x01 while we offered TLS 1.3 is an attack."""
    srv = server(pki, min_version=TLS12, max_version=TLS12)
    loop = CurlLoop(srv, acquire_credential())
    flight = bytearray(srv.feed(loop.first_call()))
    # ServerHello is the first record: header(5) + type(1) + len(3) + version(2) + random(32).
    assert flight[0] == 22 and flight[5] == 2
    flight[5 + 4 + 2 + 24 : 5 + 4 + 2 + 32] = DOWNGRADE_TLS12
    loop.encdata += flight
    status, _ = loop.step()
    assert status == sc.SEC_E_DOWNGRADE_DETECTED
    assert loop.last_alert[-2:] == b"\x02\x2f"  # fatal illegal_parameter


def test_schannel_cred_never_offers_tls13(pki: peers.ServerPki, root_certs_env: Path) -> None:
    from schannel_py.tls.messages import ClientHello, Ext, find_ext

    loop = CurlLoop(server(pki), schannel_cred(sc.SP_PROT_TLS1_2_CLIENT | sc.SP_PROT_TLS1_3_CLIENT))
    hello = ClientHello.parse(loop.first_call()[5:])
    assert find_ext(hello.extensions, Ext.supported_versions) is None
    assert all(0xC000 <= s for s in hello.cipher_suites)
    assert find_ext(hello.extensions, Ext.extended_master_secret) == b""
    assert find_ext(hello.extensions, Ext.renegotiation_info) == b"\x00"
    assert find_ext(hello.extensions, Ext.session_ticket) == b""
    assert find_ext(hello.extensions, Ext.ec_point_formats) == b"\x01\x00"


def test_tls13_context_refuses_renegotiation(pki: peers.ServerPki, root_certs_env: Path) -> None:
    """ISC with no input on an established TLS 1.3 context starts nothing; the connection goes on."""
    loop = CurlLoop(server(pki), acquire_credential())
    assert loop.handshake() == sc.SEC_E_OK
    out = sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_TOKEN, None)])
    status = sc.InitializeSecurityContext(
        loop.cred, loop.ctx, "localhost", loop.flags, 0, 0, None, 0, None, out, loop.attrs, None
    )
    assert status == sc.SEC_E_INCOMPLETE_MESSAGE
    assert out.pBuffers[0].cbBuffer == 0
    token = sc.SecBufferDesc([sc.SecBuffer(4, sc.SECBUFFER_TOKEN, (0).to_bytes(4, "little"))])
    assert sc.ApplyControlToken(loop.ctx, token) == sc.SEC_E_UNSUPPORTED_FUNCTION
    loop.server.feed(loop.encrypt(b"still here"))
    assert loop.server.read() == b"still here"
