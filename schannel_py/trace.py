"""Structured tracing of SSPI calls and TLS traffic, through :mod:`logging`.

Tracing is opt-in and costs nothing when off: :func:`install` adds an
observer to the SSPI layer (:func:`schannel_py.sspi.observe.add_observer`),
which reports every call of the public SSPI functions, however the caller
bound them; :func:`uninstall` removes it.  :func:`tracing` does both around a
``with`` block.  What a call received and sent, the handshake messages and the
secrets come from the observer's event (the package's own account of the call).

Two loggers, both at ``DEBUG``:

``schannel_py.trace.sspi``
    One record per SSPI call: function, handles, flags decoded to their
    Windows names, each buffer's type and size before and after the call, and
    the status by name.  ``record.sspi`` holds the same as a dict.
``schannel_py.trace.tls``
    One record per TLS record the call consumed or produced (content type,
    version, length) and per handshake message (decoded fields), laid out as a
    ladder: client on the left, server on the right.  ``record.tls`` holds
    the fields.

``schannel-py demo --trace`` and ``schannel-py connect --trace`` print both.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from . import constants as C
from .constants import SecStatus
from .crypt32.revocation import RevocationEvent
from .sspi import observe
from .tls.alerts import alert_name
from .tls.codec import Reader
from .tls.groups import GROUP_NAMES
from .tls.messages import (
    Certificate13,
    CertificateVerify,
    ClientHello,
    Ext,
    HandshakeType,
    NewSessionTicket13,
    ServerHello,
    ext_name,
    find_ext,
    msg_name,
    parse_alpn_list,
    parse_extensions_only,
    parse_key_share_client,
    parse_u16_list,
)
from .tls.record import CONTENT_TYPE_NAMES
from .tls.sigalgs import scheme_name
from .tls.suites import SUITES

log = logging.getLogger("schannel_py.trace")
sspi_log = logging.getLogger("schannel_py.trace.sspi")
tls_log = logging.getLogger("schannel_py.trace.tls")

WIDTH = 72  # ladder width between the two lifelines

# The functions a trace reports, with their A/W aliases (every name reaches the same call).
TRACED = (
    "AcquireCredentialsHandle",
    "FreeCredentialsHandle",
    "QueryCredentialsAttributes",
    "InitializeSecurityContext",
    "DeleteSecurityContext",
    "ApplyControlToken",
    "QueryContextAttributes",
    "EncryptMessage",
    "DecryptMessage",
    "FreeContextBuffer",
)
ALIASES = {
    "AcquireCredentialsHandle",
    "QueryCredentialsAttributes",
    "InitializeSecurityContext",
    "QueryContextAttributes",
}


# --- names ----------------------------------------------------------------------


def _prefixed(prefix: str, limit: int = 1 << 32) -> list[tuple[str, int]]:
    return sorted(
        (
            (name, value)
            for name, value in vars(C).items()
            if name.startswith(prefix)
            and isinstance(value, int)
            and not isinstance(value, bool)
            and 0 < value < limit
        ),
        key=lambda nv: nv[1],
    )


def _single_bits(prefix: str) -> list[tuple[str, int]]:
    return [(n, v) for n, v in _prefixed(prefix) if bin(v).count("1") == 1]


_ISC_REQ = _single_bits("ISC_REQ_")
_ISC_RET = _single_bits("ISC_RET_")
_SCH_FLAGS = [(n, v) for n, v in _single_bits("SCH_") if n.startswith(("SCH_CRED_", "SCH_USE_"))]
_SECPKG_ATTR = {v: n for n, v in reversed(_prefixed("SECPKG_ATTR_"))}
_SECPKG_CRED = {v: n for n, v in reversed(_prefixed("SECPKG_CRED_")) if v < 0x10}
_BUFFER_NAMES = {
    value: name.removeprefix("SECBUFFER_")
    for name, value in reversed(list(vars(C).items()))
    if name.startswith("SECBUFFER_")
    and isinstance(value, int)
    and value < 64
    and name != "SECBUFFER_VERSION"
}
_CONTROL_TOKENS = {
    C.SCHANNEL_RENEGOTIATE: "SCHANNEL_RENEGOTIATE",
    C.SCHANNEL_SHUTDOWN: "SCHANNEL_SHUTDOWN",
    C.SCHANNEL_ALERT: "SCHANNEL_ALERT",
    C.SCHANNEL_SESSION: "SCHANNEL_SESSION",
    C.SCHANNEL_PY_KEY_UPDATE: "SCHANNEL_PY_KEY_UPDATE",
}
VERSION_NAMES = {
    0x0300: "SSL3",
    0x0301: "TLS1.0",
    0x0302: "TLS1.1",
    0x0303: "TLS1.2",
    0x0304: "TLS1.3",
}


def bits(value: int, table: list[tuple[str, int]], strip: str = "") -> str:
    """``value`` as ``A|B|0x...`` from a table of single-bit names."""
    names = []
    rest = value
    for name, v in table:
        if value & v:
            names.append(name.removeprefix(strip))
            rest &= ~v
    if rest:
        names.append(f"0x{rest:x}")
    return "|".join(names) or "0"


def isc_req_names(value: int) -> str:
    """ISC_REQ_* flags by name (prefix dropped)."""
    return bits(value, _ISC_REQ, "ISC_REQ_")


def isc_ret_names(value: int) -> str:
    """ISC_RET_* flags by name (prefix dropped)."""
    return bits(value, _ISC_RET, "ISC_RET_")


def buffer_type_name(t: int) -> str:
    base = t & 0x0FFFFFFF
    name = str(_BUFFER_NAMES.get(base, base))
    return name + ("|READONLY" if t & 0x80000000 else "")


def status_name(status: int) -> str:
    s = SecStatus(status)
    return str(s.name or repr(s))


def version_name(v: int) -> str:
    return VERSION_NAMES.get(v, f"0x{v:04x}")


def suite_name(code: int) -> str:
    s = SUITES.get(code)
    return s.name if s else f"0x{code:04x}"


def group_name(code: int) -> str:
    return GROUP_NAMES.get(code, f"0x{code:04x}")


# --- SSPI arguments -------------------------------------------------------------


def _buffers(desc: object) -> list[tuple[int, int, bytes]] | None:
    """(type, size, bytes) of a SecBufferDesc as it is now."""
    bufs = observe.snapshot(desc)
    return None if bufs is None else [(b.type, b.size, b.data) for b in bufs]


def _triples(bufs: object) -> list[tuple[int, int, bytes]] | None:
    """An event's buffers as (type, size, bytes)."""
    if not isinstance(bufs, tuple) or isinstance(bufs, observe.Handle):
        return None
    return [(b.type, b.size, b.data) for b in bufs if isinstance(b, observe.Buffer)]


def format_buffers(bufs: list[tuple[int, int, bytes]] | None) -> str:
    if bufs is None:
        return "NULL"
    return "[" + ", ".join(f"{buffer_type_name(t)}:{n}" for t, n, _ in bufs) + "]"


def _handle(h: object) -> str:
    if h is None:
        return "NULL"
    if isinstance(h, observe.Handle):
        return f"{{{h.lower:#x},{h.upper:#x}}}"
    lo, hi = getattr(h, "dwLower", None), getattr(h, "dwUpper", None)
    if lo is None:
        return repr(h)
    return f"{{{int(lo or 0):#x},{int(hi or 0):#x}}}"


def _cred_auth(auth: object) -> str:
    if auth is None:
        return "NULL"
    if not isinstance(auth, observe.AuthData):
        auth = observe.AuthData(
            type(auth).__name__, getattr(auth, "dwVersion", None), getattr(auth, "dwFlags", None)
        )
    fields = [auth.kind]
    ver, flags = auth.version, auth.flags
    if ver is not None:
        fields.append(f"v{ver}")
    if isinstance(flags, int):
        fields.append(bits(flags, _SCH_FLAGS))
    return " ".join(fields)


def _describe_args(call: observe.SspiCall) -> dict[str, Any]:
    """The interesting input parameters of one call, by Windows parameter name."""
    d: dict[str, Any] = {}
    for pname, value in call.params.items():
        if pname.startswith("ph"):
            d[pname] = _handle(value)
        elif pname == "fContextReq" and isinstance(value, int):
            d[pname] = isc_req_names(value)
        elif pname == "fCredentialUse" and isinstance(value, int):
            d[pname] = _SECPKG_CRED.get(value, hex(value))
        elif pname == "pAuthData":
            d[pname] = _cred_auth(value)
        elif pname == "ulAttribute" and isinstance(value, int):
            d[pname] = _SECPKG_ATTR.get(value, hex(value))
        elif pname in ("pInput", "pOutput", "pMessage"):
            d[pname] = format_buffers(_triples(value))
        elif pname in ("pszTargetName", "pszPackage"):
            d[pname] = repr(value) if value is not None else "NULL"
    if call.function == "ApplyControlToken":
        bufs = _triples(call.params.get("pInput"))
        if bufs and len(bufs[0][2]) >= 4:
            token = int.from_bytes(bufs[0][2][:4], "little")
            d["dwTokenType"] = _CONTROL_TOKENS.get(token, hex(token))
    return d


# --- TLS decoding ---------------------------------------------------------------


def records(data: bytes) -> list[tuple[int, int, int]]:
    """(content_type, version, length) of each complete record in ``data``."""
    out = []
    off = 0
    while off + 5 <= len(data):
        ct, ver, n = (
            data[off],
            int.from_bytes(data[off + 1 : off + 3], "big"),
            int.from_bytes(data[off + 3 : off + 5], "big"),
        )
        if off + 5 + n > len(data):
            break
        out.append((ct, ver, n))
        off += 5 + n
    return out


def _exts(exts: list[tuple[int, bytes]]) -> str:
    return ",".join(ext_name(c) for c, _ in exts)


def decode_handshake(msg_type: int, message: bytes, tls13: bool = True) -> dict[str, str]:
    """Readable fields of one handshake message (header included); never raises."""
    try:
        return _decode_handshake(msg_type, message, tls13)
    except Exception as e:  # a trace must not break on odd input
        return {"decode_error": str(e) or type(e).__name__}


def _decode_handshake(msg_type: int, message: bytes, tls13: bool) -> dict[str, str]:
    body = message[4:]
    HT = HandshakeType
    f: dict[str, str] = {}
    if msg_type == HT.client_hello:
        ch = ClientHello.parse(message)
        f["random"] = ch.random.hex()
        f["session_id"] = f"{len(ch.session_id)} bytes"
        f["cipher_suites"] = ",".join(suite_name(s) for s in ch.cipher_suites)
        for code, ebody in ch.extensions:
            if code == Ext.server_name and len(ebody) > 5:
                f["server_name"] = ebody[5:].decode("ascii", "replace")
            elif code == Ext.supported_versions:
                f["supported_versions"] = ",".join(
                    version_name(v) for v in parse_u16_list(ebody, 1)
                )
            elif code == Ext.supported_groups:
                f["supported_groups"] = ",".join(group_name(g) for g in parse_u16_list(ebody))
            elif code == Ext.key_share:
                f["key_share"] = ",".join(group_name(g) for g, _ in parse_key_share_client(ebody))
            elif code == Ext.alpn:
                f["alpn"] = ",".join(p.decode("ascii", "replace") for p in parse_alpn_list(ebody))
            elif code == Ext.signature_algorithms:
                f["signature_algorithms"] = ",".join(scheme_name(s) for s in parse_u16_list(ebody))
        f["extensions"] = _exts(ch.extensions)
    elif msg_type == HT.server_hello:
        sh = ServerHello.parse(body)
        sv = find_ext(sh.extensions, Ext.supported_versions)
        ver = int.from_bytes(sv, "big") if sv and len(sv) == 2 else sh.legacy_version
        if sh.is_hrr:
            f["hello_retry_request"] = "yes"
        f["version"] = version_name(ver)
        f["random"] = sh.random.hex()
        f["cipher_suite"] = suite_name(sh.cipher_suite)
        ks = find_ext(sh.extensions, Ext.key_share)
        if ks and len(ks) >= 2:
            f["key_share"] = group_name(int.from_bytes(ks[:2], "big"))
        f["extensions"] = _exts(sh.extensions)
    elif msg_type == HT.encrypted_extensions:
        exts = parse_extensions_only(body, "EncryptedExtensions")
        alpn = find_ext(exts, Ext.alpn)
        if alpn:
            f["alpn"] = ",".join(p.decode("ascii", "replace") for p in parse_alpn_list(alpn))
        f["extensions"] = _exts(exts)
    elif msg_type == HT.certificate:
        certs = _certificates(body, tls13)
        f["certificates"] = str(len(certs))
        if certs:
            f["leaf"] = _subject(certs[0])
    elif msg_type == HT.certificate_verify:
        cv = CertificateVerify.parse(body)
        f["scheme"] = scheme_name(cv.scheme)
        f["signature"] = f"{len(cv.signature)} bytes"
    elif msg_type == HT.finished:
        f["verify_data"] = body.hex()
    elif msg_type == HT.new_session_ticket:
        if tls13:
            t = NewSessionTicket13.parse(body)
            f["lifetime"] = f"{t.lifetime}s"
            f["ticket"] = f"{len(t.ticket)} bytes"
        else:
            f["lifetime"] = f"{int.from_bytes(body[:4], 'big')}s"
            f["ticket"] = f"{max(len(body) - 6, 0)} bytes"
    elif msg_type == HT.key_update:
        f["request_update"] = "yes" if body[:1] == b"\x01" else "no"
    elif msg_type == HT.server_key_exchange:
        if body[:1] == b"\x03":
            f["curve"] = group_name(int.from_bytes(body[1:3], "big"))
            n = body[3]
            f["public"] = f"{n} bytes"
            if len(body) >= 6 + n:
                f["scheme"] = scheme_name(int.from_bytes(body[4 + n : 6 + n], "big"))
    elif msg_type == HT.client_key_exchange:
        f["public"] = f"{max(len(body) - 1, 0)} bytes"
    elif msg_type == HT.certificate_request:
        f["length"] = f"{len(body)} bytes"
    return f


def _certificates(body: bytes, tls13: bool) -> list[bytes]:
    if tls13:
        return [e.cert_data for e in Certificate13.parse(body).entries]
    r = Reader(body)
    out = []
    with r.sub(3) as lst:
        while not lst.at_end():
            out.append(lst.vector(3, 1))
    return out


def _subject(der: bytes) -> str:
    try:
        from cryptography import x509
        from cryptography.utils import CryptographyDeprecationWarning

        with warnings.catch_warnings():  # the peer's certificate, whatever it holds
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            return x509.load_der_x509_certificate(der).subject.rfc4514_string()
    except Exception:
        return f"{len(der)} bytes"


# --- the ladder -----------------------------------------------------------------


def ladder_line(direction: str, text: str) -> str:
    """One arrow: ``out`` goes client -> server, ``in`` server -> client."""
    if direction == "out":
        body = f" {text} ".ljust(WIDTH - 2, "-") + ">"
    else:
        body = "<" + f" {text} ".rjust(WIDTH - 2, "-")
    return f"client |{body}| server"


def ladder_note(direction: str, text: str) -> str:
    """Details under an arrow, aligned on the sender's side."""
    pad = WIDTH - 1
    body = f"   {text}".ljust(pad) if direction == "out" else f"{text}   ".rjust(pad)
    return f"       |{body}|"


def _emit_tls(event: dict[str, Any], text: str) -> None:
    tls_log.debug(text, extra={"tls": event})


def _log_records(direction: str, data: bytes) -> None:
    for ct, ver, n in records(data):
        kind = CONTENT_TYPE_NAMES.get(ct, f"type_{ct}")
        _emit_tls(
            {
                "event": "record",
                "direction": direction,
                "content_type": kind,
                "version": ver,
                "length": n,
            },
            ladder_line(direction, f"record {kind} {version_name(ver)} len={n}"),
        )


def _log_progress(call: observe.SspiCall) -> None:
    """The handshake messages the call processed and the secrets it derived."""
    tls13 = call.version != 0x0303
    for m in call.messages:
        direction, msg_type, message = m.direction, m.type, m.data
        name = msg_name(msg_type)
        fields = decode_handshake(msg_type, message, tls13)
        _emit_tls(
            {
                "event": "handshake",
                "direction": direction,
                "message": name,
                "length": len(message),
                **fields,
            },
            ladder_line(direction, f"{name} ({len(message)} bytes)"),
        )
        for key, value in fields.items():
            note = ladder_note(direction, _short(f"{key}={value}", WIDTH - 5))
            tls_log.debug(note, extra={"tls": {"event": "field", key: value}})
    for secret in call.secrets:
        label = secret.label
        tls_log.debug(
            f"       |{('key schedule: ' + label).center(WIDTH - 1)}|",
            extra={"tls": {"event": "secret", "label": label}},
        )


def revocation_line(event: RevocationEvent) -> str:
    """One revocation check, for people: certificate, source and URL, result, where from."""
    if event.from_cache:
        where = "cache"
    elif event.source == "staple":
        where = "handshake"
    elif event.url and event.result != "skipped":
        where = "network"
    else:
        where = "not fetched"
    url = f" {event.url}" if event.url else ""
    detail = f": {event.detail}" if event.detail else ""
    return (
        f"revocation check [{event.subject}] {event.source}{url} -> {event.result} "
        f"({where}){detail}"
    )


def _short(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 3] + "..."


# --- the observer ---------------------------------------------------------------

_install_lock = threading.Lock()
_installed = 0
_registration: Callable[[], None] | None = None


def _observe(call: observe.SspiCall) -> None:
    """Log one SSPI call (and its TLS traffic) if either logger wants it."""
    if not (sspi_log.isEnabledFor(logging.DEBUG) or tls_log.isEnabledFor(logging.DEBUG)):
        return
    name, status = call.function, call.status
    details = _describe_args(call)
    out_parts: dict[str, str] = {}
    if name == "InitializeSecurityContext":
        out_parts["pInput"] = format_buffers(_triples(call.after.get("pInput")))
        out_parts["pOutput"] = format_buffers(_triples(call.after.get("pOutput")))
        attr = call.after.get("pfContextAttr")
        if isinstance(attr, int) and status in (C.SEC_E_OK, C.SEC_I_CONTINUE_NEEDED):
            out_parts["pfContextAttr"] = isc_ret_names(attr)
        if "phNewContext" in call.after:
            out_parts["phNewContext"] = _handle(call.after["phNewContext"])
    elif name in ("DecryptMessage", "EncryptMessage"):
        out_parts["pMessage"] = format_buffers(_triples(call.after.get("pMessage")))
    elif name == "AcquireCredentialsHandle":
        out_parts["phCredential"] = _handle(call.after.get("phCredential"))

    args = ", ".join(f"{k}={v}" for k, v in details.items())
    after = "  ".join(f"{k}={v}" for k, v in out_parts.items())
    text = f"{name}({args}) => {status_name(status)}" + (f"  [{after}]" if after else "")
    sspi_log.debug(
        text,
        extra={
            "sspi": {
                "function": name,
                "args": details,
                "after": out_parts,
                "status": status_name(status),
                "status_value": int(status),
            }
        },
    )
    for event in call.revocation:
        sspi_log.debug(
            "    " + revocation_line(event),
            extra={"sspi": {"event": "revocation", **dataclasses.asdict(event)}},
        )
    if not tls_log.isEnabledFor(logging.DEBUG):
        return
    if call.received:
        _log_records("in", call.received)
    _log_progress(call)
    if call.sent:
        _log_records("out", call.sent)
    if name == "DecryptMessage" and status == C.SEC_I_CONTEXT_EXPIRED:
        _emit_tls({"event": "alert", "direction": "in"}, ladder_line("in", "alert close_notify"))
    failure = call.failure
    if (
        name == "InitializeSecurityContext"
        and failure is not None
        and failure.alert is not None
        and not failure.remote
    ):
        _emit_tls(
            {"event": "alert", "direction": "out", "description": failure.alert},
            ladder_line("out", f"alert {alert_name(failure.alert)}"),
        )


def install() -> None:
    """Start logging every SSPI call (nests; see :func:`uninstall`)."""
    global _installed, _registration
    with _install_lock:
        _installed += 1
        if _installed == 1:
            _registration = observe.add_observer(_observe)


def uninstall() -> None:
    """Undo one :func:`install`; the last one removes the observer."""
    global _installed, _registration
    with _install_lock:
        if _installed == 0:
            return
        _installed -= 1
        if _installed == 0 and _registration is not None:
            _registration()
            _registration = None


def installed() -> bool:
    return _installed > 0


@contextlib.contextmanager
def tracing(
    stream: TextIO | None = None, level: int = logging.DEBUG
) -> Iterator[logging.Handler | None]:
    """Trace inside a ``with`` block; with ``stream``, also print the trace there.

    Without ``stream`` only the observer is installed: configure the
    ``schannel_py.trace`` loggers yourself (``logging.basicConfig(level=DEBUG)``).
    """
    handler: logging.Handler | None = None
    previous = log.level
    if stream is not None:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(level)
    install()
    try:
        yield handler
    finally:
        uninstall()
        if handler is not None:
            log.removeHandler(handler)
            log.setLevel(previous)


def header() -> str:
    """The ladder's column heading."""
    return "client " + " " * WIDTH + " server"


def print_to(stream: TextIO | None = None) -> logging.Handler:
    """Attach a plain handler printing the trace to ``stream`` (stdout); returns it."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    return handler
