"""TlsServer's TLS 1.3 post-handshake authentication (``request_certificate``)."""

from __future__ import annotations

import pytest

import schannel_py as sc
from schannel_py.driver import SspiDriver
from schannel_py.testing import (
    Pki,
    TlsServer,
    Transport,
    acquire_credential,
    client_certificate_context,
    make_pki,
    reference_client,
)
from schannel_py.tls.alerts import AlertDescription
from schannel_py.tls.messages import HandshakeType
from schannel_py.tls.record import HANDSHAKE


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki()


def connect(server: TlsServer, cred: sc.CredHandle, **options: object) -> SspiDriver:
    client = reference_client(Transport(server), cred, **options)  # type: ignore[arg-type]
    client.handshake()
    return client


def test_the_client_answers_a_request_after_the_handshake(pki: Pki) -> None:
    issued = pki.client("alice")
    server = TlsServer(pki.leaf, client_cas=[pki.root])
    client = connect(
        server,
        acquire_credential(certificate=client_certificate_context(issued), manual_validation=True),
    )
    assert server.client_certificate is None  # none asked during the handshake
    seen: list[int] = []
    client.on_renegotiate = lambda drv: seen.append(1)
    server.request_certificate()
    server.send_data(b"after the request")
    assert client.recv() == b"after the request"
    assert seen  # DecryptMessage said SEC_I_RENEGOTIATE; ISC answered
    assert server.error is None and server.post_handshake_auths == 1
    assert server.client_certificate == [issued.der, pki.intermediate.der]  # type: ignore[union-attr]
    client.send(b"still talking")  # the connection goes on under the same keys
    assert bytes(server.received) == b"still talking"


def test_a_request_made_before_the_handshake_ends_follows_it(pki: Pki) -> None:
    issued = pki.client("bob")
    server = TlsServer(pki.leaf)
    server.request_certificate()  # queued: after the handshake, in the same flight
    server.send_data(b"data")
    client = connect(
        server,
        acquire_credential(certificate=client_certificate_context(issued), manual_validation=True),
    )
    assert client.recv() == b"data"
    assert server.post_handshake_auths == 1
    assert server.client_certificate and server.client_certificate[0] == issued.der


def test_two_requests_are_answered_in_order(pki: Pki) -> None:
    issued = pki.client("carol")
    server = TlsServer(pki.leaf, echo=True)
    client = connect(
        server,
        acquire_credential(certificate=client_certificate_context(issued), manual_validation=True),
    )
    server.request_certificate()
    server.request_certificate(cas=[pki.root])
    client.send(b"ping")
    assert client.recv() == b"ping"
    assert server.post_handshake_auths == 2 and server.error is None


def test_a_client_without_a_certificate_sends_an_empty_one(pki: Pki) -> None:
    server = TlsServer(pki.leaf)
    client = connect(
        server, acquire_credential(flags=sc.SCH_CRED_NO_DEFAULT_CREDS, manual_validation=True)
    )
    server.request_certificate()
    server.send_data(b"x")
    assert client.recv() == b"x"
    assert server.post_handshake_auths == 1 and server.client_certificate == []


def test_only_a_client_that_offered_it_may_be_asked(pki: Pki) -> None:
    server = TlsServer(pki.leaf)
    connect(
        server,
        acquire_credential(manual_validation=True),
        flags64=sc.ISC_REQ_NO_POST_HANDSHAKE_AUTH,
    )
    with pytest.raises(ValueError, match="did not offer post_handshake_auth"):
        server.request_certificate()
    tls12 = TlsServer(pki.leaf, versions=("1.2",))
    connect(tls12, acquire_credential(manual_validation=True))
    with pytest.raises(ValueError, match="TLS 1.3 only"):
        tls12.request_certificate()


def test_an_answer_to_no_request_is_unexpected(pki: Pki) -> None:
    server = TlsServer(pki.leaf)
    connect(server, acquire_credential(manual_validation=True))
    # A client Finished nobody asked for, sealed under the client's application keys.
    finished = bytes([HandshakeType.finished]) + (32).to_bytes(3, "big") + bytes(32)
    server.receive(server._protection13(server._c_ap).seal(HANDSHAKE, finished))
    assert server.error is not None
    assert server.error.alert == AlertDescription.unexpected_message
