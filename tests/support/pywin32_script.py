"""A TLS client written only against pywin32's API: ``win32security``, ``sspicon``,
``pywintypes`` and a socket, as Windows Python code drives SChannel through pywin32.

Import it only after ``schannel_py.pywin32.install()`` (the imports below are
pywin32's module names).  Nothing here knows about schannel_py: the loop is the
one docs/pywin32.md says pywin32 can express:

* AcquireCredentialsHandle with ``AuthData=None``;
* InitializeSecurityContext with a caller-sized ``TOKEN`` output and a
  ``[TOKEN, EMPTY]`` input, ``except win32security.error`` with
  ``winerror == SEC_E_INCOMPLETE_MESSAGE`` to read more (the input's EXTRA is
  invisible, so the whole flight is read before the call);
* ``STREAM_SIZES``, EncryptMessage over four separately allocated PySecBuffers;
* DecryptMessage over ``[DATA, EMPTY, EMPTY, EMPTY]``; SEC_I_RENEGOTIATE
  (TLS 1.3 tickets) and SEC_I_CONTEXT_EXPIRED (close_notify) arrive as
  ``error``, with the buffers already copied back, so the EXTRA bytes are read
  from the descriptor before ISC answers the ticket with no input.
"""

from __future__ import annotations

import select
import socket

import pywintypes
import sspicon
import win32security

FLAGS = (
    sspicon.ISC_REQ_SEQUENCE_DETECT
    | sspicon.ISC_REQ_REPLAY_DETECT
    | sspicon.ISC_REQ_CONFIDENTIALITY
    | sspicon.ISC_REQ_EXTENDED_ERROR
    | sspicon.ISC_REQ_STREAM
)
PACKAGE = "Microsoft Unified Security Protocol Provider"


class Closed(Exception):
    """The server closed the TLS session (close_notify: SEC_I_CONTEXT_EXPIRED)."""


class PywinClient:
    """One TLS connection over a connected socket, through pywin32's calls only."""

    def __init__(self, sock: socket.socket, target: str, flags: int = FLAGS) -> None:
        self.sock = sock
        self.target = target
        self.flags = flags
        self.cred, self.cred_expiry = win32security.AcquireCredentialsHandle(
            None, PACKAGE, sspicon.SECPKG_CRED_OUTBOUND, None, None
        )
        self.ctxt = win32security.PyCtxtHandleType()
        self.max_token = win32security.QuerySecurityPackageInfo(PACKAGE)["MaxToken"]
        self.isc_results: list[tuple[int, int, object]] = []
        self.decrypt_errors: list[int] = []
        self.pending = b""  # received, not yet decrypted

    # -- I/O --
    def _recv(self) -> bytes:
        """What the server has sent: one recv, then whatever follows within 100 ms
        (a flight must be read whole: ISC's EXTRA is invisible through pywin32)."""
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("server closed the connection")
        while select.select([self.sock], [], [], 0.1)[0]:
            more = self.sock.recv(65536)
            if not more:
                break
            data += more
        return data

    # -- the handshake --
    def _isc(self, first: bool, data: bytes | None) -> int:
        out = win32security.PySecBufferDescType()
        out.append(win32security.PySecBufferType(self.max_token, sspicon.SECBUFFER_TOKEN))
        inp = None
        if data is not None:
            inp = win32security.PySecBufferDescType()
            token = win32security.PySecBufferType(len(data), sspicon.SECBUFFER_TOKEN)
            token.Buffer = data
            inp.append(token)
            inp.append(win32security.PySecBufferType(0, sspicon.SECBUFFER_EMPTY))
        err, attr, expiry = win32security.InitializeSecurityContext(
            self.cred,
            None if first else self.ctxt,
            self.target,
            self.flags,
            sspicon.SECURITY_NATIVE_DREP,
            inp,
            self.ctxt,
            out,
        )
        self.isc_results.append((err, attr, expiry))
        if out[0].BufferSize:
            self.sock.sendall(out[0].Buffer)
        return err

    def handshake(self) -> None:
        """The ISC loop, to SEC_E_OK (an ``error`` propagates)."""
        err = self._isc(True, None)
        data = b""
        while err != 0:
            if err != sspicon.SEC_I_CONTINUE_NEEDED:
                raise RuntimeError(f"unexpected ISC status {err}")
            data += self._recv()
            try:
                err = self._isc(False, data)
            except win32security.error as e:
                if e.winerror == sspicon.SEC_E_INCOMPLETE_MESSAGE:
                    continue  # read more, call again with everything
                raise
            data = b""

    # -- records --
    def send(self, payload: bytes) -> None:
        """EncryptMessage over [STREAM_HEADER, DATA, STREAM_TRAILER, EMPTY], then send."""
        sizes = self.ctxt.QueryContextAttributes(sspicon.SECPKG_ATTR_STREAM_SIZES)
        for at in range(0, len(payload), sizes["MaximumMessage"]):
            chunk = payload[at : at + sizes["MaximumMessage"]]
            header = win32security.PySecBufferType(sizes["Header"], sspicon.SECBUFFER_STREAM_HEADER)
            data = win32security.PySecBufferType(len(chunk), sspicon.SECBUFFER_DATA)
            data.Buffer = chunk
            trailer = win32security.PySecBufferType(
                sizes["Trailer"], sspicon.SECBUFFER_STREAM_TRAILER
            )
            empty = win32security.PySecBufferType(0, sspicon.SECBUFFER_EMPTY)
            desc = win32security.PySecBufferDescType()
            for buf in (header, data, trailer, empty):
                desc.append(buf)
            self.ctxt.EncryptMessage(0, desc, 0)
            self.sock.sendall(header.Buffer + data.Buffer + trailer.Buffer)

    def _decrypt_one(self) -> bytes:
        """DecryptMessage on the pending bytes: the plaintext of one record."""
        desc = win32security.PySecBufferDescType()
        data = win32security.PySecBufferType(len(self.pending), sspicon.SECBUFFER_DATA)
        data.Buffer = self.pending
        desc.append(data)
        for _ in range(3):
            desc.append(win32security.PySecBufferType(0, sspicon.SECBUFFER_EMPTY))
        status = 0
        try:
            desc_qop = self.ctxt.DecryptMessage(desc, 0)
            assert desc_qop == 0
        except win32security.error as e:
            status = e.winerror
            if status == sspicon.SEC_E_INCOMPLETE_MESSAGE:
                self.pending += self._recv()
                return b""
            if status not in (sspicon.SEC_I_RENEGOTIATE, sspicon.SEC_I_CONTEXT_EXPIRED):
                raise
            self.decrypt_errors.append(status)
        plain, extra = b"", b""
        for buf in desc:  # copied back even when DecryptMessage raised
            if buf.BufferType == sspicon.SECBUFFER_DATA:
                plain += buf.Buffer
            elif buf.BufferType == sspicon.SECBUFFER_EXTRA:
                extra = buf.Buffer
        self.pending = extra
        if status == sspicon.SEC_I_CONTEXT_EXPIRED:
            raise Closed()
        if status == sspicon.SEC_I_RENEGOTIATE:
            # A post-handshake message (a TLS 1.3 ticket): ISC answers it with no
            # input, so its EXTRA (invisible through pywin32) is not needed.
            if self._isc(False, None) != 0:
                raise RuntimeError("ISC after SEC_I_RENEGOTIATE did not complete")
        return plain

    def read_until_closed(self) -> bytes:
        """Everything the server sends, up to its close_notify."""
        received = b""
        try:
            while True:
                if not self.pending:
                    self.pending = self._recv()
                received += self._decrypt_one()
        except Closed:
            return received


def fetch_page(host: str, port: int, target: str) -> tuple[PywinClient, bytes]:
    """GET / from an ``openssl s_server -www`` through pywin32's calls: (client, page)."""
    sock = socket.create_connection((host, port), timeout=5.0)
    try:
        client = PywinClient(sock, target)
        client.handshake()
        client.send(b"GET / HTTP/1.0\r\n\r\n")
        page = client.read_until_closed()
    finally:
        sock.close()
    return client, page


__all__ = ["FLAGS", "PACKAGE", "Closed", "PywinClient", "fetch_page", "pywintypes"]
