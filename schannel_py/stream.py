"""A socket driver that runs the SSPI client loop exactly as curl's SChannel backend does.

It is the reference caller of the emulation: first ISC with a NULL input (or
one APPLICATION_PROTOCOLS buffer) and one EMPTY output buffer; handshake legs
with ``[TOKEN, EMPTY]`` in and ``[TOKEN, ALERT, EMPTY]`` out, EXTRA taken as a
tail count; the final attributes must equal the request; EncryptMessage over
``[STREAM_HEADER, DATA, STREAM_TRAILER, EMPTY]``; DecryptMessage over
``[DATA, EMPTY x3]`` reading buffers [1] and [3]; SEC_I_RENEGOTIATE answered
by ISC with the leftover bytes; shutdown through ApplyControlToken + ISC.
The CLI, the demo and the interop tests all use it.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass

from . import constants as C
from .constants import SecStatus
from .sspi import functions as F
from .sspi.types import (
    ULONG,
    CredHandle,
    CtxtHandle,
    SecBuffer,
    SecBufferDesc,
    SecPkgContext_ApplicationProtocol,
    SecPkgContext_StreamSizes,
    TimeStamp,
    pack_application_protocols,
    pack_key_update_token,
)

# The request flags curl uses by default (client certificate not automatic).
CURL_REQ_FLAGS = (
    C.ISC_REQ_SEQUENCE_DETECT
    | C.ISC_REQ_REPLAY_DETECT
    | C.ISC_REQ_CONFIDENTIALITY
    | C.ISC_REQ_ALLOCATE_MEMORY
    | C.ISC_REQ_STREAM
    | C.ISC_REQ_USE_SUPPLIED_CREDS
)

Tracer = Callable[[str, dict[str, object]], None]


class SChannelError(Exception):
    """An SSPI call returned a failure status."""

    def __init__(self, call: str, status: int) -> None:
        self.call = call
        self.status = SecStatus(status)
        super().__init__(
            f"{call} returned {self.status!r} (0x{int(self.status):08X}): {self.status.message}"
        )


def _desc(*bufs: SecBuffer) -> SecBufferDesc:
    return SecBufferDesc(list(bufs))


def _describe(desc: SecBufferDesc | None) -> list[tuple[int, int]]:
    if desc is None:
        return []
    return [(b.BufferType, b.cbBuffer) for b in desc.pBuffers[: desc.cBuffers]]


@dataclass
class StreamResult:
    """What a handshake negotiated, for printing."""

    alpn: bytes | None


class SChannelStream:
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
        self.sock = sock
        self.target = target
        self.cred = cred
        self.alpn = alpn or []
        self.req = req_flags
        self.ctx = CtxtHandle()
        self.attrs = ULONG()
        self.tracer = tracer
        self.recv_size = recv_size
        self.encdata = bytearray()
        self.sizes: SecPkgContext_StreamSizes | None = None
        self.closed = False
        self.have_context = False
        self._after_renegotiation = False
        self.last_status: SecStatus = C.SEC_E_OK

    # --- helpers ----------------------------------------------------------------

    def _trace(self, event: str, **details: object) -> None:
        if self.tracer is not None:
            self.tracer(event, details)

    def _isc(
        self,
        ctx: CtxtHandle | None,
        inp: SecBufferDesc | None,
        out: SecBufferDesc,
        new: CtxtHandle | None,
    ) -> SecStatus:
        in_before = _describe(inp)
        status = F.InitializeSecurityContext(
            self.cred, ctx, self.target, self.req, 0, 0, inp, 0, new, out, self.attrs, None
        )
        self._trace(
            "isc",
            flags=self.req,
            status=status,
            input=in_before,
            input_after=_describe(inp),
            output=_describe(out),
            ret_flags=self.attrs.value,
        )
        return status

    def _send_tokens(self, out: SecBufferDesc) -> None:
        for b in out.pBuffers:
            if b.BufferType == C.SECBUFFER_TOKEN and b.cbBuffer > 0 and b.pvBuffer is not None:
                self.sock.sendall(bytes(b.pvBuffer[: b.cbBuffer]))
            if b.pvBuffer is not None:
                F.FreeContextBuffer(b.pvBuffer)

    def _read(self) -> None:
        chunk = self.sock.recv(self.recv_size)
        if not chunk:
            raise SChannelError("recv", C.SEC_E_INCOMPLETE_MESSAGE)
        self.encdata += chunk

    # --- handshake ----------------------------------------------------------------

    def handshake(self) -> None:
        """Run the ISC loop to SEC_E_OK; raises SChannelError on failure."""
        inp = None
        if self.alpn:
            blob = pack_application_protocols(self.alpn)
            inp = _desc(SecBuffer(len(blob), C.SECBUFFER_APPLICATION_PROTOCOLS, blob))
        out = _desc(SecBuffer(0, C.SECBUFFER_EMPTY, None))
        status = self._isc(None, inp, out, self.ctx)
        if status != C.SEC_I_CONTINUE_NEEDED:
            raise SChannelError("InitializeSecurityContext", status)
        self.have_context = True
        self._send_tokens(out)
        self._loop(read_first=True)
        if self.attrs.value != self.req:
            raise SChannelError(
                "InitializeSecurityContext (flags mismatch)", C.SEC_E_INTERNAL_ERROR
            )

    def _loop(self, read_first: bool) -> None:
        need_read = read_first
        while True:
            if need_read:
                self._read()
            inbuf = _desc(
                SecBuffer(len(self.encdata), C.SECBUFFER_TOKEN, bytes(self.encdata)),
                SecBuffer(0, C.SECBUFFER_EMPTY, None),
            )
            out = _desc(
                SecBuffer(0, C.SECBUFFER_TOKEN, None),
                SecBuffer(0, C.SECBUFFER_ALERT, None),
                SecBuffer(0, C.SECBUFFER_EMPTY, None),
            )
            status = self._isc(self.ctx, inbuf, out, None)
            if status == C.SEC_E_INCOMPLETE_MESSAGE:
                need_read = True
                continue
            if (
                status == C.SEC_I_INCOMPLETE_CREDENTIALS
                and not self.req & C.ISC_REQ_USE_SUPPLIED_CREDS
            ):
                # curl: continue without a certificate, re-feeding the same bytes.
                self.req |= C.ISC_REQ_USE_SUPPLIED_CREDS
                need_read = False
                continue
            if status not in (C.SEC_E_OK, C.SEC_I_CONTINUE_NEEDED, C.SEC_I_NO_RENEGOTIATION):
                alert = out.pBuffers[1]
                if alert.cbBuffer and alert.pvBuffer is not None:
                    try:
                        self.sock.sendall(bytes(alert.pvBuffer[: alert.cbBuffer]))
                    except OSError:
                        pass
                raise SChannelError("InitializeSecurityContext", status)
            self._send_tokens(out)
            extra = inbuf.pBuffers[1]
            if extra.BufferType == C.SECBUFFER_EXTRA and extra.cbBuffer > 0:
                del self.encdata[: len(self.encdata) - extra.cbBuffer]
                if status == C.SEC_I_CONTINUE_NEEDED:
                    need_read = False
                    continue
            else:
                self.encdata.clear()
            if status in (C.SEC_E_OK, C.SEC_I_NO_RENEGOTIATION):
                self.last_status = status
                return
            need_read = True

    # --- data ----------------------------------------------------------------------

    def negotiated_alpn(self) -> bytes | None:
        ap = SecPkgContext_ApplicationProtocol()
        status = F.QueryContextAttributes(self.ctx, C.SECPKG_ATTR_APPLICATION_PROTOCOL, ap)
        if status != C.SEC_E_OK:
            raise SChannelError("QueryContextAttributes", status)
        if ap.ProtoNegoStatus == C.SecApplicationProtocolNegotiationStatus_Success:
            return bytes(ap.ProtocolId[: ap.ProtocolIdSize])
        return None

    def send(self, data: bytes) -> int:
        """Encrypt and send all of ``data``, one record per cbMaximumMessage chunk."""
        if self.sizes is None:
            sizes = SecPkgContext_StreamSizes()
            status = F.QueryContextAttributes(self.ctx, C.SECPKG_ATTR_STREAM_SIZES, sizes)
            if status != C.SEC_E_OK:
                raise SChannelError("QueryContextAttributes", status)
            self.sizes = sizes
        sizes = self.sizes
        sent = 0
        while sent < len(data) or not data:
            chunk = data[sent : sent + sizes.cbMaximumMessage]
            buf = bytearray(sizes.cbHeader + len(chunk) + sizes.cbTrailer)
            mv = memoryview(buf)
            buf[sizes.cbHeader : sizes.cbHeader + len(chunk)] = chunk
            desc = _desc(
                SecBuffer(sizes.cbHeader, C.SECBUFFER_STREAM_HEADER, mv[: sizes.cbHeader]),
                SecBuffer(
                    len(chunk), C.SECBUFFER_DATA, mv[sizes.cbHeader : sizes.cbHeader + len(chunk)]
                ),
                SecBuffer(
                    sizes.cbTrailer, C.SECBUFFER_STREAM_TRAILER, mv[sizes.cbHeader + len(chunk) :]
                ),
                SecBuffer(0, C.SECBUFFER_EMPTY, None),
            )
            status = F.EncryptMessage(self.ctx, 0, desc, 0)
            self._trace("encrypt", status=status, size=len(chunk))
            if status != C.SEC_E_OK:
                raise SChannelError("EncryptMessage", status)
            total = sum(b.cbBuffer for b in desc.pBuffers[:3])
            self.sock.sendall(bytes(buf[:total]))
            sent += len(chunk)
            if not data:
                break
        return sent

    def recv(self) -> bytes:
        """The next application data (b"" once the server sent close_notify)."""
        while True:
            if self.closed:
                return b""
            if not self.encdata and not self._after_renegotiation:
                self._read()
            self._after_renegotiation = False
            desc = _desc(
                SecBuffer(len(self.encdata), C.SECBUFFER_DATA, self.encdata),
                SecBuffer(0, C.SECBUFFER_EMPTY, None),
                SecBuffer(0, C.SECBUFFER_EMPTY, None),
                SecBuffer(0, C.SECBUFFER_EMPTY, None),
            )
            status = F.DecryptMessage(self.ctx, desc, 0, None)
            self._trace("decrypt", status=status, buffers=_describe(desc))
            if status == C.SEC_E_INCOMPLETE_MESSAGE:
                self._read()
                continue
            if status not in (C.SEC_E_OK, C.SEC_I_RENEGOTIATE, C.SEC_I_CONTEXT_EXPIRED):
                raise SChannelError("DecryptMessage", status)
            data = b""
            b1, b3 = desc.pBuffers[1], desc.pBuffers[3]
            if b1.BufferType == C.SECBUFFER_DATA and b1.cbBuffer and b1.pvBuffer is not None:
                data = bytes(b1.pvBuffer[: b1.cbBuffer])
            extra = b3.cbBuffer if b3.BufferType == C.SECBUFFER_EXTRA else 0
            desc.release()
            if extra > 0:
                del self.encdata[: len(self.encdata) - extra]
            else:
                self.encdata.clear()
            if status == C.SEC_I_RENEGOTIATE:
                self._loop(read_first=False)
                # Data that arrived during a TLS 1.2 renegotiation is handed out
                # by the next DecryptMessage, even before new bytes arrive.
                self._after_renegotiation = True
            elif status == C.SEC_I_CONTEXT_EXPIRED:
                self.closed = True
            if data:
                return data

    def renegotiate(self) -> SecStatus:
        """Client-initiated TLS 1.2 renegotiation: ISC with no input, then the usual loop.

        Returns SEC_E_OK, or SEC_I_NO_RENEGOTIATION when the server declined.
        """
        out = _desc(SecBuffer(0, C.SECBUFFER_TOKEN, None))
        status = self._isc(self.ctx, None, out, None)
        if status != C.SEC_I_CONTINUE_NEEDED:
            raise SChannelError("InitializeSecurityContext", status)
        self._send_tokens(out)
        self._loop(read_first=not self.encdata)
        # As after a server-initiated one: data that arrived during it comes first.
        self._after_renegotiation = True
        return self.last_status

    def key_update(self, requested: bool = False) -> None:
        """Send a TLS 1.3 KeyUpdate (schannel_py extension): ApplyControlToken + ISC."""
        token = pack_key_update_token(
            C.SCHANNEL_PY_KEY_UPDATE_REQUESTED
            if requested
            else C.SCHANNEL_PY_KEY_UPDATE_NOT_REQUESTED
        )
        status = F.ApplyControlToken(
            self.ctx, _desc(SecBuffer(len(token), C.SECBUFFER_TOKEN, token))
        )
        if status != C.SEC_E_OK:
            raise SChannelError("ApplyControlToken", status)
        out = _desc(SecBuffer(0, C.SECBUFFER_EMPTY, None))
        status = self._isc(self.ctx, None, out, self.ctx)
        if status != C.SEC_E_OK:
            raise SChannelError("InitializeSecurityContext", status)
        self._send_tokens(out)

    def shutdown(self) -> None:
        """Send close_notify through ApplyControlToken + ISC."""
        token = struct.pack("<I", C.SCHANNEL_SHUTDOWN)
        status = F.ApplyControlToken(self.ctx, _desc(SecBuffer(4, C.SECBUFFER_TOKEN, token)))
        if status != C.SEC_E_OK:
            raise SChannelError("ApplyControlToken", status)
        out = _desc(SecBuffer(0, C.SECBUFFER_EMPTY, None))
        status = self._isc(self.ctx, None, out, self.ctx)
        if status not in (C.SEC_E_OK, C.SEC_I_CONTEXT_EXPIRED):
            raise SChannelError("InitializeSecurityContext", status)
        self._send_tokens(out)

    def close(self) -> None:
        if self.have_context:
            F.DeleteSecurityContext(self.ctx)
            self.have_context = False


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
