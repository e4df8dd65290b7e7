"""SCHANNEL_CRED.palgSupportedAlgs / cSupportedAlgs (rule 2.2.5)."""

from __future__ import annotations

import ssl
import struct
from pathlib import Path

import pytest

import schannel_py as sc
from schannel_py.testing.memserver import MemoryServer
from schannel_py.tls import sigalgs as SA
from schannel_py.tls import suites as S
from schannel_py.tls.messages import ClientHello, Ext, find_ext
from tests.support import peers
from tests.support.sspi_driver import CurlLoop


def acquire(algs: list[int], *, count: int | None = None) -> tuple[sc.SecStatus, sc.CredHandle]:
    """schannel-rs's credential (src/schannel_cred.rs, Builder::acquire, with
    supported_algorithms): SCHANNEL_CRED, SCH_USE_STRONG_CRYPTO | SCH_CRED_NO_DEFAULT_CREDS."""
    auth = sc.SCHANNEL_CRED(
        dwVersion=sc.SCHANNEL_CRED_VERSION,
        dwFlags=sc.SCH_USE_STRONG_CRYPTO | sc.SCH_CRED_NO_DEFAULT_CREDS,
        cSupportedAlgs=len(algs) if count is None else count,
        palgSupportedAlgs=algs,
    )
    cred = sc.CredHandle()
    status = sc.AcquireCredentialsHandle(
        None, sc.UNISP_NAME, sc.SECPKG_CRED_OUTBOUND, None, auth, None, None, cred, None
    )
    return status, cred


def offered(cred: sc.CredHandle, pki: peers.ServerPki) -> ClientHello:
    loop = CurlLoop(MemoryServer(pki.ecdsa.fullchain, pki.ecdsa.key), cred)
    hello = ClientHello.parse(loop.first_call()[5:])
    sc.DeleteSecurityContext(loop.ctx)
    return hello


def schemes(hello: ClientHello) -> list[int]:
    body = find_ext(hello.extensions, Ext.signature_algorithms)
    assert body is not None
    return [c for (c,) in struct.iter_unpack(">H", body[2:])]


def test_schannel_rs_invalid_algorithms() -> None:
    """schannel-rs src/test.rs, invalid_algorithms: [CALG_RC2, CALG_ECDSA] fails ACH."""
    status, cred = acquire([sc.CALG_RC2, sc.CALG_ECDSA])
    assert status == sc.SEC_E_ALGORITHM_MISMATCH
    assert (cred.dwLower, cred.dwUpper) == (0, 0)  # not written


def test_schannel_rs_valid_algorithms_connect(pki: peers.ServerPki, root_certs_env: Path) -> None:
    """schannel-rs src/test.rs, valid_algorithms: [CALG_AES_128, CALG_ECDSA] connects
    (here to an ECDSA server on memory); only AES-128 ECDSA suites and ECDSA
    signatures are offered; key exchange and hash, not named, stay open."""
    status, cred = acquire([sc.CALG_AES_128, sc.CALG_ECDSA])
    assert status == sc.SEC_E_OK
    hello = offered(cred, pki)
    assert hello.cipher_suites == [S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]
    assert schemes(hello) and set(schemes(hello)) <= {
        SA.ECDSA_SECP256R1_SHA256,
        SA.ECDSA_SECP384R1_SHA384,
        SA.ECDSA_SECP521R1_SHA512,
    }
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(pki.ecdsa.fullchain, pki.ecdsa.key)
    loop = CurlLoop(MemoryServer.for_context(ctx), cred)
    assert loop.handshake() == sc.SEC_E_OK
    info = sc.SecPkgContext_ConnectionInfo()
    assert sc.QueryContextAttributes(loop.ctx, sc.SECPKG_ATTR_CONNECTION_INFO, info) == sc.SEC_E_OK
    assert (info.aiCipher, info.dwCipherStrength) == (sc.CALG_AES_128, 128)


@pytest.mark.parametrize(
    ("algs", "expected"),
    [
        ([sc.CALG_AES_256], {0xC02C, 0xC030}),
        ([sc.CALG_SHA_384], {0xC02C, 0xC030}),
        ([sc.CALG_RSA_SIGN], {0xC030, 0xC02F, 0xCCA8}),
        ([sc.CALG_ECDH_EPHEM], set(S.DEFAULT_TLS12_SUITES)),
        ([sc.CALG_AES_128, sc.CALG_AES_256, sc.CALG_RSA_SIGN], {0xC030, 0xC02F}),
        ([sc.CALG_CHACHA20_POLY1305, sc.CALG_ECDSA], {0xCCA9}),
        # An ALG_ID nothing uses is harmless beside one that is used.
        ([sc.CALG_AES, sc.CALG_AES_128, sc.CALG_SHA_256], {0xC02B, 0xC02F}),
    ],
)
def test_each_named_class_is_narrowed(
    pki: peers.ServerPki, algs: list[int], expected: set[int]
) -> None:
    status, cred = acquire(algs)
    assert status == sc.SEC_E_OK
    assert set(offered(cred, pki).cipher_suites) == expected


@pytest.mark.parametrize(
    "alg",
    [
        sc.CALG_AES,
        sc.CALG_AES_192,
        sc.CALG_RC2,
        sc.CALG_DES,
        sc.CALG_SHA_512,
        sc.CALG_ECDH,
        sc.CALG_HMAC,
        sc.CALG_TLS1_MASTER,
    ],
)
def test_single_algorithms_windows_refuses_at_acquire(alg: int) -> None:
    """Alone, these ALG_IDs leave nothing to offer: ACH fails, as curl issue 3389's
    survey of every CALG on Windows 7 and 8.1 found for each of them."""
    assert acquire([alg])[0] == sc.SEC_E_ALGORITHM_MISMATCH


def test_no_list_and_count_rules(pki: peers.ServerPki) -> None:
    everything = set(offered(acquire([])[1], pki).cipher_suites)
    assert everything == set(S.DEFAULT_TLS12_SUITES)
    # C reads cSupportedAlgs entries: a count of 1 sees only CALG_AES_256.
    status, cred = acquire([sc.CALG_AES_256, sc.CALG_RC2], count=1)
    assert status == sc.SEC_E_OK
    assert set(offered(cred, pki).cipher_suites) == {0xC02C, 0xC030}


@pytest.mark.parametrize("bad", [["CALG_AES_128"], [None], [1.5]])
def test_malformed_lists_are_unknown_credentials(bad: list[object]) -> None:
    assert acquire(bad)[0] == sc.SEC_E_UNKNOWN_CREDENTIALS  # type: ignore[arg-type]
