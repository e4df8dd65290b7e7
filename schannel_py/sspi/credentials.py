"""AcquireCredentialsHandle and friends: turning SCHANNEL_CRED / SCH_CREDENTIALS into policy.

A :class:`Credential` is the package's view of a credential handle: which TLS
versions, suites and groups a context built on it offers, how the server
certificate is validated, and (later) which client certificate it carries.
The rules follow docs/windows-behaviour.md section 2: SCHANNEL_CRED (v4) never
offers TLS 1.3; SCH_CREDENTIALS (v5) offers TLS 1.3 and 1.2 minus what
``grbitDisabledProtocols`` removes; SSL 3, TLS 1.0 and 1.1 are never offered.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from .. import constants as C
from ..constants import SecStatus
from ..crypt32 import CERT_CONTEXT
from ..tls import groups as G
from ..tls import sigalgs as SA
from ..tls import suites as S
from . import packages
from .handles import HandleTable
from .types import (
    CRYPTO_SETTINGS,
    SCH_CREDENTIALS,
    SCHANNEL_CRED,
    TLS_PARAMETERS,
    SecPkgCred_CipherStrengths,
    SecPkgCred_SupportedAlgs,
    SecPkgCred_SupportedProtocols,
    SecPkgCredentials_Names,
)

PACKAGE_NAMES = packages.NAMES
# Wire version for each SP_PROT client bit this package can speak.
PROTOCOL_VERSIONS = {C.SP_PROT_TLS1_3_CLIENT: 0x0304, C.SP_PROT_TLS1_2_CLIENT: 0x0303}
DEFAULT_V4_PROTOCOLS = C.SP_PROT_TLS1_2_CLIENT
DEFAULT_V5_PROTOCOLS = C.SP_PROT_TLS1_2_CLIENT | C.SP_PROT_TLS1_3_CLIENT
CLIENT_BITS = 0xAAAAAAAA & 0x800AAAAA  # every *_CLIENT bit (odd positions)
SERVER_BITS = 0x40055555
DTLS_BITS = C.SP_PROT_DTLS1_X_CLIENT | 0x50000
DEFAULT_SESSION_LIFESPAN_MS = 36_000_000
NEVER_EXPIRES = 0x7FFFFFFFFFFFFFFF
MAX_TLS_PARAMETERS = 16


@dataclass
class Credential:
    """What one credential handle stands for."""

    use: int
    structure: str  # "default", "SCHANNEL_CRED" or "SCH_CREDENTIALS"
    protocols: int  # SP_PROT_* bits reported by SUPPORTED_PROTOCOLS
    flags: int
    session_lifespan_ms: int
    cipher_suites: tuple[int, ...] = S.DEFAULT_TLS13_SUITES + S.DEFAULT_TLS12_SUITES
    groups: tuple[int, ...] = G.SUPPORTED_GROUPS
    # Offered in signature_algorithms, accepted from the server, usable for our CertificateVerify.
    signature_schemes: tuple[int, ...] = SA.DEFAULT_SCHEMES
    certificate: CERT_CONTEXT | None = None
    logon_id: object | None = None
    pid: int = field(default_factory=os.getpid)
    handle_id: int = 0  # dwLower of the handle: part of the session-cache key

    @functools.cached_property
    def logon(self) -> object:
        """The logon session this credential belongs to (session-cache key), fixed
        when first asked (right after AcquireCredentialsHandle, as on Windows)."""
        from .cache import logon_key

        return logon_key(self.logon_id)

    @property
    def versions(self) -> tuple[int, ...]:
        """Wire versions to offer, newest first."""
        return _versions(self.protocols, self.structure)

    @property
    def manual_validation(self) -> bool:
        return bool(self.flags & C.SCH_CRED_MANUAL_CRED_VALIDATION)


@functools.lru_cache(maxsize=64)
def _versions(protocols: int, structure: str) -> tuple[int, ...]:
    allowed = protocols
    if structure == "SCHANNEL_CRED":
        allowed &= ~C.SP_PROT_TLS1_3_CLIENT
    return tuple(v for bit, v in PROTOCOL_VERSIONS.items() if allowed & bit)


CREDENTIALS: HandleTable[Credential] = HandleTable(0x53434352)  # "SCCR"


def _list(count: int, items: object) -> list[object]:
    """The first ``count`` items as C would read them; Python callers may leave count 0."""
    if items is None:
        return []
    seq = list(items) if isinstance(items, (list, tuple)) else [items]
    return seq[:count] if count else seq


#: CRYPTO_SETTINGS.strCngAlgId names (upper case, "-" and "_" removed) of each hybrid group.
HYBRID_NAMES: dict[str, int] = {
    "X25519MLKEM768": G.X25519MLKEM768,
    "CURVE25519MLKEM768": G.X25519MLKEM768,
    "SECP256R1MLKEM768": G.SECP256R1MLKEM768,
    "NISTP256MLKEM768": G.SECP256R1MLKEM768,
    "SECP384R1MLKEM1024": G.SECP384R1MLKEM1024,
    "NISTP384MLKEM1024": G.SECP384R1MLKEM1024,
}
#: Groups of a credential that can offer TLS 1.3 (SCH_CREDENTIALS, or no pAuthData):
#: the ECDHE-MLKEM hybrids first, then the classical curves.
TLS13_CREDENTIAL_GROUPS: tuple[int, ...] = (
    G.HYBRID_GROUPS if G.MLKEM_SUPPORTED else ()
) + G.SUPPORTED_GROUPS


#: RSA signature schemes by CRYPTO_SETTINGS chaining mode (the padding).
RSA_PADDING_SCHEMES: dict[str, frozenset[int]] = {
    C.SCHANNEL_RSA_PSS_PADDING_ALGORITHM: SA.PSS_SCHEMES,
    C.SCHANNEL_RSA_PKCS_PADDING_ALGORITHM: SA.PKCS1_SCHEMES,
}
#: ECDSA signature schemes and their curve sizes (CRYPTO_SETTINGS bit lengths).
ECDSA_SCHEME_BITS: dict[int, int] = {
    SA.ECDSA_SECP256R1_SHA256: 256,
    SA.ECDSA_SECP384R1_SHA384: 384,
    SA.ECDSA_SECP521R1_SHA512: 521,
}
#: RFC 8446 SignatureScheme names (upper case), an schannel_py extension of strCngAlgId.
SCHEME_BY_NAME: dict[str, int] = {name.upper(): code for code, name in SA.SCHEME_NAMES.items()}


def _disabled_schemes(
    alg: str, modes: list[object], outside: Callable[[int], bool], ranged: bool
) -> set[int]:
    """The signature schemes one TlsParametersCngAlgUsageSignature entry disables.

    "RSA": the paddings named by the chaining modes (both without modes; an RSA
    key-size range disables nothing: key sizes are not enforced); "ECDSA": the
    curves outside the bit range (all without one); "ED25519"; or one RFC 8446
    scheme name.  Other names are ignored, as Windows ignores settings for
    algorithms it does not use.
    """
    if alg == "RSA":
        if ranged:
            return set()
        names = {str(m).upper() for m in modes}
        if not names:
            return set().union(*RSA_PADDING_SCHEMES.values())
        return set().union(*(v for k, v in RSA_PADDING_SCHEMES.items() if k in names))
    if alg == "ECDSA":
        return {code for code, bits in ECDSA_SCHEME_BITS.items() if outside(bits)}
    if alg in SCHEME_BY_NAME:
        return {SCHEME_BY_NAME[alg]}
    return set()


def _apply_crypto_settings(cred: Credential, settings: list[object]) -> SecStatus | None:
    """Remove suites, groups and signature schemes named by TLS_PARAMETERS.pDisabledCrypto."""
    suites = list(cred.cipher_suites)
    groups = list(cred.groups)
    schemes = list(cred.signature_schemes)
    for s in settings:
        if not isinstance(s, CRYPTO_SETTINGS):
            return C.SEC_E_UNKNOWN_CREDENTIALS
        alg = str(s.strCngAlgId or "").upper()
        lo, hi = int(s.dwMinBitLength or 0), int(s.dwMaxBitLength or 0)

        def outside(bits: int, lo: int = lo, hi: int = hi) -> bool:
            if not lo and not hi:
                return True  # no range: the whole algorithm is disabled
            return bool((lo and bits < lo) or (hi and bits > hi))

        usage = int(s.eAlgorithmUsage or 0)
        if usage == C.TlsParametersCngAlgUsageCipher:
            for code in list(suites):
                suite = S.SUITES[code]
                name = "AES" if suite.cipher == "AES" else "CHACHA20_POLY1305"
                if alg in (name, "CHACHA20" if name != "AES" else "AES") and outside(
                    suite.key_len * 8
                ):
                    suites.remove(code)
        elif usage == C.TlsParametersCngAlgUsageDigest:
            for code in list(suites):
                if alg == S.SUITES[code].hash_name.upper() and outside(S.SUITES[code].hash_len * 8):
                    suites.remove(code)
        elif usage == C.TlsParametersCngAlgUsageKeyExchange:
            names = {
                "CURVE25519": G.X25519,
                "X25519": G.X25519,
                "NISTP256": G.SECP256R1,
                "SECP256R1": G.SECP256R1,
                "ECDH_P256": G.SECP256R1,
                "NISTP384": G.SECP384R1,
                "SECP384R1": G.SECP384R1,
                "ECDH_P384": G.SECP384R1,
            }
            # Hybrids answer to their own names (separators ignored) and to the
            # ML-KEM family, whose bit range is the parameter set (768, 1024);
            # "ECDH" and the curve names leave them alone.
            hybrid = alg.replace("-", "").replace("_", "")
            if alg in ("ECDH", "ECDHE"):
                groups = [g for g in groups if g in G.HYBRIDS or not outside(G.GROUP_BITS[g])]
            elif hybrid == "MLKEM":
                groups = [g for g in groups if g not in G.HYBRIDS or not outside(G.MLKEM_PARAMS[g])]
            elif hybrid in HYBRID_NAMES and HYBRID_NAMES[hybrid] in groups:
                groups.remove(HYBRID_NAMES[hybrid])
            elif alg in names and names[alg] in groups:
                groups.remove(names[alg])
        elif usage == C.TlsParametersCngAlgUsageSignature:
            modes = _list(int(s.cChainingModes or 0), s.rgstrChainingModes)
            if len(modes) > MAX_TLS_PARAMETERS:
                return C.SEC_E_INVALID_PARAMETER
            gone = _disabled_schemes(alg, modes, outside, bool(lo or hi))
            schemes = [c for c in schemes if c not in gone]
    cred.cipher_suites = tuple(suites)
    cred.groups = tuple(groups)
    cred.signature_schemes = tuple(schemes)
    return None


_CIPHER, _HASH = C.ALG_CLASS_DATA_ENCRYPT, C.ALG_CLASS_HASH
_KEYX, _SIGN = C.ALG_CLASS_KEY_EXCHANGE, C.ALG_CLASS_SIGNATURE
_HASH_ALG = {"sha256": C.CALG_SHA_256, "sha384": C.CALG_SHA_384}
_KEYX_ALG = {"ECDHE": C.CALG_ECDH_EPHEM}
_SIGN_ALG = {"ECDSA": C.CALG_ECDSA, "RSA": C.CALG_RSA_SIGN}
#: The signature schemes each signature ALG_ID stands for.
_SCHEMES_BY_ALG: dict[int, frozenset[int]] = {
    C.CALG_ECDSA: frozenset(ECDSA_SCHEME_BITS),
    C.CALG_RSA_SIGN: SA.PSS_SCHEMES | SA.PKCS1_SCHEMES,
}


def suite_alg_ids(suite: S.CipherSuite) -> dict[int, int]:
    """A suite in CryptoAPI's words: ALG class -> ALG_ID (0 where the suite leaves
    it open: a TLS 1.3 suite names no key exchange or signature)."""
    if suite.cipher == "AES":
        cipher = C.CALG_AES_128 if suite.key_len == 16 else C.CALG_AES_256
    else:
        cipher = C.CALG_CHACHA20_POLY1305
    return {
        _CIPHER: cipher,
        _HASH: _HASH_ALG.get(suite.hash_name, 0),
        _KEYX: _KEYX_ALG.get(suite.kx, 0),
        _SIGN: _SIGN_ALG.get(suite.auth, 0),
    }


#: Every ALG_ID some suite or signature scheme of this package answers to.
_USED_ALGS = frozenset(
    alg for code in S.SUITES for alg in suite_alg_ids(S.SUITES[code]).values() if alg
) | frozenset(_SCHEMES_BY_ALG)


def _apply_supported_algs(cred: Credential, algs: list[object]) -> SecStatus | None:
    """SCHANNEL_CRED.palgSupportedAlgs: each ALG class the list names (cipher, hash,
    key exchange, signature) is narrowed to the ALG_IDs listed for it; classes it
    does not name stay open (docs/windows-behaviour.md rule 2.2.5).  Nothing usable
    left: SEC_E_ALGORITHM_MISMATCH."""
    if not algs:
        return None
    wanted: dict[int, set[int]] = {}
    for alg in algs:
        if not isinstance(alg, int) or isinstance(alg, bool):
            return C.SEC_E_UNKNOWN_CREDENTIALS
        wanted.setdefault(alg & C.ALG_CLASS_ALL, set()).add(alg & 0xFFFF)
    if not any(_USED_ALGS & ids for ids in wanted.values()):
        return C.SEC_E_ALGORITHM_MISMATCH  # only ALG_IDs nothing here uses
    suites = []
    for code in cred.cipher_suites:
        ids = suite_alg_ids(S.SUITES[code])
        if all(
            ids[k] in wanted[k] for k in (_CIPHER, _HASH, _KEYX, _SIGN) if k in wanted and ids[k]
        ):
            suites.append(code)
    schemes = cred.signature_schemes
    if _SIGN in wanted:
        allowed = frozenset().union(*(_SCHEMES_BY_ALG.get(a, frozenset()) for a in wanted[_SIGN]))
        schemes = tuple(c for c in schemes if c in allowed)
    usable = [c for c in suites if S.SUITES[c].version in cred.versions]
    if not usable or not schemes:
        return C.SEC_E_ALGORITHM_MISMATCH
    cred.cipher_suites = tuple(suites)
    cred.signature_schemes = schemes
    return None


#: The three SCH_CRED_REVOCATION_CHECK_* flags: one at most (rule 9.1.2).
REVOCATION_CHECK_FLAGS = (
    C.SCH_CRED_REVOCATION_CHECK_END_CERT
    | C.SCH_CRED_REVOCATION_CHECK_CHAIN
    | C.SCH_CRED_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT
)


def _revocation_flags_bad(flags: object) -> bool:
    """Two or more revocation CHECK flags at once (they are mutually exclusive)."""
    check = int(flags or 0) & REVOCATION_CHECK_FLAGS  # type: ignore[call-overload]
    return bool(check & (check - 1))


def _from_schannel_cred(auth: SCHANNEL_CRED, use: int) -> Credential | SecStatus:
    if auth.dwVersion == C.SCH_CRED_V3:
        return C.SEC_E_INSUFFICIENT_MEMORY  # observed on Windows 10, odd as it is
    if auth.dwVersion != C.SCHANNEL_CRED_VERSION:
        return C.SEC_E_UNKNOWN_CREDENTIALS
    if _revocation_flags_bad(auth.dwFlags):
        return C.SEC_E_UNKNOWN_CREDENTIALS
    grbit = int(auth.grbitEnabledProtocols or 0) & 0xFFFFFFFF
    if grbit:
        mine = grbit & (CLIENT_BITS if use & C.SECPKG_CRED_OUTBOUND else SERVER_BITS)
        if not mine:
            return C.SEC_E_ALGORITHM_MISMATCH
        if grbit & DTLS_BITS and grbit & ~DTLS_BITS & (CLIENT_BITS | SERVER_BITS):
            return C.SEC_E_ALGORITHM_MISMATCH
        if use & C.SECPKG_CRED_OUTBOUND and mine == C.SP_PROT_TLS1_3_CLIENT:
            return C.SEC_E_ALGORITHM_MISMATCH  # SCHANNEL_CRED cannot do TLS 1.3
    protocols = grbit if grbit else DEFAULT_V4_PROTOCOLS
    cred = Credential(
        use=use,
        structure="SCHANNEL_CRED",
        protocols=protocols,
        flags=int(auth.dwFlags or 0),
        session_lifespan_ms=int(auth.dwSessionLifespan or 0) or DEFAULT_SESSION_LIFESPAN_MS,
    )
    if use & C.SECPKG_CRED_OUTBOUND and cred.versions:
        bad = _apply_supported_algs(
            cred, _list(int(auth.cSupportedAlgs or 0), auth.palgSupportedAlgs)
        )
        if bad is not None:
            return bad
    return cred


def _from_sch_credentials(auth: SCH_CREDENTIALS, use: int) -> Credential | SecStatus:
    if auth.dwVersion != C.SCH_CREDENTIALS_VERSION:
        return C.SEC_E_UNKNOWN_CREDENTIALS
    if _revocation_flags_bad(auth.dwFlags):
        return C.SEC_E_UNKNOWN_CREDENTIALS
    params = _list(int(auth.cTlsParameters or 0), auth.pTlsParameters)
    if len(params) > MAX_TLS_PARAMETERS:
        return C.SEC_E_INVALID_PARAMETER
    disabled = 0
    settings: list[object] = []
    for p in params:
        if not isinstance(p, TLS_PARAMETERS):
            return C.SEC_E_UNKNOWN_CREDENTIALS
        if p.cAlpnIds or p.rgstrAlpnIds:
            return C.SEC_E_INVALID_PARAMETER  # server-only fields
        disabled |= int(p.grbitDisabledProtocols or 0)
        crypto = _list(int(p.cDisabledCrypto or 0), p.pDisabledCrypto)
        if len(crypto) > MAX_TLS_PARAMETERS:
            return C.SEC_E_INVALID_PARAMETER
        settings.extend(crypto)
    protocols = DEFAULT_V5_PROTOCOLS & ~disabled & 0xFFFFFFFF
    if not protocols:
        return C.SEC_E_ALGORITHM_MISMATCH
    cred = Credential(
        use=use,
        structure="SCH_CREDENTIALS",
        protocols=protocols,
        groups=TLS13_CREDENTIAL_GROUPS,
        flags=int(auth.dwFlags or 0),
        session_lifespan_ms=int(auth.dwSessionLifespan or 0) or DEFAULT_SESSION_LIFESPAN_MS,
    )
    bad = _apply_crypto_settings(cred, settings)
    if bad is not None:
        return bad
    tls13 = 0x0304 in cred.versions  # the hybrids are no use without it
    if not cred.cipher_suites or not any(tls13 or g not in G.HYBRIDS for g in cred.groups):
        return C.SEC_E_ALGORITHM_MISMATCH
    if not cred.signature_schemes:
        return C.SEC_E_ALGORITHM_MISMATCH  # no way left to authenticate a server
    return cred


def _client_certificates(auth: SCHANNEL_CRED | SCH_CREDENTIALS) -> CERT_CONTEXT | SecStatus | None:
    """The one client certificate a credential may carry (paCred), checked."""
    certs = _list(int(auth.cCreds or 0), auth.paCred)
    if not certs:
        return None
    if len(certs) > 1:
        return C.SEC_E_UNKNOWN_CREDENTIALS
    cert = certs[0]
    if not isinstance(cert, CERT_CONTEXT) or cert.certificate is None:
        return C.SEC_E_UNKNOWN_CREDENTIALS
    if getattr(cert, "private_key", None) is None:
        return C.SEC_E_NO_CREDENTIALS
    return cert


def acquire(
    pszPackage: object, fCredentialUse: object, pvLogonId: object, pAuthData: object
) -> Credential | SecStatus:
    """Build a Credential or say which status ACH returns."""
    if not isinstance(pszPackage, str) or pszPackage.lower() not in PACKAGE_NAMES:
        return C.SEC_E_SECPKG_NOT_FOUND
    use = int(fCredentialUse) if isinstance(fCredentialUse, int) else 0
    role = use & C.SECPKG_CRED_BOTH
    if role not in (C.SECPKG_CRED_OUTBOUND, C.SECPKG_CRED_INBOUND):
        return C.SEC_E_NO_CREDENTIALS
    if pAuthData is None:
        if role != C.SECPKG_CRED_OUTBOUND:
            return C.SEC_E_NO_CREDENTIALS
        return Credential(
            use=use,
            structure="default",
            protocols=DEFAULT_V5_PROTOCOLS,
            groups=TLS13_CREDENTIAL_GROUPS,
            flags=0,
            session_lifespan_ms=DEFAULT_SESSION_LIFESPAN_MS,
            logon_id=pvLogonId,
        )
    try:
        if isinstance(pAuthData, SCHANNEL_CRED):
            result = _from_schannel_cred(pAuthData, use)
        elif isinstance(pAuthData, SCH_CREDENTIALS):
            result = _from_sch_credentials(pAuthData, use)
        else:
            return C.SEC_E_UNKNOWN_CREDENTIALS
        if isinstance(result, SecStatus):
            return result
        cert = _client_certificates(pAuthData)
    except (TypeError, ValueError, AttributeError, OverflowError):
        # A field that is not what the header declares (a string for a DWORD...):
        # the structure cannot be read, as SChannel would say of garbage.
        return C.SEC_E_UNKNOWN_CREDENTIALS
    if isinstance(cert, SecStatus):
        return cert
    result.certificate = cert
    result.logon_id = pvLogonId
    return result


def certificate_expiry_filetime(cert: CERT_CONTEXT) -> int:
    """A certificate's notAfter as FILETIME (100 ns ticks since 1601)."""
    try:
        not_after = cert.certificate.not_valid_after_utc
        return int(not_after.timestamp() * 10_000_000) + 116444736000000000
    except Exception:
        return NEVER_EXPIRES


SUPPORTED_ALGS: tuple[int, ...] = (
    C.CALG_AES_128,
    C.CALG_AES_256,
    C.CALG_SHA_256,
    C.CALG_SHA_384,
    C.CALG_ECDH_EPHEM,
    C.CALG_ECDSA,
    C.CALG_RSA_SIGN,
)


def query(cred: Credential, ulAttribute: int, pBuffer: object) -> SecStatus:
    """QueryCredentialsAttributes for one credential."""
    if ulAttribute == C.SECPKG_ATTR_SUPPORTED_PROTOCOLS:
        if not isinstance(pBuffer, SecPkgCred_SupportedProtocols):
            return C.SEC_E_INTERNAL_ERROR
        pBuffer.grbitProtocol = cred.protocols
        return C.SEC_E_OK
    if ulAttribute == C.SECPKG_ATTR_SUPPORTED_ALGS:
        if not isinstance(pBuffer, SecPkgCred_SupportedAlgs):
            return C.SEC_E_INTERNAL_ERROR
        pBuffer.palgSupportedAlgs = list(SUPPORTED_ALGS)
        pBuffer.cSupportedAlgs = len(SUPPORTED_ALGS)
        return C.SEC_E_OK
    if ulAttribute == C.SECPKG_ATTR_CIPHER_STRENGTHS:
        if not isinstance(pBuffer, SecPkgCred_CipherStrengths):
            return C.SEC_E_INTERNAL_ERROR
        bits = [S.SUITES[s].key_len * 8 for s in cred.cipher_suites]
        pBuffer.dwMinimumCipherStrength = min(bits)
        pBuffer.dwMaximumCipherStrength = max(bits)
        return C.SEC_E_OK
    if ulAttribute == C.SECPKG_CRED_ATTR_NAMES:
        if not isinstance(pBuffer, SecPkgCredentials_Names):
            return C.SEC_E_INTERNAL_ERROR
        if cred.certificate is None:
            return C.SEC_E_NO_CREDENTIALS
        try:
            pBuffer.sUserName = cred.certificate.certificate.subject.rfc4514_string()
        except Exception:
            return C.SEC_E_NO_CREDENTIALS
        return C.SEC_E_OK
    return C.SEC_E_UNSUPPORTED_FUNCTION
