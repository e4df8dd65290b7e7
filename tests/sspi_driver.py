"""In-memory drivers of the SSPI loop for tests: curl's loop against a MemoryServer."""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from memserver import MemoryServer

import schannel_py as sc


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def no_unexpected_exceptions() -> Iterator[None]:
    """Fail if the SSPI guard had to catch an exception (SEC_E_INTERNAL_ERROR from a bug)."""
    logger = logging.getLogger("schannel_py.sspi")
    collector = _Collector()
    logger.addHandler(collector)
    try:
        yield
    finally:
        logger.removeHandler(collector)
    if collector.records:
        rec = collector.records[0]
        detail = logging.Formatter().formatException(rec.exc_info) if rec.exc_info else ""
        pytest.fail(f"guard caught an exception: {rec.getMessage()}\n{detail}")


CURL_FLAGS = (
    sc.ISC_REQ_SEQUENCE_DETECT
    | sc.ISC_REQ_REPLAY_DETECT
    | sc.ISC_REQ_CONFIDENTIALITY
    | sc.ISC_REQ_ALLOCATE_MEMORY
    | sc.ISC_REQ_STREAM
    | sc.ISC_REQ_USE_SUPPLIED_CREDS
)


def acquire(flags: int = 0, *, disabled: int = 0) -> sc.CredHandle:
    params = [sc.TLS_PARAMETERS(grbitDisabledProtocols=disabled)] if disabled else None
    auth = sc.SCH_CREDENTIALS(
        dwVersion=sc.SCH_CREDENTIALS_VERSION,
        dwFlags=flags,
        cTlsParameters=len(params or []),
        pTlsParameters=params,
    )
    cred = sc.CredHandle()
    status = sc.AcquireCredentialsHandle(
        None, sc.UNISP_NAME, sc.SECPKG_CRED_OUTBOUND, None, auth, None, None, cred, sc.TimeStamp()
    )
    assert status == sc.SEC_E_OK, status
    return cred


def isc_buffers(data: bytes) -> tuple[sc.SecBufferDesc, sc.SecBufferDesc]:
    """curl's ISC descriptors: input [TOKEN data, EMPTY] (the EMPTY turns into
    EXTRA/MISSING), output [TOKEN, ALERT, EMPTY] for the package to allocate."""
    inbuf = sc.SecBufferDesc(
        [
            sc.SecBuffer(len(data), sc.SECBUFFER_TOKEN, data),
            sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None),
        ]
    )
    out = sc.SecBufferDesc(
        [
            sc.SecBuffer(0, sc.SECBUFFER_TOKEN, None),
            sc.SecBuffer(0, sc.SECBUFFER_ALERT, None),
            sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None),
        ]
    )
    return inbuf, out


@dataclass
class CurlLoop:
    """curl's handshake loop, record by record, against an in-memory server."""

    server: MemoryServer
    cred: sc.CredHandle
    target: str | None = "localhost"
    flags: int = CURL_FLAGS
    alpn: list[bytes] | None = None
    ctx: sc.CtxtHandle = field(default_factory=sc.CtxtHandle)
    attrs: sc.ULONG = field(default_factory=sc.ULONG)
    encdata: bytearray = field(default_factory=bytearray)
    statuses: list[sc.SecStatus] = field(default_factory=list)
    last_alert: bytes = b""
    flags64: int = 0  # 64-bit ISC_REQ_* flags sent in a SECBUFFER_FLAGS input buffer

    def first_call(self) -> bytes:
        inputs = []
        if self.alpn:
            blob = sc.pack_application_protocols(self.alpn)
            inputs.append(sc.SecBuffer(len(blob), sc.SECBUFFER_APPLICATION_PROTOCOLS, blob))
        if self.flags64:
            inputs.append(sc.SecBuffer(8, sc.SECBUFFER_FLAGS, sc.pack_sec_flags(self.flags64)))
        inp = sc.SecBufferDesc(inputs) if inputs else None
        out = sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None)])
        status = sc.InitializeSecurityContext(
            self.cred, None, self.target, self.flags, 0, 0, inp, 0, self.ctx, out, self.attrs, None
        )
        assert status == sc.SEC_I_CONTINUE_NEEDED, status
        tok = out.pBuffers[0]
        assert tok.BufferType == sc.SECBUFFER_TOKEN
        assert tok.pvBuffer is not None
        return bytes(tok.pvBuffer[: tok.cbBuffer])

    def step(self) -> tuple[sc.SecStatus, bytes]:
        inbuf, out = isc_buffers(bytes(self.encdata))
        status = sc.InitializeSecurityContext(
            self.cred,
            self.ctx,
            self.target,
            self.flags,
            0,
            0,
            inbuf,
            0,
            None,
            out,
            self.attrs,
            None,
        )
        self.statuses.append(status)
        sent = b""
        if status in (sc.SEC_E_OK, sc.SEC_I_CONTINUE_NEEDED):
            for b in out.pBuffers:
                if b.BufferType == sc.SECBUFFER_TOKEN and b.cbBuffer and b.pvBuffer is not None:
                    sent += bytes(b.pvBuffer[: b.cbBuffer])
            extra = inbuf.pBuffers[1]
            if extra.BufferType == sc.SECBUFFER_EXTRA and extra.cbBuffer:
                del self.encdata[: len(self.encdata) - extra.cbBuffer]
            else:
                self.encdata.clear()
        else:
            alert = out.pBuffers[1]
            if alert.cbBuffer and alert.pvBuffer is not None:
                self.last_alert = bytes(alert.pvBuffer[: alert.cbBuffer])
        return status, sent

    def handshake(self) -> sc.SecStatus:
        """Run to SEC_E_OK (or the first failure), as curl does."""
        reply = self.server.feed(self.first_call())
        self.encdata += reply
        return self.handshake_from_step()

    def handshake_from_step(self) -> sc.SecStatus:
        """Continue the handshake loop from the current ``encdata``."""
        for _ in range(20):
            status, sent = self.step()
            if status == sc.SEC_E_INCOMPLETE_MESSAGE:
                more = self.server.feed(b"")
                assert more, "server has nothing more to send"
                self.encdata += more
                continue
            if status not in (sc.SEC_E_OK, sc.SEC_I_CONTINUE_NEEDED):
                return status
            reply = self.server.feed(sent)
            self.encdata += reply
            if status == sc.SEC_E_OK:
                return status
            if not self.encdata:
                self.encdata += self.server.feed(b"")
        raise AssertionError("handshake did not finish")

    # --- data ---------------------------------------------------------------

    def stream_sizes(self) -> sc.SecPkgContext_StreamSizes:
        sizes = sc.SecPkgContext_StreamSizes()
        assert (
            sc.QueryContextAttributes(self.ctx, sc.SECPKG_ATTR_STREAM_SIZES, sizes) == sc.SEC_E_OK
        )
        return sizes

    def encrypt(self, data: bytes) -> bytes:
        sizes = self.stream_sizes()
        buf = bytearray(sizes.cbHeader + len(data) + sizes.cbTrailer)
        mv = memoryview(buf)
        h, n = sizes.cbHeader, len(data)
        buf[h : h + n] = data
        desc = sc.SecBufferDesc(
            [
                sc.SecBuffer(h, sc.SECBUFFER_STREAM_HEADER, mv[:h]),
                sc.SecBuffer(n, sc.SECBUFFER_DATA, mv[h : h + n]),
                sc.SecBuffer(sizes.cbTrailer, sc.SECBUFFER_STREAM_TRAILER, mv[h + n :]),
                sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None),
            ]
        )
        status = sc.EncryptMessage(self.ctx, 0, desc, 0)
        assert status == sc.SEC_E_OK, status
        total = sum(b.cbBuffer for b in desc.pBuffers[:3])
        return bytes(buf[:total])

    def decrypt_all(self) -> tuple[bytes, list[sc.SecStatus]]:
        """DecryptMessage over encdata until it is empty, handling SEC_I_RENEGOTIATE like curl."""
        plain = b""
        seen: list[sc.SecStatus] = []
        while self.encdata:
            desc = sc.SecBufferDesc(
                [
                    sc.SecBuffer(len(self.encdata), sc.SECBUFFER_DATA, self.encdata),
                    sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None),
                    sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None),
                    sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None),
                ]
            )
            status = sc.DecryptMessage(self.ctx, desc, 0, None)
            seen.append(status)
            if status == sc.SEC_E_INCOMPLETE_MESSAGE:
                break
            assert status in (sc.SEC_E_OK, sc.SEC_I_RENEGOTIATE, sc.SEC_I_CONTEXT_EXPIRED), status
            b1, b3 = desc.pBuffers[1], desc.pBuffers[3]
            if b1.BufferType == sc.SECBUFFER_DATA and b1.cbBuffer:
                assert b1.pvBuffer is not None
                plain += bytes(b1.pvBuffer[: b1.cbBuffer])
            extra = b3.cbBuffer if b3.BufferType == sc.SECBUFFER_EXTRA else 0
            desc.release()
            if extra:
                del self.encdata[: len(self.encdata) - extra]
            else:
                self.encdata.clear()
            if status == sc.SEC_I_RENEGOTIATE:
                st, sent = self.step()
                assert st == sc.SEC_E_OK, st
                if sent:
                    self.encdata += self.server.feed(sent)
            if status == sc.SEC_I_CONTEXT_EXPIRED:
                break
        return plain, seen

    def shutdown(self) -> bytes:
        token = struct.pack("<I", sc.SCHANNEL_SHUTDOWN)
        desc = sc.SecBufferDesc([sc.SecBuffer(4, sc.SECBUFFER_TOKEN, token)])
        assert sc.ApplyControlToken(self.ctx, desc) == sc.SEC_E_OK
        out = sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None)])
        status = sc.InitializeSecurityContext(
            self.cred,
            self.ctx,
            self.target,
            self.flags,
            0,
            0,
            None,
            0,
            self.ctx,
            out,
            self.attrs,
            None,
        )
        assert status == sc.SEC_E_OK, status
        tok = out.pBuffers[0]
        assert tok.pvBuffer is not None
        return bytes(tok.pvBuffer[: tok.cbBuffer])
