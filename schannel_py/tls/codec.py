"""Reading and writing TLS presentation-language vectors (RFC 8446 section 3).

The reader never raises anything but :class:`TLSError` (decode_error), so
malformed input from the network cannot escape as an IndexError or
struct.error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .alerts import decode_error


class Reader:
    """A cursor over immutable bytes with length-prefixed vector helpers."""

    __slots__ = ("_data", "_pos", "_end")

    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        self._data = bytes(data)
        self._pos = 0
        self._end = len(self._data)

    @property
    def remaining(self) -> int:
        return self._end - self._pos

    def at_end(self) -> bool:
        return self._pos >= self._end

    def expect_end(self, what: str) -> None:
        """Reject trailing bytes after a structure."""
        if self._pos != self._end:
            raise decode_error(f"{self._end - self._pos} trailing bytes in {what}")

    def read(self, n: int) -> bytes:
        if n < 0 or self._pos + n > self._end:
            raise decode_error("truncated data")
        out = self._data[self._pos : self._pos + n]
        self._pos += n
        return out

    def uint8(self) -> int:
        if self._pos + 1 > self._end:
            raise decode_error("truncated data")
        v = self._data[self._pos]
        self._pos += 1
        return v

    def uint16(self) -> int:
        return int.from_bytes(self.read(2), "big")

    def uint24(self) -> int:
        return int.from_bytes(self.read(3), "big")

    def uint32(self) -> int:
        return int.from_bytes(self.read(4), "big")

    def vector(self, len_bytes: int, minimum: int = 0, maximum: int | None = None) -> bytes:
        """An opaque vector with a ``len_bytes``-byte length prefix."""
        n = int.from_bytes(self.read(len_bytes), "big")
        if n < minimum or (maximum is not None and n > maximum):
            raise decode_error(f"vector length {n} out of range")
        return self.read(n)

    @contextmanager
    def sub(self, len_bytes: int, minimum: int = 0) -> Iterator[Reader]:
        """A nested reader over a length-prefixed block that must be consumed whole."""
        inner = Reader(self.vector(len_bytes, minimum))
        yield inner
        inner.expect_end("vector")

    def uint16_list(self, len_bytes: int, minimum: int = 0) -> list[int]:
        block = self.vector(len_bytes, minimum)
        if len(block) % 2:
            raise decode_error("odd-length uint16 list")
        return [int.from_bytes(block[i : i + 2], "big") for i in range(0, len(block), 2)]


class Writer:
    """An append-only byte builder with length-prefixed vector helpers."""

    __slots__ = ("buf",)

    def __init__(self) -> None:
        self.buf = bytearray()

    def getvalue(self) -> bytes:
        return bytes(self.buf)

    def raw(self, data: bytes | bytearray | memoryview) -> None:
        self.buf += data

    def uint8(self, v: int) -> None:
        self.buf.append(v & 0xFF)

    def uint16(self, v: int) -> None:
        self.buf += v.to_bytes(2, "big")

    def uint24(self, v: int) -> None:
        self.buf += v.to_bytes(3, "big")

    def uint32(self, v: int) -> None:
        self.buf += v.to_bytes(4, "big")

    def vector(self, len_bytes: int, data: bytes | bytearray | memoryview) -> None:
        self.buf += len(data).to_bytes(len_bytes, "big")
        self.buf += data

    def uint16_list(self, len_bytes: int, values: list[int] | tuple[int, ...]) -> None:
        self.buf += (2 * len(values)).to_bytes(len_bytes, "big")
        for v in values:
            self.buf += v.to_bytes(2, "big")

    @contextmanager
    def sub(self, len_bytes: int) -> Iterator[Writer]:
        """A nested writer whose bytes are appended with a length prefix on exit."""
        inner = Writer()
        yield inner
        self.vector(len_bytes, inner.buf)
