"""The extension-block codec and the key_share walk against Reader-based references.

read_extensions, encode_extensions and the Offer's key_share walk are written as
flat loops for speed; these properties pin them to the straightforward
presentation-language readings, on arbitrary bytes (hostile input included).
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from schannel_py.tls.alerts import TLSError
from schannel_py.tls.codec import Reader, Writer
from schannel_py.tls.messages import (
    ClientHello,
    Offer,
    encode_extensions,
    parse_alpn_list,
    parse_key_share_client,
    parse_u16_list,
    read_extensions,
)


def reference_read(data: bytes) -> list[tuple[int, bytes]]:
    """RFC 8446 section 4.2 read with the nested-reader primitives."""
    r = Reader(data)
    out: list[tuple[int, bytes]] = []
    seen: set[int] = set()
    if r.at_end():
        return out
    with r.sub(2) as block:
        while not block.at_end():
            code = block.uint16()
            body = block.vector(2)
            if code in seen:
                raise TLSError(50, "duplicate")
            seen.add(code)
            out.append((code, body))
    return out


def outcome(fn: object, data: bytes) -> object:
    try:
        return fn(data)  # type: ignore[operator]
    except TLSError as e:
        return ("error", int(e.description))


def reference_write(exts: list[tuple[int, bytes]]) -> bytes:
    w = Writer()
    with w.sub(2) as block:
        for code, body in exts:
            block.uint16(code)
            block.vector(2, body)
    return w.getvalue()


extension = st.tuples(st.integers(0, 0xFFFF), st.binary(max_size=40))


@given(st.binary(max_size=80))
def test_read_extensions_agrees_on_any_bytes(data: bytes) -> None:
    assert outcome(lambda d: read_extensions(Reader(d)), data) == outcome(reference_read, data)


@given(st.lists(extension, max_size=8), st.binary(max_size=4))
def test_well_formed_blocks_round_trip(exts: list[tuple[int, bytes]], tail: bytes) -> None:
    block = reference_write(exts)
    assert encode_extensions(exts) == block
    r = Reader(block + tail)
    got = outcome(lambda _: read_extensions(r), b"")
    assert got == outcome(reference_read, block)
    if len({code for code, _ in exts}) == len(exts):
        assert got == exts
        assert r.remaining == len(tail)  # the block is consumed, what follows is not


def share_groups_reference(body: bytes) -> list[int]:
    return [g for g, _ in parse_key_share_client(body)]


def offer_groups(body: bytes) -> list[int]:
    ch = ClientHello(bytes(32), b"", [0x1301], [(51, body)])
    return Offer.from_client_hello(ch).share_groups


@given(st.binary(max_size=40))
def test_key_share_walk_agrees_on_any_bytes(body: bytes) -> None:
    assert outcome(offer_groups, body) == outcome(share_groups_reference, body)


@given(st.lists(st.tuples(st.integers(0, 0xFFFF), st.binary(max_size=6)), max_size=4))
def test_key_share_walk_agrees_on_structured_bodies(shares: list[tuple[int, bytes]]) -> None:
    inner = b"".join(g.to_bytes(2, "big") + len(k).to_bytes(2, "big") + k for g, k in shares)
    body = len(inner).to_bytes(2, "big") + inner
    assert outcome(offer_groups, body) == outcome(share_groups_reference, body)


def reference_offer(ch: ClientHello) -> tuple[object, ...]:
    """The Offer fields by a walk over the extensions in order (later duplicates win)."""
    versions: list[int] = []
    groups: list[int] = []
    shares: list[int] = []
    schemes: list[int] = []
    alpn: list[bytes] = []
    for code, body in ch.extensions:
        if code == 43:
            versions = parse_u16_list(body, 1)
        elif code == 10:
            groups = parse_u16_list(body, 2)
        elif code == 51:
            shares = share_groups_reference(body)
        elif code == 13:
            schemes = parse_u16_list(body, 2)
        elif code == 16:
            alpn = parse_alpn_list(body)
    return (
        versions or [ch.legacy_version],
        groups,
        shares,
        schemes,
        alpn,
        {code for code, _ in ch.extensions},
    )


def u16_body(values: list[int], len_bytes: int) -> bytes:
    return (2 * len(values)).to_bytes(len_bytes, "big") + b"".join(
        v.to_bytes(2, "big") for v in values
    )


offer_extension = st.one_of(
    st.tuples(
        st.just(43), st.lists(st.integers(0, 0xFFFF), max_size=3).map(lambda v: u16_body(v, 1))
    ),
    st.tuples(
        st.sampled_from([10, 13]),
        st.lists(st.integers(0, 0xFFFF), max_size=3).map(lambda v: u16_body(v, 2)),
    ),
    st.tuples(
        st.just(51),
        st.lists(
            st.tuples(st.integers(0, 0xFFFF), st.binary(min_size=1, max_size=4)), max_size=2
        ).map(
            lambda s: (lambda inner: len(inner).to_bytes(2, "big") + inner)(
                b"".join(g.to_bytes(2, "big") + len(k).to_bytes(2, "big") + k for g, k in s)
            )
        ),
    ),
    st.tuples(st.integers(0, 60), st.binary(max_size=4)),
)


@given(st.lists(offer_extension, max_size=8))
def test_offer_matches_a_walk_in_order(exts: list[tuple[int, bytes]]) -> None:
    ch = ClientHello(bytes(32), b"", [0x1301], exts)

    def fields(c: ClientHello) -> tuple[object, ...]:
        o = Offer.from_client_hello(c)
        return (
            o.versions,
            o.groups,
            o.share_groups,
            o.signature_schemes,
            o.alpn,
            o.extension_types,
        )

    assert outcome(lambda _: fields(ch), b"") == outcome(lambda _: reference_offer(ch), b"")


def test_a_malformed_earlier_duplicate_still_fails() -> None:
    """A hook's duplicate extensions: every copy is read, not only the last."""
    ch = ClientHello(bytes(32), b"", [0x1301], [(51, b""), (51, b"\x00\x00")])
    assert outcome(lambda _: Offer.from_client_hello(ch), b"") == ("error", 50)
    ch = ClientHello(bytes(32), b"", [0x1301], [(43, b"\x03\x03"), (43, b"\x02\x03\x04")])
    assert outcome(lambda _: Offer.from_client_hello(ch), b"") == ("error", 50)
    ch = ClientHello(bytes(32), b"", [0x1301], [(43, b"\x02\x03\x03"), (43, b"\x02\x03\x04")])
    assert Offer.from_client_hello(ch).versions == [0x0304]  # well-formed: the last wins
