"""Client certificates for the SSPI tests: a certificate from the test CA imported
from PKCS#12, a credential that carries it, and an in-memory server that asks for it."""

from __future__ import annotations

import ssl

import schannel_py as sc
from schannel_py import crypt32
from schannel_py.testing.memserver import MemoryServer
from schannel_py.testing.pki import Issued, make_leaf
from tests.support import peers


def client_certificate(pki: peers.ServerPki, key_type: str) -> tuple[Issued, crypt32.CERT_CONTEXT]:
    """A clientAuth certificate from the test CA, imported from PKCS#12 with its key."""
    issued = make_leaf(
        pki.intermediate,
        dns_names=(),
        common_name=f"client-{key_type}",
        key_type=key_type,
        eku=("clientAuth",),
    )  # type: ignore[arg-type]
    store = crypt32.PFXImportCertStore(issued.to_pkcs12(b"pw"), "pw", 0)
    assert store is not None
    ctx = crypt32.CertFindCertificateInStore(
        store, crypt32.X509_ASN_ENCODING, 0, crypt32.CERT_FIND_ANY, None, None
    )
    while ctx is not None and ctx.pbCertEncoded != issued.der:
        ctx = crypt32.CertFindCertificateInStore(
            store, crypt32.X509_ASN_ENCODING, 0, crypt32.CERT_FIND_ANY, None, ctx
        )
    assert ctx is not None and ctx.private_key is not None
    return issued, ctx


def credential(
    cert: crypt32.CERT_CONTEXT | None = None, *, flags: int = 0, v4: bool = False
) -> sc.CredHandle:
    certs = [cert] if cert is not None else None
    if v4:
        auth: object = sc.SCHANNEL_CRED(
            dwVersion=sc.SCHANNEL_CRED_VERSION, cCreds=len(certs or []), paCred=certs, dwFlags=flags
        )
    else:
        auth = sc.SCH_CREDENTIALS(
            dwVersion=sc.SCH_CREDENTIALS_VERSION,
            cCreds=len(certs or []),
            paCred=certs,
            dwFlags=flags,
        )
    handle, expiry = sc.CredHandle(), sc.TimeStamp()
    status = sc.AcquireCredentialsHandle(
        None, sc.UNISP_NAME, sc.SECPKG_CRED_OUTBOUND, None, auth, None, None, handle, expiry
    )
    assert status == sc.SEC_E_OK, status
    return handle


def server(
    pki: peers.ServerPki,
    version: ssl.TLSVersion,
    *,
    required: bool = True,
    post_handshake: bool = False,
) -> MemoryServer:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ctx.maximum_version = version
    ctx.load_cert_chain(pki.ecdsa.fullchain, pki.ecdsa.key)
    ctx.verify_mode = ssl.CERT_REQUIRED if required else ssl.CERT_OPTIONAL
    if post_handshake:
        ctx.post_handshake_auth = True
    ctx.load_verify_locations(pki.root_ca)
    return MemoryServer.for_context(ctx)
