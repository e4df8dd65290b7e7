"""``tls/mac.py``: the key schedules' HMAC gives HMAC's bytes for every key and message."""

from __future__ import annotations

import hmac
import random

import pytest

from schannel_py.tls.mac import HmacKey, hmac_digest

# RFC 4231 test cases 1 (a 20-byte key) and 6 (a 131-byte key: longer than either
# hash's block, so it is hashed first).
RFC4231 = [
    (
        bytes([0x0B]) * 20,
        b"Hi There",
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
        "faea9ea9076ede7f4af152e8b2fa9cb6",
    ),
    (
        bytes([0xAA]) * 131,
        b"Test Using Larger Than Block-Size Key - Hash Key First",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
        "0c2ef6ab4030fe8296248df163f44952",
    ),
]


@pytest.mark.parametrize("key, msg, sha256, sha384", RFC4231)
def test_rfc4231_vectors(key: bytes, msg: bytes, sha256: str, sha384: str) -> None:
    for name, expected in (("sha256", sha256), ("sha384", sha384)):
        assert hmac_digest(key, msg, name).hex() == expected
        assert HmacKey(key, name).digest(msg).hex() == expected


@pytest.mark.parametrize("name", ["sha256", "sha384", "sha1", "sha512"])
def test_same_bytes_as_the_standard_library(name: str) -> None:
    """Keys around each block size (64 and 128 bytes) and messages of many lengths;
    one HmacKey used for several messages gives each message's own MAC."""
    rng = random.Random(name)
    for key_len in (0, 1, 31, 32, 48, 63, 64, 65, 127, 128, 129, 300):
        key = rng.randbytes(key_len)
        mac = HmacKey(key, name)
        for msg_len in (0, 1, 55, 56, 64, 200):
            msg = rng.randbytes(msg_len)
            expected = hmac.digest(key, msg, name)
            assert hmac_digest(key, msg, name) == expected
            assert mac.digest(msg) == expected


def test_bytearray_and_memoryview_inputs() -> None:
    key, msg = bytearray(b"k" * 40), memoryview(b"message")
    assert hmac_digest(bytes(key), bytes(msg), "sha256") == hmac.digest(key, msg, "sha256")
    assert hmac_digest(key, msg, "sha256") == hmac.digest(key, msg, "sha256")  # type: ignore[arg-type]
