"""In-memory peers for the benchmarks (the curl loop adapted from tests/sspi_driver.py).

Every call into schannel_py made by :class:`SspiClient` is timed with
``time.process_time()`` and added to :attr:`SspiClient.cpu`, so the server's
work (Python's ``ssl`` in the same process) is never counted.
"""

from __future__ import annotations

import ssl
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import schannel_py as sc

# The in-memory server is the tests' own (tests/ is a folder of modules, not a package).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from memserver import MemoryServer  # noqa: E402

CURL_FLAGS = (
    sc.ISC_REQ_SEQUENCE_DETECT
    | sc.ISC_REQ_REPLAY_DETECT
    | sc.ISC_REQ_CONFIDENTIALITY
    | sc.ISC_REQ_ALLOCATE_MEMORY
    | sc.ISC_REQ_STREAM
    | sc.ISC_REQ_USE_SUPPLIED_CREDS
)

cpu_clock = time.process_time


def server_context(
    fullchain: str, key: str, version: ssl.TLSVersion, ciphers: str | None = None
) -> ssl.SSLContext:
    """A Python ``ssl`` server context (shared between connections so tickets work)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = version
    ctx.maximum_version = version
    ctx.load_cert_chain(fullchain, key)
    if ciphers:
        ctx.set_ciphers(ciphers)
    return ctx


def disabled_crypto(*settings: tuple[int, str, int, int]) -> list[sc.CRYPTO_SETTINGS]:
    return [
        sc.CRYPTO_SETTINGS(eAlgorithmUsage=u, strCngAlgId=a, dwMinBitLength=lo, dwMaxBitLength=hi)
        for u, a, lo, hi in settings
    ]


#: Keep the TLS 1.3 key share classical (x25519): no ECDHE-MLKEM hybrid groups.
NO_MLKEM = (sc.TlsParametersCngAlgUsageKeyExchange, "MLKEM", 0, 0)


def acquire_tls13(extra: Sequence[tuple[int, str, int, int]] = ()) -> sc.CredHandle:
    """SCH_CREDENTIALS limited to TLS 1.3, x25519, minus ``extra`` CRYPTO_SETTINGS."""
    crypto = disabled_crypto(NO_MLKEM, *extra)
    params = [
        sc.TLS_PARAMETERS(
            grbitDisabledProtocols=sc.SP_PROT_TLS1_2_CLIENT,
            cDisabledCrypto=len(crypto),
            pDisabledCrypto=crypto,
        )
    ]
    auth = sc.SCH_CREDENTIALS(
        dwVersion=sc.SCH_CREDENTIALS_VERSION, cTlsParameters=1, pTlsParameters=params
    )
    return _acquire(auth)


def acquire_tls12() -> sc.CredHandle:
    """SCHANNEL_CRED with TLS 1.2 only."""
    auth = sc.SCHANNEL_CRED(
        dwVersion=sc.SCHANNEL_CRED_VERSION, grbitEnabledProtocols=sc.SP_PROT_TLS1_2_CLIENT
    )
    return _acquire(auth)


def _acquire(auth: Any) -> sc.CredHandle:
    cred = sc.CredHandle()
    status = sc.AcquireCredentialsHandle(
        None, sc.UNISP_NAME, sc.SECPKG_CRED_OUTBOUND, None, auth, None, None, cred, sc.TimeStamp()
    )
    if status != sc.SEC_E_OK:
        raise RuntimeError(f"AcquireCredentialsHandle: {status:#x}")
    return cred


class BenchError(RuntimeError):
    pass


@dataclass
class SspiClient:
    """curl's ISC / Encrypt / Decrypt loop against a :class:`MemoryServer`, client CPU timed."""

    server: MemoryServer
    cred: sc.CredHandle
    target: str = "localhost"
    flags: int = CURL_FLAGS
    ctx: sc.CtxtHandle = field(default_factory=sc.CtxtHandle)
    attrs: sc.ULONG = field(default_factory=sc.ULONG)
    encdata: bytearray = field(default_factory=bytearray)
    cpu: float = 0.0
    #: What the client sent, token by token (for the crypto floor's sizes).
    sent: list[bytes] = field(default_factory=list)
    received: list[bytes] = field(default_factory=list)

    def _first(self) -> bytes:
        out = sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None)])
        t = cpu_clock()
        status = sc.InitializeSecurityContext(
            self.cred, None, self.target, self.flags, 0, 0, None, 0, self.ctx, out, self.attrs, None
        )
        tok = out.pBuffers[0]
        data = bytes(tok.pvBuffer[: tok.cbBuffer]) if tok.pvBuffer is not None else b""
        self.cpu += cpu_clock() - t
        if status != sc.SEC_I_CONTINUE_NEEDED:
            raise BenchError(f"first ISC: {status:#x}")
        return data

    def step(self) -> tuple[int, bytes]:
        inbuf = sc.SecBufferDesc(
            [
                sc.SecBuffer(len(self.encdata), sc.SECBUFFER_TOKEN, bytes(self.encdata)),
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
        t = cpu_clock()
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
        self.cpu += cpu_clock() - t
        return status, sent

    def handshake(self) -> None:
        """curl's loop to SEC_E_OK; raises on anything else."""
        first = self._first()
        self.sent.append(first)
        reply = self.server.feed(first)
        self.received.append(reply)
        self.encdata += reply
        for _ in range(20):
            status, sent = self.step()
            if status == sc.SEC_E_INCOMPLETE_MESSAGE:
                more = self.server.feed(b"")
                if not more:
                    raise BenchError("server has nothing more to send")
                self.received.append(more)
                self.encdata += more
                continue
            if status not in (sc.SEC_E_OK, sc.SEC_I_CONTINUE_NEEDED):
                raise BenchError(f"ISC: {status:#x}")
            if sent:
                self.sent.append(sent)
            reply = self.server.feed(sent)
            self.encdata += reply
            if status == sc.SEC_E_OK:
                return
            self.received.append(reply)
            if not self.encdata:
                self.encdata += self.server.feed(b"")
        raise BenchError("handshake did not finish")

    def drain(self) -> None:
        """DecryptMessage over what has arrived; tickets go to the cache through ISC."""
        while self.encdata:
            desc = sc.SecBufferDesc(
                [sc.SecBuffer(len(self.encdata), sc.SECBUFFER_DATA, self.encdata)]
                + [sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None) for _ in range(3)]
            )
            status = sc.DecryptMessage(self.ctx, desc, 0, None)
            if status == sc.SEC_E_INCOMPLETE_MESSAGE:
                return
            if status not in (sc.SEC_E_OK, sc.SEC_I_RENEGOTIATE):
                raise BenchError(f"DecryptMessage: {status:#x}")
            b3 = desc.pBuffers[3]
            extra = b3.cbBuffer if b3.BufferType == sc.SECBUFFER_EXTRA else 0
            desc.release()
            if extra:
                del self.encdata[: len(self.encdata) - extra]
            else:
                self.encdata.clear()
            if status == sc.SEC_I_RENEGOTIATE:
                st, sent = self.step()
                if st != sc.SEC_E_OK:
                    raise BenchError(f"ISC after RENEGOTIATE: {st:#x}")
                if sent:
                    self.encdata += self.server.feed(sent)

    def stream_sizes(self) -> sc.SecPkgContext_StreamSizes:
        sizes = sc.SecPkgContext_StreamSizes()
        if sc.QueryContextAttributes(self.ctx, sc.SECPKG_ATTR_STREAM_SIZES, sizes) != sc.SEC_E_OK:
            raise BenchError("STREAM_SIZES")
        return sizes

    def reconnected(self) -> bool:
        info = sc.SecPkgContext_SessionInfo()
        if sc.QueryContextAttributes(self.ctx, sc.SECPKG_ATTR_SESSION_INFO, info) != sc.SEC_E_OK:
            raise BenchError("SESSION_INFO")
        return bool(info.dwFlags & sc.SSL_SESSION_RECONNECT)

    def delete(self) -> None:
        sc.DeleteSecurityContext(self.ctx)


def records(data: bytes) -> list[tuple[int, int]]:
    """(content type, body length) of each TLS record in ``data``."""
    out: list[tuple[int, int]] = []
    i = 0
    while i + 5 <= len(data):
        n = int.from_bytes(data[i + 3 : i + 5], "big")
        out.append((data[i], n))
        i += 5 + n
    return out


class PySslClient:
    """Python's ssl client over MemoryBIO against a :class:`MemoryServer`, client CPU timed."""

    def __init__(
        self,
        context: ssl.SSLContext,
        server: MemoryServer,
        session: ssl.SSLSession | None = None,
    ) -> None:
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.server = server
        self.tls = context.wrap_bio(
            self.incoming, self.outgoing, server_hostname="localhost", session=session
        )
        self.cpu = 0.0

    def _do(self) -> bool:
        t = cpu_clock()
        try:
            self.tls.do_handshake()
            done = True
        except ssl.SSLWantReadError:
            done = False
        out = self.outgoing.read()
        self.cpu += cpu_clock() - t
        reply = self.server.feed(out)
        if reply:
            self.incoming.write(reply)
        return done

    def handshake(self) -> None:
        for _ in range(20):
            if self._do():
                return
        raise BenchError("ssl client handshake did not finish")

    def read_tickets(self) -> None:
        """Let the client process what arrived after the handshake (TLS 1.3 tickets)."""
        try:
            self.tls.read(1)
        except ssl.SSLWantReadError:
            pass
