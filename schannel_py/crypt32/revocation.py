"""The revocation engine behind ISC's revocation flags and CertGetCertificateChain's.

Theory of operation
-------------------

A check starts from a validated path (leaf first, trust anchor last) and a
*scope*, what the caller's flag covers (docs/windows-behaviour.md section 9):

* ``"end"`` (SCH_CRED_REVOCATION_CHECK_END_CERT, CERT_CHAIN_REVOCATION_CHECK_END_CERT):
  the leaf only;
* ``"chain"`` (..._CHECK_CHAIN): every certificate, the self-signed root too;
* ``"chain_exclude_root"`` (..._CHECK_CHAIN_EXCLUDE_ROOT): all but a self-signed root.

Each certificate in scope is judged with its issuer (the next certificate;
a self-signed root is its own issuer) from these sources, in this order,
stopping at the first that gives an answer ("good" or "revoked"):

1. the stapled OCSP response (the leaf only; what the server sent in the
   handshake, or CERT_OCSP_RESPONSE_PROP_ID on the leaf's context);
2. the process-wide cache: OCSP responses and CRLs fetched earlier (until
   their nextUpdate) or preloaded with :func:`preload_ocsp_response` /
   :func:`preload_crl`;
3. the OCSP responders of the AIA extension (GET per RFC 5019 when the
   request fits in 255 bytes, POST otherwise);
4. the HTTP URLs of the CRL distribution points (DER or PEM).

Sources 3 and 4 are skipped in cache-only mode.  A staple, response or CRL that
is malformed, badly signed, stale or about another certificate is skipped, as
if it were absent.  The certificate's status is then one of:

* ``"revoked"``: a verified source lists it;
* ``"good"``: a verified source vouches for it, or it is a self-signed root
  naming no revocation source (then nothing, not even the cache, is consulted:
  roots are trusted, not checked);
* ``"no_check"``: it names no source at all (no CDP, no OCSP URL) and nothing
  is cached or stapled for it, or a responder answered "unknown" and nothing
  else answered (CRYPT_E_NO_REVOCATION_CHECK, CERT_TRUST_REVOCATION_STATUS_UNKNOWN);
* ``"offline"``: it names sources, but none gave a usable answer: unreachable,
  timed out, too large, unusable data, or not fetched in cache-only mode
  (CRYPT_E_REVOCATION_OFFLINE, + CERT_TRUST_IS_OFFLINE_REVOCATION).

Every source consulted is recorded as a :class:`RevocationEvent` (which
certificate, which source and URL, the result, from the cache or the network),
which the SSPI trace shows.  Retrieval goes through :mod:`.fetch` (the
injectable fetcher, per-URL timeout, size limits).  Nothing here raises.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp as x509_ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID

from . import fetch
from ._x509 import extensions_of, serial_number
from .crl import evaluate_crl, load_crl
from .ocsp import build_request, evaluate_response, request_url

__all__ = [
    "CertStatus",
    "RevocationEvent",
    "RevocationParams",
    "Scope",
    "check_path",
    "clear_cache",
    "preload_crl",
    "preload_ocsp_response",
]

Scope = Literal["end", "chain", "chain_exclude_root"]
CertStatus = Literal["good", "revoked", "no_check", "offline", "not_checked"]

Cert = x509.Certificate
_DER = Encoding.DER

#: Most cached CRLs and OCSP responses each; the oldest go first.
MAX_CACHE_ENTRIES = 256


@dataclass(frozen=True)
class RevocationParams:
    """What to check and how: the scope, cache-only mode, the per-URL timeout (seconds;
    None: :func:`fetch.default_timeout`)."""

    scope: Scope = "chain"
    cache_only: bool = False
    timeout: float | None = None


@dataclass(frozen=True)
class RevocationEvent:
    """One source consulted for one certificate."""

    subject: str
    source: str  # "staple", "ocsp", "crl" or "none"
    url: str | None
    result: str  # "good", "revoked", "unknown", "invalid", "offline", "skipped", "no source"
    from_cache: bool = False
    detail: str = ""


# --- the cache ------------------------------------------------------------------------


@dataclass
class _CachedCrl:
    url: str | None
    crl: x509.CertificateRevocationList
    next_update: datetime.datetime | None


@dataclass
class _Cache:
    lock: threading.Lock = field(default_factory=threading.Lock)
    crls: list[_CachedCrl] = field(default_factory=list)
    # serial number -> (url or None, DER response, nextUpdate)
    responses: dict[int, list[tuple[str | None, bytes, datetime.datetime | None]]] = field(
        default_factory=dict
    )


_CACHE = _Cache()


def clear_cache() -> None:
    """Forget every cached and preloaded CRL and OCSP response."""
    with _CACHE.lock:
        _CACHE.crls.clear()
        _CACHE.responses.clear()


def _store_crl(url: str | None, crl: x509.CertificateRevocationList) -> None:
    with _CACHE.lock:
        _CACHE.crls[:] = [
            c
            for c in _CACHE.crls
            if not (
                (url is not None and c.url == url)
                or c.crl.public_bytes(_DER) == crl.public_bytes(_DER)
            )
        ]
        _CACHE.crls.append(_CachedCrl(url, crl, crl.next_update_utc))
        del _CACHE.crls[:-MAX_CACHE_ENTRIES]


def _store_response(
    url: str | None, serial: int, der: bytes, next_update: datetime.datetime | None
) -> None:
    with _CACHE.lock:
        entries = [e for e in _CACHE.responses.get(serial, []) if e[1] != der]
        entries.append((url, der, next_update))
        _CACHE.responses[serial] = entries[-4:]
        while len(_CACHE.responses) > MAX_CACHE_ENTRIES:
            del _CACHE.responses[next(iter(_CACHE.responses))]


def preload_crl(data: bytes, url: str | None = None) -> bool:
    """Put a CRL (DER or PEM) in the cache, as if fetched from ``url``; False if unparsable.

    It is used for any certificate of its issuer (checked then: signature, times)."""
    crl = load_crl(data)
    if crl is None:
        return False
    _store_crl(url, crl)
    return True


def preload_ocsp_response(der: bytes, url: str | None = None) -> bool:
    """Put a DER OCSP response in the cache; False if it is not a successful response."""
    try:
        resp = x509_ocsp.load_der_ocsp_response(bytes(der))
        if resp.response_status != x509_ocsp.OCSPResponseStatus.SUCCESSFUL:
            return False
        singles = list(resp.responses)
    except Exception:
        return False
    for single in singles:
        _store_response(url, single.serial_number, bytes(der), single.next_update_utc)
    return True


def _cached_crls(issuer: Cert, now: datetime.datetime) -> list[_CachedCrl]:
    with _CACHE.lock:
        _CACHE.crls[:] = [c for c in _CACHE.crls if c.next_update is None or c.next_update >= now]
        return [c for c in _CACHE.crls if c.crl.issuer == issuer.subject]


def _cached_responses(
    serial: int, now: datetime.datetime
) -> list[tuple[str | None, bytes, datetime.datetime | None]]:
    with _CACHE.lock:
        entries = [e for e in _CACHE.responses.get(serial, []) if e[2] is None or e[2] >= now]
        if entries:
            _CACHE.responses[serial] = entries
        else:
            _CACHE.responses.pop(serial, None)
        return list(entries)


# --- what a certificate names ---------------------------------------------------------


def _uris(names: Iterable[x509.GeneralName]) -> list[str]:
    return [n.value for n in names if isinstance(n, x509.UniformResourceIdentifier)]


def ocsp_urls(cert: Cert) -> list[str]:
    """The OCSP responder URLs of the AIA extension."""
    try:
        aia = extensions_of(cert).get_extension_for_class(x509.AuthorityInformationAccess).value
    except Exception:
        return []
    return _uris(
        d.access_location for d in aia if d.access_method == AuthorityInformationAccessOID.OCSP
    )


def crl_urls(cert: Cert) -> list[str]:
    """The full-name URLs of the CRL distribution points."""
    try:
        cdp = extensions_of(cert).get_extension_for_class(x509.CRLDistributionPoints).value
    except Exception:
        return []
    urls: list[str] = []
    for point in cdp:
        if point.full_name:
            urls += _uris(point.full_name)
    return urls


def _subject(cert: Cert) -> str:
    try:
        return cert.subject.rfc4514_string()
    except Exception:
        return "?"


def _self_signed(cert: Cert) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except Exception:
        return False
    return True


# --- checking one certificate -----------------------------------------------------------


class _Checker:
    def __init__(
        self,
        params: RevocationParams,
        now: datetime.datetime,
        events: list[RevocationEvent],
    ) -> None:
        self.params = params
        self.now = now
        self.events = events
        timeout = params.timeout if params.timeout else fetch.default_timeout()
        self.timeout = max(0.001, float(timeout))
        self.fetcher = fetch.get_fetcher()

    def note(
        self,
        cert: Cert,
        source: str,
        url: str | None,
        result: str,
        from_cache: bool = False,
        detail: str = "",
    ) -> None:
        self.events.append(RevocationEvent(_subject(cert), source, url, result, from_cache, detail))

    def _fetch(self, request: fetch.FetchRequest) -> bytes | str:
        try:
            return self.fetcher(request)
        except fetch.FetchError as e:
            return str(e) or "unreachable"
        except Exception as e:  # a user's fetcher that fails otherwise
            return f"{type(e).__name__}: {e}"

    def check(self, cert: Cert, issuer: Cert, staple: bytes | None) -> CertStatus:
        now = self.now
        if staple is not None:
            verdict = evaluate_response(staple, cert, issuer, now)
            self.note(cert, "staple", None, verdict.status, False, verdict.reason)
            if verdict.status in ("good", "revoked"):
                return verdict.status

        for url, der, _ in _cached_responses(serial_number(cert), now):
            verdict = evaluate_response(der, cert, issuer, now)
            if verdict.status in ("good", "revoked"):
                self.note(cert, "ocsp", url, verdict.status, True, verdict.reason)
                return verdict.status
        cached_crls = _cached_crls(issuer, now)
        if cert is issuer:  # a root: only the CRLs its own distribution points name
            cached_crls = [c for c in cached_crls if c.url in crl_urls(cert)]
        for cached in cached_crls:
            crl_verdict = evaluate_crl(cached.crl, cert, issuer, now)
            if crl_verdict.status in ("good", "revoked"):
                self.note(cert, "crl", cached.url, crl_verdict.status, True, crl_verdict.reason)
                return crl_verdict.status

        responders = ocsp_urls(cert)
        distribution = crl_urls(cert)
        if not responders and not distribution:
            self.note(cert, "none", None, "no source", False, "no CDP and no OCSP URL")
            return "no_check"
        if self.params.cache_only:
            for url in responders:
                self.note(cert, "ocsp", url, "skipped", False, "cache only")
            for url in distribution:
                self.note(cert, "crl", url, "skipped", False, "cache only")
            return "offline"

        unknown = False
        for url in responders:
            result = self._ask_responder(cert, issuer, url)
            if result in ("good", "revoked"):
                return result  # type: ignore[return-value]
            unknown = unknown or result == "unknown"
        for url in distribution:
            result = self._read_crl(cert, issuer, url)
            if result in ("good", "revoked"):
                return result  # type: ignore[return-value]
        return "no_check" if unknown else "offline"

    def _ask_responder(self, cert: Cert, issuer: Cert, url: str) -> str:
        if not fetch.is_fetchable(url):
            self.note(cert, "ocsp", url, "offline", False, "not an http URL")
            return "offline"
        try:
            request = build_request(cert, issuer)
        except Exception as e:
            self.note(cert, "ocsp", url, "invalid", False, f"no request: {type(e).__name__}")
            return "invalid"
        get_url = request_url(url, request)
        if get_url is not None:
            req = fetch.FetchRequest(
                get_url,
                "GET",
                accept="application/ocsp-response",
                timeout=self.timeout,
                max_size=fetch.MAX_OCSP_SIZE,
            )
        else:
            req = fetch.FetchRequest(
                url,
                "POST",
                request,
                "application/ocsp-request",
                "application/ocsp-response",
                self.timeout,
                fetch.MAX_OCSP_SIZE,
            )
        body = self._fetch(req)
        if isinstance(body, str):
            self.note(cert, "ocsp", url, "offline", False, body)
            return "offline"
        verdict = evaluate_response(body, cert, issuer, self.now)
        self.note(cert, "ocsp", url, verdict.status, False, verdict.reason)
        if verdict.status in ("good", "revoked") and verdict.next_update is not None:
            _store_response(url, serial_number(cert), body, verdict.next_update)
        return verdict.status

    def _read_crl(self, cert: Cert, issuer: Cert, url: str) -> str:
        if not fetch.is_fetchable(url):
            self.note(cert, "crl", url, "offline", False, "not an http URL")
            return "offline"
        body = self._fetch(
            fetch.FetchRequest(url, "GET", timeout=self.timeout, max_size=fetch.MAX_CRL_SIZE)
        )
        if isinstance(body, str):
            self.note(cert, "crl", url, "offline", False, body)
            return "offline"
        crl = load_crl(body)
        if crl is None:
            self.note(cert, "crl", url, "invalid", False, "not a CRL (DER or PEM)")
            return "invalid"
        verdict = evaluate_crl(crl, cert, issuer, self.now)
        self.note(cert, "crl", url, verdict.status, False, verdict.reason)
        if verdict.status in ("good", "revoked") and verdict.next_update is not None:
            _store_crl(url, crl)
        return verdict.status


def _in_scope(scope: Scope, index: int, path: Sequence[Cert]) -> bool:
    if scope == "end":
        return index == 0
    if scope == "chain_exclude_root":
        is_root = index == len(path) - 1 and index > 0 and _self_signed(path[index])
        return not is_root
    return True


def check_path(
    path: Sequence[Cert],
    params: RevocationParams,
    now: datetime.datetime,
    staple: bytes | None = None,
    events: list[RevocationEvent] | None = None,
) -> list[CertStatus]:
    """The revocation status of each certificate of ``path`` (leaf first).

    Certificates outside the scope are "not_checked".  ``staple`` is an OCSP
    response for the leaf.  Each source consulted is appended to ``events``.
    Never raises: an internal failure makes the certificates in scope "offline".
    """
    sink: list[RevocationEvent] = events if events is not None else []
    statuses: list[CertStatus] = ["not_checked"] * len(path)
    try:
        when = now if now.tzinfo is not None else now.replace(tzinfo=datetime.timezone.utc)
        when = when.astimezone(datetime.timezone.utc)
        checker = _Checker(params, when, sink)
        for i, cert in enumerate(path):
            if not _in_scope(params.scope, i, path):
                continue
            issuer: Cert | None = path[i + 1] if i + 1 < len(path) else None
            root = issuer is None and _self_signed(cert)
            if root:
                issuer = cert
            if issuer is None:
                checker.note(cert, "none", None, "no source", False, "issuer not found")
                statuses[i] = "no_check"
                continue
            if root and not ocsp_urls(cert) and not crl_urls(cert):
                checker.note(cert, "none", None, "good", False, "a root without revocation sources")
                statuses[i] = "good"
                continue
            statuses[i] = checker.check(cert, issuer, staple if i == 0 and staple else None)
    except Exception as e:
        sink.append(RevocationEvent("?", "none", None, "offline", False, f"{type(e).__name__}"))
        for i in range(len(path)):
            if _in_scope(params.scope, i, path) and statuses[i] not in ("good", "revoked"):
                statuses[i] = "offline"
    return statuses
