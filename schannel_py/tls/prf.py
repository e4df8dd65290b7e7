"""TLS 1.2 pseudo-random function and the secrets it derives (RFC 5246 section 5, RFC 7627)."""

from __future__ import annotations

from .mac import HmacKey


def p_hash(hash_name: str, secret: bytes, seed: bytes, length: int) -> bytes:
    """RFC 5246 P_hash (one key for every HMAC: its padded forms are hashed once)."""
    mac = HmacKey(secret, hash_name).digest
    out = bytearray()
    a = seed
    while len(out) < length:
        a = mac(a)
        out += mac(a + seed)
    return bytes(out[:length])


def prf(hash_name: str, secret: bytes, label: bytes, seed: bytes, length: int) -> bytes:
    """PRF(secret, label, seed) with the suite's hash."""
    return p_hash(hash_name, secret, label + seed, length)


def master_secret(
    hash_name: str,
    premaster: bytes,
    client_random: bytes,
    server_random: bytes,
    session_hash: bytes | None,
) -> bytes:
    """The 48-byte master secret; with a session hash, the extended master secret of RFC 7627."""
    if session_hash is not None:
        return prf(hash_name, premaster, b"extended master secret", session_hash, 48)
    return prf(hash_name, premaster, b"master secret", client_random + server_random, 48)


def key_block(
    hash_name: str,
    master: bytes,
    client_random: bytes,
    server_random: bytes,
    key_len: int,
    iv_len: int,
) -> tuple[bytes, bytes, bytes, bytes]:
    """(client key, server key, client IV, server IV) for an AEAD suite."""
    block = prf(
        hash_name, master, b"key expansion", server_random + client_random, 2 * (key_len + iv_len)
    )
    ck, sk = block[:key_len], block[key_len : 2 * key_len]
    civ = block[2 * key_len : 2 * key_len + iv_len]
    siv = block[2 * key_len + iv_len :]
    return ck, sk, civ, siv


def finished_verify_data(
    hash_name: str, master: bytes, label: bytes, handshake_hash: bytes
) -> bytes:
    """The 12-byte Finished verify_data."""
    return prf(hash_name, master, label, handshake_hash, 12)
