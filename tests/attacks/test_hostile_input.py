"""Hostile input: no SSPI function raises, every return is a SecStatus, no state is lost.

The promise of :mod:`schannel_py.sspi.functions` is that anything a caller
passes (wrong types, lying sizes, garbage bytes, foreign handles) comes back
as a Windows status code.  The functions are guarded (an escaped exception
becomes SEC_E_INTERNAL_ERROR and is logged), so these properties also check
that the guard was *not* needed: an exception logged by the guard means some
input was not validated deliberately.

Bounded: ``max_examples`` 200 per property, no deadline.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import schannel_py as sc
from schannel_py.testing import acquire_credential
from schannel_py.testing.memserver import MemoryServer
from tests.support import peers
from tests.support.sspi_driver import CURL_FLAGS, CurlLoop, no_unexpected_exceptions

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    database=None,  # keep no .hypothesis/ in the tree; failures print their example
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

BUFFER_TYPES = [
    sc.SECBUFFER_EMPTY,
    sc.SECBUFFER_DATA,
    sc.SECBUFFER_TOKEN,
    sc.SECBUFFER_PKG_PARAMS,
    sc.SECBUFFER_MISSING,
    sc.SECBUFFER_EXTRA,
    sc.SECBUFFER_STREAM_TRAILER,
    sc.SECBUFFER_STREAM_HEADER,
    sc.SECBUFFER_ALERT,
    sc.SECBUFFER_APPLICATION_PROTOCOLS,
    sc.SECBUFFER_FLAGS,
    sc.SECBUFFER_TOKEN | sc.SECBUFFER_READONLY,
    sc.SECBUFFER_DATA | sc.SECBUFFER_READONLY_WITH_CHECKSUM,
]


# --- guard watching ------------------------------------------------------------------------------


def is_status(value: object) -> bool:
    return isinstance(value, sc.SecStatus)


# --- strategies --------------------------------------------------------------------------------------

junk_scalar = st.one_of(
    st.none(),
    st.integers(min_value=-(2**65), max_value=2**65),
    st.text(max_size=4),
    st.binary(max_size=8),
    st.floats(allow_nan=True),
    st.booleans(),
    st.builds(object),
)


def _memory(data: bytes, kind: int) -> object:
    if kind == 0:
        return data
    if kind == 1:
        return bytearray(data)
    if kind == 2:
        return memoryview(bytearray(data))
    if kind == 3:
        return memoryview(data)
    if kind == 4:
        return memoryview(bytearray(data * 2))[::2]  # non-contiguous
    return memoryview(bytearray(data + b"\0" * (-len(data) % 4))).cast("I")


pv_strategy = st.one_of(
    st.none(),
    st.builds(_memory, st.binary(max_size=64), st.integers(0, 5)),
    junk_scalar,
)
cb_strategy = st.one_of(
    st.integers(min_value=-10, max_value=300),
    st.sampled_from([2**31, 2**32 - 1, 2**32, 2**63, -(2**31)]),
    st.none(),
    st.text(max_size=2),
)
type_strategy = st.one_of(
    st.sampled_from(BUFFER_TYPES),
    st.integers(min_value=-(2**33), max_value=2**33),
    st.none(),
    st.text(max_size=2),
)


def raw_buffer(cb: object, btype: object, pv: object) -> sc.SecBuffer:
    """A SecBuffer whose fields hold whatever a careless caller put there."""
    buf = sc.SecBuffer()
    setattr(buf, "cbBuffer", cb)  # noqa: B010 - deliberately ill-typed
    setattr(buf, "BufferType", btype)  # noqa: B010
    setattr(buf, "pvBuffer", pv)  # noqa: B010
    return buf


def raw_desc(buffers: object, count: object, version: object = 0) -> sc.SecBufferDesc:
    desc = sc.SecBufferDesc()
    setattr(desc, "pBuffers", buffers)  # noqa: B010
    setattr(desc, "cBuffers", count)  # noqa: B010
    setattr(desc, "ulVersion", version)  # noqa: B010
    return desc


buffer_strategy = st.one_of(
    st.builds(raw_buffer, cb_strategy, type_strategy, pv_strategy),
    junk_scalar,
)


@st.composite
def desc_strategy(draw: st.DrawFn) -> object:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(junk_scalar)
    bufs = draw(st.lists(buffer_strategy, max_size=6))
    container: object = bufs
    if kind == 1:
        container = tuple(bufs)
    elif kind == 2:
        container = draw(junk_scalar)
    count = draw(
        st.one_of(
            st.just(len(bufs)),
            st.integers(min_value=-3, max_value=len(bufs) + 3),
            st.sampled_from([2**32, 2**63]),
            junk_scalar,
        )
    )
    version = draw(st.one_of(st.just(0), junk_scalar))
    return raw_desc(container, count, version)


handle_junk = st.one_of(
    junk_scalar,
    st.builds(sc.CtxtHandle, st.integers(0, 2**64), st.integers(0, 2**64)),
    st.builds(sc.CredHandle, st.integers(0, 2**64), st.integers(0, 2**64)),
    st.builds(lambda a, b: raw_handle(a, b), junk_scalar, junk_scalar),
)


def raw_handle(lower: object, upper: object) -> sc.CtxtHandle:
    h = sc.CtxtHandle()
    setattr(h, "dwLower", lower)  # noqa: B010
    setattr(h, "dwUpper", upper)  # noqa: B010
    return h


# --- fixtures and helpers ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def manual_cred() -> Iterator[sc.CredHandle]:
    """A credential that does not validate the server chain (no root store needed)."""
    cred = acquire_credential(manual_validation=True)
    yield cred
    sc.FreeCredentialsHandle(cred)


def first_isc(cred: sc.CredHandle) -> tuple[sc.CtxtHandle, bytes]:
    ctx = sc.CtxtHandle()
    out = sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_EMPTY)])
    status = sc.InitializeSecurityContext(
        cred, None, "localhost", CURL_FLAGS, 0, 0, None, 0, ctx, out, sc.ULONG(), None
    )
    assert status == sc.SEC_I_CONTINUE_NEEDED
    return ctx, out.pBuffers[0].data()


@dataclass
class Started:
    server: MemoryServer
    ctx: sc.CtxtHandle
    flight: bytes


def start(pki: peers.ServerPki, cred: sc.CredHandle) -> Started:
    server = MemoryServer(pki.ecdsa.fullchain, pki.ecdsa.key, num_tickets=0)
    ctx, hello = first_isc(cred)
    return Started(server, ctx, server.feed(hello))


def establish(pki: peers.ServerPki, cred: sc.CredHandle) -> CurlLoop:
    loop = CurlLoop(MemoryServer(pki.ecdsa.fullchain, pki.ecdsa.key, num_tickets=0), cred)
    assert loop.handshake() == sc.SEC_E_OK
    return loop


def isc_continue(
    cred: object, ctx: object, inp: object, out: object, flags: object = CURL_FLAGS
) -> sc.SecStatus:
    return sc.InitializeSecurityContext(
        cred,  # type: ignore[arg-type]
        ctx,  # type: ignore[arg-type]
        "localhost",
        flags,  # type: ignore[arg-type]
        0,
        0,
        inp,
        0,
        None,
        out,
        sc.ULONG(),
        None,
    )


def token_in(data: bytes) -> sc.SecBufferDesc:
    return sc.SecBufferDesc(
        [sc.SecBuffer(len(data), sc.SECBUFFER_TOKEN, data), sc.SecBuffer(0, sc.SECBUFFER_EMPTY)]
    )


def curl_out() -> sc.SecBufferDesc:
    return sc.SecBufferDesc(
        [
            sc.SecBuffer(0, sc.SECBUFFER_TOKEN),
            sc.SecBuffer(0, sc.SECBUFFER_ALERT),
            sc.SecBuffer(0, sc.SECBUFFER_EMPTY),
        ]
    )


def decrypt_desc(data: bytes) -> sc.SecBufferDesc:
    return sc.SecBufferDesc(
        [
            sc.SecBuffer(len(data), sc.SECBUFFER_DATA, bytearray(data)),
            sc.SecBuffer(0, sc.SECBUFFER_EMPTY),
            sc.SecBuffer(0, sc.SECBUFFER_EMPTY),
            sc.SecBuffer(0, sc.SECBUFFER_EMPTY),
        ]
    )


HANDSHAKE_PROGRESS = (sc.SEC_E_OK, sc.SEC_I_CONTINUE_NEEDED, sc.SEC_E_INCOMPLETE_MESSAGE)


# --- ISC: random bytes after a real first call ---------------------------------------------------


record_like = st.builds(
    lambda t, v, body, lie: struct.pack(">BHH", t, v, len(body) + lie) + body,
    st.integers(20, 23),
    st.sampled_from([0x0301, 0x0303, 0x0304, 0x0300, 0x03FF]),
    st.binary(max_size=300),
    st.integers(-5, 5).map(lambda n: max(n, 0)),
)


@SETTINGS
@given(
    data=st.one_of(st.binary(max_size=2000), st.lists(record_like, max_size=4).map(b"".join)),
    with_empty=st.booleans(),
)
def test_isc_random_token(
    pki: peers.ServerPki, manual_cred: sc.CredHandle, data: bytes, with_empty: bool
) -> None:
    ctx, _ = first_isc(manual_cred)
    inp = (
        token_in(data)
        if with_empty
        else sc.SecBufferDesc([sc.SecBuffer(len(data), sc.SECBUFFER_TOKEN, data)])
    )
    with no_unexpected_exceptions():
        status = isc_continue(manual_cred, ctx, inp, curl_out())
        assert is_status(status)
        # Random bytes are never a server flight that completes the handshake.
        assert status != sc.SEC_E_OK
        again = isc_continue(manual_cred, ctx, token_in(data), curl_out())
        assert is_status(again)
    assert sc.DeleteSecurityContext(ctx) == sc.SEC_E_OK


@SETTINGS
@given(
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=4),
    cut=st.one_of(st.none(), st.integers(0, 10**6)),
)
def test_isc_mutated_server_flight(
    pki: peers.ServerPki,
    manual_cred: sc.CredHandle,
    edits: list[tuple[int, int]],
    cut: int | None,
) -> None:
    s = start(pki, manual_cred)
    data = bytearray(s.flight)
    for pos, value in edits:
        data[pos % len(data)] = value
    if cut is not None:
        del data[cut % (len(data) + 1) :]
    sent = b""
    with no_unexpected_exceptions():
        for _ in range(3):
            inp = token_in(bytes(data))
            out = curl_out()
            status = isc_continue(manual_cred, s.ctx, inp, out)
            assert is_status(status)
            if status in (sc.SEC_E_OK, sc.SEC_I_CONTINUE_NEEDED):
                sent += out.pBuffers[0].data()
            if (
                status != sc.SEC_I_CONTINUE_NEEDED
                or inp.pBuffers[1].BufferType != sc.SECBUFFER_EXTRA
            ):
                break
            del data[: len(data) - inp.pBuffers[1].cbBuffer]
    if status == sc.SEC_E_OK:
        # Whatever changed (record-header bytes nobody checks), the client only
        # claims success for a transcript the server agrees with.
        s.server.feed(sent)
        assert s.server.handshake_done
    sc.DeleteSecurityContext(s.ctx)


# --- random buffer layouts ------------------------------------------------------------------------


@SETTINGS
@given(inp=desc_strategy(), out=desc_strategy(), flags=st.one_of(st.just(CURL_FLAGS), junk_scalar))
def test_isc_first_call_random_layouts(
    manual_cred: sc.CredHandle, inp: object, out: object, flags: Any
) -> None:
    ctx = sc.CtxtHandle()
    with no_unexpected_exceptions():
        status = sc.InitializeSecurityContext(
            manual_cred,
            None,
            "localhost",
            flags,
            0,
            0,
            inp,
            0,
            ctx,
            out,
            sc.ULONG(),
            None,
        )
    assert is_status(status)
    if status == sc.SEC_I_CONTINUE_NEEDED:
        assert sc.DeleteSecurityContext(ctx) == sc.SEC_E_OK
    else:
        assert ctx.is_null, "a failed first call must not write phNewContext"


@SETTINGS
@given(inp=desc_strategy(), out=desc_strategy(), flags=st.one_of(st.just(CURL_FLAGS), junk_scalar))
def test_isc_continuation_random_layouts(
    pki: peers.ServerPki, manual_cred: sc.CredHandle, inp: object, out: object, flags: object
) -> None:
    s = start(pki, manual_cred)
    with no_unexpected_exceptions():
        status = isc_continue(manual_cred, s.ctx, inp, out, flags)
        assert is_status(status)
        # Whatever happened, the context handle still works for the remaining calls.
        assert is_status(isc_continue(manual_cred, s.ctx, token_in(s.flight), curl_out()))
    assert sc.DeleteSecurityContext(s.ctx) == sc.SEC_E_OK


@pytest.fixture(scope="module")
def shared_established(pki: peers.ServerPki, manual_cred: sc.CredHandle) -> Iterator[CurlLoop]:
    loop = establish(pki, manual_cred)
    yield loop
    sc.DeleteSecurityContext(loop.ctx)


@SETTINGS
@given(msg=desc_strategy(), qop=st.one_of(st.just(0), junk_scalar))
def test_encrypt_random_layouts(shared_established: CurlLoop, msg: object, qop: object) -> None:
    with no_unexpected_exceptions():
        status = sc.EncryptMessage(shared_established.ctx, qop, msg, 0)  # type: ignore[arg-type]
    assert is_status(status)


@SETTINGS
@given(msg=desc_strategy())
def test_decrypt_random_layouts(
    pki: peers.ServerPki, manual_cred: sc.CredHandle, msg: object
) -> None:
    loop = establish(pki, manual_cred)
    with no_unexpected_exceptions():
        status = sc.DecryptMessage(loop.ctx, msg, 0, None)
    assert is_status(status)
    assert status != sc.SEC_E_OK  # there was nothing from the server to decrypt
    sc.DeleteSecurityContext(loop.ctx)


@SETTINGS
@given(data=st.one_of(st.binary(max_size=600), st.lists(record_like, max_size=3).map(b"".join)))
def test_decrypt_random_bytes(
    pki: peers.ServerPki, manual_cred: sc.CredHandle, data: bytes
) -> None:
    loop = establish(pki, manual_cred)
    with no_unexpected_exceptions():
        status = sc.DecryptMessage(loop.ctx, decrypt_desc(data), 0, None)
        assert is_status(status)
        # Forging a record that opens would take breaking AES-GCM.
        assert status not in (sc.SEC_E_OK, sc.SEC_I_RENEGOTIATE, sc.SEC_I_CONTEXT_EXPIRED)
        if status != sc.SEC_E_INCOMPLETE_MESSAGE:
            # A rejected record kills the context: genuine data no longer opens.
            good = loop.server.write(b"after")
            assert sc.DecryptMessage(loop.ctx, decrypt_desc(good), 0, None) != sc.SEC_E_OK
    sc.DeleteSecurityContext(loop.ctx)


# --- ApplyControlToken ---------------------------------------------------------------------------------


@SETTINGS
@given(
    payload=st.one_of(
        st.binary(max_size=24),
        st.builds(
            lambda t, rest: struct.pack("<I", t) + rest,
            st.integers(0, 4),
            st.binary(max_size=12),
        ),
    ),
    btype=st.one_of(st.just(sc.SECBUFFER_TOKEN), type_strategy),
    lie=st.integers(-4, 4),
)
def test_apply_control_token_random(
    manual_cred: sc.CredHandle, payload: bytes, btype: object, lie: int
) -> None:
    ctx, _ = first_isc(manual_cred)
    desc = sc.SecBufferDesc([raw_buffer(len(payload) + lie, btype, payload)])
    with no_unexpected_exceptions():
        status = sc.ApplyControlToken(ctx, desc)
        assert status in (
            sc.SEC_E_OK,
            sc.SEC_E_INVALID_TOKEN,
            sc.SEC_E_UNSUPPORTED_FUNCTION,
        )
        token = int.from_bytes(payload[:4], "little") if len(payload) >= 4 else None
        # A buffer that claims more bytes than it holds is a bad token; one that
        # claims fewer is read up to cbBuffer.
        valid = btype == sc.SECBUFFER_TOKEN and lie <= 0 and len(payload) + lie >= 4
        if valid and token == sc.SCHANNEL_SHUTDOWN:
            assert status == sc.SEC_E_OK
        if valid and token == sc.SCHANNEL_RENEGOTIATE:
            assert status == sc.SEC_E_UNSUPPORTED_FUNCTION
        out = sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_EMPTY)])
        nxt = isc_continue(manual_cred, ctx, None, out)
        if status == sc.SEC_E_OK and token in (sc.SCHANNEL_SHUTDOWN, sc.SCHANNEL_ALERT):
            assert nxt == sc.SEC_E_OK
            record = out.pBuffers[0].data()
            assert record[:5] == bytes.fromhex("1503010002")
        else:
            assert nxt == sc.SEC_E_INCOMPLETE_MESSAGE
    sc.DeleteSecurityContext(ctx)


@SETTINGS
@given(desc=desc_strategy())
def test_apply_control_token_random_layouts(manual_cred: sc.CredHandle, desc: object) -> None:
    ctx, _ = first_isc(manual_cred)
    with no_unexpected_exceptions():
        status = sc.ApplyControlToken(ctx, desc)
    assert is_status(status)
    sc.DeleteSecurityContext(ctx)


# --- AcquireCredentialsHandle -----------------------------------------------------------------------------


crypto_strategy = st.one_of(
    st.builds(
        sc.CRYPTO_SETTINGS,
        eAlgorithmUsage=st.one_of(st.integers(-1, 6), junk_scalar),
        strCngAlgId=st.one_of(
            st.sampled_from(["AES", "CHACHA20_POLY1305", "SHA384", "ECDH", "CURVE25519", ""]),
            junk_scalar,
        ),
        cChainingModes=st.one_of(st.integers(-1, 20), junk_scalar),
        dwMinBitLength=st.one_of(st.integers(-1, 512), junk_scalar),
        dwMaxBitLength=st.one_of(st.integers(-1, 512), junk_scalar),
    ),
    junk_scalar,
)
params_strategy = st.one_of(
    st.builds(
        sc.TLS_PARAMETERS,
        cAlpnIds=st.one_of(st.just(0), junk_scalar),
        grbitDisabledProtocols=st.one_of(st.integers(0, 2**32 - 1), junk_scalar),
        cDisabledCrypto=st.one_of(st.integers(-1, 20), junk_scalar),
        pDisabledCrypto=st.one_of(st.none(), st.lists(crypto_strategy, max_size=18), junk_scalar),
        dwFlags=st.one_of(st.integers(0, 2**32 - 1), junk_scalar),
    ),
    junk_scalar,
)
auth_strategy = st.one_of(
    junk_scalar,
    st.builds(
        sc.SCHANNEL_CRED,
        dwVersion=st.one_of(st.integers(0, 6), junk_scalar),
        cCreds=st.one_of(st.integers(-1, 3), junk_scalar),
        paCred=st.one_of(st.none(), st.lists(junk_scalar, max_size=3), junk_scalar),
        cSupportedAlgs=st.one_of(st.integers(-1, 300), junk_scalar),
        palgSupportedAlgs=st.one_of(st.none(), st.lists(st.integers(0, 0xFFFF)), junk_scalar),
        grbitEnabledProtocols=st.one_of(st.integers(0, 2**32 - 1), junk_scalar),
        dwMinimumCipherStrength=st.one_of(st.integers(-1, 2**32 - 1), junk_scalar),
        dwMaximumCipherStrength=st.one_of(st.integers(-1, 2**32 - 1), junk_scalar),
        dwSessionLifespan=st.one_of(st.integers(0, 2**32 - 1), junk_scalar),
        dwFlags=st.one_of(st.integers(0, 2**32 - 1), junk_scalar),
    ),
    st.builds(
        sc.SCH_CREDENTIALS,
        dwVersion=st.one_of(st.integers(0, 6), junk_scalar),
        cCreds=st.one_of(st.integers(-1, 3), junk_scalar),
        paCred=st.one_of(st.none(), st.lists(junk_scalar, max_size=3), junk_scalar),
        dwSessionLifespan=st.one_of(st.integers(0, 2**32 - 1), junk_scalar),
        dwFlags=st.one_of(st.integers(0, 2**32 - 1), junk_scalar),
        cTlsParameters=st.one_of(st.integers(-1, 20), junk_scalar),
        pTlsParameters=st.one_of(st.none(), st.lists(params_strategy, max_size=18), junk_scalar),
    ),
)


@SETTINGS
@given(
    auth=auth_strategy,
    use=st.one_of(st.sampled_from([1, 2, 3, 0, 4, 0x12]), junk_scalar),
    package=st.one_of(st.just(sc.UNISP_NAME), junk_scalar),
    handle=st.one_of(st.builds(sc.CredHandle), junk_scalar),
)
def test_ach_garbage(auth: object, use: Any, package: Any, handle: Any) -> None:
    with no_unexpected_exceptions():
        status = sc.AcquireCredentialsHandle(
            None,
            package,
            use,
            None,
            auth,
            None,
            None,
            handle,
            sc.TimeStamp(),
        )
    assert is_status(status)
    if status == sc.SEC_E_OK:
        assert isinstance(handle, sc.CredHandle)
        info = sc.SecPkgCred_SupportedProtocols()
        with no_unexpected_exceptions():
            q = sc.QueryCredentialsAttributes(handle, sc.SECPKG_ATTR_SUPPORTED_PROTOCOLS, info)
            assert q == sc.SEC_E_OK
            strengths = sc.SecPkgCred_CipherStrengths()
            assert is_status(
                sc.QueryCredentialsAttributes(handle, sc.SECPKG_ATTR_CIPHER_STRENGTHS, strengths)
            )
            ctx = sc.CtxtHandle()
            out = sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_EMPTY)])
            first = sc.InitializeSecurityContext(
                handle, None, "localhost", CURL_FLAGS, 0, 0, None, 0, ctx, out, None, None
            )
            assert is_status(first)
        if first == sc.SEC_I_CONTINUE_NEEDED:
            sc.DeleteSecurityContext(ctx)
        assert sc.FreeCredentialsHandle(handle) == sc.SEC_E_OK


# --- wrong handles everywhere -----------------------------------------------------------------------------


def _all_calls(handle: object, cred: sc.CredHandle) -> list[tuple[str, Callable[[], object]]]:
    out = sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_EMPTY)])
    shutdown = sc.SecBufferDesc([sc.SecBuffer(4, sc.SECBUFFER_TOKEN, struct.pack("<I", 1))])
    h: Any = handle
    return [
        ("FreeCredentialsHandle", lambda: sc.FreeCredentialsHandle(h)),
        (
            "QueryCredentialsAttributes",
            lambda: sc.QueryCredentialsAttributes(
                h, sc.SECPKG_ATTR_SUPPORTED_PROTOCOLS, sc.SecPkgCred_SupportedProtocols()
            ),
        ),
        (
            "ISC(first, cred)",
            lambda: sc.InitializeSecurityContext(
                h, None, "x", CURL_FLAGS, 0, 0, None, 0, sc.CtxtHandle(), out, None, None
            ),
        ),
        (
            "ISC(ctx)",
            lambda: sc.InitializeSecurityContext(
                cred, h, "x", CURL_FLAGS, 0, 0, token_in(b""), 0, None, curl_out(), None, None
            ),
        ),
        ("DeleteSecurityContext", lambda: sc.DeleteSecurityContext(h)),
        ("ApplyControlToken", lambda: sc.ApplyControlToken(h, shutdown)),
        (
            "QueryContextAttributes",
            lambda: sc.QueryContextAttributes(
                h, sc.SECPKG_ATTR_STREAM_SIZES, sc.SecPkgContext_StreamSizes()
            ),
        ),
        ("EncryptMessage", lambda: sc.EncryptMessage(h, 0, decrypt_desc(b"x"), 0)),
        ("DecryptMessage", lambda: sc.DecryptMessage(h, decrypt_desc(b"x"), 0, None)),
    ]


@SETTINGS
@given(handle=handle_junk)
def test_wrong_handles_everywhere(manual_cred: sc.CredHandle, handle: object) -> None:
    for name, call in _all_calls(handle, manual_cred):
        if name == "ISC(ctx)" and handle is None:
            continue  # a NULL context is a first call, not a wrong handle
        with no_unexpected_exceptions():
            status = call()
        assert status == sc.SEC_E_INVALID_HANDLE, (name, handle, status)


def test_handles_of_the_other_kind(pki: peers.ServerPki, manual_cred: sc.CredHandle) -> None:
    """A live credential handle is not a context handle, and the other way round."""
    s = start(pki, manual_cred)
    as_ctx = sc.CtxtHandle(manual_cred.dwLower, manual_cred.dwUpper)
    for name, call in _all_calls(as_ctx, manual_cred):
        if not name.startswith(("FreeCred", "QueryCred", "ISC(first")):
            assert call() == sc.SEC_E_INVALID_HANDLE, name
    as_cred = sc.CredHandle(s.ctx.dwLower, s.ctx.dwUpper)
    for name, call in _all_calls(as_cred, manual_cred):
        if name.startswith(("FreeCred", "QueryCred", "ISC(first")):
            assert call() == sc.SEC_E_INVALID_HANDLE, name
    # Neither was harmed.
    assert isc_continue(manual_cred, s.ctx, token_in(s.flight), curl_out()) == sc.SEC_E_OK
    sc.DeleteSecurityContext(s.ctx)


# --- no state lost after a layout error --------------------------------------------------------------


def _bad_calls(flight: bytes) -> dict[str, tuple[Callable[[], object], Callable[[], object]]]:
    """(pInput, pOutput) factories for calls that must fail without consuming input."""
    partial = flight + b"\x17\x03\x03"

    def desc(*bufs: sc.SecBuffer) -> Callable[[], object]:
        return lambda: sc.SecBufferDesc(list(bufs))

    tok = sc.SecBuffer(len(flight), sc.SECBUFFER_TOKEN, flight)
    return {
        "empty-companion-cb": (desc(tok, sc.SecBuffer(5, sc.SECBUFFER_EMPTY)), curl_out),
        "empty-companion-pv": (
            desc(tok, sc.SecBuffer(0, sc.SECBUFFER_EMPTY, bytearray(4))),
            curl_out,
        ),
        "no-token": (desc(sc.SecBuffer(), sc.SecBuffer()), curl_out),
        "token-cb-too-big": (
            desc(sc.SecBuffer(len(flight) + 1, sc.SECBUFFER_TOKEN, flight), sc.SecBuffer()),
            curl_out,
        ),
        "token-null-pv": (
            desc(sc.SecBuffer(len(flight), sc.SECBUFFER_TOKEN, None), sc.SecBuffer()),
            curl_out,
        ),
        "input-not-a-desc": (lambda: [tok, sc.SecBuffer()], curl_out),
        "cbuffers-too-big": (lambda: raw_desc([tok, sc.SecBuffer()], 5), curl_out),
        "not-a-secbuffer": (lambda: raw_desc([tok, b"junk"], 2), curl_out),
        "single-token-partial": (
            desc(sc.SecBuffer(len(partial), sc.SECBUFFER_TOKEN, partial)),
            curl_out,
        ),
        "output-none": (lambda: token_in(flight), lambda: None),
        "output-alert-only": (
            lambda: token_in(flight),
            lambda: sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_ALERT)]),
        ),
        "input-none": (lambda: None, curl_out),
    }


LAYOUT_ERRORS = (
    sc.SEC_E_INVALID_TOKEN,
    sc.SEC_E_INCOMPLETE_MESSAGE,
    sc.SEC_E_INSUFFICIENT_MEMORY,
)


@SETTINGS
@given(
    names=st.lists(st.sampled_from(sorted(_bad_calls(b"x"))), min_size=1, max_size=4),
    cuts=st.lists(st.integers(0, 10**6), max_size=2),
)
def test_retry_after_layout_error_completes(
    pki: peers.ServerPki, manual_cred: sc.CredHandle, names: list[str], cuts: list[int]
) -> None:
    s = start(pki, manual_cred)
    first_record = 5 + int.from_bytes(s.flight[3:5], "big")
    bad = _bad_calls(s.flight)
    with no_unexpected_exceptions():
        for name in names:
            make_in, make_out = bad[name]
            new = sc.CtxtHandle(7, 9)
            status = sc.InitializeSecurityContext(
                manual_cred, s.ctx, "localhost", CURL_FLAGS, 0, 0, make_in(), 0, new, make_out(),
                None, None,
            )  # fmt: skip
            assert status in LAYOUT_ERRORS, (name, status)
            assert (new.dwLower, new.dwUpper) == (7, 9)
        for cut in cuts:
            # A prefix of the first record: INCOMPLETE, nothing consumed.
            inp = token_in(s.flight[: cut % first_record])
            assert isc_continue(manual_cred, s.ctx, inp, curl_out()) == sc.SEC_E_INCOMPLETE_MESSAGE
            assert inp.pBuffers[1].BufferType == sc.SECBUFFER_MISSING
        # No-ALLOCATE output that is too small to hold anything.
        small = sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_TOKEN)])
        assert (
            isc_continue(manual_cred, s.ctx, token_in(s.flight), small, CURL_FLAGS & ~0x100)
            == sc.SEC_E_INSUFFICIENT_MEMORY
        )
        out = curl_out()
        assert isc_continue(manual_cred, s.ctx, token_in(s.flight), out) == sc.SEC_E_OK
    s.server.feed(out.pBuffers[0].data())
    assert s.server.handshake_done
    sc.DeleteSecurityContext(s.ctx)
