"""OCSP stapling in the sans-IO TLS core (no SSPI): ClientConfig.ocsp_stapling, the
status_request it sends, TLSClient.ocsp_staple and HandshakeResult.ocsp_staple, and when
config.verify_certificate runs relative to the staple."""

from __future__ import annotations

import os

import pytest

from schannel_py.testing.builders import (
    Server12,
    Server13,
    certificate_status,
    record,
    split_records,
)
from schannel_py.tls import TLS1_2, TLS1_3, ClientConfig, TLSClient, TLSError
from schannel_py.tls.alerts import AlertDescription as A
from schannel_py.tls.messages import (
    STATUS_REQUEST_OCSP,
    ClientHello,
    Ext,
    find_ext,
    parse_certificate_status,
)
from schannel_py.tls.record import HANDSHAKE

STAPLE = bytes.fromhex("30030a0101")


def client(stapling: bool, seen: list[bytes | None] | None = None) -> TLSClient:
    """A client offering TLS 1.3 and 1.2; ``seen`` collects ocsp_staple at each check."""
    holder: list[TLSClient] = []

    def verify(chain: list[bytes]) -> None:
        if seen is not None:
            seen.append(holder[0].ocsp_staple)

    cfg = ClientConfig(
        server_name="localhost",
        versions=(TLS1_3, TLS1_2),
        ocsp_stapling=stapling,
        verify_certificate=verify,
    )
    c = TLSClient(cfg, os.urandom)
    holder.append(c)
    c.start()
    return c


def feed(c: TLSClient, data: bytes) -> None:
    for rec in split_records(data):
        c.receive_record(rec)


@pytest.mark.parametrize("stapling", [False, True])
def test_status_request_only_when_asked(stapling: bool) -> None:
    c = client(stapling)
    ch = Server13().read_client_hello(c.data_to_send())
    body = find_ext(ch.extensions, Ext.status_request)
    assert body == (STATUS_REQUEST_OCSP if stapling else None)
    if stapling:
        assert body == b"\x01\x00\x00\x00\x00"
        # Right after server_name.
        assert [code for code, _ in ch.extensions][:2] == [Ext.server_name, Ext.status_request]
    assert c.ocsp_staple is None


def test_tls13_staple_from_the_leaf_entry() -> None:
    seen: list[bytes | None] = []
    c = client(True, seen)
    s = Server13()
    s.read_client_hello(c.data_to_send())
    sh = s.sh_flight()
    ee = s.encrypted_extensions()
    cert = s.certificate(entry_extensions=[[(Ext.status_request, certificate_status(STAPLE))]])
    feed(c, sh + s.prot(ee + cert + s.certificate_verify() + s.finished()))
    assert c.handshake_complete
    assert seen == [STAPLE]  # set before the check ran
    assert c.ocsp_staple == STAPLE
    assert c.result is not None and c.result.ocsp_staple == STAPLE
    assert "ocsp_staple=" in repr(c.result)


def test_tls13_no_staple_is_none() -> None:
    c = client(True)
    s = Server13()
    s.read_client_hello(c.data_to_send())
    feed(c, s.full_flight())
    assert c.result is not None and c.result.ocsp_staple is None


def test_tls13_unrequested_staple_is_unsupported_extension() -> None:
    c = client(False)
    s = Server13()
    s.read_client_hello(c.data_to_send())
    sh = s.sh_flight()
    cert = s.certificate(entry_extensions=[[(Ext.status_request, certificate_status(STAPLE))]])
    with pytest.raises(TLSError) as err:
        feed(c, sh + s.prot(s.encrypted_extensions() + cert))
    assert err.value.description == A.unsupported_extension


def tls12_flight(s: Server12, *, status: bool, ack: bool = True) -> bytes:
    msgs = s.server_hello(extra=[(Ext.status_request, b"")] if ack else [])
    msgs += s.certificate()
    if status:
        msgs += s.certificate_status(STAPLE)
    msgs += s.server_key_exchange() + s.server_hello_done()
    return record(HANDSHAKE, msgs)


@pytest.mark.parametrize("status", [True, False], ids=["stapled", "skipped"])
def test_tls12_check_waits_for_the_certificate_status(status: bool) -> None:
    seen: list[bytes | None] = []
    c = client(True, seen)
    s = Server12()
    s.read_client_hello(c.data_to_send())
    feed(c, tls12_flight(s, status=status))
    expected = STAPLE if status else None
    assert seen == [expected]
    s.read_client_flight(c.data_to_send())
    feed(c, s.ccs() + s.prot(s.finished()))
    assert c.result is not None and c.result.version == TLS1_2
    assert c.result.ocsp_staple == expected


def test_tls12_without_ack_the_check_runs_at_the_certificate() -> None:
    """No acknowledgement: the check runs on the Certificate itself, as without stapling
    (before the ServerKeyExchange is read: a bad one cannot hide a certificate failure)."""
    calls: list[str] = []

    def verify(chain: list[bytes]) -> None:
        calls.append("verify")
        raise TLSError(A.bad_certificate, "rejected")

    cfg = ClientConfig(versions=(TLS1_3, TLS1_2), ocsp_stapling=True, verify_certificate=verify)
    c = TLSClient(cfg, os.urandom)
    c.start()
    s = Server12()
    s.read_client_hello(c.data_to_send())
    msgs = s.server_hello() + s.certificate()
    with pytest.raises(TLSError) as err:
        feed(c, record(HANDSHAKE, msgs))
    assert err.value.description == A.bad_certificate and calls == ["verify"]


@pytest.mark.parametrize(
    ("body", "ok"),
    [
        (certificate_status(STAPLE), True),
        (certificate_status(STAPLE, status_type=2), False),
        (b"", False),
        (b"\x01", False),
        (b"\x01\x00\x00\x00", False),
        (b"\x01\x00\x00\x06" + STAPLE, False),
        (certificate_status(STAPLE) + b"\x00", False),
    ],
)
def test_parse_certificate_status(body: bytes, ok: bool) -> None:
    if ok:
        assert parse_certificate_status(body) == STAPLE
    else:
        with pytest.raises(TLSError) as err:
            parse_certificate_status(body)
        assert err.value.description == A.decode_error


def test_stapling_adds_nothing_when_off() -> None:
    """Off (the default) the ClientHello is the one without the option, byte for byte
    but for the random values."""
    rnd = [bytes(range(32))] * 100

    def fixed(n: int) -> bytes:
        return rnd.pop()[:n] if n <= 32 else os.urandom(n)

    def hello(stapling: bool) -> ClientHello:
        c = TLSClient(ClientConfig(server_name="localhost", ocsp_stapling=stapling), fixed)
        c.start()
        return Server13().read_client_hello(c.data_to_send())

    off, default = hello(False), ClientConfig()
    assert default.ocsp_stapling is False
    on = hello(True)
    assert [e for e in on.extensions if e[0] != Ext.status_request] == off.extensions
