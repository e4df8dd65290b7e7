"""My loop sends the alert SChannel gives it when the server's certificate is bad."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from myloop import LoopError, MyClient

import schannel_py as S
from schannel_py.testing import Pki, TlsServer, Transport, make_leaf, make_self_signed

CERTIFICATE_UNKNOWN = 46  # TLS alert descriptions (RFC 8446 6.2)
UNKNOWN_CA = 48


def wrong_name(pki: Pki) -> TlsServer:
    return TlsServer(make_leaf(pki.intermediate, dns_names=["elsewhere.example"]))


def untrusted(pki: Pki) -> TlsServer:
    return TlsServer(make_self_signed(["localhost"]))


@pytest.mark.parametrize(
    ("make_server", "status", "alert"),
    [
        (wrong_name, S.SEC_E_WRONG_PRINCIPAL, CERTIFICATE_UNKNOWN),
        (untrusted, S.SEC_E_UNTRUSTED_ROOT, UNKNOWN_CA),
    ],
    ids=["wrong-name", "untrusted"],
)
def test_alert_after_bad_certificate(
    schannel_pki: Pki,
    schannel_credential: S.CredHandle,
    make_server: Callable[[Pki], TlsServer],
    status: int,
    alert: int,
) -> None:
    server = make_server(schannel_pki)
    transport = Transport(server)
    client = MyClient(transport.send, transport.recv, schannel_credential, "localhost")
    with pytest.raises(LoopError) as failure:
        client.connect()
    assert failure.value.status == status
    # The server read a fatal alert from the loop, and nothing after it.
    assert server.alerts == [(2, alert)]
    assert not server.handshake_complete
