"""Revocation test kit: an HTTP repository on loopback and a PKI whose certificates name it.

:class:`HttpRepo` serves CRLs and OCSP responses from 127.0.0.1 (a route is
bytes, an HTTP status, :data:`HANG` (the request is read, no answer comes) or
a callable of the request); it records each request.  :func:`closed_url`
names a loopback port nobody listens on ("offline").  :func:`make_rev_pki`
builds root -> intermediate -> leaf where the intermediate and the leaf carry
CDP and/or AIA (OCSP) URLs on such a repository.  :func:`staple_property`
reads the OCSP staple SChannel kept on the server's certificate.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import schannel_py as sc
from schannel_py import crypt32
from schannel_py.testing.pki import Issued, make_ca, make_leaf, revocation_info
from tests.support import peers

#: A route that reads the request and never answers (until the server stops).
HANG = "hang"

Route = bytes | int | str | Callable[[str, str, bytes], bytes]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes


class HttpRepo:
    """A tiny HTTP/1.0 server on 127.0.0.1 (use as a context manager)."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self._stop = threading.Event()
        repo = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                repo.requests.append(Request(self.command, self.path, body))
                route = repo.route_for(self.path)
                if route is None:
                    self.send_error(404)
                    return
                if route == HANG:
                    repo._stop.wait(30)
                    return
                if isinstance(route, int):
                    self.send_error(route)
                    return
                data = route(self.command, self.path, body) if callable(route) else route
                assert isinstance(data, bytes)
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _serve
            do_POST = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def route_for(self, path: str) -> Route | None:
        """The route of the longest prefix of ``path`` (an OCSP GET appends to its base)."""
        best = max((k for k in self.routes if path.startswith(k)), key=len, default=None)
        return self.routes[best] if best is not None else None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def hits(self, prefix: str) -> int:
        return sum(1 for r in self.requests if r.path.startswith(prefix))

    def stop(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> HttpRepo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def der_tlv(tag: int, body: bytes) -> bytes:
    """One DER TLV: ``tag``, the definite length of ``body``, ``body``."""
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + body


def big_crl(issuer: Issued, entries: int) -> bytes:
    """A real, signed CRL by ``issuer`` (a P-256 CA) with ``entries`` revoked serials,
    encoded by hand (cryptography's builder takes half a minute for a few MB)."""
    import datetime

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    assert isinstance(issuer.key, ec.EllipticCurvePrivateKey)
    now = datetime.datetime.now(datetime.timezone.utc)

    def utc(when: datetime.datetime) -> bytes:
        return der_tlv(0x17, when.strftime("%y%m%d%H%M%SZ").encode())

    alg = bytes.fromhex("300a06082a8648ce3d040302")  # ecdsa-with-SHA256
    date = utc(now - datetime.timedelta(days=1))
    revoked = b"".join(
        der_tlv(0x30, der_tlv(0x02, (0x4000_0000 + i).to_bytes(4, "big")) + date)
        for i in range(entries)
    )
    tbs = der_tlv(
        0x30,
        der_tlv(0x02, b"\x01")
        + alg
        + issuer.cert.subject.public_bytes()
        + date
        + utc(now + datetime.timedelta(days=7))
        + der_tlv(0x30, revoked),
    )
    signature = issuer.key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    return der_tlv(0x30, tbs + alg + der_tlv(0x03, b"\x00" + signature))


def closed_url(path: str = "/x.crl") -> str:
    """An http URL on a loopback port with no listener: connections are refused."""
    return f"http://127.0.0.1:{peers.free_port()}{path}"


@dataclass(frozen=True, eq=False)
class RevPki:
    """root -> intermediate -> leaf, and where their revocation information points."""

    root: Issued
    intermediate: Issued
    leaf: Issued
    urls: dict[str, list[str]] = field(default_factory=dict)

    @property
    def chain_der(self) -> list[bytes]:
        return [self.leaf.der, self.intermediate.der]

    @property
    def path(self) -> list[Any]:
        return [self.leaf.cert, self.intermediate.cert, self.root.cert]


def make_rev_pki(
    *,
    leaf_crl: list[str] | None = None,
    leaf_ocsp: list[str] | None = None,
    inter_crl: list[str] | None = None,
    inter_ocsp: list[str] | None = None,
    root_crl: list[str] | None = None,
    dns_names: tuple[str, ...] = ("localhost",),
) -> RevPki:
    """A PKI whose leaf and intermediate name the given CRL / OCSP URLs (none: no extension)."""
    root = make_ca(
        "schannel_py Revocation Root",
        extra_extensions=revocation_info(root_crl or ()),
    )
    inter = make_ca(
        "schannel_py Revocation Intermediate",
        issuer=root,
        path_length=0,
        extra_extensions=revocation_info(inter_crl or (), inter_ocsp or ()),
    )
    leaf = make_leaf(
        inter,
        dns_names=dns_names,
        ip_addresses=("127.0.0.1",),
        extra_extensions=revocation_info(leaf_crl or (), leaf_ocsp or ()),
    )
    urls = {
        "leaf_crl": leaf_crl or [],
        "leaf_ocsp": leaf_ocsp or [],
        "inter_crl": inter_crl or [],
        "inter_ocsp": inter_ocsp or [],
    }
    return RevPki(root, inter, leaf, urls)


def staple_property(ctx: sc.CtxtHandle) -> bytes | None:
    """CERT_OCSP_RESPONSE_PROP_ID of the server's certificate (C's two calls), or None."""
    leaf: Any = sc.ULONG()
    status = sc.QueryContextAttributes(ctx, sc.SECPKG_ATTR_REMOTE_CERT_CONTEXT, leaf)
    assert status == sc.SEC_E_OK, status
    size = crypt32.DWORD()
    if not crypt32.CertGetCertificateContextProperty(
        leaf.value, crypt32.CERT_OCSP_RESPONSE_PROP_ID, None, size
    ):
        assert crypt32.GetLastError() == sc.CRYPT_E_NOT_FOUND
        return None
    buf = bytearray(size.value)
    assert crypt32.CertGetCertificateContextProperty(
        leaf.value, crypt32.CERT_OCSP_RESPONSE_PROP_ID, buf, size
    )
    return bytes(buf[: size.value])
