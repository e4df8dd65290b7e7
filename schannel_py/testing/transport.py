"""A seeded, fault-injecting transport between an SSPI-driving loop and a server.

:class:`Transport` gives the code under test the two callables every loop
needs, ``send(data)`` and ``recv(n)``, and decides how the server's bytes
reach it: all at once (flights coalesced), one record per read, one byte per
read, fixed or random splits (:class:`Chunking`), with optional faults: the
stream cut after a number of bytes (truncation) and one byte flipped, in either
direction (``send_truncate_after`` / ``send_flip`` for the client's bytes), and
a delay before each read (simulated time: nothing sleeps unless you pass a
``sleep`` callback).  The random choices come from the seed, so a failing case
replays from it; ``repr()`` of a transport names its policy, seed and faults.

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
from collections.abc import Callable
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

    Server to client: ``truncate_after``: the client sees end of file after this
    many bytes of the server's stream, whatever the server sends after.  ``flip``:
    the offset in the server's stream of one byte to corrupt (XORed with a
    non-zero value drawn from the seed); ``"random"`` picks the offset from the
    seed among the first ``flip_window`` bytes.

    Client to server: ``send_truncate_after``: the server gets only this many
    bytes of the client's stream (the rest is lost, as on a dead link);
    ``send_flip`` / ``send_flip_window``: one byte of the client's stream
    corrupted, as ``flip``.

    ``delay``: seconds that pass before each read is handed to the client, a
    number or a ``(low, high)`` range drawn from the seed.  Time is simulated:
    it adds up in :attr:`elapsed` (each read's in :attr:`delays`) and is passed
    to ``sleep`` if given (a :class:`~schannel_py.testing.ManualClock`'s ``advance``, or ``time.sleep`` for
    real waiting); the transport itself never sleeps.
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
        send_truncate_after: int | None = None,
        send_flip: int | Literal["random"] | None = None,
        send_flip_window: int = 512,
        delay: float | tuple[float, float] = 0.0,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self.server = server
        self.chunking = chunking if chunking is not None else Chunking.whole()
        self.seed = seed
        self.rng = _random.Random(seed)
        self.truncate_after = truncate_after
        self.flip_at = self.rng.randrange(flip_window) if flip == "random" else flip
        self._flip_mask = self.rng.randrange(1, 256)
        self.idle_eof = idle_eof
        # Client-side faults and delays draw from their own generator, so adding them
        # leaves the cuts and the server-side flip of a seed as they were.
        self._rng_extra = _random.Random(f"{seed}/send-and-delay")
        self.send_truncate_after = send_truncate_after
        self.send_flip_at = (
            self._rng_extra.randrange(send_flip_window) if send_flip == "random" else send_flip
        )
        self._send_flip_mask = self._rng_extra.randrange(1, 256)
        if isinstance(delay, tuple):
            low, high = delay
            if not 0 <= low <= high:
                raise ValueError("delay range must be 0 <= low <= high")
        elif delay < 0:
            raise ValueError("delay must not be negative")
        self.delay = delay
        self.sleep = sleep
        #: Simulated seconds that passed before the reads, in total and per read.
        self.elapsed = 0.0
        self.delays: list[float] = []
        #: Every byte the client sent, and every byte it was handed, in order.
        self.sent = bytearray()
        self.delivered = bytearray()
        #: What reached the server of :attr:`sent` (after ``send_*`` faults).
        self.forwarded = bytearray()
        #: The size of each read the client was handed (b"" reads not counted).
        self.reads: list[int] = []
        self._buffer = bytearray()  # taken from the server, not yet handed to the client

    def __repr__(self) -> str:
        faults = ""
        if self.truncate_after is not None:
            faults += f", truncate_after={self.truncate_after}"
        if self.flip_at is not None:
            faults += f", flip={self.flip_at}"
        if self.send_truncate_after is not None:
            faults += f", send_truncate_after={self.send_truncate_after}"
        if self.send_flip_at is not None:
            faults += f", send_flip={self.send_flip_at}"
        if self.delay:
            faults += f", delay={self.delay}"
        return f"Transport({self.chunking}, seed={self.seed}{faults})"

    # --- the client's callables ---------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """The client sends ``data``; the server reads it at once (less any ``send_*`` fault)."""
        out = bytearray(data)
        start = len(self.sent)
        self.sent += out
        if self.send_truncate_after is not None:
            del out[max(0, self.send_truncate_after - start) :]
        at = self.send_flip_at
        if at is not None and start <= at < start + len(out):
            out[at - start] ^= self._send_flip_mask
        if out:
            self.forwarded += out
            self.server.receive(bytes(out))

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
        self._wait()
        data = bytearray(self._buffer[:size])
        del self._buffer[:size]
        start = len(self.delivered)
        if self.flip_at is not None and start <= self.flip_at < start + size:
            data[self.flip_at - start] ^= self._flip_mask
        self.delivered += data
        self.reads.append(size)
        return bytes(data)

    def _wait(self) -> None:
        """The delay before one read: simulated, and passed to ``sleep`` if there is one."""
        if isinstance(self.delay, tuple):
            seconds = self._rng_extra.uniform(*self.delay)
        else:
            seconds = float(self.delay)
        if not seconds:
            return
        self.delays.append(seconds)
        self.elapsed += seconds
        if self.sleep is not None:
            self.sleep(seconds)

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
