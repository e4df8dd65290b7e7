"""Structural sanity checks on the converted vectors in vectors/ (not on the library)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa, x25519
from cryptography.hazmat.primitives.serialization import Encoding

from tests.support.vectors import (
    RFC8448_SECTIONS,
    IllustratedTrace,
    illustrated12,
    illustrated13,
    load_json,
    rfc8448,
    rfc8448_bytes,
    rfc8448_pem,
    x509_limbo,
)


def split_records(data: bytes) -> list[bytes]:
    """Split concatenated TLS records, asserting that every header is well-formed."""
    records = []
    off = 0
    while off < len(data):
        assert len(data) - off >= 5, "truncated record header"
        ctype, version = data[off], data[off + 1 : off + 3]
        assert ctype in (20, 21, 22, 23), f"content type {ctype}"
        assert version in (b"\x03\x01", b"\x03\x03"), version.hex()
        length = int.from_bytes(data[off + 3 : off + 5], "big")
        assert off + 5 + length <= len(data), "record length exceeds the data"
        records.append(data[off : off + 5 + length])
        off += 5 + length
    return records


# Fields holding more than one record (all others must be exactly one record).
MULTI_RECORD = {
    ("Resumed_0RTT_Handshake", "Record_ClientFinished"): [23, 23],
    ("Middlebox_Compatibility_Mode", "Record_ServerHandshakeMessages"): [20, 23],
    ("Middlebox_Compatibility_Mode", "Record_ClientFinished"): [20, 23],
}


@pytest.mark.parametrize("section", RFC8448_SECTIONS)
def test_rfc8448_records_have_valid_headers(section: str) -> None:
    sec = rfc8448(section)
    record_fields = [k for k in sec if k.startswith("Record_")]
    assert "Record_ClientHello_1" in record_fields
    for field in record_fields:
        value = sec[field]
        assert isinstance(value, bytes), field
        records = split_records(value)
        expected = MULTI_RECORD.get((section, field))
        if expected is None:
            assert len(records) == 1, f"{field}: {len(records)} records"
            assert int.from_bytes(value[3:5], "big") == len(value) - 5
        else:
            assert [r[0] for r in records] == expected, field
            for i, rec in enumerate(records, 1):
                assert sec[f"{field}_Part{i}"] == rec


@pytest.mark.parametrize("section", RFC8448_SECTIONS)
def test_rfc8448_derived_fields(section: str) -> None:
    sec = rfc8448(section)
    assert isinstance(sec["CurrentTimestamp"], int)
    ch = rfc8448_bytes(section, "Record_ClientHello_1")
    msg = rfc8448_bytes(section, "Message_ClientHello_1")
    assert ch[:3] == b"\x16\x03\x01" and ch[5:] == msg
    assert msg[0] == 1 and int.from_bytes(msg[1:4], "big") == len(msg) - 4
    assert (
        rfc8448_bytes(section, "Message_ServerHello")
        == rfc8448_bytes(section, "Record_ServerHello")[5:]
    )
    pool = rfc8448_bytes(section, "Client_RNG_Pool")
    assert rfc8448_bytes(section, "Client_Random") == pool[:32] == msg[6:38]
    priv = rfc8448_bytes(section, "Client_X25519_PrivateKey")
    pub = x25519.X25519PrivateKey.from_private_bytes(priv).public_key().public_bytes_raw()
    assert pub in msg  # the x25519 key_share of the ClientHello
    derived = load_json("rfc8448")["_derived"][section]
    assert set(derived) <= set(sec)


def test_rfc8448_certificates() -> None:
    der = rfc8448_bytes("Simple_1RTT_Handshake", "Server_Certificate_DER")
    key = x509.load_der_x509_certificate(der).public_key()
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 1024
    ecdsa = rfc8448_bytes("Client_Authentication_Handshake", "Server_Certificate_DER")
    pem = x509.load_pem_x509_certificate(rfc8448_pem("server_certificate_client_auth.pem").encode())
    assert pem.public_bytes(Encoding.DER) == ecdsa
    assert "PRIVATE KEY" in rfc8448_pem("server_key.pem")
    assert rfc8448_bytes("Middlebox_Compatibility_Mode", "Client_SessionId") in rfc8448_bytes(
        "Middlebox_Compatibility_Mode", "Message_ClientHello_1"
    )


def test_illustrated13_clienthello_and_keylog() -> None:
    t = illustrated13()
    ch = t.captures["clienthello"]
    assert ch[:3] == b"\x16\x03\x01"
    assert split_records(ch) == [ch]
    assert ch[5] == 1  # ClientHello
    client_random = ch[11:43]
    assert client_random == bytes(range(32))
    assert client_random.hex() == t.facts["client_random"]
    assert ch[43] == 32 and ch[44:76].hex() == t.facts["session_id"]
    (cr,) = t.keylog["CLIENT_HANDSHAKE_TRAFFIC_SECRET"]
    assert cr == client_random
    for entries in t.keylog.values():
        assert all(len(s) == 48 for s in entries.values())  # SHA-384 suite
    assert t.facts["sni"].encode() in ch
    assert t.keys["client_ephemeral_private"].hex() == t.facts["client_x25519_private"]
    assert t.keys["client_ephemeral_public"] in ch


@pytest.mark.parametrize("trace", [illustrated13, illustrated12], ids=["tls13", "tls12"])
def test_illustrated_x25519_keys_match(trace: Callable[[], IllustratedTrace]) -> None:
    t = trace()
    for side in ("client", "server"):
        priv = t.keys[f"{side}_ephemeral_private"]
        pub = t.keys[f"{side}_ephemeral_public"]
        assert len(priv) == len(pub) == 32
        derived = x25519.X25519PrivateKey.from_private_bytes(priv).public_key()
        assert derived.public_bytes_raw() == pub
    cert = x509.load_der_x509_certificate(t.server_crt_der)
    assert "example.ulfheim.net" in cert.subject.rfc4514_string()


def test_illustrated12_structure() -> None:
    t = illustrated12()
    assert t.ca_crt_der is not None
    ca = x509.load_der_x509_certificate(t.ca_crt_der)
    leaf = x509.load_der_x509_certificate(t.server_crt_der)
    assert leaf.issuer == ca.subject
    (cr, master) = next(iter(t.keylog["CLIENT_RANDOM"].items()))
    assert len(master) == 48
    assert t.captures["clienthello"][11:43] == cr
    for name, data in t.captures.items():
        if not name.endswith("plain"):
            assert len(split_records(data)) == 1, name


def test_x509_limbo_shape() -> None:
    limbo = x509_limbo()
    cases = limbo["testcases"]
    assert len(cases) == 208
    for case in cases:
        assert case["validation_kind"] in ("SERVER", "CLIENT")
        assert case["expected_result"] in ("SUCCESS", "FAILURE")
