"""``schannel_py.pywin32``: pywin32's SSPI surface, quirk by quirk, in memory.

Every expectation is pywin32's documented behaviour (docs/pywin32.md, which cites
pywin32's ``win32/src/win32security.i``, ``win32/src/win32security_sspi.cpp``,
``win32/src/PyWinTypesmodule.cpp``, ``win32/src/PyTime.cpp`` and
pywin32's ``win32/Lib/sspicon.py`` at ``mhammond/pywin32@3cc9680c2e22``), written out here as
numbers and messages, never read back from the front itself.  The peer is Python's
``ssl`` over memory BIOs (``schannel_py.testing.memserver``).
"""

from __future__ import annotations

import datetime
import importlib
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import schannel_py.pywin32 as front
from schannel_py.pywin32 import extras
from schannel_py.testing.memserver import MemoryServer
from tests.support import peers

# pywin32's values (sspicon.py; winerror.h signed as a C LONG).
SEC_E_OK = 0
SEC_I_CONTINUE_NEEDED = 590610
SEC_I_RENEGOTIATE = 590625
SEC_I_CONTEXT_EXPIRED = 590615
SEC_E_INCOMPLETE_MESSAGE = -2146893032
SEC_E_UNTRUSTED_ROOT = -2146893019
SEC_E_UNSUPPORTED_FUNCTION = -2146893054
SEC_E_SECPKG_NOT_FOUND = -2146893051
SEC_E_INVALID_HANDLE = -2146893055
SEC_E_NO_CREDENTIALS = -2146893042
SECBUFFER_EMPTY, SECBUFFER_DATA, SECBUFFER_TOKEN, SECBUFFER_EXTRA = 0, 1, 2, 5
SECBUFFER_STREAM_TRAILER, SECBUFFER_STREAM_HEADER = 6, 7
ISC_REQ_ALLOCATE_MEMORY = 0x100
MAX_TOKEN = 24576
FLAGS = (
    0x4 | 0x8 | 0x10 | 0x4000 | 0x8000
)  # REPLAY | SEQUENCE | CONFIDENTIALITY | EXTENDED_ERROR | STREAM
UNISP = "Microsoft Unified Security Protocol Provider"


@pytest.fixture
def pw() -> Iterator[types.SimpleNamespace]:
    """The four modules, imported by pywin32's names after install()."""
    front.install()
    try:
        yield types.SimpleNamespace(
            win32security=importlib.import_module("win32security"),
            sspicon=importlib.import_module("sspicon"),
            sspi=importlib.import_module("sspi"),
            pywintypes=importlib.import_module("pywintypes"),
        )
    finally:
        front.uninstall()


@pytest.fixture
def server(pki: peers.ServerPki, root_certs_env: Path) -> MemoryServer:
    return MemoryServer(Path(pki.ecdsa.fullchain), Path(pki.ecdsa.key))


def _desc(w: Any, *specs: tuple[int, int, bytes | None]) -> Any:
    desc = w.PySecBufferDescType()
    for size, btype, data in specs:
        buf = w.PySecBufferType(size, btype)
        if data is not None:
            buf.Buffer = data
        desc.append(buf)
    return desc


def _start(w: Any) -> tuple[Any, Any, Any, tuple[int, int, Any]]:
    cred, _ = w.AcquireCredentialsHandle(None, UNISP, 2, None, None)
    ctxt = w.PyCtxtHandleType()
    out = _desc(w, (MAX_TOKEN, SECBUFFER_TOKEN, None))
    result = w.InitializeSecurityContext(cred, None, "localhost", FLAGS, 0, None, ctxt, out)
    return cred, ctxt, out, result


def _handshake(w: Any, server: MemoryServer) -> tuple[Any, Any]:
    """A full handshake through pywin32's calls; the server's tickets wait in
    ``server.to_client``."""
    cred, ctxt, out, (err, _, _) = _start(w)
    assert err == SEC_I_CONTINUE_NEEDED
    flight = server.feed(out[0].Buffer)
    out = _desc(w, (MAX_TOKEN, SECBUFFER_TOKEN, None))
    inp = _desc(w, (len(flight), SECBUFFER_TOKEN, flight), (0, SECBUFFER_EMPTY, None))
    err, _, _ = w.InitializeSecurityContext(cred, ctxt, "localhost", FLAGS, 0, inp, ctxt, out)
    assert err == SEC_E_OK
    server.client_send(out[0].Buffer)
    return cred, ctxt


# --- install() / uninstall() -------------------------------------------------------------


def test_install_registers_the_four_names_once_and_uninstall_removes_them() -> None:
    names = ("win32security", "sspicon", "sspi", "pywintypes")
    assert not any(n in sys.modules for n in names)
    front.install()
    try:
        first = [sys.modules[n] for n in names]
        front.install()  # twice: nothing happens
        assert [sys.modules[n] for n in names] == first
        import sspi
        import win32security

        assert sspi.error is win32security.error
        assert win32security.error is sys.modules["pywintypes"].error
    finally:
        front.uninstall()
    assert not any(n in sys.modules for n in names)


def test_install_refuses_on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    with pytest.raises(front.InstallError, match="Windows"):
        front.install()
    assert "win32security" not in sys.modules


def test_install_refuses_when_pywin32_is_importable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "win32security.py").write_text("REAL = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(front.InstallError, match="win32security"):
        front.install()
    assert "sspicon" not in sys.modules


def test_install_refuses_over_a_module_already_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pywintypes", types.ModuleType("pywintypes"))
    with pytest.raises(front.InstallError, match="pywintypes"):
        front.install()
    assert "win32security" not in sys.modules


# --- sspicon -----------------------------------------------------------------------------


def test_sspicon_values_and_signedness_are_pywin32s(pw: types.SimpleNamespace) -> None:
    s = pw.sspicon
    assert s.SEC_E_INCOMPLETE_MESSAGE == -2146893032
    assert s.SEC_E_UNTRUSTED_ROOT == -2146893019
    assert s.SEC_I_CONTINUE_NEEDED == 590610
    assert s.SEC_I_RENEGOTIATE == 590625
    assert s.SEC_I_CONTEXT_EXPIRED == 590615
    assert s.SEC_I_INCOMPLETE_CREDENTIALS == 590624
    assert (s.SECBUFFER_STREAM_HEADER, s.SECBUFFER_STREAM_TRAILER, s.SECBUFFER_EXTRA) == (7, 6, 5)
    assert s.SECBUFFER_READONLY == -2147483648
    assert s.SECBUFFER_ATTRMASK == -268435456
    assert s.SECQOP_WRAP_NO_ENCRYPT == -2147483647
    assert s.SECPKG_CRED_RESERVED == -268435456
    assert s.SECPKG_ATTR_STREAM_SIZES == 4 and s.SECPKG_ATTR_REMOTE_CERT_CONTEXT == 83
    assert s.SECPKG_ATTR_CONNECTION_INFO == 90 and s.SECPKG_ATTR_NATIVE_NAMES == 13
    assert s.ISC_REQ_ALLOCATE_MEMORY == 0x100 and s.ISC_REQ_STREAM == 0x8000
    assert s.SECURITY_NETWORK_DREP == 0 and s.SECURITY_NATIVE_DREP == 16
    assert s.ASC_REQ_STREAM == 0x10000 and s.SEC_WINNT_AUTH_IDENTITY_UNICODE == 2
    assert s.SEC_SUCCESS(s.SEC_I_RENEGOTIATE) and not s.SEC_SUCCESS(s.SEC_E_INCOMPLETE_MESSAGE)
    for name in dir(s):
        value = getattr(s, name)
        if name.startswith("SEC_E_") and name != "SEC_E_OK":
            assert type(value) is int and value < 0, name
        if name.startswith("SEC_I_"):
            assert type(value) is int and value > 0, name
    # pywin32's sspicon has none of SChannel's own names; extras has them.
    for name in ("SECBUFFER_ALERT", "SECBUFFER_APPLICATION_PROTOCOLS", "UNISP_NAME"):
        assert not hasattr(s, name)
    assert extras.SECBUFFER_APPLICATION_PROTOCOLS == 18 and extras.SCHANNEL_SHUTDOWN == 1


# --- pywintypes --------------------------------------------------------------------------


def test_pywintypes_error_and_time(pw: types.SimpleNamespace) -> None:
    p = pw.pywintypes
    e = p.error(-2146893032, "DecryptMessage", "text")
    assert (e.winerror, e.funcname, e.strerror) == (-2146893032, "DecryptMessage", "text")
    assert e.args == (-2146893032, "DecryptMessage", "text")
    assert p.error.__module__ == "pywintypes" and issubclass(p.error, Exception)
    bare = p.error()
    assert (bare.winerror, bare.funcname, bare.strerror) == (None, None, None)
    assert p.TimeStamp(0x7FFFFFFFFFFFFFFF) == datetime.datetime.max  # year 30828
    start = p.TimeStamp(0)
    assert isinstance(start, p.TimeType) and isinstance(start, datetime.datetime)
    assert start == datetime.datetime(1601, 1, 1, tzinfo=datetime.timezone.utc)
    assert p.TimeStamp(116444736000000000).Format("%Y-%m-%d") == "1970-01-01"


# --- PySecBuffer / PySecBufferDesc -----------------------------------------------------


def test_pysecbuffer_members(pw: types.SimpleNamespace) -> None:
    w = pw.win32security
    buf = w.PySecBufferType(BufferSize=8, BufferType=SECBUFFER_TOKEN)
    assert type(buf).__name__ == "PySecBuffer"
    assert (buf.BufferSize, buf.MaxBufferSize, buf.BufferType) == (8, 8, SECBUFFER_TOKEN)
    assert buf.Buffer == bytes(8)
    buf.Buffer = b"abc"
    assert buf.BufferSize == 3 and buf.Buffer == b"abc"
    buf.Buffer = memoryview(b"xy")
    assert buf.Buffer == b"xy"
    with pytest.raises(
        ValueError, match=r"Data size \(9\) greater than allocated buffer size \(8\)"
    ):
        buf.Buffer = bytes(9)
    with pytest.raises(TypeError):
        buf.Buffer = "text"
    with pytest.raises(AttributeError):
        buf.MaxBufferSize = 20
    buf.Clear()
    assert buf.BufferSize == 8 and buf.Buffer == bytes(8)
    buf.BufferType = pw.sspicon.SECBUFFER_READONLY | SECBUFFER_TOKEN
    assert buf.BufferType == 0x80000002
    with pytest.raises(TypeError):
        w.PySecBufferType(8)
    with pytest.raises(OverflowError):
        w.PySecBufferType(1 << 40, SECBUFFER_TOKEN)
    assert w.PySecBufferType(0, SECBUFFER_EMPTY).Buffer == b""


def test_pysecbufferdesc_sequence(pw: types.SimpleNamespace) -> None:
    w = pw.win32security
    desc = w.PySecBufferDescType()
    assert desc.Version == 0 and len(desc) == 0
    a, b = w.PySecBufferType(4, SECBUFFER_TOKEN), w.PySecBufferType(0, SECBUFFER_EMPTY)
    desc.append(a)
    desc.append(b)
    assert len(desc) == 2 and desc[0] is a and desc[1] is b and desc[-1] is b
    assert list(desc) == [a, b]
    c = w.PySecBufferType(1, SECBUFFER_DATA)
    desc[1] = c
    assert desc[1] is c
    with pytest.raises(NotImplementedError, match="Removing buffers not yet supported"):
        del desc[0]
    with pytest.raises(IndexError):
        desc[2]
    with pytest.raises(TypeError, match="Object must be a PySecBuffer"):
        desc.append(b"bytes")
    with pytest.raises(TypeError, match="Object must be a PySecBuffer"):
        desc[0] = "x"
    assert w.PySecBufferDescType(Version=3).Version == 3
    assert w.SecBufferDescType is w.PySecBufferDescType and w.SecBufferType is w.PySecBufferType


# --- AcquireCredentialsHandle / QuerySecurityPackageInfo ------------------------------


def test_acquire_credentials_handle_shapes(pw: types.SimpleNamespace) -> None:
    w = pw.win32security
    cred, expiry = w.AcquireCredentialsHandle(None, UNISP, 2, None, None)
    assert type(cred).__name__ == "PyCredHandle" and isinstance(cred, w.PyCredHandleType)
    assert expiry == datetime.datetime.max  # never expires: year > 9999
    with pytest.raises(TypeError, match=r"AuthData must be a tuple of 3 strings \(or None\)"):
        w.AcquireCredentialsHandle(None, UNISP, 2, None, ["u", "d", "p"])
    with pytest.raises(TypeError, match="AuthData must be a tuple of 3 strings"):
        w.AcquireCredentialsHandle(None, UNISP, 2, None, ("u", "d"))
    with pytest.raises(w.error) as info:
        w.AcquireCredentialsHandle(None, UNISP, 2, None, ("u", "d", "p"))
    assert info.value.funcname == "AcquireCredentialsHandle" and info.value.winerror < 0
    with pytest.raises(NotImplementedError, match="GetKeyFn and arguments are not supported"):
        w.AcquireCredentialsHandle(None, UNISP, 2, None, None, print)
    with pytest.raises(w.error) as info:
        w.AcquireCredentialsHandle(None, "NTLM", 2, None, None)
    assert info.value.winerror == SEC_E_SECPKG_NOT_FOUND
    with pytest.raises(TypeError):
        w.AcquireCredentialsHandle(
            None, Package=UNISP, CredentialUse=2, LogonID=None, AuthData=None
        )
    cred.FreeCredentialsHandle()
    with pytest.raises(w.error) as info:
        cred.FreeCredentialsHandle()
    assert info.value.winerror == SEC_E_INVALID_HANDLE


def test_query_security_package_info(pw: types.SimpleNamespace) -> None:
    w = pw.win32security
    for name in ("Schannel", UNISP, "Default TLS SSP"):
        info = w.QuerySecurityPackageInfo(name)
        assert info == {
            "Capabilities": 0x004107B3,
            "Version": 1,
            "RPCID": 14,
            "MaxToken": 24576,
            "Name": name,
            "Comment": "Schannel Security Package",
        }
    with pytest.raises(w.error) as e:
        w.QuerySecurityPackageInfo("Kerberos")
    assert e.value.winerror == SEC_E_SECPKG_NOT_FOUND
    assert e.value.funcname == "QuerySecurityPackageInfo"
    assert {p["Name"] for p in w.EnumerateSecurityPackages()} == {
        "Schannel",
        UNISP,
        "Default TLS SSP",
    }


def test_credential_attributes(pw: types.SimpleNamespace) -> None:
    w, s = pw.win32security, pw.sspicon
    cred, _ = w.AcquireCredentialsHandle(None, UNISP, 2, None, None)
    with pytest.raises(NotImplementedError, match="Attribute is not supported yet"):
        cred.QueryCredentialsAttributes(s.SECPKG_ATTR_SUPPORTED_PROTOCOLS)
    with pytest.raises(w.error) as e:  # no client certificate: the query itself fails
        cred.QueryCredentialsAttributes(s.SECPKG_CRED_ATTR_NAMES)
    assert e.value.winerror == SEC_E_NO_CREDENTIALS
    assert e.value.funcname == "QueryCredentialsAttributes"
    assert isinstance(cred.Detach(), int)
    assert cred.Detach() == -1  # already detached: invalid


# --- InitializeSecurityContext --------------------------------------------------------


def test_first_isc_returns_continue_needed_and_fills_only_the_output(
    pw: types.SimpleNamespace,
) -> None:
    w = pw.win32security
    cred, ctxt, out, (err, attr, expiry) = _start(w)
    assert err == SEC_I_CONTINUE_NEEDED == pw.sspicon.SEC_I_CONTINUE_NEEDED
    assert isinstance(attr, int) and isinstance(expiry, datetime.datetime)
    token = out[0]
    assert token.MaxBufferSize == MAX_TOKEN and 0 < token.BufferSize < MAX_TOKEN
    assert token.Buffer[:1] == b"\x16"  # a handshake record: the ClientHello
    assert ctxt.Detach() not in (-1, 0)


def test_isc_allocate_memory_is_not_implemented(pw: types.SimpleNamespace) -> None:
    w = pw.win32security
    cred, _ = w.AcquireCredentialsHandle(None, UNISP, 2, None, None)
    out = _desc(w, (MAX_TOKEN, SECBUFFER_TOKEN, None))
    with pytest.raises(
        NotImplementedError, match="Use of ISC_REQ_ALLOCATE_MEMORY is not yet supported"
    ):
        w.InitializeSecurityContext(
            cred,
            None,
            "localhost",
            FLAGS | ISC_REQ_ALLOCATE_MEMORY,
            0,
            None,
            w.PyCtxtHandleType(),
            out,
        )
    assert out[0].BufferSize == MAX_TOKEN


def test_isc_argument_errors(pw: types.SimpleNamespace) -> None:
    w = pw.win32security
    cred, _ = w.AcquireCredentialsHandle(None, UNISP, 2, None, None)
    out = _desc(w, (MAX_TOKEN, SECBUFFER_TOKEN, None))
    ctxt = w.PyCtxtHandleType()
    with pytest.raises(ValueError, match="Credentials handle cannot be NULL"):
        w.InitializeSecurityContext(None, None, "localhost", FLAGS, 0, None, ctxt, out)
    with pytest.raises(ValueError, match="Context handle cannot be NULL"):
        w.InitializeSecurityContext(cred, None, "localhost", FLAGS, 0, None, None, out)
    with pytest.raises(ValueError, match="PySecBufferDesc cannot be None in this context"):
        w.InitializeSecurityContext(cred, None, "localhost", FLAGS, 0, None, ctxt, None)
    with pytest.raises(TypeError, match="Object must be a PySecBufferDesc"):
        w.InitializeSecurityContext(cred, None, "localhost", FLAGS, 0, [], ctxt, out)
    with pytest.raises(TypeError, match="Object must be a PyCredHandle"):
        w.InitializeSecurityContext(ctxt, None, "localhost", FLAGS, 0, None, ctxt, out)
    with pytest.raises(OverflowError):  # ContextReq is a C long
        w.InitializeSecurityContext(cred, None, "localhost", 1 << 32, 0, None, ctxt, out)
    with pytest.raises(TypeError):  # positional only
        w.InitializeSecurityContext(
            cred, None, "localhost", FLAGS, 0, None, NewContext=ctxt, pOutput=out
        )


def test_isc_input_is_never_copied_back(pw: types.SimpleNamespace, server: MemoryServer) -> None:
    """Only pOutput is synced (win32security.i:3511): an EXTRA the call leaves in pInput
    is invisible; extras.InitializeSecurityContext shows it."""
    w = pw.win32security
    trailing = b"\x17\x03\x03\x00\x20"  # the start of a record after the server's Finished
    results, flights = {}, {}
    for isc in (w.InitializeSecurityContext, extras.InitializeSecurityContext):
        server_ = MemoryServer.for_context(server.context)
        cred, ctxt, out, _ = _start(w)
        flight = server_.feed(out[0].Buffer) + trailing
        inp = _desc(w, (len(flight), SECBUFFER_TOKEN, flight), (0, SECBUFFER_EMPTY, None))
        out = _desc(w, (MAX_TOKEN, SECBUFFER_TOKEN, None))
        err, _, _ = isc(cred, ctxt, "localhost", FLAGS, 0, inp, ctxt, out)
        assert err == SEC_E_OK and out[0].BufferSize > 0
        results[isc] = [(b.BufferType, b.BufferSize, b.Buffer) for b in inp]
        flights[isc] = flight
    flight = flights[w.InitializeSecurityContext]
    assert results[w.InitializeSecurityContext] == [
        (SECBUFFER_TOKEN, len(flight), flight),
        (SECBUFFER_EMPTY, 0, b""),
    ]
    assert results[extras.InitializeSecurityContext][1] == (
        SECBUFFER_EXTRA,
        len(trailing),
        trailing,
    )


def test_failure_status_raises_with_signed_winerror(pw: types.SimpleNamespace) -> None:
    w = pw.win32security
    cred, ctxt, out, _ = _start(w)
    garbage = b"\x15\x03\x03\x00\x02\x02\x28"  # a fatal handshake_failure alert
    inp = _desc(w, (len(garbage), SECBUFFER_TOKEN, garbage), (0, SECBUFFER_EMPTY, None))
    with pytest.raises(pw.pywintypes.error) as e:
        w.InitializeSecurityContext(cred, ctxt, "localhost", FLAGS, 0, inp, ctxt, out)
    assert e.value.winerror < 0 and e.value.funcname == "InitializeSecurityContext"
    assert isinstance(e.value.strerror, str) and not e.value.strerror.endswith("\n")


def test_incomplete_message_raises(pw: types.SimpleNamespace, server: MemoryServer) -> None:
    w = pw.win32security
    cred, ctxt, out, _ = _start(w)
    flight = server.feed(out[0].Buffer)
    part = flight[:10]  # inside the first record
    inp = _desc(w, (len(part), SECBUFFER_TOKEN, part), (0, SECBUFFER_EMPTY, None))
    out = _desc(w, (MAX_TOKEN, SECBUFFER_TOKEN, None))
    with pytest.raises(w.error) as e:
        w.InitializeSecurityContext(cred, ctxt, "localhost", FLAGS, 0, inp, ctxt, out)
    assert e.value.winerror == SEC_E_INCOMPLETE_MESSAGE == pw.sspicon.SEC_E_INCOMPLETE_MESSAGE
    assert out[0].BufferSize == MAX_TOKEN  # not synced: the call failed
    # SChannel's SECBUFFER_MISSING in input buffer 1 never reaches pywin32's caller.
    assert [(b.BufferType, b.BufferSize) for b in inp] == [
        (SECBUFFER_TOKEN, 10),
        (SECBUFFER_EMPTY, 0),
    ]


def test_partial_flight_continues_and_its_extra_is_invisible(
    pw: types.SimpleNamespace, server: MemoryServer
) -> None:
    """A flight cut after whole records: SChannel consumes them and returns
    SEC_I_CONTINUE_NEEDED (no exception: status >= 0) with the rest as EXTRA, which
    pywin32 never copies back, so its caller cannot know how much was consumed."""
    w = pw.win32security
    cred, ctxt, out, _ = _start(w)
    flight = server.feed(out[0].Buffer)
    sh_len = 5 + int.from_bytes(flight[3:5], "big")  # the ServerHello record
    part = flight[: sh_len + 3]
    inp = _desc(w, (len(part), SECBUFFER_TOKEN, part), (0, SECBUFFER_EMPTY, None))
    out = _desc(w, (MAX_TOKEN, SECBUFFER_TOKEN, None))
    err, _, _ = w.InitializeSecurityContext(cred, ctxt, "localhost", FLAGS, 0, inp, ctxt, out)
    assert err == SEC_I_CONTINUE_NEEDED
    assert [(b.BufferType, b.BufferSize) for b in inp] == [
        (SECBUFFER_TOKEN, len(part)),
        (SECBUFFER_EMPTY, 0),
    ]


# --- the context's methods --------------------------------------------------------------


def test_query_context_attributes(pw: types.SimpleNamespace, server: MemoryServer) -> None:
    w, s = pw.win32security, pw.sspicon
    cred, ctxt, _, _ = _start(w)
    # Before the server's Certificate: the package fails the query, so it is error.
    with pytest.raises(w.error) as e:
        ctxt.QueryContextAttributes(s.SECPKG_ATTR_REMOTE_CERT_CONTEXT)
    assert e.value.funcname == "QueryContextAttributes"
    cred, ctxt = _handshake(w, server)
    sizes = ctxt.QueryContextAttributes(s.SECPKG_ATTR_STREAM_SIZES)
    assert set(sizes) == {"Header", "Trailer", "MaximumMessage", "Buffers", "BlockSize"}
    assert (sizes["Header"], sizes["Trailer"], sizes["Buffers"]) == (5, 17, 4)
    info = ctxt.QueryContextAttributes(s.SECPKG_ATTR_CONNECTION_INFO)
    assert list(info) == [
        "Protocol",
        "Cipher",
        "CipherStrength",
        "Hash",
        "HashStrength",
        "Exch",
        "ExchStrength",
    ]
    assert info["Protocol"] == 0x2000  # SP_PROT_TLS1_3_CLIENT
    key = ctxt.QueryContextAttributes(s.SECPKG_ATTR_KEY_INFO)
    assert set(key) == {
        "SignatureAlgorithmName",
        "EncryptAlgorithmName",
        "KeySize",
        "SignatureAlgorithm",
        "EncryptAlgorithm",
    }
    assert isinstance(ctxt.QueryContextAttributes(s.SECPKG_ATTR_FLAGS), int)
    # The package answers, pywin32 has no decoder: NotImplementedError.
    for attr in (s.SECPKG_ATTR_REMOTE_CERT_CONTEXT, 35, 100):  # APPLICATION_PROTOCOL, CIPHER_INFO
        with pytest.raises(NotImplementedError, match="Attribute is not supported yet"):
            ctxt.QueryContextAttributes(attr)
    # The package does not answer: error (sspi.ClientAuth swallows it for NATIVE_NAMES).
    for attr in (s.SECPKG_ATTR_NATIVE_NAMES, s.SECPKG_ATTR_SIZES):
        with pytest.raises(w.error) as e:
            ctxt.QueryContextAttributes(attr)
        assert e.value.winerror == SEC_E_UNSUPPORTED_FUNCTION


def test_encrypt_then_decrypt_through_the_server(
    pw: types.SimpleNamespace, server: MemoryServer
) -> None:
    w = pw.win32security
    cred, ctxt = _handshake(w, server)
    sizes = ctxt.QueryContextAttributes(pw.sspicon.SECPKG_ATTR_STREAM_SIZES)
    msg = _desc(
        w,
        (sizes["Header"], SECBUFFER_STREAM_HEADER, None),
        (5, SECBUFFER_DATA, b"hello"),
        (sizes["Trailer"], SECBUFFER_STREAM_TRAILER, None),
        (0, SECBUFFER_EMPTY, None),
    )
    assert ctxt.EncryptMessage(0, msg, 0) is None
    record = msg[0].Buffer + msg[1].Buffer + msg[2].Buffer
    assert len(record) == 5 + 5 + 17 and msg[1].Buffer != b"hello"
    server.feed(record)
    assert server.read() == b"hello"
    # The server's tickets (sent after our Finished), then a reply: two SEC_I_RENEGOTIATE
    # raised as error, buffers synced first (EXTRA holds the rest), then the data.
    pending = server.client_recv(1 << 20) + server.write(b"world")
    renegotiations, plain = 0, b""
    while pending:
        desc = _desc(
            w,
            (len(pending), SECBUFFER_DATA, pending),
            (0, SECBUFFER_EMPTY, None),
            (0, SECBUFFER_EMPTY, None),
            (0, SECBUFFER_EMPTY, None),
        )
        try:
            assert ctxt.DecryptMessage(desc, 0) == 0
        except w.error as e:
            assert e.winerror == SEC_I_RENEGOTIATE and e.funcname == "DecryptMessage"
            renegotiations += 1
            out = _desc(w, (MAX_TOKEN, SECBUFFER_TOKEN, None))
            err, _, _ = w.InitializeSecurityContext(
                cred, ctxt, "localhost", FLAGS, 0, None, ctxt, out
            )
            assert err == SEC_E_OK
        types_ = [b.BufferType for b in desc]
        assert types_[0] == SECBUFFER_STREAM_HEADER  # synced even when it raised
        plain += b"".join(b.Buffer for b in desc if b.BufferType == SECBUFFER_DATA)
        extra = [b.Buffer for b in desc if b.BufferType == SECBUFFER_EXTRA]
        pending = extra[0] if extra else b""
    assert renegotiations == 2 and plain == b"world"


def test_decrypt_incomplete_record_raises_after_syncing_missing(
    pw: types.SimpleNamespace, server: MemoryServer
) -> None:
    """A partial record: error(SEC_E_INCOMPLETE_MESSAGE), and the SECBUFFER_MISSING
    SChannel wrote into buffer 0 is visible, copied back before the raise."""
    w = pw.win32security
    _, ctxt = _handshake(w, server)
    server.client_recv(1 << 20)  # the tickets: not needed here
    record = server.write(b"hello world")
    part = record[:8]
    desc = _desc(
        w,
        (len(part), SECBUFFER_DATA, part),
        (0, SECBUFFER_EMPTY, None),
        (0, SECBUFFER_EMPTY, None),
        (0, SECBUFFER_EMPTY, None),
    )
    with pytest.raises(w.error) as e:
        ctxt.DecryptMessage(desc, 0)
    assert e.value.winerror == SEC_E_INCOMPLETE_MESSAGE
    assert desc[0].BufferType == 4  # SECBUFFER_MISSING
    assert desc[0].BufferSize == len(record) - len(part)


def test_bad_layouts_are_pywintypes_errors(pw: types.SimpleNamespace, server: MemoryServer) -> None:
    """Layouts SChannel refuses come back as error, never another Python exception."""
    w = pw.win32security
    cred, ctxt = _handshake(w, server)
    layouts = [
        [(5, SECBUFFER_DATA, b"x" * 5)],
        [(5, SECBUFFER_TOKEN, b"x" * 5)] * 4,
        [(0, SECBUFFER_EMPTY, None)] * 4,
        [(5, SECBUFFER_DATA, b"x" * 5), (5, SECBUFFER_DATA, b"y" * 5)] * 2,
    ]
    for layout in layouts:
        for call in (
            lambda d: ctxt.DecryptMessage(d, 0),
            lambda d: ctxt.EncryptMessage(0, d, 0),
        ):
            with pytest.raises(w.error) as e:
                call(_desc(w, *layout))
            assert e.value.winerror < 0
    out = w.PySecBufferDescType()  # no output buffer at all
    with pytest.raises(w.error) as e:
        w.InitializeSecurityContext(cred, None, "localhost", FLAGS, 0, None, w.PyCtxtHandle(), out)
    assert e.value.winerror < 0 and e.value.funcname == "InitializeSecurityContext"
    big = _desc(w, (5, SECBUFFER_DATA, b"x" * 5))
    big[0].BufferSize = 100000  # larger than its memory: C would read past it
    with pytest.raises(w.error):
        ctxt.DecryptMessage(big, 0)
    assert big[0].Buffer == b"x" * 5


def test_encrypt_and_decrypt_failures_raise(pw: types.SimpleNamespace) -> None:
    w = pw.win32security
    ctxt = w.PyCtxtHandleType()  # never initialised: SEC_E_INVALID_HANDLE
    msg = _desc(w, (5, SECBUFFER_STREAM_HEADER, None), (1, SECBUFFER_DATA, b"x"))
    with pytest.raises(w.error) as e:
        ctxt.EncryptMessage(0, msg, 0)
    assert (e.value.winerror, e.value.funcname) == (SEC_E_INVALID_HANDLE, "EncryptMessage")
    with pytest.raises(w.error) as e:
        ctxt.DecryptMessage(msg, 0)
    assert (e.value.winerror, e.value.funcname) == (SEC_E_INVALID_HANDLE, "DecryptMessage")
    with pytest.raises(ValueError, match="PySecBufferDesc cannot be None in this context"):
        ctxt.DecryptMessage(None, 0)
    with pytest.raises(w.error) as e:
        ctxt.DeleteSecurityContext()
    assert e.value.winerror == SEC_E_INVALID_HANDLE
    assert ctxt.Detach() == -1


def test_delete_security_context_invalidates(pw: types.SimpleNamespace) -> None:
    w = pw.win32security
    _, ctxt, _, _ = _start(w)
    ctxt.DeleteSecurityContext()
    with pytest.raises(w.error) as e:
        ctxt.QueryContextAttributes(pw.sspicon.SECPKG_ATTR_FLAGS)
    assert e.value.winerror == SEC_E_INVALID_HANDLE
    assert ctxt.Detach() == -1


# --- extras ------------------------------------------------------------------------------


def test_extras_shutdown_certificate_and_alpn(
    pw: types.SimpleNamespace, server: MemoryServer, pki: peers.ServerPki
) -> None:
    w = pw.win32security
    cred, ctxt = _handshake(w, server)
    assert extras.peer_certificate(ctxt) == pki.ecdsa.issued.der
    assert extras.negotiated_alpn(ctxt) is None
    extras.shutdown(ctxt)
    out = _desc(w, (MAX_TOKEN, SECBUFFER_TOKEN, None))
    err, _, _ = w.InitializeSecurityContext(cred, ctxt, "localhost", FLAGS, 0, None, ctxt, out)
    assert err == SEC_E_OK and out[0].BufferSize > 0
    server.feed(out[0].Buffer)
    assert server.read() == b""  # the close_notify: end of data for the server
    with pytest.raises(TypeError):
        bad: Any = ("u", "d", "p")
        extras.AcquireCredentialsHandle(None, UNISP, 2, None, bad)
