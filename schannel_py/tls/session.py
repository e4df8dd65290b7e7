"""What a connection keeps for later resumption (tickets), and the transcript hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from .messages import Extensions, HandshakeType, handshake_message


@dataclass
class Ticket13:
    """A TLS 1.3 NewSessionTicket and the PSK it stands for."""

    ticket: bytes
    lifetime: int
    age_add: int
    nonce: bytes
    psk: bytes = field(repr=False)  # secret: never in reprs or logs
    suite: int
    received_at: float
    server_name: str | None
    alpn: bytes | None
    extensions: Extensions = field(default_factory=list)
    peer_chain: list[bytes] = field(default_factory=list)
    #: The OCSP response stapled to peer_chain's leaf, if any (reported on resumption).
    ocsp_staple: bytes | None = None

    def usable_at(self, now: float) -> bool:
        """Within the lifetime the server gave (RFC 8446 section 4.6.1)."""
        return 0 <= now - self.received_at < self.lifetime

    def obfuscated_age(self, now: float) -> int:
        return (int((now - self.received_at) * 1000) + self.age_add) & 0xFFFFFFFF


@dataclass
class Session12:
    """A resumable TLS 1.2 session: by session ID and/or RFC 5077 ticket (EMS only)."""

    session_id: bytes
    master_secret: bytes = field(repr=False)  # secret: never in reprs or logs
    suite: int
    ticket: bytes
    ticket_lifetime: int
    created_at: float
    peer_chain: list[bytes] = field(default_factory=list)
    alpn: bytes | None = None
    #: The OCSP response stapled to peer_chain's leaf, if any (reported on resumption).
    ocsp_staple: bytes | None = None


#: hashlib constructors by name (hashlib.new goes through a Python-level lookup).
_CONSTRUCTORS = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}


def _new_hash(hash_name: str, data: bytes = b"") -> hashlib._Hash:
    make = _CONSTRUCTORS.get(hash_name)
    return make(data) if make is not None else hashlib.new(hash_name, data)


class Transcript:
    """The running handshake transcript.

    Messages are buffered until the hash is known (from ServerHello), then
    hashed incrementally.  ``restart_for_hrr`` applies RFC 8446 section 4.4.1's
    message_hash substitution of the first ClientHello.
    """

    def __init__(self) -> None:
        self._pending: list[bytes] = []
        self._hash: hashlib._Hash | None = None

    def add(self, message: bytes) -> None:
        if self._hash is None:
            self._pending.append(bytes(message))
        else:
            self._hash.update(message)

    def set_hash(self, hash_name: str) -> None:
        if self._hash is not None:
            return
        self._hash = _new_hash(hash_name)
        for m in self._pending:
            self._hash.update(m)
        self._pending.clear()

    def restart_for_hrr(self, hash_name: str) -> None:
        """Replace everything so far (ClientHello1) by its message_hash message."""
        if self._hash is not None:  # the hash was already chosen: it holds ClientHello1
            digest = self._hash.digest()
        else:
            digest = _new_hash(hash_name, b"".join(self._pending)).digest()
        self._pending = [handshake_message(HandshakeType.message_hash, digest)]
        self._hash = None
        self.set_hash(hash_name)

    def fork(self) -> Transcript:
        """An independent copy (post-handshake authentication branches off here)."""
        other = Transcript()
        other._pending = list(self._pending)
        other._hash = self._hash.copy() if self._hash is not None else None
        return other

    def digest_with(self, hash_name: str, extra: bytes) -> bytes:
        """Hash of the transcript so far followed by ``extra`` (PSK binders)."""
        if self._hash is not None:
            h = self._hash.copy()
        else:
            h = _new_hash(hash_name, b"".join(self._pending))
        h.update(extra)
        return h.digest()

    def digest(self) -> bytes:
        """The hash of the transcript so far (hashlib's digest leaves the running
        hash as it is: no copy needed)."""
        if self._hash is None:
            raise RuntimeError("transcript hash not chosen yet")
        return self._hash.digest()
