"""Client certificates: pairing a certificate with its key, selection and chains.

Without PKCS#12
---------------
:func:`PFXImportCertStore` is the Windows way to get a certificate with its
private key.  For a certificate and a key kept apart (``cert.pem`` +
``key.pem``, as OpenSSL tools write them), use :func:`CertContextFromKeyPair`::

    ctx = CertContextFromKeyPair("client.pem", "client.key")          # files
    ctx = CertContextFromKeyPair(cert_der, key_pem, password=b"secret") # bytes

Each argument may be PEM or DER, as bytes or as a file (``pathlib.Path`` or a
``str`` path; a ``str`` holding ``-----BEGIN`` is PEM text).  The certificate
input may carry chain certificates after the leaf (a "fullchain" file): the
returned context's ``hCertStore`` is a memory store holding them, so the chain
is sent.  To keep the pair for later, add the context to "MY"
(``CertAddCertificateContextToStore(CertOpenSystemStore(None, "MY"), ctx, ...)``),
which writes it to the "MY" directory (:mod:`schannel_py.crypt32.mystore`).

Automatic selection
-------------------
:func:`find_client_certificate` is what the SSPI layer uses when a server asks
for a certificate and the credential has none; :func:`client_chain` builds the
list a Certificate message carries.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from ._keys import key_matches, load_certificates, load_private_keys, read_input, supported_key
from ._x509 import extensions_of
from .constants import CERT_STORE_ADD_ALWAYS
from .context import CERT_CONTEXT, PCCERT_CONTEXT
from .store import CertStore, _open_system

__all__ = ["CertContextFromKeyPair", "client_chain", "find_client_certificate"]

_MAX_DEPTH = 8


def CertContextFromKeyPair(
    certificate: bytes | str | Path,
    private_key: bytes | str | Path,
    password: bytes | None = None,
) -> CERT_CONTEXT | None:
    """A context for ``certificate`` carrying ``private_key``, or None (never raises).

    ``certificate``: PEM (leaf first, optional chain certificates after it) or
    DER; ``private_key``: PEM (PKCS#8, encrypted PKCS#8, PKCS#1, SEC1) or DER
    (PKCS#8, PKCS#1, SEC1), decrypted with ``password`` when encrypted.  Either
    may be bytes or a file.  The leaf is the first certificate; None when the
    key is not its private half, when the key type is unsupported (RSA under
    2048 bits, curves other than P-256/P-384, anything but RSA/ECDSA/Ed25519),
    or when either input does not decode.  The context lives in a new memory
    store (``hCertStore``) that also holds the chain certificates.
    """
    try:
        cert_data = read_input(certificate)
        key_data = read_input(private_key)
        if cert_data is None or key_data is None:
            return None
        certs = load_certificates(cert_data)
        if not certs:
            return None
        leaf_der, leaf = certs[0]
        key = next((k for k in load_private_keys(key_data, password) if key_matches(leaf, k)), None)
        if key is None or not supported_key(key):
            return None
        store = CertStore(None)
        out = PCCERT_CONTEXT()
        if not store._add(leaf_der, leaf, key, CERT_STORE_ADD_ALWAYS, out):
            return None
        for der, cert in certs[1:]:
            store._add(der, cert, None, CERT_STORE_ADD_ALWAYS, None)
        return out.value
    except Exception:
        return None


# --- selection -------------------------------------------------------------


def _utc(now: datetime.datetime) -> datetime.datetime:
    if now.tzinfo is None:
        return now.replace(tzinfo=datetime.timezone.utc)
    return now


def _client_usage_ok(cert: x509.Certificate) -> bool:
    """No EKU extension, or one listing clientAuth or anyExtendedKeyUsage."""
    try:
        eku = extensions_of(cert).get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return (
        ExtendedKeyUsageOID.CLIENT_AUTH in eku or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in eku
    )


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except Exception:
        return False
    return True


def _pool(stores: Iterable[CertStore | None]) -> list[tuple[bytes, x509.Certificate]]:
    """(DER, certificate) of every store in order, each certificate once."""
    seen: set[bytes] = set()
    out: list[tuple[bytes, x509.Certificate]] = []
    for store in stores:
        if store is None:
            continue
        for entry in store._entries():
            if entry.der not in seen:
                seen.add(entry.der)
                out.append((entry.der, entry.cert))
    return out


def _system_pool(first: CertStore | None) -> list[tuple[bytes, x509.Certificate]]:
    names = ("CA", "MY", "ROOT")
    return _pool(
        [first, *(_open_system(n, readonly=True, create=True) for n in names if _skip(first, n))]
    )


def _skip(first: CertStore | None, name: str) -> bool:
    """Whether to add system store ``name`` after ``first`` (not when it is that store)."""
    return first is None or first.name != name


def _issuers_of(
    cert: x509.Certificate, pool: Sequence[tuple[bytes, x509.Certificate]]
) -> list[tuple[bytes, x509.Certificate]]:
    return [
        (der, cand) for der, cand in pool if cand.subject == cert.issuer and _signed_by(cert, cand)
    ]


def _is_self_signed(cert: x509.Certificate) -> bool:
    return cert.subject == cert.issuer and _signed_by(cert, cert)


def _issuer_names_up(
    cert: x509.Certificate, pool: Sequence[tuple[bytes, x509.Certificate]]
) -> Iterable[bytes]:
    """DER issuer names of ``cert`` and of every certificate above it in ``pool``."""
    frontier = [cert]
    seen: set[bytes] = set()
    for _ in range(_MAX_DEPTH):
        nxt: list[x509.Certificate] = []
        for current in frontier:
            yield current.issuer.public_bytes()
            if _is_self_signed(current):
                continue
            for der, parent in _issuers_of(current, pool):
                if der not in seen:
                    seen.add(der)
                    nxt.append(parent)
        if not nxt:
            return
        frontier = nxt


def find_client_certificate(
    store: CertStore, issuers: list[bytes], now: datetime.datetime
) -> CERT_CONTEXT | None:
    """The first certificate of ``store`` fit to answer a CertificateRequest, or None.

    Fit: it has a private key, ``now`` is within its validity, it has no EKU or
    one with clientAuth / anyExtendedKeyUsage, and (unless ``issuers`` is empty)
    its issuer name - or that of a certificate up its chain, found in ``store``,
    "CA", "MY" or "ROOT" by name and signature - is one of ``issuers`` (DER
    DistinguishedNames, as in certificate_authorities).  Never raises.
    """
    try:
        when = _utc(now)
        wanted = {bytes(i) for i in issuers}
        pool: list[tuple[bytes, x509.Certificate]] | None = None
        for ctx in store:
            try:
                cert = ctx.certificate
                if ctx.private_key is None:
                    continue
                if not cert.not_valid_before_utc <= when <= cert.not_valid_after_utc:
                    continue
                if not _client_usage_ok(cert):
                    continue
                if not wanted:
                    return ctx
                if cert.issuer.public_bytes() in wanted:
                    return ctx
                if pool is None:
                    pool = _system_pool(store)
                if any(name in wanted for name in _issuer_names_up(cert, pool)):
                    return ctx
            except Exception:  # one malformed certificate must not stop the search
                continue
    except Exception:
        return None
    return None


def client_chain(ctx: CERT_CONTEXT, include_root: bool = False) -> list[bytes]:
    """DER chain for a Certificate message: ``ctx`` first, then each issuer.

    Issuers come from ``ctx.hCertStore``, then "CA", "MY" and "ROOT" (issuer
    name, then signature).  The chain stops at a self-signed certificate, which
    is left out unless ``include_root`` (a self-signed leaf is always kept), or
    where no issuer is found.  Never raises.
    """
    try:
        chain = [ctx.pbCertEncoded]
        current = ctx.certificate
        if _is_self_signed(current):
            return chain
        pool = _system_pool(ctx.hCertStore if isinstance(ctx.hCertStore, CertStore) else None)
        for _ in range(_MAX_DEPTH):
            parents = [(d, c) for d, c in _issuers_of(current, pool) if d not in chain]
            if not parents:
                break
            der, parent = parents[0]
            if _is_self_signed(parent):
                if include_root:
                    chain.append(der)
                break
            chain.append(der)
            current = parent
        return chain
    except Exception:
        return [ctx.pbCertEncoded] if isinstance(ctx, CERT_CONTEXT) else []
