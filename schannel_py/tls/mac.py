"""HMAC (RFC 2104) for the key schedules, built on the hash constructors.

A handshake computes about 25 HMACs over short inputs.  The standard
library's one-shot (``hmac.digest``, OpenSSL's HMAC) spends most of its time
setting up a MAC context for each call; two plain hashes over the padded key
do the same work in about half the time.  Keys longer than the hash's block
are hashed first, as RFC 2104 says, so the result is HMAC's for any key.
:class:`HmacKey` keeps the two padded-key hash states for a key used many
times (TLS 1.2's P_hash).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

#: Each byte XOR 0x36 / 0x5C: the inner and outer pads, applied with bytes.translate.
_INNER = bytes(b ^ 0x36 for b in range(256))
_OUTER = bytes(b ^ 0x5C for b in range(256))

#: (constructor, block size) of the hashes TLS uses, by name.
_HASHES: dict[str, tuple[Callable[..., Any], int]] = {
    "sha256": (hashlib.sha256, 64),
    "sha384": (hashlib.sha384, 128),
}


def hmac_digest(key: bytes, msg: bytes, hash_name: str) -> bytes:
    """HMAC-``hash_name`` of ``msg`` under ``key`` (same bytes as ``hmac.digest``)."""
    spec = _HASHES.get(hash_name)
    if spec is None:
        return hmac.digest(key, msg, hash_name)
    new, block = spec
    if len(key) > block:
        key = new(key).digest()
    key = key.ljust(block, b"\0")
    mac: bytes = new(key.translate(_OUTER) + new(key.translate(_INNER) + msg).digest()).digest()
    return mac


class HmacKey:
    """HMAC under one key, for many messages: the padded key is hashed once."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes, hash_name: str) -> None:
        spec = _HASHES.get(hash_name)
        if spec is None:
            self._inner = hmac.new(key, digestmod=hash_name)
            self._outer = None
            return
        new, block = spec
        if len(key) > block:
            key = new(key).digest()
        key = key.ljust(block, b"\0")
        self._inner = new(key.translate(_INNER))
        self._outer = new(key.translate(_OUTER))

    def digest(self, msg: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(msg)
        outer = self._outer
        if outer is None:  # an hmac.HMAC: its copy already is the whole MAC
            return bytes(inner.digest())
        outer = outer.copy()
        outer.update(inner.digest())
        return bytes(outer.digest())
