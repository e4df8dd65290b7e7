"""The ECDHE-MLKEM hybrid groups (draft-ietf-tls-ecdhe-mlkem): shares, combiner, policy.

* Layout and combiner: each share and secret is built from independently
  computed parts in the draft's order (ML-KEM first for X25519MLKEM768, ECDH
  first for SecP256r1MLKEM768 and SecP384r1MLKEM1024); malformed server shares
  are illegal_parameter.
* Known answers: ``hybrid_kat_openssl35.json`` holds ClientHello/ServerHello
  pairs recorded against OpenSSL 3.5.8 (Node.js 26.10.0), the randomness our key
  shares were made from, and OpenSSL's handshake traffic secrets from its key
  log; recomputing them here pins the combiner to OpenSSL's without a network.
  (The draft has no test vectors of its own.)
* Policy through SSPI: what each credential offers and which CRYPTO_SETTINGS
  names disable what; HelloRetryRequest into and out of a hybrid against an
  in-memory server; a TLS 1.2 ServerKeyExchange naming a hybrid is refused.
"""

from __future__ import annotations

import json
import os
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import mlkem

import schannel_py as sc
from schannel_py.testing.attacks import Harness, credential, watching_failures
from schannel_py.testing.builders import Server12, Server13, record
from schannel_py.tls import groups as G
from schannel_py.tls.alerts import AlertDescription, TLSError
from schannel_py.tls.keyschedule import KeySchedule13
from schannel_py.tls.messages import (
    ClientHello,
    Ext,
    ServerHello,
    find_ext,
    parse_key_share_client,
    parse_u16_list,
)
from schannel_py.tls.record import HANDSHAKE
from schannel_py.tls.session import Transcript
from schannel_py.tls.suites import SUITES
from tests.support.paths import SUPPORT

KAT = json.loads((SUPPORT / "hybrid_kat_openssl35.json").read_text())
HYBRIDS = G.HYBRID_GROUPS
ALL_DEFAULT = (0x11EC, 0x11EB, 0x11ED, 0x001D, 0x0017, 0x0018)
# Draft sizes: (client share, server share, shared secret).
SIZES = {
    G.X25519MLKEM768: (1184 + 32, 1088 + 32, 64),
    G.SECP256R1MLKEM768: (65 + 1184, 65 + 1088, 64),
    G.SECP384R1MLKEM1024: (97 + 1568, 97 + 1568, 80),
}


def name(v: object) -> str:
    return G.GROUP_NAMES.get(v, str(v)) if isinstance(v, int) else str(v)


def feeder(data: bytes):  # type: ignore[no-untyped-def]
    """A random source that hands out ``data`` in order."""
    pos = 0

    def rnd(n: int) -> bytes:
        nonlocal pos
        assert pos + n <= len(data), "ran out of recorded randomness"
        pos += n
        return data[pos - n : pos]

    return rnd


def illegal(fn, *args) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(TLSError) as info:
        fn(*args)
    assert info.value.description == AlertDescription.illegal_parameter
    return info.value.message


# --- shares and combiner ------------------------------------------------------------------------


@pytest.mark.parametrize("group", HYBRIDS, ids=name)
def test_share_layout_and_sizes(group: int) -> None:
    seed = os.urandom(256)
    share = G.KeyShare(group, feeder(seed))
    hybrid = G.HYBRIDS[group]
    client_len, server_len, secret_len = SIZES[group]
    assert len(share.public) == client_len == hybrid.client_share_len
    assert hybrid.server_share_len == server_len
    kem_cls = mlkem.MLKEM768PrivateKey if hybrid.params == 768 else mlkem.MLKEM1024PrivateKey
    ek = kem_cls.from_seed_bytes(seed[:64]).public_key().public_bytes_raw()
    classical = G.KeyShare(hybrid.ecdh, feeder(seed[64:])).public
    if group == G.X25519MLKEM768:
        assert share.public == ek + classical
    else:
        assert share.public == classical + ek
        assert share.public[0] == 4  # an uncompressed point comes first

    server = G.ServerShare(group, share.public, os.urandom)
    assert len(server.public) == server_len
    secret = share.exchange(server.public)
    assert len(secret) == secret_len and secret == server.exchange(share.public)


@pytest.mark.parametrize("group", HYBRIDS, ids=name)
def test_combiner_order(group: int) -> None:
    """The secret is the two parts' secrets, computed here with the library directly."""
    seed = os.urandom(256)
    share = G.KeyShare(group, feeder(seed))
    server = G.ServerShare(group, share.public, os.urandom)
    hybrid = G.HYBRIDS[group]
    kem_cls = mlkem.MLKEM768PrivateKey if hybrid.params == 768 else mlkem.MLKEM1024PrivateKey
    kem = kem_cls.from_seed_bytes(seed[:64])
    ecdh = G.KeyShare(hybrid.ecdh, feeder(seed[64:]))
    if group == G.X25519MLKEM768:
        ct, peer = server.public[:1088], server.public[1088:]
        expected = kem.decapsulate(ct) + ecdh.exchange(peer)
    else:
        n = 65 if hybrid.ecdh == G.SECP256R1 else 97
        peer, ct = server.public[:n], server.public[n:]
        expected = ecdh.exchange(peer) + kem.decapsulate(ct)
    assert share.exchange(server.public) == expected


def _malformed(group: int, good: bytes) -> dict[str, bytes]:
    hybrid = G.HYBRIDS[group]
    out = {"empty": b"", "short": good[:-1], "long": good + b"\x00", "classical only": good[-32:]}
    if group == G.X25519MLKEM768:
        out["x25519 low order"] = good[:1088] + bytes(32)  # all-zero shared secret
    else:
        n = 65 if hybrid.ecdh == G.SECP256R1 else 97
        out["point not on curve"] = b"\x04" + bytes(n - 1) + good[n:]
        out["compressed point"] = b"\x02" + good[1:n] + good[n:]
    return out


@pytest.mark.parametrize("group", HYBRIDS, ids=name)
def test_malformed_server_share_is_illegal_parameter(group: int) -> None:
    share = G.KeyShare(group, os.urandom)
    good = G.ServerShare(group, share.public, os.urandom).public
    for label, bad in _malformed(group, good).items():
        assert illegal(share.exchange, bad), label


@pytest.mark.parametrize("group", HYBRIDS, ids=name)
def test_malformed_client_share_refused_by_server_side(group: int) -> None:
    good = G.KeyShare(group, os.urandom).public
    illegal(G.ServerShare, group, good[:-1], os.urandom)


def test_hybrids_are_named_and_ordered() -> None:
    assert G.HYBRID_GROUPS == (0x11EC, 0x11EB, 0x11ED)
    assert G.SUPPORTED_GROUPS == (0x001D, 0x0017, 0x0018)  # the TLS core's default is classical
    assert [G.GROUP_NAMES[g] for g in HYBRIDS] == [
        "X25519MLKEM768",
        "SecP256r1MLKEM768",
        "SecP384r1MLKEM1024",
    ]
    assert [G.GROUP_BITS[g] for g in HYBRIDS] == [255, 256, 384]


# --- known answers from OpenSSL 3.5 ---------------------------------------------------------------


@pytest.mark.parametrize("vector", KAT["vectors"], ids=lambda v: v["group"])
def test_known_answer_against_openssl_keylog(vector: dict[str, object]) -> None:
    group = int(str(vector["code"]))
    ch_msg = bytes.fromhex(str(vector["client_hello"]))
    sh_msg = bytes.fromhex(str(vector["server_hello"]))
    ch = ClientHello.parse(ch_msg)
    sh = ServerHello.parse(sh_msg[4:])
    ours = G.KeyShare(group, feeder(bytes.fromhex(str(vector["key_share_randomness"]))))
    ks = find_ext(ch.extensions, Ext.key_share)
    assert ks is not None
    assert dict(parse_key_share_client(ks))[group] == ours.public  # our share, as sent
    sks = find_ext(sh.extensions, Ext.key_share)
    assert sks is not None and int.from_bytes(sks[:2], "big") == group
    assert int.from_bytes(sks[2:4], "big") == len(sks) - 4 == G.HYBRIDS[group].server_share_len
    shared = ours.exchange(sks[4:])

    hash_name = SUITES[sh.cipher_suite].hash_name
    transcript = Transcript()
    transcript.set_hash(hash_name)
    transcript.add(ch_msg)
    transcript.add(sh_msg)
    schedule = KeySchedule13(hash_name)
    schedule.enter_handshake(shared)
    c_hs, s_hs = schedule.handshake_traffic(transcript.digest())
    keylog = vector["openssl_keylog"]
    assert isinstance(keylog, dict)
    assert c_hs.hex() == keylog["CLIENT_HANDSHAKE_TRAFFIC_SECRET"]
    assert s_hs.hex() == keylog["SERVER_HANDSHAKE_TRAFFIC_SECRET"]


def test_known_answers_cover_every_hybrid() -> None:
    assert sorted(int(v["code"]) for v in KAT["vectors"]) == sorted(HYBRIDS)


# --- policy through SSPI ---------------------------------------------------------------------------


def key_exchange(alg: str, lo: int = 0, hi: int = 0) -> sc.CRYPTO_SETTINGS:
    return sc.CRYPTO_SETTINGS(
        eAlgorithmUsage=sc.TlsParametersCngAlgUsageKeyExchange,
        strCngAlgId=alg,
        dwMinBitLength=lo,
        dwMaxBitLength=hi,
    )


def acquire(auth: object) -> sc.CredHandle:
    cred = sc.CredHandle()
    status = sc.AcquireCredentialsHandle(
        None, sc.UNISP_NAME, sc.SECPKG_CRED_OUTBOUND, None, auth, None, None, cred, None
    )
    assert status == sc.SEC_E_OK, status
    return cred


def sch_credentials(*crypto: sc.CRYPTO_SETTINGS, disabled: int = 0) -> sc.CredHandle:
    params = [
        sc.TLS_PARAMETERS(
            grbitDisabledProtocols=disabled,
            cDisabledCrypto=len(crypto),
            pDisabledCrypto=list(crypto),
        )
    ]
    return acquire(
        sc.SCH_CREDENTIALS(
            dwVersion=sc.SCH_CREDENTIALS_VERSION,
            dwFlags=sc.SCH_CRED_MANUAL_CRED_VALIDATION,
            cTlsParameters=1,
            pTlsParameters=params,
        )
    )


def offer(cred: sc.CredHandle) -> tuple[list[int], list[int], int]:
    """(supported_groups, key share groups, ClientHello bytes) of a first ClientHello."""
    h = Harness(cred=cred)
    try:
        token = h.start()
    finally:
        h.close()
    assert token[0] == HANDSHAKE
    ch = ClientHello.parse(token[5:])
    groups = find_ext(ch.extensions, Ext.supported_groups)
    assert groups is not None
    ks = find_ext(ch.extensions, Ext.key_share)
    shares = [g for g, _ in parse_key_share_client(ks)] if ks is not None else []
    return parse_u16_list(groups), shares, len(token)


def test_sch_credentials_offer_hybrids_first_with_two_shares() -> None:
    groups, shares, _ = offer(credential())
    assert tuple(groups) == ALL_DEFAULT
    assert shares == [G.X25519MLKEM768, G.X25519]


def test_null_auth_data_offers_hybrids() -> None:
    groups, shares, _ = offer(acquire(None))
    assert tuple(groups) == ALL_DEFAULT and shares == [G.X25519MLKEM768, G.X25519]


def test_schannel_cred_never_offers_hybrids() -> None:
    cred = acquire(
        sc.SCHANNEL_CRED(
            dwVersion=sc.SCHANNEL_CRED_VERSION,
            grbitEnabledProtocols=sc.SP_PROT_TLS1_2_CLIENT,
            dwFlags=sc.SCH_CRED_MANUAL_CRED_VALIDATION,
        )
    )
    groups, shares, _ = offer(cred)
    assert groups == [G.X25519, G.SECP256R1, G.SECP384R1] and shares == []


def test_tls12_only_sch_credentials_leave_hybrids_out() -> None:
    groups, shares, _ = offer(sch_credentials(disabled=sc.SP_PROT_TLS1_3_CLIENT))
    assert groups == [G.X25519, G.SECP256R1, G.SECP384R1] and shares == []


@pytest.mark.parametrize(
    ("settings", "groups", "shares"),
    [
        (("X25519MLKEM768",), (0x11EB, 0x11ED, 0x1D, 0x17, 0x18), (0x11EB, 0x1D)),
        (("x25519-mlkem768",), (0x11EB, 0x11ED, 0x1D, 0x17, 0x18), (0x11EB, 0x1D)),
        (("SECP256R1MLKEM768",), (0x11EC, 0x11ED, 0x1D, 0x17, 0x18), (0x11EC, 0x1D)),
        (("SecP384r1MLKEM1024",), (0x11EC, 0x11EB, 0x1D, 0x17, 0x18), (0x11EC, 0x1D)),
        (("MLKEM",), (0x1D, 0x17, 0x18), (0x1D,)),
        (("ML-KEM",), (0x1D, 0x17, 0x18), (0x1D,)),
        ((("MLKEM", 1024, 0),), (0x11ED, 0x1D, 0x17, 0x18), (0x11ED, 0x1D)),
        ((("MLKEM", 0, 768),), (0x11EC, 0x11EB, 0x1D, 0x17, 0x18), (0x11EC, 0x1D)),
        (("ECDH",), (0x11EC, 0x11EB, 0x11ED), (0x11EC,)),
        (("CURVE25519",), (0x11EC, 0x11EB, 0x11ED, 0x17, 0x18), (0x11EC, 0x17)),
        (("X25519MLKEM768", "CURVE25519"), (0x11EB, 0x11ED, 0x17, 0x18), (0x11EB, 0x17)),
    ],
    ids=lambda v: repr(v),
)
def test_crypto_settings_names(
    settings: tuple[object, ...], groups: tuple[int, ...], shares: tuple[int, ...]
) -> None:
    crypto = [key_exchange(*s) if isinstance(s, tuple) else key_exchange(str(s)) for s in settings]
    got_groups, got_shares, _ = offer(sch_credentials(*crypto))
    assert (tuple(got_groups), tuple(got_shares)) == (groups, shares)


# --- handshakes against an in-memory server ---------------------------------------------------------


def finish(s: Server13, h: Harness, group: int) -> sc.SecStatus:
    """ServerHello for ``group`` answering the client's share, then the rest of the flight."""
    peer = s.client_share(group)
    assert peer is not None, "client sent no share for that group"
    server = G.ServerShare(group, peer, os.urandom)
    sh = s.server_hello(group=group, share=server.public)
    s.share = server  # type: ignore[assignment]
    s.derive_handshake(group)
    flight = s.plain(sh) + s.prot(s.encrypted_extensions() + s.auth_messages())
    s.derive_application()
    return h.feed(flight)[0]


def retry(s: Server13, h: Harness, group: int) -> bytes:
    """Send an HRR for ``group``; the client's second ClientHello (and CCS) back.

    The server's transcript is rebuilt here: Server13's own restart_for_hrr runs
    after its transcript already hashes ClientHello1, so its message_hash would
    be that of an empty string."""
    first = h.start()
    s.read_client_hello(first)
    hrr = s.hello_retry_request(group=group)
    transcript = Transcript()
    transcript.add(first[5:])
    transcript.restart_for_hrr(s.suite.hash_name)
    transcript.add(hrr)
    s.transcript = transcript
    status, token = h.feed(s.plain(hrr))
    assert status == sc.SEC_I_CONTINUE_NEEDED
    return token


def key_info(h: Harness) -> tuple[int, int]:
    cipher = sc.SecPkgContext_CipherInfo()
    assert sc.QueryContextAttributes(h.ctx, sc.SECPKG_ATTR_CIPHER_INFO, cipher) == sc.SEC_E_OK
    conn = sc.SecPkgContext_ConnectionInfo()
    assert sc.QueryContextAttributes(h.ctx, sc.SECPKG_ATTR_CONNECTION_INFO, conn) == sc.SEC_E_OK
    return int(cipher.dwKeyType), int(conn.dwExchStrength)


def test_hybrid_first_flight() -> None:
    s, h = Server13(), Harness()
    try:
        s.read_client_hello(h.start())
        assert finish(s, h, G.X25519MLKEM768) == sc.SEC_E_OK
        assert key_info(h) == (0x11EC, 255)
    finally:
        h.close()


@pytest.mark.parametrize("group", [G.SECP256R1MLKEM768, G.SECP384R1MLKEM1024], ids=name)
def test_hello_retry_into_hybrid(group: int) -> None:
    s, h = Server13(), Harness()
    try:
        ch2 = s.read_client_hello(retry(s, h, group))
        ks = find_ext(ch2.extensions, Ext.key_share)
        assert ks is not None
        shares = parse_key_share_client(ks)
        assert [g for g, _ in shares] == [group]
        assert len(shares[0][1]) == G.HYBRIDS[group].client_share_len
        assert finish(s, h, group) == sc.SEC_E_OK
        assert key_info(h) == (group, G.GROUP_BITS[group])
    finally:
        h.close()


def test_hello_retry_from_hybrid_to_classical() -> None:
    s, h = Server13(), Harness()
    try:
        s.read_client_hello(retry(s, h, G.SECP384R1))
        assert finish(s, h, G.SECP384R1) == sc.SEC_E_OK
        assert key_info(h) == (G.SECP384R1, 384)
    finally:
        h.close()


def test_hello_retry_naming_a_shared_hybrid_is_illegal() -> None:
    s, h = Server13(), Harness()
    try:
        s.read_client_hello(h.start())
        with watching_failures() as seen:
            status, _ = h.feed(s.plain(s.hello_retry_request(group=G.X25519MLKEM768)))
        assert status != sc.SEC_I_CONTINUE_NEEDED
        assert [d.description for d in seen] == [AlertDescription.illegal_parameter]
    finally:
        h.close()


@pytest.mark.parametrize(
    "case", ["short", "long", "no share sent", "low order x25519"], ids=lambda v: v
)
def test_bad_hybrid_server_hello_is_illegal_parameter(case: str) -> None:
    s, h = Server13(), Harness()
    try:
        s.read_client_hello(h.start())
        peer = s.client_share(G.X25519MLKEM768)
        assert peer is not None
        good = G.ServerShare(G.X25519MLKEM768, peer, os.urandom).public
        group, share = G.X25519MLKEM768, good
        if case == "short":
            share = good[:-1]
        elif case == "long":
            share = good + b"\x00"
        elif case == "low order x25519":
            share = good[:1088] + bytes(32)
        else:
            group, share = G.SECP256R1MLKEM768, G.KeyShare(G.SECP256R1MLKEM768, os.urandom).public
        with watching_failures() as seen:
            status, _ = h.feed(s.plain(s.server_hello(group=group, share=share)))
        assert status != sc.SEC_E_OK
        assert [d.description for d in seen] == [AlertDescription.illegal_parameter]
    finally:
        h.close()


def test_tls12_server_key_exchange_naming_a_hybrid_is_illegal() -> None:
    s, h = Server12(), Harness()
    try:
        s.read_client_hello(h.start())
        msgs = s.server_hello() + s.certificate()
        msgs += s.server_key_exchange(group=G.X25519MLKEM768, public=os.urandom(200))
        msgs += s.server_hello_done()
        with watching_failures() as seen:
            status, _ = h.feed(record(HANDSHAKE, msgs))
        assert status != sc.SEC_E_OK
        assert [d.description for d in seen] == [AlertDescription.illegal_parameter]
        assert "hybrid" in seen[0].message
    finally:
        h.close()


# --- cost -----------------------------------------------------------------------------------------


def test_cost_figures() -> None:
    """ClientHello size and client CPU for a key share, hybrid vs x25519 (printed with -s)."""
    hybrid_groups, _, hybrid_len = offer(credential())
    classical_len = offer(sch_credentials(key_exchange("MLKEM")))[2]
    assert hybrid_len - classical_len == 4 + 1216 + 6  # share entry + 3 supported_groups
    timings = {}
    for group in (G.X25519, G.X25519MLKEM768, G.SECP256R1MLKEM768, G.SECP384R1MLKEM1024):
        server = G.ServerShare(group, G.KeyShare(group, os.urandom).public, os.urandom).public
        n = 50
        t0 = time.perf_counter()
        for _ in range(n):
            G.KeyShare(group, os.urandom).exchange(server)
        timings[name(group)] = (time.perf_counter() - t0) / n * 1e6
    print(
        f"\nClientHello: {hybrid_len} bytes (X25519MLKEM768 + x25519 shares) vs "
        f"{classical_len} (x25519 only)"
    )
    for k, v in timings.items():
        print(f"  keygen+exchange {k}: {v:.0f} us")
    assert hybrid_groups[0] == G.X25519MLKEM768


def test_only_hybrids_left_without_tls13_is_algorithm_mismatch() -> None:
    crypto = [key_exchange("ECDH")]
    params = [
        sc.TLS_PARAMETERS(
            grbitDisabledProtocols=sc.SP_PROT_TLS1_3_CLIENT,
            cDisabledCrypto=len(crypto),
            pDisabledCrypto=crypto,
        )
    ]
    auth = sc.SCH_CREDENTIALS(
        dwVersion=sc.SCH_CREDENTIALS_VERSION, cTlsParameters=1, pTlsParameters=params
    )
    status = sc.AcquireCredentialsHandle(
        None, sc.UNISP_NAME, sc.SECPKG_CRED_OUTBOUND, None, auth, None, None, sc.CredHandle(), None
    )
    assert status == sc.SEC_E_ALGORITHM_MISMATCH
