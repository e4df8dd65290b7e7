"""schannel_py extension: the certificate verify callback (SECPKG_ATTR_PY_VERIFY_CALLBACK).

In memory against Python's ``ssl`` server (MemoryBIO): the callback's verdict
becomes ISC's status, and its alert reaches the server under the keys the
server reads with at that point (TLS 1.3: the client handshake traffic key;
TLS 1.2: a plaintext record with version 0x0303) -- the server decoding it and
naming the alert is the proof.  Plus one ``openssl s_server`` loopback check.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import schannel_py as sc
from schannel_py import crypt32, stream
from schannel_py.sspi import cache as K
from schannel_py.testing import acquire_credential
from schannel_py.testing.memserver import MemoryServer
from tests.support import peers
from tests.support.sspi_driver import CURL_FLAGS, CurlLoop, no_unexpected_exceptions

TLS12, TLS13 = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3
VERSIONS = pytest.mark.parametrize("version", [TLS13, TLS12], ids=["tls13", "tls12"])


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    K.CACHE.flush()
    yield
    K.CACHE.flush()


def server_context(cert: peers.ServerCert, version: ssl.TLSVersion) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ctx.maximum_version = version
    ctx.load_cert_chain(cert.fullchain, cert.key)
    return ctx


def new_loop(
    ctx: ssl.SSLContext, cred: sc.CredHandle | None = None, flags: int = CURL_FLAGS
) -> CurlLoop:
    return CurlLoop(MemoryServer.for_context(ctx), cred or acquire_credential(), flags=flags)


def set_callback(
    loop: CurlLoop, fn: Callable[[crypt32.CERT_CONTEXT], object] | None, on_resumption: bool = False
) -> sc.SecStatus:
    info = sc.SecPkgContext_PyVerifyCallback(pfnCallback=fn, fOnResumption=on_resumption)
    return sc.SetContextAttributes(loop.ctx, sc.SECPKG_ATTR_PY_VERIFY_CALLBACK, info, 0)


def run(loop: CurlLoop, fn: Callable[[crypt32.CERT_CONTEXT], object] | None, **kw: bool) -> int:
    """First ISC, install the callback, then the rest of the handshake."""
    loop.encdata += loop.server.feed(loop.first_call())
    assert set_callback(loop, fn, **kw) == sc.SEC_E_OK
    with no_unexpected_exceptions():
        return loop.handshake_from_step()


class Recorder:
    """A callback that records the leaves it saw and answers ``verdict``."""

    def __init__(self, verdict: object = sc.SEC_E_OK) -> None:
        self.verdict = verdict
        self.leaves: list[bytes] = []
        self.stores: list[list[bytes]] = []

    def __call__(self, leaf: crypt32.CERT_CONTEXT) -> object:
        self.leaves.append(leaf.pbCertEncoded)
        self.stores.append(all_in_store(leaf))
        return self.verdict


def all_in_store(leaf: crypt32.CERT_CONTEXT) -> list[bytes]:
    found: list[bytes] = []
    ctx = crypt32.CertEnumCertificatesInStore(leaf.hCertStore, None)
    while ctx is not None:
        found.append(ctx.pbCertEncoded)
        ctx = crypt32.CertEnumCertificatesInStore(leaf.hCertStore, ctx)
    return found


def check_alert_record(record: bytes, version: ssl.TLSVersion) -> None:
    """TLS 1.3: the compatibility CCS, then the alert protected (outer type
    application_data; RFC 8446 D.4); TLS 1.2: plaintext fatal alert, 0x0303."""
    assert record[1:3] == b"\x03\x03"
    if version == TLS13:
        assert record[:6] == b"\x14\x03\x03\x00\x01\x01"
        assert record[6] == 23 and len(record) > 13
    else:
        assert record[0] == 21 and record[5] == sc.TLS1_ALERT_FATAL and len(record) == 7


def assert_dead(loop: CurlLoop, status: int) -> None:
    """The context stays failed: another ISC returns the same status."""
    assert loop.step()[0] == status


# --- the verdict -------------------------------------------------------------------------


@VERSIONS
def test_rejection_is_the_status_and_certificate_unknown_reaches_the_server(
    pki: peers.ServerPki, root_certs_env: Path, version: ssl.TLSVersion
) -> None:
    calls = Recorder(sc.SEC_E_CERT_UNKNOWN)
    loop = new_loop(server_context(pki.ecdsa, version))
    status = run(loop, calls)
    assert status == sc.SEC_E_CERT_UNKNOWN and repr(status) == "SEC_E_CERT_UNKNOWN"
    assert len(calls.leaves) == 1
    check_alert_record(loop.last_alert, version)
    if version == TLS12:
        assert loop.last_alert[6] == sc.TLS1_ALERT_CERTIFICATE_UNKNOWN
    with pytest.raises(ssl.SSLError, match="(?i)certificate.unknown"):
        loop.server.feed(loop.last_alert)
    assert_dead(loop, sc.SEC_E_CERT_UNKNOWN)


@VERSIONS
def test_explicit_alert(
    pki: peers.ServerPki, root_certs_env: Path, version: ssl.TLSVersion
) -> None:
    loop = new_loop(server_context(pki.ecdsa, version))
    status = run(loop, lambda leaf: (sc.SEC_E_CERT_UNKNOWN, sc.TLS1_ALERT_HANDSHAKE_FAILURE))
    assert status == sc.SEC_E_CERT_UNKNOWN
    check_alert_record(loop.last_alert, version)
    with pytest.raises(ssl.SSLError, match="(?i)handshake.failure"):
        loop.server.feed(loop.last_alert)


def test_any_failure_status_is_returned_as_is(pki: peers.ServerPki, root_certs_env: Path) -> None:
    loop = new_loop(server_context(pki.ecdsa, TLS13))
    assert run(loop, lambda leaf: sc.SEC_E_UNTRUSTED_ROOT) == sc.SEC_E_UNTRUSTED_ROOT
    with pytest.raises(ssl.SSLError, match="(?i)unknown.ca"):  # status_to_alert's choice
        loop.server.feed(loop.last_alert)
    loop = new_loop(server_context(pki.ecdsa, TLS13))
    assert run(loop, lambda leaf: -2146893017) == sc.SEC_E_CERT_UNKNOWN  # signed LONG form


@VERSIONS
def test_exception_is_internal_error(
    pki: peers.ServerPki, root_certs_env: Path, version: ssl.TLSVersion
) -> None:
    def boom(leaf: crypt32.CERT_CONTEXT) -> int:
        raise RuntimeError("application bug")

    loop = new_loop(server_context(pki.ecdsa, version))
    assert run(loop, boom) == sc.SEC_E_INTERNAL_ERROR
    check_alert_record(loop.last_alert, version)
    with pytest.raises(ssl.SSLError, match="(?i)internal.error"):
        loop.server.feed(loop.last_alert)
    assert_dead(loop, sc.SEC_E_INTERNAL_ERROR)


@pytest.mark.parametrize(
    "verdict",
    [
        None,
        "SEC_E_OK",
        True,
        1.0,
        (sc.SEC_E_CERT_UNKNOWN,),
        (sc.SEC_E_CERT_UNKNOWN, 46, 1),
        (sc.SEC_E_CERT_UNKNOWN, 256),
        (sc.SEC_E_CERT_UNKNOWN, -1),
        (sc.SEC_E_CERT_UNKNOWN, "46"),
        (sc.SEC_E_CERT_UNKNOWN, False),
        [sc.SEC_E_CERT_UNKNOWN, 46],
        sc.SEC_I_CONTINUE_NEEDED,  # a success code other than SEC_E_OK cannot fail ISC
        1 << 40,
    ],
    ids=repr,
)
def test_malformed_answer_is_internal_error(
    pki: peers.ServerPki, root_certs_env: Path, verdict: object
) -> None:
    loop = new_loop(server_context(pki.ecdsa, TLS13))
    assert run(loop, lambda leaf: verdict) == sc.SEC_E_INTERNAL_ERROR
    with pytest.raises(ssl.SSLError, match="(?i)internal.error"):
        loop.server.feed(loop.last_alert)


@VERSIONS
def test_leaf_and_chain_and_acceptance(
    pki: peers.ServerPki, root_certs_env: Path, version: ssl.TLSVersion
) -> None:
    remote: list[object] = []

    def check(leaf: crypt32.CERT_CONTEXT) -> int:
        # The package's own view is readable from inside the callback.
        holder = sc.PVOID()
        status = sc.QueryContextAttributes(loop.ctx, sc.SECPKG_ATTR_REMOTE_CERT_CONTEXT, holder)
        remote.append((status, holder.value.pbCertEncoded if holder.value else None))
        return calls(leaf)  # type: ignore[return-value]

    calls = Recorder(sc.SEC_E_OK)
    loop = new_loop(server_context(pki.ecdsa, version))
    assert run(loop, check) == sc.SEC_E_OK
    issued = pki.ecdsa.issued
    assert calls.leaves == [issued.der]
    assert set(calls.stores[0]) == {issued.der, pki.intermediate.der}
    assert remote == [(sc.SEC_E_OK, issued.der)]
    loop.server.feed(loop.encrypt(b"hi"))
    assert loop.server.read() == b"hi"


def test_called_only_after_the_package_validation_passed(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    # Auto validation rejects the name: the callback is never asked.
    calls = Recorder(sc.SEC_E_OK)
    loop = new_loop(server_context(pki.wrong_name, TLS13))
    assert run(loop, calls) == sc.SEC_E_WRONG_PRINCIPAL
    assert calls.leaves == []
    # Validation passes: the callback has the last word.
    calls = Recorder(sc.SEC_E_CERT_UNKNOWN)
    loop = new_loop(server_context(pki.ecdsa, TLS13))
    assert run(loop, calls) == sc.SEC_E_CERT_UNKNOWN
    assert calls.leaves == [pki.ecdsa.issued.der]


@pytest.mark.parametrize("how", ["isc_flag", "credential_flag"])
def test_manual_validation_leaves_the_callback_alone(
    pki: peers.ServerPki, root_certs_env: Path, how: str
) -> None:
    def make() -> CurlLoop:
        ctx = server_context(pki.untrusted, TLS12)
        if how == "isc_flag":
            return new_loop(ctx, flags=CURL_FLAGS | sc.ISC_REQ_MANUAL_CRED_VALIDATION)
        return new_loop(ctx, acquire_credential(manual_validation=True))

    accept = Recorder(sc.SEC_E_OK)
    assert run(make(), accept) == sc.SEC_E_OK
    assert accept.leaves == [pki.untrusted.issued.der]
    reject = Recorder(sc.SEC_E_UNTRUSTED_ROOT)
    loop = make()
    assert run(loop, reject) == sc.SEC_E_UNTRUSTED_ROOT
    with pytest.raises(ssl.SSLError, match="(?i)unknown.ca"):
        loop.server.feed(loop.last_alert)


def test_replace_and_remove(pki: peers.ServerPki, root_certs_env: Path) -> None:
    first, second = Recorder(sc.SEC_E_CERT_UNKNOWN), Recorder(sc.SEC_E_OK)
    loop = new_loop(server_context(pki.ecdsa, TLS13))
    loop.encdata += loop.server.feed(loop.first_call())
    assert set_callback(loop, first) == sc.SEC_E_OK
    assert set_callback(loop, second) == sc.SEC_E_OK
    assert loop.handshake_from_step() == sc.SEC_E_OK
    assert first.leaves == [] and len(second.leaves) == 1

    removed = Recorder(sc.SEC_E_CERT_UNKNOWN)
    loop = new_loop(server_context(pki.ecdsa, TLS13))
    loop.encdata += loop.server.feed(loop.first_call())
    assert set_callback(loop, removed) == sc.SEC_E_OK
    assert set_callback(loop, None) == sc.SEC_E_OK
    assert loop.handshake_from_step() == sc.SEC_E_OK
    assert removed.leaves == []


def test_bad_setter_arguments(pki: peers.ServerPki, root_certs_env: Path) -> None:
    loop = new_loop(server_context(pki.ecdsa, TLS13))
    loop.first_call()
    attr = sc.SECPKG_ATTR_PY_VERIFY_CALLBACK
    with no_unexpected_exceptions():
        assert sc.SetContextAttributes(loop.ctx, attr, object(), 0) == sc.SEC_E_INVALID_PARAMETER
        bad_fn = sc.SecPkgContext_PyVerifyCallback(pfnCallback=42)  # type: ignore[arg-type]
        assert sc.SetContextAttributes(loop.ctx, attr, bad_fn, 0) == sc.SEC_E_INVALID_PARAMETER
        bad_flag = sc.SecPkgContext_PyVerifyCallback(print, "yes")  # type: ignore[arg-type]
        assert sc.SetContextAttributes(loop.ctx, attr, bad_flag, 0) == sc.SEC_E_INVALID_PARAMETER
        assert sc.SetContextAttributes(loop.ctx, attr, None, 0) == sc.SEC_E_INTERNAL_ERROR
        good = sc.SecPkgContext_PyVerifyCallback(print)
        assert sc.SetContextAttributes(None, attr, good, 0) == sc.SEC_E_INVALID_HANDLE
        # As a query it is not an attribute.
        assert sc.QueryContextAttributes(loop.ctx, attr, good) == sc.SEC_E_UNSUPPORTED_FUNCTION


def test_callback_may_not_reenter_the_handshake(pki: peers.ServerPki, root_certs_env: Path) -> None:
    seen: list[sc.SecStatus] = []

    def reenter(leaf: crypt32.CERT_CONTEXT) -> int:
        out = sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None)])
        seen.append(
            sc.InitializeSecurityContext(
                loop.cred, loop.ctx, "localhost", CURL_FLAGS, 0, 0, None, 0, None, out, None, None
            )
        )
        desc = sc.SecBufferDesc([sc.SecBuffer(4, sc.SECBUFFER_TOKEN, b"\x01\x00\x00\x00")])
        seen.append(sc.ApplyControlToken(loop.ctx, desc))
        return sc.SEC_E_OK

    loop = new_loop(server_context(pki.ecdsa, TLS13))
    assert run(loop, reenter) == sc.SEC_E_OK
    assert seen == [sc.SEC_E_INTERNAL_ERROR, sc.SEC_E_INTERNAL_ERROR]


# --- resumption --------------------------------------------------------------------------


def connect(ctx: ssl.SSLContext, cred: sc.CredHandle) -> CurlLoop:
    """A full connection that leaves its session in the cache (tickets read through ISC)."""
    loop = new_loop(ctx, cred)
    assert loop.handshake() == sc.SEC_E_OK
    loop.encdata += loop.server.write(b"pong")
    assert loop.decrypt_all()[0] == b"pong"
    return loop


@VERSIONS
@pytest.mark.parametrize("verdict", ["accept", "reject", "not_asked"])
def test_resumption(
    pki: peers.ServerPki, root_certs_env: Path, version: ssl.TLSVersion, verdict: str
) -> None:
    ctx, cred = server_context(pki.ecdsa, version), acquire_credential()
    connect(ctx, cred)
    calls = Recorder(sc.SEC_E_CERT_UNKNOWN if verdict == "reject" else sc.SEC_E_OK)
    loop = new_loop(ctx, cred)
    status = run(loop, calls, on_resumption=verdict != "not_asked")
    if verdict == "not_asked":
        assert status == sc.SEC_E_OK and loop.server.tls.session_reused
        assert calls.leaves == []
        return
    # Called once, with the certificate kept with the session (no Certificate was sent).
    assert calls.leaves == [pki.ecdsa.issued.der]
    assert pki.intermediate.der in calls.stores[0]
    if verdict == "accept":
        assert status == sc.SEC_E_OK and loop.server.tls.session_reused
        loop.server.feed(loop.encrypt(b"resumed"))
        assert loop.server.read() == b"resumed"
        return
    assert status == sc.SEC_E_CERT_UNKNOWN
    check_alert_record(loop.last_alert, version)
    with pytest.raises(ssl.SSLError, match="(?i)certificate.unknown"):
        loop.server.feed(loop.last_alert)
    assert not loop.server.handshake_done


def test_full_handshake_calls_the_callback_even_with_on_resumption(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    calls = Recorder(sc.SEC_E_OK)
    loop = new_loop(server_context(pki.ecdsa, TLS13))
    assert run(loop, calls, on_resumption=True) == sc.SEC_E_OK
    assert len(calls.leaves) == 1 and not loop.server.tls.session_reused


# --- openssl s_server --------------------------------------------------------------------


@pytest.mark.interop
@pytest.mark.parametrize("tls13", [True, False], ids=["tls13", "tls12"])
def test_openssl_receives_certificate_unknown(
    pki: peers.ServerPki, root_certs_env: Path, tls13: bool
) -> None:
    calls = Recorder(sc.SEC_E_CERT_UNKNOWN)
    installed: list[int] = []

    def install(event: str, details: dict[str, object]) -> None:
        # The first ISC has created the context: install the callback before the
        # server's reply is processed.
        if event == "isc" and not installed:
            installed.append(set_callback_on(s.ctx, calls))

    with peers.OpenSSLServer(**pki.ecdsa.server_kwargs(), tls13=tls13, tls12=not tls13) as srv:
        sock = socket.create_connection(srv.address, timeout=5.0)
        try:
            s = stream.SChannelStream(sock, "localhost", acquire_credential(), tracer=install)
            with pytest.raises(stream.SChannelError) as failure:
                s.handshake()
            assert failure.value.status == sc.SEC_E_CERT_UNKNOWN
            assert installed == [sc.SEC_E_OK]
            assert calls.leaves == [pki.ecdsa.issued.der]
            # s_server decrypted the alert (TLS 1.3: under the client handshake key).
            srv.wait_for_output(r"SSL alert number 46\b", start=srv.ready_offset)
        finally:
            sock.close()


def set_callback_on(ctx: sc.CtxtHandle, fn: Callable[[crypt32.CERT_CONTEXT], object]) -> int:
    info = sc.SecPkgContext_PyVerifyCallback(pfnCallback=fn)
    return sc.SetContextAttributes(ctx, sc.SECPKG_ATTR_PY_VERIFY_CALLBACK, info, 0)


def test_delete_from_inside_the_callback_ends_the_handshake_cleanly(
    pki: peers.ServerPki, root_certs_env: Path
) -> None:
    """DeleteSecurityContext called by the callback on its own context: the running
    ISC ends with a status, no exception, and the handle is gone afterwards."""
    loop = new_loop(server_context(pki.ecdsa, TLS13))
    deleted: list[sc.SecStatus] = []

    def delete_own_context(cert: crypt32.CERT_CONTEXT) -> bool:
        deleted.append(sc.DeleteSecurityContext(loop.ctx))
        return True

    status = run(loop, delete_own_context)
    assert deleted == [sc.SEC_E_OK]
    assert status != sc.SEC_E_OK
    assert sc.DeleteSecurityContext(loop.ctx) == sc.SEC_E_INVALID_HANDLE
