"""RFC 5705 / RFC 8446 exporter through SetContextAttributes(KEYING_MATERIAL_INFO) + QCA(KEYING_MATERIAL)."""

from __future__ import annotations

import re
from pathlib import Path

import peers
import pytest
from memserver import MemoryServer
from sspi_driver import CurlLoop, acquire

import schannel_py as sc
from schannel_py import stream


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
    loop = CurlLoop(MemoryServer(Path(pki.ecdsa.fullchain), Path(pki.ecdsa.key)), acquire())
    loop.first_call()
    # Before the handshake completes: not available.
    km = sc.SecPkgContext_KeyingMaterial()
    assert (
        sc.QueryContextAttributes(loop.ctx, sc.SECPKG_ATTR_KEYING_MATERIAL, km)
        == sc.SEC_E_INVALID_HANDLE
    )
    loop2 = CurlLoop(MemoryServer(Path(pki.ecdsa.fullchain), Path(pki.ecdsa.key)), acquire())
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
