"""QueryContextAttributes after a real TLS 1.3 handshake (docs/windows-behaviour.md section 4).

The server is Python's ssl (:class:`memserver.MemoryServer`); since it cannot
be told which TLS 1.3 suite to pick, the client is restricted instead, the
way an application restricts Windows: SCH_CREDENTIALS with TLS_PARAMETERS
whose pDisabledCrypto entries remove the other suites.  Expected values are
computed independently (hashlib, cryptography) from the certificates the
server was given.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

import schannel_py as sc
from schannel_py.crypt32 import CertEnumCertificatesInStore
from schannel_py.testing.memserver import MemoryServer
from schannel_py.testing.pki import make_ca, make_leaf
from tests.support import peers
from tests.support.sspi_driver import CURL_FLAGS, CurlLoop

pytestmark = pytest.mark.usefixtures("root_certs_env")

HRR_RANDOM = bytes.fromhex("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C")
NO_CHACHA = sc.CRYPTO_SETTINGS(
    eAlgorithmUsage=sc.TlsParametersCngAlgUsageCipher, strCngAlgId="CHACHA20_POLY1305"
)


@dataclass(frozen=True)
class Suite:
    code: int
    name: str
    bits: int
    calg_cipher: int
    calg_hash: int
    crypto: tuple[sc.CRYPTO_SETTINGS, ...]


AES128 = Suite(
    0x1301,
    "TLS_AES_128_GCM_SHA256",
    128,
    sc.CALG_AES_128,
    sc.CALG_SHA_256,
    (
        sc.CRYPTO_SETTINGS(
            eAlgorithmUsage=sc.TlsParametersCngAlgUsageCipher,
            strCngAlgId="AES",
            dwMaxBitLength=128,
        ),
        NO_CHACHA,
    ),
)
AES256 = Suite(
    0x1302,
    "TLS_AES_256_GCM_SHA384",
    256,
    sc.CALG_AES_256,
    sc.CALG_SHA_384,
    (
        sc.CRYPTO_SETTINGS(
            eAlgorithmUsage=sc.TlsParametersCngAlgUsageCipher,
            strCngAlgId="AES",
            dwMinBitLength=256,
        ),
        NO_CHACHA,
    ),
)


def acquire_restricted(
    crypto: tuple[sc.CRYPTO_SETTINGS, ...] = (), flags: int = 0
) -> sc.CredHandle:
    params = [sc.TLS_PARAMETERS(cDisabledCrypto=len(crypto), pDisabledCrypto=list(crypto))]
    auth = sc.SCH_CREDENTIALS(
        dwVersion=sc.SCH_CREDENTIALS_VERSION,
        dwFlags=flags,
        cTlsParameters=1,
        pTlsParameters=params,
    )
    cred = sc.CredHandle()
    status = sc.AcquireCredentialsHandle(
        None, sc.UNISP_NAME, sc.SECPKG_CRED_OUTBOUND, None, auth, None, None, cred, None
    )
    assert status == sc.SEC_E_OK
    return cred


@dataclass
class Connected:
    loop: CurlLoop
    first_flight: bytes

    @property
    def ctx(self) -> sc.CtxtHandle:
        return self.loop.ctx


def connect(
    cert: peers.ServerCert | tuple[Path, Path],
    *,
    crypto: tuple[sc.CRYPTO_SETTINGS, ...] = (),
    curve: str | None = None,
    server_alpn: list[str] | None = None,
    client_alpn: list[bytes] | None = None,
    cred_flags: int = 0,
) -> Connected:
    chain, key = (cert.fullchain, cert.key) if isinstance(cert, peers.ServerCert) else cert
    server = MemoryServer(chain, key, num_tickets=0, ecdh_curve=curve, alpn=server_alpn)
    loop = CurlLoop(server, acquire_restricted(crypto, cred_flags), alpn=client_alpn)
    flight = server.feed(loop.first_call())
    loop.encdata += flight
    for _ in range(10):
        status, sent = loop.step()
        assert status in (sc.SEC_E_OK, sc.SEC_I_CONTINUE_NEEDED), status
        reply = server.feed(sent)
        loop.encdata += reply
        if status == sc.SEC_E_OK:
            break
    else:
        raise AssertionError("no SEC_E_OK")
    assert server.handshake_done
    return Connected(loop, flight)


@pytest.fixture
def conn(pki: peers.ServerPki) -> Iterator[Connected]:
    c = connect(pki.ecdsa)
    yield c
    sc.DeleteSecurityContext(c.ctx)
    sc.FreeCredentialsHandle(c.loop.cred)


def query(ctx: sc.CtxtHandle, attr: int, buf: object) -> object:
    assert sc.QueryContextAttributes(ctx, attr, buf) == sc.SEC_E_OK
    return buf


def server_hello_random(flight: bytes) -> bytes:
    assert flight[0] == 22 and flight[5] == 2  # handshake record, ServerHello
    return flight[11:43]


# --- suites ---------------------------------------------------------------------------------


@pytest.mark.parametrize("suite", [AES128, AES256], ids=lambda s: s.name)
@pytest.mark.parametrize("which", ["ecdsa", "rsa"])
def test_connection_and_cipher_info(pki: peers.ServerPki, suite: Suite, which: str) -> None:
    c = connect(getattr(pki, which), crypto=suite.crypto)
    info = query(c.ctx, sc.SECPKG_ATTR_CONNECTION_INFO, sc.SecPkgContext_ConnectionInfo())
    assert isinstance(info, sc.SecPkgContext_ConnectionInfo)
    assert info.dwProtocol == sc.SP_PROT_TLS1_3_CLIENT == 0x2000
    assert info.aiCipher == suite.calg_cipher
    assert info.dwCipherStrength == suite.bits
    assert info.aiHash == suite.calg_hash
    assert info.dwHashStrength == 0
    assert info.aiExch == 0
    assert info.dwExchStrength == 255  # x25519, the default key share

    ci = query(c.ctx, sc.SECPKG_ATTR_CIPHER_INFO, sc.SecPkgContext_CipherInfo(dwVersion=1))
    assert isinstance(ci, sc.SecPkgContext_CipherInfo)
    assert ci.dwVersion == sc.SECPKGCONTEXT_CIPHERINFO_V1
    assert ci.dwProtocol == 0x0304
    assert ci.dwCipherSuite == ci.dwBaseCipherSuite == suite.code
    assert ci.szCipherSuite == suite.name
    assert ci.szCipher == "AES"
    assert ci.dwCipherLen == suite.bits
    assert ci.dwCipherBlockLen == 16
    assert ci.szHash == ""
    assert ci.dwHashLen == 0
    assert ci.szExchange == "ECDH"
    assert ci.szCertificate == ("ECDSA" if which == "ecdsa" else "RSA")
    assert ci.dwKeyType == 0x1D

    ki = query(c.ctx, sc.SECPKG_ATTR_KEY_INFO, sc.SecPkgContext_KeyInfo())
    assert isinstance(ki, sc.SecPkgContext_KeyInfo)
    if which == "ecdsa":
        assert (ki.SignatureAlgorithm, ki.sSignatureAlgorithmName) == (sc.CALG_ECDSA, "ECDSA")
    else:
        assert (ki.SignatureAlgorithm, ki.sSignatureAlgorithmName) == (sc.CALG_RSA_SIGN, "RSA")
    assert ki.KeySize == suite.bits
    assert ki.EncryptAlgorithm == suite.calg_cipher
    assert ki.sEncryptAlgorithmName == "AES"

    sizes = query(c.ctx, sc.SECPKG_ATTR_STREAM_SIZES, sc.SecPkgContext_StreamSizes())
    assert isinstance(sizes, sc.SecPkgContext_StreamSizes)
    assert (sizes.cbHeader, sizes.cbTrailer, sizes.cbMaximumMessage, sizes.cBuffers) == (
        5,
        17,
        16384,
        4,
    )
    assert sizes.cbBlockSize == 16
    sc.DeleteSecurityContext(c.ctx)


def test_disabled_suite_is_not_offered(pki: peers.ServerPki) -> None:
    """The restriction is real: the ClientHello offers only what is left."""
    from schannel_py.tls.messages import ClientHello

    for suite in (AES128, AES256):
        loop = CurlLoop(
            MemoryServer(pki.ecdsa.fullchain, pki.ecdsa.key), acquire_restricted(suite.crypto)
        )
        hello = ClientHello.parse(loop.first_call()[5:])
        assert [c for c in hello.cipher_suites if c >> 8 == 0x13] == [suite.code]
        sc.DeleteSecurityContext(loop.ctx)


@pytest.mark.parametrize(
    ("curve", "group", "bits"),
    [("secp384r1", 0x18, 384), ("prime256v1", 0x17, 256), ("X25519", 0x1D, 255)],
)
def test_group_selection(pki: peers.ServerPki, curve: str, group: int, bits: int) -> None:
    # Python 3.10's set_ecdh_curve knows only the EC curves (UNKNOWN_GROUP for
    # X25519); OpenSSL's default server groups take the client's x25519 share, and
    # the asserts below check that X25519 is what was chosen.
    c = connect(pki.ecdsa, curve=None if curve == "X25519" else curve)
    hrr = server_hello_random(c.first_flight) == HRR_RANDOM
    assert hrr == (group != 0x1D)  # only x25519 gets a key share in the first ClientHello
    info = query(c.ctx, sc.SECPKG_ATTR_CONNECTION_INFO, sc.SecPkgContext_ConnectionInfo())
    assert isinstance(info, sc.SecPkgContext_ConnectionInfo)
    assert info.dwExchStrength == bits
    ci = query(c.ctx, sc.SECPKG_ATTR_CIPHER_INFO, sc.SecPkgContext_CipherInfo())
    assert isinstance(ci, sc.SecPkgContext_CipherInfo)
    assert ci.dwKeyType == group
    assert c.loop.attrs.value == CURL_FLAGS
    sc.DeleteSecurityContext(c.ctx)


# --- ALPN -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client", "server", "expected"),
    [
        ([b"h2", b"http/1.1"], ["http/1.1"], b"http/1.1"),
        ([b"http/1.1", b"h2"], ["h2", "http/1.1"], b"h2"),
        ([b"h2"], None, None),
        (None, ["h2"], None),
        (None, None, None),
    ],
)
def test_application_protocol(
    pki: peers.ServerPki,
    client: list[bytes] | None,
    server: list[str] | None,
    expected: bytes | None,
) -> None:
    c = connect(pki.ecdsa, client_alpn=client, server_alpn=server)
    ap = sc.SecPkgContext_ApplicationProtocol(ProtoNegoStatus=7, ProtoNegoExt=7, ProtocolIdSize=7)
    query(c.ctx, sc.SECPKG_ATTR_APPLICATION_PROTOCOL, ap)
    if expected is None:
        assert ap.ProtoNegoStatus == sc.SecApplicationProtocolNegotiationStatus_None == 0
        assert ap.ProtoNegoExt == 0
        assert ap.ProtocolIdSize == 0
    else:
        assert ap.ProtoNegoStatus == sc.SecApplicationProtocolNegotiationStatus_Success == 1
        assert ap.ProtoNegoExt == sc.SecApplicationProtocolNegotiationExt_ALPN == 2
        assert ap.ProtocolIdSize == len(expected)
        assert bytes(ap.ProtocolId[: ap.ProtocolIdSize]) == expected
        assert c.loop.server.tls.selected_alpn_protocol() == expected.decode()
    sc.DeleteSecurityContext(c.ctx)


# --- certificates and bindings -------------------------------------------------------------------


def enumerate_store(store: object) -> list[bytes]:
    ders = []
    prev = None
    for _ in range(20):
        prev = CertEnumCertificatesInStore(store, prev)  # type: ignore[arg-type]
        if prev is None:
            break
        ders.append(bytes(prev.pbCertEncoded))
    return ders


@pytest.mark.parametrize("which", ["ecdsa", "rsa", "ecdsa_direct"])
def test_remote_cert_context(pki: peers.ServerPki, which: str) -> None:
    cert: peers.ServerCert = getattr(pki, which)
    c = connect(cert)
    holder = sc.PVOID()
    query(c.ctx, sc.SECPKG_ATTR_REMOTE_CERT_CONTEXT, holder)
    leaf = holder.value
    assert leaf is not None
    assert bytes(leaf.pbCertEncoded) == cert.issued.der  # type: ignore[attr-defined]
    assert leaf.cbCertEncoded == len(cert.issued.der)  # type: ignore[attr-defined]
    sent = [cert.issued.der] + [i.der for i in cert.issued.intermediates]
    chain = enumerate_store(leaf.hCertStore)  # type: ignore[attr-defined]
    assert sorted(chain) == sorted(sent)
    assert cert.issued.der in chain
    assert len(chain) == (2 if which != "ecdsa_direct" else 1)
    sc.DeleteSecurityContext(c.ctx)


def expected_endpoint_binding(der: bytes) -> bytes:
    cert = x509.load_der_x509_certificate(der)
    algo = cert.signature_hash_algorithm
    if algo is None or isinstance(algo, (hashes.MD5, hashes.SHA1)):
        digest = hashlib.sha256(der).digest()
    else:
        digest = hashlib.new(algo.name, der).digest()
    return b"tls-server-end-point:" + digest


def check_bindings(bindings: sc.SecPkgContext_Bindings, app_data: bytes) -> None:
    blob = bindings.Bindings
    assert blob is not None
    blob = bytes(blob)
    assert bindings.BindingsLength == len(blob) == 32 + len(app_data)
    assert struct.unpack("<8I", blob[:32]) == (0, 0, 0, 0, 0, 0, len(app_data), 32)
    assert blob[32:] == app_data


def test_endpoint_bindings_sha256(conn: Connected, pki: peers.ServerPki) -> None:
    der = pki.ecdsa.issued.der
    assert isinstance(pki.ecdsa.issued.cert.signature_hash_algorithm, hashes.SHA256)
    b = sc.SecPkgContext_Bindings()
    query(conn.ctx, sc.SECPKG_ATTR_ENDPOINT_BINDINGS, b)
    app = b"tls-server-end-point:" + hashlib.sha256(der).digest()
    assert app == expected_endpoint_binding(der)
    check_bindings(b, app)
    assert b.BindingsLength == 32 + 21 + 32


def test_endpoint_bindings_sha384(tmp_path: Path) -> None:
    root = make_ca("P-384 test root", key_type="p384")
    leaf = make_leaf(root, dns_names=("localhost",))
    assert isinstance(leaf.cert.signature_hash_algorithm, hashes.SHA384)
    paths = leaf.write(tmp_path, "p384-")
    c = connect((paths.fullchain, paths.key), cred_flags=sc.SCH_CRED_MANUAL_CRED_VALIDATION)
    b = sc.SecPkgContext_Bindings()
    query(c.ctx, sc.SECPKG_ATTR_ENDPOINT_BINDINGS, b)
    der = leaf.cert.public_bytes(Encoding.DER)
    check_bindings(b, b"tls-server-end-point:" + hashlib.sha384(der).digest())
    assert b.BindingsLength == 32 + 21 + 48
    sc.DeleteSecurityContext(c.ctx)


@pytest.mark.parametrize(
    "attr",
    [sc.SECPKG_ATTR_UNIQUE_BINDINGS, sc.SECPKG_ATTR_NEGOTIATION_INFO, 0x7FFF],
    ids=["unique-bindings", "negotiation-info", "unknown"],
)
def test_unsupported_attributes(conn: Connected, attr: int) -> None:
    buf = sc.SecPkgContext_Bindings()
    assert sc.QueryContextAttributes(conn.ctx, attr, buf) == sc.SEC_E_UNSUPPORTED_FUNCTION


def test_flags_attribute(conn: Connected) -> None:
    f = sc.SecPkgContext_Flags()
    query(conn.ctx, sc.SECPKG_ATTR_FLAGS, f)
    assert f.Flags == conn.loop.attrs.value == CURL_FLAGS


def test_query_after_delete(conn: Connected) -> None:
    assert sc.DeleteSecurityContext(conn.ctx) == sc.SEC_E_OK
    for attr, buf in (
        (sc.SECPKG_ATTR_CONNECTION_INFO, sc.SecPkgContext_ConnectionInfo()),
        (sc.SECPKG_ATTR_REMOTE_CERT_CONTEXT, sc.PVOID()),
        (sc.SECPKG_ATTR_STREAM_SIZES, sc.SecPkgContext_StreamSizes()),
    ):
        assert sc.QueryContextAttributes(conn.ctx, attr, buf) == sc.SEC_E_INVALID_HANDLE
    assert sc.QueryContextAttributes(None, sc.SECPKG_ATTR_STREAM_SIZES, buf) == (
        sc.SEC_E_INVALID_HANDLE
    )
