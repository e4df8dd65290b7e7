"""Key-exchange groups: x25519, secp256r1, secp384r1 and the ECDHE-MLKEM hybrids.

A :class:`KeyShare` is created from injected randomness so that handshakes are
reproducible; ``exchange`` validates the peer's share exactly (length, point
format, on-curve, non-zero x25519 result) and raises illegal_parameter.

The hybrids (draft-ietf-tls-ecdhe-mlkem) are TLS 1.3 only.  A client share is
the ML-KEM encapsulation key and the ECDH public value concatenated, a server
share the ML-KEM ciphertext and the ECDH public value, and the shared secret the
two shared secrets, all in the same order: ML-KEM first for X25519MLKEM768,
ECDH first for SecP256r1MLKEM768 and SecP384r1MLKEM1024.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, mlkem, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .alerts import illegal

X25519 = 0x001D
SECP256R1 = 0x0017
SECP384R1 = 0x0018
SECP256R1MLKEM768 = 0x11EB
X25519MLKEM768 = 0x11EC
SECP384R1MLKEM1024 = 0x11ED

GROUP_NAMES: dict[int, str] = {
    X25519: "x25519",
    SECP256R1: "secp256r1",
    SECP384R1: "secp384r1",
    X25519MLKEM768: "X25519MLKEM768",
    SECP256R1MLKEM768: "SecP256r1MLKEM768",
    SECP384R1MLKEM1024: "SecP384r1MLKEM1024",
}
#: Key-exchange strength in bits, as CONNECTION_INFO.dwExchStrength reports it:
#: the curve size for ECDHE, and for a hybrid the size of its ECDH part (what the
#: classical half alone guarantees; the ML-KEM parameter set is in MLKEM_PARAMS).
GROUP_BITS: dict[int, int] = {
    X25519: 255,
    SECP256R1: 256,
    SECP384R1: 384,
    X25519MLKEM768: 255,
    SECP256R1MLKEM768: 256,
    SECP384R1MLKEM1024: 384,
}
#: The classical groups: the TLS core's default, and all TLS 1.2 can negotiate.
SUPPORTED_GROUPS: tuple[int, ...] = (X25519, SECP256R1, SECP384R1)
#: The hybrids, in the order they are offered (TLS 1.3 only).
HYBRID_GROUPS: tuple[int, ...] = (X25519MLKEM768, SECP256R1MLKEM768, SECP384R1MLKEM1024)
#: ML-KEM parameter set (512/768/1024) of each hybrid.
MLKEM_PARAMS: dict[int, int] = {
    X25519MLKEM768: 768,
    SECP256R1MLKEM768: 768,
    SECP384R1MLKEM1024: 1024,
}

_CURVES: dict[int, ec.EllipticCurve] = {SECP256R1: ec.SECP256R1(), SECP384R1: ec.SECP384R1()}
_SCALAR_LEN = {SECP256R1: 32, SECP384R1: 48}
_ORDER = {
    SECP256R1: 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    SECP384R1: int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
}
_ECDH_PUBLIC_LEN = {X25519: 32, SECP256R1: 65, SECP384R1: 97}


def _x25519_constructors() -> tuple[
    Callable[[bytes], x25519.X25519PrivateKey], Callable[[bytes], x25519.X25519PublicKey]
]:
    """The x25519 key constructors, asked once.  The public classmethods import and
    ask the backend whether x25519 is available on every call (a few microseconds
    per handshake, twice); when it is, the binding they then call is used directly.
    Anything unexpected about the binding keeps the public classmethods."""
    private, public = (
        x25519.X25519PrivateKey.from_private_bytes,
        x25519.X25519PublicKey.from_public_bytes,
    )
    try:
        from cryptography.hazmat.backends.openssl.backend import backend
        from cryptography.hazmat.bindings._rust import openssl as rust_openssl

        fast_private = rust_openssl.x25519.from_private_bytes
        fast_public = rust_openssl.x25519.from_public_bytes
        probe = fast_private(bytes(range(32)))
        if (
            backend.x25519_supported()
            and isinstance(probe, x25519.X25519PrivateKey)
            and isinstance(
                fast_public(probe.public_key().public_bytes_raw()), x25519.X25519PublicKey
            )
        ):
            return fast_private, fast_public
    except Exception:  # pragma: no cover - a cryptography without this binding
        pass
    return private, public  # pragma: no cover - see above


_x25519_private, _x25519_public = _x25519_constructors()

MLKEMPrivateKey = mlkem.MLKEM768PrivateKey | mlkem.MLKEM1024PrivateKey
MLKEMPublicKey = mlkem.MLKEM768PublicKey | mlkem.MLKEM1024PublicKey


def _mlkem_supported() -> bool:
    """Whether the backend cryptography was built against does ML-KEM (OpenSSL < 3.5 does not)."""
    try:
        mlkem.MLKEM768PrivateKey.from_seed_bytes(bytes(64))
        mlkem.MLKEM1024PrivateKey.from_seed_bytes(bytes(64))
    except UnsupportedAlgorithm:  # pragma: no cover - depends on the wheel
        return False
    return True


#: False when the backend lacks ML-KEM: credentials then offer no hybrid.
MLKEM_SUPPORTED = _mlkem_supported()


@dataclass(frozen=True)
class Hybrid:
    """How one ECDHE-MLKEM group is put together."""

    ecdh: int  # the classical group
    params: int  # ML-KEM-768 or ML-KEM-1024
    mlkem_first: bool  # ML-KEM part first in both shares and in the secret

    @property
    def ek_len(self) -> int:
        return 1184 if self.params == 768 else 1568

    @property
    def ct_len(self) -> int:
        return 1088 if self.params == 768 else 1568

    @property
    def client_share_len(self) -> int:
        return self.ek_len + _ECDH_PUBLIC_LEN[self.ecdh]

    @property
    def server_share_len(self) -> int:
        return self.ct_len + _ECDH_PUBLIC_LEN[self.ecdh]

    def split(self, share: bytes, pq_len: int) -> tuple[bytes, bytes]:
        """(ML-KEM part, ECDH part) of a share whose length was checked."""
        if self.mlkem_first:
            return share[:pq_len], share[pq_len:]
        n = _ECDH_PUBLIC_LEN[self.ecdh]
        return share[n:], share[:n]

    def join(self, pq: bytes, classical: bytes) -> bytes:
        return pq + classical if self.mlkem_first else classical + pq


HYBRIDS: dict[int, Hybrid] = {
    X25519MLKEM768: Hybrid(X25519, 768, mlkem_first=True),
    SECP256R1MLKEM768: Hybrid(SECP256R1, 768, mlkem_first=False),
    SECP384R1MLKEM1024: Hybrid(SECP384R1, 1024, mlkem_first=False),
}


def _mlkem_from_seed(params: int, seed: bytes) -> MLKEMPrivateKey:
    if params == 768:
        return mlkem.MLKEM768PrivateKey.from_seed_bytes(seed)
    return mlkem.MLKEM1024PrivateKey.from_seed_bytes(seed)


def _mlkem_public(params: int, ek: bytes) -> MLKEMPublicKey:
    if params == 768:
        return mlkem.MLKEM768PublicKey.from_public_bytes(ek)
    return mlkem.MLKEM1024PublicKey.from_public_bytes(ek)


class KeyShare:
    """One ephemeral key pair for a named group."""

    public: bytes

    def __init__(self, group: int, random: Callable[[int], bytes]) -> None:
        self.group = group
        hybrid = HYBRIDS.get(group)
        if hybrid is not None:
            # The ML-KEM key comes from a 64-byte seed (d || z, FIPS 203), so a
            # hybrid share is as reproducible as a classical one.
            self._kem = _mlkem_from_seed(hybrid.params, random(64))
            self._classical = KeyShare(hybrid.ecdh, random)
            self.public = hybrid.join(
                self._kem.public_key().public_bytes_raw(), self._classical.public
            )
        elif group == X25519:
            self._x = _x25519_private(random(32))
            self.public = self._x.public_key().public_bytes_raw()
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
        hybrid = HYBRIDS.get(self.group)
        if hybrid is not None:
            if len(peer) != hybrid.server_share_len:
                raise illegal(
                    f"{GROUP_NAMES[self.group]} server share must be "
                    f"{hybrid.server_share_len} bytes, not {len(peer)}"
                )
            ct, classical = hybrid.split(peer, hybrid.ct_len)
            try:
                pq_secret = self._kem.decapsulate(ct)
            except ValueError:  # pragma: no cover - only a wrong length is refused
                raise illegal("ML-KEM ciphertext rejected") from None
            return hybrid.join(pq_secret, self._classical.exchange(classical))
        if self.group == X25519:
            if len(peer) != 32:
                raise illegal("x25519 share must be 32 bytes")
            try:
                secret = self._x.exchange(_x25519_public(peer))
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


class ServerShare:
    """The server's side of one group, answering a client share (tests, peers).

    ``public`` is the server's key_share; ``exchange(client_share)`` gives the
    shared secret.  For a hybrid the ML-KEM encapsulation happens at
    construction (its randomness is the library's; only the ECDH key comes from
    ``random``).  A malformed client share raises illegal_parameter.
    """

    public: bytes

    def __init__(self, group: int, client_share: bytes, random: Callable[[int], bytes]) -> None:
        self.group = group
        hybrid = HYBRIDS.get(group)
        if hybrid is None:
            self._classical = KeyShare(group, random)
            self.public = self._classical.public
            self._pq_secret = b""
            return
        if len(client_share) != hybrid.client_share_len:
            raise illegal(f"{GROUP_NAMES[group]} client share has the wrong length")
        ek, _ = hybrid.split(client_share, hybrid.ek_len)
        try:
            pq_secret, ct = _mlkem_public(hybrid.params, ek).encapsulate()
        except ValueError:
            raise illegal("ML-KEM encapsulation key rejected") from None
        self._classical = KeyShare(hybrid.ecdh, random)
        self._pq_secret = pq_secret
        self.public = hybrid.join(ct, self._classical.public)

    def exchange(self, client_share: bytes) -> bytes:
        hybrid = HYBRIDS.get(self.group)
        if hybrid is None:
            return self._classical.exchange(client_share)
        _, classical = hybrid.split(client_share, hybrid.ek_len)
        return hybrid.join(self._pq_secret, self._classical.exchange(classical))
