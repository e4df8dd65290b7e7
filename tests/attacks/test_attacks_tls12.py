"""Hostile TLS 1.2 servers: the catalogue's cases (schannel_py.testing.attacks12), one test each.

The cases, with the status and alert each must get and why, are the package's
public catalogue; this file runs them and a few checks that are not cases.
"""

from __future__ import annotations

import pytest

import schannel_py as sc
from schannel_py.sspi import context as X
from schannel_py.testing import attacks
from schannel_py.testing.attacks import Attack, Harness, credential, finish12, run_attack
from schannel_py.testing.attacks12 import ILLEGAL, sh_only
from schannel_py.testing.builders import HT, Server12
from schannel_py.tls.alerts import AlertDescription as A
from schannel_py.tls.groups import SECP256R1
from schannel_py.tls.messages import Ext, find_ext, handshake_message
from schannel_py.tls.record import APPLICATION_DATA

ATTACKS = attacks.cases("1.2")


@pytest.mark.parametrize("case", ATTACKS, ids=[a.name for a in ATTACKS])
def test_attack(case: Attack) -> None:
    run_attack(case, Server12(), Harness(cred=credential()))


def test_enough_attacks() -> None:
    assert len(ATTACKS) >= 30


@pytest.mark.parametrize("reneg", [None, b"\x0c" + bytes(12)], ids=["missing", "non-empty"])
def test_alert_after_a_refused_server_hello_has_record_version_0303(reneg: bytes | None) -> None:
    """Once the server has spoken, every record we send is 0x0303 (RFC 8446 5.1), alerts
    about its ServerHello included: a TLS 1.2 peer (gnutls) drops a 0x0301 alert unread."""
    s, h = Server12(), Harness(cred=credential())
    s.read_client_hello(h.start())
    assert sh_only(s, h, reneg=reneg) == sc.SEC_E_ALGORITHM_MISMATCH
    assert h.alert == bytes([21, 3, 3, 0, 2, 2, A.handshake_failure])
    h.close()


def test_hostile_tls12_server_is_valid_without_attack() -> None:
    """The builders make a handshake the client accepts; data flows afterwards."""
    s, h = Server12(), Harness()
    s.read_client_hello(h.start())
    finish12(s, h)
    got, plain = h.decrypt(s.prot(b"hello", APPLICATION_DATA))
    assert got == [sc.SEC_E_OK] and plain == b"hello"
    h.close()


def test_data_held_during_a_renegotiation_is_bounded() -> None:
    """After the client's renegotiation ClientHello, a server that streams application
    data instead of a ServerHello is refused once the held data passes STASH_LIMIT
    (it was buffered without end): unexpected_message, and the context stays failed."""
    from schannel_py.sspi.context import STASH_LIMIT

    s, h = Server12(), Harness()
    s.read_client_hello(h.start())
    finish12(s, h)
    seen, _ = h.decrypt(s.prot(handshake_message(HT.hello_request, b"")))
    assert seen == [sc.SEC_I_RENEGOTIATE, sc.SEC_I_CONTINUE_NEEDED]
    chunk = bytes(16384)
    statuses = [h.isc(s.prot(chunk, APPLICATION_DATA))[0] for _ in range(STASH_LIMIT // 16384 + 1)]
    assert set(statuses[:-1]) == {sc.SEC_I_CONTINUE_NEEDED}
    assert statuses[-1] == sc.SEC_E_ILLEGAL_MESSAGE
    ctx = X.CONTEXTS.get(h.ctx)
    assert ctx is not None and ctx.failure_alert == A.unexpected_message and h.alert
    assert h.isc(s.prot(chunk, APPLICATION_DATA))[0] == sc.SEC_E_ILLEGAL_MESSAGE
    h.close()


@pytest.mark.parametrize("disabled", [None, "NISTP256"], ids=["offered", "not_offered"])
def test_ecdsa_leaf_curve_must_be_offered(disabled: str | None) -> None:
    """TLS 1.2: the server's ECDSA P-256 certificate when secp256r1 was not offered (a
    CRYPTO_SETTINGS entry took it off) fails ISC with illegal_parameter (RFC 8422 5.3; BoGo
    CheckLeafCurve); with it offered the same flight completes."""
    crypto = [
        sc.CRYPTO_SETTINGS(eAlgorithmUsage=sc.TlsParametersCngAlgUsageKeyExchange, strCngAlgId=d)
        for d in ([disabled] if disabled else [])
    ]
    params = [
        sc.TLS_PARAMETERS(
            grbitDisabledProtocols=sc.SP_PROT_TLS1_3_CLIENT,
            cDisabledCrypto=len(crypto),
            pDisabledCrypto=crypto or None,
        )
    ]
    auth = sc.SCH_CREDENTIALS(
        dwVersion=sc.SCH_CREDENTIALS_VERSION,
        dwFlags=sc.SCH_CRED_MANUAL_CRED_VALIDATION,
        cTlsParameters=1,
        pTlsParameters=params,
    )
    cred = sc.CredHandle()
    assert (
        sc.AcquireCredentialsHandle(
            None, sc.UNISP_NAME, sc.SECPKG_CRED_OUTBOUND, None, auth, None, None, cred, None
        )
        == sc.SEC_E_OK
    )
    s, h = Server12(), Harness(cred=cred)
    try:
        ch = s.read_client_hello(h.start())
        groups = find_ext(ch.extensions, Ext.supported_groups)
        assert groups is not None
        offered = [int.from_bytes(groups[i : i + 2], "big") for i in range(2, len(groups), 2)]
        assert (SECP256R1 in offered) == (disabled is None)
        status, _ = h.feed(s.first_flight())
        if disabled is None:
            assert status == sc.SEC_I_CONTINUE_NEEDED, status
        else:
            assert status == ILLEGAL
            assert s.open_alert(h.alert) == (2, A.illegal_parameter)
    finally:
        h.close()
        sc.FreeCredentialsHandle(cred)
