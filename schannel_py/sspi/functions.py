"""The SSPI functions, with Windows' names, parameters and status codes.

Each function validates its arguments the way SChannel does (see
docs/windows-behaviour.md), delegates to the module of its concern
(:mod:`credentials`, :mod:`handshake`, :mod:`records`, :mod:`control`,
:mod:`attributes`), reports the call to any observers (:mod:`observe`), and
returns a :class:`~schannel_py.constants.SecStatus`.  No Python exception
escapes: anything unexpected becomes SEC_E_INTERNAL_ERROR.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec

from .. import constants as C
from ..constants import SecStatus
from . import attributes as A
from . import buffers as B
from . import cache, packages
from . import context as X
from . import control as T
from . import credentials as K
from . import handshake as H
from . import observe as O
from . import records as R
from .types import CredHandle, CtxtHandle, TimeStamp

P = ParamSpec("P")
log = logging.getLogger("schannel_py.sspi")

#: observe.OBSERVERS itself (a list changed in place): the one test each call makes.
_observers = O.OBSERVERS


def _guarded(fn: Callable[P, SecStatus]) -> Callable[P, SecStatus]:
    """Turn any escaped exception into SEC_E_INTERNAL_ERROR (never crash the caller),
    and report the call to the observers (:mod:`.observe`) when there are any."""
    name = fn.__name__
    # InitializeSecurityContext also has the observers that decide per call (the key log).
    handshake = O.HANDSHAKE_OBSERVERS if name == "InitializeSecurityContext" else []

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> SecStatus:
        try:
            status = fn(*args, **kwargs)
            return status if type(status) is SecStatus else SecStatus(status)
        except Exception:  # the promise: hostile input never raises
            log.exception("%s failed unexpectedly", name)
            return C.SEC_E_INTERNAL_ERROR

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> SecStatus:
        also = O.wanted(handshake) if handshake else ()
        if (_observers or also) and O.idle():
            return O.dispatch(name, run, args, kwargs, also)
        try:  # run's body, without its call when nothing observes
            status = fn(*args, **kwargs)
            return status if type(status) is SecStatus else SecStatus(status)
        except Exception:
            log.exception("%s failed unexpectedly", name)
            return C.SEC_E_INTERNAL_ERROR

    return wrapper


def _set(holder: object, attr: str, value: object) -> None:
    if holder is not None and hasattr(holder, attr):
        setattr(holder, attr, value)


@_guarded
def AcquireCredentialsHandle(
    pszPrincipal: str | None,
    pszPackage: str | None,
    fCredentialUse: int,
    pvLogonId: object,
    pAuthData: object,
    pGetKeyFn: object,
    pvGetKeyArgument: object,
    phCredential: CredHandle | None,
    ptsExpiry: TimeStamp | None,
) -> SecStatus:
    """Create a credential handle from SCHANNEL_CRED, SCH_CREDENTIALS or None (defaults)."""
    result = K.acquire(pszPackage, fCredentialUse, pvLogonId, pAuthData)
    if isinstance(result, SecStatus):
        return result
    result.logon  # noqa: B018 - the logon session is fixed at acquisition, as on Windows
    if phCredential is None or not hasattr(phCredential, "dwLower"):
        return C.SEC_E_INVALID_HANDLE
    K.CREDENTIALS.add(result, phCredential)
    result.handle_id = phCredential.dwLower
    expiry = (
        K.certificate_expiry_filetime(result.certificate) if result.certificate else K.NEVER_EXPIRES
    )
    _set(ptsExpiry, "QuadPart", expiry)
    return C.SEC_E_OK


@_guarded
def FreeCredentialsHandle(phCredential: CredHandle | None) -> SecStatus:
    """Release a credential handle."""
    cred = K.CREDENTIALS.remove(phCredential)
    if cred is None:
        return C.SEC_E_INVALID_HANDLE
    cache.CACHE.flush(cred_id=cred.handle_id)
    return C.SEC_E_OK


@_guarded
def QueryCredentialsAttributes(
    phCredential: CredHandle | None, ulAttribute: int, pBuffer: object
) -> SecStatus:
    """SUPPORTED_PROTOCOLS, SUPPORTED_ALGS, CIPHER_STRENGTHS or CRED_ATTR_NAMES of a credential."""
    cred = K.CREDENTIALS.get(phCredential)
    if cred is None:
        return C.SEC_E_INVALID_HANDLE
    if pBuffer is None:
        return C.SEC_E_INTERNAL_ERROR
    return K.query(cred, ulAttribute, pBuffer)


@_guarded
def InitializeSecurityContext(
    phCredential: CredHandle | None,
    phContext: CtxtHandle | None,
    pszTargetName: str | None,
    fContextReq: int,
    Reserved1: int,
    TargetDataRep: int,
    pInput: object,
    Reserved2: int,
    phNewContext: CtxtHandle | None,
    pOutput: object,
    pfContextAttr: object,
    ptsExpiry: TimeStamp | None,
) -> SecStatus:
    """Drive the client handshake one leg at a time (see docs/windows-behaviour.md section 1)."""
    req = int(fContextReq) & 0xFFFFFFFF if isinstance(fContextReq, int) else 0
    if req & (C.ISC_REQ_DELEGATE | C.ISC_REQ_PROMPT_FOR_CREDS):
        return C.SEC_E_UNSUPPORTED_FUNCTION
    if isinstance(pszTargetName, (bytes, bytearray)):  # InitializeSecurityContextA's SEC_CHAR*
        try:
            pszTargetName = bytes(pszTargetName).split(b"\0", 1)[0].decode("ascii")
        except UnicodeDecodeError:
            return C.SEC_E_INVALID_PARAMETER
    if pszTargetName is not None and not isinstance(pszTargetName, str):
        # Never fail open: a target of the wrong type must not switch the name check off.
        return C.SEC_E_INVALID_PARAMETER
    target = pszTargetName

    if phContext is None:
        cred = K.CREDENTIALS.get(phCredential)
        if cred is None or not cred.use & C.SECPKG_CRED_OUTBOUND:
            return C.SEC_E_INVALID_HANDLE
        checked = B.output_buffers(pOutput, req)
        if isinstance(checked, SecStatus):
            return checked
        out, tok = checked
        inputs = H.first_call_inputs(pInput)
        if isinstance(inputs, SecStatus):
            return inputs
        alpn, flags64 = inputs
        if not cred.versions:
            # Only SSL 3 / TLS 1.0 / 1.1 enabled: nothing this package will offer.
            return C.SEC_E_ALGORITHM_MISMATCH
        if phNewContext is None or not hasattr(phNewContext, "dwLower"):
            return C.SEC_E_INVALID_HANDLE
        created = H.first_call(cred, target, req, alpn, flags64, out, tok)
        if isinstance(created, SecStatus):
            return created
        ctx = created
        X.CONTEXTS.add(ctx, phNewContext)
        _set(pfContextAttr, "value", H.ret_flags(req))
        _set(ptsExpiry, "QuadPart", 0)
        return C.SEC_I_CONTINUE_NEEDED

    existing = X.CONTEXTS.get(phContext)
    if existing is None:
        return C.SEC_E_INVALID_HANDLE
    offered = K.CREDENTIALS.get(phCredential) if phCredential is not None else None
    if phCredential is not None and offered is None:
        return C.SEC_E_INVALID_HANDLE
    ctx = existing
    with ctx.lock:
        if ctx.in_callback:
            return C.SEC_E_INTERNAL_ERROR  # called from the verify callback: not re-entrant
        status = H.step(ctx, pInput, pOutput, req, offered)
        if status in (C.SEC_E_OK, C.SEC_I_CONTINUE_NEEDED, C.SEC_I_NO_RENEGOTIATION):
            if phNewContext is not None and hasattr(phNewContext, "dwLower"):
                phNewContext.dwLower = phContext.dwLower
                phNewContext.dwUpper = phContext.dwUpper
            _set(pfContextAttr, "value", H.ret_flags(req))
            _set(ptsExpiry, "QuadPart", K.NEVER_EXPIRES if status == C.SEC_E_OK else 0)
        return status


@_guarded
def DeleteSecurityContext(phContext: CtxtHandle | None) -> SecStatus:
    """Release a context, complete or not."""
    ctx = X.CONTEXTS.remove(phContext)
    if ctx is None:
        return C.SEC_E_INVALID_HANDLE
    ctx.release()
    return C.SEC_E_OK


@_guarded
def ApplyControlToken(phContext: CtxtHandle | None, pInput: object) -> SecStatus:
    """SCHANNEL_SHUTDOWN, SCHANNEL_ALERT or SCHANNEL_SESSION; renegotiation is unsupported.

    schannel_py extension: SCHANNEL_PY_KEY_UPDATE (a TLS 1.3 KeyUpdate, sent by the next ISC).
    """
    ctx = X.CONTEXTS.get(phContext)
    if ctx is None:
        return C.SEC_E_INVALID_HANDLE
    if pInput is None:
        return C.SEC_E_INTERNAL_ERROR
    bufs = B.buffers(pInput)
    if bufs is None or len(bufs) != 1 or B.btype(bufs[0]) != C.SECBUFFER_TOKEN:
        return C.SEC_E_INVALID_TOKEN
    view = B.data(bufs[0])
    if view is None:
        return C.SEC_E_INVALID_TOKEN
    with ctx.lock:
        if ctx.in_callback:
            return C.SEC_E_INTERNAL_ERROR  # called from the verify callback: not re-entrant
        return T.apply(ctx, view)


@_guarded
def QueryContextAttributes(
    phContext: CtxtHandle | None, ulAttribute: int, pBuffer: object
) -> SecStatus:
    """Fill an attribute structure (STREAM_SIZES, CONNECTION_INFO, REMOTE_CERT_CONTEXT, ...)."""
    ctx = X.CONTEXTS.get(phContext)
    if ctx is None:
        return C.SEC_E_INVALID_HANDLE
    return A.query(ctx, ulAttribute, pBuffer)


@_guarded
def SetContextAttributes(
    phContext: CtxtHandle | None, ulAttribute: int, pBuffer: object, cbBuffer: int
) -> SecStatus:
    """Set a context attribute; SChannel's client uses KEYING_MATERIAL_INFO (RFC 5705 exporter).

    schannel_py extensions: SECPKG_ATTR_PY_VERIFY_CALLBACK (SecPkgContext_PyVerifyCallback),
    SECPKG_ATTR_PY_RENEGOTIATION_POLICY (SecPkgContext_PyRenegotiationPolicy).
    """
    ctx = X.CONTEXTS.get(phContext)
    if ctx is None:
        return C.SEC_E_INVALID_HANDLE
    if pBuffer is None:
        return C.SEC_E_INTERNAL_ERROR
    return A.set_attribute(ctx, ulAttribute, pBuffer)


#: Bound once: the record calls' lookups, one global read each on every record.
_context, _encrypt, _decrypt = X.CONTEXTS.get, R.encrypt, R.decrypt


def EncryptMessage(
    phContext: CtxtHandle | None, fQOP: int, pMessage: object, MessageSeqNo: int
) -> SecStatus:
    """Encrypt one record in place over [STREAM_HEADER, DATA, STREAM_TRAILER, EMPTY]."""
    if _observers and O.idle():
        return O.dispatch(
            "EncryptMessage", EncryptMessage, (phContext, fQOP, pMessage, MessageSeqNo), {}
        )
    try:  # guarded as _guarded does, without its extra call on every record
        ctx = _context(phContext)
        if ctx is None:
            return C.SEC_E_INVALID_HANDLE
        if type(fQOP) is not int or fQOP < 0 or fQOP > 0xFFFFFFFF:  # not a plain ULONG
            if fQOP is None:
                fQOP = 0
            elif isinstance(fQOP, int):
                fQOP = int(fQOP) & 0xFFFFFFFF
            else:
                fQOP = C.SECQOP_WRAP_NO_ENCRYPT  # not a ULONG: a QOP SChannel does not support
        return _encrypt(ctx, fQOP, pMessage)
    except Exception:
        log.exception("EncryptMessage failed unexpectedly")
        return C.SEC_E_INTERNAL_ERROR


def DecryptMessage(
    phContext: CtxtHandle | None, pMessage: object, MessageSeqNo: int, pfQOP: object
) -> SecStatus:
    """Decrypt one record in place from [DATA, EMPTY, EMPTY, EMPTY]."""
    if _observers and O.idle():
        return O.dispatch(
            "DecryptMessage", DecryptMessage, (phContext, pMessage, MessageSeqNo, pfQOP), {}
        )
    try:  # guarded as _guarded does, without its extra call on every record
        ctx = _context(phContext)
        if ctx is None:
            return C.SEC_E_INVALID_HANDLE
        return _decrypt(ctx, pMessage)
    except Exception:
        log.exception("DecryptMessage failed unexpectedly")
        return C.SEC_E_INTERNAL_ERROR


@_guarded
def EnumerateSecurityPackages(pcPackages: object, ppPackageInfo: object) -> SecStatus:
    """The packages this provider stands for: ``pcPackages.value`` their count,
    ``ppPackageInfo.value`` a list of SecPkgInfo (freed with FreeContextBuffer)."""
    if not hasattr(pcPackages, "value") or not hasattr(ppPackageInfo, "value"):
        return C.SEC_E_INTERNAL_ERROR
    infos = list(packages.PACKAGES)
    _set(pcPackages, "value", len(infos))
    _set(ppPackageInfo, "value", infos)
    return C.SEC_E_OK


@_guarded
def QuerySecurityPackageInfo(pszPackageName: object, ppPackageInfo: object) -> SecStatus:
    """One package's SecPkgInfo in ``ppPackageInfo.value``; SEC_E_SECPKG_NOT_FOUND for
    a name that is not SChannel's."""
    if not hasattr(ppPackageInfo, "value"):
        return C.SEC_E_INTERNAL_ERROR
    info = packages.find(pszPackageName)
    if info is None:
        return C.SEC_E_SECPKG_NOT_FOUND
    _set(ppPackageInfo, "value", info)
    return C.SEC_E_OK


@_guarded
def FreeContextBuffer(pvContextBuffer: object) -> SecStatus:
    """Release package-allocated memory (a no-op: Python owns it)."""
    return C.SEC_E_OK


AcquireCredentialsHandleW = AcquireCredentialsHandleA = AcquireCredentialsHandle
QueryCredentialsAttributesW = QueryCredentialsAttributesA = QueryCredentialsAttributes
InitializeSecurityContextW = InitializeSecurityContextA = InitializeSecurityContext
QueryContextAttributesW = QueryContextAttributesA = QueryContextAttributes
SetContextAttributesW = SetContextAttributesA = SetContextAttributes
EnumerateSecurityPackagesW = EnumerateSecurityPackagesA = EnumerateSecurityPackages
QuerySecurityPackageInfoW = QuerySecurityPackageInfoA = QuerySecurityPackageInfo
