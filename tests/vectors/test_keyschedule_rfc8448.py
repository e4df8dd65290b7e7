"""The TLS 1.3 key schedule against every intermediate value RFC 8448 section 4
("Resumed 0-RTT Handshake") prints: the PSK stages, the binder, the early,
handshake and master secrets, each traffic secret, key and IV, both Finished
MACs and the HkdfLabel inputs.  The values are the RFC's own
(``vectors/rfc8448.json``, converted from the RFC text); the replay tests only
prove the secrets indirectly, through records that match.

The transcript hashes are recomputed from the RFC's messages, so every check
below ties a printed secret to the bytes on the wire as well.
"""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from schannel_py.tls import keyschedule as ks
from schannel_py.tls.keyschedule import KeySchedule13
from tests.support.rfc8448_replay import section3_ticket
from tests.support.vectors import rfc8448_bytes

SECTION = "Resumed_0RTT_Handshake"
H = "sha256"
EMPTY = hashlib.sha256(b"").digest()


def v(field: str) -> bytes:
    return rfc8448_bytes(SECTION, field)


def th(*messages: str) -> bytes:
    """The transcript hash over the RFC's messages, in order."""
    return hashlib.sha256(b"".join(v(m) for m in messages)).digest()


CH, SH, EE, SF = (
    "Message_ClientHello_1",
    "Message_ServerHello",
    "Message_EncryptedExtensions",
    "Message_Server_Finished",
)
EOED, CF = "Message_EndOfEarlyData", "Message_Client_Finished"


def test_x25519_keys_and_shared_secret() -> None:
    client = X25519PrivateKey.from_private_bytes(v("X25519_Client_PrivateKey"))
    server = X25519PrivateKey.from_private_bytes(v("X25519_Server_PrivateKey"))
    raw = (Encoding.Raw, PublicFormat.Raw)
    assert client.public_key().public_bytes(*raw) == v("X25519_Client_PublicKey")
    assert server.public_key().public_bytes(*raw) == v("X25519_Server_PublicKey")
    assert client.exchange(server.public_key()) == v("X25519_SharedSecret")
    assert v("X25519_Client_PublicKey") in v(CH)
    assert v("X25519_Server_PublicKey") in v(SH)


def test_section3_ticket_stands_for_the_rfc_resumption_psk() -> None:
    """Our client derives the PSK from section 3's NewSessionTicket: the RFC prints it."""
    assert section3_ticket().psk == v("Resumption_PSK")


def test_early_secret_and_psk_binder() -> None:
    schedule = KeySchedule13(H, v("Resumption_PSK"))
    assert schedule.early_secret == v("Early_Secret")
    binder_key = schedule.binder_key()
    assert binder_key == v("Binder_Key")
    assert ks.hkdf_expand_label(H, binder_key, b"finished", b"", 32) == v("Binder_Finished_Key")
    prefix = v("Binder_ClientHello_Prefix")
    assert v(CH).startswith(prefix)  # the ClientHello up to the binders list
    assert hashlib.sha256(prefix).digest() == v("Binder_Hash")
    binder = ks.finished_verify_data(H, binder_key, v("Binder_Hash"))
    assert binder == v("PSK_Binder")
    assert v(CH).endswith(binder)


def test_early_traffic_secret_keys_and_exporter() -> None:
    early = v("Early_Secret")
    transcript = th(CH)
    assert transcript == v("TranscriptHash_ClientHello")
    secret = ks.derive_secret(H, early, b"c e traffic", transcript)
    assert secret == v("Client_Early_Traffic_Secret")
    assert ks.derive_secret(H, early, b"e exp master", transcript) == v(
        "Early_Exporter_Master_Secret"
    )
    assert ks.traffic_keys(H, secret, 16) == (v("Client_Early_Key"), v("Client_Early_IV"))


def test_handshake_secrets_keys_and_server_finished() -> None:
    schedule = KeySchedule13(H, v("Resumption_PSK"))
    assert ks.derive_secret(H, schedule.early_secret, b"derived", EMPTY) == v(
        "Derived_Early_Secret"
    )
    schedule.enter_handshake(v("X25519_SharedSecret"))
    assert schedule.handshake_secret == v("Handshake_Secret")
    assert th(CH, SH) == v("TranscriptHash_ServerHello")
    client, server = schedule.handshake_traffic(v("TranscriptHash_ServerHello"))
    assert (client, server) == (
        v("Client_Handshake_Traffic_Secret"),
        v("Server_Handshake_Traffic_Secret"),
    )
    assert ks.traffic_keys(H, server, 16) == (v("Server_Handshake_Key"), v("Server_Handshake_IV"))
    assert ks.traffic_keys(H, client, 16) == (v("Client_Handshake_Key"), v("Client_Handshake_IV"))
    assert ks.hkdf_expand_label(H, server, b"finished", b"", 32) == v("Server_Finished_Key")
    assert th(CH, SH, EE) == v("TranscriptHash_EncryptedExtensions")
    verify = ks.finished_verify_data(H, server, v("TranscriptHash_EncryptedExtensions"))
    assert verify == v("Server_Finished_VerifyData")
    assert v(SF) == b"\x14\x00\x00\x20" + verify
    assert v("Server_HandshakeMessages_Plaintext") == v(EE) + v(SF)


def test_master_secret_application_and_resumption_secrets() -> None:
    schedule = KeySchedule13(H, v("Resumption_PSK"))
    schedule.enter_handshake(v("X25519_SharedSecret"))
    assert ks.derive_secret(H, v("Handshake_Secret"), b"derived", EMPTY) == v(
        "Derived_Handshake_Secret"
    )
    schedule.enter_master()
    assert schedule.master_secret == v("Master_Secret")
    assert th(CH, SH, EE, SF) == v("TranscriptHash_ServerFinished")
    client, server = schedule.application_traffic(v("TranscriptHash_ServerFinished"))
    assert (client, server) == (
        v("Client_Application_Traffic_Secret"),
        v("Server_Application_Traffic_Secret"),
    )
    assert schedule.secrets["exporter_master_secret"] == v("Exporter_Master_Secret")
    assert ks.traffic_keys(H, server, 16) == (
        v("Server_Application_Key"),
        v("Server_Application_IV"),
    )
    assert ks.traffic_keys(H, client, 16) == (
        v("Client_Application_Key"),
        v("Client_Application_IV"),
    )
    # The client Finished covers EndOfEarlyData (the RFC client sent early data).
    assert v(EOED) == b"\x05\x00\x00\x00"
    assert th(CH, SH, EE, SF, EOED) == v("TranscriptHash_EndOfEarlyData")
    hs_client = v("Client_Handshake_Traffic_Secret")
    assert ks.hkdf_expand_label(H, hs_client, b"finished", b"", 32) == v("Client_Finished_Key")
    verify = ks.finished_verify_data(H, hs_client, v("TranscriptHash_EndOfEarlyData"))
    assert verify == v("Client_Finished_VerifyData")
    assert v(CF) == b"\x14\x00\x00\x20" + verify
    assert th(CH, SH, EE, SF, EOED, CF) == v("TranscriptHash_ClientFinished")
    assert schedule.resumption_master(v("TranscriptHash_ClientFinished")) == v(
        "Resumption_Master_Secret"
    )


# HkdfLabel field -> (label, context field or None, length): the info strings the RFC
# prints for each Derive-Secret and key expansion of this handshake.
LABELS = {
    "HkdfLabel_Derived": (b"derived", None, 32),
    "HkdfLabel_C_E_Traffic": (b"c e traffic", "TranscriptHash_ClientHello", 32),
    "HkdfLabel_E_Exp_Master": (b"e exp master", "TranscriptHash_ClientHello", 32),
    "HkdfLabel_C_HS_Traffic": (b"c hs traffic", "TranscriptHash_ServerHello", 32),
    "HkdfLabel_S_HS_Traffic": (b"s hs traffic", "TranscriptHash_ServerHello", 32),
    "HkdfLabel_C_AP_Traffic": (b"c ap traffic", "TranscriptHash_ServerFinished", 32),
    "HkdfLabel_S_AP_Traffic": (b"s ap traffic", "TranscriptHash_ServerFinished", 32),
    "HkdfLabel_Exp_Master": (b"exp master", "TranscriptHash_ServerFinished", 32),
    "HkdfLabel_Res_Master": (b"res master", "TranscriptHash_ClientFinished", 32),
    "HkdfLabel_Finished": (b"finished", "", 32),
    "HkdfLabel_Key": (b"key", "", 16),
    "HkdfLabel_IV": (b"iv", "", 12),
}


@pytest.mark.parametrize("field", sorted(LABELS))
def test_hkdf_expand_label_builds_the_rfc_info(field: str) -> None:
    """HKDF-Expand-Label is HKDF-Expand over exactly the HkdfLabel the RFC prints."""
    label, context_field, length = LABELS[field]
    context = EMPTY if context_field is None else v(context_field) if context_field else b""
    info = v(field)
    full = b"tls13 " + label
    assert (
        info
        == length.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context
    )
    secret = v("Master_Secret")  # any secret: the two sides must agree on every one
    assert ks.hkdf_expand_label(H, secret, label, context, length) == ks.hkdf_expand(
        H, secret, info, length
    )
