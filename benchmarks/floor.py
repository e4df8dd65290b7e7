"""The crypto floor of each handshake: only the primitives the client cannot avoid.

Each function runs once what one client handshake must compute, with the sizes
seen in a real handshake (:class:`Shape`), using ``cryptography`` and the
stdlib directly.  Components are timed separately and summed.
"""

from __future__ import annotations

import datetime
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.x509.verification import PolicyBuilder, Store

from schannel_py.tls import keyschedule as ks
from schannel_py.tls import prf

from .pki import Pki

Step = Callable[[], object]


@dataclass
class Shape:
    """What one handshake looked like on the wire (from a probe connection)."""

    hash_name: str
    key_len: int
    chacha: bool
    client_hello: int  # handshake bytes
    server_hello: int
    #: TLS 1.3: plaintext length (inner content type included) of each encrypted server record.
    server_encrypted: list[int] = field(default_factory=list)
    client_finished: int = 0  # plaintext length of the client's encrypted Finished record
    certificate_msg: int = 0  # TLS 1.2: Certificate / ServerKeyExchange message sizes
    ske_msg: int = 0


def _aead(chacha: bool, key: bytes) -> AESGCM | ChaCha20Poly1305:
    return ChaCha20Poly1305(key) if chacha else AESGCM(key)


def _x25519_step() -> Step:
    peer = X25519PrivateKey.generate().public_key().public_bytes_raw()

    def run() -> bytes:
        priv = X25519PrivateKey.generate()
        priv.public_key().public_bytes_raw()
        return priv.exchange(X25519PublicKey.from_public_bytes(peer))

    return run


def _chain_step(pki: Pki) -> Step:
    """Parse the server's two certificates and validate the path to the root, name included."""
    store = Store([pki.root])
    leaf_der, inter_der = pki.chain_der

    def run() -> object:
        leaf = x509.load_der_x509_certificate(leaf_der)
        inter = x509.load_der_x509_certificate(inter_der)
        verifier = (
            PolicyBuilder()
            .store(store)
            .time(datetime.datetime.now(datetime.timezone.utc))
            .build_server_verifier(x509.DNSName("localhost"))
        )
        return verifier.verify(leaf, [inter])

    return run


def _signature_step(pki: Pki, content: bytes) -> Step:
    """ECDSA P-256 / SHA-256 verification with the leaf's key (CertificateVerify or SKE)."""
    sig = pki.leaf_key.sign(content, ec.ECDSA(hashes.SHA256()))
    leaf_der = pki.chain_der[0]
    leaf = x509.load_der_x509_certificate(leaf_der)

    def run() -> None:
        key = leaf.public_key()
        assert isinstance(key, ec.EllipticCurvePublicKey)
        key.verify(sig, content, ec.ECDSA(hashes.SHA256()))

    return run


def _aead_step(shape: Shape) -> Step:
    """TLS 1.3: open the server's encrypted records, seal the client Finished, set up app keys."""
    key_s, key_c = os.urandom(shape.key_len), os.urandom(shape.key_len)
    iv = os.urandom(12)
    sealed: list[tuple[bytes, bytes, bytes]] = []
    enc = _aead(shape.chacha, key_s)
    for seq, n in enumerate(shape.server_encrypted):
        hdr = bytes([23, 3, 3]) + (n + 16).to_bytes(2, "big")
        nonce = (int.from_bytes(iv, "big") ^ seq).to_bytes(12, "big")
        sealed.append((nonce, enc.encrypt(nonce, os.urandom(n), hdr), hdr))
    fin = os.urandom(shape.client_finished)
    fin_hdr = bytes([23, 3, 3]) + (len(fin) + 16).to_bytes(2, "big")
    keys = [os.urandom(shape.key_len) for _ in range(2)]

    def run() -> None:
        server = _aead(shape.chacha, key_s)
        for nonce, ct, hdr in sealed:
            server.decrypt(nonce, ct, hdr)
        _aead(shape.chacha, key_c).encrypt(iv, fin, fin_hdr)
        for k in keys:  # application traffic keys
            _aead(shape.chacha, k)

    return run


def _transcript(shape: Shape, parts: list[int], points: int) -> Callable[[], list[bytes]]:
    """Hash ``parts`` (message sizes) incrementally, taking ``points`` intermediate digests."""
    blobs = [os.urandom(n) for n in parts]

    def run() -> list[bytes]:
        h = hashlib.new(shape.hash_name)
        out = []
        for i, b in enumerate(blobs):
            h.update(b)
            if i >= len(blobs) - points:
                out.append(h.copy().digest())
        return out

    return run


def _schedule13_step(shape: Shape, psk: bytes | None) -> Step:
    hn = shape.hash_name
    enc_sizes = [n - 1 for n in shape.server_encrypted]  # minus the inner content type
    parts = [shape.client_hello, shape.server_hello, *enc_sizes, shape.client_finished - 1]
    transcript = _transcript(shape, parts, 4)
    shared = os.urandom(32)
    ch_partial = os.urandom(max(shape.client_hello - 35, 1))  # CH up to the binders

    def run() -> None:
        digests = transcript()
        sched = ks.KeySchedule13(hn, psk)
        if psk is not None:
            binder_key = sched.binder_key()
            ks.finished_verify_data(hn, binder_key, hashlib.new(hn, ch_partial).digest())
        sched.enter_handshake(shared)
        c, s = sched.handshake_traffic(digests[0])
        ks.traffic_keys(hn, s, shape.key_len)
        ks.traffic_keys(hn, c, shape.key_len)
        ks.finished_verify_data(hn, s, digests[1])
        sched.enter_master()
        ca, sa = sched.application_traffic(digests[2])
        ks.traffic_keys(hn, sa, shape.key_len)
        ks.traffic_keys(hn, ca, shape.key_len)
        ks.finished_verify_data(hn, c, digests[2])
        sched.resumption_master(digests[3])

    return run


def full13(pki: Pki, shape: Shape) -> dict[str, Step]:
    content = (
        b" " * 64
        + b"TLS 1.3, server CertificateVerify\x00"
        + os.urandom(hashlib.new(shape.hash_name).digest_size)
    )
    return {
        "x25519 keygen+exchange": _x25519_step(),
        "ECDSA P-256 CertificateVerify": _signature_step(pki, content),
        "chain parse+validation": _chain_step(pki),
        "key schedule + transcript": _schedule13_step(shape, None),
        "AEAD of handshake records": _aead_step(shape),
    }


def resumed13(shape: Shape) -> dict[str, Step]:
    psk = os.urandom(hashlib.new(shape.hash_name).digest_size)
    return {
        "x25519 keygen+exchange": _x25519_step(),
        "key schedule + binder + transcript": _schedule13_step(shape, psk),
        "AEAD of handshake records": _aead_step(shape),
    }


def _prf12_step(shape: Shape) -> Step:
    hn = shape.hash_name
    parts = [
        shape.client_hello,
        shape.server_hello,
        shape.certificate_msg,
        shape.ske_msg,
        4,
        37,
        16,
    ]
    transcript = _transcript(shape, parts, 3)
    premaster, cr, sr = os.urandom(32), os.urandom(32), os.urandom(32)

    def run() -> None:
        session_hash, client_hash, server_hash = transcript()
        master = prf.master_secret(hn, premaster, cr, sr, session_hash)
        prf.key_block(hn, master, cr, sr, shape.key_len, 4)
        prf.finished_verify_data(hn, master, b"client finished", client_hash)
        prf.finished_verify_data(hn, master, b"server finished", server_hash)

    return run


def _aead12_step(shape: Shape) -> Step:
    kc, ks_ = os.urandom(shape.key_len), os.urandom(shape.key_len)
    salt, explicit = os.urandom(4), os.urandom(8)
    fin = os.urandom(16)
    aad = os.urandom(13)
    sealed = _aead(shape.chacha, ks_).encrypt(salt + explicit, fin, aad)

    def run() -> None:
        _aead(shape.chacha, kc).encrypt(salt + explicit, fin, aad)
        _aead(shape.chacha, ks_).decrypt(salt + explicit, sealed, aad)

    return run


def full12(pki: Pki, shape: Shape) -> dict[str, Step]:
    content = os.urandom(64) + bytes([3, 0, 29, 32]) + os.urandom(32)
    return {
        "x25519 keygen+exchange": _x25519_step(),
        "ECDSA P-256 ServerKeyExchange": _signature_step(pki, content),
        "chain parse+validation": _chain_step(pki),
        "PRF (EMS, key block, Finished) + transcript": _prf12_step(shape),
        "AEAD of Finished records": _aead12_step(shape),
    }
