"""RFC 5705 / RFC 8446 exporter through SetContextAttributes(KEYING_MATERIAL_INFO) + QCA(KEYING_MATERIAL)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import schannel_py as sc
from schannel_py import stream
from schannel_py.testing import acquire_credential
from schannel_py.testing.memserver import MemoryServer
from tests.support import peers
from tests.support.sspi_driver import CurlLoop


def export(
    ctx: sc.CtxtHandle, label: str, length: int, context: bytes | None = None
) -> tuple[sc.SecStatus, bytes]:
    info = sc.SecPkgContext_KeyingMaterialInfo(
        cbLabel=len(label) + 1,
        pszLabel=label,
        cbContextValue=len(context or b""),
        pbContextValue=context,
        cbKeyingMaterial=length,
    )
    status = sc.SetContextAttributes(ctx, sc.SECPKG_ATTR_KEYING_MATERIAL_INFO, info, 0)
    if status != sc.SEC_E_OK:
        return status, b""
    km = sc.SecPkgContext_KeyingMaterial()
    status = sc.QueryContextAttributes(ctx, sc.SECPKG_ATTR_KEYING_MATERIAL, km)
    return status, bytes(km.pbKeyingMaterial or b"")[: km.cbKeyingMaterial]


@pytest.mark.interop
@pytest.mark.parametrize("tls13", [True, False], ids=["tls13", "tls12"])
def test_exporter_matches_openssl(pki: peers.ServerPki, root_certs_env: Path, tls13: bool) -> None:
    args = ["-keymatexport", "EXPERIMENTAL-schannel-py", "-keymatexportlen", "32"]
    with peers.OpenSSLServer(
        **pki.ecdsa.server_kwargs(), tls13=tls13, tls12=not tls13, extra_args=args
    ) as srv:
        cred = stream.acquire_default_credential(
            disabled_protocols=0 if tls13 else sc.SP_PROT_TLS1_3_CLIENT
        )
        s = stream.connect("127.0.0.1", srv.port, target="localhost", cred=cred)
        try:
            status, ours = export(s.ctx, "EXPERIMENTAL-schannel-py", 32)
            assert status == sc.SEC_E_OK and len(ours) == 32
            s.send(b"sync\n")
            srv.wait_for_output("sync")
            m = re.search(r"Keying material: ([0-9A-Fa-f]+)", srv.output())
            assert m is not None, srv.output()
            assert ours == bytes.fromhex(m.group(1))
            # A context value changes the output; the same inputs give the same bytes.
            with_ctx = export(s.ctx, "EXPERIMENTAL-schannel-py", 32, b"ctx")[1]
            assert (
                with_ctx != ours
                and export(s.ctx, "EXPERIMENTAL-schannel-py", 32, b"ctx")[1] == with_ctx
            )
        finally:
            s.close()


def test_exporter_errors(pki: peers.ServerPki, root_certs_env: Path) -> None:
    loop = CurlLoop(
        MemoryServer(Path(pki.ecdsa.fullchain), Path(pki.ecdsa.key)), acquire_credential()
    )
    loop.first_call()
    # Before the handshake completes: not available.
    km = sc.SecPkgContext_KeyingMaterial()
    assert (
        sc.QueryContextAttributes(loop.ctx, sc.SECPKG_ATTR_KEYING_MATERIAL, km)
        == sc.SEC_E_INVALID_HANDLE
    )
    loop2 = CurlLoop(
        MemoryServer(Path(pki.ecdsa.fullchain), Path(pki.ecdsa.key)), acquire_credential()
    )
    assert loop2.handshake() == sc.SEC_E_OK
    # Established, but KEYING_MATERIAL_INFO never set.
    assert (
        sc.QueryContextAttributes(loop2.ctx, sc.SECPKG_ATTR_KEYING_MATERIAL, km)
        == sc.SEC_E_INVALID_PARAMETER
    )
    assert export(loop2.ctx, "label", 0)[0] == sc.SEC_E_INVALID_PARAMETER
    bad = sc.SecPkgContext_KeyingMaterialInfo(pszLabel=None, cbKeyingMaterial=16)
    assert (
        sc.SetContextAttributes(loop2.ctx, sc.SECPKG_ATTR_KEYING_MATERIAL_INFO, bad, 0)
        == sc.SEC_E_INVALID_PARAMETER
    )
    assert (
        sc.SetContextAttributes(loop2.ctx, sc.SECPKG_ATTR_EARLY_START, bad, 0)
        == sc.SEC_E_UNSUPPORTED_FUNCTION
    )
    assert (
        sc.SetContextAttributes(None, sc.SECPKG_ATTR_KEYING_MATERIAL_INFO, bad, 0)
        == sc.SEC_E_INVALID_HANDLE
    )
    status, material = export(loop2.ctx, "EXPORTER-test", 48)
    assert status == sc.SEC_E_OK and len(material) == 48


def _expand_label(secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    """RFC 8446 HKDF-Expand-Label with SHA-256, written here from the RFC."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

    full = b"tls13 " + label
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context
    return HKDFExpand(hashes.SHA256(), length, info).derive(secret)


def test_empty_label_is_exported_as_rfc_8446_says(
    pki: peers.ServerPki, root_certs_env: Path, tmp_path: Path
) -> None:
    import hashlib
    import ssl

    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    server_ctx.load_cert_chain(pki.ecdsa.fullchain, pki.ecdsa.key)
    keylog = tmp_path / "server.keys"
    server_ctx.keylog_filename = str(keylog)
    creds = sc.CRYPTO_SETTINGS(
        eAlgorithmUsage=sc.TlsParametersCngAlgUsageCipher, strCngAlgId="AES", dwMaxBitLength=128
    )
    params = [sc.TLS_PARAMETERS(cDisabledCrypto=1, pDisabledCrypto=[creds])]
    auth = sc.SCH_CREDENTIALS(
        dwVersion=sc.SCH_CREDENTIALS_VERSION, cTlsParameters=1, pTlsParameters=params
    )
    cred = sc.CredHandle()
    assert (
        sc.AcquireCredentialsHandle(
            None, sc.UNISP_NAME, sc.SECPKG_CRED_OUTBOUND, None, auth, None, None, cred, None
        )
        == sc.SEC_E_OK
    )
    loop = CurlLoop(MemoryServer.for_context(server_ctx), cred)
    assert loop.handshake() == sc.SEC_E_OK
    secret = None
    for line in keylog.read_text().splitlines():
        if line.startswith("EXPORTER_SECRET "):
            secret = bytes.fromhex(line.split()[2])
    assert secret is not None and len(secret) == 32  # AES-256 disabled: a SHA-256 suite
    empty = hashlib.sha256(b"").digest()
    derived = _expand_label(secret, b"", empty, 32)  # Derive-Secret(secret, "", "")
    expected = _expand_label(derived, b"exporter", empty, 20)
    status, got = export(loop.ctx, "", 20)
    assert status == sc.SEC_E_OK and got == expected
    assert export(loop.ctx, "x", 20)[1] != got
