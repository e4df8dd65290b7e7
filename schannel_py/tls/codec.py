"""Reading and writing TLS presentation-language vectors (RFC 8446 section 3).

The reader never raises anything but :class:`TLSError` (decode_error), so
malformed input from the network cannot escape as an IndexError or
struct.error.
"""

from __future__ import annotations

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
        pos = self._pos
        if pos + 2 > self._end:
            raise decode_error("truncated data")
        self._pos = pos + 2
        data = self._data
        return (data[pos] << 8) | data[pos + 1]

    def uint24(self) -> int:
        return int.from_bytes(self.read(3), "big")

    def uint32(self) -> int:
        return int.from_bytes(self.read(4), "big")

    def vector(self, len_bytes: int, minimum: int = 0, maximum: int | None = None) -> bytes:
        """An opaque vector with a ``len_bytes``-byte length prefix."""
        pos = self._pos
        start = pos + len_bytes
        if len_bytes < 0 or start > self._end:
            raise decode_error("truncated data")
        data = self._data
        n = int.from_bytes(data[pos:start], "big")
        if n < minimum or (maximum is not None and n > maximum):
            raise decode_error(f"vector length {n} out of range")
        stop = start + n
        if stop > self._end:
            self._pos = start
            raise decode_error("truncated data")
        self._pos = stop
        return data[start:stop]

    def sub(self, len_bytes: int, minimum: int = 0) -> _SubReader:
        """A nested reader over a length-prefixed block that must be consumed whole.

        Used as ``with r.sub(2) as inner:``; leaving the block normally checks
        that ``inner`` was consumed whole.
        """
        return _SubReader(self.vector(len_bytes, minimum))

    def uint16_list(self, len_bytes: int, minimum: int = 0) -> list[int]:
        block = self.vector(len_bytes, minimum)
        if len(block) % 2:
            raise decode_error("odd-length uint16 list")
        return [int.from_bytes(block[i : i + 2], "big") for i in range(0, len(block), 2)]


class _SubReader(Reader):
    """The context manager returned by :meth:`Reader.sub` (cheaper than a generator)."""

    __slots__ = ()

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.expect_end("vector")


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

    def sub(self, len_bytes: int) -> _SubWriter:
        """A nested writer whose bytes are appended with a length prefix on exit."""
        return _SubWriter(self, len_bytes)


class _SubWriter(Writer):
    """The context manager returned by :meth:`Writer.sub` (cheaper than a generator)."""

    __slots__ = ("_outer", "_len_bytes")

    def __init__(self, outer: Writer, len_bytes: int) -> None:
        self.buf = bytearray()
        self._outer = outer
        self._len_bytes = len_bytes

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self._outer.vector(self._len_bytes, self.buf)
