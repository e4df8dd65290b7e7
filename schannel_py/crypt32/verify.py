"""Server certificate validation with the status codes Windows SChannel returns.

:func:`verify_server_chain` answers the question SChannel's automatic
validation answers (docs/windows-behaviour.md section 0.5): is this Certificate message,
for this target name, at this time, acceptable?  The answer is one status:

* ``SEC_E_UNTRUSTED_ROOT``: no path from the leaf to a certificate of "ROOT"
  (or ``extra_roots``): unknown issuer, missing intermediate, a self-signed
  server certificate nobody trusts;
* ``SEC_E_CERT_EXPIRED``: a certificate of the chosen path, trust anchor
  included, is outside its validity window (expired *or* not yet valid, as
  on Windows);
* ``SEC_E_CERT_WRONG_USAGE``: the leaf or an intermediate has an EKU extension
  with neither serverAuth nor anyExtendedKeyUsage;
* ``SEC_E_CERT_UNKNOWN``: anything else: empty chain, bytes that are not a
  certificate, a bad signature, a path that cryptography's RFC 5280 / CA/B
  checks reject (basic constraints, key usage, weak keys, Ed25519-signed
  certificates, name constraints ...);
* ``SEC_E_WRONG_PRINCIPAL``: the target name matches no subjectAltName.

When several apply, the first of this order wins: untrusted root, expired,
wrong usage, other chain errors (CERT_UNKNOWN), wrong principal.  This follows
how Windows reports a chain: trust status first, then time, then usage, and
the SSL policy's name check last.

How: ``cryptography.x509.verification`` first validates the presented chain
structurally (RFC 5280 / CA/B, with the extensions this module checks itself,
SAN and EKU, relaxed); if it finds a path that also passes this module's time
and EKU checks, only the name is left to check.  Otherwise a small path builder (issuer name + signature, over the chain's
intermediates, the "CA" store and the trust anchors) decides trust and picks
the best path (a bad signature, rather than a missing issuer, gives
CERT_UNKNOWN here).  Time and EKU are then checked on that path by this module,
so the classification never depends on cryptography's error messages; a path
cryptography rejected gives CERT_UNKNOWN, except one with a non-positive serial
number anywhere (an old root's, say), which cryptography refuses outright and
CryptoAPI accepts: that one is judged on the structure CertGetCertificateChain reports
(:mod:`._structure`); the name comes last.  The parsed and
indexed trust anchors are cached until "ROOT" (the ``SCHANNEL_PY_ROOT_CERTS``
file is stat'ed at every validation), any store, or ``extra_roots`` changes.
A leaf that is itself in "ROOT" (a trusted self-signed server certificate, as
Windows allows) skips the structural step.

Name matching (RFC 6125): the target is an IPv4/IPv6 literal (compared with
iPAddress SANs only) or a DNS name (compared, case-insensitively and without a
trailing dot, with dNSName SANs; IDNs are compared in their A-label form).  A
SAN may hold one wildcard, as the whole left-most label, with at least two
labels after it; it matches exactly one label.  The subject CN is never used.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
from collections.abc import Callable, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, PublicKeyAlgorithmOID
from cryptography.x509.verification import Criticality, ExtensionPolicy, PolicyBuilder, Store

from schannel_py.constants import (
    CERT_E_CHAINING,
    CERT_E_CN_NO_MATCH,
    CERT_E_EXPIRED,
    CERT_E_REVOKED,
    CERT_E_UNTRUSTEDCA,
    CERT_E_UNTRUSTEDROOT,
    CERT_E_WRONG_USAGE,
    CRYPT_E_NO_REVOCATION_CHECK,
    CRYPT_E_REVOCATION_OFFLINE,
    CRYPT_E_REVOKED,
    SEC_E_CERT_EXPIRED,
    SEC_E_CERT_UNKNOWN,
    SEC_E_CERT_WRONG_USAGE,
    SEC_E_OK,
    SEC_E_UNTRUSTED_ROOT,
    SEC_E_WRONG_PRINCIPAL,
    TLS1_ALERT_BAD_CERTIFICATE,
    TLS1_ALERT_CERTIFICATE_EXPIRED,
    TLS1_ALERT_CERTIFICATE_REVOKED,
    TLS1_ALERT_CERTIFICATE_UNKNOWN,
    TLS1_ALERT_UNKNOWN_CA,
    TLS1_ALERT_UNSUPPORTED_CERT,
    SecStatus,
)

from ._structure import structure_bits
from ._time import as_utc
from ._x509 import extensions_of, serial_number
from .context import CERT_CONTEXT, _parse_der
from .revocation import CertStatus, RevocationEvent, RevocationParams, check_path
from .store import CertStore, _open_system, _root_base_entries, store_generation

__all__ = ["name_matches", "status_to_alert", "verify_server_chain"]

#: Longest path tried (leaf + intermediates + anchor).
MAX_PATH_LENGTH = 10
#: Paths collected before choosing the best one.
MAX_PATHS = 16
#: Signature checks one validation may spend building paths.
MAX_SIGNATURE_CHECKS = 512

_SERVER_AUTH = ExtendedKeyUsageOID.SERVER_AUTH
_ANY_EKU = ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE

Cert = x509.Certificate


def verify_server_chain(
    chain: Sequence[bytes],
    target_name: str | None,
    now: datetime.datetime,
    check_name: bool = True,
    extra_roots: CertStore | None = None,
    *,
    revocation: RevocationParams | None = None,
    ignore_offline: bool = False,
    ignore_no_check: bool = False,
    staple: bytes | None = None,
    events: list[RevocationEvent] | None = None,
) -> SecStatus:
    """Validate a server's certificate list (leaf first, DER) as SChannel would.

    ``now`` is the validation time (a naive datetime is taken as UTC).  The
    trust anchors are the "ROOT" system store as it is at this call (OS bundle,
    ``SCHANNEL_PY_ROOT_CERTS``, in-process additions) plus ``extra_roots``;
    intermediates come from ``chain[1:]`` and the "CA" store.  The name is not
    checked when ``check_name`` is False or ``target_name`` is None or empty.
    Returns ``SEC_E_OK`` or a failure status (see the module docstring for the
    codes and their precedence).  Never raises.

    ``revocation`` None (the default) checks no revocation at all.  Otherwise a
    trusted path is checked by :mod:`.revocation` (``staple``: the leaf's stapled
    OCSP response; each source consulted is appended to ``events``):
    ``CRYPT_E_REVOKED``, else ``CRYPT_E_REVOCATION_OFFLINE`` unless
    ``ignore_offline``, else ``CRYPT_E_NO_REVOCATION_CHECK`` unless
    ``ignore_no_check``; the name is checked after.
    """
    try:
        return _verify(
            chain, target_name, now, check_name, extra_roots, revocation,
            ignore_offline, ignore_no_check, staple, events,
        )  # fmt: skip
    except Exception:
        return SEC_E_CERT_UNKNOWN


def _der_of(item: Any) -> bytes | None:
    if isinstance(item, CERT_CONTEXT):
        return item.pbCertEncoded
    if isinstance(item, (bytes, bytearray, memoryview)):
        return bytes(item)
    return None


def _verify(
    chain: Sequence[bytes],
    target_name: str | None,
    now: datetime.datetime,
    check_name: bool,
    extra_roots: CertStore | None,
    revocation: RevocationParams | None = None,
    ignore_offline: bool = False,
    ignore_no_check: bool = False,
    staple: bytes | None = None,
    events: list[RevocationEvent] | None = None,
) -> SecStatus:
    if not isinstance(now, datetime.datetime) or isinstance(chain, (bytes, str)):
        return SEC_E_CERT_UNKNOWN
    ders: list[bytes] = []
    for item in chain:
        der = _der_of(item)
        if der is None or _parse_der(der) is None:
            return SEC_E_CERT_UNKNOWN
        ders.append(der)
    if not ders:
        return SEC_E_CERT_UNKNOWN
    when = as_utc(now)

    snap = _anchor_snapshot(extra_roots if isinstance(extra_roots, CertStore) else None)
    leaf_der = ders[0]
    intermediates = _intermediates(leaf_der, ders[1:] + _ca_store_ders(), snap.anchors)
    status, path = select_path(snap, leaf_der, intermediates, when)
    if status != SEC_E_OK or path is None:
        return status
    if revocation is not None:
        verdicts = check_path(path, revocation, when, staple, events)
        status = revocation_status(verdicts, ignore_offline, ignore_no_check)
        if status != SEC_E_OK:
            return status
    if check_name and target_name and not name_matches(path[0], target_name):
        return SEC_E_WRONG_PRINCIPAL
    return SEC_E_OK


def revocation_status(
    verdicts: Sequence[CertStatus], ignore_offline: bool = False, ignore_no_check: bool = False
) -> SecStatus:
    """One status for a path's revocation verdicts: revoked first, then offline, then no check."""
    if "revoked" in verdicts:
        return CRYPT_E_REVOKED
    if "offline" in verdicts and not ignore_offline:
        return CRYPT_E_REVOCATION_OFFLINE
    if "no_check" in verdicts and not ignore_no_check:
        return CRYPT_E_NO_REVOCATION_CHECK
    return SEC_E_OK


def _intermediates(
    leaf_der: bytes, candidates: Sequence[bytes], anchors: dict[bytes, Cert]
) -> dict[bytes, Cert]:
    """The parsed candidate intermediates, without the leaf and the trust anchors."""
    intermediates = _unique(candidates)
    intermediates.pop(leaf_der, None)
    for der in list(intermediates):
        if der in anchors:
            del intermediates[der]
    return intermediates


def select_path(
    snap: _AnchorSnapshot,
    leaf_der: bytes,
    intermediates: dict[bytes, Cert],
    when: datetime.datetime,
    usage_ok: Callable[[Cert], bool] | None = None,
) -> tuple[SecStatus, list[Cert] | None]:
    """The one path choice behind both ISC and CertGetCertificateChain.

    Returns (status, path): ``SEC_E_OK`` with the validated path;
    ``SEC_E_CERT_EXPIRED`` / ``SEC_E_CERT_WRONG_USAGE`` with the best anchored
    path; ``SEC_E_CERT_UNKNOWN`` with the best path when cryptography's RFC 5280
    validation rejects it, or with None when no issuer's signature verified
    somewhere and no path reached an anchor; ``SEC_E_UNTRUSTED_ROOT`` with None
    when no path reaches an anchor.  ``usage_ok`` replaces the serverAuth check
    on the leaf and intermediates (None: ISC's own).
    """
    # Fast path: cryptography's RFC 5280 validation of the presented chain first.
    # When it finds a path and that path passes this module's own time and EKU
    # checks, the diagnostic path builder below would find a path of that rank
    # too and then run this same validation, so its answer is this one.  Any
    # other outcome goes through the path builder, which picks the status.
    # Only for small sets of intermediates with distinct names: cryptography's path
    # search is not bounded like _build_paths (it does not finish on x509-limbo's
    # pathological chains), so a hostile server's pile of certificates goes to
    # the bounded builder first.
    tried = _fast_path_safe(intermediates)
    fast = _validated_chain(snap, leaf_der, intermediates, when) if tried else None
    if fast is not None and _path_status(fast, when, usage_ok) == SEC_E_OK:
        return SEC_E_OK, fast

    paths, signature_failed = _build_paths(leaf_der, intermediates, snap.anchors, snap.by_subject)
    if not paths:
        return (SEC_E_CERT_UNKNOWN if signature_failed else SEC_E_UNTRUSTED_ROOT), None

    ranked = sorted(
        ((_path_status(p, when, usage_ok), p) for p in paths), key=lambda sp: _RANK[sp[0]]
    )
    status, path = ranked[0]
    if status != SEC_E_OK:
        return status, path

    if len(path) > 1:
        if not tried:
            fast = _validated_chain(snap, leaf_der, intermediates, when)
        if fast is None and not _judged_without_cryptography(path):
            return SEC_E_CERT_UNKNOWN, path  # cryptography's RFC 5280 validation rejects it
    return SEC_E_OK, path


def _judged_without_cryptography(path: list[Cert]) -> bool:
    """Does a path cryptography's validation rejected pass on its structure alone?

    Only for a path with a non-positive serial number anywhere, its trust anchor
    included (old roots of the OS bundle have them): cryptography refuses those
    outright, CryptoAPI reads the serial as bytes and accepts them (old CAs, and
    Windows' own CertCreateSelfSignCertificate before KB 945344, made them).
    The signatures were checked when the path was built; what remains is the
    structure CertGetCertificateChain reports.
    """
    if all(serial_number(c) > 0 for c in path):
        return False
    return not any(structure_bits(path))


#: (store generation, DER of the "CA" store's certificates) of the last read.
_CA_DERS: list[tuple[int, list[bytes]]] = []


def _ca_store_ders() -> list[bytes]:
    """The "CA" store's certificates (in-process only, so the generation covers them)."""
    gen = store_generation()
    if _CA_DERS and _CA_DERS[0][0] is gen:
        return _CA_DERS[0][1]
    ca_store = _open_system("CA", readonly=True, create=True)
    ders = [e.der for e in ca_store._entries()] if ca_store is not None else []
    if store_generation() is gen:
        _CA_DERS[:] = [(gen, ders)]
    return ders


def _unique(ders: Sequence[bytes]) -> dict[bytes, Cert]:
    """DER -> parsed certificate, first occurrence kept, unparsable dropped."""
    out: dict[bytes, Cert] = {}
    for der in ders:
        if der not in out:
            cert = _parse_der(der)
            if cert is not None:
                out[der] = cert
    return out


# --- trust anchors ------------------------------------------------------------


class _AnchorSnapshot:
    """The trust anchors of one ("ROOT" contents, extra_roots) state, parsed and indexed."""

    __slots__ = ("key", "anchors", "by_subject", "builder", "by_cert", "anchor_ids")

    def __init__(self, key: tuple[object, ...], anchors: dict[bytes, Cert]) -> None:
        self.key = key
        self.anchors = anchors
        self.by_subject: dict[x509.Name, list[Cert]] = {}
        for cert in anchors.values():
            self.by_subject.setdefault(cert.subject, []).append(cert)
        self.builder: PolicyBuilder | None = None  # the anchors' Store and policies, on first use
        self.by_cert: dict[Cert, Cert] | None = None  # equal certificate -> ours, on first use
        # ids of the anchor objects (alive as long as the snapshot): identity tests.
        self.anchor_ids = frozenset(id(c) for c in anchors.values())


#: The last snapshot built.  Its key holds the objects it was built from (so an
#: id can never be reused while it is cached): the "ROOT" base list (a new list
#: whenever the OS bundle or the SCHANNEL_PY_ROOT_CERTS file changes, which is
#: checked at every open), the store generation (any in-process add or delete)
#: and the extra_roots handle.
_SNAPSHOT: list[_AnchorSnapshot] = []


def _anchor_snapshot(extra_roots: CertStore | None) -> _AnchorSnapshot:
    gen = store_generation()
    cached = _SNAPSHOT[0] if _SNAPSHOT else None
    if (
        cached is not None
        and cached.key[1] is gen
        and cached.key[2] is extra_roots
        and cached.key[0] is _root_base_entries()
    ):
        return cached  # checked without opening a store: the common case
    root = _open_system("ROOT", readonly=True, create=True)
    assert root is not None
    key = (root._base, gen, extra_roots)
    if cached is not None and all(a is b for a, b in zip(cached.key, key, strict=True)):
        return cached
    anchor_ders = [e.der for e in root._entries()]
    if extra_roots is not None:
        anchor_ders.extend(e.der for e in extra_roots._entries())
    snap = _AnchorSnapshot(key, _unique(anchor_ders))
    if store_generation() == gen:  # unchanged while building: safe to keep
        _SNAPSHOT[:] = [snap]
    return snap


# --- path building ----------------------------------------------------------


def _spki(cert: Cert) -> bytes:
    return cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _signed_by(cert: Cert, issuer: Cert) -> bool:
    """Whether ``issuer``'s key verifies ``cert``'s signature.  A DSA issuer never
    does: cryptography deprecates DSA (its path verifier already refuses DSA
    signatures, so such a chain fails either way), and asking it would raise a
    deprecation warning today and an error once DSA is gone."""
    if issuer.public_key_algorithm_oid == PublicKeyAlgorithmOID.DSA:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except Exception:
        return False
    return True


def _build_paths(
    leaf_der: bytes,
    intermediates: dict[bytes, Cert],
    anchors: dict[bytes, Cert],
    anchors_by_subject: dict[x509.Name, list[Cert]] | None = None,
) -> tuple[list[list[Cert]], bool]:
    """Every path (up to MAX_PATHS) from the leaf to a trust anchor, ignoring time and policy.

    Also reports whether some certificate had issuers by name but none whose
    signature verified (a bad signature rather than an unknown issuer).
    """
    leaf = _parse_der(leaf_der)
    assert leaf is not None
    if anchors_by_subject is None:
        anchors_by_subject = {}
        for cert in anchors.values():
            anchors_by_subject.setdefault(cert.subject, []).append(cert)
    inter_by_subject: dict[x509.Name, list[tuple[bytes, Cert]]] = {}
    for der, cert in intermediates.items():
        inter_by_subject.setdefault(cert.subject, []).append((der, cert))

    paths: list[list[Cert]] = []
    signature_failed = False
    budget = MAX_SIGNATURE_CHECKS

    def is_anchor(der: bytes, cert: Cert) -> bool:
        if der in anchors:
            return True
        if cert.issuer != cert.subject:
            return False
        # A re-encoded copy of a trusted root (same name, same key) is that root.
        same_name = anchors_by_subject.get(cert.subject, [])
        return bool(same_name) and any(_spki(a) == _spki(cert) for a in same_name)

    def walk(path: list[Cert], seen: set[bytes], der: bytes) -> None:
        nonlocal signature_failed, budget
        cert = path[-1]
        if len(paths) >= MAX_PATHS:
            return
        if is_anchor(der, cert):
            paths.append(list(path))
            return
        if len(path) >= MAX_PATH_LENGTH:
            return
        if cert.issuer == cert.subject and _signed_by(cert, cert):
            return  # a self-signed root that is not trusted: the end of this path
        candidates: list[tuple[bytes | None, Cert]] = [
            (None, a) for a in anchors_by_subject.get(cert.issuer, [])
        ]
        candidates += [(d, c) for d, c in inter_by_subject.get(cert.issuer, []) if d not in seen]
        any_signed = False
        for cand_der, cand in candidates:
            if budget <= 0:
                break
            budget -= 1
            if not _signed_by(cert, cand):
                continue
            any_signed = True
            if cand_der is None:
                if len(paths) < MAX_PATHS:
                    paths.append([*path, cand])
            else:
                walk([*path, cand], seen | {cand_der}, cand_der)
        if candidates and not any_signed and budget > 0:
            signature_failed = True

    walk([leaf], {leaf_der}, leaf_der)
    return paths, signature_failed


# --- checks on a path ---------------------------------------------------------

_RANK: dict[int, int] = {SEC_E_OK: 0, SEC_E_CERT_WRONG_USAGE: 1, SEC_E_CERT_EXPIRED: 2}


def _time_valid(cert: Cert, when: datetime.datetime) -> bool:
    not_before, not_after = _validity(cert)
    return not_before <= when <= not_after


T = TypeVar("T")
P = ParamSpec("P")

#: Most answers kept per identity cache before it starts afresh.
IDENTITY_CACHE_SIZE = 256


def _by_identity(fn: Callable[Concatenate[Cert, P], T]) -> Callable[Concatenate[Cert, P], T]:
    """Cache ``fn``'s answer per certificate *object* (and its other, hashable,
    positional arguments).

    The certificates checked here are the parsed-certificate cache's objects
    (the same DER gives the same object), and hashing a cryptography
    Certificate hashes its whole DER (~1 us, several times per validation).
    An entry keeps its certificate alive, so its id cannot be reused while
    the entry exists.
    """
    memo: dict[tuple[int, tuple[object, ...]], tuple[Cert, T]] = {}

    def cached(cert: Cert, /, *args: P.args, **kwargs: P.kwargs) -> T:
        if kwargs:
            return fn(cert, *args, **kwargs)
        key = (id(cert), args)
        hit = memo.get(key)
        if hit is not None and hit[0] is cert:
            return hit[1]
        value = fn(cert, *args, **kwargs)
        if len(memo) >= IDENTITY_CACHE_SIZE:
            memo.clear()
        memo[key] = (cert, value)
        return value

    return cached


@_by_identity
def _validity(cert: Cert) -> tuple[datetime.datetime, datetime.datetime]:
    """A certificate's validity period (decoded once per certificate object)."""
    return cert.not_valid_before_utc, cert.not_valid_after_utc


@_by_identity
def _usage_ok(cert: Cert) -> bool:
    """No EKU extension, or one listing serverAuth or anyExtendedKeyUsage."""
    try:
        eku = extensions_of(cert).get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return _SERVER_AUTH in eku or _ANY_EKU in eku


def _path_status(
    path: list[Cert], when: datetime.datetime, usage_ok: Callable[[Cert], bool] | None = None
) -> SecStatus:
    """Expired beats wrong usage on one path; the trust anchor's EKU is not checked."""
    if not all(_time_valid(c, when) for c in path):
        return SEC_E_CERT_EXPIRED
    checked = path if len(path) == 1 else path[:-1]
    if not all((usage_ok or _usage_ok)(c) for c in checked):
        return SEC_E_CERT_WRONG_USAGE
    return SEC_E_OK


@functools.lru_cache(maxsize=1)
def _extension_policies() -> tuple[ExtensionPolicy, ExtensionPolicy]:
    """Web PKI defaults, minus what this module checks itself (SAN, EKU)."""
    ca = ExtensionPolicy.webpki_defaults_ca().may_be_present(
        x509.ExtendedKeyUsage, Criticality.AGNOSTIC, None
    )
    ee = (
        ExtensionPolicy.webpki_defaults_ee()
        .may_be_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, None)
        .may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, None)
    )
    return ca, ee


#: Most intermediates (presented + "CA" store) for validating with cryptography first.
MAX_FAST_INTERMEDIATES = 8


def _fast_path_safe(intermediates: dict[bytes, Cert]) -> bool:
    """Few intermediates, no two with the same subject: a path search that cannot blow up."""
    if len(intermediates) > MAX_FAST_INTERMEDIATES:
        return False
    if len(intermediates) < 2:
        return True  # no two subjects to collide (and x509.Name hashes in Python)
    return len({c.subject for c in intermediates.values()}) == len(intermediates)


def _validated_chain(
    snap: _AnchorSnapshot,
    leaf_der: bytes,
    intermediates: dict[bytes, Cert],
    when: datetime.datetime,
) -> list[Cert] | None:
    """The path cryptography's verifier builds and validates from the leaf, or None.

    The client verifier is used because it checks no name and its EKU demand
    is replaced here (SAN and EKU are left to this module), which makes it a
    plain RFC 5280 path validator.
    """
    leaf = _parse_der(leaf_der)
    if leaf is None:
        return None
    builder = snap.builder
    if builder is None:
        if not snap.anchors:  # an exclusive chain engine with no anchors
            return None
        # Everything but the time, once per snapshot (each builder call returns
        # a new builder, so this one is never changed).
        ca_policy, ee_policy = _extension_policies()
        builder = snap.builder = (
            PolicyBuilder()
            .store(Store(list(snap.anchors.values())))
            .extension_policies(ca_policy=ca_policy, ee_policy=ee_policy)
        )
    verifier = builder.time(when).build_client_verifier()
    given = list(intermediates.values())
    try:
        chain = verifier.verify(leaf, given).chain
    except Exception:
        return None
    # The checks after want the cached objects (extensions and dates already
    # decoded).  cryptography 48 hands back the very objects it was given;
    # other versions may return equal copies, mapped back through hashing.
    if all(c is leaf or any(c is g for g in given) or id(c) in snap.anchor_ids for c in chain):
        return list(chain)
    if snap.by_cert is None:
        snap.by_cert = {c: c for c in snap.anchors.values()}
    ours = {c: c for c in given}
    ours[leaf] = leaf
    return [ours.get(c) or snap.by_cert.get(c) or c for c in chain]


# --- names ----------------------------------------------------------------------

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _normalize_target(target: str) -> IPAddress | str | None:
    """An IP address, or a lower-case A-label DNS name without trailing dot; None if unusable."""
    text = target.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        pass
    if text.endswith("."):
        text = text[:-1]
    if not text or "*" in text:
        return None
    if not text.isascii():
        try:
            text = text.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return text.lower()


def _dns_matches(pattern: str, host: str) -> bool:
    pattern = pattern.lower()
    if pattern.endswith("."):
        pattern = pattern[:-1]
    if "*" not in pattern:
        return pattern == host
    labels = pattern.split(".")
    if labels[0] != "*" or len(labels) < 3 or any("*" in label for label in labels[1:]):
        return False
    host_labels = host.split(".")
    return (
        len(host_labels) == len(labels) and host_labels[0] != "" and host_labels[1:] == labels[1:]
    )


def name_matches(cert: x509.Certificate, target_name: str) -> bool:
    """Does ``target_name`` (DNS name or IP literal) match the certificate's SAN?

    RFC 6125 rules as described in the module docstring; no CN fallback.
    Answers are cached: a pure function of an immutable certificate and a name.
    """
    if type(target_name) is not str:
        return _name_matches(cert, target_name)
    return _cached_name_matches(cert, target_name)


def _name_matches(cert: x509.Certificate, target_name: str) -> bool:
    target = _normalize_target(target_name)
    if target is None:
        return False
    try:
        san = extensions_of(cert).get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    if isinstance(target, str):
        return any(_dns_matches(p, target) for p in san.get_values_for_type(x509.DNSName))
    return any(ip == target for ip in san.get_values_for_type(x509.IPAddress))


# --- alerts -----------------------------------------------------------------------

_ALERTS: dict[int, int] = {
    SEC_E_UNTRUSTED_ROOT: TLS1_ALERT_UNKNOWN_CA,
    CERT_E_UNTRUSTEDROOT: TLS1_ALERT_UNKNOWN_CA,
    CERT_E_UNTRUSTEDCA: TLS1_ALERT_UNKNOWN_CA,
    CERT_E_CHAINING: TLS1_ALERT_UNKNOWN_CA,
    SEC_E_CERT_EXPIRED: TLS1_ALERT_CERTIFICATE_EXPIRED,
    CERT_E_EXPIRED: TLS1_ALERT_CERTIFICATE_EXPIRED,
    SEC_E_WRONG_PRINCIPAL: TLS1_ALERT_CERTIFICATE_UNKNOWN,
    CERT_E_CN_NO_MATCH: TLS1_ALERT_CERTIFICATE_UNKNOWN,
    SEC_E_CERT_WRONG_USAGE: TLS1_ALERT_UNSUPPORTED_CERT,
    CERT_E_WRONG_USAGE: TLS1_ALERT_UNSUPPORTED_CERT,
    CRYPT_E_REVOKED: TLS1_ALERT_CERTIFICATE_REVOKED,
    CERT_E_REVOKED: TLS1_ALERT_CERTIFICATE_REVOKED,
    CRYPT_E_NO_REVOCATION_CHECK: TLS1_ALERT_CERTIFICATE_UNKNOWN,
    CRYPT_E_REVOCATION_OFFLINE: TLS1_ALERT_CERTIFICATE_UNKNOWN,
    # "An unknown error occurred while processing the certificate": certificate_unknown
    # ("some other issue"), the alert that SChannel maps back to this code (section 0.4).
    SEC_E_CERT_UNKNOWN: TLS1_ALERT_CERTIFICATE_UNKNOWN,
}


_cached_name_matches = _by_identity(_name_matches)


def status_to_alert(status: int) -> int:
    """The TLS alert a client sends when validation fails with ``status``.

    untrusted root -> unknown_ca (48); expired -> certificate_expired (45);
    wrong principal -> certificate_unknown (46, as OpenSSL sends for a host
    mismatch); wrong usage -> unsupported_certificate (43); revoked ->
    certificate_revoked (44); revocation unknown and SEC_E_CERT_UNKNOWN ->
    certificate_unknown (46); the CERT_E_* forms of these likewise; anything
    else -> bad_certificate (42).  Never raises.
    """
    try:
        return _ALERTS.get(int(status), TLS1_ALERT_BAD_CERTIFICATE)
    except Exception:
        return TLS1_ALERT_BAD_CERTIFICATE
