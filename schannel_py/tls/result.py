"""What a completed handshake negotiated, as one read-only value.

:class:`~.client.TLSClient` keeps many attributes that its handshake state
machines write as they go (``version``, ``suite``, ``group``, ``alpn``,
``peer_chain``, ...).  Those stay, since a check that runs during the handshake
(the certificate callback reading ``peer_chain``) needs them before there is a
result, but they are the handshake's scratch space.  Code that asks what was
negotiated should read ``TLSClient.result`` instead: a :class:`HandshakeResult`
set when the handshake completes, replaced when a TLS 1.2 renegotiation
completes, and never changed in place.

Outside :mod:`schannel_py.tls`, QueryContextAttributes (``sspi/attributes.py``)
and ISC (``sspi/handshake.py``) read what was negotiated from it.

What keeps changing after the handshake stays on the client: the TLS 1.3
tickets (``tickets``, ``tickets_received``, ``new_session``), the close and
failure flags, the traffic keys, and what a TLS 1.3 post-handshake
CertificateRequest asks for.
"""

from __future__ import annotations

from typing import NamedTuple

from cryptography import x509

from .session import Session12
from .suites import CipherSuite


class HandshakeResult(NamedTuple):
    """The parameters of one completed handshake (no secrets: its repr is safe to log).

    A named tuple: read-only, and made in one step at the end of every handshake."""

    #: 0x0304 (TLS 1.3) or 0x0303 (TLS 1.2).
    version: int
    suite: CipherSuite
    #: Key-exchange group (:mod:`.groups`); 0 for a TLS 1.2 resumption (no key exchange).
    group: int
    #: Scheme of the server's CertificateVerify / ServerKeyExchange; 0 when resumed.
    peer_signature_scheme: int
    #: The protocol the server chose by ALPN, or None.
    alpn: bytes | None
    #: The server's certificate chain (DER, leaf first); a resumption's is the
    #: chain stored with the session.
    peer_chain: tuple[bytes, ...]
    #: The parsed leaf of ``peer_chain`` (None if the chain is empty).
    peer_certificate: x509.Certificate | None
    #: The handshake resumed a session (a TLS 1.3 PSK or a TLS 1.2 session).
    resumed: bool
    #: legacy_session_id_echo (TLS 1.3) or the TLS 1.2 session ID; may be empty.
    session_id: bytes
    client_random: bytes
    server_random: bytes
    #: The server sent a HelloRetryRequest (TLS 1.3).
    hello_retry_request: bool
    #: RFC 7627 extended master secret (always True in TLS 1.3).
    extended_master_secret: bool
    #: The server sent renegotiation_info (RFC 5746; TLS 1.2).
    secure_renegotiation: bool
    #: TLS 1.2: the first Finished of this handshake (tls-unique, RFC 5929); b"" in TLS 1.3.
    tls_unique: bytes
    #: The server asked for a client certificate, and whether one was sent.
    certificate_requested: bool
    client_certificate_sent: bool
    #: TLS 1.2: the resumable session this handshake produced (None without
    #: extended master secret, or without a session ID or ticket).  TLS 1.3
    #: sessions are tickets, which arrive after the handshake: ``TLSClient.tickets``.
    session12: Session12 | None
    #: 0 for the connection's first handshake, n for its n-th TLS 1.2 renegotiation.
    renegotiation: int = 0
    #: The OCSPResponse (DER) the server stapled for ``peer_chain``'s leaf when
    #: ClientConfig.ocsp_stapling asked for one; on a resumption, the one kept with
    #: the session; else None.
    ocsp_staple: bytes | None = None
    #: The verify_data of this handshake's Finished messages, the client's and the
    #: server's (TLS 1.3 and 1.2; what OpenSSL's SSL_get_finished gives).
    client_finished: bytes = b""
    server_finished: bytes = b""

    @property
    def cipher_suite(self) -> int:
        """The IANA code of :attr:`suite`."""
        return self.suite.code

    def __repr__(self) -> str:
        """The fields but the parsed certificate and the TLS 1.2 session (which holds
        the master secret)."""
        shown = ", ".join(
            f"{name}={value!r}"
            for name, value in zip(self._fields, self, strict=True)
            if name not in ("peer_certificate", "session12")
        )
        return f"HandshakeResult({shown})"
