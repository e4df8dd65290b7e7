"""SCHANNEL_CRED.palgSupportedAlgs against openssl s_server on loopback (rule 2.2.5)."""

from __future__ import annotations

from pathlib import Path

import pytest

import schannel_py as sc
from schannel_py import stream
from tests.support import peers

pytestmark = pytest.mark.interop

#: s_server accepts only AES-256-GCM (TLS 1.2: SCHANNEL_CRED never offers TLS 1.3).
AES256_ONLY = peers.OPENSSL_AES256_GCM_ONLY


def cred(algs: list[int]) -> sc.CredHandle:
    """curl's --ciphers credential (lib/vtls/schannel.c, schannel_acquire_credential_handle
    and set_ssl_ciphers): SCHANNEL_CRED v4 with the ALG_ID list, no SCH_USE_STRONG_CRYPTO."""
    handle = sc.CredHandle()
    auth = sc.SCHANNEL_CRED(
        dwVersion=sc.SCHANNEL_CRED_VERSION,
        grbitEnabledProtocols=sc.SP_PROT_TLS1_2_CLIENT,
        cSupportedAlgs=len(algs),
        palgSupportedAlgs=algs,
    )
    status = sc.AcquireCredentialsHandle(
        None, sc.UNISP_NAME, sc.SECPKG_CRED_OUTBOUND, None, auth, None, None, handle, None
    )
    assert status == sc.SEC_E_OK
    return handle


def test_aes128_only_list_does_not_connect_to_an_aes256_only_server(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), tls13=False, cipher=AES256_ONLY) as srv:
        with pytest.raises(stream.SChannelError) as err:
            s = stream.connect(
                "127.0.0.1", srv.port, target="localhost", cred=cred([sc.CALG_AES_128])
            )
            s.close()
    # s_server finds no shared suite and sends handshake_failure (40).
    assert err.value.status == sc.SEC_E_ILLEGAL_MESSAGE


def test_aes256_list_connects_to_the_same_server(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), tls13=False, cipher=AES256_ONLY) as srv:
        s = stream.connect(
            "127.0.0.1",
            srv.port,
            target="localhost",
            cred=cred([sc.CALG_AES_256, sc.CALG_SHA_384, sc.CALG_ECDH_EPHEM, sc.CALG_ECDSA]),
        )
        try:
            info = sc.SecPkgContext_CipherInfo()
            assert sc.QueryContextAttributes(s.ctx, sc.SECPKG_ATTR_CIPHER_INFO, info) == sc.SEC_E_OK
            assert info.dwCipherSuite == 0xC02C
            s.send(b"aes-256 only\n")
            srv.wait_for_output("aes-256 only")
            s.shutdown()
        finally:
            s.close()
