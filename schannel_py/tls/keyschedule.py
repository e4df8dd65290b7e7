"""TLS 1.3 key schedule (RFC 8446 section 7) on HMAC from :mod:`.mac`.

Each derivation is a small pure function; :class:`KeySchedule13` strings them
together and records every secret it derives (label -> value) so that key logs
and teaching traces can show them.
"""

from __future__ import annotations

import functools
import hashlib

from .mac import hmac_digest

_DIGEST_SIZES = {"sha256": 32, "sha384": 48, "sha512": 64, "sha1": 20}


def _digest_size(hash_name: str) -> int:
    size = _DIGEST_SIZES.get(hash_name)
    return size if size is not None else hashlib.new(hash_name).digest_size


def hkdf_extract(hash_name: str, salt: bytes, ikm: bytes) -> bytes:
    """RFC 5869 HKDF-Extract."""
    if not salt:
        salt = bytes(_digest_size(hash_name))
    return hmac_digest(salt, ikm, hash_name)


def hkdf_expand(hash_name: str, prk: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 HKDF-Expand."""
    if length <= _digest_size(hash_name):  # one block: T(1) = HMAC(PRK, info || 0x01)
        return hmac_digest(prk, info + b"\x01", hash_name)[:length]
    out = b""
    block = b""
    counter = 1
    while len(out) < length:
        block = hmac_digest(prk, block + info + bytes([counter]), hash_name)
        out += block
        counter += 1
    return out[:length]


def hkdf_expand_label(
    hash_name: str, secret: bytes, label: bytes, context: bytes, length: int
) -> bytes:
    """RFC 8446 HKDF-Expand-Label with the "tls13 " prefix."""
    prefix = _LABEL_PREFIXES.get((label, length))
    if prefix is None:
        full = b"tls13 " + label
        prefix = length.to_bytes(2, "big") + bytes([len(full)]) + full
        if len(_LABEL_PREFIXES) < 256:
            _LABEL_PREFIXES[(label, length)] = prefix
    info = prefix + _LENGTH_BYTES[len(context)] + context
    size = _DIGEST_SIZES.get(hash_name)
    if size is not None and length <= size:  # one block: T(1) = HMAC(PRK, info || 0x01)
        out = hmac_digest(secret, info + b"\x01", hash_name)
        return out if length == size else out[:length]
    return hkdf_expand(hash_name, secret, info, length)


#: One-byte length prefixes (a context is at most 255 bytes).
_LENGTH_BYTES = [bytes([n]) for n in range(256)]


#: HkdfLabel.length || label (with "tls13 "), by (label, length): the fixed part of info.
_LABEL_PREFIXES: dict[tuple[bytes, int], bytes] = {}


def derive_secret(hash_name: str, secret: bytes, label: bytes, transcript_hash: bytes) -> bytes:
    """RFC 8446 Derive-Secret, given the transcript hash already computed."""
    return hkdf_expand_label(hash_name, secret, label, transcript_hash, len(transcript_hash))


def traffic_keys(
    hash_name: str, secret: bytes, key_len: int, iv_len: int = 12
) -> tuple[bytes, bytes]:
    """Record protection key and IV from a traffic secret."""
    return (
        hkdf_expand_label(hash_name, secret, b"key", b"", key_len),
        hkdf_expand_label(hash_name, secret, b"iv", b"", iv_len),
    )


def next_traffic_secret(hash_name: str, secret: bytes) -> bytes:
    """The KeyUpdate successor of a traffic secret."""
    return hkdf_expand_label(hash_name, secret, b"traffic upd", b"", len(secret))


def finished_verify_data(hash_name: str, base_secret: bytes, transcript_hash: bytes) -> bytes:
    """The Finished MAC over ``transcript_hash`` keyed from ``base_secret``."""
    key = hkdf_expand_label(hash_name, base_secret, b"finished", b"", len(transcript_hash))
    return hmac_digest(key, transcript_hash, hash_name)


@functools.cache
def _empty_digest(hash_name: str) -> bytes:
    """Hash of the empty string (Derive-Secret's context for "derived" and binders)."""
    return hashlib.new(hash_name).digest()


@functools.cache
def _no_psk_early(hash_name: str) -> tuple[bytes, bytes]:
    """(early secret, its "derived" secret) of a handshake without a PSK: both
    depend on the hash alone (RFC 8446 section 7.1, PSK = zeros)."""
    early = hkdf_extract(hash_name, b"", bytes(_digest_size(hash_name)))
    return early, derive_secret(hash_name, early, b"derived", _empty_digest(hash_name))


class KeySchedule13:
    """The secrets of one TLS 1.3 connection, derived stage by stage."""

    def __init__(self, hash_name: str, psk: bytes | None = None) -> None:
        self.hash_name = hash_name
        self.hash_len = _digest_size(hash_name)
        #: Derive-Secret(early_secret, "derived", ""), known in advance without a PSK.
        self._early_derived: bytes | None = None
        if psk is None:
            self.early_secret, self._early_derived = _no_psk_early(hash_name)
        else:
            self.early_secret = hkdf_extract(hash_name, b"", psk)
        self.secrets: dict[str, bytes] = {"early_secret": self.early_secret}
        self.handshake_secret = b""
        self.master_secret = b""

    def _empty_hash(self) -> bytes:
        return _empty_digest(self.hash_name)

    def binder_key(self, external: bool = False) -> bytes:
        label = b"ext binder" if external else b"res binder"
        return derive_secret(self.hash_name, self.early_secret, label, self._empty_hash())

    def enter_handshake(self, shared_secret: bytes) -> None:
        derived = self._early_derived or derive_secret(
            self.hash_name, self.early_secret, b"derived", self._empty_hash()
        )
        self.handshake_secret = hkdf_extract(self.hash_name, derived, shared_secret)
        # The (EC)DHE output too, so that an observer can show this Extract's input.
        self.secrets["ecdhe_shared_secret"] = shared_secret
        self.secrets["handshake_secret"] = self.handshake_secret

    def handshake_traffic(self, transcript_hash: bytes) -> tuple[bytes, bytes]:
        """(client, server) handshake traffic secrets over CH..SH."""
        c = derive_secret(self.hash_name, self.handshake_secret, b"c hs traffic", transcript_hash)
        s = derive_secret(self.hash_name, self.handshake_secret, b"s hs traffic", transcript_hash)
        self.secrets["client_handshake_traffic_secret"] = c
        self.secrets["server_handshake_traffic_secret"] = s
        return c, s

    def enter_master(self) -> None:
        derived = derive_secret(
            self.hash_name, self.handshake_secret, b"derived", self._empty_hash()
        )
        self.master_secret = hkdf_extract(self.hash_name, derived, bytes(self.hash_len))
        self.secrets["master_secret"] = self.master_secret

    def application_traffic(self, transcript_hash: bytes) -> tuple[bytes, bytes]:
        """(client, server) application traffic secrets over CH..server Finished."""
        c = derive_secret(self.hash_name, self.master_secret, b"c ap traffic", transcript_hash)
        s = derive_secret(self.hash_name, self.master_secret, b"s ap traffic", transcript_hash)
        e = derive_secret(self.hash_name, self.master_secret, b"exp master", transcript_hash)
        self.secrets["client_application_traffic_secret_0"] = c
        self.secrets["server_application_traffic_secret_0"] = s
        self.secrets["exporter_master_secret"] = e
        return c, s

    def resumption_master(self, transcript_hash: bytes) -> bytes:
        r = derive_secret(self.hash_name, self.master_secret, b"res master", transcript_hash)
        self.secrets["resumption_master_secret"] = r
        return r

    def exporter(self, label: bytes, context: bytes, length: int) -> bytes:
        """RFC 8446 section 7.5 TLS-Exporter."""
        h = self.hash_name
        secret = derive_secret(h, self.secrets["exporter_master_secret"], label, self._empty_hash())
        return hkdf_expand_label(h, secret, b"exporter", hashlib.new(h, context).digest(), length)


def resumption_psk(hash_name: str, resumption_master_secret: bytes, ticket_nonce: bytes) -> bytes:
    """The PSK a NewSessionTicket stands for."""
    return hkdf_expand_label(
        hash_name,
        resumption_master_secret,
        b"resumption",
        ticket_nonce,
        len(resumption_master_secret),
    )
