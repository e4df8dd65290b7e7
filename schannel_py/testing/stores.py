"""Trust, client certificates and credentials for a test, undone afterwards.

:func:`trusted_root` puts a CA in the "ROOT" system store for the duration of a
``with`` block; :func:`certificate_in_my` puts a certificate with its key in
"MY" (backed by a temporary directory unless you name one, so the user's own
"MY" directory is never written); :func:`client_certificate_context` makes the
``CERT_CONTEXT`` a credential's ``paCred`` takes; :func:`acquire_credential`
is AcquireCredentialsHandle with ``SCH_CREDENTIALS`` (or the legacy
``SCHANNEL_CRED``) in one call; :func:`deterministic` fixes the random source
and clock of new contexts; :class:`ManualClock` is a clock a test moves by hand.
"""

from __future__ import annotations

import hashlib
import os
import random as _random
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from .. import crypt32
from ..constants import (
    SCH_CRED_MANUAL_CRED_VALIDATION,
    SCH_CREDENTIALS_VERSION,
    SCHANNEL_CRED_VERSION,
    SEC_E_OK,
    SECPKG_CRED_OUTBOUND,
    SP_PROT_TLS1_2_CLIENT,
    SP_PROT_TLS1_3_CLIENT,
    UNISP_NAME,
)
from ..crypt32.constants import MY_STORE_ENV
from ..sspi import context as _context
from ..sspi.functions import AcquireCredentialsHandle
from ..sspi.types import (
    SCH_CREDENTIALS,
    SCHANNEL_CRED,
    TLS_PARAMETERS,
    CredHandle,
    TimeStamp,
)
from .pki import Issued, make_self_signed

__all__ = [
    "Determinism",
    "ManualClock",
    "acquire_credential",
    "active_determinism",
    "certificate_in_my",
    "client_certificate_context",
    "deterministic",
    "trusted_root",
]


def _der(ca: Issued | bytes) -> bytes:
    return ca.der if isinstance(ca, Issued) else bytes(ca)


@contextmanager
def trusted_root(ca: Issued | bytes) -> Iterator[crypt32.CERT_CONTEXT]:
    """Trust ``ca`` (an :class:`Issued` or DER) in "ROOT" inside the block.

    A certificate that was already in "ROOT" stays there afterwards; one this
    call added is deleted again.
    """
    der = _der(ca)
    store = crypt32.CertOpenSystemStore(None, "ROOT")
    if store is None:  # pragma: no cover - "ROOT" always opens
        raise OSError(crypt32.GetLastError(), 'cannot open "ROOT"')
    out = crypt32.PCCERT_CONTEXT()
    added = crypt32.CertAddEncodedCertificateToStore(
        store, crypt32.X509_ASN_ENCODING, der, len(der), crypt32.CERT_STORE_ADD_NEW, out
    )
    if not added:
        if crypt32.GetLastError() != crypt32.CRYPT_E_EXISTS:
            crypt32.CertCloseStore(store)
            raise ValueError(f"not a certificate (0x{crypt32.GetLastError():08X})")
        crypt32.CertAddEncodedCertificateToStore(
            store,
            crypt32.X509_ASN_ENCODING,
            der,
            len(der),
            crypt32.CERT_STORE_ADD_USE_EXISTING,
            out,
        )
    assert out.value is not None
    try:
        yield out.value
    finally:
        if added:
            crypt32.CertDeleteCertificateFromStore(out.value)
        crypt32.CertCloseStore(store)


def client_certificate_context(issued: Issued) -> crypt32.CERT_CONTEXT:
    """A ``CERT_CONTEXT`` for ``issued`` carrying its private key (in a memory store that
    also holds its intermediates), ready for ``SCH_CREDENTIALS.paCred``."""
    pem = issued.pem + b"".join(i.pem for i in issued.intermediates)
    key = issued.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    ctx = crypt32.CertContextFromKeyPair(pem, key)
    if ctx is None:
        raise ValueError(
            "the key is not one a client certificate may have (see CertContextFromKeyPair)"
        )
    return ctx


@contextmanager
def certificate_in_my(
    issued: Issued, directory: str | os.PathLike[str] | None = None
) -> Iterator[crypt32.CERT_CONTEXT]:
    """``issued`` with its key in "MY" inside the block (SChannel's automatic choice
    finds it there), its intermediate CAs in "CA" (where Windows keeps them).

    "MY" is a directory (``SCHANNEL_PY_MY_STORE``): ``directory``, or a new
    temporary one, for the duration; the variable is restored and what was
    added removed afterwards.
    """
    previous = os.environ.get(MY_STORE_ENV)
    with tempfile.TemporaryDirectory(prefix="schannel-py-my-") as tmp:
        os.environ[MY_STORE_ENV] = os.fspath(directory) if directory is not None else tmp
        store = crypt32.CertOpenSystemStore(None, "MY")
        ca_store = crypt32.CertOpenSystemStore(None, "CA")
        out = crypt32.PCCERT_CONTEXT()
        added_cas: list[crypt32.CERT_CONTEXT] = []
        try:
            assert store is not None and ca_store is not None
            for inter in issued.intermediates:
                held = crypt32.PCCERT_CONTEXT()
                der = inter.der
                if crypt32.CertAddEncodedCertificateToStore(
                    ca_store,
                    crypt32.X509_ASN_ENCODING,
                    der,
                    len(der),
                    crypt32.CERT_STORE_ADD_NEW,
                    held,
                ):
                    assert held.value is not None
                    added_cas.append(held.value)
            ok = crypt32.CertAddCertificateContextToStore(
                store,
                client_certificate_context(issued),
                crypt32.CERT_STORE_ADD_REPLACE_EXISTING,
                out,
            )
            if not ok or out.value is None:
                raise OSError(crypt32.GetLastError(), 'cannot add the certificate to "MY"')
            yield out.value
        finally:
            if out.value is not None:
                crypt32.CertDeleteCertificateFromStore(out.value)
            for held_ca in added_cas:
                crypt32.CertDeleteCertificateFromStore(held_ca)
            for opened in (store, ca_store):
                if opened is not None:
                    crypt32.CertCloseStore(opened)
            if previous is None:
                os.environ.pop(MY_STORE_ENV, None)
            else:
                os.environ[MY_STORE_ENV] = previous


def acquire_credential(
    *,
    certificate: crypt32.CERT_CONTEXT | None = None,
    flags: int = 0,
    manual_validation: bool = False,
    versions: tuple[str, ...] = ("1.3", "1.2"),
    disabled: int = 0,
    schannel_cred: bool = False,
) -> CredHandle:
    """An outbound SChannel credential (``SCH_CREDENTIALS``): ``certificate`` in
    ``paCred``, ``dwFlags`` = ``flags`` (plus ``SCH_CRED_MANUAL_CRED_VALIDATION`` if
    ``manual_validation``), TLS versions outside ``versions`` disabled, and the
    ``SP_PROT_*`` bits in ``disabled`` as well (``grbitDisabledProtocols``).

    ``schannel_cred``: the legacy ``SCHANNEL_CRED`` (``SCHANNEL_CRED_VERSION``)
    instead, as older callers pass it; it has no disabled protocols (and no
    TLS 1.3), so ``versions`` and ``disabled`` must keep their defaults.
    Raises ``ValueError`` unless AcquireCredentialsHandle returns SEC_E_OK.
    """
    certs = [certificate] if certificate is not None else None
    dw_flags = flags | (SCH_CRED_MANUAL_CRED_VALIDATION if manual_validation else 0)
    auth: SCH_CREDENTIALS | SCHANNEL_CRED
    if schannel_cred:
        if disabled or set(versions) != {"1.3", "1.2"}:
            raise ValueError("SCHANNEL_CRED takes neither versions nor disabled protocols")
        auth = SCHANNEL_CRED(
            dwVersion=SCHANNEL_CRED_VERSION, cCreds=len(certs or []), paCred=certs, dwFlags=dw_flags
        )
        return _acquire(auth)
    if "1.3" not in versions:
        disabled |= SP_PROT_TLS1_3_CLIENT
    if "1.2" not in versions:
        disabled |= SP_PROT_TLS1_2_CLIENT
    params = [TLS_PARAMETERS(grbitDisabledProtocols=disabled)] if disabled else None
    auth = SCH_CREDENTIALS(
        dwVersion=SCH_CREDENTIALS_VERSION,
        dwFlags=dw_flags,
        cCreds=len(certs or []),
        paCred=certs,
        cTlsParameters=len(params or []),
        pTlsParameters=params,
    )
    return _acquire(auth)


def _acquire(auth: SCH_CREDENTIALS | SCHANNEL_CRED) -> CredHandle:
    cred = CredHandle()
    status = AcquireCredentialsHandle(
        None, UNISP_NAME, SECPKG_CRED_OUTBOUND, None, auth, None, None, cred, TimeStamp()
    )
    if status != SEC_E_OK:
        raise ValueError(f"AcquireCredentialsHandle returned {status!r}")
    return cred


class ManualClock:
    """A clock a test sets by hand: ``now`` (seconds since the epoch) is what a call
    returns until the test changes it or calls :meth:`advance`.  Pass it to
    :func:`deterministic` as ``now`` to move the time new contexts read (the
    session cache's expiry)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward."""
        self.now += seconds


@dataclass
class Determinism:
    """What :func:`deterministic` installed.  A :class:`~schannel_py.testing.TlsServer`
    created inside the block takes ``server_random`` and, unless given one,
    ``identity`` on its own."""

    seed: int
    client_random: Callable[[int], bytes]
    server_random: Callable[[int], bytes]
    clock: Callable[[], float]
    _identity: Issued | None = None

    @property
    def identity(self) -> Issued:
        """A self-signed ``localhost`` certificate whose key and serial number come
        from the seed: Ed25519, whose signatures have no randomness, so the
        certificate and every CertificateVerify are the same bytes on every run."""
        if self._identity is None:
            digest = hashlib.sha256(f"schannel_py identity:{self.seed}".encode()).digest()
            self._identity = make_self_signed(
                key=ed25519.Ed25519PrivateKey.from_private_bytes(digest),
                serial_number=int.from_bytes(digest[:8], "big") | 1,
            )
        return self._identity


#: The :class:`Determinism` of the innermost :func:`deterministic` block, or None.
_active: list[Determinism] = []


def active_determinism() -> Determinism | None:
    """The :class:`Determinism` in force (inside a :func:`deterministic` block), or None."""
    return _active[-1] if _active else None


def _source(seed: int, side: str) -> Callable[[int], bytes]:
    rng = _random.Random(f"{side}:{seed}")

    def read(n: int) -> bytes:
        return rng.randbytes(n)

    return read


@contextmanager
def deterministic(
    seed: int = 0, now: float | Callable[[], float] = 1_800_000_000.0
) -> Iterator[Determinism]:
    """The one switch for reproducible runs: inside the block, new client contexts
    draw their randomness from ``seed`` and read a fixed clock (``now``, seconds
    since the epoch, or the clock ``now`` when it is one: a :class:`ManualClock`
    moves the time inside the block), and a new :class:`~schannel_py.testing.TlsServer`
    draws from the seed too, serves :attr:`Determinism.identity` unless given an
    identity, signs ECDSA deterministically (RFC 6979) and keeps to classical
    key-exchange groups (ML-KEM encapsulation takes its randomness from the OS).
    A run's bytes are then the same on every run, in every process.  What stays
    random: RSA-PSS signatures (use an Ed25519 or ECDSA certificate) and a client
    certificate's ECDSA / RSA-PSS signature (use an Ed25519 client certificate).
    """
    clock: Callable[[], float] = now if callable(now) else (lambda: now)
    det = Determinism(seed, _source(seed, "client"), _source(seed, "server"), clock)
    saved = _context.random_source, _context.clock
    _context.random_source, _context.clock = det.client_random, det.clock
    _active.append(det)
    try:
        yield det
    finally:
        _active.remove(det)
        _context.random_source, _context.clock = saved
