"""An in-memory TLS server (Python's ssl over MemoryBIO) for deterministic SSPI tests.

:meth:`MemoryServer.client_send` and :meth:`MemoryServer.client_recv` are the
client's end of the pipe: the ``send`` / ``recv`` callables of
:class:`schannel_py.driver.SspiDriver`.
"""

from __future__ import annotations

import ssl
from pathlib import Path


def server_context(
    cert_file: Path | str,
    key_file: Path | str,
    *,
    min_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3,
    max_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3,
    alpn: list[str] | None = None,
    num_tickets: int | None = None,
    ecdh_curve: str | None = None,
    ciphers: str | None = None,
) -> ssl.SSLContext:
    """A Python ``ssl`` server context; shared by several :class:`MemoryServer`
    connections (:meth:`MemoryServer.for_context`) it keeps their session cache
    and ticket keys."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = min_version
    ctx.maximum_version = max_version
    ctx.load_cert_chain(cert_file, key_file)
    if alpn:
        ctx.set_alpn_protocols(alpn)
    if num_tickets is not None:
        ctx.num_tickets = num_tickets
    if ciphers:
        ctx.set_ciphers(ciphers)
    if ecdh_curve:
        ctx.set_ecdh_curve(ecdh_curve)
    return ctx


class MemoryServer:
    """Python's ssl server side driven by bytes in / bytes out, no sockets."""

    def __init__(
        self,
        cert_file: Path,
        key_file: Path,
        *,
        min_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3,
        max_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3,
        alpn: list[str] | None = None,
        num_tickets: int | None = None,
        ecdh_curve: str | None = None,
        ciphers: str | None = None,
        context: ssl.SSLContext | None = None,
    ) -> None:
        if context is not None:
            # A shared server context keeps the server's session cache and ticket keys.
            self._wrap(context)
            return
        self._wrap(
            server_context(
                cert_file,
                key_file,
                min_version=min_version,
                max_version=max_version,
                alpn=alpn,
                num_tickets=num_tickets,
                ecdh_curve=ecdh_curve,
                ciphers=ciphers,
            )
        )

    @classmethod
    def for_context(cls, context: ssl.SSLContext) -> MemoryServer:
        """A connection of an existing server context (its session cache and ticket
        keys shared with the other connections made from it)."""
        return cls(Path(), Path(), context=context)

    def _wrap(self, ctx: ssl.SSLContext) -> None:
        self.context = ctx
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(self.incoming, self.outgoing, server_side=True)
        self.handshake_done = False
        #: What the server sent and the client has not read yet (client_recv).
        self.to_client = bytearray()

    def feed(self, data: bytes) -> bytes:
        """Give the server client bytes; return whatever it sends back."""
        if data:
            self.incoming.write(data)
        if not self.handshake_done:
            try:
                self.tls.do_handshake()
                self.handshake_done = True
            except ssl.SSLWantReadError:
                pass
        return self.outgoing.read()

    def write(self, data: bytes) -> bytes:
        self.tls.write(data)
        return self.outgoing.read()

    def read(self, n: int = 1 << 20) -> bytes:
        try:
            return self.tls.read(n)
        except ssl.SSLWantReadError:
            return b""

    def pending_output(self) -> bytes:
        return self.outgoing.read()

    # --- the client's end of the pipe ---------------------------------------------

    def client_send(self, data: bytes) -> None:
        """The client sent ``data``: the server reads it; its answer waits in ``to_client``."""
        self.to_client += self.feed(data)

    def client_recv(self, n: int) -> bytes:
        """Up to ``n`` bytes the server sent; b"" (end of file) when it has nothing to send."""
        if not self.to_client:
            self.to_client += self.feed(b"")
        data = bytes(self.to_client[:n])
        del self.to_client[:n]
        return data
