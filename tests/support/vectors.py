"""Typed loaders for the converted test vectors in ``vectors/`` (see vectors/README.md).

Only reads the project's own ``vectors/`` folder, never the external source data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from tests.support.paths import ROOT

VECTORS_DIR = ROOT / "vectors"

#: RFC 8448 section 3's secrets and handshake record keys, as printed in the RFC.
RFC8448_SECRETS = {
    "early_secret": "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a",
    "handshake_secret": "1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac",
    "client_handshake_traffic_secret": "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21",
    "server_handshake_traffic_secret": "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38",
    "master_secret": "18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919",
    "client_application_traffic_secret_0": "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5",
    "server_application_traffic_secret_0": "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643",
    "exporter_master_secret": "fe22f881176eda18eb8f44529e6792c50c9a3f89452f68d8ae311b4309d3cf50",
    "resumption_master_secret": "7df235f2031d2a051287d02b0241b0bfdaf86cc856231f2d5aba46c434ec196c",
    # The record keys of section 3 ("derive write traffic keys for handshake data").
    "server_handshake_write_key": "3fce516009c21727d0f2e4e86ee403bc",
    "server_handshake_write_iv": "5d313eb2671276ee13000b30",
    "client_handshake_write_key": "dbfaa693d1762c5b666af5d950258d01",
    "client_handshake_write_iv": "5bd3c71b836e0b76bb73265f",
}
#: NSS key log labels (the server's and Illustrated TLS's key logs) -> the page's names.
KEYLOG_NAMES = {
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET": "client_handshake_traffic_secret",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET": "server_handshake_traffic_secret",
    "CLIENT_TRAFFIC_SECRET_0": "client_application_traffic_secret_0",
    "SERVER_TRAFFIC_SECRET_0": "server_application_traffic_secret_0",
    "EXPORTER_SECRET": "exporter_master_secret",
}


RFC8448_SECTIONS = (
    "Simple_1RTT_Handshake",
    "Resumed_0RTT_Handshake",
    "HelloRetryRequest_Handshake",
    "Client_Authentication_Handshake",
    "Middlebox_Compatibility_Mode",
)


@cache
def _load(name: str) -> dict[str, Any]:
    path = VECTORS_DIR / name
    if path.suffix != ".json":
        path = path.with_name(path.name + ".json")
    with path.open(encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, dict):
        raise TypeError(f"{path}: top level is not an object")
    return data


def load_json(name: str) -> dict[str, Any]:
    """Parsed JSON of ``vectors/<name>`` (``.json`` may be omitted). Returns a fresh copy."""
    copied: dict[str, Any] = json.loads(json.dumps(_load(name)))
    return copied


def _decode(value: Any) -> bytes | int | str:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"unexpected vector value {value!r}")
    if isinstance(value, int):
        return value
    try:
        return bytes.fromhex(value)
    except ValueError:
        return value


def rfc8448(section: str) -> dict[str, bytes | int | str]:
    """One RFC 8448 scenario: hex fields as bytes, ``CurrentTimestamp`` as int (ms)."""
    if section not in RFC8448_SECTIONS:
        raise KeyError(f"unknown RFC 8448 section {section!r}; one of {RFC8448_SECTIONS}")
    raw: dict[str, Any] = _load("rfc8448.json")[section]
    return {key: _decode(value) for key, value in raw.items()}


def rfc8448_bytes(section: str, field: str) -> bytes:
    """A single hex field of an RFC 8448 scenario, as bytes (typed convenience)."""
    value = rfc8448(section)[field]
    if not isinstance(value, bytes):
        raise TypeError(f"{section}/{field} is not a hex field")
    return value


def rfc8448_pem(filename: str) -> str:
    """PEM text of one of the RFC 8448 key/certificate files, e.g. ``server_key.pem``."""
    pem: str = _load("rfc8448.json")["_pem"][filename]
    return pem


@dataclass(frozen=True)
class IllustratedTrace:
    """One of "The Illustrated TLS 1.3/1.2 Connection" traces."""

    facts: dict[str, Any]
    captures: dict[str, bytes]  # file name in captures/caps -> contents
    pcap: bytes
    keylog: dict[str, dict[bytes, bytes]]  # label -> {client_random: secret}
    keylog_text: str
    keys: dict[str, bytes]  # {client,server}_ephemeral_{private,public}: raw x25519
    server_crt_der: bytes
    server_key_pem: str
    ca_crt_der: bytes | None


def _illustrated(name: str) -> IllustratedTrace:
    d = _load(name)
    ca = d.get("ca_crt_der")
    return IllustratedTrace(
        facts=dict(d["facts"]),
        captures={k: bytes.fromhex(v) for k, v in d["captures"].items()},
        pcap=bytes.fromhex(d["pcap"]),
        keylog={
            label: {bytes.fromhex(cr): bytes.fromhex(s) for cr, s in entries.items()}
            for label, entries in d["keylog"].items()
        },
        keylog_text=d["keylog_text"],
        keys={k: bytes.fromhex(v) for k, v in d["keys"].items()},
        server_crt_der=bytes.fromhex(d["server_crt_der"]),
        server_key_pem=d["server_key_pem"],
        ca_crt_der=bytes.fromhex(ca) if ca is not None else None,
    )


def illustrated13() -> IllustratedTrace:
    """The Illustrated TLS 1.3 Connection (TLS_AES_256_GCM_SHA384, x25519)."""
    return _illustrated("illustrated_tls13.json")


def illustrated12() -> IllustratedTrace:
    """The Illustrated TLS 1.2 Connection (ECDHE-RSA-AES128-CBC-SHA, x25519)."""
    return _illustrated("illustrated_tls12.json")


def x509_limbo() -> dict[str, Any]:
    """The C2SP x509-limbo test cases: ``{"version": ..., "testcases": [...]}``."""
    return load_json("x509-limbo.json")
