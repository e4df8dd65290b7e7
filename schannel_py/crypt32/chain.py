"""The CryptoAPI chain engine: CertGetCertificateChain and CertVerifyCertificateChainPolicy.

Both run on :mod:`schannel_py.crypt32.verify`'s engine, the one ISC uses:
:func:`~schannel_py.crypt32.verify.select_path` chooses the path (the same
fast RFC 5280 validation, bounded path builder, ranking and structural
check), and this module only describes the outcome as CERT_TRUST_* bits
per element.  So ``CertGetCertificateChain`` + ``CertVerifyCertificateChainPolicy
(CERT_CHAIN_POLICY_SSL)`` reach the verdict ``verify_server_chain`` reaches
for the same chain, time and trust anchors (docs/windows-behaviour.md
section 7).

Engines: ``None`` / ``HCCE_CURRENT_USER`` / ``HCCE_LOCAL_MACHINE`` trust the
"ROOT" store, as ISC does; an engine made with ``hExclusiveRoot`` trusts only
that store's self-signed certificates (any of its certificates with
``CERT_CHAIN_EXCLUSIVE_ENABLE_CA_FLAG``), so a chain to a "ROOT" CA is not
trusted there.  Issuers are looked for in ``hAdditionalStore``, the engine's
additional stores, the "CA" store and the engine's root store.

Revocation: with a CERT_CHAIN_REVOCATION_CHECK_* flag the path is checked by
:mod:`schannel_py.crypt32.revocation`, the engine ISC uses (the leaf's
CERT_OCSP_RESPONSE_PROP_ID is its staple, ``dwUrlRetrievalTimeout`` the
per-URL timeout, CERT_CHAIN_REVOCATION_CHECK_CACHE_ONLY stays off the
network): a revoked certificate gets CERT_TRUST_IS_REVOKED, one whose status
is unknown CERT_TRUST_REVOCATION_STATUS_UNKNOWN, plus
CERT_TRUST_IS_OFFLINE_REVOCATION when its sources were unreachable
(docs/windows-behaviour.md section 9).  Without such a flag nothing is checked.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from schannel_py.constants import (
    CERT_E_CHAINING,
    CERT_E_CN_NO_MATCH,
    CERT_E_EXPIRED,
    CERT_E_UNTRUSTEDROOT,
    CERT_E_WRONG_USAGE,
    CRYPT_E_NO_REVOCATION_CHECK,
    CRYPT_E_NOT_FOUND,
    CRYPT_E_REVOCATION_OFFLINE,
    CRYPT_E_REVOKED,
    SEC_E_CERT_UNKNOWN,
    SEC_E_OK,
    TRUST_E_CERT_SIGNATURE,
    TRUST_E_EXPLICIT_DISTRUST,
)

from . import revocation as _rev
from . import verify as _v
from ._lasterror import SetLastError
from ._structure import structure_bits
from ._time import as_utc
from ._x509 import extensions_of, serial_number
from .constants import (
    AUTHTYPE_SERVER,
    CERT_CHAIN_EXCLUSIVE_ENABLE_CA_FLAG,
    CERT_CHAIN_POLICY_ALLOW_UNKNOWN_CA_FLAG,
    CERT_CHAIN_POLICY_BASE,
    CERT_CHAIN_POLICY_BASIC_CONSTRAINTS,
    CERT_CHAIN_POLICY_IGNORE_ALL_REV_UNKNOWN_FLAGS,
    CERT_CHAIN_POLICY_IGNORE_CA_REV_UNKNOWN_FLAG,
    CERT_CHAIN_POLICY_IGNORE_END_REV_UNKNOWN_FLAG,
    CERT_CHAIN_POLICY_IGNORE_INVALID_BASIC_CONSTRAINTS_FLAG,
    CERT_CHAIN_POLICY_IGNORE_INVALID_NAME_FLAG,
    CERT_CHAIN_POLICY_IGNORE_INVALID_POLICY_FLAG,
    CERT_CHAIN_POLICY_IGNORE_NOT_SUPPORTED_CRITICAL_EXT_FLAG,
    CERT_CHAIN_POLICY_IGNORE_NOT_TIME_VALID_FLAG,
    CERT_CHAIN_POLICY_IGNORE_ROOT_REV_UNKNOWN_FLAG,
    CERT_CHAIN_POLICY_IGNORE_WRONG_USAGE_FLAG,
    CERT_CHAIN_POLICY_SSL,
    CERT_CHAIN_REVOCATION_CHECK_CACHE_ONLY,
    CERT_CHAIN_REVOCATION_CHECK_CHAIN,
    CERT_CHAIN_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT,
    CERT_CHAIN_REVOCATION_CHECK_END_CERT,
    CERT_E_CRITICAL,
    CERT_E_INVALID_NAME,
    CERT_E_INVALID_POLICY,
    CERT_OCSP_RESPONSE_PROP_ID,
    CERT_TRUST_HAS_EXACT_MATCH_ISSUER,
    CERT_TRUST_HAS_EXCLUDED_NAME_CONSTRAINT,
    CERT_TRUST_HAS_KEY_MATCH_ISSUER,
    CERT_TRUST_HAS_NAME_MATCH_ISSUER,
    CERT_TRUST_HAS_NOT_DEFINED_NAME_CONSTRAINT,
    CERT_TRUST_HAS_NOT_PERMITTED_NAME_CONSTRAINT,
    CERT_TRUST_HAS_NOT_SUPPORTED_CRITICAL_EXT,
    CERT_TRUST_HAS_NOT_SUPPORTED_NAME_CONSTRAINT,
    CERT_TRUST_HAS_PREFERRED_ISSUER,
    CERT_TRUST_INVALID_BASIC_CONSTRAINTS,
    CERT_TRUST_INVALID_EXTENSION,
    CERT_TRUST_INVALID_NAME_CONSTRAINTS,
    CERT_TRUST_INVALID_POLICY_CONSTRAINTS,
    CERT_TRUST_IS_CA_TRUSTED,
    CERT_TRUST_IS_CYCLIC,
    CERT_TRUST_IS_EXPLICIT_DISTRUST,
    CERT_TRUST_IS_FROM_EXCLUSIVE_TRUST_STORE,
    CERT_TRUST_IS_NOT_SIGNATURE_VALID,
    CERT_TRUST_IS_NOT_TIME_VALID,
    CERT_TRUST_IS_NOT_VALID_FOR_USAGE,
    CERT_TRUST_IS_OFFLINE_REVOCATION,
    CERT_TRUST_IS_PARTIAL_CHAIN,
    CERT_TRUST_IS_REVOKED,
    CERT_TRUST_IS_SELF_SIGNED,
    CERT_TRUST_IS_UNTRUSTED_ROOT,
    CERT_TRUST_REVOCATION_STATUS_UNKNOWN,
    E_INVALIDARG,
    ERROR_INVALID_DATA,
    HCCE_LOCAL_MACHINE,
    HCCE_SERIAL_LOCAL_MACHINE,
    NO_ERROR,
    SECURITY_FLAG_IGNORE_CERT_CN_INVALID,
    SECURITY_FLAG_IGNORE_CERT_DATE_INVALID,
    SECURITY_FLAG_IGNORE_REVOCATION,
    SECURITY_FLAG_IGNORE_UNKNOWN_CA,
    SECURITY_FLAG_IGNORE_WRONG_USAGE,
    TRUST_E_BASIC_CONSTRAINTS,
    USAGE_MATCH_TYPE_AND,
    USAGE_MATCH_TYPE_OR,
)
from .context import CERT_CONTEXT, _make_context, _parse_der
from .decode import CTL_USAGE
from .store import CertStore, _open_system, store_generation

__all__ = [
    "CERT_CHAIN_CONTEXT",
    "CERT_CHAIN_ELEMENT",
    "CERT_CHAIN_ENGINE_CONFIG",
    "CERT_CHAIN_PARA",
    "CERT_CHAIN_POLICY_PARA",
    "CERT_CHAIN_POLICY_STATUS",
    "CERT_SIMPLE_CHAIN",
    "CERT_TRUST_STATUS",
    "CERT_USAGE_MATCH",
    "HCERTCHAINENGINE",
    "HTTPSPolicyCallbackData",
    "PCCERT_CHAIN_CONTEXT",
    "SSL_EXTRA_CERT_CHAIN_POLICY_PARA",
    "CertCreateCertificateChainEngine",
    "CertDuplicateCertificateChain",
    "CertFreeCertificateChain",
    "CertFreeCertificateChainEngine",
    "CertGetCertificateChain",
    "CertVerifyCertificateChainPolicy",
]

Cert = x509.Certificate

# --- structures ------------------------------------------------------------------
# cbSize defaults are the 64-bit Windows sizes of the current SDK's structures.

#: CERT_CHAIN_ENGINE_CONFIG sizes CertCreateCertificateChainEngine accepts:
#: without the exclusive fields, up to hExclusiveTrustedPeople (Windows 7),
#: with dwExclusiveFlags (Windows 8); 32-bit then 64-bit layouts.
_ENGINE_CONFIG_SIZES = {40: 0, 64: 0, 48: 1, 80: 1, 52: 2, 88: 2}
#: The smallest CERT_CHAIN_PARA (32-bit, cbSize + RequestedUsage).
_MIN_CHAIN_PARA_SIZE = 16
#: The smallest CERT_CHAIN_POLICY_PARA / HTTPSPolicyCallbackData (32-bit).
_MIN_POLICY_PARA_SIZE = 12
_MIN_HTTPS_PARA_SIZE = 16


@dataclass
class CERT_USAGE_MATCH:
    """Requested usages: all of them (``USAGE_MATCH_TYPE_AND``) or one (``_OR``)."""

    dwType: int = USAGE_MATCH_TYPE_AND
    Usage: CTL_USAGE = field(default_factory=CTL_USAGE)


@dataclass
class CERT_CHAIN_PARA:
    """CertGetCertificateChain's parameters; only ``RequestedUsage`` has an effect."""

    cbSize: int = 96
    RequestedUsage: CERT_USAGE_MATCH = field(default_factory=CERT_USAGE_MATCH)
    RequestedIssuancePolicy: CERT_USAGE_MATCH = field(default_factory=CERT_USAGE_MATCH)
    dwUrlRetrievalTimeout: int = 0
    fCheckRevocationFreshnessTime: bool = False
    dwRevocationFreshnessTime: int = 0
    pftCacheResync: Any = None
    pStrongSignPara: Any = None
    dwStrongSignFlags: int = 0


@dataclass
class CERT_TRUST_STATUS:
    """CERT_TRUST_* error and info bits of an element, a simple chain or a context."""

    dwErrorStatus: int = 0
    dwInfoStatus: int = 0


@dataclass(eq=False)
class CERT_CHAIN_ELEMENT:
    """One certificate of a simple chain and its trust status."""

    cbSize: int = 56
    pCertContext: CERT_CONTEXT | None = None
    TrustStatus: CERT_TRUST_STATUS = field(default_factory=CERT_TRUST_STATUS)
    pRevocationInfo: Any = None
    pIssuanceUsage: Any = None
    pApplicationUsage: Any = None
    pwszExtendedErrorInfo: str | None = None


@dataclass(eq=False)
class CERT_SIMPLE_CHAIN:
    """Leaf first, trust anchor (or the last issuer found) last."""

    cbSize: int = 40
    TrustStatus: CERT_TRUST_STATUS = field(default_factory=CERT_TRUST_STATUS)
    cElement: int = 0
    rgpElement: list[CERT_CHAIN_ELEMENT] = field(default_factory=list)
    pTrustListInfo: Any = None
    fHasRevocationFreshnessTime: bool = False
    dwRevocationFreshnessTime: int = 0


@dataclass(eq=False)
class CERT_CHAIN_CONTEXT:
    """What CertGetCertificateChain returns: one simple chain (no CTLs here)."""

    cbSize: int = 72
    TrustStatus: CERT_TRUST_STATUS = field(default_factory=CERT_TRUST_STATUS)
    cChain: int = 0
    rgpChain: list[CERT_SIMPLE_CHAIN] = field(default_factory=list)
    cLowerQualityChainContext: int = 0
    rgpLowerQualityChainContext: list[CERT_CHAIN_CONTEXT] = field(default_factory=list)
    fHasRevocationFreshnessTime: bool = False
    dwRevocationFreshnessTime: int = 0
    dwCreateFlags: int = 0
    ChainId: bytes = bytes(16)


@dataclass(eq=False)
class PCCERT_CHAIN_CONTEXT:
    """Out-parameter holder for a ``PCCERT_CHAIN_CONTEXT*`` (``value`` None = NULL)."""

    value: CERT_CHAIN_CONTEXT | None = None


@dataclass
class CERT_CHAIN_ENGINE_CONFIG:
    """CertCreateCertificateChainEngine's configuration (``cbSize`` is checked)."""

    cbSize: int = 88
    hRestrictedRoot: CertStore | None = None
    hRestrictedTrust: CertStore | None = None
    hRestrictedOther: CertStore | None = None
    cAdditionalStore: int = 0
    rghAdditionalStore: Sequence[CertStore] | None = None
    dwFlags: int = 0
    dwUrlRetrievalTimeout: int = 0
    MaximumCachedCertificates: int = 0
    CycleDetectionModulus: int = 0
    hExclusiveRoot: CertStore | None = None
    hExclusiveTrustedPeople: CertStore | None = None
    dwExclusiveFlags: int = 0


@dataclass(eq=False)
class HCERTCHAINENGINE:
    """A chain engine handle; ``value`` receives one from CertCreateCertificateChainEngine."""

    value: HCERTCHAINENGINE | None = None
    _exclusive: CertStore | None = field(default=None, repr=False)
    _exclusive_ca: bool = field(default=False, repr=False)
    _restricted: CertStore | None = field(default=None, repr=False)
    _additional: tuple[CertStore, ...] = field(default=(), repr=False)
    _freed: bool = field(default=False, repr=False)
    _is_engine: bool = field(default=False, repr=False)


@dataclass
class CERT_CHAIN_POLICY_PARA:
    """Policy flags (CERT_CHAIN_POLICY_*) and the policy's extra parameter."""

    cbSize: int = 16
    dwFlags: int = 0
    pvExtraPolicyPara: Any = None


@dataclass
class CERT_CHAIN_POLICY_STATUS:
    """The policy's answer: ``dwError`` and where it was found (-1: nowhere)."""

    cbSize: int = 24
    dwError: int = 0
    lChainIndex: int = 0
    lElementIndex: int = 0
    pvExtraPolicyStatus: Any = None


@dataclass
class HTTPSPolicyCallbackData:
    """The SSL policy's extra parameter (SSL_EXTRA_CERT_CHAIN_POLICY_PARA)."""

    cbSize: int = 24
    dwAuthType: int = AUTHTYPE_SERVER
    fdwChecks: int = 0
    pwszServerName: str | None = None

    @property
    def cbStruct(self) -> int:
        """The union's other name for ``cbSize``."""
        return self.cbSize

    @cbStruct.setter
    def cbStruct(self, value: int) -> None:
        self.cbSize = value


SSL_EXTRA_CERT_CHAIN_POLICY_PARA = HTTPSPolicyCallbackData


# --- helpers -------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _fail(code: int, out: Any = None) -> bool:
    SetLastError(code)
    if out is not None:
        try:
            out.value = None
        except Exception:
            pass
    return False


_FILETIME_EPOCH = datetime.datetime(1601, 1, 1, tzinfo=datetime.timezone.utc)


def _time_of(pTime: Any) -> datetime.datetime | None:
    """The validation time: now for None; a datetime; a FILETIME-like object or tick count."""
    if pTime is None:
        return datetime.datetime.now(datetime.timezone.utc)
    if isinstance(pTime, datetime.datetime):
        return as_utc(pTime)
    ticks: Any = None
    if _is_int(pTime):
        ticks = pTime
    elif _is_int(getattr(pTime, "QuadPart", None)):
        ticks = pTime.QuadPart
    elif _is_int(getattr(pTime, "dwLowDateTime", None)) and _is_int(
        getattr(pTime, "dwHighDateTime", None)
    ):
        ticks = (pTime.dwHighDateTime << 32) | (pTime.dwLowDateTime & 0xFFFFFFFF)
    if ticks is None or ticks < 0:
        return None
    try:
        return _FILETIME_EPOCH + datetime.timedelta(microseconds=ticks // 10)
    except OverflowError:
        return None


def _oid_text(item: Any) -> str | None:
    if isinstance(item, bytes):
        item = item.split(b"\0", 1)[0].decode("ascii", "replace")
    return item if isinstance(item, str) else None


def _requested_usage(para: CERT_CHAIN_PARA) -> tuple[int, list[str]] | None:
    """(match type, OIDs) of RequestedUsage; None when it is malformed."""
    match = para.RequestedUsage
    if not isinstance(match, CERT_USAGE_MATCH) or not isinstance(match.Usage, CTL_USAGE):
        return None
    if match.dwType not in (USAGE_MATCH_TYPE_AND, USAGE_MATCH_TYPE_OR):
        return None
    ids = match.Usage.rgpszUsageIdentifier
    count = match.Usage.cUsageIdentifier
    if ids is None:
        return (match.dwType, []) if not count else None
    if isinstance(ids, (str, bytes)):
        return None
    ids = list(ids)
    if count is None:
        count = len(ids)
    if not _is_int(count) or not 0 <= count <= len(ids):
        return None
    oids = [_oid_text(i) for i in ids[:count]]
    if any(o is None for o in oids):
        return None
    return match.dwType, [o for o in oids if o is not None]


def _any_usage(cert: Cert) -> bool:
    return True


def _usage_checker(match_type: int, oids: list[str]) -> Callable[[Cert], bool]:
    """The usage test of one certificate (always passed when nothing was requested)."""
    if not oids:
        return _any_usage
    wanted = [x509.ObjectIdentifier(o) for o in oids]
    any_eku = ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE

    def ok(cert: Cert) -> bool:
        try:
            eku = extensions_of(cert).get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            return True
        except Exception:
            return True  # undecodable extensions: the structural check reports them
        if any_eku in eku:
            return True
        if match_type == USAGE_MATCH_TYPE_AND:
            return all(w in eku for w in wanted)
        return any(w in eku for w in wanted)

    return ok


def _valid_oid(text: str) -> bool:
    try:
        x509.ObjectIdentifier(text)
    except Exception:
        return False
    return True


def _store_ders(store: CertStore | None) -> list[bytes]:
    return [e.der for e in store._entries()] if store is not None else []


# --- the engine ---------------------------------------------------------------------


def CertCreateCertificateChainEngine(pConfig: Any, phChainEngine: Any) -> bool:
    """Make a chain engine from a CERT_CHAIN_ENGINE_CONFIG; ``phChainEngine.value`` gets it.

    ``cbSize`` must be one of the structure's documented sizes (else
    ``E_INVALIDARG``); ``hRestrictedRoot`` must hold only "ROOT" certificates
    (else ``CRYPT_E_NOT_FOUND``).  With ``hExclusiveRoot`` the engine trusts
    only that store (its self-signed certificates; all of them with
    ``CERT_CHAIN_EXCLUSIVE_ENABLE_CA_FLAG``).  Never raises.
    """
    try:
        return _create_engine(pConfig, phChainEngine)
    except Exception:
        return _fail(E_INVALIDARG, phChainEngine)


def _create_engine(pConfig: Any, phChainEngine: Any) -> bool:
    if not isinstance(pConfig, CERT_CHAIN_ENGINE_CONFIG) or phChainEngine is None:
        return _fail(E_INVALIDARG, phChainEngine)
    if not _is_int(pConfig.cbSize) or pConfig.cbSize not in _ENGINE_CONFIG_SIZES:
        return _fail(E_INVALIDARG, phChainEngine)
    level = _ENGINE_CONFIG_SIZES[pConfig.cbSize]
    stores: list[Any] = [
        pConfig.hRestrictedRoot,
        pConfig.hRestrictedTrust,
        pConfig.hRestrictedOther,
    ]
    exclusive = pConfig.hExclusiveRoot if level >= 1 else None
    stores.append(exclusive)
    if not all(s is None or isinstance(s, CertStore) for s in stores):
        return _fail(E_INVALIDARG, phChainEngine)
    flags = pConfig.dwExclusiveFlags if level >= 2 else 0
    if not _is_int(flags):
        return _fail(E_INVALIDARG, phChainEngine)
    additional: list[CertStore] = []
    count = pConfig.cAdditionalStore
    if count:
        extra = pConfig.rghAdditionalStore
        if not _is_int(count) or extra is None or isinstance(extra, (str, bytes)):
            return _fail(E_INVALIDARG, phChainEngine)
        extra = list(extra)
        if (
            count < 0
            or count > len(extra)
            or not all(isinstance(s, CertStore) for s in extra[:count])
        ):
            return _fail(E_INVALIDARG, phChainEngine)
        additional = extra[:count]
    restricted = pConfig.hRestrictedRoot
    if restricted is not None:
        root = set(_store_ders(_open_system("ROOT", readonly=True, create=True)))
        if any(der not in root for der in _store_ders(restricted)):
            return _fail(CRYPT_E_NOT_FOUND, phChainEngine)
    engine = HCERTCHAINENGINE(
        _exclusive=exclusive,
        _exclusive_ca=bool(flags & CERT_CHAIN_EXCLUSIVE_ENABLE_CA_FLAG),
        _restricted=restricted,
        _additional=tuple(additional),
        _is_engine=True,
    )
    phChainEngine.value = engine
    return True


def CertFreeCertificateChainEngine(hChainEngine: Any) -> None:
    """Release an engine; the predefined ones and NULL are left alone."""
    if isinstance(hChainEngine, HCERTCHAINENGINE):
        hChainEngine._freed = True
        if hChainEngine.value is not None:
            hChainEngine.value._freed = True


def _engine_of(hChainEngine: Any) -> HCERTCHAINENGINE | None | bool:
    """The engine to use: None for the default one, False when the handle is unusable."""
    if hChainEngine is None or (
        _is_int(hChainEngine) and hChainEngine in (0, HCCE_LOCAL_MACHINE, HCCE_SERIAL_LOCAL_MACHINE)
    ):
        return None
    if isinstance(hChainEngine, HCERTCHAINENGINE):
        engine = hChainEngine.value if hChainEngine.value is not None else hChainEngine
        if engine._is_engine and not engine._freed and not hChainEngine._freed:
            return engine
    return False


def _anchors_of(engine: HCERTCHAINENGINE | None) -> tuple[_v._AnchorSnapshot, list[bytes], bool]:
    """(trust anchors, extra issuer candidates, exclusive?) for an engine."""
    if engine is None:
        return _v._anchor_snapshot(None), [], False
    if engine._exclusive is not None:
        ders = _store_ders(engine._exclusive)
        anchors: list[bytes] = []
        others: list[bytes] = []
        for der in ders:
            cert = _parse_der(der)
            if cert is None:
                continue
            self_signed = cert.issuer == cert.subject and _v._signed_by(cert, cert)
            (anchors if self_signed or engine._exclusive_ca else others).append(der)
        key = ("exclusive", id(engine), store_generation())
        return _v._AnchorSnapshot(key, _v._unique(anchors)), others, True
    if engine._restricted is not None:
        key = ("restricted", id(engine), store_generation())
        return _v._AnchorSnapshot(key, _v._unique(_store_ders(engine._restricted))), [], False
    return _v._anchor_snapshot(None), [], False


# --- describing a path as trust bits ------------------------------------------------


@dataclass
class _Outcome:
    """The chosen path and what is wrong with each of its certificates."""

    path: list[Cert]
    errors: list[int]
    infos: list[int]
    chain_errors: int = 0


def _issuer_match(cert: Cert, issuer: Cert) -> int:
    """How ``cert`` names its issuer: AKI issuer+serial, AKI key id, or the name alone."""
    try:
        aki = extensions_of(cert).get_extension_for_class(x509.AuthorityKeyIdentifier).value
    except Exception:
        return CERT_TRUST_HAS_NAME_MATCH_ISSUER
    if aki.authority_cert_serial_number is not None and aki.authority_cert_issuer:
        if aki.authority_cert_serial_number == serial_number(issuer):
            return CERT_TRUST_HAS_EXACT_MATCH_ISSUER
    if aki.key_identifier is not None:
        try:
            ski = extensions_of(issuer).get_extension_for_class(x509.SubjectKeyIdentifier).value
            key_id = ski.digest
        except Exception:
            key_id = x509.SubjectKeyIdentifier.from_public_key(issuer.public_key()).digest
        if aki.key_identifier == key_id:
            return CERT_TRUST_HAS_KEY_MATCH_ISSUER
    return CERT_TRUST_HAS_NAME_MATCH_ISSUER


def _self_signed(cert: Cert) -> bool:
    return cert.issuer == cert.subject and _v._signed_by(cert, cert)


def _extensions_ok(cert: Cert) -> bool:
    try:
        extensions_of(cert)
    except Exception:
        return False
    return True


def _anchored_outcome(
    path: list[Cert],
    status: int,
    snap: _v._AnchorSnapshot,
    leaf_der: bytes,
    intermediates: dict[bytes, Cert],
    when: datetime.datetime,
    usage_ok: Callable[[Cert], bool],
) -> _Outcome:
    errors = [0] * len(path)
    for i, cert in enumerate(path):
        if not _v._time_valid(cert, when):
            errors[i] |= CERT_TRUST_IS_NOT_TIME_VALID
    checked = len(path) if len(path) == 1 else len(path) - 1
    for i in range(checked):
        if not _extensions_ok(path[i]):
            errors[i] |= CERT_TRUST_INVALID_EXTENSION
        elif not usage_ok(path[i]):
            errors[i] |= CERT_TRUST_IS_NOT_VALID_FOR_USAGE
    if len(path) > 1:
        rejected = status == SEC_E_CERT_UNKNOWN
        if status != SEC_E_OK and not rejected:
            # Expired or wrong usage: would RFC 5280 validation accept it in time?
            start = max(_v._validity(c)[0] for c in path)
            if start <= min(_v._validity(c)[1] for c in path):
                rejected = _v._validated_chain(snap, leaf_der, intermediates, start) is None
        if rejected:
            structure = structure_bits(path)
            if not any(structure):
                structure[0] |= CERT_TRUST_INVALID_EXTENSION
            errors = [e | s for e, s in zip(errors, structure, strict=True)]
    return _Outcome(path, errors, [0] * len(path))


def _partial_outcome(
    leaf: Cert, snap: _v._AnchorSnapshot, intermediates: dict[bytes, Cert], want_bad_sig: bool
) -> _Outcome:
    """The best chain that reaches no trust anchor: the longest walk by name and
    signature, preferring (as ISC's verdict does) one that ends on a bad signature
    when ISC saw one, then one that ends on a self-signed certificate."""
    by_subject: dict[x509.Name, list[Cert]] = {}
    for cert in list(intermediates.values()) + list(snap.anchors.values()):
        by_subject.setdefault(cert.subject, []).append(cert)
    best: tuple[tuple[int, int], list[Cert], int] | None = None
    budget = _v.MAX_SIGNATURE_CHECKS

    def consider(path: list[Cert], end: int) -> None:
        nonlocal best
        kind = {
            CERT_TRUST_IS_NOT_SIGNATURE_VALID: 3,
            CERT_TRUST_IS_UNTRUSTED_ROOT: 2,
            CERT_TRUST_IS_CYCLIC: 1,
            CERT_TRUST_IS_PARTIAL_CHAIN: 1,
        }[end]
        rank = (kind, len(path))
        if best is None or rank > best[0]:
            best = (rank, list(path), end)

    def walk(path: list[Cert]) -> None:
        nonlocal budget
        cert = path[-1]
        if _self_signed(cert):
            consider(path, CERT_TRUST_IS_UNTRUSTED_ROOT)
            return
        if len(path) >= _v.MAX_PATH_LENGTH:
            consider(path, CERT_TRUST_IS_PARTIAL_CHAIN)
            return
        candidates = [c for c in by_subject.get(cert.issuer, []) if c is not cert]
        if not candidates:
            consider(path, CERT_TRUST_IS_PARTIAL_CHAIN)
            return
        progressed = False
        cyclic = False
        for cand in candidates:
            if budget <= 0:
                break
            budget -= 1
            if not _v._signed_by(cert, cand):
                continue
            if any(cand is p for p in path):
                cyclic = True
                continue
            progressed = True
            walk([*path, cand])
        if cyclic and not progressed:
            consider(path, CERT_TRUST_IS_CYCLIC)
        elif not progressed and not cyclic:
            if want_bad_sig:
                consider([*path, candidates[0]], CERT_TRUST_IS_NOT_SIGNATURE_VALID)
            else:  # ISC ran out of signature checks before calling it a bad signature
                consider(path, CERT_TRUST_IS_PARTIAL_CHAIN)

    walk([leaf])
    assert best is not None
    _, path, end = best
    errors = [0] * len(path)
    chain_errors = 0
    if end == CERT_TRUST_IS_UNTRUSTED_ROOT:
        errors[-1] |= CERT_TRUST_IS_UNTRUSTED_ROOT
    elif end == CERT_TRUST_IS_NOT_SIGNATURE_VALID:
        # The subject's signature does not verify with the only issuer by name.
        errors[-2] |= CERT_TRUST_IS_NOT_SIGNATURE_VALID
        last = path[-1]
        if not any(last is a for a in snap.anchors.values()):
            if _self_signed(last):
                errors[-1] |= CERT_TRUST_IS_UNTRUSTED_ROOT
            else:
                chain_errors |= CERT_TRUST_IS_PARTIAL_CHAIN
    elif end == CERT_TRUST_IS_CYCLIC:
        errors[-1] |= CERT_TRUST_IS_CYCLIC | CERT_TRUST_INVALID_BASIC_CONSTRAINTS
    else:
        chain_errors |= CERT_TRUST_IS_PARTIAL_CHAIN
    return _Outcome(path, errors, [0] * len(path), chain_errors)


def _assess(
    leaf_der: bytes,
    candidates: list[bytes],
    snap: _v._AnchorSnapshot,
    when: datetime.datetime,
    usage_ok: Callable[[Cert], bool],
) -> tuple[_Outcome, bool]:
    """(outcome, anchored?) for a leaf, through verify.select_path."""
    leaf = _parse_der(leaf_der)
    assert leaf is not None
    intermediates = _v._intermediates(leaf_der, candidates, snap.anchors)
    status, path = _v.select_path(snap, leaf_der, intermediates, when, usage_ok)
    if path is not None:
        return _anchored_outcome(path, status, snap, leaf_der, intermediates, when, usage_ok), True
    outcome = _partial_outcome(leaf, snap, intermediates, status == SEC_E_CERT_UNKNOWN)
    for i, cert in enumerate(outcome.path):
        if not _v._time_valid(cert, when):
            outcome.errors[i] |= CERT_TRUST_IS_NOT_TIME_VALID
        if i < max(1, len(outcome.path) - 1) and not usage_ok(cert):
            outcome.errors[i] |= CERT_TRUST_IS_NOT_VALID_FOR_USAGE
    return outcome, False


# --- CertGetCertificateChain ---------------------------------------------------------


def CertGetCertificateChain(
    hChainEngine: Any,
    pCertContext: Any,
    pTime: Any,
    hAdditionalStore: Any,
    pChainPara: Any,
    dwFlags: int,
    pvReserved: Any,
    ppChainContext: Any,
) -> bool:
    """Build the chain of ``pCertContext`` and put a CERT_CHAIN_CONTEXT in
    ``ppChainContext.value``.

    ``pTime`` None means now (a datetime, a FILETIME-like object or a FILETIME
    tick count otherwise).  Returns FALSE with ``E_INVALIDARG`` for a bad
    argument (no CERT_CHAIN_PARA, a wrong type, a bad usage list, a freed
    engine, ``pvReserved`` not NULL).  A chain with errors is still TRUE: the
    errors are in its TrustStatus.  Never raises.
    """
    try:
        return _get_chain(
            hChainEngine,
            pCertContext,
            pTime,
            hAdditionalStore,
            pChainPara,
            dwFlags,
            pvReserved,
            ppChainContext,
        )
    except Exception:
        return _fail(E_INVALIDARG, ppChainContext)


def _get_chain(
    hChainEngine: Any,
    pCertContext: Any,
    pTime: Any,
    hAdditionalStore: Any,
    pChainPara: Any,
    dwFlags: Any,
    pvReserved: Any,
    ppChainContext: Any,
) -> bool:
    if ppChainContext is not None:
        ppChainContext.value = None
    if not isinstance(pChainPara, CERT_CHAIN_PARA) or not _is_int(pChainPara.cbSize):
        return _fail(E_INVALIDARG)
    if pChainPara.cbSize < _MIN_CHAIN_PARA_SIZE:
        return _fail(E_INVALIDARG)
    if not isinstance(pCertContext, CERT_CONTEXT) or not _is_int(dwFlags) or pvReserved is not None:
        return _fail(E_INVALIDARG)
    if hAdditionalStore is not None and not isinstance(hAdditionalStore, CertStore):
        return _fail(E_INVALIDARG)
    leaf_der = pCertContext.pbCertEncoded
    if not isinstance(leaf_der, bytes) or _parse_der(leaf_der) is None:
        return _fail(ERROR_INVALID_DATA)
    when = _time_of(pTime)
    if when is None:
        return _fail(E_INVALIDARG)
    usage = _requested_usage(pChainPara)
    if usage is None or not all(_valid_oid(o) for o in usage[1]):
        return _fail(E_INVALIDARG)
    engine = _engine_of(hChainEngine)
    if engine is False:
        return _fail(E_INVALIDARG)
    assert engine is None or isinstance(engine, HCERTCHAINENGINE)
    snap, engine_others, exclusive = _anchors_of(engine)

    candidates = _store_ders(hAdditionalStore)
    if engine is not None:
        for store in engine._additional:
            candidates += _store_ders(store)
    candidates += engine_others + _v._ca_store_ders()
    outcome, anchored = _assess(leaf_der, candidates, snap, when, _usage_checker(*usage))
    revocation = _revocation_params(dwFlags, pChainPara)
    if revocation is not None:
        _check_revocation(outcome, revocation, when, pCertContext)
    context = _context_for(outcome, anchored, exclusive, snap, pCertContext, hAdditionalStore)
    if ppChainContext is not None:
        ppChainContext.value = context
    return True


#: Revocation scope of each CERT_CHAIN_REVOCATION_CHECK_* flag, the widest first.
_REVOCATION_SCOPES: tuple[tuple[int, _rev.Scope], ...] = (
    (CERT_CHAIN_REVOCATION_CHECK_CHAIN, "chain"),
    (CERT_CHAIN_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT, "chain_exclude_root"),
    (CERT_CHAIN_REVOCATION_CHECK_END_CERT, "end"),
)

#: The trust bits of each revocation verdict.
_REVOCATION_BITS: dict[str, int] = {
    "revoked": CERT_TRUST_IS_REVOKED,
    "no_check": CERT_TRUST_REVOCATION_STATUS_UNKNOWN,
    "offline": CERT_TRUST_REVOCATION_STATUS_UNKNOWN | CERT_TRUST_IS_OFFLINE_REVOCATION,
}


def _revocation_params(flags: int, para: CERT_CHAIN_PARA) -> _rev.RevocationParams | None:
    scope = next((name for bit, name in _REVOCATION_SCOPES if flags & bit), None)
    if scope is None:
        return None
    timeout_ms = para.dwUrlRetrievalTimeout if para.cbSize >= 24 else 0
    timeout = timeout_ms / 1000 if _is_int(timeout_ms) and timeout_ms > 0 else None
    return _rev.RevocationParams(
        scope, cache_only=bool(flags & CERT_CHAIN_REVOCATION_CHECK_CACHE_ONLY), timeout=timeout
    )


def _check_revocation(
    outcome: _Outcome,
    params: _rev.RevocationParams,
    when: datetime.datetime,
    leaf_ctx: CERT_CONTEXT,
) -> None:
    """Add the revocation bits of each element of the chosen path."""
    staple = leaf_ctx._props.get(CERT_OCSP_RESPONSE_PROP_ID)
    if isinstance(staple, (bytearray, memoryview)):
        staple = bytes(staple)
    verdicts = _rev.check_path(
        outcome.path, params, when, staple if isinstance(staple, bytes) else None
    )
    for i, verdict in enumerate(verdicts):
        outcome.errors[i] |= _REVOCATION_BITS.get(verdict, 0)


def _context_for(
    outcome: _Outcome,
    anchored: bool,
    exclusive: bool,
    snap: _v._AnchorSnapshot,
    leaf_ctx: CERT_CONTEXT,
    extra: CertStore | None,
) -> CERT_CHAIN_CONTEXT:
    path = outcome.path
    infos = outcome.infos
    for i, cert in enumerate(path):
        if i + 1 < len(path):
            infos[i] |= _issuer_match(cert, path[i + 1])
        elif _self_signed(cert):
            infos[i] |= CERT_TRUST_IS_SELF_SIGNED | _issuer_match(cert, cert)
        if anchored:
            infos[i] |= CERT_TRUST_HAS_PREFERRED_ISSUER
    if anchored and exclusive:
        infos[-1] |= CERT_TRUST_IS_FROM_EXCLUSIVE_TRUST_STORE
        if not _self_signed(path[-1]):
            infos[-1] |= CERT_TRUST_IS_CA_TRUSTED
    simple = CERT_SIMPLE_CHAIN()
    for i, cert in enumerate(path):
        status = CERT_TRUST_STATUS(outcome.errors[i], infos[i])
        ctx = leaf_ctx if i == 0 else _context_of(cert, extra)
        simple.rgpElement.append(CERT_CHAIN_ELEMENT(pCertContext=ctx, TrustStatus=status))
        simple.TrustStatus.dwErrorStatus |= status.dwErrorStatus
        # The issuer-match and self-signed bits describe one certificate only.
        simple.TrustStatus.dwInfoStatus |= status.dwInfoStatus & ~0xF
    simple.TrustStatus.dwErrorStatus |= outcome.chain_errors
    simple.cElement = len(simple.rgpElement)
    context = CERT_CHAIN_CONTEXT(
        TrustStatus=CERT_TRUST_STATUS(
            simple.TrustStatus.dwErrorStatus, simple.TrustStatus.dwInfoStatus
        ),
        cChain=1,
        rgpChain=[simple],
    )
    return context


def _context_of(cert: Cert, extra: CertStore | None) -> CERT_CONTEXT:
    """The store's own context for ``cert`` when the additional store holds it."""
    der = cert.public_bytes(Encoding.DER)
    if extra is not None:
        entry = extra._lookup(der)
        if entry is not None:
            return extra._context_for(entry)
    return _make_context(der, cert)


def CertFreeCertificateChain(pChainContext: Any) -> None:
    """Release a chain context (nothing to do without reference counts)."""
    return None


def CertDuplicateCertificateChain(pChainContext: Any) -> CERT_CHAIN_CONTEXT | None:
    """Add a reference: the same context (NULL stays NULL)."""
    return pChainContext if isinstance(pChainContext, CERT_CHAIN_CONTEXT) else None


# --- CertVerifyCertificateChainPolicy ------------------------------------------------------

_NAME_CONSTRAINT_BITS = (
    CERT_TRUST_INVALID_NAME_CONSTRAINTS
    | CERT_TRUST_HAS_NOT_SUPPORTED_NAME_CONSTRAINT
    | CERT_TRUST_HAS_NOT_DEFINED_NAME_CONSTRAINT
    | CERT_TRUST_HAS_NOT_PERMITTED_NAME_CONSTRAINT
    | CERT_TRUST_HAS_EXCLUDED_NAME_CONSTRAINT
)


_REV_UNKNOWN = CERT_TRUST_REVOCATION_STATUS_UNKNOWN | CERT_TRUST_IS_OFFLINE_REVOCATION


def _find(
    context: CERT_CHAIN_CONTEXT,
    bits: int,
    skip: frozenset[tuple[int, int]] = frozenset(),
) -> tuple[int, int]:
    for i, simple in enumerate(context.rgpChain):
        for j, element in enumerate(simple.rgpElement):
            if element.TrustStatus.dwErrorStatus & bits & ~(_REV_UNKNOWN if (i, j) in skip else 0):
                return i, j
    return -1, -1


def _without_ignored_unknowns(
    chain: CERT_CHAIN_CONTEXT, errors: int, flags: int
) -> tuple[int, frozenset[tuple[int, int]]]:
    """The chain's error bits without the revocation-unknown bits of the elements the
    CERT_CHAIN_POLICY_IGNORE_{END,CA,ROOT}_REV_UNKNOWN flags cover, and those elements."""
    skip: set[tuple[int, int]] = set()
    kept = 0
    for i, simple in enumerate(chain.rgpChain):
        last = len(simple.rgpElement) - 1
        for j, element in enumerate(simple.rgpElement):
            ctx = element.pCertContext
            is_root = (
                j == last
                and j > 0
                and isinstance(ctx, CERT_CONTEXT)
                and _self_signed(ctx.certificate)
            )
            if j == 0:
                flag = CERT_CHAIN_POLICY_IGNORE_END_REV_UNKNOWN_FLAG
            elif is_root:
                flag = CERT_CHAIN_POLICY_IGNORE_ROOT_REV_UNKNOWN_FLAG
            else:
                flag = CERT_CHAIN_POLICY_IGNORE_CA_REV_UNKNOWN_FLAG
            if flags & flag:
                skip.add((i, j))
            else:
                kept |= element.TrustStatus.dwErrorStatus & _REV_UNKNOWN
    return (errors & ~_REV_UNKNOWN) | kept, frozenset(skip)


def CertVerifyCertificateChainPolicy(
    pszPolicyOID: Any, pChainContext: Any, pPolicyPara: Any, pPolicyStatus: Any
) -> bool:
    """Judge a chain by a policy; the verdict goes to ``pPolicyStatus``.

    Policies: ``CERT_CHAIN_POLICY_BASE``, ``CERT_CHAIN_POLICY_SSL`` (with an
    HTTPSPolicyCallbackData: ``AUTHTYPE_SERVER`` and ``pwszServerName`` add
    the name check, ``fdwChecks`` takes SECURITY_FLAG_IGNORE_*) and
    ``CERT_CHAIN_POLICY_BASIC_CONSTRAINTS``.  Returns TRUE whenever the policy
    could be evaluated, also when the chain fails it (``dwError`` says so,
    with ``lChainIndex`` / ``lElementIndex`` of the failing element, -1 when
    none); FALSE with ``CRYPT_E_NOT_FOUND`` for another policy and
    ``E_INVALIDARG`` for bad arguments.  Never raises.
    """
    try:
        return _verify_policy(pszPolicyOID, pChainContext, pPolicyPara, pPolicyStatus)
    except Exception:
        return _fail(E_INVALIDARG)


def _verify_policy(oid: Any, chain: Any, para: Any, status: Any) -> bool:
    if isinstance(oid, str) and oid.isdigit():
        oid = int(oid)
    if not _is_int(oid) or oid not in (
        CERT_CHAIN_POLICY_BASE,
        CERT_CHAIN_POLICY_SSL,
        CERT_CHAIN_POLICY_BASIC_CONSTRAINTS,
    ):
        return _fail(CRYPT_E_NOT_FOUND)
    if not isinstance(chain, CERT_CHAIN_CONTEXT) or not isinstance(
        status, CERT_CHAIN_POLICY_STATUS
    ):
        return _fail(E_INVALIDARG)
    if not chain.rgpChain or not chain.rgpChain[0].rgpElement:
        return _fail(E_INVALIDARG)
    flags = 0
    extra: Any = None
    if para is not None:
        if not isinstance(para, CERT_CHAIN_POLICY_PARA) or not _is_int(para.dwFlags):
            return _fail(E_INVALIDARG)
        flags = para.dwFlags
        if _is_int(para.cbSize) and para.cbSize >= _MIN_POLICY_PARA_SIZE:
            extra = para.pvExtraPolicyPara
    errors = chain.TrustStatus.dwErrorStatus
    if oid == CERT_CHAIN_POLICY_BASIC_CONSTRAINTS:
        _set(
            status,
            chain,
            errors,
            [(CERT_TRUST_INVALID_BASIC_CONSTRAINTS, TRUST_E_BASIC_CONSTRAINTS, False)],
        )
        return True
    checks = 0
    ssl = oid == CERT_CHAIN_POLICY_SSL
    if ssl and isinstance(extra, HTTPSPolicyCallbackData):
        if not (_is_int(extra.cbSize) and _is_int(extra.fdwChecks) and _is_int(extra.dwAuthType)):
            return _fail(E_INVALIDARG)
        if extra.cbSize >= _MIN_HTTPS_PARA_SIZE:
            checks = extra.fdwChecks
        else:
            extra = None
    elif ssl:
        extra = None

    def ignored(base_flag: int, ssl_flag: int = 0) -> bool:
        return bool(flags & base_flag) or bool(ssl and checks & ssl_flag)

    rev_ignored = ignored(0, SECURITY_FLAG_IGNORE_REVOCATION)
    skip = frozenset[tuple[int, int]]()
    if not rev_ignored and flags & CERT_CHAIN_POLICY_IGNORE_ALL_REV_UNKNOWN_FLAGS:
        errors, skip = _without_ignored_unknowns(chain, errors, flags)
    rules: list[tuple[int, int, bool]] = [
        (CERT_TRUST_IS_NOT_SIGNATURE_VALID, TRUST_E_CERT_SIGNATURE, False),
    ]
    if not ignored(CERT_CHAIN_POLICY_ALLOW_UNKNOWN_CA_FLAG, SECURITY_FLAG_IGNORE_UNKNOWN_CA):
        rules.append((CERT_TRUST_IS_UNTRUSTED_ROOT, CERT_E_UNTRUSTEDROOT, False))
    rules.append((CERT_TRUST_IS_PARTIAL_CHAIN, CERT_E_CHAINING, True))
    rules.append((CERT_TRUST_IS_CYCLIC, CERT_E_UNTRUSTEDROOT if ssl else CERT_E_CHAINING, True))
    if not ignored(
        CERT_CHAIN_POLICY_IGNORE_NOT_TIME_VALID_FLAG, SECURITY_FLAG_IGNORE_CERT_DATE_INVALID
    ):
        rules.append((CERT_TRUST_IS_NOT_TIME_VALID, CERT_E_EXPIRED, False))
    if not ignored(CERT_CHAIN_POLICY_IGNORE_WRONG_USAGE_FLAG, SECURITY_FLAG_IGNORE_WRONG_USAGE):
        rules.append((CERT_TRUST_IS_NOT_VALID_FOR_USAGE, CERT_E_WRONG_USAGE, False))
    rules.append((CERT_TRUST_IS_EXPLICIT_DISTRUST, TRUST_E_EXPLICIT_DISTRUST, False))
    if not (ssl and checks & SECURITY_FLAG_IGNORE_REVOCATION):
        rules.append((CERT_TRUST_IS_REVOKED, CRYPT_E_REVOKED, False))
    if not rev_ignored:
        rules.append((CERT_TRUST_IS_OFFLINE_REVOCATION, CRYPT_E_REVOCATION_OFFLINE, False))
        rules.append((CERT_TRUST_REVOCATION_STATUS_UNKNOWN, CRYPT_E_NO_REVOCATION_CHECK, False))
    if not ignored(CERT_CHAIN_POLICY_IGNORE_INVALID_BASIC_CONSTRAINTS_FLAG):
        rules.append((CERT_TRUST_INVALID_BASIC_CONSTRAINTS, TRUST_E_BASIC_CONSTRAINTS, False))
    if not ignored(CERT_CHAIN_POLICY_IGNORE_INVALID_NAME_FLAG):
        rules.append((_NAME_CONSTRAINT_BITS, CERT_E_INVALID_NAME, False))
    if not ignored(CERT_CHAIN_POLICY_IGNORE_NOT_SUPPORTED_CRITICAL_EXT_FLAG):
        rules.append((CERT_TRUST_HAS_NOT_SUPPORTED_CRITICAL_EXT, CERT_E_CRITICAL, False))
    if not ignored(CERT_CHAIN_POLICY_IGNORE_INVALID_POLICY_FLAG):
        rules.append(
            (
                CERT_TRUST_INVALID_EXTENSION | CERT_TRUST_INVALID_POLICY_CONSTRAINTS,
                CERT_E_INVALID_POLICY,
                False,
            )
        )
    _set(status, chain, errors, rules, skip)
    if status.dwError != NO_ERROR or not ssl or extra is None:
        return True
    name = extra.pwszServerName
    if extra.dwAuthType != AUTHTYPE_SERVER or name is None:
        return True
    if not isinstance(name, str):
        return _fail(E_INVALIDARG)
    name = name.split("\0", 1)[0]
    if not name or ignored(
        CERT_CHAIN_POLICY_IGNORE_INVALID_NAME_FLAG, SECURITY_FLAG_IGNORE_CERT_CN_INVALID
    ):
        return True
    leaf = chain.rgpChain[0].rgpElement[0].pCertContext
    if not isinstance(leaf, CERT_CONTEXT) or not _matches(leaf.certificate, name):
        status.dwError = CERT_E_CN_NO_MATCH
        status.lChainIndex = 0
        status.lElementIndex = 0
    return True


def _matches(cert: Cert, name: str) -> bool:
    try:
        return _v.name_matches(cert, name)
    except Exception:
        return False  # an undecodable subjectAltName names nobody


def _set(
    status: CERT_CHAIN_POLICY_STATUS,
    chain: CERT_CHAIN_CONTEXT,
    errors: int,
    rules: list[tuple[int, int, bool]],
    skip: frozenset[tuple[int, int]] = frozenset(),
) -> None:
    """The first rule whose bits the chain has decides ``dwError`` and the indexes."""
    status.dwError = NO_ERROR
    status.lChainIndex = status.lElementIndex = -1
    for bits, code, chain_level in rules:
        if errors & bits:
            status.dwError = int(code)
            if chain_level:
                status.lChainIndex = (
                    _find(chain, bits)[0] if not bits & CERT_TRUST_IS_PARTIAL_CHAIN else 0
                )
            else:
                status.lChainIndex, status.lElementIndex = _find(chain, bits, skip)
            return
