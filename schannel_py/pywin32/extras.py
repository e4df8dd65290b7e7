"""SChannel calls pywin32's binding cannot make, for code running on the pywin32 front.

pywin32 binds no ``ApplyControlToken`` (so no close_notify), cannot pass
``SCHANNEL_CRED`` / ``SCH_CREDENTIALS``, declines ``SECPKG_ATTR_REMOTE_CERT_CONTEXT``
and ``SECPKG_ATTR_APPLICATION_PROTOCOL``, and never copies ISC's input buffers back
(``SECBUFFER_EXTRA`` is invisible).  These functions fill those gaps over the same
objects (:class:`PyCtxtHandle`, :class:`PySecBufferDesc` ...).  They are
module functions here, never methods of pywin32's types, so a future pywin32 name
cannot collide with them, and a script that uses them says so in its imports.
Failures raise :class:`pywintypes.error` like the rest of the front.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

from .. import constants as C
from ..crypt32.context import CERT_CONTEXT
from ..sspi import functions as F
from ..sspi.types import (
    PVOID,
    SCH_CREDENTIALS,
    SCHANNEL_CRED,
    SecPkgContext_ApplicationProtocol,
    pack_application_protocols,
    pack_control_token,
)
from . import win32security as W
from .pywintypes import api_error

__all__ = [
    "SCHANNEL_SHUTDOWN",
    "SECBUFFER_ALERT",
    "SECBUFFER_APPLICATION_PROTOCOLS",
    "SECPKG_ATTR_APPLICATION_PROTOCOL",
    "UNISP_NAME",
    "AcquireCredentialsHandle",
    "ApplyControlToken",
    "InitializeSecurityContext",
    "application_protocols_buffer",
    "negotiated_alpn",
    "peer_certificate",
    "remote_cert_context",
    "shutdown",
]

# SChannel names pywin32's sspicon lacks (values from schannel_py.constants).
SECBUFFER_ALERT = C.SECBUFFER_ALERT
SECBUFFER_APPLICATION_PROTOCOLS = C.SECBUFFER_APPLICATION_PROTOCOLS
SECPKG_ATTR_APPLICATION_PROTOCOL = C.SECPKG_ATTR_APPLICATION_PROTOCOL
SCHANNEL_SHUTDOWN = C.SCHANNEL_SHUTDOWN
UNISP_NAME = C.UNISP_NAME


def AcquireCredentialsHandle(
    Principal: str | None,
    Package: str,
    CredentialUse: int,
    LogonID: int | None,
    AuthData: SCHANNEL_CRED | SCH_CREDENTIALS | None,
) -> tuple[W.PyCredHandle, _dt.datetime]:
    """As ``win32security.AcquireCredentialsHandle``, with SChannel's own AuthData
    (:class:`schannel_py.SCHANNEL_CRED` / :class:`schannel_py.SCH_CREDENTIALS`)."""
    if AuthData is not None and not isinstance(AuthData, (SCHANNEL_CRED, SCH_CREDENTIALS)):
        raise TypeError("AuthData must be None, a SCHANNEL_CRED or a SCH_CREDENTIALS")
    return W._acquire(Principal, Package, CredentialUse, LogonID, AuthData)


def InitializeSecurityContext(
    Credential: W.PyCredHandle,
    Context: W.PyCtxtHandle | None,
    TargetName: str | None,
    ContextReq: int,
    TargetDataRep: int,
    pInput: W.PySecBufferDesc | None,
    NewContext: W.PyCtxtHandle,
    pOutput: W.PySecBufferDesc,
) -> tuple[int, int, _dt.datetime]:
    """As ``win32security.InitializeSecurityContext``, but ``pInput`` is copied back
    too (on success), so a ``SECBUFFER_EXTRA`` left by the call is visible."""
    return W._initialize(
        Credential,
        Context,
        TargetName,
        ContextReq,
        TargetDataRep,
        pInput,
        NewContext,
        pOutput,
        sync_input=True,
    )


def _handle(ctxt: object) -> W.PyCtxtHandle:
    found = W._as_ctxt(ctxt, False)
    assert found is not None
    return found


def ApplyControlToken(Context: W.PyCtxtHandle, Input: W.PySecBufferDesc) -> None:
    """``ApplyControlToken``: one ``SECBUFFER_TOKEN`` buffer holding a control token
    (``SCHANNEL_SHUTDOWN``, an ``SCHANNEL_ALERT_TOKEN`` ...)."""
    ctxt = _handle(Context)
    desc = W._required_desc(Input)
    status = F.ApplyControlToken(ctxt._h, desc._to_desc(copy=True))
    if status != C.SEC_E_OK:
        raise api_error("ApplyControlToken", status)


def shutdown(Context: W.PyCtxtHandle) -> None:
    """Apply ``SCHANNEL_SHUTDOWN``; the next InitializeSecurityContext returns close_notify."""
    token = pack_control_token(C.SCHANNEL_SHUTDOWN)
    buf = W.PySecBuffer(len(token), C.SECBUFFER_TOKEN)
    buf.Buffer = token
    desc = W.PySecBufferDesc()
    desc.append(buf)
    ApplyControlToken(Context, desc)


def remote_cert_context(Context: W.PyCtxtHandle) -> CERT_CONTEXT:
    """``SECPKG_ATTR_REMOTE_CERT_CONTEXT``: the server's leaf as a ``CERT_CONTEXT``
    (its ``hCertStore`` holds what the server sent)."""
    ctxt = _handle(Context)
    holder = PVOID()
    status = F.QueryContextAttributes(ctxt._h, C.SECPKG_ATTR_REMOTE_CERT_CONTEXT, holder)
    if status != C.SEC_E_OK:
        raise api_error("QueryContextAttributes", status)
    if not isinstance(holder.value, CERT_CONTEXT):
        raise api_error("QueryContextAttributes", C.SEC_E_INTERNAL_ERROR)
    return holder.value


def peer_certificate(Context: W.PyCtxtHandle) -> bytes:
    """The server's leaf certificate, DER."""
    return bytes(remote_cert_context(Context).pbCertEncoded)


def negotiated_alpn(Context: W.PyCtxtHandle) -> bytes | None:
    """``SECPKG_ATTR_APPLICATION_PROTOCOL``: the protocol the server chose, or None."""
    ctxt = _handle(Context)
    info = SecPkgContext_ApplicationProtocol()
    status = F.QueryContextAttributes(ctxt._h, C.SECPKG_ATTR_APPLICATION_PROTOCOL, info)
    if status != C.SEC_E_OK:
        raise api_error("QueryContextAttributes", status)
    if info.ProtoNegoStatus != C.SecApplicationProtocolNegotiationStatus_Success:
        return None
    return bytes(info.ProtocolId[: info.ProtocolIdSize])


def application_protocols_buffer(protocols: Sequence[bytes | str]) -> W.PySecBuffer:
    """A ``SECBUFFER_APPLICATION_PROTOCOLS`` PySecBuffer offering ``protocols`` (ALPN),
    to put in the first InitializeSecurityContext's ``pInput``."""
    blob = pack_application_protocols(protocols)
    buf = W.PySecBuffer(len(blob), C.SECBUFFER_APPLICATION_PROTOCOLS)
    buf.Buffer = blob
    return buf
