#!/usr/bin/env python3
"""Regenerate the JSON test vectors in this folder from the external source data.

Developer tool only: it reads ``../shared/vectors-src`` (or the folder given as the
first argument) and rewrites ``rfc8448.json``, ``illustrated_tls13.json``,
``illustrated_tls12.json`` and ``x509-limbo.json`` next to this file.  The test suite
never runs this script and never reads the source folder; it only reads the JSON.

Every value is converted, not invented: hex is normalised (whitespace stripped,
lower-cased) and the few *derived* fields are pure slices of given data, each checked
against the data it came from before it is written (see ``_derived`` in
``rfc8448.json`` and ``README.md``).

Usage:  python vectors/convert.py [/path/to/vectors-src]
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, x25519

HERE = Path(__file__).resolve().parent
DEFAULT_SRC = HERE.parent.parent / "shared" / "vectors-src"

RFC8448_SECTIONS = {
    "Simple_1RTT_Handshake": "RFC 8448 section 3",
    "Resumed_0RTT_Handshake": "RFC 8448 section 4",
    "HelloRetryRequest_Handshake": "RFC 8448 section 5",
    "Client_Authentication_Handshake": "RFC 8448 section 6",
    "Middlebox_Compatibility_Mode": "RFC 8448 section 7",
}
#: Section 4 comes from this file, the RFC's values, instead of transcripts.vec.
SECTION4 = "Resumed_0RTT_Handshake"
SECTION4_FILE = "section4-rfc.vec"
RFC8448_SKIPPED = [
    "Externally_Provided_PSK_with_Ephemeral_Key",
    "RawPublicKey_With_Client_Authentication",
]
RFC8448_PEMS = [
    "server_key.pem",
    "server_certificate.pem",
    "server_certificate_client_auth.pem",
    "client_certificate.pem",
]

HEX_RE = re.compile(r"^[0-9a-fA-F]*$")


class ConversionError(Exception):
    pass


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise ConversionError(msg)


# --------------------------------------------------------------------------- TLS slicing


def split_records(data: bytes) -> list[bytes]:
    """Split concatenated TLS records; every header length must match exactly."""
    out = []
    off = 0
    while off < len(data):
        check(len(data) - off >= 5, "truncated record header")
        ctype, major = data[off], data[off + 1]
        check(
            ctype in (20, 21, 22, 23) and major == 3,
            f"bad record header {data[off : off + 5].hex()}",
        )
        length = int.from_bytes(data[off + 3 : off + 5], "big")
        check(off + 5 + length <= len(data), "record length exceeds data")
        out.append(data[off : off + 5 + length])
        off += 5 + length
    return out


def parse_hello(msg: bytes) -> dict[str, Any]:
    """Minimal ClientHello / ServerHello parser (handshake message incl. 4-byte header)."""
    check(msg[0] in (1, 2), "not a hello")
    check(int.from_bytes(msg[1:4], "big") == len(msg) - 4, "hello length mismatch")
    p = 4 + 2
    random = msg[p : p + 32]
    p += 32
    sid_len = msg[p]
    session_id = msg[p + 1 : p + 1 + sid_len]
    p += 1 + sid_len
    if msg[0] == 1:
        cs_len = int.from_bytes(msg[p : p + 2], "big")
        p += 2 + cs_len
        comp_len = msg[p]
        p += 1 + comp_len
    else:
        p += 2 + 1
    ext_len = int.from_bytes(msg[p : p + 2], "big")
    p += 2
    check(p + ext_len == len(msg), "extensions length mismatch")
    exts: dict[int, bytes] = {}
    while p < len(msg):
        etype = int.from_bytes(msg[p : p + 2], "big")
        elen = int.from_bytes(msg[p + 2 : p + 4], "big")
        exts[etype] = msg[p + 4 : p + 4 + elen]
        p += 4 + elen
    return {"type": msg[0], "random": random, "session_id": session_id, "extensions": exts}


def client_key_shares(hello: dict[str, Any]) -> dict[int, bytes]:
    data: bytes = hello["extensions"][51]
    total = int.from_bytes(data[:2], "big")
    check(total == len(data) - 2, "key_share length mismatch")
    p = 2
    shares = {}
    while p < len(data):
        group = int.from_bytes(data[p : p + 2], "big")
        klen = int.from_bytes(data[p + 2 : p + 4], "big")
        shares[group] = data[p + 4 : p + 4 + klen]
        p += 4 + klen
    return shares


def first_certificate(msg: bytes) -> bytes:
    """cert_data of the first CertificateEntry of a TLS 1.3 Certificate message."""
    check(msg[0] == 11, "not a Certificate message")
    check(int.from_bytes(msg[1:4], "big") == len(msg) - 4, "Certificate length mismatch")
    p = 4
    ctx_len = msg[p]
    p += 1 + ctx_len
    list_len = int.from_bytes(msg[p : p + 3], "big")
    p += 3
    check(p + list_len == len(msg), "certificate_list length mismatch")
    cert_len = int.from_bytes(msg[p : p + 3], "big")
    return msg[p + 3 : p + 3 + cert_len]


# --------------------------------------------------------------------------- RFC 8448


def parse_vec(text: str) -> dict[str, dict[str, str]]:
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        check(current is not None and "=" in line, f"line {lineno}: unexpected {line[:40]!r}")
        assert current is not None
        key, value = line.split("=", 1)
        key = key.strip()
        check(key not in current, f"line {lineno}: duplicate key {key}")
        current[key] = value
    return sections


def convert_value(key: str, value: str) -> int | str:
    if key == "CurrentTimestamp":
        return int(value.strip())
    compact = re.sub(r"\s+", "", value)
    check(bool(HEX_RE.match(compact)) and len(compact) % 2 == 0, f"{key}: not hex")
    return compact.lower()


def derive_rfc8448(name: str, sec: dict[str, Any]) -> dict[str, str]:
    """Add derived fields to sec (in place); return {field: how it was derived}."""
    derived: dict[str, str] = {}

    def b(key: str) -> bytes:
        return bytes.fromhex(sec[key])

    # Split every Record_* value into records (checks every header length).
    for key in [k for k in sec if k.startswith("Record_")]:
        recs = split_records(b(key))
        if len(recs) > 1:
            for i, rec in enumerate(recs, 1):
                field = f"{key}_Part{i}"
                sec[field] = rec.hex()
                derived[field] = (
                    f"record {i} of the {len(recs)} concatenated TLS records in {key} "
                    f"(content type {rec[0]}), split by the record length fields"
                )
            continue
        rec = recs[0]
        if rec[0] != 22:
            continue
        # Plaintext handshake record: its payload is the handshake message.
        msg_field = "Message_" + key[len("Record_") :]
        payload = rec[5:]
        check(int.from_bytes(payload[1:4], "big") == len(payload) - 4, f"{key}: one message")
        if msg_field in sec:
            check(sec[msg_field] == payload.hex(), f"{name}: {msg_field} != payload of {key}")
        else:
            sec[msg_field] = payload.hex()
            derived[msg_field] = f"{key} without its 5-byte record header (header length checked)"

    # Client_RNG_Pool = client random [+ session id (s.7)] + x25519 key [+ P-256 key (s.5)].
    pool = b("Client_RNG_Pool")
    ch1 = parse_hello(b("Message_ClientHello_1"))
    p = 0
    sec["Client_Random"] = pool[p : p + 32].hex()
    check(pool[p : p + 32] == ch1["random"], f"{name}: Client_Random != ClientHello random")
    derived["Client_Random"] = "Client_RNG_Pool[0:32]; equals the ClientHello random"
    p += 32
    if name == "Middlebox_Compatibility_Mode":
        sec["Client_SessionId"] = pool[p : p + 32].hex()
        check(pool[p : p + 32] == ch1["session_id"], f"{name}: session id mismatch")
        derived["Client_SessionId"] = (
            "Client_RNG_Pool[32:64]; equals the ClientHello legacy_session_id"
        )
        p += 32
    else:
        check(ch1["session_id"] == b"", f"{name}: unexpected session id")
    xpriv = pool[p : p + 32]
    xpub = x25519.X25519PrivateKey.from_private_bytes(xpriv).public_key().public_bytes_raw()
    check(client_key_shares(ch1).get(0x001D) == xpub, f"{name}: x25519 key share mismatch")
    sec["Client_X25519_PrivateKey"] = xpriv.hex()
    derived["Client_X25519_PrivateKey"] = (
        f"Client_RNG_Pool[{p}:{p + 32}]; its public key equals the x25519 key_share "
        "of ClientHello_1 (checked with cryptography)"
    )
    p += 32
    if name == "HelloRetryRequest_Handshake":
        ch2 = parse_hello(b("Message_ClientHello_2"))
        check(ch2["random"] == ch1["random"], "HRR: ClientHello_2 random differs")
        ppriv = pool[p : p + 32]
        p256 = ec.derive_private_key(int.from_bytes(ppriv, "big"), ec.SECP256R1())
        ppub = p256.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        check(client_key_shares(ch2).get(0x0017) == ppub, "HRR: P-256 key share mismatch")
        sec["Client_P256_PrivateKey"] = ppriv.hex()
        derived["Client_P256_PrivateKey"] = (
            f"Client_RNG_Pool[{p}:{p + 32}] (big-endian scalar); its public key equals the "
            "secp256r1 key_share of ClientHello_2 (checked with cryptography)"
        )
        p += 32
    check(p == len(pool), f"{name}: {len(pool) - p} unexplained bytes in Client_RNG_Pool")

    if "Message_Server_Certificate" in sec:
        der = first_certificate(b("Message_Server_Certificate"))
        x509.load_der_x509_certificate(der)
        sec["Server_Certificate_DER"] = der.hex()
        derived["Server_Certificate_DER"] = (
            "cert_data of the first CertificateEntry of Message_Server_Certificate"
        )
    return derived


def convert_rfc8448(src: Path) -> dict[str, Any]:
    parsed = parse_vec((src / "rfc8448" / "transcripts.vec").read_text())
    check(
        sorted(parsed) == sorted([*RFC8448_SECTIONS, *RFC8448_SKIPPED]),
        f"unexpected sections {sorted(parsed)}",
    )
    # Section 4 from the RFC's own bytes: Botan's section was regenerated for its
    # server's EncryptedExtensions and no longer is one consistent handshake
    # (rfc8448/SECTION4.md in the source folder).
    section4 = parse_vec((src / "rfc8448" / SECTION4_FILE).read_text())
    check(list(section4) == [SECTION4], f"{SECTION4_FILE}: sections {sorted(section4)}")
    botan4 = parsed[SECTION4]
    for key in ("Message_EncryptedExtensions", "Record_ServerHandshakeMessages"):
        check(convert_value(key, section4[SECTION4][key]) != convert_value(key, botan4[key]), key)
    parsed[SECTION4] = section4[SECTION4]
    pems = {n: (src / "rfc8448" / n).read_text() for n in RFC8448_PEMS}
    out: dict[str, Any] = {
        "_source": (
            "Botan TLS test data (src/tests/data/tls_13_rfc8448/transcripts.vec and PEM "
            "files), BSD-2-Clause; the values are those of RFC 8448 'Example Handshake "
            "Traces for TLS 1.3'. Section 4 (Resumed_0RTT_Handshake) is the RFC's own "
            "text parsed into the same format (section4-rfc.vec). Converted by "
            "vectors/convert.py."
        ),
        "_licence": "BSD-2-Clause (Botan); values from RFC 8448 (IETF Trust)",
        "_sections": RFC8448_SECTIONS,
        "_notes": [
            "Hex values are lower-case with all whitespace removed (the source has a stray "
            "space inside Middlebox_Compatibility_Mode/Message_Server_CertificateVerify and "
            "leading spaces elsewhere). CurrentTimestamp is an int (Unix time in ms).",
            "Client_RNG_Pool order: client random (32), then (s.7 Middlebox only) the 32-byte "
            "legacy session id, then the x25519 private key (32), then (s.5 HRR only) the "
            "P-256 private key (32). Split into Client_* fields, see _derived.",
            "Server_RNG_Pool is kept as given; its layout is not documented by the source.",
            "Resumed_0RTT_Handshake/Record_ClientFinished contains two records: the encrypted "
            "EndOfEarlyData, then the encrypted client Finished (split into _Part1/_Part2). "
            "In Middlebox_Compatibility_Mode, Record_ServerHandshakeMessages and "
            "Record_ClientFinished each start with a ChangeCipherSpec record.",
            "The server key (server_key.pem) is RSA-1024 and the server certificate has no "
            "SAN; the certificates expired 2026-07-30: replay these traces with certificate "
            "validation off or pinned in time.",
            "_pem['server_certificate.pem'] has 2 trailing bytes after the certificate: use "
            "Server_Certificate_DER (sliced from the Certificate message) instead.",
            "Client_Authentication_Handshake: the server certificate is ECDSA P-256 "
            "(server_certificate_client_auth.pem); the client certificate is "
            "client_certificate.pem. The RFC never gives the client's private key, so the "
            "client CertificateVerify signature (Client_MessageSignature) has to be injected.",
            "Skipped Botan-only sections (not from RFC 8448): "
            + ", ".join(RFC8448_SKIPPED)
            + "; their raw-public-key PEM files are not copied either.",
        ],
        "_pem": pems,
        "_derived": {},
    }
    for name in RFC8448_SECTIONS:
        sec: dict[str, Any] = {k: convert_value(k, v) for k, v in parsed[name].items()}
        out["_derived"][name] = derive_rfc8448(name, sec)
        out[name] = sec

    # Cross-check the PEM certificates against the traces.
    def pem_der(name: str) -> bytes:
        body = "".join(ln for ln in pems[name].splitlines() if ln and not ln.startswith("-----"))
        return base64.b64decode(body)

    rsa_der = bytes.fromhex(out["Simple_1RTT_Handshake"]["Server_Certificate_DER"])
    check(pem_der("server_certificate.pem")[: len(rsa_der)] == rsa_der, "RSA cert mismatch")
    ec_der = bytes.fromhex(out["Client_Authentication_Handshake"]["Server_Certificate_DER"])
    check(pem_der("server_certificate_client_auth.pem") == ec_der, "ECDSA cert mismatch")
    for sec_name in ("HelloRetryRequest_Handshake", "Middlebox_Compatibility_Mode"):
        check(bytes.fromhex(out[sec_name]["Server_Certificate_DER"]) == rsa_der, sec_name)
    x509.load_pem_x509_certificate(pems["client_certificate.pem"].encode())
    serialization.load_pem_private_key(pems["server_key.pem"].encode(), None)
    return out


# --------------------------------------------------------------------------- Illustrated


def raw_x25519(pem_private: bytes, pem_public: bytes) -> tuple[bytes, bytes]:
    priv = serialization.load_pem_private_key(pem_private, None)
    pub = serialization.load_pem_public_key(pem_public)
    check(isinstance(priv, x25519.X25519PrivateKey), "not an x25519 private key")
    check(isinstance(pub, x25519.X25519PublicKey), "not an x25519 public key")
    assert isinstance(priv, x25519.X25519PrivateKey)
    assert isinstance(pub, x25519.X25519PublicKey)
    priv_raw = priv.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    pub_raw = pub.public_bytes_raw()
    check(priv.public_key().public_bytes_raw() == pub_raw, "x25519 public != derive(private)")
    return priv_raw, pub_raw


def parse_keylog(text: str) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        label, cr, secret = line.split()
        check(len(cr) == 64 and bool(HEX_RE.match(cr + secret)), f"bad keylog line {line[:40]}")
        out.setdefault(label, {})[cr.lower()] = secret.lower()
    return out


def convert_illustrated(
    src: Path, repo: str, facts: dict[str, Any], notes: list[str]
) -> dict[str, Any]:
    caps = src / "captures" / "caps"
    keys = src / "keys"
    keylog_text = (src / "captures" / "keylog.txt").read_text()
    out: dict[str, Any] = {
        "_source": f"{repo} (https://github.com/{repo}), files captures/ and keys/. "
        "Converted by vectors/convert.py.",
        "_licence": "MIT",
        "_notes": notes,
        "facts": facts,
        "captures": {f.name: f.read_bytes().hex() for f in sorted(caps.iterdir())},
        "pcap": (src / "captures" / "capture.pcap").read_bytes().hex(),
        "keylog": parse_keylog(keylog_text),
        "keylog_text": keylog_text,
        "keys": {},
        "keys_pem": {},
    }
    for side in ("client", "server"):
        priv_pem = (keys / f"{side}-ephemeral-private.key").read_bytes()
        pub_pem = (keys / f"{side}-ephemeral-public.key").read_bytes()
        priv, pub = raw_x25519(priv_pem, pub_pem)
        out["keys"][f"{side}_ephemeral_private"] = priv.hex()
        out["keys"][f"{side}_ephemeral_public"] = pub.hex()
        out["keys_pem"][f"{side}-ephemeral-private.key"] = priv_pem.decode()
        out["keys_pem"][f"{side}-ephemeral-public.key"] = pub_pem.decode()
    for crt in ("server", "ca"):
        path = keys / f"{crt}.crt"
        if path.exists():
            cert = x509.load_pem_x509_certificate(path.read_bytes())
            out[f"{crt}_crt_der"] = cert.public_bytes(serialization.Encoding.DER).hex()
            out[f"{crt}_crt_pem"] = path.read_text()
    server_key = (keys / "server.key").read_text()
    serialization.load_pem_private_key(server_key.encode(), None)
    out["server_key_pem"] = server_key
    return out


def convert_tls13(src: Path) -> dict[str, Any]:
    facts = {
        "cipher_suite": "TLS_AES_256_GCM_SHA384",
        "client_random": bytes(range(0x00, 0x20)).hex(),
        "session_id": bytes(range(0xE0, 0x100)).hex(),
        "client_x25519_private": bytes(range(0x20, 0x40)).hex(),
        "sni": "example.ulfheim.net",
        "compatibility_mode": True,
        "tickets": 2,
    }
    notes = [
        "captures: every file of captures/caps as hex. Records as sent on the wire "
        "(clienthello, serverhello, serverenc*, clientenc*, *ccs) and decrypted handshake "
        "messages / application data (servercert, serverfinished, serverticket1, "
        "clientdata, ...); the decrypted forms include the trailing inner content type.",
        "keys: raw 32-byte x25519 values parsed from the PKCS#8 / SPKI PEM files in keys/ "
        "(public == derive(private) checked). keys_pem keeps the original PEM text.",
        "keylog: NSS key log parsed as {label: {client_random_hex: secret_hex}}; "
        "keylog_text is the raw file.",
        "The leaf certificate (server_crt_der) is expired: validate with a pinned time "
        "or not at all.",
    ]
    out = convert_illustrated(src, "syncsynchalt/illustrated-tls13", facts, notes)
    ch = bytes.fromhex(out["captures"]["clienthello"])
    hello = parse_hello(split_records(ch)[0][5:])
    check(hello["random"].hex() == facts["client_random"], "tls13 client random")
    check(hello["session_id"].hex() == facts["session_id"], "tls13 session id")
    check(
        client_key_shares(hello)[0x001D].hex() == out["keys"]["client_ephemeral_public"],
        "tls13 key share",
    )
    check(out["keys"]["client_ephemeral_private"] == facts["client_x25519_private"], "tls13 key")
    check(b"example.ulfheim.net" in hello["extensions"][0], "tls13 SNI")
    sh = parse_hello(split_records(bytes.fromhex(out["captures"]["serverhello"]))[0][5:])
    sh_msg = split_records(bytes.fromhex(out["captures"]["serverhello"]))[0][5:]
    check(sh_msg[4 + 2 + 32 + 1 + len(sh["session_id"]) :][:2] == b"\x13\x02", "tls13 suite")
    return out


def convert_tls12(src: Path) -> dict[str, Any]:
    facts = {
        "cipher_suite": "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        "cipher_suite_openssl": "ECDHE-RSA-AES128-CBC-SHA",
        "group": "x25519",
    }
    notes = [
        "captures: every file of captures/caps as hex; records as sent on the wire and "
        "*plain files with the decrypted record contents.",
        "CBC suite: useful for the TLS 1.2 PRF, master secret and ECDHE checks; the project "
        "does not offer CBC suites.",
        "keys: raw 32-byte x25519 values parsed from the PEM files (public == "
        "derive(private) checked). ca_crt_der is the issuing CA of server_crt_der.",
        "keylog: NSS key log (CLIENT_RANDOM <client random> <master secret>).",
    ]
    out = convert_illustrated(src, "syncsynchalt/illustrated-tls12", facts, notes)
    sh = split_records(bytes.fromhex(out["captures"]["serverhello"]))[0][5:]
    hello = parse_hello(sh)
    check(sh[4 + 2 + 32 + 1 + len(hello["session_id"]) :][:2] == b"\xc0\x13", "tls12 suite")
    return out


# --------------------------------------------------------------------------- main


def write_json(name: str, data: Any) -> None:
    path = HERE / name
    path.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes)")


def main(argv: list[str]) -> int:
    src = Path(argv[1]) if len(argv) > 1 else DEFAULT_SRC
    write_json("rfc8448.json", convert_rfc8448(src))
    write_json("illustrated_tls13.json", convert_tls13(src / "illustrated-tls13"))
    write_json("illustrated_tls12.json", convert_tls12(src / "illustrated-tls12"))
    limbo = src / "x509-limbo" / "limbo.json"
    size = limbo.stat().st_size
    check(size < 5_000_000, f"limbo.json is {size} bytes: reduce it instead of copying")
    json.loads(limbo.read_text())
    shutil.copyfile(limbo, HERE / "x509-limbo.json")
    print(f"copied {limbo} unchanged ({size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
