"""A seeded, fault-injecting transport between an SSPI-driving loop and a server.

:class:`Transport` gives the code under test the two callables every loop
needs, ``send(data)`` and ``recv(n)``, and decides how the server's bytes
reach it: all at once (flights coalesced), one record per read, one byte per
read, fixed or random splits (:class:`Chunking`), with optional faults: the
stream cut after a number of bytes (truncation) and one byte flipped.  The
random choices come from a ``random.Random(seed)``, so a failing case replays
from its seed; ``repr()`` of a transport names its policy and seed.

The server is a :class:`~schannel_py.testing.TlsServer` in memory, or a real
one behind a connected socket (:class:`SocketPeer`): the same cuts and faults
apply to its bytes.

``recv`` on a server that has nothing to send and is still open raises
:class:`Stalled` (in memory, nothing would ever arrive: the loop is waiting
for data the server will not send) unless ``idle_eof=True``, which returns
``b""`` as a closed socket would.
"""

from __future__ import annotations

import json
import os
import random as _random
import select
import socket
from dataclasses import dataclass
from typing import Literal, Protocol

from ..tls.record import HEADER_LEN

__all__ = [
    "CHUNKINGS",
    "Chunking",
    "Peer",
    "SocketPeer",
    "Stalled",
    "TranscriptMismatch",
    "Transport",
    "assert_same_transcript",
    "save_transcript",
]

ChunkingKind = Literal["whole", "records", "bytes", "fixed", "random"]


class Peer(Protocol):
    """What a transport needs of a server (:class:`~schannel_py.testing.TlsServer` has it).

    ``take`` never blocks; a peer that is fed by something else (a socket) may also
    have a ``wait()`` method, which the transport calls when it has nothing to hand out.
    """

    closed: bool

    def receive(self, data: bytes) -> None: ...

    def take(self, n: int | None = None) -> bytes: ...

    @property
    def pending(self) -> int: ...


class SocketPeer:
    """A real server behind a connected socket, as a :class:`Transport`'s peer.

    ``take`` returns what has arrived without waiting; ``wait`` blocks until
    something arrives, the server closes, or ``timeout`` seconds pass (the
    transport calls it when it has nothing to hand out).  ``closed`` turns true
    at the server's end of file.
    """

    def __init__(self, sock: socket.socket, timeout: float = 10.0) -> None:
        self.sock = sock
        self.timeout = timeout
        self.closed = False
        self._buffer = bytearray()

    def receive(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _pull(self, wait: float) -> None:
        while not self.closed and select.select([self.sock], [], [], wait)[0]:
            chunk = self.sock.recv(65536)
            if not chunk:
                self.closed = True
            self._buffer += chunk
            wait = 0

    def wait(self) -> None:
        """Block until bytes arrive, the server closes, or ``timeout`` seconds pass."""
        if not self._buffer:
            self._pull(self.timeout)

    def take(self, n: int | None = None) -> bytes:
        self._pull(0)
        end = len(self._buffer) if n is None else n
        data = bytes(self._buffer[:end])
        del self._buffer[:end]
        return data

    @property
    def pending(self) -> int:
        self._pull(0)
        return len(self._buffer)


class Stalled(AssertionError):
    """The client waits for bytes, and the in-memory server has none and is still open."""


@dataclass(frozen=True)
class Chunking:
    """How the server's bytes are cut into the reads the client sees.

    ``whole``: everything pending (up to ``n``), flights coalesced; ``records``: one
    TLS record per read; ``bytes``: one byte per read; ``fixed``: ``size`` bytes per
    read; ``random``: 1 to ``size`` bytes per read, drawn from the transport's seed.
    """

    kind: ChunkingKind = "whole"
    size: int = 0

    @classmethod
    def whole(cls) -> Chunking:
        return cls("whole")

    @classmethod
    def records(cls) -> Chunking:
        return cls("records")

    @classmethod
    def byte_at_a_time(cls) -> Chunking:
        return cls("bytes", 1)

    @classmethod
    def fixed(cls, size: int) -> Chunking:
        if size < 1:
            raise ValueError("size must be at least 1")
        return cls("fixed", size)

    @classmethod
    def random(cls, max_size: int = 64) -> Chunking:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        return cls("random", max_size)

    def __str__(self) -> str:
        return (
            self.kind if self.kind in ("whole", "records", "bytes") else f"{self.kind}{self.size}"
        )


#: One of each policy: what :func:`schannel_py.testing.plugin.every_chunking` runs a test under.
CHUNKINGS: tuple[Chunking, ...] = (
    Chunking.whole(),
    Chunking.records(),
    Chunking.byte_at_a_time(),
    Chunking.fixed(3),
    Chunking.fixed(1000),
    Chunking.random(64),
)


class Transport:
    """``send`` / ``recv`` for the code under test, with ``server`` on the other end.

    ``truncate_after``: the client sees end of file after this many bytes of the
    server's stream, whatever the server sends after.  ``flip``: the offset in
    the server's stream of one byte to corrupt (XORed with a non-zero value
    drawn from the seed); ``"random"`` picks the offset from the seed among the
    first ``flip_window`` bytes.
    """

    def __init__(
        self,
        server: Peer,
        chunking: Chunking | None = None,
        *,
        seed: int = 0,
        truncate_after: int | None = None,
        flip: int | Literal["random"] | None = None,
        flip_window: int = 512,
        idle_eof: bool = False,
    ) -> None:
        self.server = server
        self.chunking = chunking if chunking is not None else Chunking.whole()
        self.seed = seed
        self.rng = _random.Random(seed)
        self.truncate_after = truncate_after
        self.flip_at = self.rng.randrange(flip_window) if flip == "random" else flip
        self._flip_mask = self.rng.randrange(1, 256)
        self.idle_eof = idle_eof
        #: Every byte the client sent, and every byte it was handed, in order.
        self.sent = bytearray()
        self.delivered = bytearray()
        #: The size of each read the client was handed (b"" reads not counted).
        self.reads: list[int] = []
        self._buffer = bytearray()  # taken from the server, not yet handed to the client

    def __repr__(self) -> str:
        faults = ""
        if self.truncate_after is not None:
            faults += f", truncate_after={self.truncate_after}"
        if self.flip_at is not None:
            faults += f", flip={self.flip_at}"
        return f"Transport({self.chunking}, seed={self.seed}{faults})"

    # --- the client's callables ---------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """The client sends ``data``; the server reads it at once."""
        data = bytes(data)
        self.sent += data
        self.server.receive(data)

    def recv(self, n: int) -> bytes:
        """Up to ``n`` bytes, cut as the policy says; ``b""`` is end of file."""
        if n <= 0:
            return b""
        self._buffer += self.server.take()
        wait = getattr(self.server, "wait", None)
        if not self._buffer and not self.server.closed and wait is not None:
            wait()  # a peer with its own clock (a socket): give it time
            self._buffer += self.server.take()
        limit = self._limit(n)
        if limit == 0:
            return b""
        if not self._buffer:
            if self.server.closed or self.idle_eof:
                return b""
            raise Stalled(
                f"{self!r}: the client waits to read, but the server has nothing to send "
                f"({len(self.sent)} bytes sent, {len(self.delivered)} received)"
            )
        size = min(self._chunk(), limit, len(self._buffer))
        data = bytearray(self._buffer[:size])
        del self._buffer[:size]
        start = len(self.delivered)
        if self.flip_at is not None and start <= self.flip_at < start + size:
            data[self.flip_at - start] ^= self._flip_mask
        self.delivered += data
        self.reads.append(size)
        return bytes(data)

    def _limit(self, n: int) -> int:
        if self.truncate_after is None:
            return n
        return max(0, min(n, self.truncate_after - len(self.delivered)))

    def _chunk(self) -> int:
        kind = self.chunking.kind
        if kind == "whole":
            return len(self._buffer)
        if kind == "records":
            if len(self._buffer) < HEADER_LEN:
                return len(self._buffer)
            return HEADER_LEN + int.from_bytes(self._buffer[3:5], "big")
        if kind == "random":
            return self.rng.randint(1, self.chunking.size)
        return self.chunking.size


class TranscriptMismatch(AssertionError):
    """A run's bytes differ from a recorded transcript (the message says where)."""


def _transcript(transport: Transport) -> dict[str, object]:
    return {
        "transport": repr(transport),
        "sent": bytes(transport.sent).hex(),
        "delivered": bytes(transport.delivered).hex(),
        "reads": list(transport.reads),
    }


def save_transcript(transport: Transport, path: str | os.PathLike[str]) -> None:
    """Write what went through ``transport`` (both directions, the read sizes) as JSON."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(_transcript(transport), f, indent=1)
        f.write("\n")


def assert_same_transcript(transport: Transport, path: str | os.PathLike[str]) -> None:
    """Raise :class:`TranscriptMismatch` unless ``transport`` carried exactly the bytes,
    in the same reads, that :func:`save_transcript` recorded in ``path``.  Runs repeat
    byte for byte under :func:`~schannel_py.testing.deterministic`."""
    with open(path, encoding="utf-8") as f:
        want = json.load(f)
    got = _transcript(transport)
    for key in ("sent", "delivered"):
        a, b = bytes.fromhex(str(want[key])), bytes.fromhex(str(got[key]))
        if a != b:
            at = next(
                (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                min(len(a), len(b)),
            )
            raise TranscriptMismatch(
                f"{key}: first difference at byte {at} of {len(b)} (recorded: {len(a)} bytes; "
                f"recorded with {want['transport']}, now {got['transport']})"
            )
    if want["reads"] != got["reads"]:
        raise TranscriptMismatch(f"same bytes, other reads: {want['reads']} != {got['reads']}")
