"""What the client facade needs from a version's handshake state machine."""

from __future__ import annotations

from typing import Protocol

from .events import Event


class Handshake(Protocol):
    """A handshake state machine (TLS 1.3 or TLS 1.2)."""

    def start(self) -> None: ...

    def handle(self, msg_type: int, message: bytes) -> list[Event]: ...

    def ccs_allowed(self) -> bool: ...

    def on_ccs(self) -> None: ...

    def awaiting_server_hello(self) -> bool:
        """True between our ClientHello and the server's answer."""
        ...

    def in_progress(self) -> bool:
        """True while a (re)negotiation is under way after the first handshake."""
        ...
