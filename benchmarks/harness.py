"""In-memory peers for the benchmarks: the SSPI driver and Python's ssl client.

:class:`SspiClient` runs :class:`schannel_py.driver.SspiDriver` with the server as
its transport; every InitializeSecurityContext of its handshake is timed with
``time.process_time()``, so the server's work (Python's ``ssl`` in the same
process) is never counted.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Sequence
from typing import Any

import schannel_py as sc
from schannel_py.driver import CURL_REQ_FLAGS, SspiDriver, SspiError
from schannel_py.sspi import functions as sspi_functions
from schannel_py.testing import memserver
from schannel_py.testing.memserver import MemoryServer

#: curl's default request flags (the driver's).
CURL_FLAGS = CURL_REQ_FLAGS

cpu_clock = time.process_time


def server_context(
    fullchain: str, key: str, version: ssl.TLSVersion, ciphers: str | None = None
) -> ssl.SSLContext:
    """A Python ``ssl`` server context for one version (shared between connections so tickets work)."""
    return memserver.server_context(
        fullchain, key, min_version=version, max_version=version, ciphers=ciphers
    )


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


class _TimedFunctions:
    """The SSPI functions the driver calls, the handshake's ISC timed: ``cpu`` is the
    client's CPU in them (a generic wrapper; the calls are the driver's own)."""

    TIMED = ("InitializeSecurityContext",)

    def __init__(self) -> None:
        self.cpu = 0.0
        #: Something with an ``active`` flag raised during each timed call (the
        #: ``--profile`` layer sampler), or None.
        self.on_call: Any = None
        for name in self.TIMED:
            setattr(self, name, self._timed(getattr(sspi_functions, name)))

    def _timed(self, fn: Callable[..., sc.SecStatus]) -> Callable[..., sc.SecStatus]:
        def call(*args: Any) -> sc.SecStatus:
            watcher = self.on_call
            if watcher is not None:
                watcher.active = True
            t = cpu_clock()
            status = fn(*args)
            self.cpu += cpu_clock() - t
            if watcher is not None:
                watcher.active = False
            return status

        return call

    def __getattr__(self, name: str) -> Any:
        return getattr(sspi_functions, name)


class SspiClient:
    """curl's loop (:class:`schannel_py.driver.SspiDriver`) against a :class:`MemoryServer`.

    ``cpu`` is the client's CPU time in the handshake's SSPI calls (each
    InitializeSecurityContext timed, as a profiler of the application would
    attribute it); the server's work and the driver's own bookkeeping between
    calls are not counted.
    """

    def __init__(
        self, server: MemoryServer, cred: sc.CredHandle, target: str = "localhost"
    ) -> None:
        self.server: MemoryServer | None = server
        # Allocated here, not in the package: the memory section counts the package's own.
        self.ctx = sc.CtxtHandle()
        self.attrs = sc.ULONG()
        self.inbox = bytearray()  # what the server sent, not yet read by the client
        self.cpu = 0.0
        #: What the client sent, token by token, and read, chunk by chunk (the floor's sizes).
        self.sent: list[bytes] = []
        self.received: list[bytes] = []
        self.timed = _TimedFunctions()
        self.drv: SspiDriver | None = SspiDriver(
            self._send,
            self._recv,
            cred,
            target,
            CURL_FLAGS,
            check_flags=False,
            functions=self.timed,
        )
        self.drv.ctx, self.drv.attrs = self.ctx, self.attrs

    def _send(self, data: bytes) -> None:
        self.sent.append(data)
        assert self.server is not None
        self.inbox += self.server.feed(data)

    def _recv(self, n: int) -> bytes:
        if not self.inbox:
            assert self.server is not None
            self.inbox += self.server.feed(b"")
        data = bytes(self.inbox[:n])
        del self.inbox[:n]
        if data:
            self.received.append(data)
        return data

    def handshake(self) -> None:
        """curl's loop to SEC_E_OK; raises on anything else."""
        assert self.drv is not None
        self.timed.cpu = 0.0
        try:
            self.drv.handshake()
        except SspiError as e:
            raise BenchError(str(e)) from None
        self.cpu = self.timed.cpu

    def drain(self) -> None:
        """DecryptMessage over what has arrived; tickets go to the cache through ISC."""
        assert self.drv is not None
        self.drv.feed(self.inbox)
        self.inbox.clear()
        try:
            while self.drv.recv(block=False):
                pass
        except SspiError as e:
            raise BenchError(str(e)) from None

    def idle(self) -> None:
        """Keep the context only: drop the server, the driver and the buffers."""
        self.server = None
        self.drv = None
        self.timed = _TimedFunctions()
        self.inbox = bytearray()
        self.sent.clear()
        self.received.clear()

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
    """Python's ssl client over MemoryBIO against a :class:`MemoryServer`, client CPU timed.

    ``cpu`` is the CPU of the do_handshake calls; ``setup_cpu`` that of making the
    connection object (``wrap_bio``, with the session to resume if any).  The SSPI
    side's first InitializeSecurityContext does both (it creates the context and
    takes the session from the cache), so a connection's whole client cost is
    ``setup_cpu + cpu`` here against ``cpu`` there."""

    def __init__(
        self,
        context: ssl.SSLContext,
        server: MemoryServer,
        session: ssl.SSLSession | None = None,
    ) -> None:
        self.server = server
        t = cpu_clock()
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.tls = context.wrap_bio(
            self.incoming, self.outgoing, server_hostname="localhost", session=session
        )
        self.setup_cpu = cpu_clock() - t
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
