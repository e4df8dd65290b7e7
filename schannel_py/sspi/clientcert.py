"""Client certificates for the TLS core: CERT_CONTEXT (with its key) to a signing credential.

SChannel signs CertificateVerify with the private key kept beside the
certificate (CryptoAPI/CNG); here that key is the ``private_key`` a
CERT_CONTEXT carries (PFXImportCertStore, the "MY" store, or a PEM pair).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from .. import constants as C
from .. import crypt32
from ..crypt32 import CERT_CONTEXT
from ..tls import sigalgs as SA
from ..tls.client import ClientCredential
from ..tls.clientauth import PAUSE, CertificateRequestInfo

if TYPE_CHECKING:
    from .context import Context

_HASH: dict[int, type[hashes.SHA256] | type[hashes.SHA384] | type[hashes.SHA512]] = {
    SA.ECDSA_SECP256R1_SHA256: hashes.SHA256,
    SA.ECDSA_SECP384R1_SHA384: hashes.SHA384,
    SA.RSA_PSS_RSAE_SHA256: hashes.SHA256,
    SA.RSA_PSS_RSAE_SHA384: hashes.SHA384,
    SA.RSA_PSS_RSAE_SHA512: hashes.SHA512,
    SA.RSA_PKCS1_SHA256: hashes.SHA256,
    SA.RSA_PKCS1_SHA384: hashes.SHA384,
    SA.RSA_PKCS1_SHA512: hashes.SHA512,
}


def schemes_for_key(key: object) -> tuple[int, ...]:
    """Signature schemes a private key can make, most preferred first."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return (SA.ED25519,)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.name == "secp256r1":
            return (SA.ECDSA_SECP256R1_SHA256,)
        if key.curve.name == "secp384r1":
            return (SA.ECDSA_SECP384R1_SHA384,)
        return ()
    if isinstance(key, rsa.RSAPrivateKey):
        return (
            SA.RSA_PSS_RSAE_SHA256,
            SA.RSA_PSS_RSAE_SHA384,
            SA.RSA_PSS_RSAE_SHA512,
            SA.RSA_PKCS1_SHA256,
            SA.RSA_PKCS1_SHA384,
            SA.RSA_PKCS1_SHA512,
        )
    return ()


def _signer(key: object) -> Callable[[int, bytes], bytes]:
    def sign(scheme: int, data: bytes) -> bytes:
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return key.sign(data)
        h = _HASH[scheme]()
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(h))
        if isinstance(key, rsa.RSAPrivateKey):
            if scheme in SA.PKCS1_SCHEMES:
                return key.sign(data, padding.PKCS1v15(), h)
            return key.sign(data, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
        raise ValueError("unsupported key")

    return sign


def chain_for(cert: CERT_CONTEXT) -> list[bytes]:
    """The chain sent in Certificate: leaf first, with issuers found in the stores."""
    try:
        return crypt32.client_chain(cert) or [cert.pbCertEncoded]
    except Exception:
        return [cert.pbCertEncoded]


def credential_from(
    cert: CERT_CONTEXT | None, allowed: tuple[int, ...] | None = None
) -> ClientCredential | None:
    """A signing credential for a certificate context with a private key, or None.

    ``allowed`` (the credential's enabled signature schemes) limits what its
    CertificateVerify may use; with none left the certificate is not sent.
    """
    if cert is None or cert.private_key is None:
        return None
    schemes = schemes_for_key(cert.private_key)
    if not schemes:
        return None
    if allowed is not None:
        schemes = tuple(s for s in schemes if s in allowed)
    return ClientCredential(chain=chain_for(cert), schemes=schemes, sign=_signer(cert.private_key))


def auto_select(issuers: list[bytes], now: float) -> CERT_CONTEXT | None:
    """A certificate from "MY" whose issuer the server accepts (SChannel's default credentials)."""
    try:
        store = crypt32.CertOpenSystemStore(None, "MY")
        if store is None:
            return None
        when = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
        found = crypt32.find_client_certificate(store, issuers, when)
    except Exception:
        return None
    return found if isinstance(found, CERT_CONTEXT) else None


def chooser(ctx: Context) -> Callable[[CertificateRequestInfo], object]:
    """SChannel's choice when the server asks for a certificate and the credential has none."""

    def choose(info: CertificateRequestInfo) -> object:
        if ctx.req & C.ISC_REQ_USE_SUPPLIED_CREDS:
            return None  # the caller said: use what was supplied (nothing)
        if not ctx.cred.flags & C.SCH_CRED_NO_DEFAULT_CREDS:
            from . import context  # the injected clock, as new contexts read it

            found = auto_select(info.authorities, context.clock())
            credential = credential_from(found, ctx.cred.signature_schemes)
            if credential is not None:
                ctx.local_cert = found
                return credential
        return PAUSE  # SEC_I_INCOMPLETE_CREDENTIALS

    return choose


def _offered_certificate(ctx: Context) -> ClientCredential | None:
    """The signing credential of a new credential this ISC call offers, if it has one."""
    offered = ctx.offered_cred
    if offered is None or offered is ctx.cred or offered.certificate is None:
        return None
    return credential_from(offered.certificate, offered.signature_schemes)


def answer_now(ctx: Context) -> bool:
    """Whether this ISC answers a CertificateRequest without asking first: it offers a
    certificate, or says to use what was supplied (ISC_REQ_USE_SUPPLIED_CREDS)."""
    return bool(ctx.req & C.ISC_REQ_USE_SUPPLIED_CREDS) or _offered_certificate(ctx) is not None


def resolve_credential(ctx: Context) -> ClientCredential | None:
    """The ISC after SEC_I_INCOMPLETE_CREDENTIALS: the certificate of a new credential
    it offers (which becomes the context's), else none: the handshake goes on with an
    empty Certificate whatever the flags (docs/windows-behaviour.md rule 1.5.7)."""
    credential = _offered_certificate(ctx)
    if credential is not None:
        assert ctx.offered_cred is not None
        ctx.cred = ctx.offered_cred
        ctx.local_cert = ctx.offered_cred.certificate
    return credential
