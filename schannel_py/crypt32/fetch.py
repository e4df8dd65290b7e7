"""URL retrieval for revocation checks: CRLs and OCSP responses over plain HTTP.

Every fetch of the revocation engine goes through one *fetcher*, a callable
taking a :class:`FetchRequest` and returning the body or raising
:class:`FetchError`.  The default, :func:`http_fetch`, speaks HTTP/1.1 with the
standard library; :func:`set_fetcher` replaces it process-wide (tests, or
users who must never touch the network: :func:`offline_fetcher`).

Bounds, as Windows' URL retrieval has them: a timeout per URL (the default,
:data:`DEFAULT_TIMEOUT`, is Windows' 15 seconds; ``dwUrlRetrievalTimeout``
overrides it per chain), a size limit per kind of object, and only ``http``
URLs, redirects included.  Proxies from the environment are not used: the
request goes straight to the host the certificate names.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_CRL_SIZE",
    "MAX_OCSP_SIZE",
    "FetchError",
    "FetchRequest",
    "Fetcher",
    "get_fetcher",
    "http_fetch",
    "offline_fetcher",
    "set_default_timeout",
    "set_fetcher",
]

#: Seconds one URL may take (Windows' default dwUrlRetrievalTimeout is 15 000 ms).
DEFAULT_TIMEOUT = 15.0
#: Largest CRL accepted, in bytes.
MAX_CRL_SIZE = 2 * 1024 * 1024
#: Largest OCSP response accepted, in bytes.
MAX_OCSP_SIZE = 64 * 1024
#: Redirects followed per fetch.
MAX_REDIRECTS = 4

_CHUNK = 65536


class FetchError(Exception):
    """A URL could not be retrieved (unreachable, timeout, HTTP error, too large, bad URL)."""


@dataclass(frozen=True)
class FetchRequest:
    """One retrieval: ``method`` "GET" or "POST" (``body`` and ``content_type`` for POST)."""

    url: str
    method: str = "GET"
    body: bytes | None = None
    content_type: str | None = None
    accept: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    max_size: int = MAX_CRL_SIZE


Fetcher = Callable[[FetchRequest], bytes]


def is_fetchable(url: str) -> bool:
    """An absolute ``http`` URL with a host: the only kind retrieved."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() == "http" and bool(parts.hostname)


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        if not is_fetchable(newurl):
            raise FetchError(f"redirect to a non-HTTP URL refused: {newurl[:200]!r}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _HttpOnlyRedirects())


def http_fetch(request: FetchRequest) -> bytes:
    """Retrieve ``request.url`` over HTTP within its timeout and size limit."""
    if not is_fetchable(request.url):
        raise FetchError(f"not an http URL: {request.url[:200]!r}")
    headers = {"User-Agent": "schannel_py-CryptoAPI/1.0", "Connection": "close"}
    if request.content_type:
        headers["Content-Type"] = request.content_type
    if request.accept:
        headers["Accept"] = request.accept
    req = urllib.request.Request(
        request.url, data=request.body, headers=headers, method=request.method
    )
    deadline = time.monotonic() + request.timeout
    try:
        with _OPENER.open(req, timeout=request.timeout) as resp:
            length = resp.headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) > request.max_size:
                raise FetchError(f"{length} bytes: over the {request.max_size}-byte limit")
            body = bytearray()
            while True:
                if time.monotonic() > deadline:
                    raise FetchError(f"timed out after {request.timeout:g} s")
                chunk = resp.read(_CHUNK)
                if not chunk:
                    break
                body += chunk
                if len(body) > request.max_size:
                    raise FetchError(f"over the {request.max_size}-byte limit")
            return bytes(body)
    except FetchError:
        raise
    except urllib.error.HTTPError as e:
        raise FetchError(f"HTTP {e.code}") from None
    except (OSError, ValueError, urllib.error.URLError) as e:
        reason = getattr(e, "reason", e)
        raise FetchError(f"{type(reason).__name__}: {reason}") from None
    except Exception as e:  # http.client's protocol errors and the like
        raise FetchError(f"{type(e).__name__}: {e}") from None


def offline_fetcher(request: FetchRequest) -> bytes:
    """A fetcher that never connects: every URL is unreachable."""
    raise FetchError(f"offline: {request.url[:200]!r} not retrieved")


_lock = threading.Lock()
_state: dict[str, Any] = {"fetcher": http_fetch, "timeout": DEFAULT_TIMEOUT}


def set_fetcher(fetcher: Fetcher | None) -> Fetcher:
    """Use ``fetcher`` for every retrieval from now on (None: :func:`http_fetch`);
    returns the one it replaces."""
    with _lock:
        previous: Fetcher = _state["fetcher"]
        _state["fetcher"] = fetcher if fetcher is not None else http_fetch
    return previous


def get_fetcher() -> Fetcher:
    """The fetcher in use."""
    fetcher: Fetcher = _state["fetcher"]
    return fetcher


def set_default_timeout(seconds: float | None) -> float:
    """The per-URL timeout when the caller gives none (None: back to 15 s); returns the old one."""
    with _lock:
        previous: float = _state["timeout"]
        _state["timeout"] = float(seconds) if seconds else DEFAULT_TIMEOUT
    return previous


def default_timeout() -> float:
    """The per-URL timeout used when the caller gives none."""
    value: float = _state["timeout"]
    return value
