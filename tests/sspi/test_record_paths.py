"""The record paths: the record layer's one seal and one open make RFC 8446's
records (checked against the AEAD alone), DecryptMessage opens in the caller's
memory, and EncryptMessage and DecryptMessage give every layout, usual or not,
the records, statuses and buffer layouts SChannel does."""

from __future__ import annotations

import os
from pathlib import Path

import cryptography
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import schannel_py as sc
from schannel_py.testing import acquire_credential
from schannel_py.testing.memserver import MemoryServer
from schannel_py.tls import record as record_module
from schannel_py.tls.alerts import AlertDescription, TLSError
from schannel_py.tls.record import AEAD_IN_PLACE, MAX_PLAINTEXT, Protection13
from schannel_py.tls.suites import SUITES
from tests.support import peers
from tests.support.sspi_driver import CurlLoop

AES128 = SUITES[0x1301]
KEY, IV = bytes(range(16)), bytes(range(100, 112))


def pair() -> tuple[Protection13, Protection13]:
    """A sealing and an opening protection for the same traffic key."""
    return Protection13(AES128, b"", KEY, IV), Protection13(AES128, b"", KEY, IV)


def rfc_nonce(seq: int) -> bytes:
    """RFC 8446 section 5.3: the sequence number, padded, XORed with the IV."""
    return bytes(a ^ b for a, b in zip(IV, seq.to_bytes(12, "big"), strict=True))


def rfc_record(seq: int, ctype: int, content: bytes, padding: int = 0) -> bytes:
    """The protected record RFC 8446 section 5.2 defines, made with the AEAD alone."""
    inner = content + bytes([ctype]) + bytes(padding)
    header = bytes([23, 3, 3]) + (len(inner) + 16).to_bytes(2, "big")
    return header + AESGCM(KEY).encrypt(rfc_nonce(seq), inner, header)


def rfc_open(seq: int, record: bytes) -> tuple[int, bytes]:
    """(type, content) of a protected record, by RFC 8446 section 5.2 with the AEAD alone."""
    inner = AESGCM(KEY).decrypt(rfc_nonce(seq), record[5:], record[:5]).rstrip(b"\0")
    return inner[-1], inner[:-1]


def test_in_place_probe_matches_what_cryptography_allows() -> None:
    """cryptography 51 refuses AEAD input and output that overlap; 48 to 50 allow
    decrypting over the input (observed on 48.0.0, 50.0.2 and 51.0.1)."""
    major = int(cryptography.__version__.split(".")[0])
    assert AEAD_IN_PLACE == (major < 51)


#: The ways open_in_place can run here: decrypting a copy of the body always works,
#: decrypting over it only where the installed cryptography allows it.
OPEN_MODES = [False, True] if AEAD_IN_PLACE else [False]


@pytest.fixture(params=OPEN_MODES, ids=lambda v: "over-the-body" if v else "from-a-copy")
def open_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    monkeypatch.setattr(record_module, "AEAD_IN_PLACE", request.param)
    return bool(request.param)


# open_mode only patches a module constant, the same for every example.
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    content=st.binary(max_size=300),
    ctype=st.sampled_from([21, 22, 23]),
    padding=st.integers(0, 40),
)
def test_seal_and_open_match_the_rfc_record(
    open_mode: bool, content: bytes, ctype: int, padding: int
) -> None:
    if not content and ctype != 23:
        content = b"\x01"
    sealer, opener = pair()
    record = sealer.seal(ctype, content, padding)
    assert record == rfc_record(0, ctype, content, padding)
    buf = bytearray(record)
    got_type, length = opener.open_in_place(memoryview(buf))
    assert (got_type, bytes(buf[5 : 5 + length])) == rfc_open(0, record) == (ctype, content)
    assert buf[:5] == record[:5]
    assert opener.seq == 1
    assert pair()[1].open(record) == (ctype, content)


@pytest.mark.parametrize("size", [0, MAX_PLAINTEXT])
def test_open_in_place_full_and_empty_records(open_mode: bool, size: int) -> None:
    sealer, opener = pair()
    content = os.urandom(size)
    for _ in range(2):  # the second record reuses the work area
        buf = bytearray(sealer.seal(23, content))
        assert opener.open_in_place(memoryview(buf)) == (23, size)
        assert buf[5 : 5 + size] == content


def test_open_in_place_zeroes_the_body_on_a_bad_tag(open_mode: bool) -> None:
    sealer, opener = pair()
    buf = bytearray(sealer.seal(23, b"secret data" * 10))
    buf[-1] ^= 1
    with pytest.raises(TLSError) as e:
        opener.open_in_place(memoryview(buf))
    assert e.value.description == AlertDescription.bad_record_mac
    assert buf[5:-16] == bytes(len(buf) - 21)  # no unauthenticated plaintext left


def test_open_in_place_all_zero_inner_plaintext(open_mode: bool) -> None:
    sealer, opener = pair()
    buf = bytearray(sealer.seal(0, b"", 12))  # type 0: no content type at all
    with pytest.raises(TLSError) as e:
        opener.open_in_place(memoryview(buf))
    assert e.value.description == AlertDescription.unexpected_message


@pytest.mark.parametrize("n", [0, 1, 100, MAX_PLAINTEXT - 1, MAX_PLAINTEXT])
def test_seal_into_the_callers_memory_makes_the_rfc_record(n: int) -> None:
    sealer, _ = pair()
    data = os.urandom(n)
    for seq in range(2):  # the second record reuses the prepared views
        buf = bytearray(b"\xee" * (5 + n + 17 + 3))
        mv = memoryview(buf)
        mv[5 : 5 + n] = data
        sealer.seal_into(23, n, mv[:5], mv[5 : 5 + n + 3], mv[5 + n :])  # in place
        assert bytes(buf[: 5 + n + 17]) == rfc_record(seq, 23, data)
        assert buf[5 + n + 17 :] == b"\xee" * 3


@pytest.fixture
def loop(pki: peers.ServerPki, root_certs_env: Path) -> CurlLoop:
    loop = CurlLoop(
        MemoryServer(Path(pki.ecdsa.fullchain), Path(pki.ecdsa.key)), acquire_credential()
    )
    assert loop.handshake() == sc.SEC_E_OK
    loop.decrypt_all()  # tickets
    return loop


def decrypt_desc(data: object, n: int) -> sc.SecBufferDesc:
    return sc.SecBufferDesc(
        [sc.SecBuffer(n, sc.SECBUFFER_DATA, data)]  # type: ignore[arg-type]
        + [sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None) for _ in range(3)]
    )


def test_decrypt_message_works_in_the_callers_memory(loop: CurlLoop) -> None:
    first, second = b"first record", b"second, longer record" * 50
    wire = bytearray(loop.server.write(first) + loop.server.write(second))
    n1 = 5 + len(first) + 17
    desc = decrypt_desc(wire, len(wire))
    assert sc.DecryptMessage(loop.ctx, desc, 0, None) == sc.SEC_E_OK
    hdr, dat, trl, ext = desc.pBuffers
    assert [b.BufferType for b in desc.pBuffers] == [
        sc.SECBUFFER_STREAM_HEADER,
        sc.SECBUFFER_DATA,
        sc.SECBUFFER_STREAM_TRAILER,
        sc.SECBUFFER_EXTRA,
    ]
    assert (hdr.cbBuffer, dat.cbBuffer, trl.cbBuffer) == (5, len(first), 17)
    assert ext.cbBuffer == len(wire) - n1
    assert wire[5 : 5 + len(first)] == first  # decrypted where the ciphertext was
    assert dat.pvBuffer is not None and ext.pvBuffer is not None
    dat.pvBuffer[0] = ord("F")  # the DATA buffer is a view of the caller's bytearray
    assert wire[5:6] == b"F"
    rest = bytearray(ext.pvBuffer[: ext.cbBuffer])
    desc.release()
    desc = decrypt_desc(rest, len(rest))
    assert sc.DecryptMessage(loop.ctx, desc, 0, None) == sc.SEC_E_OK
    got = desc.pBuffers[1]
    assert got.pvBuffer is not None and bytes(got.pvBuffer[: got.cbBuffer]) == second
    assert desc.pBuffers[3].BufferType == sc.SECBUFFER_EMPTY
    desc.release()


@pytest.mark.parametrize("kind", ["bytes", "readonly", "memoryview", "bytearray"])
def test_decrypt_message_any_memory_gives_the_same_layout(loop: CurlLoop, kind: str) -> None:
    record = loop.server.write(b"payload")
    data: object = {
        "bytes": record,
        "readonly": memoryview(record),
        "memoryview": memoryview(bytearray(record)),
        "bytearray": bytearray(record),
    }[kind]
    desc = decrypt_desc(data, len(record))
    assert sc.DecryptMessage(loop.ctx, desc, 0, None) == sc.SEC_E_OK
    hdr, dat, trl, ext = desc.pBuffers
    assert (hdr.cbBuffer, dat.cbBuffer, trl.cbBuffer) == (5, 7, 17)
    assert dat.pvBuffer is not None and bytes(dat.pvBuffer[:7]) == b"payload"
    assert ext.BufferType == sc.SECBUFFER_EMPTY
    desc.release()


def test_decrypt_message_tampered_record_in_place(loop: CurlLoop) -> None:
    wire = bytearray(loop.server.write(b"do not reveal me"))
    wire[10] ^= 0x80
    desc = decrypt_desc(wire, len(wire))
    status = sc.DecryptMessage(loop.ctx, desc, 0, None)
    assert status == sc.SEC_E_MESSAGE_ALTERED
    assert b"reveal" not in wire and wire[5:-16] == bytes(len(wire) - 21)
    desc.release()
    again = bytearray(loop.server.write(b"later"))
    assert sc.DecryptMessage(loop.ctx, decrypt_desc(again, len(again)), 0, None) != sc.SEC_E_OK


def test_decrypt_message_incomplete_record_takes_the_general_path(loop: CurlLoop) -> None:
    wire = bytearray(loop.server.write(b"abc"))
    desc = decrypt_desc(wire, len(wire) - 4)
    assert sc.DecryptMessage(loop.ctx, desc, 0, None) == sc.SEC_E_INCOMPLETE_MESSAGE
    assert desc.pBuffers[0].BufferType == sc.SECBUFFER_MISSING
    assert desc.pBuffers[0].cbBuffer == 4
    desc = decrypt_desc(wire, len(wire))
    assert sc.DecryptMessage(loop.ctx, desc, 0, None) == sc.SEC_E_OK


def _encrypt_layout(sizes: sc.SecPkgContext_StreamSizes, data: bytes, kind: str) -> tuple:
    h, t, n = sizes.cbHeader, sizes.cbTrailer, len(data)
    if kind == "one buffer":
        buf = bytearray(h + n + t)
        mv = memoryview(buf)
        mv[h : h + n] = data
        views = [mv[:h], mv[h : h + n], mv[h + n :]]
    elif kind == "separate buffers":
        views = [memoryview(bytearray(h)), memoryview(bytearray(data)), memoryview(bytearray(t))]
    elif kind == "bytearrays":
        views = [bytearray(h), bytearray(data), bytearray(t)]  # type: ignore[list-item]
    elif kind == "roomy":
        views = [
            memoryview(bytearray(h + 7)),
            memoryview(bytearray(data + b"\0" * 9)),
            memoryview(bytearray(t + 3)),
        ]
    else:
        raise AssertionError(kind)
    desc = sc.SecBufferDesc(
        [
            sc.SecBuffer(h, sc.SECBUFFER_STREAM_HEADER, views[0]),
            sc.SecBuffer(n, sc.SECBUFFER_DATA, views[1]),
            sc.SecBuffer(t, sc.SECBUFFER_STREAM_TRAILER, views[2]),
            sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None),
        ]
    )
    return desc, views


@pytest.mark.parametrize("kind", ["one buffer", "separate buffers", "bytearrays", "roomy"])
@pytest.mark.parametrize("n", [0, 1, 5000, MAX_PLAINTEXT])
def test_encrypt_message_layouts_give_records_the_server_reads(
    loop: CurlLoop, kind: str, n: int
) -> None:
    sizes = loop.stream_sizes()
    data = os.urandom(n)
    desc, _ = _encrypt_layout(sizes, data, kind)
    assert sc.EncryptMessage(loop.ctx, 0, desc, 0) == sc.SEC_E_OK
    hdr, dat, trl = desc.pBuffers[:3]
    assert (hdr.cbBuffer, dat.cbBuffer, trl.cbBuffer) == (5, n, 17)
    wire = b"".join(bytes(b.pvBuffer[: b.cbBuffer]) for b in (hdr, dat, trl))  # type: ignore[index]
    loop.server.feed(wire)
    assert loop.server.read() == data or (n == 0 and loop.server.read() == b"")


@pytest.mark.parametrize(
    "mutate, status",
    [
        (lambda d: setattr(d.pBuffers[2], "cbBuffer", 16), sc.SEC_E_BUFFER_TOO_SMALL),
        (lambda d: setattr(d.pBuffers[0], "cbBuffer", 4), sc.SEC_E_BUFFER_TOO_SMALL),
        (lambda d: setattr(d.pBuffers[1], "cbBuffer", 10**6), sc.SEC_E_INVALID_TOKEN),
        (lambda d: setattr(d, "cBuffers", 2), sc.SEC_E_INVALID_TOKEN),
        (
            lambda d: setattr(d.pBuffers[1], "BufferType", sc.SECBUFFER_EMPTY),
            sc.SEC_E_INTERNAL_ERROR,
        ),
    ],
)
def test_encrypt_message_unusual_layouts_keep_their_statuses(
    loop: CurlLoop, mutate: object, status: sc.SecStatus
) -> None:
    desc, _ = _encrypt_layout(loop.stream_sizes(), b"hello", "one buffer")
    mutate(desc)  # type: ignore[operator]
    assert sc.EncryptMessage(loop.ctx, 0, desc, 0) == status
    # Nothing was consumed: the next record still decrypts at the server.
    loop.server.feed(loop.encrypt(b"next"))
    assert loop.server.read() == b"next"


@pytest.mark.parametrize("tls13", [True, False], ids=["tls13", "tls12"])
def test_alert_after_a_failed_decrypt_is_protected(
    pki: peers.ServerPki, root_certs_env: Path, tls13: bool
) -> None:
    """After DecryptMessage fails on an established context, an SCHANNEL_ALERT
    token comes out under the current write key, so the server can read it."""
    import ssl

    version = ssl.TLSVersion.TLSv1_3 if tls13 else ssl.TLSVersion.TLSv1_2
    server = MemoryServer(
        Path(pki.ecdsa.fullchain), Path(pki.ecdsa.key), min_version=version, max_version=version
    )
    loop = CurlLoop(server, acquire_credential(disabled=0 if tls13 else sc.SP_PROT_TLS1_3_CLIENT))
    assert loop.handshake() == sc.SEC_E_OK
    loop.decrypt_all()
    wire = bytearray(server.write(b"tampered"))
    wire[-3] ^= 1
    assert sc.DecryptMessage(loop.ctx, decrypt_desc(wire, len(wire)), 0, None) != sc.SEC_E_OK
    token = sc.pack_alert_token(sc.TLS1_ALERT_FATAL, sc.TLS1_ALERT_BAD_RECORD_MAC)
    desc = sc.SecBufferDesc([sc.SecBuffer(len(token), sc.SECBUFFER_TOKEN, token)])
    assert sc.ApplyControlToken(loop.ctx, desc) == sc.SEC_E_OK
    out = sc.SecBufferDesc([sc.SecBuffer(0, sc.SECBUFFER_TOKEN, None)])
    status = sc.InitializeSecurityContext(
        loop.cred, loop.ctx, None, loop.flags, 0, 0, None, 0, None, out, loop.attrs, None
    )
    assert status == sc.SEC_E_OK
    tok = out.pBuffers[0]
    assert tok.pvBuffer is not None
    record = bytes(tok.pvBuffer[: tok.cbBuffer])
    assert record[:3] == (b"\x17\x03\x03" if tls13 else b"\x15\x03\x03")
    assert len(record) > 7  # protected, not a bare two-byte alert
    server.incoming.write(record)
    with pytest.raises(ssl.SSLError, match="(?i)bad.record.mac"):
        server.tls.read(100)


@given(st.integers(0, 3 * 16384 + 7))
def test_plaintext_records_split_at_the_limit(n: int) -> None:
    """One header per 2^14 bytes (one empty record for no data), payload intact."""
    from schannel_py.tls.record import MAX_PLAINTEXT, frame, plaintext_records

    data = bytes(i % 251 for i in range(n))
    out = plaintext_records(22, data, 0x0301)
    pieces = []
    offset = 0
    while offset < len(out):
        total = frame(out, offset)
        assert total > 0
        assert out[offset : offset + 3] == b"\x16\x03\x01"
        pieces.append(out[offset + 5 : offset + total])
        offset += total
    assert b"".join(pieces) == data
    assert len(pieces) == max(1, -(-n // MAX_PLAINTEXT))
    assert all(len(p) <= MAX_PLAINTEXT for p in pieces)
