"""My loop retries with a client certificate after SEC_I_INCOMPLETE_CREDENTIALS."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from myloop import MyClient

import schannel_py as S
from schannel_py.testing import (
    Issued,
    Pki,
    TlsServer,
    Transport,
    acquire_credential,
    client_certificate_context,
)


@pytest.mark.parametrize("version", ["1.3", "1.2"])
def test_retry_with_client_certificate(
    schannel_pki: Pki,
    schannel_trusted_ca: Issued,
    schannel_client_certificate: Issued,
    schannel_server_factory: Callable[..., TlsServer],
    version: str,
) -> None:
    server = schannel_server_factory(
        versions=[version], client_auth="required", client_cas=[schannel_pki.root], echo=True
    )
    transport = Transport(server)
    # No certificate, and SChannel may not pick one itself: it must ask the loop.
    first = acquire_credential(flags=S.SCH_CRED_NO_DEFAULT_CREDS)
    offered: list[S.CredHandle] = []

    def with_certificate() -> S.CredHandle:
        cred = acquire_credential(
            certificate=client_certificate_context(schannel_client_certificate)
        )
        offered.append(cred)
        return cred

    client = MyClient(
        transport.send, transport.recv, first, "localhost", client_certificate=with_certificate
    )
    client.connect()

    assert client.statuses.count(S.SEC_I_INCOMPLETE_CREDENTIALS) == 1
    assert len(offered) == 1
    assert server.client_certificate is not None
    assert server.client_certificate[0] == schannel_client_certificate.der
    client.send(b"hello")
    assert client.recv() == b"hello"
