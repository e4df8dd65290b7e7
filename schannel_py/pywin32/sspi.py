"""``sspi``: pywin32's helper classes (``ClientAuth``, ``ServerAuth``), re-implemented.

Written from the documented behaviour of pywin32's ``win32/Lib/sspi.py``
(docs/pywin32.md), over this front's ``win32security``:

* ``ClientAuth(pkg_name, client_name=None, auth_info=None, targetspn=None,
  scflags=None, datarep=SECURITY_NETWORK_DREP)`` looks the package up
  (``QuerySecurityPackageInfo``) and acquires an outbound credential for its
  ``Name`` with ``auth_info`` as AuthData;
* default ``scflags``: INTEGRITY | SEQUENCE_DETECT | REPLAY_DETECT |
  CONFIDENTIALITY (no ``ISC_REQ_STREAM``: pass ``scflags`` for SChannel);
* ``authorize(data)`` makes one InitializeSecurityContext call: raw bytes are
  put in a single ``SECBUFFER_TOKEN`` buffer of ``MaxToken`` bytes (so a server
  flight larger than 24576 bytes is the ``.Buffer`` setter's ``ValueError``), the
  output is one ``TOKEN`` buffer of ``MaxToken`` bytes; the first call passes
  ``Context=None``, later ones the same handle as Context and NewContext; it
  returns ``(status, output descriptor)`` and sets ``authenticated`` when the
  status is 0, then asks ``SECPKG_ATTR_NATIVE_NAMES`` and ignores an ``error``;
* ``encrypt``/``decrypt``/``sign``/``verify``/``wrap``/``unwrap`` use the
  Kerberos/NTLM ``[DATA, TOKEN]`` layouts and ``SECPKG_ATTR_SIZES``, which
  SChannel's stream layout does not fit: over SChannel they raise ``error``.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from . import sspicon, win32security

__all__ = ["ClientAuth", "ServerAuth", "error"]

error = win32security.error

_Buffer = win32security.PySecBuffer
_Desc = win32security.PySecBufferDesc


def _desc(*buffers: win32security.PySecBuffer) -> win32security.PySecBufferDesc:
    desc = _Desc()
    for buf in buffers:
        desc.append(buf)
    return desc


def _filled(data: Any, size: int, btype: int) -> win32security.PySecBuffer:
    buf = _Buffer(size, btype)
    buf.Buffer = data
    return buf


class _BaseAuth:
    """What the client and server helpers share: the context, the sequence
    numbers and the per-message calls."""

    ctxt: win32security.PyCtxtHandle | None
    authenticated: bool
    initiator_name: str | None
    service_name: str | None
    next_seq_num: int
    pkg_info: dict[str, Any]
    ctxt_attr: int
    ctxt_expiry: _dt.datetime

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Back to the unauthenticated state: no context, sequence number 0."""
        self.ctxt = None
        self.authenticated = False
        self.initiator_name = None
        self.service_name = None
        self.next_seq_num = 0

    def _get_next_seq_num(self) -> int:
        """The sequence number for the next message (a counter)."""
        seq = self.next_seq_num
        self.next_seq_num = seq + 1
        return seq

    def _context(self) -> win32security.PyCtxtHandle:
        if self.ctxt is None:
            raise AttributeError("'NoneType' object has no attribute 'QueryContextAttributes'")
        return self.ctxt

    def _sizes(self) -> dict[str, int]:
        sizes: dict[str, int] = self._context().QueryContextAttributes(sspicon.SECPKG_ATTR_SIZES)
        return sizes

    def encrypt(self, data: bytes) -> tuple[bytes, bytes]:
        """``(encrypted data, trailer)`` over ``[DATA, TOKEN]``."""
        trailer = self._sizes()["SecurityTrailer"]
        msg = _desc(
            _filled(data, len(data), sspicon.SECBUFFER_DATA),
            _Buffer(trailer, sspicon.SECBUFFER_TOKEN),
        )
        self._context().EncryptMessage(0, msg, self._get_next_seq_num())
        return msg[0].Buffer, msg[1].Buffer

    def decrypt(self, data: bytes, trailer: bytes) -> bytes:
        """The plaintext of what :meth:`encrypt` produced."""
        msg = _desc(
            _filled(data, len(data), sspicon.SECBUFFER_DATA),
            _filled(trailer, len(trailer), sspicon.SECBUFFER_TOKEN),
        )
        self._context().DecryptMessage(msg, self._get_next_seq_num())
        return msg[0].Buffer

    def sign(self, data: bytes) -> bytes:
        """A signature of ``data`` (MakeSignature over ``[DATA, TOKEN]``)."""
        size = self._sizes()["MaxSignature"]
        msg = _desc(
            _filled(data, len(data), sspicon.SECBUFFER_DATA),
            _Buffer(size, sspicon.SECBUFFER_TOKEN),
        )
        self._context().MakeSignature(0, msg, self._get_next_seq_num())
        return msg[1].Buffer

    def verify(self, data: bytes, sig: bytes) -> None:
        """Check ``sig`` over ``data``; ``error`` if it does not verify."""
        msg = _desc(
            _filled(data, len(data), sspicon.SECBUFFER_DATA),
            _filled(sig, len(sig), sspicon.SECBUFFER_TOKEN),
        )
        self._context().VerifySignature(msg, self._get_next_seq_num())

    def unwrap(self, token: bytes) -> tuple[bytes, bool]:
        """GSSAPI unwrap: ``(plaintext, was encrypted)`` over ``[STREAM, DATA]``."""
        msg = _desc(
            _filled(token, len(token), sspicon.SECBUFFER_STREAM),
            _Buffer(0, sspicon.SECBUFFER_DATA),
        )
        qop = self._context().DecryptMessage(msg, self._get_next_seq_num())
        return msg[1].Buffer, qop != sspicon.SECQOP_WRAP_NO_ENCRYPT

    def wrap(self, msg: bytes, encrypt: bool = False) -> bytes:
        """GSSAPI wrap: token, then data, then padding."""
        sizes = self._sizes()
        parts = _desc(
            _filled(msg, len(msg), sspicon.SECBUFFER_DATA),
            _Buffer(sizes["SecurityTrailer"], sspicon.SECBUFFER_TOKEN),
            _Buffer(sizes["BlockSize"], sspicon.SECBUFFER_PADDING),
        )
        qop = 0 if encrypt else sspicon.SECQOP_WRAP_NO_ENCRYPT
        self._context().EncryptMessage(qop, parts, self._get_next_seq_num())
        return parts[1].Buffer + parts[0].Buffer + parts[2].Buffer

    def _amend_ctx_name(self) -> None:
        """Record the client and server names, when the package reports them."""
        if not self.authenticated:
            raise ValueError("Sec context is not completely authenticated")
        try:
            names = self._context().QueryContextAttributes(sspicon.SECPKG_ATTR_NATIVE_NAMES)
        except error:
            return  # the package has no such attribute (SChannel's case)
        self.initiator_name, self.service_name = names

    def _step(self, sec_buffer_in: Any, call: Any) -> tuple[int, win32security.PySecBufferDesc]:
        max_token = self.pkg_info["MaxToken"]
        if sec_buffer_in is not None and type(sec_buffer_in) is not _Desc:
            sec_buffer_in = _desc(_filled(sec_buffer_in, max_token, sspicon.SECBUFFER_TOKEN))
        out = _desc(_Buffer(max_token, sspicon.SECBUFFER_TOKEN))
        previous = self.ctxt
        if self.ctxt is None:
            self.ctxt = win32security.PyCtxtHandle()
        status, attr, expiry = call(previous, sec_buffer_in, self.ctxt, out)
        self.ctxt_attr, self.ctxt_expiry = attr, expiry
        if status in (sspicon.SEC_I_COMPLETE_NEEDED, sspicon.SEC_I_COMPLETE_AND_CONTINUE):
            self.ctxt.CompleteAuthToken(out)
        self.authenticated = status == 0
        if self.authenticated:
            self._amend_ctx_name()
        return status, out


class ClientAuth(_BaseAuth):
    """The client side of an SSPI handshake, one :meth:`authorize` per leg."""

    def __init__(
        self,
        pkg_name: str,
        client_name: str | None = None,
        auth_info: Any = None,
        targetspn: str | None = None,
        scflags: int | None = None,
        datarep: int = sspicon.SECURITY_NETWORK_DREP,
    ) -> None:
        if scflags is None:
            scflags = (
                sspicon.ISC_REQ_INTEGRITY
                | sspicon.ISC_REQ_SEQUENCE_DETECT
                | sspicon.ISC_REQ_REPLAY_DETECT
                | sspicon.ISC_REQ_CONFIDENTIALITY
            )
        self.scflags = scflags
        self.datarep = datarep
        self.targetspn = targetspn
        self.pkg_info = win32security.QuerySecurityPackageInfo(pkg_name)
        self.credentials, self.credentials_expiry = win32security.AcquireCredentialsHandle(
            client_name,
            self.pkg_info["Name"],
            sspicon.SECPKG_CRED_OUTBOUND,
            None,
            auth_info,
        )
        _BaseAuth.__init__(self)

    def authorize(self, sec_buffer_in: Any) -> tuple[int, win32security.PySecBufferDesc]:
        """One InitializeSecurityContext leg; pass None the first time, then the
        server's bytes (or a PySecBufferDesc).  Returns ``(status, output desc)``."""

        def call(previous: Any, inp: Any, new: Any, out: Any) -> tuple[int, int, _dt.datetime]:
            return win32security.InitializeSecurityContext(
                self.credentials,
                previous,
                self.targetspn,
                self.scflags,
                self.datarep,
                inp,
                new,
                out,
            )

        return self._step(sec_buffer_in, call)


class ServerAuth(_BaseAuth):
    """The server side (AcceptSecurityContext): this package is a client only, so
    acquiring the inbound credential fails with ``error`` (SEC_E_NO_CREDENTIALS)."""

    def __init__(
        self,
        pkg_name: str,
        spn: str | None = None,
        scflags: int | None = None,
        datarep: int = sspicon.SECURITY_NETWORK_DREP,
    ) -> None:
        self.spn = spn
        self.datarep = datarep
        if scflags is None:
            scflags = (
                sspicon.ASC_REQ_INTEGRITY
                | sspicon.ASC_REQ_SEQUENCE_DETECT
                | sspicon.ASC_REQ_REPLAY_DETECT
                | sspicon.ASC_REQ_CONFIDENTIALITY
            )
        self.scflags = scflags
        self.pkg_info = win32security.QuerySecurityPackageInfo(pkg_name)
        self.credentials, self.credentials_expiry = win32security.AcquireCredentialsHandle(
            spn, self.pkg_info["Name"], sspicon.SECPKG_CRED_INBOUND, None, None
        )
        _BaseAuth.__init__(self)

    def authorize(self, sec_buffer_in: Any) -> tuple[int, win32security.PySecBufferDesc]:
        """One AcceptSecurityContext leg."""

        def call(previous: Any, inp: Any, new: Any, out: Any) -> tuple[int, int, _dt.datetime]:
            return win32security.AcceptSecurityContext(
                self.credentials, previous, inp, self.scflags, self.datarep, new, out
            )

        return self._step(sec_buffer_in, call)
