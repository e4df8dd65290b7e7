"""Signature schemes through CRYPTO_SETTINGS (eAlgorithmUsage = TlsParametersCngAlgUsageSignature).

An entry disables schemes in the ClientHello's signature_algorithms (so also for
the server's signature) and for the client's own CertificateVerify: "RSA" (the
paddings named by the chaining modes, both without modes), "ECDSA" (curves by
bit length), "ED25519", and, as an schannel_py extension, any RFC 8446
SignatureScheme name.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

import schannel_py as sc
from schannel_py import crypt32, stream
from schannel_py.sspi import observe
from schannel_py.testing.memserver import MemoryServer
from schannel_py.tls import sigalgs as SA
from schannel_py.tls.messages import ClientHello, HandshakeType, Offer
from tests.support import peers
from tests.support.clientauth import client_certificate, server
from tests.support.sspi_driver import CurlLoop, no_unexpected_exceptions

TLS12, TLS13 = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3
Usage = sc.TlsParametersCngAlgUsageSignature
PSS = {
    SA.RSA_PSS_RSAE_SHA256,
    SA.RSA_PSS_RSAE_SHA384,
    SA.RSA_PSS_RSAE_SHA512,
    SA.RSA_PSS_PSS_SHA256,
    SA.RSA_PSS_PSS_SHA384,
    SA.RSA_PSS_PSS_SHA512,
}
PKCS1 = set(SA.PKCS1_SCHEMES)
ECDSA = {SA.ECDSA_SECP256R1_SHA256, SA.ECDSA_SECP384R1_SHA384, SA.ECDSA_SECP521R1_SHA512}


def setting(
    alg: str, *, modes: list[str] | None = None, lo: int = 0, hi: int = 0, usage: int = Usage
) -> sc.CRYPTO_SETTINGS:
    return sc.CRYPTO_SETTINGS(
        eAlgorithmUsage=usage,
        strCngAlgId=alg,
        cChainingModes=len(modes or []),
        rgstrChainingModes=modes,
        dwMinBitLength=lo,
        dwMaxBitLength=hi,
    )


def acquire_with(
    *settings: sc.CRYPTO_SETTINGS, cert: crypt32.CERT_CONTEXT | None = None
) -> tuple[sc.SecStatus, sc.CredHandle]:
    params = [sc.TLS_PARAMETERS(cDisabledCrypto=len(settings), pDisabledCrypto=list(settings))]
    auth = sc.SCH_CREDENTIALS(
        dwVersion=sc.SCH_CREDENTIALS_VERSION,
        cTlsParameters=1,
        pTlsParameters=params,
        cCreds=1 if cert else 0,
        paCred=[cert] if cert else None,
    )
    cred = sc.CredHandle()
    with no_unexpected_exceptions():
        status = sc.AcquireCredentialsHandle(
            None, sc.UNISP_NAME, sc.SECPKG_CRED_OUTBOUND, None, auth, None, None, cred, None
        )
    return status, cred


def offered(*settings: sc.CRYPTO_SETTINGS) -> list[int]:
    """The signature_algorithms of the ClientHello a credential with ``settings`` sends."""
    status, cred = acquire_with(*settings)
    assert status == sc.SEC_E_OK, status
    never_used = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    loop = CurlLoop(MemoryServer.for_context(never_used), cred)
    hello = loop.first_call()
    assert hello[0] == 22  # one plaintext handshake record
    return Offer.from_client_hello(ClientHello.parse(hello[5:])).signature_schemes


def without(gone: set[int]) -> list[int]:
    return [s for s in SA.DEFAULT_SCHEMES if s not in gone]


@pytest.mark.parametrize(
    ("settings", "gone"),
    [
        ([], set()),
        ([setting("RSA")], PSS | PKCS1),
        ([setting("rsa", modes=[sc.SCHANNEL_RSA_PSS_PADDING_ALGORITHM])], PSS),
        ([setting("RSA", modes=[sc.SCHANNEL_RSA_PKCS_PADDING_ALGORITHM])], PKCS1),
        ([setting("RSA", modes=["SCH_RSA_PSS_PAD", "SCH_RSA_PKCS_PAD"])], PSS | PKCS1),
        ([setting("RSA", modes=["SOMETHING_ELSE"])], set()),
        ([setting("RSA", lo=2048)], set()),  # an RSA key-size bound names no scheme
        ([setting("ECDSA")], ECDSA),
        ([setting("ECDSA", lo=384)], {SA.ECDSA_SECP256R1_SHA256}),
        ([setting("ECDSA", hi=256)], ECDSA - {SA.ECDSA_SECP256R1_SHA256}),
        ([setting("ED25519")], {SA.ED25519}),
        ([setting("ed25519")], {SA.ED25519}),
        ([setting("rsa_pss_rsae_sha256")], {SA.RSA_PSS_RSAE_SHA256}),
        ([setting("Ecdsa_Secp384r1_Sha384")], {SA.ECDSA_SECP384R1_SHA384}),
        (
            [setting("rsa_pss_rsae_sha256"), setting("RSA_PKCS1_SHA512")],
            {SA.RSA_PSS_RSAE_SHA256, SA.RSA_PKCS1_SHA512},
        ),
        ([setting("DSA"), setting("")], set()),  # names it does not use: ignored
        # Other usages leave the signature schemes alone.
        ([setting("RSA", usage=sc.TlsParametersCngAlgUsageCertSig)], set()),
        ([setting("ECDSA", usage=sc.TlsParametersCngAlgUsageKeyExchange)], set()),
    ],
    ids=lambda v: repr(v)[:60],
)
def test_client_hello_signature_algorithms(
    settings: list[sc.CRYPTO_SETTINGS], gone: set[int]
) -> None:
    assert offered(*settings) == without(gone)


def test_everything_disabled_is_algorithm_mismatch() -> None:
    status, _ = acquire_with(setting("RSA"), setting("ECDSA"), setting("ED25519"))
    assert status == sc.SEC_E_ALGORITHM_MISMATCH
    # One scheme left is enough.
    status, _ = acquire_with(setting("RSA"), setting("ECDSA", lo=384), setting("ED25519"))
    assert status == sc.SEC_E_OK


def test_bad_settings() -> None:
    too_many = setting("RSA", modes=["SCH_RSA_PSS_PAD"] * 17)
    assert acquire_with(too_many)[0] == sc.SEC_E_INVALID_PARAMETER
    odd = sc.CRYPTO_SETTINGS(eAlgorithmUsage=Usage, strCngAlgId="RSA", rgstrChainingModes=[None, 5])  # type: ignore[list-item]
    assert acquire_with(odd)[0] == sc.SEC_E_OK  # unknown modes name nothing


def test_server_left_without_a_scheme_fails(pki: peers.ServerPki, root_certs_env: Path) -> None:
    # An RSA server certificate in TLS 1.3 can only sign with RSA-PSS; with PSS off the
    # server has nothing to sign with and refuses.
    status, cred = acquire_with(setting("RSA", modes=[sc.SCHANNEL_RSA_PSS_PADDING_ALGORITHM]))
    assert status == sc.SEC_E_OK
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ctx.maximum_version = TLS13
    ctx.load_cert_chain(pki.rsa.fullchain, pki.rsa.key)
    loop = CurlLoop(MemoryServer.for_context(ctx), cred)
    with pytest.raises(ssl.SSLError, match="(?i)no suitable signature|handshake"):
        loop.handshake()
    loop.encdata += loop.server.pending_output()  # the server's handshake_failure alert
    assert loop.step()[0] == sc.SEC_E_ILLEGAL_MESSAGE  # section 0.4: handshake_failure


@pytest.mark.parametrize("version", [TLS13, TLS12], ids=["tls13", "tls12"])
def test_server_uses_the_remaining_scheme(
    pki: peers.ServerPki, root_certs_env: Path, version: ssl.TLSVersion
) -> None:
    status, cred = acquire_with(setting("rsa_pss_rsae_sha256"))
    assert status == sc.SEC_E_OK
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ctx.maximum_version = version
    ctx.load_cert_chain(pki.rsa.fullchain, pki.rsa.key)
    loop = CurlLoop(MemoryServer.for_context(ctx), cred)
    assert loop.handshake() == sc.SEC_E_OK
    info = sc.SecPkgContext_PyHandshakeInfo()
    assert (
        sc.QueryContextAttributes(loop.ctx, sc.SECPKG_ATTR_PY_HANDSHAKE_INFO, info) == sc.SEC_E_OK
    )
    assert info.wPeerSignatureScheme == SA.RSA_PSS_RSAE_SHA384


def handshake_and_verify_scheme(loop: CurlLoop) -> tuple[sc.SecStatus, int | None]:
    """The handshake's status and the scheme of the CertificateVerify the client
    sent, if any (read from the observer hook's report of each call)."""
    schemes: list[int] = []

    def watch(call: observe.SspiCall) -> None:
        for m in call.messages:
            if m.direction == "out" and m.type == HandshakeType.certificate_verify:
                schemes.append(int.from_bytes(m.data[4:6], "big"))

    with observe.add_observer(watch):
        status = loop.handshake()
    assert len(schemes) <= 1
    return status, (schemes[0] if schemes else None)


@pytest.mark.parametrize(
    ("version", "key_type", "settings", "expected"),
    [
        (TLS13, "rsa2048", [setting("rsa_pss_rsae_sha256")], SA.RSA_PSS_RSAE_SHA384),
        (TLS12, "rsa2048", [setting("RSA", modes=["SCH_RSA_PSS_PAD"])], SA.RSA_PKCS1_SHA256),
        (TLS12, "rsa2048", [], SA.RSA_PSS_RSAE_SHA256),
        (TLS13, "p384", [setting("ECDSA", hi=256)], None),  # its only scheme is off
        (TLS12, "ed25519", [setting("ED25519")], None),
    ],
    ids=["tls13-pss384", "tls12-pkcs1", "tls12-default", "tls13-p384-off", "tls12-ed25519-off"],
)
def test_client_certificate_verify_uses_an_allowed_scheme(
    pki: peers.ServerPki,
    root_certs_env: Path,
    version: ssl.TLSVersion,
    key_type: str,
    settings: list[sc.CRYPTO_SETTINGS],
    expected: int | None,
) -> None:
    issued, cert = client_certificate(pki, key_type)
    status, cred = acquire_with(*settings, cert=cert)
    assert status == sc.SEC_E_OK
    srv = server(pki, version, required=False)
    loop = CurlLoop(srv, cred)
    assert handshake_and_verify_scheme(loop) == (sc.SEC_E_OK, expected)
    if expected is None:
        assert srv.tls.getpeercert() is None  # no certificate rather than a disabled scheme
    else:
        assert srv.tls.getpeercert(binary_form=True) == issued.der


@pytest.mark.interop
def test_openssl_chooses_the_remaining_scheme(pki: peers.ServerPki, root_certs_env: Path) -> None:
    status, cred = acquire_with(setting("rsa_pss_rsae_sha256"), setting("rsa_pss_rsae_sha384"))
    assert status == sc.SEC_E_OK
    with peers.OpenSSLServer(**pki.rsa.server_kwargs(), tls12=False, num_tickets=0) as srv:
        s = stream.connect("127.0.0.1", srv.port, target="localhost", cred=cred, timeout=5.0)
        try:
            info = sc.SecPkgContext_PyHandshakeInfo()
            assert (
                sc.QueryContextAttributes(s.ctx, sc.SECPKG_ATTR_PY_HANDSHAKE_INFO, info)
                == sc.SEC_E_OK
            )
            s.send(b"hello\n")
            srv.wait_for_output("hello", start=srv.ready_offset)
        finally:
            s.close()
            s.sock.close()
    assert info.wPeerSignatureScheme == SA.RSA_PSS_RSAE_SHA512
