"""Structured tracing of SSPI calls and TLS traffic, through :mod:`logging`.

Tracing is opt-in and costs nothing when off: :func:`install` replaces the
public SSPI functions (in :mod:`schannel_py.sspi.functions` and in the
:mod:`schannel_py` package namespace, ``A``/``W`` aliases included) with
wrappers that log each call; :func:`uninstall` puts the originals back.
:func:`tracing` does both around a ``with`` block.  Code that bound a
function by name before :func:`install` (``from schannel_py import
InitializeSecurityContext``) keeps the untraced one; call through the module
(``schannel_py.InitializeSecurityContext(...)``) or install first.

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
import functools
import logging
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from . import constants as C
from .constants import SecStatus
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

# The functions install() wraps, with their A/W aliases.
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
    """(type, size, bytes) of a SecBufferDesc; bytes only for types that carry TLS."""
    pbufs = getattr(desc, "pBuffers", None)
    if desc is None or not isinstance(pbufs, (list, tuple)):
        return None
    out = []
    count = getattr(desc, "cBuffers", len(pbufs))
    for b in list(pbufs)[: count if isinstance(count, int) else len(pbufs)]:
        t = getattr(b, "BufferType", -1)
        n = getattr(b, "cbBuffer", 0)
        t = t if isinstance(t, int) else -1
        n = n if isinstance(n, int) else 0
        raw = b""
        pv = getattr(b, "pvBuffer", None)
        if t & 0x0FFFFFFF in (
            C.SECBUFFER_TOKEN,
            C.SECBUFFER_DATA,
            C.SECBUFFER_EXTRA,
            C.SECBUFFER_STREAM_HEADER,
            C.SECBUFFER_STREAM_TRAILER,
            C.SECBUFFER_ALERT,
        ) and isinstance(pv, (bytes, bytearray, memoryview)):
            try:
                raw = bytes(memoryview(pv).cast("B")[: max(n, 0)])
            except (TypeError, ValueError):
                raw = b""
        out.append((t, n, raw))
    return out


def format_buffers(bufs: list[tuple[int, int, bytes]] | None) -> str:
    if bufs is None:
        return "NULL"
    return "[" + ", ".join(f"{buffer_type_name(t)}:{n}" for t, n, _ in bufs) + "]"


def _handle(h: object) -> str:
    if h is None:
        return "NULL"
    lo, hi = getattr(h, "dwLower", None), getattr(h, "dwUpper", None)
    if lo is None:
        return repr(h)
    return f"{{{int(lo or 0):#x},{int(hi or 0):#x}}}"


def _cred_auth(auth: object) -> str:
    if auth is None:
        return "NULL"
    fields = [type(auth).__name__]
    ver = getattr(auth, "dwVersion", None)
    if ver is not None:
        fields.append(f"v{ver}")
    flags = getattr(auth, "dwFlags", None)
    if isinstance(flags, int):
        fields.append(bits(flags, _SCH_FLAGS))
    return " ".join(fields)


def _describe_args(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The interesting input parameters of one call, by Windows parameter name."""
    import inspect

    from .sspi import functions as F

    fn = _ORIGINALS.get(name) or getattr(F, name)
    try:
        bound = inspect.signature(fn).bind_partial(*args, **kwargs).arguments
    except TypeError:
        return {"args": repr(args)}
    d: dict[str, Any] = {}
    for pname, value in bound.items():
        if pname.startswith("ph") or pname == "phContext":
            if pname in ("phNewContext",) or (
                pname == "phCredential" and name == "AcquireCredentialsHandle"
            ):
                continue
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
            d[pname] = format_buffers(_buffers(value))
        elif pname in ("pszTargetName", "pszPackage"):
            d[pname] = repr(value) if value is not None else "NULL"
    if name == "ApplyControlToken":
        bufs = _buffers(bound.get("pInput"))
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


# TLSClient -> (messages logged, secret names logged); weak so contexts die freely.
_SEEN: weakref.WeakKeyDictionary[Any, tuple[int, frozenset[str]]] = weakref.WeakKeyDictionary()


def _log_client_progress(client: Any) -> None:
    done, secrets_done = _SEEN.get(client, (0, frozenset()))
    log_entries = client.message_log
    tls13 = getattr(client, "version", 0) != 0x0303
    for direction, msg_type, message in log_entries[done:]:
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
    secrets = list(getattr(client, "secrets", {}) or {})  # in derivation order
    for label in (s for s in secrets if s not in secrets_done):
        tls_log.debug(
            f"       |{('key schedule: ' + label).center(WIDTH - 1)}|",
            extra={"tls": {"event": "secret", "label": label}},
        )
    _SEEN[client] = (len(log_entries), frozenset(secrets))


def _short(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 3] + "..."


def _client_for(handle: object) -> Any:
    from .sspi import context as X

    ctx = X.CONTEXTS.get(handle)
    return ctx.client if ctx is not None else None


# --- the wrappers ---------------------------------------------------------------

_ORIGINALS: dict[str, Callable[..., SecStatus]] = {}
_install_lock = threading.Lock()
_installed = 0


def _wrap(name: str, fn: Callable[..., SecStatus]) -> Callable[..., SecStatus]:
    @functools.wraps(fn)
    def traced(*args: Any, **kwargs: Any) -> SecStatus:
        if not (sspi_log.isEnabledFor(logging.DEBUG) or tls_log.isEnabledFor(logging.DEBUG)):
            return fn(*args, **kwargs)
        try:
            details = _describe_args(name, args, kwargs)
            before = _snapshot(name, args, kwargs)
        except Exception:  # tracing never breaks the call
            details, before = {}, {}
        status = fn(*args, **kwargs)
        try:
            _after(name, args, kwargs, details, before, status)
        except Exception:
            log.debug("trace of %s failed", name, exc_info=True)
        return status

    traced.__wrapped_sspi__ = fn  # type: ignore[attr-defined]
    return traced


def _arg(name: str, args: tuple[Any, ...], kwargs: dict[str, Any], pname: str) -> Any:
    import inspect

    fn = _ORIGINALS.get(name)
    if fn is None:
        return None
    try:
        return inspect.signature(fn).bind_partial(*args, **kwargs).arguments.get(pname)
    except TypeError:
        return None


def _snapshot(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    if name == "InitializeSecurityContext":
        return {"in": _buffers(_arg(name, args, kwargs, "pInput"))}
    if name == "DecryptMessage":
        return {"in": _buffers(_arg(name, args, kwargs, "pMessage"))}
    return {}


def _consumed(bufs: list[tuple[int, int, bytes]] | None, kinds: tuple[int, ...]) -> bytes:
    if not bufs:
        return b""
    data = b"".join(raw for t, _, raw in bufs if t & 0x0FFFFFFF in kinds)
    return data


def _after(
    name: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    details: dict[str, Any],
    before: dict[str, Any],
    status: SecStatus,
) -> None:
    out_parts: dict[str, str] = {}
    client = None
    incoming = b""
    outgoing = b""
    if name == "InitializeSecurityContext":
        inp = _buffers(_arg(name, args, kwargs, "pInput"))
        out = _buffers(_arg(name, args, kwargs, "pOutput"))
        attr = _arg(name, args, kwargs, "pfContextAttr")
        out_parts["pInput"] = format_buffers(inp)
        out_parts["pOutput"] = format_buffers(out)
        if isinstance(getattr(attr, "value", None), int) and status in (
            C.SEC_E_OK,
            C.SEC_I_CONTINUE_NEEDED,
        ):
            out_parts["pfContextAttr"] = isc_ret_names(attr.value)
        handle = _arg(name, args, kwargs, "phContext") or _arg(name, args, kwargs, "phNewContext")
        if _arg(name, args, kwargs, "phContext") is None:
            new = _arg(name, args, kwargs, "phNewContext")
            out_parts["phNewContext"] = _handle(new)
        client = _client_for(handle)
        token_in = _consumed(before.get("in"), (C.SECBUFFER_TOKEN,))
        extra = sum(n for t, n, _ in inp or [] if t & 0x0FFFFFFF == C.SECBUFFER_EXTRA)
        if status not in (C.SEC_E_INCOMPLETE_MESSAGE,):
            incoming = token_in[: len(token_in) - extra]
        outgoing = _consumed(out, (C.SECBUFFER_TOKEN,))
        alert = _consumed(out, (C.SECBUFFER_ALERT,))
        if alert:
            outgoing += alert
    elif name == "DecryptMessage":
        msg = _buffers(_arg(name, args, kwargs, "pMessage"))
        out_parts["pMessage"] = format_buffers(msg)
        client = _client_for(_arg(name, args, kwargs, "phContext"))
        data_in = _consumed(before.get("in"), (C.SECBUFFER_DATA,))
        if status != C.SEC_E_INCOMPLETE_MESSAGE:
            extra = sum(n for t, n, _ in msg or [] if t & 0x0FFFFFFF == C.SECBUFFER_EXTRA)
            incoming = data_in[: len(data_in) - extra]
    elif name == "EncryptMessage":
        msg = _buffers(_arg(name, args, kwargs, "pMessage"))
        out_parts["pMessage"] = format_buffers(msg)
        client = _client_for(_arg(name, args, kwargs, "phContext"))
        if status == C.SEC_E_OK and msg:
            outgoing = b"".join(raw for t, _, raw in msg[:3])
    elif name == "AcquireCredentialsHandle":
        out_parts["phCredential"] = _handle(_arg(name, args, kwargs, "phCredential"))

    call = ", ".join(f"{k}={v}" for k, v in details.items())
    after = "  ".join(f"{k}={v}" for k, v in out_parts.items())
    text = f"{name}({call}) => {status_name(status)}" + (f"  [{after}]" if after else "")
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
    if not tls_log.isEnabledFor(logging.DEBUG):
        return
    if incoming:
        _log_records("in", incoming)
    if client is not None:
        _log_client_progress(client)
    if outgoing:
        _log_records("out", outgoing)
    if name == "DecryptMessage" and status == C.SEC_I_CONTEXT_EXPIRED:
        _emit_tls({"event": "alert", "direction": "in"}, ladder_line("in", "alert close_notify"))
    if name == "InitializeSecurityContext" and status not in (
        C.SEC_E_OK,
        C.SEC_I_CONTINUE_NEEDED,
        C.SEC_E_INCOMPLETE_MESSAGE,
        C.SEC_I_NO_RENEGOTIATION,
    ):
        alert = _consumed(_buffers(_arg(name, args, kwargs, "pOutput")), (C.SECBUFFER_ALERT,))
        if len(alert) >= 7 and alert[0] == 21 and alert[3:5] == b"\x00\x02":
            _emit_tls(
                {"event": "alert", "direction": "out", "description": alert[6]},
                ladder_line("out", f"alert {alert_name(alert[6])}"),
            )


def _targets() -> list[Any]:
    import schannel_py

    from .sspi import functions as F

    return [F, schannel_py]


def install() -> None:
    """Wrap the public SSPI functions so each call is logged (nests; see :func:`uninstall`)."""
    global _installed
    from .sspi import functions as F

    with _install_lock:
        _installed += 1
        if _installed > 1:
            return
        for name in TRACED:
            original = getattr(F, name)
            _ORIGINALS[name] = original
            wrapped = _wrap(name, original)
            names = [name] + ([name + "A", name + "W"] if name in ALIASES else [])
            for module in _targets():
                for n in names:
                    if getattr(module, n, None) is original:
                        setattr(module, n, wrapped)


def uninstall() -> None:
    """Undo one :func:`install`; the originals come back with the last one."""
    global _installed
    with _install_lock:
        if _installed == 0:
            return
        _installed -= 1
        if _installed:
            return
        for name in TRACED:
            original = _ORIGINALS.get(name)
            if original is None:
                continue
            names = [name] + ([name + "A", name + "W"] if name in ALIASES else [])
            for module in _targets():
                for n in names:
                    current = getattr(module, n, None)
                    if getattr(current, "__wrapped_sspi__", None) is original:
                        setattr(module, n, original)
        _ORIGINALS.clear()


def installed() -> bool:
    return _installed > 0


@contextlib.contextmanager
def tracing(
    stream: TextIO | None = None, level: int = logging.DEBUG
) -> Iterator[logging.Handler | None]:
    """Trace inside a ``with`` block; with ``stream``, also print the trace there.

    Without ``stream`` only the wrappers are installed: configure the
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
