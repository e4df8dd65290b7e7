"""Property and fuzz tests (hypothesis), bounded for CI.

* Every message parser round-trips what its serializer writes, and on any
  mutation either parses or raises :class:`TLSError` carrying a known alert --
  never another exception.
* Real server flights (from the hostile server's correct builders, TLS 1.3 and
  TLS 1.2), mutated and cut into arbitrary chunks, go through the real
  InitializeSecurityContext the way curl feeds it.  Only the spec's statuses
  come back; no exception reaches the SSPI guard; the handshake completes only
  if the record contents are byte-for-byte the server's (the record header's
  legacy version is the one field RFC 8446 says to ignore); and a failed
  context stays failed.
* A mutated application-data record never releases plaintext other than what
  the server sent.
* The server's certificate, its TBSCertificate mutated and signed again by the
  real CA, goes through the whole chain check (TLS 1.3 and 1.2, manual and
  automatic validation) without an exception or a warning from the package.

CI runs ``SCHANNEL_FUZZ_EXAMPLES`` examples per property (default 100).  The
long campaign (at least one million inputs overall) is::

    SCHANNEL_FUZZ_EXAMPLES=250000 python -m pytest tests/attacks/test_fuzz.py \\
        -p no:cacheprovider --hypothesis-show-statistics -q

which runs 250 000 examples for each of the eight properties and prints, per
property, the outcome counts recorded with ``hypothesis.event`` (status names).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import schannel_py as sc
from schannel_py import ssl as sch_ssl
from schannel_py.testing import Pki, acquire_credential, make_pki, trusted_root
from schannel_py.testing.attacks import Harness
from schannel_py.testing.builders import Identity, Server12, Server13, split_records
from schannel_py.tls.alerts import AlertDescription, TLSError
from schannel_py.tls.codec import Reader, Writer
from schannel_py.tls.messages import (
    Certificate13,
    CertificateEntry,
    CertificateRequest13,
    CertificateVerify,
    ClientHello,
    NewSessionTicket13,
    ServerHello,
    parse_alpn_list,
    parse_extensions_only,
    parse_key_share_client,
    parse_key_update,
    parse_u16_list,
    read_extensions,
    write_extensions,
)
from schannel_py.tls.record import APPLICATION_DATA, HEADER_LEN
from tests.support.patched_certs import signed_again, tbs_of
from tests.support.sspi_driver import no_unexpected_exceptions

EXAMPLES = int(os.environ.get("SCHANNEL_FUZZ_EXAMPLES", "100"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Every status an ISC / DecryptMessage may give for hostile bytes.
SPEC_STATUSES = frozenset(
    {
        sc.SEC_E_OK,
        sc.SEC_I_CONTINUE_NEEDED,
        sc.SEC_E_INCOMPLETE_MESSAGE,
        sc.SEC_I_RENEGOTIATE,
        sc.SEC_I_CONTEXT_EXPIRED,
        sc.SEC_E_ILLEGAL_MESSAGE,
        sc.SEC_E_MESSAGE_ALTERED,
        sc.SEC_E_DECRYPT_FAILURE,
        sc.SEC_E_UNSUPPORTED_FUNCTION,
        sc.SEC_E_ALGORITHM_MISMATCH,
        sc.SEC_E_CERT_UNKNOWN,
        sc.SEC_E_CERT_EXPIRED,
        sc.SEC_E_UNTRUSTED_ROOT,
        sc.SEC_E_INVALID_TOKEN,
        sc.SEC_E_DOWNGRADE_DETECTED,
        sc.SEC_E_LOGON_DENIED,
        sc.SEC_E_UNFINISHED_CONTEXT_DELETED,
        sc.SEC_E_APPLICATION_PROTOCOL_MISMATCH,
        sc.CRYPT_E_REVOKED,
        # A mutation can turn a record into the server's internal_error alert.
        sc.SEC_E_INTERNAL_ERROR,
    }
)
PROGRESS = frozenset({sc.SEC_E_OK, sc.SEC_I_CONTINUE_NEEDED, sc.SEC_E_INCOMPLETE_MESSAGE})


# --- mutations -----------------------------------------------------------------------------------

mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 1 << 20), st.integers(0, 7)),
    st.tuples(st.just("set"), st.integers(0, 1 << 20), st.integers(0, 255)),
    st.tuples(st.just("insert"), st.integers(0, 1 << 20), st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("delete"), st.integers(0, 1 << 20), st.integers(1, 64)),
    st.tuples(st.just("truncate"), st.integers(0, 1 << 20), st.just(0)),
)


def mutate(data: bytes, ops: list[tuple[str, int, object]]) -> bytes:
    buf = bytearray(data)
    for op, where, arg in ops:
        if not buf:
            break
        i = where % len(buf)
        if op == "flip":
            assert isinstance(arg, int)
            buf[i] ^= 1 << arg
        elif op == "set":
            assert isinstance(arg, int)
            buf[i] = arg
        elif op == "insert":
            assert isinstance(arg, bytes)
            buf[i:i] = arg
        elif op == "delete":
            assert isinstance(arg, int)
            del buf[i : i + arg]
        else:
            del buf[i:]
    return bytes(buf)


def contents(data: bytes) -> list[tuple[int, bytes]] | None:
    """(type, payload) of each record, ignoring the legacy version; None if not whole records."""
    try:
        recs = split_records(data)
    except TLSError:
        return None
    if sum(len(r) for r in recs) != len(data):
        return None
    return [(r[0], bytes(r[HEADER_LEN:])) for r in recs]


# --- parsers -------------------------------------------------------------------------------------

ext_strategy = st.lists(
    st.tuples(st.integers(0, 0xFFFF), st.binary(max_size=20)),
    max_size=6,
    unique_by=lambda e: e[0],
)


@SETTINGS
@given(
    random=st.binary(min_size=32, max_size=32),
    session_id=st.binary(max_size=32),
    suites=st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=10),
    exts=ext_strategy,
)
def test_client_hello_round_trip(
    random: bytes, session_id: bytes, suites: list[int], exts: list[tuple[int, bytes]]
) -> None:
    ch = ClientHello(random, session_id, suites, exts)
    again = ClientHello.parse(ch.encode())
    assert again == ch and again.encode() == ch.encode()


@SETTINGS
@given(
    context=st.binary(max_size=8),
    certs=st.lists(st.tuples(st.binary(min_size=1, max_size=40), ext_strategy), max_size=4),
    scheme=st.integers(0, 0xFFFF),
    signature=st.binary(min_size=1, max_size=80),  # empty: see CertificateVerify.parse
)
def test_certificate_and_verify_round_trip(
    context: bytes,
    certs: list[tuple[bytes, list[tuple[int, bytes]]]],
    scheme: int,
    signature: bytes,
) -> None:
    msg = Certificate13(context, [CertificateEntry(d, e) for d, e in certs])
    encoded = msg.encode()
    assert Certificate13.parse(encoded[4:]) == msg
    cv = CertificateVerify(scheme, signature)
    assert CertificateVerify.parse(cv.encode()[4:]) == cv
    w = Writer()
    write_extensions(w, certs[0][1] if certs else [])
    assert read_extensions(Reader(w.getvalue())) == (certs[0][1] if certs else [])


PARSERS: list[tuple[str, Callable[[bytes], object]]] = [
    ("ClientHello", ClientHello.parse),
    ("ServerHello", ServerHello.parse),
    ("Certificate13", Certificate13.parse),
    ("CertificateRequest13", CertificateRequest13.parse),
    ("CertificateVerify", CertificateVerify.parse),
    ("NewSessionTicket13", NewSessionTicket13.parse),
    ("extensions", lambda b: parse_extensions_only(b, "fuzz")),
    ("key_update", parse_key_update),
    ("alpn", parse_alpn_list),
    ("u16_list", parse_u16_list),
    ("key_share_client", parse_key_share_client),
]
ALERTS = {int(a) for a in AlertDescription}


def _valid_samples() -> list[bytes]:
    s, h = Server13(), Harness()
    ch = h.start()
    s.read_client_hello(ch)
    sh = s.server_hello()
    h.close()
    return [
        split_records(ch)[0][HEADER_LEN:],
        sh[4:],
        Certificate13(b"", [CertificateEntry(b"\x30\x00", [])]).encode()[4:],
        CertificateVerify(0x0403, b"\x30\x06\x02\x01\x01\x02\x01\x01").encode()[4:],
    ]


SAMPLES = _valid_samples()


@SETTINGS
@given(
    parser=st.sampled_from(PARSERS),
    base=st.one_of(st.sampled_from(SAMPLES), st.binary(max_size=200)),
    ops=st.lists(mutation, max_size=4),
)
def test_parsers_reject_with_a_typed_alert(
    parser: tuple[str, Callable[[bytes], object]], base: bytes, ops: list[tuple[str, int, object]]
) -> None:
    name, parse = parser
    data = mutate(base, ops)
    try:
        parse(data)
        event(f"{name}: parsed")
    except TLSError as e:
        assert e.description in ALERTS
        event(f"{name}: {AlertDescription(e.description).name}")


# --- flights through ISC -----------------------------------------------------------------------------


def drive(
    h: Harness, data: bytes, cuts: list[int], allowed: frozenset[int] = SPEC_STATUSES
) -> list[sc.SecStatus]:
    """Feed ``data`` in chunks as curl does: append, ISC, keep EXTRA, stop at a failure
    (each status one of ``allowed``)."""
    points = sorted({c % (len(data) + 1) for c in cuts} | {len(data)})
    buf = b""
    start = 0
    statuses: list[sc.SecStatus] = []
    for end in points:
        buf += data[start:end]
        start = end
        while buf:
            status, _ = h.isc(buf)
            statuses.append(status)
            assert status in allowed, status
            if status == sc.SEC_E_INCOMPLETE_MESSAGE:
                break
            if status not in (sc.SEC_I_CONTINUE_NEEDED, sc.SEC_E_OK):
                return statuses
            buf = buf[len(buf) - h.extra :] if h.extra else b""
            if status == sc.SEC_E_OK:
                return statuses
    return statuses


def check_flight(h: Harness, original: bytes, mutated: bytes, cuts: list[int]) -> None:
    with no_unexpected_exceptions():
        statuses = drive(h, mutated, cuts)
        last = statuses[-1] if statuses else sc.SEC_E_INCOMPLETE_MESSAGE
        event(repr(last))
        if last == sc.SEC_E_OK:
            # Only if nothing but record versions / chunking differs.
            assert contents(mutated) == contents(original), "handshake completed on altered bytes"
        if last not in PROGRESS:
            again, token = h.isc(b"\x16\x03\x03\x00\x01\x00")
            assert again == last and not token
            assert h.encrypt_status() != sc.SEC_E_OK
            got, plain = h.decrypt(b"\x17\x03\x03\x00\x11" + bytes(17))
            assert got[0] != sc.SEC_E_OK and not plain


@SETTINGS
@given(ops=st.lists(mutation, min_size=1, max_size=3), cuts=st.lists(st.integers(0, 1 << 16)))
def test_tls13_flight_mutated_and_chunked(
    ops: list[tuple[str, int, object]], cuts: list[int]
) -> None:
    s, h = Server13(), Harness()
    try:
        s.read_client_hello(h.start())
        flight = s.full_flight()
        check_flight(h, flight, mutate(flight, ops), cuts)
    finally:
        h.close()


@SETTINGS
@given(ops=st.lists(mutation, min_size=1, max_size=3), cuts=st.lists(st.integers(0, 1 << 16)))
def test_tls12_flight_mutated_and_chunked(
    ops: list[tuple[str, int, object]], cuts: list[int]
) -> None:
    s, h = Server12(), Harness()
    try:
        s.read_client_hello(h.start())
        flight = s.first_flight()
        mutated = mutate(flight, ops)
        with no_unexpected_exceptions():
            statuses = drive(h, mutated, cuts)
        last = statuses[-1] if statuses else sc.SEC_E_INCOMPLETE_MESSAGE
        event(repr(last))
        # The first TLS 1.2 flight alone can never complete a handshake.
        assert last != sc.SEC_E_OK
    finally:
        h.close()


# Every status ISC may give for a server certificate it does not like.
CERTIFICATE_STATUSES = (SPEC_STATUSES - {sc.SEC_E_INTERNAL_ERROR}) | {
    sc.SEC_E_WRONG_PRINCIPAL,
    sc.SEC_E_CERT_WRONG_USAGE,
}


@functools.cache
def signing_pki() -> Pki:
    """A CA (ECDSA, so tests can sign what they like with it) and its leaf."""
    return make_pki()


@SETTINGS
@given(
    ops=st.lists(mutation, min_size=1, max_size=3),
    manual=st.booleans(),
    version=st.sampled_from(["1.3", "1.2"]),
)
def test_mutated_certificate_signed_again(
    ops: list[tuple[str, int, object]], manual: bool, version: str
) -> None:
    """The leaf's TBSCertificate mutated, then signed again by its real CA, so
    that the chain check reads it all the way (structure, names, usage, the
    RFC 5280 validation) rather than stopping at a bad signature.  Whatever it
    holds: no exception reaches the SSPI guard (the status is never
    SEC_E_INTERNAL_ERROR), the package raises no warning (the autouse fixture),
    and a certificate the handshake accepts also decodes for getpeercert()."""
    pki = signing_pki()
    assert isinstance(pki.leaf.key, ec.EllipticCurvePrivateKey)
    assert pki.leaf.issuer is not None and isinstance(
        pki.leaf.issuer.key, ec.EllipticCurvePrivateKey
    )
    leaf = pki.leaf.der
    mutated = signed_again(leaf, mutate(tbs_of(leaf), ops), pki.leaf.issuer.key)
    ident = Identity([mutated, *(a.der for a in pki.leaf.ancestors[:-1])], pki.leaf.key)
    h = Harness(cred=acquire_credential(manual_validation=manual))
    try:
        with trusted_root(pki.root), no_unexpected_exceptions():
            hello = h.start()
            if version == "1.3":
                s13 = Server13(ident)
                s13.read_client_hello(hello)
                statuses = drive(h, s13.full_flight(), [], CERTIFICATE_STATUSES)
            else:
                s12 = Server12(ident)
                s12.read_client_hello(hello)
                statuses = drive(h, s12.first_flight(), [], CERTIFICATE_STATUSES)
        assert statuses
        last = statuses[-1]
        event(f"{'manual' if manual else 'automatic'}: {last!r}")
        if last in PROGRESS and not manual:
            sch_ssl.decode_certificate(mutated)
    finally:
        h.close()


@SETTINGS
@given(cuts=st.lists(st.integers(0, 1 << 16), max_size=30))
def test_tls13_flight_any_chunking_completes(cuts: list[int]) -> None:
    """Control: the unmutated flight, cut anywhere, always completes."""
    s, h = Server13(), Harness()
    try:
        s.read_client_hello(h.start())
        flight = s.full_flight()
        with no_unexpected_exceptions():
            assert drive(h, flight, cuts)[-1] == sc.SEC_E_OK
    finally:
        h.close()


@SETTINGS
@given(ops=st.lists(mutation, min_size=1, max_size=3))
def test_mutated_application_record_never_releases_other_plaintext(
    ops: list[tuple[str, int, object]],
) -> None:
    s, h = Server13(), Harness()
    try:
        s.read_client_hello(h.start())
        assert h.feed(s.full_flight())[0] == sc.SEC_E_OK
        s.switch_to_application_keys()
        rec = s.prot(b"the real data", APPLICATION_DATA)
        mutated = mutate(rec, ops)
        with no_unexpected_exceptions():
            got, plain = h.decrypt(mutated)
        assert all(g in SPEC_STATUSES for g in got), got
        event(repr(got[-1]) if got else "nothing")
        assert plain in (b"", b"the real data")
        if plain:
            assert contents(mutated) == contents(rec) or mutated.startswith(rec)
    finally:
        h.close()


@pytest.mark.parametrize("n", [0, 1, 4, 5, 100])
def test_mutate_is_deterministic(n: int) -> None:
    data = bytes(range(50))
    ops: list[tuple[str, int, object]] = [("flip", n, 0), ("delete", n, 2)]
    assert mutate(data, ops) == mutate(data, ops)
