"""Cipher suites the client can negotiate: AEAD only, TLS 1.3 and TLS 1.2.

One table is the single place that knows each suite's IANA id, name, AEAD,
key length and hash; everything else looks suites up here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

AEADFactory = Callable[[bytes], "AESGCM | ChaCha20Poly1305"]


@dataclass(frozen=True)
class CipherSuite:
    """Static facts about one cipher suite."""

    code: int
    name: str
    version: int  # 0x0304 for TLS 1.3 suites, 0x0303 for TLS 1.2 suites
    cipher: str  # "AES" or "CHACHA20"
    mode: str  # "GCM" or "POLY1305"
    key_len: int
    hash_name: str  # hashlib name of the PRF/transcript hash
    kx: str = ""  # TLS 1.2 only: "ECDHE"
    auth: str = ""  # TLS 1.2 only: "ECDSA" or "RSA"

    #: Digest size of hash_name (derived once: read on every handshake).
    hash_len: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hash_len", hashlib.new(self.hash_name).digest_size)

    @property
    def tag_len(self) -> int:
        return 16

    def aead(self, key: bytes) -> AESGCM | ChaCha20Poly1305:
        """A ready AEAD object for ``key``."""
        if self.cipher == "CHACHA20":
            return ChaCha20Poly1305(key)
        return AESGCM(key)


TLS_AES_128_GCM_SHA256 = 0x1301
TLS_AES_256_GCM_SHA384 = 0x1302
TLS_CHACHA20_POLY1305_SHA256 = 0x1303

SUITES: dict[int, CipherSuite] = {
    s.code: s
    for s in (
        CipherSuite(0x1301, "TLS_AES_128_GCM_SHA256", 0x0304, "AES", "GCM", 16, "sha256"),
        CipherSuite(0x1302, "TLS_AES_256_GCM_SHA384", 0x0304, "AES", "GCM", 32, "sha384"),
        CipherSuite(
            0x1303, "TLS_CHACHA20_POLY1305_SHA256", 0x0304, "CHACHA20", "POLY1305", 32, "sha256"
        ),
    )
}

TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 = 0xC02C
TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 = 0xC02B
TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 = 0xC030
TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 = 0xC02F
TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 = 0xCCA9
TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = 0xCCA8

TLS12_SUITES: dict[int, CipherSuite] = {
    s.code: s
    for s in (
        CipherSuite(
            TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            0x0303,
            "AES",
            "GCM",
            32,
            "sha384",
            "ECDHE",
            "ECDSA",
        ),
        CipherSuite(
            TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            0x0303,
            "AES",
            "GCM",
            16,
            "sha256",
            "ECDHE",
            "ECDSA",
        ),
        CipherSuite(
            TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            0x0303,
            "AES",
            "GCM",
            32,
            "sha384",
            "ECDHE",
            "RSA",
        ),
        CipherSuite(
            TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            0x0303,
            "AES",
            "GCM",
            16,
            "sha256",
            "ECDHE",
            "RSA",
        ),
        CipherSuite(
            TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            0x0303,
            "CHACHA20",
            "POLY1305",
            32,
            "sha256",
            "ECDHE",
            "ECDSA",
        ),
        CipherSuite(
            TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            0x0303,
            "CHACHA20",
            "POLY1305",
            32,
            "sha256",
            "ECDHE",
            "RSA",
        ),
    )
}
SUITES.update(TLS12_SUITES)

# Windows 11 order for TLS 1.2 AEAD ECDHE suites; ChaCha20 last (see README).
DEFAULT_TLS12_SUITES: tuple[int, ...] = tuple(TLS12_SUITES)

# Windows 11 order for TLS 1.3 (AES-256 first); ChaCha20 last (see README).
DEFAULT_TLS13_SUITES: tuple[int, ...] = (
    TLS_AES_256_GCM_SHA384,
    TLS_AES_128_GCM_SHA256,
    TLS_CHACHA20_POLY1305_SHA256,
)
