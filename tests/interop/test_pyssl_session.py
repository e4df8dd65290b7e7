"""schannel_py.ssl beyond the data path, each compared with Python's own ``ssl`` on the
same loopback server (or with the RFC): ``session`` / ``session_reused`` and explicit
resumption, ``get_channel_binding`` ("tls-unique" as CPython gives it,
"tls-server-end-point" per RFC 5929), ``set_ciphers`` / ``get_ciphers``,
``post_handshake_auth`` and ``shared_ciphers``.
"""

from __future__ import annotations

import hashlib
import socket
import ssl
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

import schannel_py
from schannel_py import ssl as sch_ssl
from schannel_py.testing.pki import make_leaf
from tests.support import peers

pytestmark = pytest.mark.interop

TIMEOUT = 10.0
TLS = pytest.mark.parametrize("tls13", [True, False], ids=["tls13", "tls12"])


def context(ca: Path) -> sch_ssl.SSLContext:
    ctx = sch_ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=ca)
    return ctx


def python_context(ca: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca))


def connect(
    port: int, ctx: ssl.SSLContext, session: Any = None, hostname: str = "localhost"
) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    return ctx.wrap_socket(raw, server_hostname=hostname, session=session)


def get_page(sock: ssl.SSLSocket, close: bool = True) -> bytes:
    """s_server -www's page; the tickets it sent are read on the way."""
    sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    if close:
        sock.close()
    return data


def www(pki: peers.ServerPki, tls13: bool, **kwargs: Any) -> peers.OpenSSLServer:
    return peers.OpenSSLServer(
        **pki.ecdsa.server_kwargs(), tls13=tls13, tls12=not tls13, www=True, **kwargs
    )


# --- session / session_reused --------------------------------------------------------------


@TLS
def test_session_attributes_as_cpython(pki: peers.ServerPki, tls13: bool) -> None:
    """Before the handshake, after it, and once the page (and the tickets) are read."""
    found = []
    with www(pki, tls13) as srv:
        for ctx in (context(pki.root_ca), python_context(pki.root_ca)):
            raw = socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT)
            sock = ctx.wrap_socket(raw, server_hostname="localhost", do_handshake_on_connect=False)
            before = sock.session
            sock.do_handshake()
            s = sock.session
            assert s is not None
            handshake = (s.has_ticket, s.ticket_lifetime_hint, len(s.id))
            get_page(sock, close=False)
            s = sock.session
            sock.close()
            assert s is not None and s == s and not (s != s)
            with pytest.raises(TypeError):
                hash(s)
            found.append((before, handshake, s.has_ticket, s.ticket_lifetime_hint, len(s.id)))
            assert s.timeout == 7200  # s_server's ticket lifetime (OpenSSL's default)
            assert abs(s.time - time.time()) < 60
    mine, theirs = found
    assert mine == theirs
    assert mine[0] is None and mine[2] is True


@TLS
def test_explicit_session_resumes(pki: peers.ServerPki, tls13: bool) -> None:
    """A session given back to wrap_socket(session=) / sock.session = is offered and
    resumed, after SChannel's cache was emptied (so nothing else could resume it)."""
    ctx = context(pki.root_ca)
    with www(pki, tls13) as srv:
        first = connect(srv.port, ctx)
        assert not first.session_reused
        assert b"New, " in get_page(first, close=False)
        session = first.session
        first.close()
        assert session is not None and session.has_ticket
        schannel_py.SslEmptyCache(None)
        plain = connect(srv.port, ctx)
        assert not plain.session_reused
        assert b"New, " in get_page(plain)
        schannel_py.SslEmptyCache(None)
        again = connect(srv.port, ctx, session=session)
        assert again.session_reused
        assert b"Reused, " in get_page(again)
        # The setter, before SSLSocket.connect, as CPython allows it.
        schannel_py.SslEmptyCache(None)
        sock = ctx.wrap_socket(socket.socket(), server_hostname="localhost")
        sock.session = session
        sock.settimeout(TIMEOUT)
        sock.connect(("127.0.0.1", srv.port))
        assert sock.session_reused
        assert b"Reused, " in get_page(sock)


def test_foreign_sessions_raise_as_cpython(pki: peers.ServerPki) -> None:
    """Not a session: TypeError; another context's: ValueError; after the handshake:
    ValueError; CPython's messages, for its objects and for ours."""
    results = []
    with www(pki, True) as srv:
        for make in (context, python_context):
            ctx, other = make(pki.root_ca), make(pki.root_ca)
            first = connect(srv.port, ctx)
            get_page(first, close=False)
            session = first.session
            first.close()
            errors: list[tuple[str, str]] = []
            for value, target in ((None, ctx), (b"x", ctx), (session, other)):
                try:
                    target.wrap_bio(
                        ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="localhost",
                        session=value,
                    ).session = value  # fmt: skip
                except (TypeError, ValueError) as e:
                    errors.append((type(e).__name__, str(e)))
            done = connect(srv.port, ctx)
            try:
                done.session = session
            except ValueError as e:
                errors.append((type(e).__name__, str(e)))
            get_page(done)
            results.append(errors)
    assert (
        results[0]
        == results[1]
        == [
            ("TypeError", "Value is not a SSLSession."),
            ("TypeError", "Value is not a SSLSession."),
            ("ValueError", "Session refers to a different SSLContext."),
            ("ValueError", "Cannot set session after handshake."),
        ]
    )


# --- channel bindings -----------------------------------------------------------------------


def binding_server(pki: peers.ServerPki, tls13: bool, connections: int) -> peers.PythonTLSServer:
    """Python's ssl server, recording its own tls-unique for each connection."""

    def handler(conn: ssl.SSLSocket, record: peers.ConnectionRecord) -> None:
        record.received += conn.get_channel_binding("tls-unique") or b""
        conn.sendall(b"ok\n")
        try:
            conn.recv(1)  # until the client closes (without close_notify)
        except ssl.SSLEOFError:
            pass

    version = ssl.TLSVersion.TLSv1_3 if tls13 else ssl.TLSVersion.TLSv1_2
    return peers.PythonTLSServer(
        **pki.ecdsa.server_kwargs(), min_version=version, max_version=version,
        handler=handler, max_connections=connections, num_tickets=2,
    )  # fmt: skip


@TLS
def test_tls_unique_while_observed(pki: peers.ServerPki, tmp_path: Path, tls13: bool) -> None:
    """With keylog_filename set (an SSPI observer watches the handshake) as without."""
    ctx = context(pki.root_ca)
    ctx.keylog_filename = str(tmp_path / "keys.log")
    with binding_server(pki, tls13, 1) as srv:
        sock = connect(srv.port, ctx)
        assert sock.recv(3) == b"ok\n"
        mine = sock.get_channel_binding("tls-unique")
        sock.close()
        (record,) = srv.wait_connections(1, timeout=TIMEOUT)
    assert mine is not None and mine == bytes(record.received)


@TLS
def test_tls_unique_as_cpython(pki: peers.ServerPki, tls13: bool) -> None:
    """CPython gives a client and its server the same tls-unique (RFC 5929: the first
    Finished; TLS 1.3 under OpenSSL 3: the client's Finished for a new session, the
    server's on resumption).  Ours must equal the Python server's, new and resumed,
    as Python's own client does."""
    length = 48 if tls13 else 12  # TLS_AES_256_GCM_SHA384's hash / TLS 1.2 verify_data
    for make in (context, python_context):
        ctx = make(pki.root_ca)
        with binding_server(pki, tls13, 2) as srv:
            mine = []
            for i in range(2):
                sock = connect(srv.port, ctx, session=mine[0][2] if i else None)
                assert sock.recv(3) == b"ok\n"
                mine.append((sock.get_channel_binding("tls-unique"), sock.session_reused,
                             sock.session))  # fmt: skip
                sock.close()
            records = srv.wait_connections(2, timeout=TIMEOUT)
        assert [r.error for r in records] == [None, None]
        assert [r.session_reused for r in records] == [False, True]
        assert [m[1] for m in mine] == [False, True]
        for (binding, _, _), record in zip(mine, records, strict=True):
            assert binding is not None and len(binding) == length
            assert binding == bytes(record.received)
        assert mine[0][0] != mine[1][0]


@TLS
def test_tls_server_end_point_rfc5929(pki: peers.ServerPki, tls13: bool) -> None:
    """RFC 5929 4.1: the hash of the server's certificate, with its signature's hash
    (SHA-256 for MD5 / SHA-1).  CPython does not implement it (ValueError)."""
    cert = x509.load_pem_x509_certificate(pki.ecdsa.cert.read_bytes())
    algorithm = cert.signature_hash_algorithm
    name = "sha256" if algorithm is None or algorithm.name in ("md5", "sha1") else algorithm.name
    expected = hashlib.new(name, cert.public_bytes(Encoding.DER)).digest()
    with www(pki, tls13) as srv:
        sock = connect(srv.port, context(pki.root_ca))
        assert sock.get_channel_binding("tls-server-end-point") == expected
        with pytest.raises(ValueError, match="'tls-bogus' channel binding type not implemented"):
            sock.get_channel_binding("tls-bogus")
        get_page(sock)
        theirs = connect(srv.port, python_context(pki.root_ca))
        with pytest.raises(ValueError, match="'tls-server-end-point'"):
            theirs.get_channel_binding("tls-server-end-point")
        get_page(theirs)
    unwrapped = context(pki.root_ca).wrap_bio(
        ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="localhost"
    )
    assert unwrapped.get_channel_binding() is None
    assert unwrapped.get_channel_binding("tls-server-end-point") is None


# --- set_ciphers / get_ciphers ----------------------------------------------------------------


@pytest.mark.parametrize(
    "cipherlist",
    [
        "ECDHE+AESGCM",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "HIGH:!aNULL:!CHACHA20:!AES256",
        "ECDHE+CHACHA20:ECDHE+AESGCM",
    ],
)
def test_set_ciphers_chooses_as_openssl(pki: peers.ServerPki, cipherlist: str) -> None:
    """TLS 1.2 against s_server (which follows the client's order): the suite chosen is
    one OpenSSL's client allows for the same string, and get_ciphers() lists exactly
    the package's suites among those, with OpenSSL's own descriptions."""
    ctx = context(pki.root_ca)
    ctx.set_ciphers(cipherlist)
    theirs = python_context(pki.root_ca)
    theirs.set_ciphers(cipherlist)
    allowed = {c["name"]: c for c in theirs.get_ciphers() if c["protocol"] == "TLSv1.2"}
    listed = [c for c in ctx.get_ciphers() if c["protocol"] == "TLSv1.2"]
    package = set(sch_ssl._SUITE_SHAPES)
    assert {c["name"] for c in listed} == set(allowed) & package
    for entry in listed:
        assert entry == allowed[entry["name"]]
    tls13 = [c["name"] for c in ctx.get_ciphers() if c["protocol"] == "TLSv1.3"]
    assert tls13 and all(n.startswith("TLS_") for n in tls13)
    with www(pki, False) as srv:
        sock = connect(srv.port, ctx)
        cipher = sock.cipher()
        get_page(sock)
    assert cipher is not None and cipher[0] in allowed


def test_set_ciphers_disables_for_tls13_too(pki: peers.ServerPki) -> None:
    """As SChannel's CRYPTO_SETTINGS: "!CHACHA20" leaves TLS_CHACHA20_POLY1305_SHA256
    out of the TLS 1.3 offer too, so a server that insists on it fails the handshake."""
    ctx = context(pki.root_ca)
    ctx.set_ciphers("ECDHE+AESGCM")
    names = [c["name"] for c in ctx.get_ciphers()]
    assert "TLS_CHACHA20_POLY1305_SHA256" not in names
    with www(pki, True, ciphersuites="TLS_CHACHA20_POLY1305_SHA256") as srv:
        with pytest.raises(ssl.SSLError):
            connect(srv.port, ctx)
        sock = connect(srv.port, context(pki.root_ca))
        assert sock.cipher() == ("TLS_CHACHA20_POLY1305_SHA256", "TLSv1.3", 256)
        get_page(sock)


@pytest.mark.parametrize("cipherlist", ["RC4", "AES128-SHA", "aRSA+AES128:aECDSA+AES256"])
def test_set_ciphers_nothing_left(cipherlist: str) -> None:
    """Nothing of this package's (AEAD, ECDHE, TLS 1.2+) left, or a choice CRYPTO_SETTINGS
    cannot make: CPython's SSLError, and the context keeps its previous list."""
    ctx = sch_ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.set_ciphers("ECDHE+AESGCM")
    before = ctx.get_ciphers()
    with pytest.raises(ssl.SSLError, match="No cipher can be selected") as mine:
        ctx.set_ciphers(cipherlist)
    assert ctx.get_ciphers() == before
    if cipherlist == "RC4":
        with pytest.raises(ssl.SSLError) as theirs:
            ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).set_ciphers(cipherlist)
        assert mine.value.args == theirs.value.args == ("No cipher can be selected.",)


# --- post_handshake_auth / shared_ciphers -------------------------------------------------------


def pha_server(pki: peers.ServerPki) -> peers.PythonTLSServer:
    """Python's ssl server (TLS 1.3) asking for a client certificate after the handshake;
    records the subject it got."""

    def handler(conn: ssl.SSLSocket, record: peers.ConnectionRecord) -> None:
        conn.recv(6)  # "hello\n"
        try:
            conn.verify_client_post_handshake()
        except ssl.SSLError as e:
            record.received += f"refused: {e.reason}\n".encode()
            conn.sendall(bytes(record.received))
            return
        conn.sendall(b"certificate please\n")  # carries the CertificateRequest
        conn.recv(5)  # "more\n": the client's Certificate came before it
        cert = conn.getpeercert()
        subject = dict(rdn[0] for rdn in cert["subject"]) if cert else {}
        record.received += f"subject: {subject.get('commonName')}\n".encode()
        conn.sendall(bytes(record.received))

    srv = peers.PythonTLSServer(
        **pki.ecdsa.server_kwargs(), min_version=ssl.TLSVersion.TLSv1_3,
        handler=handler, max_connections=1,
    )  # fmt: skip
    srv.context.verify_mode = ssl.CERT_REQUIRED
    srv.context.post_handshake_auth = True  # only after the handshake
    srv.context.load_verify_locations(cafile=str(pki.root_ca))
    return srv


def pha_exchange(port: int, ctx: ssl.SSLContext) -> bytes:
    with connect(port, ctx) as sock:
        sock.sendall(b"hello\n")
        got = b""
        while b"\n" not in got:
            got += sock.recv(100)
        if got.startswith(b"refused"):
            return got
        sock.sendall(b"more\n")
        answer = b""
        while b"\n" not in answer:
            answer += sock.recv(100)
        return answer


@pytest.mark.parametrize("pha", [True, False])
def test_post_handshake_auth(pki: peers.ServerPki, tmp_path: Path, pha: bool) -> None:
    """post_handshake_auth = True offers it, and the server's CertificateRequest after
    the handshake is answered with the loaded certificate; False (the default) does not
    offer it, and the server's request fails as with Python's own client."""
    issued = make_leaf(
        pki.intermediate, dns_names=(), common_name="pha client", eku=("clientAuth",)
    )
    paths = issued.write(tmp_path, "client-")
    answers = []
    for make in (context, python_context):
        ctx = make(pki.root_ca)
        assert ctx.post_handshake_auth is False
        ctx.post_handshake_auth = pha
        ctx.load_cert_chain(paths.fullchain, paths.key)
        with pha_server(pki) as srv:
            answers.append(pha_exchange(srv.port, ctx))
            srv.wait_connections(1, timeout=TIMEOUT)
    assert answers[0] == answers[1]
    if pha:
        assert answers[0] == b"subject: pha client\n"
    else:
        assert answers[0].startswith(b"refused: ")


def test_shared_ciphers_as_cpython_client(pki: peers.ServerPki) -> None:
    with www(pki, True) as srv:
        found = []
        for ctx in (context(pki.root_ca), python_context(pki.root_ca)):
            sock = connect(srv.port, ctx)
            found.append(sock.shared_ciphers())
            get_page(sock)
    assert found[0] == found[1]
