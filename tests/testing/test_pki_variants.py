"""Pki's bad-certificate variants, each served by TlsServer to a validating client."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography import x509

import schannel_py as sc
from schannel_py.driver import SspiError
from schannel_py.testing import (
    Issued,
    Pki,
    TlsServer,
    Transport,
    acquire_credential,
    client_certificate_context,
    make_pki,
    reference_client,
    trusted_root,
)
from schannel_py.tls.alerts import AlertDescription as A


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki(ip_addresses=["127.0.0.1"])


def _handshake(pki: Pki, server: TlsServer, cred: sc.CredHandle | None = None) -> None:
    with trusted_root(pki.root):
        client = reference_client(Transport(server), cred or acquire_credential())
        client.handshake()


def test_the_leaf_itself_is_accepted(pki: Pki) -> None:
    server = TlsServer(pki.leaf)
    _handshake(pki, server)
    assert server.handshake_complete


VARIANTS: dict[str, tuple[Callable[[Pki], Issued], int, int]] = {
    "expired": (Pki.expired, sc.SEC_E_CERT_EXPIRED, A.certificate_expired),
    "not_yet_valid": (Pki.not_yet_valid, sc.SEC_E_CERT_EXPIRED, A.certificate_expired),
    "wrong_name": (Pki.wrong_name, sc.SEC_E_WRONG_PRINCIPAL, A.certificate_unknown),
    "untrusted": (Pki.untrusted, sc.SEC_E_UNTRUSTED_ROOT, A.unknown_ca),
    "wrong_usage": (Pki.wrong_usage, sc.SEC_E_CERT_WRONG_USAGE, A.unsupported_certificate),
}


@pytest.mark.parametrize("name", list(VARIANTS))
@pytest.mark.parametrize("versions", [("1.3",), ("1.2",)], ids=["tls13", "tls12"])
def test_each_variant_is_refused_for_its_own_reason(
    pki: Pki, name: str, versions: tuple[str, ...]
) -> None:
    make, status, alert = VARIANTS[name]
    server = TlsServer(make(pki), versions=versions)  # type: ignore[arg-type]
    with pytest.raises(SspiError) as failure:
        _handshake(pki, server)
    assert failure.value.status == status
    assert server.alerts == [(2, alert)]


def test_variants_differ_from_the_leaf_in_one_thing_only(pki: Pki) -> None:
    leaf = pki.leaf.cert
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    for name, (make, _, _) in VARIANTS.items():
        bad = make(pki)
        assert bad.key is pki.leaf.key, name
        if name != "wrong_name":
            assert (
                bad.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                == san
            ), name
        if name == "untrusted":
            assert bad.root.der != pki.root.der and len(bad.ancestors) == 2
        else:
            assert bad.issuer is pki.intermediate, name


def test_a_client_certificate_from_the_same_pki(pki: Pki) -> None:
    issued = pki.client("alice")
    server = TlsServer(pki.leaf, client_auth="required", client_cas=[pki.root])
    cred = acquire_credential(certificate=client_certificate_context(issued))
    _handshake(pki, server, cred)
    assert server.client_certificate is not None
    assert server.client_certificate[0] == issued.der
