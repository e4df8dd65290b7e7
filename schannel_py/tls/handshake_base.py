"""What the client facade needs from a version's handshake state machine."""

from __future__ import annotations

import enum
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


class StateEnum(enum.Enum):
    """Base of the state enums: members hashed by identity, in C.

    Members are singletons compared by identity, so identity hashing agrees with
    equality; Enum's own ``__hash__`` is Python code, and these are looked up
    in transition tables on every handshake message.
    """

    __hash__ = object.__hash__
