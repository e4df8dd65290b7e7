"""The SSPI client loop, once, over any transport: curl's SChannel calls, transport-agnostic.

:class:`SspiDriver` makes exactly the calls a Windows SChannel client makes
(curl's ``lib/vtls/schannel.c`` is the model) and nothing else: it reaches the
package only through the public SSPI functions, so it is also the reference
caller that tests, the benchmark, the BoGo shim and :mod:`schannel_py.stream`
share.  Bytes move through two callables: ``send(data)`` writes all of
``data``, ``recv(n)`` returns up to ``n`` bytes (``b""`` is end of file).

The call shapes: the first ISC with a NULL context, an optional
APPLICATION_PROTOCOLS (and SECBUFFER_FLAGS) input and one EMPTY output; the
handshake legs with ``[TOKEN, EMPTY]`` in and ``[TOKEN, ALERT, EMPTY]`` out,
EXTRA taken as a tail count, SEC_E_INCOMPLETE_MESSAGE answered by reading
more; SEC_I_INCOMPLETE_CREDENTIALS answered by continuing without a
certificate (or by a hook); the final attributes must equal the request;
EncryptMessage over ``[STREAM_HEADER, DATA, STREAM_TRAILER, EMPTY]``;
DecryptMessage over ``[DATA, EMPTY x3]`` reading buffers [1] and [3];
SEC_I_RENEGOTIATE (a TLS 1.3 NewSessionTicket or KeyUpdate, a TLS 1.2
HelloRequest) answered by the ISC loop with the leftover bytes;
SEC_I_CONTEXT_EXPIRED is the peer's close_notify; shutdown (and alerts, and
the KeyUpdate extension) through ApplyControlToken + ISC.  Output buffers are
allocated by the package under ISC_REQ_ALLOCATE_MEMORY (and released with
FreeContextBuffer), else supplied by the driver.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any, NamedTuple

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
    pack_alert_token,
    pack_application_protocols,
    pack_key_update_token,
    pack_sec_flags,
)

__all__ = [
    "CURL_REQ_FLAGS",
    "IscStep",
    "Observer",
    "SspiDriver",
    "SspiEOFError",
    "SspiError",
]

#: The request flags curl uses by default (client certificate not automatic).
CURL_REQ_FLAGS = (
    C.ISC_REQ_SEQUENCE_DETECT
    | C.ISC_REQ_REPLAY_DETECT
    | C.ISC_REQ_CONFIDENTIALITY
    | C.ISC_REQ_ALLOCATE_MEMORY
    | C.ISC_REQ_STREAM
    | C.ISC_REQ_USE_SUPPLIED_CREDS
)

#: Called after every SSPI call: (event, details); events "isc" (details["call"] is
#: "first", "step", "control" or "renegotiate"), "encrypt", "decrypt".
Observer = Callable[[str, dict[str, object]], None]

#: Sizes of the buffers the driver supplies when ISC_REQ_ALLOCATE_MEMORY is not requested.
TOKEN_BUFFER_SIZE = 1 << 16
ALERT_BUFFER_SIZE = 1 << 10

_HANDSHAKE_DONE = (C.SEC_E_OK, C.SEC_I_NO_RENEGOTIATION)
_HANDSHAKE_GOOD = (C.SEC_E_OK, C.SEC_I_CONTINUE_NEEDED, C.SEC_I_NO_RENEGOTIATION)
_DECRYPT_GOOD = (C.SEC_E_OK, C.SEC_I_RENEGOTIATE, C.SEC_I_CONTEXT_EXPIRED)


class SspiError(Exception):
    """An SSPI call returned a failure status (``call`` names it; ``alert`` is what was sent)."""

    def __init__(self, call: str, status: int, alert: bytes = b"") -> None:
        self.call = call
        self.status = SecStatus(status)
        self.alert = alert
        super().__init__(
            f"{call} returned {self.status!r} (0x{int(self.status):08X}): {self.status.message}"
        )


class SspiEOFError(SspiError):
    """The transport ended before the peer's close_notify (status SEC_E_INCOMPLETE_MESSAGE).

    ``truncated``: the last SSPI call had asked for more bytes (a partial record or
    handshake message is pending); False at a record boundary.
    """

    def __init__(self, truncated: bool) -> None:
        super().__init__("recv", C.SEC_E_INCOMPLETE_MESSAGE)
        self.truncated = truncated


class IscStep(NamedTuple):
    """What one handshake-leg ISC returned: status, TOKEN and ALERT output, EXTRA / MISSING."""

    status: SecStatus
    token: bytes
    alert: bytes
    extra: int
    missing: int


def _describe(desc: SecBufferDesc | None) -> list[tuple[int, int]]:
    if desc is None:
        return []
    return [(b.BufferType, b.cbBuffer) for b in desc.pBuffers[: desc.cBuffers]]


class SspiDriver:
    """A TLS client connection through the SSPI functions over ``send`` / ``recv`` callables.

    Hooks (each optional): ``on_context(driver)`` runs right after the first ISC
    created the context (to set context attributes before the server's flight);
    ``on_incomplete_credentials(driver)`` answers SEC_I_INCOMPLETE_CREDENTIALS
    (e.g. by setting ``driver.cred`` to a handle with a certificate) before the
    same bytes are fed again; ``on_renegotiate(driver)`` runs when DecryptMessage
    returns SEC_I_RENEGOTIATE, before the ISC loop answers it (it may raise to
    refuse).  ``observer`` sees every ISC / EncryptMessage / DecryptMessage call;
    ``functions`` replaces the module of SSPI functions (same names and signatures).
    ``check_flags``: fail when the attributes ISC returns differ from the request
    (curl's check); ``send_alerts``: send a failed ISC's ALERT output.
    """

    def __init__(
        self,
        send: Callable[[bytes], object],
        recv: Callable[[int], bytes],
        cred: CredHandle,
        target: str | None,
        req_flags: int = CURL_REQ_FLAGS,
        *,
        alpn: list[bytes] | None = None,
        flags64: int = 0,
        recv_size: int = 16384,
        check_flags: bool = True,
        send_alerts: bool = True,
        observer: Observer | None = None,
        on_context: Callable[[SspiDriver], None] | None = None,
        on_incomplete_credentials: Callable[[SspiDriver], None] | None = None,
        on_renegotiate: Callable[[SspiDriver], None] | None = None,
        functions: Any = None,
    ) -> None:
        #: The SSPI functions called (schannel_py.sspi.functions; a stand-in with the
        #: same names may wrap them, e.g. to time or record each call).
        self.F: Any = functions if functions is not None else F
        self._send = send
        self._recv = recv
        self.cred = cred
        self.target = target
        self.req = req_flags
        self.alpn = alpn or []
        #: 64-bit ISC_REQ_* flags sent in a SECBUFFER_FLAGS input buffer on the first call.
        self.flags64 = flags64
        self.recv_size = recv_size
        self.check_flags = check_flags
        #: Send the ALERT output of a failed handshake ISC before raising.
        self.send_alerts = send_alerts
        self.observer = observer
        self.on_context = on_context
        self.on_incomplete_credentials = on_incomplete_credentials
        self.on_renegotiate = on_renegotiate
        self.ctx = CtxtHandle()
        self.attrs = ULONG()
        #: Received ciphertext not yet consumed by ISC / DecryptMessage (curl's encdata).
        self.encdata = bytearray()
        self._plain = b""
        self.sizes: SecPkgContext_StreamSizes | None = None
        self.closed = False  # the peer's close_notify arrived
        self.have_context = False
        self._after_renegotiation = False
        self.last_status: SecStatus = C.SEC_E_OK

    # --- single calls ----------------------------------------------------------------

    def _out(self, *types: int) -> SecBufferDesc:
        """Output buffers: empty for the package to allocate, else driver-supplied memory
        (a lone EMPTY becomes a TOKEN buffer, as a caller without ALLOCATE_MEMORY passes)."""
        if self.req & C.ISC_REQ_ALLOCATE_MEMORY:
            return SecBufferDesc([SecBuffer(0, t, None) for t in types])
        bufs = []
        for t in types:
            if t == C.SECBUFFER_EMPTY and len(types) > 1:
                bufs.append(SecBuffer(0, t, None))
                continue
            size = ALERT_BUFFER_SIZE if t == C.SECBUFFER_ALERT else TOKEN_BUFFER_SIZE
            kind = C.SECBUFFER_TOKEN if t == C.SECBUFFER_EMPTY else t
            bufs.append(SecBuffer(size, kind, bytearray(size)))
        return SecBufferDesc(bufs)

    def _take(self, out: SecBufferDesc) -> bytes:
        """The bytes of the TOKEN output buffers; package-allocated memory is freed."""
        data = b""
        allocated = self.req & C.ISC_REQ_ALLOCATE_MEMORY
        for b in out.pBuffers:
            if b.pvBuffer is None:
                continue
            if b.BufferType == C.SECBUFFER_TOKEN and b.cbBuffer > 0:
                data += bytes(b.pvBuffer[: b.cbBuffer])
            if allocated:
                self.F.FreeContextBuffer(b.pvBuffer)
        return data

    def _isc(
        self,
        ctx: CtxtHandle | None,
        inp: SecBufferDesc | None,
        out: SecBufferDesc,
        new: CtxtHandle | None,
        call: str,
    ) -> SecStatus:
        if self.observer is None:
            result: SecStatus = self.F.InitializeSecurityContext(
                self.cred, ctx, self.target, self.req, 0, 0, inp, 0, new, out, self.attrs, None
            )
            return result
        in_before = _describe(inp)
        status: SecStatus = self.F.InitializeSecurityContext(
            self.cred, ctx, self.target, self.req, 0, 0, inp, 0, new, out, self.attrs, None
        )
        self.observer(
            "isc",
            {
                "call": call,
                "flags": self.req,
                "status": status,
                "input": in_before,
                "input_after": _describe(inp),
                "output": _describe(out),
                "ret_flags": self.attrs.value,
            },
        )
        return status

    def first_call(self) -> bytes:
        """The first ISC (NULL context): returns the ClientHello; raises unless CONTINUE_NEEDED."""
        inputs = []
        if self.alpn:
            blob = pack_application_protocols(self.alpn)
            inputs.append(SecBuffer(len(blob), C.SECBUFFER_APPLICATION_PROTOCOLS, blob))
        if self.flags64:
            inputs.append(SecBuffer(8, C.SECBUFFER_FLAGS, pack_sec_flags(self.flags64)))
        inp = SecBufferDesc(inputs) if inputs else None
        out = self._out(C.SECBUFFER_EMPTY)
        status = self._isc(None, inp, out, self.ctx, "first")
        if status != C.SEC_I_CONTINUE_NEEDED:
            self._take(out)
            raise SspiError("InitializeSecurityContext", status)
        self.have_context = True
        token = self._take(out)
        if self.on_context is not None:
            self.on_context(self)
        return token

    def step(self, data: bytes) -> IscStep:
        """One handshake-leg ISC over ``data`` (nothing consumed, nothing sent)."""
        inbuf = SecBufferDesc(
            [SecBuffer(len(data), C.SECBUFFER_TOKEN, data), SecBuffer(0, C.SECBUFFER_EMPTY, None)]
        )
        if self.req & C.ISC_REQ_ALLOCATE_MEMORY:  # the common case, spelled out (hot path)
            out = SecBufferDesc(
                [
                    SecBuffer(0, C.SECBUFFER_TOKEN, None),
                    SecBuffer(0, C.SECBUFFER_ALERT, None),
                    SecBuffer(0, C.SECBUFFER_EMPTY, None),
                ]
            )
        else:
            out = self._out(C.SECBUFFER_TOKEN, C.SECBUFFER_ALERT, C.SECBUFFER_EMPTY)
        status = self._isc(self.ctx, inbuf, out, None, "step")
        side = inbuf.pBuffers[1]
        n = side.cbBuffer
        alert = out.pBuffers[1]
        alert_bytes = (
            bytes(alert.pvBuffer[: alert.cbBuffer])
            if alert.BufferType == C.SECBUFFER_ALERT
            and alert.cbBuffer
            and alert.pvBuffer is not None
            else b""
        )
        return IscStep(
            status,
            self._take(out),
            alert_bytes,
            n if side.BufferType == C.SECBUFFER_EXTRA else 0,
            n if side.BufferType == C.SECBUFFER_MISSING else 0,
        )

    def control(
        self, token: bytes, accept: tuple[int, ...] = (C.SEC_E_OK, C.SEC_I_CONTEXT_EXPIRED)
    ) -> bytes:
        """ApplyControlToken(``token``), then ISC with no input: returns what to send."""
        status = self.F.ApplyControlToken(
            self.ctx, SecBufferDesc([SecBuffer(len(token), C.SECBUFFER_TOKEN, token)])
        )
        if status != C.SEC_E_OK:
            raise SspiError("ApplyControlToken", status)
        out = self._out(C.SECBUFFER_EMPTY)
        status = self._isc(self.ctx, None, out, self.ctx, "control")
        data = self._take(out)
        if status not in accept:
            raise SspiError("InitializeSecurityContext", status)
        return data

    def stream_sizes(self) -> SecPkgContext_StreamSizes:
        """SECPKG_ATTR_STREAM_SIZES (queried once)."""
        if self.sizes is None:
            sizes = SecPkgContext_StreamSizes()
            status = self.F.QueryContextAttributes(self.ctx, C.SECPKG_ATTR_STREAM_SIZES, sizes)
            if status != C.SEC_E_OK:
                raise SspiError("QueryContextAttributes", status)
            self.sizes = sizes
        return self.sizes

    def encrypt_record(self, data: bytes) -> bytes:
        """EncryptMessage of ``data`` (at most cbMaximumMessage bytes): the record."""
        sizes = self.stream_sizes()
        h, n = sizes.cbHeader, len(data)
        buf = bytearray(h + n + sizes.cbTrailer)
        mv = memoryview(buf)
        buf[h : h + n] = data
        desc = SecBufferDesc(
            [
                SecBuffer(h, C.SECBUFFER_STREAM_HEADER, mv[:h]),
                SecBuffer(n, C.SECBUFFER_DATA, mv[h : h + n]),
                SecBuffer(sizes.cbTrailer, C.SECBUFFER_STREAM_TRAILER, mv[h + n :]),
                SecBuffer(0, C.SECBUFFER_EMPTY, None),
            ]
        )
        status = self.F.EncryptMessage(self.ctx, 0, desc, 0)
        if self.observer is not None:
            self.observer("encrypt", {"status": status, "size": n})
        if status != C.SEC_E_OK:
            raise SspiError("EncryptMessage", status)
        b = desc.pBuffers
        return bytes(buf[: b[0].cbBuffer + b[1].cbBuffer + b[2].cbBuffer])

    def decrypt_record(self) -> tuple[SecStatus, bytes]:
        """One DecryptMessage over ``encdata``: (status, plaintext); consumed bytes dropped.

        On a failure or SEC_E_INCOMPLETE_MESSAGE ``encdata`` is left as it was.
        """
        enc = self.encdata
        desc = SecBufferDesc(
            [
                SecBuffer(len(enc), C.SECBUFFER_DATA, enc),
                SecBuffer(0, C.SECBUFFER_EMPTY, None),
                SecBuffer(0, C.SECBUFFER_EMPTY, None),
                SecBuffer(0, C.SECBUFFER_EMPTY, None),
            ]
        )
        status = self.F.DecryptMessage(self.ctx, desc, 0, None)
        if self.observer is not None:
            self.observer("decrypt", {"status": status, "buffers": _describe(desc)})
        if status not in _DECRYPT_GOOD:
            return status, b""
        b1, b3 = desc.pBuffers[1], desc.pBuffers[3]
        data = b""
        if b1.BufferType == C.SECBUFFER_DATA and b1.cbBuffer and b1.pvBuffer is not None:
            data = bytes(b1.pvBuffer[: b1.cbBuffer])
        extra = b3.cbBuffer if b3.BufferType == C.SECBUFFER_EXTRA else 0
        desc.release()
        if extra > 0:
            del enc[: len(enc) - extra]
        else:
            enc.clear()
        return status, data

    # --- transport ---------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Add ciphertext that arrived by other means to the bytes not yet consumed."""
        self.encdata += data

    def _read(self, truncated: bool = True) -> None:
        chunk = self._recv(self.recv_size)
        if not chunk:
            raise SspiEOFError(truncated or bool(self.encdata))
        self.encdata += chunk

    # --- handshake ------------------------------------------------------------------------

    def handshake(self) -> SecStatus:
        """The first ISC, then the loop to SEC_E_OK; raises SspiError on failure."""
        self._send(self.first_call())
        status = self.handshake_loop(read_first=True)
        if self.check_flags and self.attrs.value != self.req:
            raise SspiError("InitializeSecurityContext (flags mismatch)", C.SEC_E_INTERNAL_ERROR)
        return status

    def handshake_loop(self, read_first: bool) -> SecStatus:
        """ISC until SEC_E_OK / SEC_I_NO_RENEGOTIATION over ``encdata`` and what ``recv`` gives.

        On a failure the ALERT output (if any) is sent, then SspiError raised.
        """
        need_read = read_first
        while True:
            if need_read:
                self._read()
            st = self.step(bytes(self.encdata))
            status = st.status
            if status == C.SEC_E_INCOMPLETE_MESSAGE:
                need_read = True
                continue
            if status == C.SEC_I_INCOMPLETE_CREDENTIALS:
                # curl: continue without a certificate, re-feeding the same bytes.
                if self.on_incomplete_credentials is not None:
                    self.on_incomplete_credentials(self)
                    need_read = False
                    continue
                if not self.req & C.ISC_REQ_USE_SUPPLIED_CREDS:
                    self.req |= C.ISC_REQ_USE_SUPPLIED_CREDS
                    need_read = False
                    continue
            if status not in _HANDSHAKE_GOOD:
                if st.alert and self.send_alerts:
                    try:
                        self._send(st.alert)
                    except OSError:
                        pass
                raise SspiError("InitializeSecurityContext", status, st.alert)
            if st.extra:
                del self.encdata[: len(self.encdata) - st.extra]
            else:
                self.encdata.clear()
            if st.token:
                self._send(st.token)
            if status in _HANDSHAKE_DONE:
                self.last_status = status
                return status
            # Bytes left over (EXTRA), or already delivered while sending (an in-memory
            # transport), are fed first; otherwise wait for the peer.
            need_read = not self.encdata

    def renegotiate(self) -> SecStatus:
        """Client-initiated TLS 1.2 renegotiation: ISC with no input, then the usual loop.

        Returns SEC_E_OK, or SEC_I_NO_RENEGOTIATION when the server declined.
        """
        out = self._out(C.SECBUFFER_TOKEN)
        status = self._isc(self.ctx, None, out, None, "renegotiate")
        token = self._take(out)
        if status != C.SEC_I_CONTINUE_NEEDED:
            raise SspiError("InitializeSecurityContext", status)
        self._send(token)
        self.handshake_loop(read_first=not self.encdata)
        # As after a server-initiated one: data that arrived during it comes first.
        self._after_renegotiation = True
        return self.last_status

    # --- data -----------------------------------------------------------------------------

    def send(self, data: bytes) -> int:
        """Encrypt and send all of ``data``, one record per cbMaximumMessage chunk."""
        step = self.stream_sizes().cbMaximumMessage
        if not data:
            self._send(self.encrypt_record(b""))
            return 0
        for i in range(0, len(data), step):
            self._send(self.encrypt_record(data[i : i + step]))
        return len(data)

    def recv(self, max_bytes: int | None = None, *, block: bool = True) -> bytes:
        """Application data (at most ``max_bytes``); b"" once the peer sent close_notify.

        Reads through ``recv`` as needed; ``block=False`` only decrypts what has
        arrived and returns b"" when that holds no data.  SEC_I_RENEGOTIATE is
        answered by the ISC loop.  End of file before close_notify raises
        SspiEOFError.
        """
        while not self._plain:
            if self.closed:
                return b""
            if not self.encdata and not self._after_renegotiation:
                if not block:
                    return b""
                self._read(truncated=False)
            self._after_renegotiation = False
            status, data = self.decrypt_record()
            if status == C.SEC_E_INCOMPLETE_MESSAGE:
                if not block:
                    return b""
                self._read()
                continue
            if status not in _DECRYPT_GOOD:
                raise SspiError("DecryptMessage", status)
            self._plain = data
            if status == C.SEC_I_RENEGOTIATE:
                if self.on_renegotiate is not None:
                    self.on_renegotiate(self)
                self.handshake_loop(read_first=False)
                # Data that arrived during a TLS 1.2 renegotiation is handed out
                # by the next DecryptMessage, even before new bytes arrive.
                self._after_renegotiation = True
            elif status == C.SEC_I_CONTEXT_EXPIRED:
                self.closed = True
        data = self._plain
        if max_bytes is None or len(data) <= max_bytes:
            self._plain = b""
            return data
        self._plain = data[max_bytes:]
        return data[:max_bytes]

    # --- control tokens --------------------------------------------------------------------

    def shutdown(self) -> None:
        """Send close_notify: ApplyControlToken(SCHANNEL_SHUTDOWN) + ISC."""
        self._send(self.control(struct.pack("<I", C.SCHANNEL_SHUTDOWN)))

    def send_alert(self, level: int, description: int) -> None:
        """Send an alert: ApplyControlToken(SCHANNEL_ALERT) + ISC."""
        self._send(self.control(pack_alert_token(level, description)))

    def key_update(self, requested: bool = False) -> None:
        """Send a TLS 1.3 KeyUpdate (schannel_py extension): ApplyControlToken + ISC."""
        token = pack_key_update_token(
            C.SCHANNEL_PY_KEY_UPDATE_REQUESTED
            if requested
            else C.SCHANNEL_PY_KEY_UPDATE_NOT_REQUESTED
        )
        self._send(self.control(token, accept=(C.SEC_E_OK,)))

    # --- results ------------------------------------------------------------------------------

    def query(self, attribute: int, buffer: object) -> None:
        """QueryContextAttributes into ``buffer``; raises SspiError on failure."""
        status = self.F.QueryContextAttributes(self.ctx, attribute, buffer)
        if status != C.SEC_E_OK:
            raise SspiError("QueryContextAttributes", status)

    def negotiated_alpn(self) -> bytes | None:
        """The ALPN protocol the server chose (None: none negotiated)."""
        ap = SecPkgContext_ApplicationProtocol()
        self.query(C.SECPKG_ATTR_APPLICATION_PROTOCOL, ap)
        if ap.ProtoNegoStatus == C.SecApplicationProtocolNegotiationStatus_Success:
            return bytes(ap.ProtocolId[: ap.ProtocolIdSize])
        return None

    def close(self) -> None:
        """DeleteSecurityContext (once)."""
        if self.have_context:
            self.F.DeleteSecurityContext(self.ctx)
            self.have_context = False
