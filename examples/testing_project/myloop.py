"""An application's own SSPI client loop: the code under test in this example project.

It is written the way a Windows program drives SChannel (only SSPI calls,
``send`` / ``recv`` callables for the socket), and it has the three habits
its tests check: it keeps reading until a whole record is there, it sends
the alert SChannel hands back when the handshake fails, and it retries with
a client certificate after SEC_I_INCOMPLETE_CREDENTIALS.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import schannel_py as S

FLAGS = (
    S.ISC_REQ_SEQUENCE_DETECT
    | S.ISC_REQ_REPLAY_DETECT
    | S.ISC_REQ_CONFIDENTIALITY
    | S.ISC_REQ_ALLOCATE_MEMORY
    | S.ISC_REQ_STREAM
)


class LoopError(Exception):
    """An SSPI call failed (``status``), or the peer went away."""

    def __init__(self, what: str, status: int = S.SEC_E_INCOMPLETE_MESSAGE) -> None:
        super().__init__(f"{what}: {S.SecStatus(status)!r}")
        self.status = S.SecStatus(status)


class MyClient:
    """One TLS connection over ``send(bytes)`` / ``recv(n) -> bytes``."""

    def __init__(
        self,
        send: Callable[[bytes], object],
        recv: Callable[[int], bytes],
        cred: S.CredHandle,
        host: str,
        *,
        client_certificate: Callable[[], S.CredHandle] | None = None,
    ) -> None:
        self._send, self._recv = send, recv
        self.cred, self.host = cred, host
        self.client_certificate = client_certificate
        self.ctx, self.attrs = S.CtxtHandle(), S.ULONG()
        self.encdata = bytearray()
        self.statuses: list[S.SecStatus] = []
        self.closed = False

    def _tokens(self, out: S.SecBufferDesc) -> tuple[bytes, bytes]:
        token = alert = b""
        for b in out.pBuffers:
            if b.pvBuffer is None:
                continue
            data = bytes(b.pvBuffer[: b.cbBuffer])
            if b.BufferType == S.SECBUFFER_TOKEN:
                token += data
            elif b.BufferType == S.SECBUFFER_ALERT:
                alert += data
            S.FreeContextBuffer(b.pvBuffer)
        return token, alert

    def _read(self) -> None:
        chunk = self._recv(16384)
        if not chunk:
            raise LoopError("connection closed")
        self.encdata += chunk

    def connect(self) -> None:
        out = S.SecBufferDesc([S.SecBuffer(0, S.SECBUFFER_TOKEN, None)])
        status = S.InitializeSecurityContext(
            self.cred, None, self.host, FLAGS, 0, 0, None, 0, self.ctx, out, self.attrs, None
        )
        if status != S.SEC_I_CONTINUE_NEEDED:
            raise LoopError("first InitializeSecurityContext", status)
        self._send(self._tokens(out)[0])
        self._handshake(read_first=True)

    def _handshake(self, read_first: bool) -> None:
        need_read = read_first
        while True:
            if need_read:
                self._read()
            data = bytes(self.encdata)
            inp = S.SecBufferDesc(
                [
                    S.SecBuffer(len(data), S.SECBUFFER_TOKEN, data),
                    S.SecBuffer(0, S.SECBUFFER_EMPTY, None),
                ]
            )
            out = S.SecBufferDesc(
                [
                    S.SecBuffer(0, S.SECBUFFER_TOKEN, None),
                    S.SecBuffer(0, S.SECBUFFER_ALERT, None),
                    S.SecBuffer(0, S.SECBUFFER_EMPTY, None),
                ]
            )
            status = S.InitializeSecurityContext(
                self.cred, self.ctx, self.host, FLAGS, 0, 0, inp, 0, None, out, self.attrs, None
            )
            self.statuses.append(status)
            token, alert = self._tokens(out)
            if status == S.SEC_E_INCOMPLETE_MESSAGE:
                need_read = True
                continue
            if status == S.SEC_I_INCOMPLETE_CREDENTIALS and self.client_certificate:
                # The server asked for a certificate: a credential with one, same bytes again.
                self.cred = self.client_certificate()
                need_read = False
                continue
            if status not in (S.SEC_E_OK, S.SEC_I_CONTINUE_NEEDED):
                if alert:
                    self._send(alert)  # tell the server why
                raise LoopError("InitializeSecurityContext", status)
            extra = inp.pBuffers[1]
            if extra.BufferType == S.SECBUFFER_EXTRA:
                del self.encdata[: len(self.encdata) - extra.cbBuffer]
            else:
                self.encdata.clear()
            if token:
                self._send(token)
            if status == S.SEC_E_OK:
                return
            need_read = not self.encdata

    def send(self, data: bytes) -> None:
        sizes = S.SecPkgContext_StreamSizes()
        S.QueryContextAttributes(self.ctx, S.SECPKG_ATTR_STREAM_SIZES, sizes)
        h, t = sizes.cbHeader, sizes.cbTrailer
        buf = bytearray(h + len(data) + t)
        buf[h : h + len(data)] = data
        mv = memoryview(buf)
        desc = S.SecBufferDesc(
            [
                S.SecBuffer(h, S.SECBUFFER_STREAM_HEADER, mv[:h]),
                S.SecBuffer(len(data), S.SECBUFFER_DATA, mv[h : h + len(data)]),
                S.SecBuffer(t, S.SECBUFFER_STREAM_TRAILER, mv[h + len(data) :]),
                S.SecBuffer(0, S.SECBUFFER_EMPTY, None),
            ]
        )
        status = S.EncryptMessage(self.ctx, 0, desc, 0)
        if status != S.SEC_E_OK:
            raise LoopError("EncryptMessage", status)
        self._send(bytes(buf[: sum(b.cbBuffer for b in desc.pBuffers[:3])]))

    def recv(self) -> bytes:
        """The next application data; b"" after the server's close_notify."""
        while not self.closed:
            if not self.encdata:
                self._read()
            desc = S.SecBufferDesc(
                [S.SecBuffer(len(self.encdata), S.SECBUFFER_DATA, self.encdata)]
                + [S.SecBuffer(0, S.SECBUFFER_EMPTY, None) for _ in range(3)]
            )
            status = S.DecryptMessage(self.ctx, desc, 0, None)
            self.statuses.append(status)
            if status == S.SEC_E_INCOMPLETE_MESSAGE:
                self._read()
                continue
            if status not in (S.SEC_E_OK, S.SEC_I_RENEGOTIATE, S.SEC_I_CONTEXT_EXPIRED):
                raise LoopError("DecryptMessage", status)
            data = b"".join(
                bytes(b.pvBuffer[: b.cbBuffer])
                for b in desc.pBuffers
                if b.BufferType == S.SECBUFFER_DATA and b.pvBuffer is not None
            )
            extra = sum(b.cbBuffer for b in desc.pBuffers if b.BufferType == S.SECBUFFER_EXTRA)
            desc.release()
            del self.encdata[: len(self.encdata) - extra]
            if status == S.SEC_I_RENEGOTIATE:
                # A ticket or a KeyUpdate (TLS 1.3), a HelloRequest (TLS 1.2): ISC answers it.
                self._handshake(read_first=False)
            elif status == S.SEC_I_CONTEXT_EXPIRED:
                self.closed = True
            if data:
                return data
        return b""

    def close(self) -> None:
        token = struct.pack("<I", S.SCHANNEL_SHUTDOWN)
        S.ApplyControlToken(
            self.ctx, S.SecBufferDesc([S.SecBuffer(len(token), S.SECBUFFER_TOKEN, token)])
        )
        out = S.SecBufferDesc([S.SecBuffer(0, S.SECBUFFER_TOKEN, None)])
        S.InitializeSecurityContext(
            self.cred, self.ctx, self.host, FLAGS, 0, 0, None, 0, self.ctx, out, self.attrs, None
        )
        self._send(self._tokens(out)[0])
        S.DeleteSecurityContext(self.ctx)
