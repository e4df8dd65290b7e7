"""TlsServer's OCSP stapling (``ocsp_response=``) against the package's revocation checks."""

from __future__ import annotations

import pytest

import schannel_py as sc
from schannel_py.driver import SspiDriver, SspiError
from schannel_py.testing import (
    Pki,
    TlsServer,
    Transport,
    acquire_credential,
    make_pki,
    reference_client,
    trusted_root,
)
from schannel_py.testing.pki import make_ocsp_response
from tests.support.revocation import staple_property

VERSIONS = [("1.3",), ("1.2",)]
END_CERT = sc.SCH_CRED_REVOCATION_CHECK_END_CERT


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki()  # no OCSP or CRL URL: only a staple can answer


def connect(pki: Pki, server: TlsServer, flags: int = END_CERT) -> SspiDriver:
    with trusted_root(pki.root):
        client = reference_client(Transport(server), acquire_credential(flags=flags))
        client.handshake()
    return client


@pytest.mark.parametrize("versions", VERSIONS, ids=["tls13", "tls12"])
def test_a_good_staple_answers_the_revocation_check(pki: Pki, versions: tuple) -> None:
    staple = make_ocsp_response(pki.leaf, "good")
    server = TlsServer(pki.leaf, versions=versions, ocsp_response=staple)
    client = connect(pki, server)
    assert server.stapled and server.handshake_complete
    assert staple_property(client.ctx) == staple


@pytest.mark.parametrize("versions", VERSIONS, ids=["tls13", "tls12"])
def test_a_revoked_staple_fails_the_handshake(pki: Pki, versions: tuple) -> None:
    server = TlsServer(
        pki.leaf, versions=versions, ocsp_response=make_ocsp_response(pki.leaf, "revoked")
    )
    with pytest.raises(SspiError) as failure:
        connect(pki, server)
    assert failure.value.status == sc.CRYPT_E_REVOKED
    assert server.stapled and server.alerts == [(2, 44)]  # certificate_revoked


@pytest.mark.parametrize("versions", VERSIONS, ids=["tls13", "tls12"])
def test_without_a_staple_revocation_cannot_be_checked(pki: Pki, versions: tuple) -> None:
    server = TlsServer(pki.leaf, versions=versions)
    with pytest.raises(SspiError) as failure:
        connect(pki, server)
    assert failure.value.status == sc.CRYPT_E_NO_REVOCATION_CHECK  # no URL to ask
    assert not server.stapled


@pytest.mark.parametrize("versions", VERSIONS, ids=["tls13", "tls12"])
def test_nothing_is_stapled_unless_the_client_asks(pki: Pki, versions: tuple) -> None:
    staple = make_ocsp_response(pki.leaf, "good")
    server = TlsServer(pki.leaf, versions=versions, ocsp_response=staple)
    client = connect(pki, server, flags=0)  # no revocation flag: no status_request
    assert server.handshake_complete and not server.stapled
    assert staple_property(client.ctx) is None
