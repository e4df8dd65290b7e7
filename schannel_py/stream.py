"""TLS over a connected socket: :class:`schannel_py.driver.SspiDriver` with the socket's
``sendall`` / ``recv`` as its transport.

The SSPI calls (curl's loop) live in :mod:`schannel_py.driver`; this module adds
the socket, :func:`connect` and :func:`acquire_default_credential`.  The CLI,
the demo and the interop tests use it.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass

from . import constants as C
from .driver import CURL_REQ_FLAGS, SspiDriver, SspiError
from .sspi import functions as F
from .sspi.types import CredHandle, TimeStamp

__all__ = [
    "CURL_REQ_FLAGS",
    "SChannelError",
    "SChannelStream",
    "StreamResult",
    "Tracer",
    "acquire_default_credential",
    "connect",
]

Tracer = Callable[[str, dict[str, object]], None]

#: An SSPI call returned a failure status (the driver's SspiError).
SChannelError = SspiError


@dataclass
class StreamResult:
    """What a handshake negotiated, for printing."""

    alpn: bytes | None


class SChannelStream(SspiDriver):
    """TLS over a connected socket through the SSPI functions."""

    def __init__(
        self,
        sock: socket.socket,
        target: str | None,
        cred: CredHandle,
        *,
        alpn: list[bytes] | None = None,
        req_flags: int = CURL_REQ_FLAGS,
        tracer: Tracer | None = None,
        recv_size: int = 16384,
    ) -> None:
        super().__init__(
            sock.sendall,
            sock.recv,
            cred,
            target,
            req_flags,
            alpn=alpn,
            recv_size=recv_size,
            observer=tracer,
        )
        self.sock = sock
        self.tracer = tracer


def acquire_default_credential(flags: int = 0, disabled_protocols: int = 0) -> CredHandle:
    """An outbound SCH_CREDENTIALS handle (TLS 1.3 and 1.2, minus ``disabled_protocols``)."""
    from .sspi.types import SCH_CREDENTIALS, TLS_PARAMETERS

    params = (
        [TLS_PARAMETERS(grbitDisabledProtocols=disabled_protocols)] if disabled_protocols else None
    )
    auth = SCH_CREDENTIALS(
        dwVersion=C.SCH_CREDENTIALS_VERSION,
        dwFlags=flags | C.SCH_USE_STRONG_CRYPTO,
        cTlsParameters=len(params or []),
        pTlsParameters=params,
    )
    cred = CredHandle()
    status = F.AcquireCredentialsHandle(
        None, C.UNISP_NAME, C.SECPKG_CRED_OUTBOUND, None, auth, None, None, cred, TimeStamp()
    )
    if status != C.SEC_E_OK:
        raise SChannelError("AcquireCredentialsHandle", status)
    return cred


def connect(
    host: str,
    port: int,
    *,
    target: str | None = None,
    cred: CredHandle | None = None,
    alpn: list[bytes] | None = None,
    timeout: float = 10.0,
    tracer: Tracer | None = None,
    req_flags: int = CURL_REQ_FLAGS,
) -> SChannelStream:
    """Open a TCP connection and complete the TLS handshake over it."""
    sock = socket.create_connection((host, port), timeout=timeout)
    stream = SChannelStream(
        sock,
        target if target is not None else host,
        cred if cred is not None else acquire_default_credential(),
        alpn=alpn,
        tracer=tracer,
        req_flags=req_flags,
    )
    try:
        stream.handshake()
    except BaseException:
        stream.close()
        sock.close()
        raise
    return stream
