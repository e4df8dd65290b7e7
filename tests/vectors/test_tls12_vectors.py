"""TLS 1.2 key derivation checked against independent data.

- The Illustrated TLS 1.2 trace (x25519, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, no
  extended master secret): ECDHE premaster, master secret (against its NSS key
  log), both Finished verify_data values, and the ServerKeyExchange signature.
- OpenSSL (through Python's ssl with a key log file) for the extended master
  secret and the AEAD record layer: our master secret must equal the one
  OpenSSL logs for the same connection.
"""

from __future__ import annotations

import hashlib
import os
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import x25519

from schannel_py.tls import prf
from schannel_py.tls.client import ClientConfig, TLSClient
from schannel_py.tls.codec import Reader
from schannel_py.tls.record import frame
from schannel_py.tls.sigalgs import DEFAULT_SCHEMES, verify
from tests.support import peers
from tests.support.vectors import illustrated12


def _handshake_body(record: bytes) -> bytes:
    assert record[0] == 22 and frame(record) == len(record)
    return record[5:]


def test_illustrated_tls12_master_secret_and_finished() -> None:
    t = illustrated12()
    ch, sh = _handshake_body(t.captures["clienthello"]), _handshake_body(t.captures["serverhello"])
    cert, ske = (
        _handshake_body(t.captures["servercert"]),
        _handshake_body(t.captures["serverkeyexchange"]),
    )
    shd, cke = (
        _handshake_body(t.captures["serverhellodone"]),
        _handshake_body(t.captures["clientkeyexchange"]),
    )
    client_random, server_random = ch[6:38], sh[6:38]
    assert client_random == bytes(range(32))

    # ECDHE premaster: client private key with the server's share from ServerKeyExchange.
    r = Reader(ske[4:])
    assert r.uint8() == 3 and r.uint16() == 0x001D
    server_pub = r.vector(1)
    assert server_pub == t.keys["server_ephemeral_public"]
    priv = x25519.X25519PrivateKey.from_private_bytes(t.keys["client_ephemeral_private"])
    premaster = priv.exchange(x25519.X25519PublicKey.from_public_bytes(server_pub))
    assert Reader(cke[4:]).vector(1) == t.keys["client_ephemeral_public"]

    master = prf.master_secret("sha256", premaster, client_random, server_random, None)
    assert master == t.keylog["CLIENT_RANDOM"][client_random]

    transcript = ch + sh + cert + ske + shd + cke
    client_vd = prf.finished_verify_data(
        "sha256", master, b"client finished", hashlib.sha256(transcript).digest()
    )
    client_fin = t.captures["clientfinishedplain"]
    assert client_fin[:4] == b"\x14\x00\x00\x0c" and client_vd == client_fin[4:16]
    transcript += client_fin[:16]
    server_vd = prf.finished_verify_data(
        "sha256", master, b"server finished", hashlib.sha256(transcript).digest()
    )
    assert server_vd == t.captures["serverfinishedplain"][4:16]

    # The ServerKeyExchange signature verifies with our TLS 1.2 signature check.
    params_len = 1 + 2 + 1 + len(server_pub)
    scheme = int.from_bytes(ske[4 + params_len : 4 + params_len + 2], "big")
    signature = Reader(ske[4 + params_len + 2 :]).vector(2)
    leaf = x509.load_der_x509_certificate(t.server_crt_der)
    signed = client_random + server_random + ske[4 : 4 + params_len]
    verify(scheme, leaf, signed, signature, DEFAULT_SCHEMES, allow_pkcs1=True, tls12=True)


def test_prf_key_block_is_deterministic_and_sized() -> None:
    ck, sk, civ, siv = prf.key_block("sha384", b"m" * 48, b"c" * 32, b"s" * 32, 32, 4)
    assert (len(ck), len(sk), len(civ), len(siv)) == (32, 32, 4, 4)
    assert ck != sk and civ != siv


@pytest.mark.parametrize(
    ("ciphers", "ems"),
    [
        ("ECDHE-ECDSA-AES128-GCM-SHA256", True),
        ("ECDHE-ECDSA-AES256-GCM-SHA384", True),
        ("ECDHE-ECDSA-CHACHA20-POLY1305", True),
        ("ECDHE-ECDSA-AES128-GCM-SHA256", False),
    ],
)
def test_master_secret_matches_openssl_key_log(
    pki: peers.ServerPki, tmp_path: Path, ciphers: str, ems: bool
) -> None:
    keylog = tmp_path / "keys.txt"
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(pki.ecdsa.fullchain, pki.ecdsa.key)
    ctx.set_ciphers(ciphers)
    ctx.keylog_filename = str(keylog)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    server = ctx.wrap_bio(inc, out, server_side=True)
    client = TLSClient(ClientConfig(server_name="localhost", versions=(0x0303,)), os.urandom)
    if not ems:
        # Drop extended_master_secret from the offer: the server then uses the RFC 5246 master secret.
        assert client.config.customize_client_hello is None
        client.config.customize_client_hello = lambda ch: type(ch)(
            ch.random, ch.session_id, ch.cipher_suites, [e for e in ch.extensions if e[0] != 23]
        )
    client.start()
    pending = b""
    for _ in range(6):
        inc.write(client.data_to_send())
        try:
            server.do_handshake()
        except ssl.SSLWantReadError:
            pass
        pending += out.read()
        while pending and frame(pending) > 0:
            n = frame(pending)
            client.receive_record(pending[:n])
            pending = pending[n:]
        if client.handshake_complete:
            break
    inc.write(client.data_to_send())
    server.write(b"ok")
    client.send_application_data(b"hello")
    inc.write(client.data_to_send())
    assert server.read(100) == b"hello"
    assert client.extended_master_secret is ems
    line = next(x for x in keylog.read_text().splitlines() if x.startswith("CLIENT_RANDOM "))
    _, random_hex, secret_hex = line.split()
    assert bytes.fromhex(random_hex) == client.client_random
    assert client.secrets["master_secret"] == bytes.fromhex(secret_hex)
