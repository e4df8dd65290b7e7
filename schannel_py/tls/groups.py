"""Key-exchange groups: x25519, secp256r1, secp384r1.

A :class:`KeyShare` is created from injected randomness so that handshakes are
reproducible; ``exchange`` validates the peer's share exactly (length, point
format, on-curve, non-zero x25519 result) and raises illegal_parameter.
"""

from __future__ import annotations

from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .alerts import illegal

X25519 = 0x001D
SECP256R1 = 0x0017
SECP384R1 = 0x0018

GROUP_NAMES: dict[int, str] = {X25519: "x25519", SECP256R1: "secp256r1", SECP384R1: "secp384r1"}
GROUP_BITS: dict[int, int] = {X25519: 255, SECP256R1: 256, SECP384R1: 384}
SUPPORTED_GROUPS: tuple[int, ...] = (X25519, SECP256R1, SECP384R1)

_CURVES: dict[int, ec.EllipticCurve] = {SECP256R1: ec.SECP256R1(), SECP384R1: ec.SECP384R1()}
_SCALAR_LEN = {SECP256R1: 32, SECP384R1: 48}
_ORDER = {
    SECP256R1: 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    SECP384R1: int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
}


class KeyShare:
    """One ephemeral key pair for a named group."""

    def __init__(self, group: int, random: Callable[[int], bytes]) -> None:
        self.group = group
        if group == X25519:
            self._x = x25519.X25519PrivateKey.from_private_bytes(random(32))
            self.public = self._x.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        elif group in _CURVES:
            n = _ORDER[group]
            while True:
                scalar = int.from_bytes(random(_SCALAR_LEN[group]), "big")
                if 0 < scalar < n:
                    break
            self._ec = ec.derive_private_key(scalar, _CURVES[group])
            self.public = self._ec.public_key().public_bytes(
                Encoding.X962, PublicFormat.UncompressedPoint
            )
        else:
            raise ValueError(f"unsupported group {group:#x}")

    def exchange(self, peer: bytes) -> bytes:
        """The shared secret with the peer's share; illegal_parameter if invalid."""
        if self.group == X25519:
            if len(peer) != 32:
                raise illegal("x25519 share must be 32 bytes")
            try:
                secret = self._x.exchange(x25519.X25519PublicKey.from_public_bytes(peer))
            except ValueError:
                raise illegal("x25519 exchange produced the all-zero value") from None
            if not any(secret):
                raise illegal("x25519 exchange produced the all-zero value")
            return secret
        curve = _CURVES[self.group]
        if len(peer) != 1 + 2 * _SCALAR_LEN[self.group] or peer[0] != 4:
            raise illegal("EC share must be an uncompressed point")
        try:
            pub = ec.EllipticCurvePublicKey.from_encoded_point(curve, peer)
            return self._ec.exchange(ec.ECDH(), pub)
        except ValueError:
            raise illegal("EC share is not a valid point") from None
