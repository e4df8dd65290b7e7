"""SSPI rules from docs/windows-behaviour.md, sections 0.4 to 5.

Every test asserts behaviour a Windows SChannel client shows (or that real
callers such as curl, schannel-rs and Wine's tests rely on): status codes,
buffer types and sizes written back, handles written or left alone, and the
bytes that reach the server.  The server is Python's ssl over memory BIOs
(:class:`memserver.MemoryServer`), so every record the package produces is
checked by an independent TLS implementation.
"""

from __future__ import annotations

import ssl
import struct
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

import schannel_py as sc
from schannel_py.testing import acquire_credential
from schannel_py.testing.memserver import MemoryServer
from schannel_py.tls.messages import ClientHello
from tests.support import peers
from tests.support.sspi_driver import CURL_FLAGS, CurlLoop

EXT_SERVER_NAME = 0
EXT_ALPN = 16
WINE_FLAGS = sc.ISC_REQ_CONFIDENTIALITY | sc.ISC_REQ_STREAM | sc.ISC_REQ_USE_SUPPLIED_CREDS

pytestmark = pytest.mark.usefixtures("root_certs_env")


# --- helpers --------------------------------------------------------------------------


def records(data: bytes) -> list[bytes]:
    """Split a byte string of whole TLS records."""
    out = []
    pos = 0
    while pos < len(data):
        assert len(data) - pos >= 5, "trailing partial record header"
        n = 5 + int.from_bytes(data[pos + 3 : pos + 5], "big")
        assert len(data) - pos >= n, "trailing partial record"
        out.append(data[pos : pos + n])
        pos += n
    return out


def ach(
    auth: object = None,
    use: int = sc.SECPKG_CRED_OUTBOUND,
    package: str | None = sc.UNISP_NAME,
) -> tuple[sc.SecStatus, sc.CredHandle]:
    cred = sc.CredHandle()
    status = sc.AcquireCredentialsHandle(
        None, package, use, None, auth, None, None, cred, sc.TimeStamp()
    )
    return status, cred


def v4(**kw: object) -> sc.SCHANNEL_CRED:
    return sc.SCHANNEL_CRED(dwVersion=sc.SCHANNEL_CRED_VERSION, **kw)  # type: ignore[arg-type]


def supported_protocols(cred: sc.CredHandle) -> int:
    info = sc.SecPkgCred_SupportedProtocols()
    assert (
        sc.QueryCredentialsAttributes(cred, sc.SECPKG_ATTR_SUPPORTED_PROTOCOLS, info) == sc.SEC_E_OK
    )
    return info.grbitProtocol


def isc(
    cred: sc.CredHandle | None,
    ctx: sc.CtxtHandle | None,
    inp: sc.SecBufferDesc | None,
    out: sc.SecBufferDesc | None,
    *,
    new: sc.CtxtHandle | None = None,
    flags: int = CURL_FLAGS,
    target: str | None = "localhost",
    attrs: sc.ULONG | None = None,
) -> sc.SecStatus:
    return sc.InitializeSecurityContext(
        cred, ctx, target, flags, 0, 0, inp, 0, new, out, attrs, None
    )


def token_in(data: bytes) -> sc.SecBufferDesc:
    """curl's handshake input: [TOKEN(data), EMPTY]."""
    return sc.SecBufferDesc(
        [sc.SecBuffer(len(data), sc.SECBUFFER_TOKEN, data), sc.SecBuffer(0, sc.SECBUFFER_EMPTY)]
    )


def curl_out() -> sc.SecBufferDesc:
    """curl's handshake output: [TOKEN, ALERT, EMPTY], all NULL."""
    return sc.SecBufferDesc(
        [
            sc.SecBuffer(0, sc.SECBUFFER_TOKEN),
            sc.SecBuffer(0, sc.SECBUFFER_ALERT),
            sc.SecBuffer(0, sc.SECBUFFER_EMPTY),
        ]
    )


def out_bytes(desc: sc.SecBufferDesc, index: int = 0) -> bytes:
    buf = desc.pBuffers[index]
    if buf.pvBuffer is None:
        return b""
    return bytes(memoryview(buf.pvBuffer)[: buf.cbBuffer])


def first_call(
    cred: sc.CredHandle, target: str | None = "localhost", inp: sc.SecBufferDesc | None = None
) -> tuple[sc.CtxtHandle, bytes]:
    ctx = sc.CtxtHandle()
    out = sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_EMPTY)])
    assert isc(cred, None, inp, out, new=ctx, target=target) == sc.SEC_I_CONTINUE_NEEDED
    return ctx, out_bytes(out)


def client_hello(record: bytes) -> ClientHello:
    assert record[0] == 22
    return ClientHello.parse(record[5:])


def ext(hello: ClientHello, code: int) -> bytes | None:
    return next((body for c, body in hello.extensions if c == code), None)


@dataclass
class Started:
    """A context after its first ISC, and the server's first flight."""

    server: MemoryServer
    cred: sc.CredHandle
    ctx: sc.CtxtHandle
    flight: bytes


@pytest.fixture
def started(pki: peers.ServerPki) -> Iterator[Started]:
    server = MemoryServer(pki.ecdsa.fullchain, pki.ecdsa.key, num_tickets=0)
    cred = acquire_credential()
    ctx, hello = first_call(cred)
    flight = server.feed(hello)
    assert flight
    yield Started(server, cred, ctx, flight)
    sc.DeleteSecurityContext(ctx)
    sc.FreeCredentialsHandle(cred)


@pytest.fixture
def established(pki: peers.ServerPki) -> Iterator[CurlLoop]:
    """A finished curl-style handshake; the server sends no tickets."""
    loop = CurlLoop(
        MemoryServer(pki.ecdsa.fullchain, pki.ecdsa.key, num_tickets=0), acquire_credential()
    )
    assert loop.handshake() == sc.SEC_E_OK
    assert not loop.encdata
    yield loop
    sc.DeleteSecurityContext(loop.ctx)
    sc.FreeCredentialsHandle(loop.cred)


def server_sends(loop: CurlLoop, data: bytes) -> bytes:
    return loop.server.write(data)


def server_saw_close_notify(server: MemoryServer) -> bool:
    """Python's ssl reports a received close_notify as b"" (or SSLZeroReturnError)."""
    try:
        return server.tls.read(10) == b""
    except ssl.SSLZeroReturnError:
        return True


def decrypt_desc(data: bytearray) -> sc.SecBufferDesc:
    return sc.SecBufferDesc(
        [
            sc.SecBuffer(len(data), sc.SECBUFFER_DATA, data),
            sc.SecBuffer(0, sc.SECBUFFER_EMPTY),
            sc.SecBuffer(0, sc.SECBUFFER_EMPTY),
            sc.SecBuffer(0, sc.SECBUFFER_EMPTY),
        ]
    )


def encrypt_desc(loop: CurlLoop, data: bytes) -> tuple[bytearray, sc.SecBufferDesc]:
    sizes = loop.stream_sizes()
    buf = bytearray(sizes.cbHeader + len(data) + sizes.cbTrailer)
    mv = memoryview(buf)
    h, n = sizes.cbHeader, len(data)
    buf[h : h + n] = data
    desc = sc.SecBufferDesc(
        [
            sc.SecBuffer(h, sc.SECBUFFER_STREAM_HEADER, mv[:h]),
            sc.SecBuffer(n, sc.SECBUFFER_DATA, mv[h : h + n]),
            sc.SecBuffer(sizes.cbTrailer, sc.SECBUFFER_STREAM_TRAILER, mv[h + n :]),
            sc.SecBuffer(0, sc.SECBUFFER_EMPTY),
        ]
    )
    return buf, desc


def control(ctx: sc.CtxtHandle, payload: bytes, btype: int = sc.SECBUFFER_TOKEN) -> sc.SecStatus:
    desc = sc.SecBufferDesc([sc.SecBuffer(len(payload), btype, payload)])
    return sc.ApplyControlToken(ctx, desc)


SHUTDOWN = struct.pack("<I", sc.SCHANNEL_SHUTDOWN)


# --- Credentials ------------------------------------------------------------------------


@pytest.mark.parametrize("package", [None, "Kerberos", "NTLM", "Microsoft Unified Security"])
def test_ach_unknown_package(package: str | None) -> None:
    assert ach(package=package)[0] == sc.SEC_E_SECPKG_NOT_FOUND


@pytest.mark.parametrize("package", [sc.UNISP_NAME, sc.SCHANNEL_NAME, sc.DEFAULT_TLS_SSP_NAME])
def test_ach_known_packages(package: str) -> None:
    status, cred = ach(package=package)
    assert status == sc.SEC_E_OK
    assert sc.FreeCredentialsHandle(cred) == sc.SEC_E_OK


@pytest.mark.parametrize("use", [0, sc.SECPKG_CRED_INBOUND, sc.SECPKG_CRED_BOTH])
def test_ach_default_credentials_need_outbound(use: int) -> None:
    assert ach(None, use)[0] == sc.SEC_E_NO_CREDENTIALS


def test_ach_outbound_default_ok_and_handle_written() -> None:
    status, cred = ach(None)
    assert status == sc.SEC_E_OK
    assert (cred.dwLower, cred.dwUpper) != (0, 0)
    assert sc.FreeCredentialsHandle(cred) == sc.SEC_E_OK


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        (0, sc.SEC_E_UNKNOWN_CREDENTIALS),
        (sc.SCH_CRED_V1, sc.SEC_E_UNKNOWN_CREDENTIALS),
        (sc.SCH_CRED_V2, sc.SEC_E_UNKNOWN_CREDENTIALS),
        (sc.SCH_CRED_V3, sc.SEC_E_INSUFFICIENT_MEMORY),
        (sc.SCHANNEL_CRED_VERSION, sc.SEC_E_OK),
    ],
)
def test_ach_schannel_cred_versions(version: int, expected: sc.SecStatus) -> None:
    status, cred = ach(sc.SCHANNEL_CRED(dwVersion=version))
    assert status == expected
    if status == sc.SEC_E_OK:
        sc.FreeCredentialsHandle(cred)


@pytest.mark.parametrize(
    ("version", "expected"),
    [(sc.SCH_CREDENTIALS_VERSION, sc.SEC_E_OK), (4, sc.SEC_E_UNKNOWN_CREDENTIALS)],
)
def test_ach_sch_credentials_version(version: int, expected: sc.SecStatus) -> None:
    status, cred = ach(sc.SCH_CREDENTIALS(dwVersion=version))
    assert status == expected
    if status == sc.SEC_E_OK:
        sc.FreeCredentialsHandle(cred)


def test_ach_failure_leaves_handle_unwritten() -> None:
    status, cred = ach(sc.SCHANNEL_CRED(dwVersion=0))
    assert status == sc.SEC_E_UNKNOWN_CREDENTIALS
    assert (cred.dwLower, cred.dwUpper) == (0, 0)


@pytest.mark.parametrize(
    ("grbit", "use"),
    [
        (sc.SP_PROT_TLS1_X_SERVER, sc.SECPKG_CRED_OUTBOUND),  # 0x1540: server bits only
        (sc.SP_PROT_TLS1_X_CLIENT, sc.SECPKG_CRED_INBOUND),  # 0x2A80: client bits only
        (sc.SP_PROT_TLS1_3_CLIENT, sc.SECPKG_CRED_OUTBOUND),  # SCHANNEL_CRED cannot do 1.3
        (sc.SP_PROT_DTLS1_X_CLIENT | sc.SP_PROT_TLS1_CLIENT, sc.SECPKG_CRED_OUTBOUND),
    ],
)
def test_ach_protocol_mismatch(grbit: int, use: int) -> None:
    assert ach(v4(grbitEnabledProtocols=grbit), use)[0] == sc.SEC_E_ALGORITHM_MISMATCH


def test_ach_schannel_cred_v4_no_certs_outbound_ok() -> None:
    status, cred = ach(v4(cCreds=0))
    assert status == sc.SEC_E_OK
    sc.FreeCredentialsHandle(cred)


def cert_context(cert: peers.ServerCert, *, with_key: bool) -> sc.crypt32.CERT_CONTEXT:
    der = cert.issued.der
    ctx = sc.crypt32.CertCreateCertificateContext(sc.crypt32.X509_ASN_ENCODING, der, len(der))
    assert ctx is not None
    if with_key:
        ctx.private_key = cert.issued.key
    return ctx


def test_ach_client_certificate_rules(pki: peers.ServerPki) -> None:
    good = cert_context(pki.ecdsa, with_key=True)
    status, cred = ach(v4(cCreds=1, paCred=[good]))
    assert status == sc.SEC_E_OK
    sc.FreeCredentialsHandle(cred)
    for version in (sc.SCH_CRED_V1, sc.SCH_CRED_V2):
        auth = sc.SCHANNEL_CRED(dwVersion=version, cCreds=1, paCred=[good])
        assert ach(auth)[0] == sc.SEC_E_UNKNOWN_CREDENTIALS
    keyless = cert_context(pki.ecdsa, with_key=False)
    assert ach(v4(cCreds=1, paCred=[keyless]))[0] == sc.SEC_E_NO_CREDENTIALS
    assert ach(v4(cCreds=1, paCred=[b"not a certificate"]))[0] == sc.SEC_E_UNKNOWN_CREDENTIALS
    assert ach(v4(cCreds=2, paCred=[good, good]))[0] == sc.SEC_E_UNKNOWN_CREDENTIALS
    assert ach(v4(cCreds=2, paCred=[good, object()]))[0] == sc.SEC_E_UNKNOWN_CREDENTIALS


def test_supported_protocols_is_exactly_the_grbit() -> None:
    status, cred = ach(v4(grbitEnabledProtocols=sc.SP_PROT_TLS1_CLIENT))
    assert status == sc.SEC_E_OK
    assert supported_protocols(cred) == 0x80
    sc.FreeCredentialsHandle(cred)


def test_supported_protocols_curl_sch_credentials() -> None:
    disabled = ~sc.SP_PROT_TLS1_X_CLIENT & 0xFFFFFFFF
    cred = acquire_credential(disabled=disabled)
    assert supported_protocols(cred) == 0x2800
    sc.FreeCredentialsHandle(cred)


def test_sch_credentials_disabling_everything_fails() -> None:
    params = [sc.TLS_PARAMETERS(grbitDisabledProtocols=0xFFFFFFFF)]
    auth = sc.SCH_CREDENTIALS(
        dwVersion=sc.SCH_CREDENTIALS_VERSION, cTlsParameters=1, pTlsParameters=params
    )
    assert ach(auth)[0] == sc.SEC_E_ALGORITHM_MISMATCH


@pytest.mark.parametrize(
    "attr", [sc.SECPKG_ATTR_SUPPORTED_PROTOCOLS, sc.SECPKG_ATTR_SUPPORTED_ALGS]
)
def test_query_credentials_null_buffer(attr: int) -> None:
    cred = acquire_credential()
    assert sc.QueryCredentialsAttributes(cred, attr, None) == sc.SEC_E_INTERNAL_ERROR
    sc.FreeCredentialsHandle(cred)


def test_query_credentials_names_without_cert() -> None:
    cred = acquire_credential()
    names = sc.SecPkgCredentials_Names()
    assert (
        sc.QueryCredentialsAttributesA(cred, sc.SECPKG_CRED_ATTR_NAMES, names)
        == sc.SEC_E_NO_CREDENTIALS
    )
    sc.FreeCredentialsHandle(cred)


def test_query_credentials_invalid_handle() -> None:
    info = sc.SecPkgCred_SupportedProtocols()
    assert (
        sc.QueryCredentialsAttributes(None, sc.SECPKG_ATTR_SUPPORTED_PROTOCOLS, info)
        == sc.SEC_E_INVALID_HANDLE
    )


def test_free_credentials_twice() -> None:
    cred = acquire_credential()
    assert sc.FreeCredentialsHandle(cred) == sc.SEC_E_OK
    assert sc.FreeCredentialsHandle(cred) == sc.SEC_E_INVALID_HANDLE
    assert sc.FreeCredentialsHandle(None) == sc.SEC_E_INVALID_HANDLE
    assert sc.FreeCredentialsHandle(sc.CredHandle(12345, 678)) == sc.SEC_E_INVALID_HANDLE


# --- First ISC call ----------------------------------------------------------------------


def test_first_isc_invalid_credentials() -> None:
    out = sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_EMPTY)])
    assert isc(None, None, None, out, new=sc.CtxtHandle()) == sc.SEC_E_INVALID_HANDLE
    assert (
        isc(sc.CredHandle(0x1234, 0x5678), None, None, out, new=sc.CtxtHandle())
        == sc.SEC_E_INVALID_HANDLE
    )
    cred = acquire_credential()
    sc.FreeCredentialsHandle(cred)
    assert isc(cred, None, None, out, new=sc.CtxtHandle()) == sc.SEC_E_INVALID_HANDLE
    assert out.pBuffers[0].pvBuffer is None


def test_first_isc_inbound_credentials_rejected() -> None:
    status, cred = ach(v4(), sc.SECPKG_CRED_INBOUND)
    assert status == sc.SEC_E_OK
    out = sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_EMPTY)])
    assert isc(cred, None, None, out, new=sc.CtxtHandle()) == sc.SEC_E_INVALID_HANDLE
    sc.FreeCredentialsHandle(cred)


@pytest.mark.parametrize(
    "out",
    [None, sc.SecBufferDesc([], cBuffers=0), sc.SecBufferDesc([sc.SecBuffer()], cBuffers=0)],
    ids=["none", "no-buffers", "cbuffers-0"],
)
def test_first_isc_no_output(out: sc.SecBufferDesc | None) -> None:
    cred = acquire_credential()
    ctx = sc.CtxtHandle()
    assert isc(cred, None, None, out, new=ctx) == sc.SEC_E_INVALID_TOKEN
    assert (ctx.dwLower, ctx.dwUpper) == (0, 0)
    sc.FreeCredentialsHandle(cred)


@pytest.mark.parametrize("btype", [sc.SECBUFFER_TOKEN, sc.SECBUFFER_ALERT])
def test_first_isc_zero_output_without_allocate(btype: int) -> None:
    cred = acquire_credential()
    ctx = sc.CtxtHandle(0xAAAA, 0xBBBB)
    bufs = [sc.SecBuffer(0, sc.SECBUFFER_TOKEN)]
    if btype == sc.SECBUFFER_ALERT:
        bufs = [sc.SecBuffer(8192, sc.SECBUFFER_TOKEN, bytearray(8192))]
        bufs.append(sc.SecBuffer(0, sc.SECBUFFER_ALERT))
    out = sc.SecBufferDesc(bufs)
    status = isc(cred, None, None, out, new=ctx, flags=WINE_FLAGS)
    assert status == sc.SEC_E_INSUFFICIENT_MEMORY
    assert (ctx.dwLower, ctx.dwUpper) == (0xAAAA, 0xBBBB)
    sc.FreeCredentialsHandle(cred)


@pytest.mark.parametrize("flag", [sc.ISC_REQ_DELEGATE, sc.ISC_REQ_PROMPT_FOR_CREDS])
def test_first_isc_unsupported_flags(flag: int) -> None:
    cred = acquire_credential()
    ctx = sc.CtxtHandle()
    out = sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_EMPTY)])
    assert isc(cred, None, None, out, new=ctx, flags=CURL_FLAGS | flag) == (
        sc.SEC_E_UNSUPPORTED_FUNCTION
    )
    assert (ctx.dwLower, ctx.dwUpper) == (0, 0)
    sc.FreeCredentialsHandle(cred)


def test_first_isc_caller_buffer_in_place() -> None:
    cred = acquire_credential()
    ctx = sc.CtxtHandle()
    mem = bytearray(8192)
    out = sc.SecBufferDesc([sc.SecBuffer(8192, sc.SECBUFFER_TOKEN, mem)])
    attrs = sc.ULONG()
    expiry = sc.TimeStamp(0x1234)
    status = sc.InitializeSecurityContext(
        cred, None, "localhost", WINE_FLAGS, 0, 0, None, 0, ctx, out, attrs, expiry
    )
    assert status == sc.SEC_I_CONTINUE_NEEDED
    tok = out.pBuffers[0]
    assert tok.BufferType == sc.SECBUFFER_TOKEN
    assert tok.pvBuffer is mem
    assert 5 < tok.cbBuffer < 8192
    assert mem[0] == 22 and mem[1] == 3
    assert int.from_bytes(mem[3:5], "big") + 5 == tok.cbBuffer
    client_hello(bytes(mem[: tok.cbBuffer]))
    assert not attrs.value & sc.ISC_RET_ALLOCATED_MEMORY
    assert expiry.QuadPart == 0
    assert (ctx.dwLower, ctx.dwUpper) != (0, 0)
    sc.DeleteSecurityContext(ctx)
    sc.FreeCredentialsHandle(cred)


def test_first_isc_allocate_ignores_caller_pointer() -> None:
    cred = acquire_credential()
    ctx = sc.CtxtHandle()
    mem = bytearray(8192)
    out = sc.SecBufferDesc([sc.SecBuffer(8192, sc.SECBUFFER_TOKEN, mem)])
    attrs = sc.ULONG()
    assert isc(cred, None, None, out, new=ctx, attrs=attrs) == sc.SEC_I_CONTINUE_NEEDED
    tok = out.pBuffers[0]
    assert tok.pvBuffer is not mem
    assert not any(mem)
    assert attrs.value & sc.ISC_RET_ALLOCATED_MEMORY
    client_hello(out_bytes(out))
    assert sc.FreeContextBuffer(tok.pvBuffer) == sc.SEC_E_OK
    sc.DeleteSecurityContext(ctx)
    sc.FreeCredentialsHandle(cred)


def test_first_isc_token_without_memory_is_allocated() -> None:
    cred = acquire_credential()
    ctx = sc.CtxtHandle()
    out = sc.SecBufferDesc([sc.SecBuffer(8192, sc.SECBUFFER_TOKEN, None)])
    assert isc(cred, None, None, out, new=ctx, flags=WINE_FLAGS) == sc.SEC_I_CONTINUE_NEEDED
    client_hello(out_bytes(out))
    sc.DeleteSecurityContext(ctx)
    sc.FreeCredentialsHandle(cred)


def test_first_isc_empty_output_retyped_and_alert_cleared() -> None:
    cred = acquire_credential()
    ctx = sc.CtxtHandle()
    out = sc.SecBufferDesc(
        [sc.SecBuffer(0, sc.SECBUFFER_EMPTY), sc.SecBuffer(0, sc.SECBUFFER_ALERT)]
    )
    assert isc(cred, None, None, out, new=ctx) == sc.SEC_I_CONTINUE_NEEDED
    assert out.pBuffers[0].BufferType == sc.SECBUFFER_TOKEN
    client_hello(out_bytes(out))
    assert out.pBuffers[1].BufferType == sc.SECBUFFER_ALERT
    assert out.pBuffers[1].cbBuffer == 0
    assert out.pBuffers[1].pvBuffer is None
    sc.DeleteSecurityContext(ctx)
    sc.FreeCredentialsHandle(cred)


def test_first_isc_accepts_one_empty_input() -> None:
    cred = acquire_credential()
    inp = sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_EMPTY)])
    ctx, hello = first_call(cred, inp=inp)
    client_hello(hello)
    sc.DeleteSecurityContext(ctx)
    sc.FreeCredentialsHandle(cred)


@pytest.mark.parametrize(
    ("target", "sni"),
    [
        ("localhost", "localhost"),
        ("Example.COM", "Example.COM"),
        ("127.0.0.1", None),
        ("::1", None),
        ("[::1]", None),
        ("", None),
        (None, None),
    ],
)
def test_first_isc_sni(target: str | None, sni: str | None) -> None:
    cred = acquire_credential()
    ctx, hello = first_call(cred, target=target)
    body = ext(client_hello(hello), EXT_SERVER_NAME)
    if sni is None:
        assert body is None
    else:
        assert body is not None
        # server_name_list: u16 len, u8 type 0, u16 name len, name
        assert body[2] == 0
        assert body[5:].decode().lower() == sni.lower()
    sc.DeleteSecurityContext(ctx)
    sc.FreeCredentialsHandle(cred)


def test_first_isc_offers_alpn() -> None:
    cred = acquire_credential()
    blob = sc.pack_application_protocols([b"h2", b"http/1.1"])
    inp = sc.SecBufferDesc([sc.SecBuffer(len(blob), sc.SECBUFFER_APPLICATION_PROTOCOLS, blob)])
    ctx, hello = first_call(cred, inp=inp)
    body = ext(client_hello(hello), EXT_ALPN)
    assert body == b"\x00\x0c\x02h2\x08http/1.1"
    sc.DeleteSecurityContext(ctx)
    ctx, hello = first_call(cred)
    assert ext(client_hello(hello), EXT_ALPN) is None
    sc.DeleteSecurityContext(ctx)
    sc.FreeCredentialsHandle(cred)


def test_schannel_cred_tls10_only_cannot_connect() -> None:
    status, cred = ach(v4(grbitEnabledProtocols=sc.SP_PROT_TLS1_CLIENT))
    assert status == sc.SEC_E_OK
    out = sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_EMPTY)])
    status = isc(cred, None, None, out, new=sc.CtxtHandle())
    assert status not in (sc.SEC_E_OK, sc.SEC_I_CONTINUE_NEEDED)
    sc.FreeCredentialsHandle(cred)


@pytest.mark.parametrize(
    ("server_kw", "client_disabled", "expected"),
    [
        # No TLS 1.3 on the server, a TLS 1.3-only client: protocol_version (70).
        (
            {"min_version": ssl.TLSVersion.TLSv1_2, "max_version": ssl.TLSVersion.TLSv1_2},
            sc.SP_PROT_TLS1_2_CLIENT,
            sc.SEC_E_UNSUPPORTED_FUNCTION,
        ),
        # No common group: handshake_failure (40).
        ({"ecdh_curve": "secp521r1"}, 0, sc.SEC_E_ILLEGAL_MESSAGE),
    ],
    ids=["protocol-version", "no-common-group"],
)
def test_server_fatal_alert_during_handshake(
    pki: peers.ServerPki, server_kw: dict[str, object], client_disabled: int, expected: int
) -> None:
    server = MemoryServer(pki.ecdsa.fullchain, pki.ecdsa.key, **server_kw)  # type: ignore[arg-type]
    cred = acquire_credential(disabled=client_disabled)
    ctx, hello = first_call(cred)
    try:
        reply = server.feed(hello)
    except ssl.SSLError:
        reply = server.pending_output()
    assert reply[0] == 21  # the server answered with an alert record
    out = curl_out()
    assert isc(cred, ctx, token_in(reply), out) == expected
    assert out.pBuffers[0].cbBuffer == 0
    # The context is unusable afterwards.
    assert isc(cred, ctx, token_in(reply), curl_out()) not in (
        sc.SEC_E_OK,
        sc.SEC_I_CONTINUE_NEEDED,
        sc.SEC_E_INCOMPLETE_MESSAGE,
    )
    sc.DeleteSecurityContext(ctx)
    sc.FreeCredentialsHandle(cred)


# --- Subsequent ISC calls -----------------------------------------------------------------


def test_isc_null_input_is_incomplete_and_touches_nothing(started: Started) -> None:
    mem = bytearray(b"\x55" * 64)
    out = sc.SecBufferDesc([sc.SecBuffer(64, sc.SECBUFFER_TOKEN, mem)])
    new = sc.CtxtHandle(7, 9)
    status = isc(started.cred, started.ctx, None, out, new=new)
    assert status == sc.SEC_E_INCOMPLETE_MESSAGE
    tok = out.pBuffers[0]
    assert (tok.cbBuffer, tok.BufferType, tok.pvBuffer) == (64, sc.SECBUFFER_TOKEN, mem)
    assert mem == b"\x55" * 64
    assert (new.dwLower, new.dwUpper) == (7, 9)


@pytest.mark.parametrize(("have", "missing"), [(0, 5), (1, 4), (4, 1)])
def test_isc_missing_for_partial_header(started: Started, have: int, missing: int) -> None:
    inp = token_in(started.flight[:have])
    new = sc.CtxtHandle(7, 9)
    assert isc(started.cred, started.ctx, inp, curl_out(), new=new) == (sc.SEC_E_INCOMPLETE_MESSAGE)
    assert inp.pBuffers[1].BufferType == sc.SECBUFFER_MISSING
    assert inp.pBuffers[1].cbBuffer == missing
    assert (new.dwLower, new.dwUpper) == (7, 9)


def test_isc_missing_for_header_only(started: Started) -> None:
    first = records(started.flight)[0]
    inp = token_in(started.flight[:5])
    assert isc(started.cred, started.ctx, inp, curl_out()) == sc.SEC_E_INCOMPLETE_MESSAGE
    assert inp.pBuffers[1].BufferType == sc.SECBUFFER_MISSING
    assert inp.pBuffers[1].cbBuffer == len(first) - 5
    # No state was consumed: the whole flight still works.
    loop = CurlLoop(started.server, started.cred, ctx=started.ctx)
    loop.encdata += started.flight
    status, sent = loop.step()
    assert status == sc.SEC_E_OK
    assert sent


def test_isc_empty_companion_must_be_empty(started: Started) -> None:
    bad = sc.SecBufferDesc(
        [
            sc.SecBuffer(len(started.flight), sc.SECBUFFER_TOKEN, started.flight),
            sc.SecBuffer(0xDEADBEEF, sc.SECBUFFER_EMPTY),
        ]
    )
    new = sc.CtxtHandle(7, 9)
    assert isc(started.cred, started.ctx, bad, curl_out(), new=new) == sc.SEC_E_INVALID_TOKEN
    assert (new.dwLower, new.dwUpper) == (7, 9)
    bad2 = sc.SecBufferDesc(
        [
            sc.SecBuffer(len(started.flight), sc.SECBUFFER_TOKEN, started.flight),
            sc.SecBuffer(0, sc.SECBUFFER_EMPTY, bytearray(16)),
        ]
    )
    assert isc(started.cred, started.ctx, bad2, curl_out()) == sc.SEC_E_INVALID_TOKEN
    # A retry with correct buffers completes the handshake.
    out = curl_out()
    assert isc(started.cred, started.ctx, token_in(started.flight), out) == sc.SEC_E_OK
    finished = out_bytes(out)
    assert finished
    started.server.feed(finished)
    assert started.server.handshake_done


@pytest.mark.parametrize(
    "garbage",
    [b"\xfa" * 64, b"\x00" * 64, b"\x16\x02\x00\x00\x05hello", b"GET / HTTP/1.1\r\n\r\n"],
    ids=["fa", "zeros", "major-2", "http"],
)
def test_isc_garbage_header(started: Started, garbage: bytes) -> None:
    mem = bytearray(8192)
    out = sc.SecBufferDesc(
        [
            sc.SecBuffer(8192, sc.SECBUFFER_TOKEN, mem),
            sc.SecBuffer(64, sc.SECBUFFER_ALERT, bytearray(64)),
        ]
    )
    status = isc(started.cred, started.ctx, token_in(garbage), out, flags=WINE_FLAGS)
    assert status == sc.SEC_E_INVALID_TOKEN
    assert out.pBuffers[0].cbBuffer == 0


def test_isc_extra_for_trailing_partial_record(started: Started) -> None:
    recs = records(started.flight)
    assert len(recs) >= 2
    partial = recs[1][:3]
    data = recs[0] + partial
    inp = token_in(data)
    new = sc.CtxtHandle()
    status = isc(started.cred, started.ctx, inp, curl_out(), new=new)
    assert status == sc.SEC_I_CONTINUE_NEEDED
    assert inp.pBuffers[1].BufferType == sc.SECBUFFER_EXTRA
    assert inp.pBuffers[1].cbBuffer == len(partial)
    assert (new.dwLower, new.dwUpper) == (started.ctx.dwLower, started.ctx.dwUpper)
    # The caller keeps the tail and appends the rest: the handshake finishes.
    rest = started.flight[len(recs[0]) :]
    out = curl_out()
    new = sc.CtxtHandle()
    attrs = sc.ULONG()
    status = isc(started.cred, started.ctx, token_in(rest), out, new=new, attrs=attrs)
    assert status == sc.SEC_E_OK
    assert (new.dwLower, new.dwUpper) == (started.ctx.dwLower, started.ctx.dwUpper)
    assert attrs.value == CURL_FLAGS == 0x819C
    assert out.pBuffers[1].cbBuffer == 0
    started.server.feed(out_bytes(out))
    assert started.server.handshake_done


def test_isc_one_record_per_call_keeps_going(started: Started) -> None:
    """Feeding the flight one record at a time: CONTINUE until the last one."""
    recs = records(started.flight)
    statuses = []
    sent = b""
    for rec in recs:
        out = curl_out()
        statuses.append(isc(started.cred, started.ctx, token_in(rec), out))
        sent += out_bytes(out)
    assert statuses[-1] == sc.SEC_E_OK
    assert all(s == sc.SEC_I_CONTINUE_NEEDED for s in statuses[:-1])
    started.server.feed(sent)
    assert started.server.handshake_done


def test_isc_single_token_buffer_with_whole_records(started: Started) -> None:
    inp = sc.SecBufferDesc([sc.SecBuffer(len(started.flight), sc.SECBUFFER_TOKEN, started.flight)])
    out = curl_out()
    assert isc(started.cred, started.ctx, inp, out) == sc.SEC_E_OK
    started.server.feed(out_bytes(out))
    assert started.server.handshake_done


def test_isc_single_token_buffer_with_trailing_partial(started: Started) -> None:
    """Without an EMPTY companion there is nowhere to report EXTRA: INVALID_TOKEN, no state used."""
    data = started.flight + b"\x17\x03\x03"
    inp = sc.SecBufferDesc([sc.SecBuffer(len(data), sc.SECBUFFER_TOKEN, data)])
    assert isc(started.cred, started.ctx, inp, curl_out()) == sc.SEC_E_INVALID_TOKEN
    out = curl_out()
    assert isc(started.cred, started.ctx, token_in(started.flight), out) == sc.SEC_E_OK
    started.server.feed(out_bytes(out))
    assert started.server.handshake_done


def test_isc_wine_flags_give_0x809c(pki: peers.ServerPki) -> None:
    server = MemoryServer(pki.ecdsa.fullchain, pki.ecdsa.key, num_tickets=0)
    cred = acquire_credential()
    ctx = sc.CtxtHandle()
    mem = bytearray(8192)
    out = sc.SecBufferDesc([sc.SecBuffer(8192, sc.SECBUFFER_TOKEN, mem)])
    assert isc(cred, None, None, out, new=ctx, flags=WINE_FLAGS) == sc.SEC_I_CONTINUE_NEEDED
    flight = server.feed(bytes(mem[: out.pBuffers[0].cbBuffer]))
    out = sc.SecBufferDesc(
        [
            sc.SecBuffer(8192, sc.SECBUFFER_TOKEN, bytearray(8192)),
            sc.SecBuffer(64, sc.SECBUFFER_ALERT, bytearray(64)),
            sc.SecBuffer(0, sc.SECBUFFER_EMPTY),
            sc.SecBuffer(0, sc.SECBUFFER_EMPTY),
        ]
    )
    attrs = sc.ULONG(0xFFFFFFFF)
    status = isc(cred, ctx, token_in(flight), out, new=None, flags=WINE_FLAGS, attrs=attrs)
    assert status == sc.SEC_E_OK
    assert attrs.value == 0x809C
    assert out.pBuffers[1].cbBuffer == 0
    assert out.pBuffers[2].pvBuffer is None and out.pBuffers[3].pvBuffer is None
    server.feed(out_bytes(out))
    assert server.handshake_done
    sc.DeleteSecurityContext(ctx)
    sc.FreeCredentialsHandle(cred)


@pytest.mark.parametrize(
    ("extra", "ret"),
    [
        (0, 0),
        (sc.ISC_REQ_EXTENDED_ERROR, sc.ISC_RET_EXTENDED_ERROR),
        (sc.ISC_REQ_MANUAL_CRED_VALIDATION, sc.ISC_RET_MANUAL_CRED_VALIDATION),
    ],
)
def test_isc_final_attributes(pki: peers.ServerPki, extra: int, ret: int) -> None:
    flags = (CURL_FLAGS & ~sc.ISC_REQ_USE_SUPPLIED_CREDS) | extra
    loop = CurlLoop(
        MemoryServer(pki.ecdsa.fullchain, pki.ecdsa.key, num_tickets=0),
        acquire_credential(),
        flags=flags,
    )
    assert loop.handshake() == sc.SEC_E_OK
    assert loop.attrs.value == 0x811C | ret
    sc.DeleteSecurityContext(loop.ctx)


def test_isc_after_completion_with_invalid_cred(established: CurlLoop) -> None:
    out = curl_out()
    status = isc(sc.CredHandle(1, 2), established.ctx, token_in(b""), out)
    assert status == sc.SEC_E_INVALID_HANDLE


def test_isc_after_delete(started: Started) -> None:
    assert sc.DeleteSecurityContext(started.ctx) == sc.SEC_E_OK
    status = isc(started.cred, started.ctx, token_in(started.flight), curl_out())
    assert status == sc.SEC_E_INVALID_HANDLE


# --- Encrypt / Decrypt ------------------------------------------------------------------------


def test_stream_sizes(established: CurlLoop) -> None:
    sizes = established.stream_sizes()
    assert (sizes.cbHeader, sizes.cbTrailer, sizes.cbMaximumMessage, sizes.cBuffers) == (
        5,
        17,
        16384,
        4,
    )


def test_encrypt_produces_valid_record(established: CurlLoop) -> None:
    data = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
    buf, desc = encrypt_desc(established, data)
    assert sc.EncryptMessage(established.ctx, 0, desc, 0) == sc.SEC_E_OK
    hdr, dat, trl = desc.pBuffers[:3]
    assert hdr.cbBuffer == 5
    assert dat.cbBuffer == len(data)
    assert trl.cbBuffer == 17
    total = hdr.cbBuffer + dat.cbBuffer + trl.cbBuffer
    assert total == len(buf)
    assert buf[0] == 23 and int.from_bytes(buf[3:5], "big") == total - 5
    assert bytes(buf[5 : 5 + len(data)]) != data  # encrypted in place
    established.server.feed(bytes(buf[:total]))
    assert established.server.read() == data


def test_encrypt_max_message_and_too_big(established: CurlLoop) -> None:
    data = b"x" * 16384
    buf, desc = encrypt_desc(established, data)
    assert sc.EncryptMessage(established.ctx, 0, desc, 0) == sc.SEC_E_OK
    established.server.feed(bytes(buf))
    got = b""
    while len(got) < len(data):
        chunk = established.server.read()
        assert chunk
        got += chunk
    assert got == data
    _, desc = encrypt_desc(established, b"x" * 16385)
    assert sc.EncryptMessage(established.ctx, 0, desc, 0) not in (sc.SEC_E_OK,)


def test_encrypt_without_data_buffer(established: CurlLoop) -> None:
    desc = sc.SecBufferDesc(
        [
            sc.SecBuffer(5, sc.SECBUFFER_STREAM_HEADER, bytearray(5)),
            sc.SecBuffer(17, sc.SECBUFFER_STREAM_TRAILER, bytearray(17)),
            sc.SecBuffer(0, sc.SECBUFFER_EMPTY),
        ]
    )
    assert sc.EncryptMessage(established.ctx, 0, desc, 0) == sc.SEC_E_INTERNAL_ERROR


def test_encrypt_decrypt_invalid_handle(established: CurlLoop) -> None:
    _, desc = encrypt_desc(established, b"x")
    assert sc.EncryptMessage(None, 0, desc, 0) == sc.SEC_E_INVALID_HANDLE
    assert sc.EncryptMessage(sc.CtxtHandle(1, 2), 0, desc, 0) == sc.SEC_E_INVALID_HANDLE
    assert sc.DecryptMessage(None, decrypt_desc(bytearray(10)), 0, None) == (
        sc.SEC_E_INVALID_HANDLE
    )


@pytest.mark.parametrize(
    "layout",
    [
        [sc.SECBUFFER_DATA, sc.SECBUFFER_EMPTY, sc.SECBUFFER_EMPTY],
        [sc.SECBUFFER_DATA, sc.SECBUFFER_DATA, sc.SECBUFFER_EMPTY, sc.SECBUFFER_EMPTY],
        [sc.SECBUFFER_DATA, sc.SECBUFFER_EMPTY, sc.SECBUFFER_EMPTY, sc.SECBUFFER_EXTRA],
        [sc.SECBUFFER_EMPTY, sc.SECBUFFER_EMPTY, sc.SECBUFFER_EMPTY, sc.SECBUFFER_EMPTY],
        [sc.SECBUFFER_TOKEN, sc.SECBUFFER_EMPTY, sc.SECBUFFER_EMPTY, sc.SECBUFFER_EMPTY],
    ],
    ids=["three", "two-data", "two-empty", "no-data", "token"],
)
def test_decrypt_bad_layouts(established: CurlLoop, layout: list[int]) -> None:
    record = bytearray(server_sends(established, b"hello"))
    bufs = []
    for t in layout:
        if t in (sc.SECBUFFER_DATA, sc.SECBUFFER_TOKEN):
            bufs.append(sc.SecBuffer(len(record), t, record))
        else:
            bufs.append(sc.SecBuffer(0, t))
    assert sc.DecryptMessage(established.ctx, sc.SecBufferDesc(bufs), 0, None) == (
        sc.SEC_E_INVALID_TOKEN
    )
    # The record was not consumed: it still decrypts.
    established.encdata += record
    assert established.decrypt_all()[0] == b"hello"


@pytest.mark.parametrize("cut", [1, 4, 5, 10, -1])
def test_decrypt_partial_record(established: CurlLoop, cut: int) -> None:
    record = server_sends(established, b"partial record")
    have = bytearray(record[:cut])
    desc = decrypt_desc(have)
    assert sc.DecryptMessage(established.ctx, desc, 0, None) == sc.SEC_E_INCOMPLETE_MESSAGE
    missing = len(record) - len(have) if len(have) >= 5 else 5 - len(have)
    for i in (0, 1):
        assert desc.pBuffers[i].BufferType == sc.SECBUFFER_MISSING
        assert desc.pBuffers[i].cbBuffer == missing
    established.encdata += record
    assert established.decrypt_all()[0] == b"partial record"


def test_decrypt_two_records_in_place(established: CurlLoop) -> None:
    r1 = server_sends(established, b"first")
    r2 = server_sends(established, b"second!")
    data = bytearray(r1 + r2)
    desc = decrypt_desc(data)
    assert sc.DecryptMessage(established.ctx, desc, 0, None) == sc.SEC_E_OK
    b = desc.pBuffers
    assert [x.BufferType for x in b] == [
        sc.SECBUFFER_STREAM_HEADER,
        sc.SECBUFFER_DATA,
        sc.SECBUFFER_STREAM_TRAILER,
        sc.SECBUFFER_EXTRA,
    ]
    assert b[0].cbBuffer == 5
    assert b[1].cbBuffer == len(b"first")
    assert b[0].cbBuffer + b[1].cbBuffer + b[2].cbBuffer == len(r1)
    assert b[3].cbBuffer == len(r2)
    # DATA points into the caller's buffer: the plaintext is at offset 5 of it.
    assert bytes(data[5:10]) == b"first"
    pv = b[1].pvBuffer
    assert isinstance(pv, memoryview)
    pv[0] = ord("F")
    assert data[5] == ord("F")
    desc.release()
    # The EXTRA tail is the second record.
    rest = bytearray(data[len(data) - b[3].cbBuffer :])
    assert rest == r2
    desc = decrypt_desc(rest)
    assert sc.DecryptMessage(established.ctx, desc, 0, None) == sc.SEC_E_OK
    assert desc.pBuffers[1].data() == b"second!"
    assert desc.pBuffers[3].BufferType == sc.SECBUFFER_EMPTY


def test_decrypt_close_notify_then_shutdown(established: CurlLoop) -> None:
    with pytest.raises(ssl.SSLWantReadError):
        established.server.tls.unwrap()
    notify = bytearray(established.server.pending_output())
    desc = decrypt_desc(notify)
    assert sc.DecryptMessage(established.ctx, desc, 0, None) == sc.SEC_I_CONTEXT_EXPIRED
    assert desc.pBuffers[1].BufferType == sc.SECBUFFER_DATA
    assert desc.pBuffers[1].cbBuffer == 0
    desc.release()
    # The peer's close_notify closes the context for sending too (checklist: EncryptMessage
    # after close_notify), on the per-record path and on the general one alike.
    _, desc = encrypt_desc(established, b"early")
    assert sc.EncryptMessage(established.ctx, 0, desc, 0) == sc.SEC_E_CONTEXT_EXPIRED
    _, desc = encrypt_desc(established, b"early")
    desc.pBuffers.reverse()
    assert sc.EncryptMessage(established.ctx, 0, desc, 0) == sc.SEC_E_CONTEXT_EXPIRED
    record = established.shutdown()
    assert record and record[0] == 23
    _, desc = encrypt_desc(established, b"late")
    assert sc.EncryptMessage(established.ctx, 0, desc, 0) == sc.SEC_E_CONTEXT_EXPIRED


def test_decrypt_tampered_record(established: CurlLoop) -> None:
    record = bytearray(server_sends(established, b"integrity"))
    record[8] ^= 0x01
    assert sc.DecryptMessage(established.ctx, decrypt_desc(record), 0, None) == (
        sc.SEC_E_MESSAGE_ALTERED
    )
    good = bytearray(server_sends(established, b"after"))
    assert sc.DecryptMessage(established.ctx, decrypt_desc(good), 0, None) != sc.SEC_E_OK
    _, desc = encrypt_desc_raw(5, 17, b"x")
    assert sc.EncryptMessage(established.ctx, 0, desc, 0) != sc.SEC_E_OK


def encrypt_desc_raw(h: int, t: int, data: bytes) -> tuple[bytearray, sc.SecBufferDesc]:
    buf = bytearray(h + len(data) + t)
    mv = memoryview(buf)
    n = len(data)
    buf[h : h + n] = data
    return buf, sc.SecBufferDesc(
        [
            sc.SecBuffer(h, sc.SECBUFFER_STREAM_HEADER, mv[:h]),
            sc.SecBuffer(n, sc.SECBUFFER_DATA, mv[h : h + n]),
            sc.SecBuffer(t, sc.SECBUFFER_STREAM_TRAILER, mv[h + n :]),
            sc.SecBuffer(0, sc.SECBUFFER_EMPTY),
        ]
    )


@pytest.mark.parametrize("trailing_app_data", [False, True])
def test_new_session_ticket_renegotiate(pki: peers.ServerPki, trailing_app_data: bool) -> None:
    loop = CurlLoop(
        MemoryServer(pki.ecdsa.fullchain, pki.ecdsa.key, num_tickets=2), acquire_credential()
    )
    assert loop.handshake() == sc.SEC_E_OK
    tickets = records(bytes(loop.encdata))
    assert len(tickets) == 2
    if trailing_app_data:
        loop.encdata += server_sends(loop, b"after tickets")
    data = bytearray(loop.encdata)
    desc = decrypt_desc(data)
    assert sc.DecryptMessage(loop.ctx, desc, 0, None) == sc.SEC_I_RENEGOTIATE
    assert desc.pBuffers[1].BufferType == sc.SECBUFFER_DATA
    assert desc.pBuffers[1].cbBuffer == 0
    extra = desc.pBuffers[3]
    assert extra.BufferType == sc.SECBUFFER_EXTRA
    assert extra.cbBuffer == len(data) - len(tickets[0])
    leftover = bytes(data[len(data) - extra.cbBuffer :])
    desc.release()
    # Until ISC has run, Encrypt and Decrypt refuse.
    assert sc.DecryptMessage(loop.ctx, decrypt_desc(bytearray(leftover)), 0, None) == (
        sc.SEC_E_CONTEXT_EXPIRED
    )
    _, enc = encrypt_desc_raw(5, 17, b"x")
    assert sc.EncryptMessage(loop.ctx, 0, enc, 0) == sc.SEC_E_CONTEXT_EXPIRED
    # ISC with the leftover as TOKEN: OK, nothing to send, the bytes come back as EXTRA.
    inp = token_in(leftover)
    out = curl_out()
    assert isc(loop.cred, loop.ctx, inp, out) == sc.SEC_E_OK
    assert out.pBuffers[0].cbBuffer == 0
    assert inp.pBuffers[1].BufferType == sc.SECBUFFER_EXTRA
    assert inp.pBuffers[1].cbBuffer == len(leftover)
    # The second ticket: RENEGOTIATE again, then ISC with what is left (maybe 0 bytes).
    data = bytearray(leftover)
    desc = decrypt_desc(data)
    assert sc.DecryptMessage(loop.ctx, desc, 0, None) == sc.SEC_I_RENEGOTIATE
    extra = desc.pBuffers[3]
    tail = (
        bytes(data[len(data) - extra.cbBuffer :]) if extra.BufferType == sc.SECBUFFER_EXTRA else b""
    )
    desc.release()
    assert bool(tail) == trailing_app_data
    assert isc(loop.cred, loop.ctx, token_in(tail), curl_out()) == sc.SEC_E_OK
    if trailing_app_data:
        desc = decrypt_desc(bytearray(tail))
        assert sc.DecryptMessage(loop.ctx, desc, 0, None) == sc.SEC_E_OK
        assert desc.pBuffers[1].data() == b"after tickets"
    # Encrypt works again.
    record = loop.encrypt(b"ping")
    loop.server.feed(record)
    assert loop.server.read() == b"ping"
    sc.DeleteSecurityContext(loop.ctx)


def test_tickets_read_after_our_close_notify(pki: peers.ServerPki) -> None:
    """curl's shutdown drains to the peer's close_notify through unread tickets."""
    loop = CurlLoop(
        MemoryServer(pki.ecdsa.fullchain, pki.ecdsa.key, num_tickets=2), acquire_credential()
    )
    assert loop.handshake() == sc.SEC_E_OK
    tickets = bytes(loop.encdata)
    assert len(records(tickets)) == 2
    loop.encdata.clear()
    loop.server.feed(loop.shutdown())
    assert server_saw_close_notify(loop.server)
    loop.server.tls.unwrap()
    loop.encdata += tickets + loop.server.pending_output()
    plain, seen = loop.decrypt_all()  # ISC after each SEC_I_RENEGOTIATE must return SEC_E_OK
    assert plain == b""
    assert seen == [sc.SEC_I_RENEGOTIATE, sc.SEC_I_RENEGOTIATE, sc.SEC_I_CONTEXT_EXPIRED]
    _, desc = encrypt_desc_raw(5, 17, b"x")
    assert sc.EncryptMessage(loop.ctx, 0, desc, 0) == sc.SEC_E_CONTEXT_EXPIRED
    out = sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_EMPTY)])
    assert isc(loop.cred, loop.ctx, None, out) == sc.SEC_E_INCOMPLETE_MESSAGE
    sc.DeleteSecurityContext(loop.ctx)


def test_curl_loop_end_to_end_with_tickets(pki: peers.ServerPki) -> None:
    loop = CurlLoop(MemoryServer(pki.ecdsa.fullchain, pki.ecdsa.key), acquire_credential())
    assert loop.handshake() == sc.SEC_E_OK
    loop.server.feed(loop.encrypt(b"hello server"))
    assert loop.server.read() == b"hello server"
    loop.encdata += server_sends(loop, b"hello client")
    plain, seen = loop.decrypt_all()
    assert plain == b"hello client"
    assert sc.SEC_I_RENEGOTIATE in seen
    close = loop.shutdown()
    loop.server.feed(close)
    assert server_saw_close_notify(loop.server)
    sc.DeleteSecurityContext(loop.ctx)


# --- ApplyControlToken, shutdown, alerts ---------------------------------------------------


def test_control_token_argument_rules(started: Started) -> None:
    ctx = started.ctx
    assert sc.ApplyControlToken(None, None) == sc.SEC_E_INVALID_HANDLE
    assert control(sc.CtxtHandle(1, 2), SHUTDOWN) == sc.SEC_E_INVALID_HANDLE
    assert sc.ApplyControlToken(ctx, None) == sc.SEC_E_INTERNAL_ERROR
    two = sc.SecBufferDesc(
        [
            sc.SecBuffer(4, sc.SECBUFFER_TOKEN, SHUTDOWN),
            sc.SecBuffer(4, sc.SECBUFFER_TOKEN, SHUTDOWN),
        ]
    )
    assert sc.ApplyControlToken(ctx, two) == sc.SEC_E_INVALID_TOKEN
    two = sc.SecBufferDesc(
        [sc.SecBuffer(4, sc.SECBUFFER_TOKEN, SHUTDOWN), sc.SecBuffer(0, sc.SECBUFFER_EMPTY)]
    )
    assert sc.ApplyControlToken(ctx, two) == sc.SEC_E_INVALID_TOKEN
    assert control(ctx, SHUTDOWN, sc.SECBUFFER_ALERT) == sc.SEC_E_INVALID_TOKEN
    assert control(ctx, SHUTDOWN, sc.SECBUFFER_DATA) == sc.SEC_E_INVALID_TOKEN
    assert control(ctx, SHUTDOWN[:2]) == sc.SEC_E_UNSUPPORTED_FUNCTION
    assert control(ctx, struct.pack("<I", sc.SCHANNEL_RENEGOTIATE)) == (
        sc.SEC_E_UNSUPPORTED_FUNCTION
    )
    assert control(ctx, struct.pack("<I", 0x77)) == sc.SEC_E_UNSUPPORTED_FUNCTION
    assert control(ctx, sc.pack_alert_token(sc.TLS1_ALERT_FATAL, 42)[:8]) == (
        sc.SEC_E_INVALID_TOKEN
    )
    # None of these queued anything: ISC without input is still INCOMPLETE.
    out = sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_EMPTY)])
    assert isc(started.cred, ctx, None, out) == sc.SEC_E_INCOMPLETE_MESSAGE


def test_shutdown_before_handshake(started: Started) -> None:
    ctx = started.ctx
    assert control(ctx, SHUTDOWN) == sc.SEC_E_OK
    assert control(ctx, SHUTDOWN + b"\x00") == sc.SEC_E_OK  # cb >= 4, repeatable
    mem = bytearray(1000)
    out = sc.SecBufferDesc([sc.SecBuffer(1000, sc.SECBUFFER_TOKEN, mem)])
    new = sc.CtxtHandle()
    assert isc(started.cred, ctx, None, out, new=new, flags=0, target=None) == sc.SEC_E_OK
    assert out_bytes(out) == bytes.fromhex("15030100020100")
    assert (new.dwLower, new.dwUpper) == (ctx.dwLower, ctx.dwUpper)
    # Nothing pending any more.
    out2 = sc.SecBufferDesc([sc.SecBuffer(1000, sc.SECBUFFER_TOKEN, bytearray(1000))])
    new2 = sc.CtxtHandle(7, 9)
    assert isc(started.cred, ctx, None, out2, new=new2, flags=0) == sc.SEC_E_INCOMPLETE_MESSAGE
    assert out2.pBuffers[0].cbBuffer == 1000
    assert (new2.dwLower, new2.dwUpper) == (7, 9)


def test_alert_token_before_handshake(started: Started) -> None:
    assert control(started.ctx, sc.pack_alert_token(sc.TLS1_ALERT_FATAL, 42)) == sc.SEC_E_OK
    out = sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_EMPTY)])
    assert isc(started.cred, started.ctx, None, out) == sc.SEC_E_OK
    assert out_bytes(out) == bytes.fromhex("1503010002022a")


def test_shutdown_with_input_ignored(started: Started) -> None:
    assert control(started.ctx, SHUTDOWN) == sc.SEC_E_OK
    out = sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_TOKEN)])
    assert isc(started.cred, started.ctx, token_in(started.flight), out) == sc.SEC_E_OK
    assert out_bytes(out) == bytes.fromhex("15030100020100")


def test_shutdown_established_is_clean_close(established: CurlLoop) -> None:
    record = established.shutdown()
    assert record[0] == 23  # an encrypted alert
    established.server.feed(record)
    assert server_saw_close_notify(established.server)
    out = sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_EMPTY)])
    assert isc(established.cred, established.ctx, None, out) == sc.SEC_E_INCOMPLETE_MESSAGE
    assert out.pBuffers[0].BufferType == sc.SECBUFFER_EMPTY


def test_alert_token_established_reaches_server(established: CurlLoop) -> None:
    assert control(established.ctx, sc.pack_alert_token(sc.TLS1_ALERT_FATAL, 42)) == sc.SEC_E_OK
    out = sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_EMPTY)])
    assert isc(established.cred, established.ctx, None, out) == sc.SEC_E_OK
    record = out_bytes(out)
    assert record[0] == 23
    established.server.feed(record)
    with pytest.raises(ssl.SSLError, match="(?i)bad.certificate"):
        established.server.tls.read(10)


def test_delete_context_rules(started: Started) -> None:
    assert sc.DeleteSecurityContext(None) == sc.SEC_E_INVALID_HANDLE
    assert sc.DeleteSecurityContext(started.ctx) == sc.SEC_E_OK
    assert sc.DeleteSecurityContext(started.ctx) == sc.SEC_E_INVALID_HANDLE
    sizes = sc.SecPkgContext_StreamSizes()
    assert sc.QueryContextAttributes(started.ctx, sc.SECPKG_ATTR_STREAM_SIZES, sizes) == (
        sc.SEC_E_INVALID_HANDLE
    )
    assert control(started.ctx, SHUTDOWN) == sc.SEC_E_INVALID_HANDLE
    assert sc.FreeContextBuffer(None) == sc.SEC_E_OK


def test_credential_handle_is_not_a_context_handle(started: Started) -> None:
    as_ctx = sc.CtxtHandle(started.cred.dwLower, started.cred.dwUpper)
    assert sc.DeleteSecurityContext(as_ctx) == sc.SEC_E_INVALID_HANDLE
    as_cred = sc.CredHandle(started.ctx.dwLower, started.ctx.dwUpper)
    assert sc.FreeCredentialsHandle(as_cred) == sc.SEC_E_INVALID_HANDLE


# --- Certificate validation -------------------------------------------------------------------


def handshake_with(
    cert: peers.ServerCert, *, cred_flags: int = 0, isc_flags: int = CURL_FLAGS
) -> CurlLoop:
    loop = CurlLoop(
        MemoryServer(cert.fullchain, cert.key, num_tickets=0),
        acquire_credential(flags=cred_flags),
        flags=isc_flags,
    )
    return loop


@pytest.mark.parametrize(
    ("which", "status", "alert"),
    [
        ("wrong_name", sc.SEC_E_WRONG_PRINCIPAL, "CERTIFICATE_UNKNOWN"),
        ("untrusted", sc.SEC_E_UNTRUSTED_ROOT, "UNKNOWN_CA"),
        ("expired", sc.SEC_E_CERT_EXPIRED, "CERTIFICATE_EXPIRED"),
    ],
)
def test_certificate_failures(pki: peers.ServerPki, which: str, status: int, alert: str) -> None:
    loop = handshake_with(getattr(pki, which))
    assert loop.handshake() == status
    record = loop.last_alert
    assert record, "no SECBUFFER_ALERT output"
    if record[0] == 20:  # TLS 1.3: the compatibility CCS precedes the first protected record
        assert record[:6] == b"\x14\x03\x03\x00\x01\x01" and record[6] == 23
    else:
        assert record[0] in (21, 23)  # plaintext or (under handshake keys) protected
    if record[0] == 21:
        assert record[5] == sc.TLS1_ALERT_FATAL
    # The server sees the alert.
    with pytest.raises(ssl.SSLError, match=alert):
        loop.server.feed(record)
    # The context is dead.
    out = curl_out()
    assert isc(loop.cred, loop.ctx, token_in(b""), out) not in (
        sc.SEC_E_OK,
        sc.SEC_I_CONTINUE_NEEDED,
    )
    sc.DeleteSecurityContext(loop.ctx)


@pytest.mark.parametrize("which", ["wrong_name", "untrusted", "expired"])
def test_manual_validation_by_credential(pki: peers.ServerPki, which: str) -> None:
    loop = handshake_with(getattr(pki, which), cred_flags=sc.SCH_CRED_MANUAL_CRED_VALIDATION)
    assert loop.handshake() == sc.SEC_E_OK
    assert loop.attrs.value == CURL_FLAGS
    sc.DeleteSecurityContext(loop.ctx)


@pytest.mark.parametrize("which", ["wrong_name", "untrusted", "expired"])
def test_manual_validation_by_request(pki: peers.ServerPki, which: str) -> None:
    flags = CURL_FLAGS | sc.ISC_REQ_MANUAL_CRED_VALIDATION
    loop = handshake_with(getattr(pki, which), isc_flags=flags)
    assert loop.handshake() == sc.SEC_E_OK
    assert loop.attrs.value & sc.ISC_RET_MANUAL_CRED_VALIDATION
    assert loop.attrs.value == flags
    sc.DeleteSecurityContext(loop.ctx)


def test_no_servername_check(pki: peers.ServerPki) -> None:
    loop = handshake_with(pki.wrong_name, cred_flags=sc.SCH_CRED_NO_SERVERNAME_CHECK)
    assert loop.handshake() == sc.SEC_E_OK
    sc.DeleteSecurityContext(loop.ctx)
    # The flag only skips the name: an untrusted chain still fails.
    loop = handshake_with(pki.untrusted, cred_flags=sc.SCH_CRED_NO_SERVERNAME_CHECK)
    assert loop.handshake() == sc.SEC_E_UNTRUSTED_ROOT
    sc.DeleteSecurityContext(loop.ctx)


@pytest.mark.parametrize("target", ["127.0.0.1", "::1"])
def test_ip_target_validates_against_ip_san(pki: peers.ServerPki, target: str) -> None:
    loop = handshake_with(pki.ecdsa)
    loop.target = target
    assert loop.handshake() == sc.SEC_E_OK
    sc.DeleteSecurityContext(loop.ctx)
    loop = handshake_with(pki.wrong_name)
    loop.target = target
    assert loop.handshake() == sc.SEC_E_WRONG_PRINCIPAL
    sc.DeleteSecurityContext(loop.ctx)


# --- Layouts and parameters a hostile-input review found mishandled -------------------------


def test_bytes_target_is_checked_like_a_str(pki: peers.ServerPki) -> None:
    """InitializeSecurityContextA's SEC_CHAR* target as bytes: the name is still checked
    (it used to switch the check and SNI off)."""
    loop = handshake_with(pki.ecdsa)
    loop.target = b"evil.example"  # type: ignore[assignment]
    assert loop.handshake() == sc.SEC_E_WRONG_PRINCIPAL
    sc.DeleteSecurityContext(loop.ctx)
    loop = handshake_with(pki.ecdsa)
    loop.target = bytearray(b"localhost\0junk")  # type: ignore[assignment]
    assert loop.handshake() == sc.SEC_E_OK
    sc.DeleteSecurityContext(loop.ctx)


@pytest.mark.parametrize("target", [42, b"caf\xc3\xa9.example", ["localhost"]])
def test_target_of_another_type_fails_closed(target: object) -> None:
    ctx = sc.CtxtHandle()
    out = sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None)])
    status = sc.InitializeSecurityContext(
        acquire_credential(),
        None,
        target,
        CURL_FLAGS,
        0,
        0,
        None,
        0,
        ctx,
        out,
        sc.ULONG(),
        None,  # type: ignore[arg-type]
    )
    assert status == sc.SEC_E_INVALID_PARAMETER
    assert sc.DeleteSecurityContext(ctx) == sc.SEC_E_INVALID_HANDLE  # no context was made


def encrypt_with_odd_memory(loop: CurlLoop, desc: sc.SecBufferDesc, which: int) -> None:
    """EncryptMessage of b"secret" with buffer ``which`` not one run of bytes: as DATA
    (1) it is refused before sealing; as header or trailer the output goes to memory
    of the package's own.  Either way the sequence number stays in step: the records
    that follow authenticate at the server."""
    status = sc.EncryptMessage(loop.ctx, 0, desc, 0)
    if which == 1:
        assert status == sc.SEC_E_INVALID_TOKEN
    else:
        assert status == sc.SEC_E_OK
        assert isinstance(desc.pBuffers[which].pvBuffer, bytearray)
        loop.server.feed(
            b"".join(bytes(x.pvBuffer[: x.cbBuffer]) for x in desc.pBuffers[:3])  # type: ignore[index]
        )
        assert loop.server.read() == b"secret"
    loop.server.feed(loop.encrypt(b"ping"))
    assert loop.server.read() == b"ping"


@pytest.mark.parametrize("which", [0, 1, 2])
def test_two_dimensional_encrypt_buffer_never_breaks_the_stream(
    established: CurlLoop, which: int
) -> None:
    """A 2-D view is not one run of bytes.  As DATA it is refused before sealing; as
    header or trailer it is treated like memory the package cannot write (the output
    goes to memory of the package's own).  Either way the sequence number stays in
    step: the records that follow authenticate at the server."""
    _, desc = encrypt_desc(established, b"secret")
    b = desc.pBuffers[which]
    raw = bytearray(2 * len(b.pvBuffer))  # type: ignore[arg-type]
    b.pvBuffer = memoryview(raw).cast("B", shape=[2, len(raw) // 2])
    encrypt_with_odd_memory(established, desc, which)


@pytest.mark.parametrize("cb", [-1, None, "5", 5.0])
def test_encrypt_data_size_that_is_not_a_ulong_is_refused(
    established: CurlLoop, cb: object
) -> None:
    buf, desc = encrypt_desc(established, b"secret")
    desc.pBuffers[1].cbBuffer = cb  # type: ignore[assignment]
    assert sc.EncryptMessage(established.ctx, 0, desc, 0) == sc.SEC_E_INVALID_TOKEN
    established.server.feed(established.encrypt(b"ping"))
    assert established.server.read() == b"ping"


@pytest.mark.parametrize("which", [0, 1, 2])
@pytest.mark.parametrize("others", ["memoryview", "bytearray"])
def test_strided_encrypt_buffer_gets_one_status_on_every_route(
    established: CurlLoop, which: int, others: str
) -> None:
    """A strided view (every other byte) is not one run of bytes either, whatever the
    other buffers are made of (memoryviews and bytearrays reach EncryptMessage by
    different routes): as DATA it is refused before sealing, as header or trailer the
    output goes to memory of the package's own, and the records that follow still
    authenticate at the server."""
    _, desc = encrypt_desc(established, b"secret")
    if others == "bytearray":
        for b in desc.pBuffers[:3]:
            b.pvBuffer = bytearray(b.pvBuffer)  # type: ignore[arg-type]
    b = desc.pBuffers[which]
    content = bytes(b.pvBuffer)  # type: ignore[arg-type]
    spread = bytearray(2 * len(content))
    spread[::2] = content
    b.pvBuffer = memoryview(spread)[::2]
    encrypt_with_odd_memory(established, desc, which)


def test_strided_decrypt_input_is_a_layout_error_not_a_bad_mac(established: CurlLoop) -> None:
    record = server_sends(established, b"hello")
    spread = bytearray(2 * len(record))
    spread[::2] = record
    desc = decrypt_desc(bytearray())
    desc.pBuffers[0].pvBuffer = memoryview(spread)[::2]
    desc.pBuffers[0].cbBuffer = len(record)
    assert sc.DecryptMessage(established.ctx, desc, 0, None) == sc.SEC_E_INVALID_TOKEN
    desc = decrypt_desc(bytearray(record))  # nothing consumed, the context lives on
    assert sc.DecryptMessage(established.ctx, desc, 0, None) == sc.SEC_E_OK
    assert desc.pBuffers[1].data() == b"hello"


def test_oob_data_is_sent_as_an_alert(established: CurlLoop) -> None:
    """fQOP = SECQOP_WRAP_OOB_DATA: the two DATA bytes go out as an alert record
    (here a close_notify, which the server reads as the end of the stream); any
    other length is refused before anything is sealed."""
    _, three = encrypt_desc(established, b"\x01\x00\x00")
    assert sc.EncryptMessage(established.ctx, sc.SECQOP_WRAP_OOB_DATA, three, 0) == (
        sc.SEC_E_INVALID_TOKEN
    )
    buf, desc = encrypt_desc(established, b"\x01\x00")  # warning, close_notify
    assert sc.EncryptMessage(established.ctx, sc.SECQOP_WRAP_OOB_DATA, desc, 0) == sc.SEC_E_OK
    record = b"".join(bytes(b.pvBuffer[: b.cbBuffer]) for b in desc.pBuffers[:3])  # type: ignore[index]
    assert record[0] == 23 and len(record) == 5 + 2 + 17  # TLS 1.3: alerts are protected too
    established.server.feed(record)
    assert server_saw_close_notify(established.server)
