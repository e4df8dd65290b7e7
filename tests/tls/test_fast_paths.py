"""The handshake fast paths (issue 8) behave exactly like the code they replaced."""

from __future__ import annotations

import datetime
import random

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from schannel_py.sspi.context import server_name_for
from schannel_py.tls import sigalgs
from schannel_py.tls.alerts import TLSError
from schannel_py.tls.client import ClientConfig
from schannel_py.tls.client_hello import first_client_hello, first_offer
from schannel_py.tls.codec import Reader, Writer
from schannel_py.tls.groups import SECP256R1, X25519, X25519MLKEM768
from schannel_py.tls.messages import ClientHello, Ext, Offer


def test_reader_sub_checks_trailing_bytes() -> None:
    r = Reader(b"\x00\x03\x00\x01\x02")
    with pytest.raises(TLSError, match="trailing"):
        with r.sub(2) as inner:
            assert inner.uint16() == 1
    r = Reader(b"\x00\x02\x00\x01")
    with r.sub(2) as inner:
        assert inner.uint16() == 1
    assert r.at_end()


def test_reader_sub_lets_inner_errors_through() -> None:
    r = Reader(b"\x00\x01\x07")
    with pytest.raises(KeyError):
        with r.sub(2):
            raise KeyError("inner")  # not replaced by a trailing-bytes decode_error


@pytest.mark.parametrize(
    "data, call",
    [
        (b"\x00", lambda r: r.uint16()),
        (b"\x00\x05\x01", lambda r: r.vector(2)),
        (b"\x00", lambda r: r.vector(2)),
        (b"\x00\x01", lambda r: r.sub(2)),
        (b"\x03\x01\x02\x03", lambda r: r.vector(1, 4)),
        (b"\x03\x01\x02\x03", lambda r: r.vector(1, 0, 2)),
    ],
)
def test_reader_truncation_is_decode_error(data: bytes, call: object) -> None:
    with pytest.raises(TLSError):
        call(Reader(data))  # type: ignore[operator]


def test_reader_vector_and_uint16() -> None:
    r = Reader(b"\x12\x34\x00\x02ab\x01")
    assert r.uint16() == 0x1234
    assert r.vector(2) == b"ab"
    assert r.remaining == 1


def test_writer_sub_prefixes_length_and_drops_on_error() -> None:
    w = Writer()
    with w.sub(2) as inner:
        inner.uint16(7)
    assert w.getvalue() == b"\x00\x02\x00\x07"
    with pytest.raises(ValueError):
        with w.sub(2) as inner:
            inner.uint8(1)
            raise ValueError
    assert w.getvalue() == b"\x00\x02\x00\x07"


def test_offer_lists_are_fresh_copies() -> None:
    exts = [(0x000A, b"\x00\x04\x00\x1d\x00\x17"), (0x002B, b"\x02\x03\x04")]
    ch = ClientHello(b"\x00" * 32, b"", [0x1301], exts)
    a = Offer.from_client_hello(ch)
    a.groups.append(1)
    b = Offer.from_client_hello(ch)
    assert b.groups == [0x1D, 0x17] and b.versions == [0x0304]
    bad = ClientHello(b"\x00" * 32, b"", [0x1301], [(0x000A, b"\x00\x03\x00\x1d\x00")])
    for _ in range(2):  # a parse failure is never cached
        with pytest.raises(TLSError):
            Offer.from_client_hello(bad)


def _cert() -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "t")])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )


def test_public_key_of_follows_the_certificate_object() -> None:
    a, b = _cert(), _cert()
    assert sigalgs.public_key_of(a) == a.public_key()
    assert sigalgs.public_key_of(b) == b.public_key()
    assert sigalgs.public_key_of(a) == a.public_key()
    assert sigalgs.public_key_of(a) != b.public_key()


@pytest.mark.parametrize(
    "target, sni",
    [("", None), ("10.0.0.1", None), ("[::1]", None), ("example.com", "example.com")],
)
def test_server_name_for_is_stable(target: str, sni: str | None) -> None:
    assert server_name_for(target) == sni
    assert server_name_for(target) == sni


@pytest.mark.parametrize("versions", [(0x0304,), (0x0304, 0x0303), (0x0303,)])
@pytest.mark.parametrize("alpn", [[], [b"h2", b"http/1.1"]])
@pytest.mark.parametrize("hybrid", [False, True])
@pytest.mark.parametrize("post_handshake_auth", [False, True])
def test_first_offer_is_what_the_client_hello_says(
    versions: tuple[int, ...], alpn: list[bytes], hybrid: bool, post_handshake_auth: bool
) -> None:
    """The Offer built from the configuration (issue 20: the first ClientHello is not
    parsed back) equals the one read from the ClientHello's bytes, with and without
    a PSK extension added after it."""
    groups = (X25519MLKEM768, X25519, SECP256R1) if hybrid else (X25519, SECP256R1)
    shares = (X25519MLKEM768, X25519) if hybrid else (X25519,)
    cfg = ClientConfig(
        server_name="example.test",
        alpn=alpn,
        versions=versions,
        groups=groups,
        key_share_groups=shares,
        post_handshake_auth=post_handshake_auth,
    )
    rnd = random.Random(repr((versions, alpn, hybrid))).randbytes
    ch, key_shares = first_client_hello(cfg, rnd)
    assert first_offer(cfg, ch, key_shares) == Offer.from_client_hello(ch)
    ch.extensions.append((Ext.pre_shared_key, bytes(40)))
    assert first_offer(cfg, ch, key_shares) == Offer.from_client_hello(ch)
