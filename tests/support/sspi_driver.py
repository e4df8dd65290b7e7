"""The SSPI driver (schannel_py.driver) against a MemoryServer, as the tests use it."""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

import schannel_py as sc
from schannel_py.driver import CURL_REQ_FLAGS, SspiDriver, SspiEOFError, SspiError
from schannel_py.testing.memserver import MemoryServer
from tests.support.isc_call import out_buffers, token_input


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


#: curl's default request flags (the driver's).
CURL_FLAGS = CURL_REQ_FLAGS


def isc_buffers(data: bytes) -> tuple[sc.SecBufferDesc, sc.SecBufferDesc]:
    """curl's ISC descriptors: :func:`token_input` and :func:`out_buffers`."""
    return token_input(data), out_buffers()


class CurlLoop:
    """curl's handshake loop, record by record, against an in-memory server.

    A :class:`schannel_py.driver.SspiDriver` whose transport is the server:
    what the client sends goes to :meth:`MemoryServer.feed` and the answer
    lands in ``encdata`` at once (where tests inspect or rewrite it).
    """

    def __init__(
        self,
        server: MemoryServer,
        cred: sc.CredHandle,
        target: str | None = "localhost",
        flags: int = CURL_FLAGS,
        alpn: list[bytes] | None = None,
        flags64: int = 0,  # 64-bit ISC_REQ_* flags sent in a SECBUFFER_FLAGS input buffer
        ctx: sc.CtxtHandle | None = None,  # continue a context made elsewhere
    ) -> None:
        self.server = server
        self.statuses: list[sc.SecStatus] = []
        self.last_alert = b""
        encdata = bytearray()
        statuses = self.statuses

        # The transport and the observer close over the server, the buffer and the
        # list, never over self or the driver: no reference cycle (the no-cycles tests).
        def to_server(data: bytes) -> None:
            encdata.extend(server.feed(data))

        def from_server(n: int) -> bytes:
            return server.feed(b"")

        def observe(event: str, details: dict[str, object]) -> None:
            if event == "isc" and details["call"] == "step":
                statuses.append(details["status"])  # type: ignore[arg-type]

        self.drv = SspiDriver(
            to_server,
            from_server,
            cred,
            target,
            flags,
            alpn=alpn,
            flags64=flags64,
            check_flags=False,
            send_alerts=False,
            observer=observe,
        )
        self.drv.encdata = encdata
        if ctx is not None:
            self.drv.ctx = ctx
            self.drv.have_context = True

    # The driver's state under the names the tests use.
    @property
    def cred(self) -> sc.CredHandle:
        return self.drv.cred

    @cred.setter
    def cred(self, value: sc.CredHandle) -> None:
        self.drv.cred = value

    @property
    def ctx(self) -> sc.CtxtHandle:
        return self.drv.ctx

    @property
    def attrs(self) -> sc.ULONG:
        return self.drv.attrs

    @property
    def alpn(self) -> list[bytes]:
        return self.drv.alpn

    @property
    def flags(self) -> int:
        return self.drv.req

    @flags.setter
    def flags(self, value: int) -> None:
        self.drv.req = value

    @property
    def target(self) -> str | None:
        return self.drv.target

    @target.setter
    def target(self, value: str | None) -> None:
        self.drv.target = value

    @property
    def encdata(self) -> bytearray:
        return self.drv.encdata

    @encdata.setter
    def encdata(self, value: bytearray) -> None:
        self.drv.encdata[:] = value  # the same buffer: the transport appends to it

    def first_call(self) -> bytes:
        return self.drv.first_call()

    def step(self) -> tuple[sc.SecStatus, bytes]:
        """One ISC over ``encdata``; consumes what it used; (status, token sent)."""
        st = self.drv.step(bytes(self.encdata))
        sent = b""
        if st.status in (sc.SEC_E_OK, sc.SEC_I_CONTINUE_NEEDED):
            sent = st.token
            if st.extra:
                del self.encdata[: len(self.encdata) - st.extra]
            else:
                self.encdata.clear()
        elif st.alert:
            self.last_alert = st.alert
        return st.status, sent

    def handshake(self) -> sc.SecStatus:
        """Run to SEC_E_OK (or the first failure), as curl does."""
        self.encdata += self.server.feed(self.first_call())
        return self.handshake_from_step()

    def handshake_from_step(self) -> sc.SecStatus:
        """Continue the handshake loop from the current ``encdata``."""
        try:
            return self.drv.handshake_loop(read_first=False)
        except SspiEOFError:
            raise AssertionError("server has nothing more to send") from None
        except SspiError as e:
            if e.alert:
                self.last_alert = e.alert
            return e.status

    # --- data ---------------------------------------------------------------

    def stream_sizes(self) -> sc.SecPkgContext_StreamSizes:
        self.drv.sizes = None
        return self.drv.stream_sizes()

    def encrypt(self, data: bytes) -> bytes:
        self.drv.sizes = None
        return self.drv.encrypt_record(data)

    def decrypt_all(self) -> tuple[bytes, list[sc.SecStatus]]:
        """DecryptMessage over encdata until it is empty, handling SEC_I_RENEGOTIATE like curl.

        Status by status (the tests assert each one), so it walks the driver's single
        calls rather than :meth:`SspiDriver.recv`, which reads on and hides them.
        """
        plain = b""
        seen: list[sc.SecStatus] = []
        while self.encdata:
            status, data = self.drv.decrypt_record()
            seen.append(status)
            if status == sc.SEC_E_INCOMPLETE_MESSAGE:
                break
            assert status in (sc.SEC_E_OK, sc.SEC_I_RENEGOTIATE, sc.SEC_I_CONTEXT_EXPIRED), status
            plain += data
            if status == sc.SEC_I_RENEGOTIATE:
                st, sent = self.step()
                assert st == sc.SEC_E_OK, st
                if sent:
                    self.encdata += self.server.feed(sent)
            if status == sc.SEC_I_CONTEXT_EXPIRED:
                break
        return plain, seen

    def shutdown(self) -> bytes:
        return self.drv.control(struct.pack("<I", sc.SCHANNEL_SHUTDOWN), accept=(sc.SEC_E_OK,))
