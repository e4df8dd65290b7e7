"""The SSPI functions, with Windows' names, parameters and status codes.

Each function validates its arguments the way SChannel does (see
docs/windows-behaviour.md), delegates to :mod:`credentials` or :mod:`context`, and
returns a :class:`~schannel_py.constants.SecStatus`.  No Python exception
escapes: anything unexpected becomes SEC_E_INTERNAL_ERROR.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec

from .. import constants as C
from .. import keylog
from ..constants import SecStatus
from . import buffers as B
from . import cache
from . import context as X
from . import credentials as K
from .types import CredHandle, CtxtHandle, SecBufferDesc, TimeStamp

P = ParamSpec("P")
log = logging.getLogger("schannel_py.sspi")


def _guarded(fn: Callable[P, SecStatus]) -> Callable[P, SecStatus]:
    """Turn any escaped exception into SEC_E_INTERNAL_ERROR (never crash the caller)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> SecStatus:
        try:
            status = fn(*args, **kwargs)
            return status if type(status) is SecStatus else SecStatus(status)
        except Exception:  # the promise: hostile input never raises
            log.exception("%s failed unexpectedly", fn.__name__)
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
    allocate = bool(req & C.ISC_REQ_ALLOCATE_MEMORY)
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
        checked = X.output_buffers(pOutput, req)
        if isinstance(checked, SecStatus):
            return checked
        out, tok = checked
        inputs = X.first_call_inputs(pInput)
        if isinstance(inputs, SecStatus):
            return inputs
        alpn, flags64 = inputs
        if not cred.versions:
            # Only SSL 3 / TLS 1.0 / 1.1 enabled: nothing this package will offer.
            return C.SEC_E_ALGORITHM_MISMATCH
        if phNewContext is None or not hasattr(phNewContext, "dwLower"):
            return C.SEC_E_INVALID_HANDLE
        ctx = X.create(cred, target, req, alpn, flags64)
        ctx.client.start()
        if not X.deliver(out, tok, ctx.client.data_to_send(), allocate):
            return C.SEC_E_INSUFFICIENT_MEMORY
        X.CONTEXTS.add(ctx, phNewContext)
        _set(pfContextAttr, "value", X.ret_flags(req))
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
        if ctx.pending_alert is None and ctx.pending_key_update is None and pInput is None:
            if ctx.phase == X.Phase.ESTABLISHED and ctx.client.version == 0x0303:
                checked = X.output_buffers(pOutput, req)
                if isinstance(checked, SecStatus):
                    return checked
                status = X.start_renegotiation(ctx, *checked, allocate)
                if status == C.SEC_I_CONTINUE_NEEDED:
                    _set(pfContextAttr, "value", X.ret_flags(req))
                return status
            return C.SEC_E_INCOMPLETE_MESSAGE
        checked = X.output_buffers(pOutput, req)
        if isinstance(checked, SecStatus):
            return checked
        out, tok = checked
        if ctx.pending_alert is not None:
            status = X.control_step(ctx, out, tok, allocate)
        elif ctx.phase == X.Phase.FAILED:
            return ctx.failure or C.SEC_E_INTERNAL_ERROR
        elif ctx.phase == X.Phase.CLOSED:
            return C.SEC_E_INCOMPLETE_MESSAGE
        elif ctx.pending_key_update is not None and pInput is None:
            status = X.key_update_step(ctx, out, tok, allocate)
        else:
            ctx.req = req
            ctx.offered_cred = offered
            status = X.handshake_step(ctx, pInput, out, tok, allocate)
            keylog.log_context(ctx)  # SSLKEYLOGFILE: secrets derived by this leg
        if status in (C.SEC_E_OK, C.SEC_I_CONTINUE_NEEDED, C.SEC_I_NO_RENEGOTIATION):
            if phNewContext is not None and hasattr(phNewContext, "dwLower"):
                phNewContext.dwLower = phContext.dwLower
                phNewContext.dwUpper = phContext.dwUpper
            _set(pfContextAttr, "value", X.ret_flags(req))
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
    if len(view) < 4:
        return C.SEC_E_UNSUPPORTED_FUNCTION
    token = int.from_bytes(view[:4], "little")
    with ctx.lock:
        if ctx.in_callback:
            return C.SEC_E_INTERNAL_ERROR  # called from the verify callback: not re-entrant
        if token == C.SCHANNEL_SHUTDOWN:
            ctx.pending_alert = (C.TLS1_ALERT_WARNING, C.TLS1_ALERT_CLOSE_NOTIFY)
            return C.SEC_E_OK
        if token == C.SCHANNEL_ALERT:
            if len(view) < 12:
                return C.SEC_E_INVALID_TOKEN
            level = int.from_bytes(view[4:8], "little")
            number = int.from_bytes(view[8:12], "little")
            if level not in (C.TLS1_ALERT_WARNING, C.TLS1_ALERT_FATAL) or number > 255:
                return C.SEC_E_INVALID_TOKEN
            ctx.pending_alert = (level, number)
            return C.SEC_E_OK
        if token == C.SCHANNEL_SESSION:
            if len(view) < 8:
                return C.SEC_E_INVALID_TOKEN
            flags = int.from_bytes(view[4:8], "little")
            if flags & C.SSL_SESSION_DISABLE_RECONNECTS:
                X.set_reconnects(ctx, False)
            elif flags & C.SSL_SESSION_ENABLE_RECONNECTS:
                X.set_reconnects(ctx, True)
            return C.SEC_E_OK
        if token == C.SCHANNEL_PY_KEY_UPDATE:
            if len(view) < 8:
                return C.SEC_E_INVALID_TOKEN
            requested = int.from_bytes(view[4:8], "little")
            if requested not in (
                C.SCHANNEL_PY_KEY_UPDATE_NOT_REQUESTED,
                C.SCHANNEL_PY_KEY_UPDATE_REQUESTED,
            ):
                return C.SEC_E_INVALID_PARAMETER
            return X.request_key_update(ctx, bool(requested))
    return C.SEC_E_UNSUPPORTED_FUNCTION


@_guarded
def QueryContextAttributes(
    phContext: CtxtHandle | None, ulAttribute: int, pBuffer: object
) -> SecStatus:
    """Fill an attribute structure (STREAM_SIZES, CONNECTION_INFO, REMOTE_CERT_CONTEXT, ...)."""
    ctx = X.CONTEXTS.get(phContext)
    if ctx is None:
        return C.SEC_E_INVALID_HANDLE
    return X.query(ctx, ulAttribute, pBuffer)


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
    return X.set_attribute(ctx, ulAttribute, pBuffer)


def EncryptMessage(
    phContext: CtxtHandle | None, fQOP: int, pMessage: object, MessageSeqNo: int
) -> SecStatus:
    """Encrypt one record in place over [STREAM_HEADER, DATA, STREAM_TRAILER, EMPTY]."""
    try:
        # The per-record path of every stream, without the general walk; the
        # same guard as _guarded.
        if type(fQOP) is int and fQOP == 0 and type(pMessage) is SecBufferDesc:
            ctx = X.CONTEXTS.get(phContext)
            if ctx is not None:
                status = X.encrypt_fast(ctx, pMessage)
                if status is not None:
                    return status
    except Exception:
        log.exception("EncryptMessage failed unexpectedly")
        return C.SEC_E_INTERNAL_ERROR
    return _encrypt_message(phContext, fQOP, pMessage, MessageSeqNo)


@_guarded
def _encrypt_message(
    phContext: CtxtHandle | None, fQOP: int, pMessage: object, MessageSeqNo: int
) -> SecStatus:
    ctx = X.CONTEXTS.get(phContext)
    if ctx is None:
        return C.SEC_E_INVALID_HANDLE
    if fQOP is None:
        qop = 0
    elif isinstance(fQOP, int):
        qop = int(fQOP) & 0xFFFFFFFF
    else:
        qop = C.SECQOP_WRAP_NO_ENCRYPT  # not a ULONG: a QOP Schannel does not support
    return X.encrypt(ctx, qop, pMessage)


def DecryptMessage(
    phContext: CtxtHandle | None, pMessage: object, MessageSeqNo: int, pfQOP: object
) -> SecStatus:
    """Decrypt one record in place from [DATA, EMPTY, EMPTY, EMPTY]."""
    try:
        if type(pMessage) is SecBufferDesc:  # the per-record path; guarded as _guarded does
            ctx = X.CONTEXTS.get(phContext)
            if ctx is not None:
                status = X.decrypt_fast(ctx, pMessage)
                if status is not None:
                    return status
    except Exception:
        log.exception("DecryptMessage failed unexpectedly")
        return C.SEC_E_INTERNAL_ERROR
    return _decrypt_message(phContext, pMessage, MessageSeqNo, pfQOP)


@_guarded
def _decrypt_message(
    phContext: CtxtHandle | None, pMessage: object, MessageSeqNo: int, pfQOP: object
) -> SecStatus:
    ctx = X.CONTEXTS.get(phContext)
    if ctx is None:
        return C.SEC_E_INVALID_HANDLE
    return X.decrypt(ctx, pMessage)


@_guarded
def FreeContextBuffer(pvContextBuffer: object) -> SecStatus:
    """Release package-allocated memory (a no-op: Python owns it)."""
    return C.SEC_E_OK


AcquireCredentialsHandleW = AcquireCredentialsHandleA = AcquireCredentialsHandle
QueryCredentialsAttributesW = QueryCredentialsAttributesA = QueryCredentialsAttributes
InitializeSecurityContextW = InitializeSecurityContextA = InitializeSecurityContext
QueryContextAttributesW = QueryContextAttributesA = QueryContextAttributes
SetContextAttributesW = SetContextAttributesA = SetContextAttributes
