"""My loop sends the alert SChannel gives it when the server's certificate is bad."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from myloop import LoopError, MyClient

import schannel_py as S
from schannel_py.testing import Issued, Pki, TlsServer, Transport

CERTIFICATE_EXPIRED = 45  # TLS alert descriptions (RFC 8446 6.2)
CERTIFICATE_UNKNOWN = 46
UNKNOWN_CA = 48


@pytest.mark.parametrize(
    ("bad_certificate", "status", "alert"),
    [
        (Pki.wrong_name, S.SEC_E_WRONG_PRINCIPAL, CERTIFICATE_UNKNOWN),
        (Pki.untrusted, S.SEC_E_UNTRUSTED_ROOT, UNKNOWN_CA),
        (Pki.expired, S.SEC_E_CERT_EXPIRED, CERTIFICATE_EXPIRED),
    ],
    ids=["wrong-name", "untrusted", "expired"],
)
def test_alert_after_bad_certificate(
    schannel_pki: Pki,
    schannel_credential: S.CredHandle,
    bad_certificate: Callable[[Pki], Issued],
    status: int,
    alert: int,
) -> None:
    server = TlsServer(bad_certificate(schannel_pki))
    transport = Transport(server)
    client = MyClient(transport.send, transport.recv, schannel_credential, "localhost")
    with pytest.raises(LoopError) as failure:
        client.connect()
    assert failure.value.status == status
    # The server read a fatal alert from the loop, and nothing after it.
    assert server.alerts == [(2, alert)]
    assert not server.handshake_complete
