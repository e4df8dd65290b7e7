"""What the client facade needs from a version's handshake state machine."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

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


S = TypeVar("S", bound=StateEnum)
#: A state machine's message handler, as a plain function of (machine, message).
Handler = Callable[[Any, bytes], tuple[S, list[Event]]]


def dispatch_table(
    machine: type, transitions: Mapping[S, Mapping[int, tuple[str, tuple[S, ...]]]]
) -> dict[S, dict[int, tuple[Handler[S], tuple[S, ...]]]]:
    """A transition table with its handler names looked up once on the class
    (``handle`` runs per message: no getattr or bound method each time)."""
    return {
        state: {mt: (getattr(machine, name), targets) for mt, (name, targets) in row.items()}
        for state, row in transitions.items()
    }
