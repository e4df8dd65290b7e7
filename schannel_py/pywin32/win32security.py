"""``win32security``'s SSPI part, as pywin32 binds it, over this package's SSPI functions.

Signatures, return shapes, exceptions and quirks follow pywin32's binding
(pywin32's ``win32/src/win32security.i`` and ``win32/src/win32security_sspi.cpp``
at ``mhammond/pywin32@3cc9680c2e22``; docs/pywin32.md cites the lines):

* module functions take positional arguments only; integers are C ``long``
  (32-bit: outside ``[-2**31, 2**31)`` is ``OverflowError``);
* a failed call raises :class:`pywintypes.error` ``(winerror, funcname, strerror)``
  with the **signed** status; InitializeSecurityContext and EncryptMessage raise
  only for statuses < 0 and return the others; DecryptMessage raises for every
  status but ``SEC_E_OK`` (``SEC_I_RENEGOTIATE`` and ``SEC_I_CONTEXT_EXPIRED``
  included);
* only the buffers pywin32 copies back are updated: InitializeSecurityContext's
  ``pOutput`` on success (never ``pInput``: ``SECBUFFER_EXTRA`` is invisible),
  EncryptMessage's on success, DecryptMessage's always, before it raises;
* ``ISC_REQ_ALLOCATE_MEMORY`` is ``NotImplementedError``, and so is a
  QueryContextAttributes attribute pywin32 cannot decode (after the package
  answered it: a failed query is ``error``).

SChannel-only calls (ApplyControlToken, the peer certificate, ALPN) are in
:mod:`schannel_py.pywin32.extras`, never methods of these types.
"""

from __future__ import annotations

import datetime as _dt
import operator
import weakref
from collections.abc import Callable, Iterator
from typing import Any, SupportsIndex

from .. import constants as C
from ..sspi import attributes as _attributes
from ..sspi import functions as F
from ..sspi.types import (
    PVOID,
    ULONG,
    CredHandle,
    CtxtHandle,
    SecBuffer,
    SecBufferDesc,
    SecHandle,
    SecInvalidateHandle,
    SecIsValidHandle,
    SecPkgContext_ConnectionInfo,
    SecPkgContext_Flags,
    SecPkgContext_IssuerListInfoEx,
    SecPkgContext_KeyInfo,
    SecPkgContext_StreamSizes,
    SecPkgCred_CipherStrengths,
    SecPkgCred_SupportedAlgs,
    SecPkgCred_SupportedProtocols,
    SecPkgCredentials_Names,
    SecPkgInfo,
    TimeStamp,
)
from .pywintypes import api_error, error, from_filetime, signed32

__all__ = [
    "AcceptSecurityContext",
    "AcquireCredentialsHandle",
    "CredHandleType",
    "CtxtHandleType",
    "EnumerateSecurityPackages",
    "InitializeSecurityContext",
    "PyCredHandle",
    "PyCredHandleType",
    "PyCtxtHandle",
    "PyCtxtHandleType",
    "PySecBuffer",
    "PySecBufferDesc",
    "PySecBufferDescType",
    "PySecBufferType",
    "QuerySecurityPackageInfo",
    "SecBufferDescType",
    "SecBufferType",
    "error",
]

_U32 = 0xFFFFFFFF
_NOT_SUPPORTED = "Attribute is not supported yet"


# --- argument conversion, as PyArg_ParseTuple does it -------------------------------------


def _long(value: object) -> int:
    """A ``"l"`` argument (C ``long``, 32 bits on Windows), as the ``ULONG`` it fills."""
    if isinstance(value, float) or not hasattr(value, "__index__"):
        raise TypeError(f"'{type(value).__name__}' object cannot be interpreted as an integer")
    v = operator.index(value)
    if not -0x80000000 <= v <= 0x7FFFFFFF:
        raise OverflowError("Python int too large to convert to C long")
    return v & _U32


def _ulong_member(value: object) -> int:
    """A ``T_ULONG`` member assignment."""
    if isinstance(value, float) or not hasattr(value, "__index__"):
        raise TypeError("an integer is required")
    v = operator.index(value)
    if not -0x80000000 <= v <= _U32:
        raise OverflowError("Python int too large to convert to C unsigned long")
    return v & _U32


def _wchar(value: object, none_ok: bool) -> str | None:
    """``PyWinObject_AsWCHAR``: ``str`` (or ``bytes``), ``None`` where allowed."""
    if value is None:
        if none_ok:
            return None
        raise TypeError("None is not a valid string in this context")
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    raise TypeError(f"Objects of type '{type(value).__name__}' can not be converted to Unicode.")


# --- PySecBuffer / PySecBufferDesc -----------------------------------------------------


class PySecBuffer:
    """``PySecBufferType(BufferSize, BufferType)``: ``BufferSize`` zeroed bytes.

    ``Buffer`` reads the first ``BufferSize`` bytes of the memory the buffer
    *currently* points at (a call may re-point it, as DecryptMessage does into
    buffer 0's memory); assigning it zero-fills that memory and copies the bytes
    in (``ValueError`` past ``MaxBufferSize``).
    """

    __slots__ = ("_max", "_alloc", "_view", "_cb", "_type")

    def __init__(self, BufferSize: int, BufferType: int) -> None:
        size, btype = _long(BufferSize), _long(BufferType)
        if size > 0x7FFFFFFF:  # a negative long read as ULONG: malloc fails
            raise MemoryError(f"PySecBuffer::PySecBuffer - cannot allocate buffer of {size} bytes")
        self._max = size
        #: Our allocation (NULL for size 0, as pywin32's ``allocBuffer``).
        self._alloc: bytearray | None = bytearray(size) if size else None
        #: What ``pvBuffer`` points at now.
        self._view: bytes | bytearray | memoryview | None = self._alloc
        self._cb = size
        self._type = btype

    # -- members --
    @property
    def BufferType(self) -> int:
        """``ULONG`` buffer type (``SECBUFFER_*``, may carry ``SECBUFFER_READONLY``)."""
        return self._type

    @BufferType.setter
    def BufferType(self, value: int) -> None:
        self._type = _ulong_member(value)

    @property
    def BufferSize(self) -> int:
        """``cbBuffer``: the size of the data now in the buffer."""
        return self._cb

    @BufferSize.setter
    def BufferSize(self, value: int) -> None:
        self._cb = _ulong_member(value)

    @property
    def MaxBufferSize(self) -> int:
        """The size allocated at construction (read-only)."""
        return self._max

    @property
    def Buffer(self) -> bytes:
        """A copy of ``BufferSize`` bytes at the buffer's current memory."""
        view = self._bytes_view()
        if view is None:
            return bytes(self._cb)
        return bytes(view[: self._cb])

    @Buffer.setter
    def Buffer(self, value: Any) -> None:
        data = memoryview(value).cast("B") if not isinstance(value, bytes) else value
        n = len(data)
        if n > self._max:
            raise ValueError(f"Data size ({n}) greater than allocated buffer size ({self._max})")
        target = self._writable(self._max)
        target[: self._max] = bytes(self._max)
        target[:n] = data
        self._cb = n

    def Clear(self) -> None:
        """``BufferSize = MaxBufferSize``, the memory zeroed."""
        self._cb = self._max
        target = self._writable(self._max)
        target[: self._max] = bytes(self._max)

    def __repr__(self) -> str:
        return (
            f"PySecBuffer(cbBuffer: {self._cb} | BufferType: {self._type} | "
            f"pvBuffer: {id(self._view) if self._view is not None else 0:#x})"
        )

    # -- internals --
    def _bytes_view(self) -> memoryview | None:
        if self._view is None:
            return None
        view = memoryview(self._view)
        return view if view.format == "B" and view.ndim == 1 else view.cast("B")

    def _writable(self, need: int) -> memoryview:
        """The current memory if it can take ``need`` bytes, else our own allocation
        (C would write past the end: the one place this front does not follow)."""
        view = self._bytes_view()
        if view is not None and not view.readonly and len(view) >= need:
            return view
        if self._alloc is None:
            self._alloc = bytearray(self._max)
        self._view = self._alloc
        return memoryview(self._alloc)

    def _to_sec(self, copy: bool = False) -> SecBuffer:
        view = self._view
        if copy and view is not None:
            view = bytes(view)
        return SecBuffer(self._cb, self._type, view)

    def _from_sec(self, sec: SecBuffer) -> None:
        self._cb = int(sec.cbBuffer) & _U32
        self._type = int(sec.BufferType) & _U32
        self._view = sec.pvBuffer


def _check_buffer(ob: object) -> PySecBuffer:
    if type(ob) is not PySecBuffer:
        raise TypeError("Object must be a PySecBuffer")
    return ob


class PySecBufferDesc:
    """``PySecBufferDescType(Version=SECBUFFER_VERSION)``: a list of PySecBuffers.

    ``desc[i]`` is the same PySecBuffer object that was appended; ``del desc[i]``
    is ``NotImplementedError``.
    """

    __slots__ = ("_buffers", "_version")

    def __init__(self, Version: int = C.SECBUFFER_VERSION) -> None:
        self._version = _long(Version)
        self._buffers: list[PySecBuffer] = []

    @property
    def Version(self) -> int:
        """``ulVersion`` (``SECBUFFER_VERSION``)."""
        return self._version

    @Version.setter
    def Version(self, value: int) -> None:
        self._version = _ulong_member(value)

    def append(self, buffer: PySecBuffer, /) -> None:
        """Add a PySecBuffer (``TypeError`` for anything else)."""
        self._buffers.append(_check_buffer(buffer))

    def __len__(self) -> int:
        return len(self._buffers)

    def _index(self, i: SupportsIndex) -> int:
        if not hasattr(i, "__index__"):
            raise TypeError(f"sequence index must be integer, not '{type(i).__name__}'")
        n = operator.index(i)
        return n + len(self._buffers) if n < 0 else n

    def __getitem__(self, i: SupportsIndex) -> PySecBuffer:
        n = self._index(i)
        if not 0 <= n < len(self._buffers):
            raise IndexError("Index specified larger than number of allocated buffers")
        return self._buffers[n]

    def __setitem__(self, i: SupportsIndex, buffer: PySecBuffer) -> None:
        n = self._index(i)
        if not 0 <= n < len(self._buffers):
            raise IndexError(f"PySecBufferDesc contains {len(self._buffers)} buffers")
        self._buffers[n] = _check_buffer(buffer)

    def __delitem__(self, i: SupportsIndex) -> None:
        raise NotImplementedError("Removing buffers not yet supported")

    def __iter__(self) -> Iterator[PySecBuffer]:
        return iter(list(self._buffers))

    def __repr__(self) -> str:
        return (
            f"PySecBufferDesc(ulVersion: {self._version} | cBuffers: {len(self._buffers)} | "
            f"pBuffers: {id(self._buffers):#x})"
        )

    def _to_desc(self, copy: bool = False) -> SecBufferDesc:
        """The C structure built afresh from the PySecBuffers (before each call)."""
        return SecBufferDesc([b._to_sec(copy) for b in self._buffers], self._version)

    def _sync(self, desc: SecBufferDesc) -> None:
        """``modify_in_place``: copy the structures back into the same PySecBuffers."""
        for pyb, sec in zip(self._buffers, desc.pBuffers, strict=False):
            pyb._from_sec(sec)


def _as_desc(ob: object, none_ok: bool) -> PySecBufferDesc | None:
    """``PyWinObject_AsSecBufferDesc``."""
    if ob is None:
        if none_ok:
            return None
        raise ValueError("PySecBufferDesc cannot be None in this context")
    if type(ob) is not PySecBufferDesc:
        raise TypeError("Object must be a PySecBufferDesc")
    return ob


def _required_desc(ob: object) -> PySecBufferDesc:
    desc = _as_desc(ob, False)
    assert desc is not None
    return desc


# --- handles ----------------------------------------------------------------------------


def _handle_int(h: SecHandle) -> int:
    """``PyWinObject_FromSecHandle``: -1 for an invalid handle, else its 16 bytes as an int."""
    if not SecIsValidHandle(h):
        return -1
    return (h.dwLower & 0xFFFFFFFFFFFFFFFF) | ((h.dwUpper & 0xFFFFFFFFFFFFFFFF) << 64)


def _release(release: Callable[[Any], int], h: SecHandle) -> None:
    if SecIsValidHandle(h):
        release(h)


def _unsupported(funcname: str) -> error:
    return api_error(funcname, C.SEC_E_UNSUPPORTED_FUNCTION)


class PyCtxtHandle:
    """``PyCtxtHandleType()``: an invalid context handle that InitializeSecurityContext
    fills; freed with ``DeleteSecurityContext`` when the object goes away."""

    __slots__ = ("_h", "__weakref__")

    def __init__(self, *args: object, **kwargs: object) -> None:
        self._h = CtxtHandle()
        SecInvalidateHandle(self._h)
        weakref.finalize(self, _release, F.DeleteSecurityContext, self._h).atexit = False

    def EncryptMessage(self, fqop: int, Message: PySecBufferDesc, MessageSeqNo: int, /) -> None:
        """Encrypt in place; buffers copied back on success; statuses < 0 raise."""
        q, _seq = _long(fqop), _long(MessageSeqNo)
        desc = _required_desc(Message)
        sec = desc._to_desc()
        status = signed32(F.EncryptMessage(self._h, q, sec, _seq))
        if status < 0:
            raise api_error("EncryptMessage", status)
        desc._sync(sec)

    def DecryptMessage(self, Message: PySecBufferDesc, MessageSeqNo: int, /) -> int:
        """Decrypt in place; buffers copied back first, then any status but SEC_E_OK raises."""
        seq = _long(MessageSeqNo)
        desc = _required_desc(Message)
        sec = desc._to_desc()
        qop = ULONG()
        status = F.DecryptMessage(self._h, sec, seq, qop)
        desc._sync(sec)
        if status != C.SEC_E_OK:
            raise api_error("DecryptMessage", status)
        return signed32(qop.value)

    def QueryContextAttributes(self, Attribute: int, /) -> Any:
        """The attribute as pywin32 decodes it (dict, tuple, int, ...).

        The package is asked first: a failure is ``error``; an attribute pywin32
        has no decoder for is then ``NotImplementedError``.
        """
        attr = _long(Attribute)
        entry = _attributes.QUERY.get(attr)
        holder: object
        if entry is None or isinstance(entry.structure, str):
            holder = PVOID()
        else:
            holder = entry.structure()
        status = F.QueryContextAttributes(self._h, attr, holder)
        if status != C.SEC_E_OK:
            raise api_error("QueryContextAttributes", status)
        decode = _DECODERS.get(attr)
        if decode is None:
            raise NotImplementedError(_NOT_SUPPORTED)
        return decode(holder)

    def DeleteSecurityContext(self) -> None:
        """Free the context and invalidate the handle."""
        status = F.DeleteSecurityContext(self._h)
        if status != C.SEC_E_OK:
            raise api_error("DeleteSecurityContext", status)
        SecInvalidateHandle(self._h)

    def Detach(self) -> int:
        """The handle as an int (-1 if invalid); the object no longer frees it."""
        value = _handle_int(self._h)
        SecInvalidateHandle(self._h)
        return value

    def CompleteAuthToken(self, Token: PySecBufferDesc, /) -> None:
        """SChannel has no CompleteAuthToken: SEC_E_UNSUPPORTED_FUNCTION."""
        _required_desc(Token)
        raise _unsupported("CompleteAuthToken")

    def MakeSignature(self, fqop: int, Message: PySecBufferDesc, MessageSeqNo: int, /) -> None:
        """Not an SChannel call: SEC_E_UNSUPPORTED_FUNCTION."""
        _long(fqop), _long(MessageSeqNo)
        _required_desc(Message)
        raise _unsupported("MakeSignature")

    def VerifySignature(self, Message: PySecBufferDesc, MessageSeqNo: int, /) -> int:
        """Not an SChannel call: SEC_E_UNSUPPORTED_FUNCTION."""
        _long(MessageSeqNo)
        _required_desc(Message)
        raise _unsupported("VerifySignature")

    def QuerySecurityContextToken(self) -> Any:
        """Server side only: SEC_E_UNSUPPORTED_FUNCTION."""
        raise _unsupported("QuerySecurityContextToken")

    def ImpersonateSecurityContext(self) -> None:
        """Server side only: SEC_E_UNSUPPORTED_FUNCTION."""
        raise _unsupported("ImpersonateSecurityContext")

    def RevertSecurityContext(self) -> None:
        """Server side only: SEC_E_UNSUPPORTED_FUNCTION."""
        raise _unsupported("RevertSecurityContext")


class PyCredHandle:
    """A credential handle from AcquireCredentialsHandle; freed when the object goes away."""

    __slots__ = ("_h", "__weakref__")

    def __init__(self, *args: object, **kwargs: object) -> None:
        self._h = CredHandle()
        SecInvalidateHandle(self._h)
        weakref.finalize(self, _release, F.FreeCredentialsHandle, self._h).atexit = False

    def FreeCredentialsHandle(self) -> None:
        """Release the credential and invalidate the handle."""
        status = F.FreeCredentialsHandle(self._h)
        if status != C.SEC_E_OK:
            raise api_error("FreeCredentialsHandle", status)
        SecInvalidateHandle(self._h)

    def Detach(self) -> int:
        """The handle as an int (-1 if invalid); the object no longer frees it."""
        value = _handle_int(self._h)
        SecInvalidateHandle(self._h)
        return value

    def QueryCredentialsAttributes(self, Attribute: int, /) -> Any:
        """``SECPKG_CRED_ATTR_NAMES`` -> str; others ``NotImplementedError`` after the query."""
        attr = _long(Attribute)
        holder: object = _CRED_STRUCTURES.get(attr, PVOID)()
        status = F.QueryCredentialsAttributes(self._h, attr, holder)
        if status != C.SEC_E_OK:
            raise api_error("QueryCredentialsAttributes", status)
        if isinstance(holder, SecPkgCredentials_Names):
            return holder.sUserName
        raise NotImplementedError(_NOT_SUPPORTED)


_CRED_STRUCTURES: dict[int, Callable[[], object]] = {
    C.SECPKG_CRED_ATTR_NAMES: SecPkgCredentials_Names,
    C.SECPKG_ATTR_SUPPORTED_ALGS: SecPkgCred_SupportedAlgs,
    C.SECPKG_ATTR_CIPHER_STRENGTHS: SecPkgCred_CipherStrengths,
    C.SECPKG_ATTR_SUPPORTED_PROTOCOLS: SecPkgCred_SupportedProtocols,
}


def _as_cred(ob: object) -> PyCredHandle:
    if ob is None:
        raise ValueError("Credentials handle cannot be NULL")
    if type(ob) is not PyCredHandle:
        raise TypeError("Object must be a PyCredHandle")
    return ob


def _as_ctxt(ob: object, none_ok: bool) -> PyCtxtHandle | None:
    if ob is None:
        if none_ok:
            return None
        raise ValueError("Context handle cannot be NULL")
    if type(ob) is not PyCtxtHandle:
        raise TypeError("Object must be a PyCtxtHandle")
    return ob


# --- QueryContextAttributes decoders (the attributes the package answers) ---------------


def _stream_sizes(s: Any) -> dict[str, int]:
    assert isinstance(s, SecPkgContext_StreamSizes)
    return {
        "Header": signed32(s.cbHeader),
        "Trailer": signed32(s.cbTrailer),
        "MaximumMessage": signed32(s.cbMaximumMessage),
        "Buffers": signed32(s.cBuffers),
        "BlockSize": signed32(s.cbBlockSize),
    }


def _connection_info(s: Any) -> dict[str, int]:
    assert isinstance(s, SecPkgContext_ConnectionInfo)
    return {
        "Protocol": signed32(s.dwProtocol),
        "Cipher": signed32(s.aiCipher),
        "CipherStrength": signed32(s.dwCipherStrength),
        "Hash": signed32(s.aiHash),
        "HashStrength": signed32(s.dwHashStrength),
        "Exch": signed32(s.aiExch),
        "ExchStrength": signed32(s.dwExchStrength),
    }


def _key_info(s: Any) -> dict[str, Any]:
    assert isinstance(s, SecPkgContext_KeyInfo)
    return {
        "SignatureAlgorithmName": s.sSignatureAlgorithmName,
        "EncryptAlgorithmName": s.sEncryptAlgorithmName,
        "KeySize": signed32(s.KeySize),
        "SignatureAlgorithm": signed32(s.SignatureAlgorithm),
        "EncryptAlgorithm": signed32(s.EncryptAlgorithm),
    }


def _flags(s: Any) -> int:
    assert isinstance(s, SecPkgContext_Flags)
    return int(s.Flags) & _U32


def _issuer_list(s: Any) -> tuple[int, bytes]:
    """``(cIssuers, first issuer blob)``: pywin32 returns only the first name."""
    assert isinstance(s, SecPkgContext_IssuerListInfoEx)
    first = bytes(s.aIssuers[0]) if s.aIssuers else b""
    return signed32(s.cIssuers), first


_DECODERS: dict[int, Callable[[Any], Any]] = {
    C.SECPKG_ATTR_STREAM_SIZES: _stream_sizes,
    C.SECPKG_ATTR_CONNECTION_INFO: _connection_info,
    C.SECPKG_ATTR_KEY_INFO: _key_info,
    C.SECPKG_ATTR_FLAGS: _flags,
    C.SECPKG_ATTR_ISSUER_LIST_EX: _issuer_list,
}


# --- module functions -------------------------------------------------------------------


class _WinntAuthIdentity:
    """``SEC_WINNT_AUTH_IDENTITY_W`` built from ``(User, Domain, Password)``: SChannel
    cannot read it (the package answers SEC_E_UNKNOWN_CREDENTIALS)."""

    __slots__ = ("User", "Domain", "Password", "Flags")

    def __init__(self, user: str | None, domain: str | None, password: str | None) -> None:
        self.User, self.Domain, self.Password = user, domain, password
        self.Flags = 2  # SEC_WINNT_AUTH_IDENTITY_UNICODE


_AUTH_DATA_MSG = "AuthData must be a tuple of 3 strings (or None): (User, Domain, Password)"


def _auth_identity(ob: object) -> _WinntAuthIdentity:
    if type(ob) is not tuple and not isinstance(ob, tuple):
        raise TypeError(_AUTH_DATA_MSG)
    if len(ob) != 3:
        raise TypeError(_AUTH_DATA_MSG)
    try:
        user, domain, password = (_wchar(x, True) for x in ob)
    except TypeError:
        raise TypeError(_AUTH_DATA_MSG) from None
    return _WinntAuthIdentity(user, domain, password)


def _acquire(
    Principal: object,
    Package: object,
    CredentialUse: object,
    LogonID: object,
    auth: object,
) -> tuple[PyCredHandle, _dt.datetime]:
    """ACH over the package with already converted AuthData (shared with extras)."""
    use = _long(CredentialUse)
    logon: int | None = None
    if LogonID is not None:
        if isinstance(LogonID, float) or not hasattr(LogonID, "__index__"):
            raise TypeError("must be an integer (LARGE_INTEGER)")
        logon = operator.index(LogonID)
    principal = _wchar(Principal, True)
    package = _wchar(Package, False)
    cred = PyCredHandle()
    expiry = TimeStamp()
    status = F.AcquireCredentialsHandle(
        principal, package, use, logon, auth, None, None, cred._h, expiry
    )
    if status != C.SEC_E_OK:
        SecInvalidateHandle(cred._h)
        raise api_error("AcquireCredentialsHandle", status)
    return cred, from_filetime(expiry.QuadPart)


def AcquireCredentialsHandle(
    Principal: str | None,
    Package: str,
    CredentialUse: int,
    LogonID: int | None,
    AuthData: tuple[str | None, str | None, str | None] | None,
    GetKeyFn: object = None,
    GetKeyArgument: object = None,
    /,
) -> tuple[PyCredHandle, _dt.datetime]:
    """``(PyCredHandle, expiry)``; AuthData is None or ``(User, Domain, Password)``.

    SChannel reads no ``(User, Domain, Password)``: such a credential fails with
    ``SEC_E_UNKNOWN_CREDENTIALS`` (pywin32 cannot pass ``SCHANNEL_CRED``; see
    :func:`schannel_py.pywin32.extras.AcquireCredentialsHandle`).
    """
    _long(CredentialUse)
    if GetKeyFn is not None or GetKeyArgument is not None:
        raise NotImplementedError("GetKeyFn and arguments are not supported")
    auth = None if AuthData is None else _auth_identity(AuthData)
    return _acquire(Principal, Package, CredentialUse, LogonID, auth)


def _initialize(
    Credential: object,
    Context: object,
    TargetName: object,
    ContextReq: object,
    TargetDataRep: object,
    pInput: object,
    NewContext: object,
    pOutput: object,
    sync_input: bool,
) -> tuple[int, int, _dt.datetime]:
    req, rep = _long(ContextReq), _long(TargetDataRep)
    if req & C.ISC_REQ_ALLOCATE_MEMORY:
        raise NotImplementedError("Use of ISC_REQ_ALLOCATE_MEMORY is not yet supported")
    cred = _as_cred(Credential)
    ctxt = _as_ctxt(Context, True)
    in_desc = _as_desc(pInput, True)
    new = _as_ctxt(NewContext, False)
    out_desc = _required_desc(pOutput)
    target = _wchar(TargetName, True)
    assert new is not None
    sec_in = None if in_desc is None else in_desc._to_desc(copy=not sync_input)
    sec_out = out_desc._to_desc()
    attrs = ULONG()
    expiry = TimeStamp()
    status = signed32(
        F.InitializeSecurityContext(
            cred._h,
            None if ctxt is None else ctxt._h,
            target,
            req,
            0,
            rep,
            sec_in,
            0,
            new._h,
            sec_out,
            attrs,
            expiry,
        )
    )
    if status < 0:
        raise api_error("InitializeSecurityContext", status)
    out_desc._sync(sec_out)
    if sync_input and in_desc is not None and sec_in is not None:
        in_desc._sync(sec_in)
    return status, signed32(attrs.value), from_filetime(expiry.QuadPart)


def InitializeSecurityContext(
    Credential: PyCredHandle,
    Context: PyCtxtHandle | None,
    TargetName: str | None,
    ContextReq: int,
    TargetDataRep: int,
    pInput: PySecBufferDesc | None,
    NewContext: PyCtxtHandle,
    pOutput: PySecBufferDesc,
    /,
) -> tuple[int, int, _dt.datetime]:
    """``(status, ContextAttr, expiry)``; statuses < 0 raise :class:`error`.

    Only ``pOutput`` is copied back (on success); ``pInput`` never is.
    """
    return _initialize(
        Credential,
        Context,
        TargetName,
        ContextReq,
        TargetDataRep,
        pInput,
        NewContext,
        pOutput,
        sync_input=False,
    )


def AcceptSecurityContext(
    Credential: PyCredHandle,
    Context: PyCtxtHandle | None,
    pInput: PySecBufferDesc | None,
    ContextReq: int,
    TargetDataRep: int,
    NewContext: PyCtxtHandle,
    pOutput: PySecBufferDesc,
    /,
) -> tuple[int, int, _dt.datetime]:
    """The server side: this package is a client only (SEC_E_UNSUPPORTED_FUNCTION)."""
    req = _long(ContextReq)
    _long(TargetDataRep)
    if req & C.ISC_REQ_ALLOCATE_MEMORY:
        raise NotImplementedError("Use of ISC_REQ_ALLOCATE_MEMORY is not yet supported")
    _as_cred(Credential)
    _as_ctxt(Context, True)
    _as_desc(pInput, True)
    _as_ctxt(NewContext, False)
    _required_desc(pOutput)
    raise _unsupported("AcceptSecurityContext")


def _package_dict(info: SecPkgInfo) -> dict[str, Any]:
    return {
        "Capabilities": signed32(info.fCapabilities),
        "Version": info.wVersion,
        "RPCID": info.wRPCID,
        "MaxToken": signed32(info.cbMaxToken),
        "Name": info.Name,
        "Comment": info.Comment,
    }


def QuerySecurityPackageInfo(PackageName: str, /) -> dict[str, Any]:
    """The package's SecPkgInfo as a dict: Capabilities, Version, RPCID, MaxToken, Name, Comment."""
    name = _wchar(PackageName, False)
    holder = PVOID()
    status = F.QuerySecurityPackageInfo(name, holder)
    if status != C.SEC_E_OK or not isinstance(holder.value, SecPkgInfo):
        raise api_error("QuerySecurityPackageInfo", status or C.SEC_E_INTERNAL_ERROR)
    return _package_dict(holder.value)


def EnumerateSecurityPackages() -> tuple[dict[str, Any], ...]:
    """Every package's SecPkgInfo dict (here: SChannel's three names)."""
    count, infos = ULONG(), PVOID()
    status = F.EnumerateSecurityPackages(count, infos)
    if status != C.SEC_E_OK or not isinstance(infos.value, list):
        raise api_error("EnumerateSecurityPackages", status or C.SEC_E_INTERNAL_ERROR)
    return tuple(_package_dict(i) for i in infos.value if isinstance(i, SecPkgInfo))


# pywin32's type objects, under both of its names.
PySecBufferType = SecBufferType = PySecBuffer
PySecBufferDescType = SecBufferDescType = PySecBufferDesc
PyCtxtHandleType = CtxtHandleType = PyCtxtHandle
PyCredHandleType = CredHandleType = PyCredHandle
