"""schannel_py.testing's trust, "MY" and credential helpers, through real handshakes."""

from __future__ import annotations

import os

import pytest

import schannel_py as sc
from schannel_py import crypt32
from schannel_py.driver import SspiError
from schannel_py.testing import (
    ManualClock,
    TlsServer,
    Transport,
    acquire_credential,
    certificate_in_my,
    deterministic,
    make_leaf,
    make_pki,
    reference_client,
    trusted_root,
)
from schannel_py.tls.messages import Ext, find_ext
from tests.support.paths import ROOT


def _roots() -> set[bytes]:
    store = crypt32.CertOpenSystemStore(None, "ROOT")
    found, ctx = set(), None
    while (ctx := crypt32.CertEnumCertificatesInStore(store, ctx)) is not None:
        found.add(ctx.pbCertEncoded)
    crypt32.CertCloseStore(store)
    return found


def _validated_handshake(server: TlsServer) -> None:
    reference_client(Transport(server), acquire_credential()).handshake()


def test_trusted_root_validates_the_server_then_is_gone(isolated_stores: None) -> None:
    pki = make_pki(dns_names=["localhost"])
    with pytest.raises(SspiError) as untrusted:
        _validated_handshake(TlsServer(pki.leaf))
    assert untrusted.value.status == sc.SEC_E_UNTRUSTED_ROOT
    with trusted_root(pki.root) as ctx:
        assert ctx.pbCertEncoded == pki.root.der in _roots()
        _validated_handshake(TlsServer(pki.leaf))
    assert pki.root.der not in _roots()
    with pytest.raises(SspiError):
        _validated_handshake(TlsServer(pki.leaf))


def test_trusted_root_keeps_a_root_that_was_already_there(isolated_stores: None) -> None:
    pki = make_pki()
    with trusted_root(pki.root):
        with trusted_root(pki.root.der):
            pass
        assert pki.root.der in _roots()
    assert pki.root.der not in _roots()


def test_trusted_root_refuses_garbage(isolated_stores: None) -> None:
    with pytest.raises(ValueError), trusted_root(b"not a certificate"):
        pass


def test_certificate_in_my_is_chosen_automatically(tmp_path: os.PathLike[str]) -> None:
    pki = make_pki(dns_names=["localhost"])
    mine = make_leaf(pki.intermediate, common_name="auto", dns_names=(), eku=("clientAuth",))
    before = os.environ.get("SCHANNEL_PY_MY_STORE")
    server = TlsServer(client_auth="required", client_cas=[pki.root])
    with certificate_in_my(mine) as ctx:
        assert ctx.pbCertEncoded == mine.der
        assert os.environ["SCHANNEL_PY_MY_STORE"] != before
        client = reference_client(
            Transport(server),
            acquire_credential(manual_validation=True),
            req_flags=sc.ISC_REQ_CONFIDENTIALITY
            | sc.ISC_REQ_STREAM
            | sc.ISC_REQ_ALLOCATE_MEMORY
            | sc.ISC_REQ_REPLAY_DETECT
            | sc.ISC_REQ_SEQUENCE_DETECT,
            check_flags=False,
        )
        client.handshake()
    assert server.client_certificate is not None and server.client_certificate[0] == mine.der
    assert os.environ.get("SCHANNEL_PY_MY_STORE") == before


def test_acquire_credential_disables_versions() -> None:
    server = TlsServer()
    client = reference_client(
        Transport(server), acquire_credential(manual_validation=True, versions=("1.2",))
    )
    client.handshake()
    assert server.version == 0x0303


def test_acquire_credential_disables_protocol_bits() -> None:
    server = TlsServer()
    cred = acquire_credential(manual_validation=True, disabled=sc.SP_PROT_TLS1_3_CLIENT)
    reference_client(Transport(server), cred).handshake()
    assert server.version == 0x0303


def test_acquire_credential_schannel_cred_is_the_legacy_structure() -> None:
    """SCHANNEL_CRED (version 4) cannot do TLS 1.3: the handshake is TLS 1.2."""
    cred = acquire_credential(manual_validation=True, schannel_cred=True)
    attr = sc.SecPkgCred_SupportedProtocols()
    assert sc.QueryCredentialsAttributes(cred, sc.SECPKG_ATTR_SUPPORTED_PROTOCOLS, attr) == 0
    assert not attr.grbitProtocol & sc.SP_PROT_TLS1_3_CLIENT
    server = TlsServer()
    reference_client(Transport(server), cred).handshake()
    assert server.version == 0x0303
    with pytest.raises(ValueError, match="SCHANNEL_CRED"):
        acquire_credential(schannel_cred=True, disabled=sc.SP_PROT_TLS1_2_CLIENT)
    with pytest.raises(ValueError, match="SCHANNEL_CRED"):
        acquire_credential(schannel_cred=True, versions=("1.2",))


def test_acquire_credential_raises_on_a_refused_credential() -> None:
    two_checks = sc.SCH_CRED_REVOCATION_CHECK_CHAIN | sc.SCH_CRED_REVOCATION_CHECK_END_CERT
    with pytest.raises(ValueError, match="AcquireCredentialsHandle"):
        acquire_credential(schannel_cred=True, flags=two_checks)


def test_manual_clock_expires_a_ticket_in_the_session_cache() -> None:
    """A TLS 1.3 ticket is offered again until the clock passes its lifetime."""
    clock = ManualClock(1_900_000_000.0)
    assert clock() == 1_900_000_000.0
    target = "manual-clock.test"

    def offers_ticket() -> bool:
        server = TlsServer(tickets=1, echo=True)
        client = reference_client(Transport(server), cred, target=target)
        client.handshake()
        client.send(b"ping")
        assert client.recv() == b"ping"  # the ticket came first, into the cache
        assert server.client_hello is not None
        return find_ext(server.client_hello.extensions, Ext.pre_shared_key) is not None

    sc.SslEmptyCache(target)
    try:
        with deterministic(now=clock):
            cred = acquire_credential(manual_validation=True)
            assert not offers_ticket()
            assert offers_ticket()
            clock.advance(7199)  # TlsServer's tickets live 7200 s
            assert clock.now == clock() == 1_900_007_199.0
            assert offers_ticket()
            clock.advance(7200)
            assert not offers_ticket()
    finally:
        sc.SslEmptyCache(target)


def test_the_guide_quotes_the_clock_fixture_as_it_is() -> None:
    """docs/testing.md's Determinism section shows tests/conftest.py's ``clock`` fixture."""
    guide = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    start = guide.index("```python\n@pytest.fixture\ndef clock(") + len("```python\n")
    quoted = guide[start : guide.index("```", start)]
    assert quoted in (ROOT / "tests" / "conftest.py").read_text(encoding="utf-8")
