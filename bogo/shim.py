"""BoGo shim: BoringSSL's ``ssl/test/runner`` drives the schannel_py client.

The runner starts this program once per test (``python -m bogo.shim FLAGS`` or
``python bogo/shim.py FLAGS``).  Every connection goes through the SSPI surface
only, the way a Windows application drives SChannel: AcquireCredentialsHandle,
the InitializeSecurityContext loop, EncryptMessage/DecryptMessage,
QueryContextAttributes and ApplyControlToken, plus the package's documented
extensions on that surface (the verify callback, the handshake-info attribute,
signature schemes in CRYPTO_SETTINGS, the KeyUpdate token, the renegotiation
policy; see ``docs/porting-from-windows.md``).  See ``bogo/README.md`` for the
protocol.

Exit codes: 0 success (stderr silent), 1 failure (one ``TLSERR`` line on
stderr), 89 unimplemented flag or feature (the runner reports a SKIP).
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import socket
import struct
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

EXIT_UNIMPLEMENTED = 89

# ---------------------------------------------------------------------------
# Flags
# ---------------------------------------------------------------------------

BOOL, INT, STR, BYTES, BASE64, INT_LIST = "bool", "int", "str", "bytes", "base64", "int-list"

#: Every flag the shim understands (name without the leading "-") and its kind.
#: Anything else, and anything listed in ``unsupported_reason``, answers 89.
FLAGS: dict[str, str] = {
    # base
    "port": INT,
    "shim-id": INT,
    "ipv6": BOOL,
    "trust-cert": STR,
    "is-handshaker-supported": BOOL,
    # client certificate
    "cert-file": STR,
    "key-file": STR,
    "expect-client-ca-list": STR,
    "expect-certificate-types": BASE64,
    "use-old-client-cert-callback": BOOL,
    # resumption
    "resume-count": INT,
    "expect-session-miss": BOOL,
    "resumption-delay": INT,
    # verify hook
    "verify-peer": BOOL,
    "verify-fail": BOOL,
    "expect-verify-result": BOOL,
    "use-custom-verify-callback": BOOL,
    "reverify-on-resume": BOOL,
    "expect-peer-cert-file": STR,
    # I/O
    "async": BOOL,
    "implicit-handshake": BOOL,
    "read-size": INT,
    "no-op-extra-handshake": BOOL,
    # renegotiation
    "renegotiate-freely": BOOL,
    "renegotiate-once": BOOL,
    "renegotiate-ignore": BOOL,
    "renegotiate-explicit": BOOL,
    "expect-total-renegotiations": INT,
    "forbid-renegotiation-after-handshake": BOOL,
    # shutdown / writes
    "shim-shuts-down": BOOL,
    "check-close-notify": BOOL,
    "shim-writes-first": BOOL,
    "send-alert": BOOL,
    "key-update": BOOL,
    "tls-unique": BOOL,
    # versions
    "min-version": INT,
    "max-version": INT,
    "no-tls1": BOOL,
    "no-tls11": BOOL,
    "no-tls12": BOOL,
    "no-tls13": BOOL,
    "expect-version": INT,
    # groups, ciphers
    "curves": INT_LIST,
    "expect-curve-id": INT,
    "expect-cipher-aes": INT,
    "expect-cipher-no-aes": INT,
    # ALPN, SNI
    "advertise-alpn": BYTES,
    "expect-alpn": BYTES,
    "allow-unknown-alpn-protos": BOOL,
    "host-name": STR,
    # exporter (SetContextAttributes + QueryContextAttributes)
    "export-keying-material": INT,
    "export-label": STR,
    "export-context": STR,
    "use-export-context": BOOL,
    # signature schemes (CRYPTO_SETTINGS, TlsParametersCngAlgUsageSignature)
    "verify-prefs": INT_LIST,
    "signing-prefs": INT_LIST,
    # handshake facts (SECPKG_ATTR_PY_HANDSHAKE_INFO)
    "expect-peer-signature-algorithm": INT,
    "expect-hrr": BOOL,
    "expect-no-hrr": BOOL,
    "expect-extended-master-secret": BOOL,
    "expect-secure-renegotiation": BOOL,
    "expect-no-secure-renegotiation": BOOL,
    "expect-peer-verify-pref": INT_LIST,
    "expect-no-session": BOOL,
    "expect-ticket-renewal": BOOL,
    # OCSP stapling: a revocation flag asks for the staple (status_request); it is the
    # server certificate's CERT_OCSP_RESPONSE_PROP_ID
    "enable-ocsp-stapling": BOOL,
    "expect-ocsp-response": BASE64,
    # misc
    "expect-early-data-reason": STR,
    # accepted and ignored
    "psk": STR,
    "psk-identity": STR,
    "cipher": STR,
    "ocsp-response": STR,
    "signed-cert-timestamps": STR,
}

#: The flags that need the verify callback (BoGo's certificate verify hook).
VERIFY_FLAGS = (
    "verify-peer",
    "verify-fail",
    "expect-verify-result",
    "reverify-on-resume",
    "expect-peer-cert-file",
)

PREFIXES = ("on-initial-", "on-resume-", "on-retry-")
PHASES = ("initial", "resume", "retry")


class Unimplemented(Exception):
    """A flag or feature outside the shim's scope: exit 89."""


@dataclass
class Config:
    """The flags that apply to one kind of connection (initial, resume or retry)."""

    values: dict[str, Any] = field(default_factory=dict)

    def flag(self, name: str) -> bool:
        return bool(self.values.get(name, False))

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def has(self, name: str) -> bool:
        return name in self.values


def parse_args(argv: Sequence[str]) -> dict[str, Config]:
    """Parse the runner's argv into one Config per phase (ParseConfig in test_config.cc).

    Raises Unimplemented for an unknown flag, a missing value or a malformed one.
    """
    configs = {p: Config() for p in PHASES}
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if not arg.startswith("-"):
            raise Unimplemented(f"unexpected argument {arg!r}")
        name = arg[1:]
        phases: tuple[str, ...] = PHASES
        for prefix, phase in zip(PREFIXES, PHASES, strict=True):
            if name.startswith(prefix):
                name, phases = name[len(prefix) :], (phase,)
                break
        kind = FLAGS.get(name)
        if kind is None:
            raise Unimplemented(f"unknown flag {arg}")
        value: Any = True
        if kind != BOOL:
            if i >= len(argv):
                raise Unimplemented(f"missing value for {arg}")
            raw = argv[i]
            i += 1
            try:
                if kind in (INT, INT_LIST):
                    value = int(raw, 10)
                elif kind == BYTES:
                    value = os.fsencode(raw)
                elif kind == BASE64:
                    value = base64.b64decode(raw, validate=True)
                else:
                    value = raw
            except (ValueError, binascii.Error) as e:
                raise Unimplemented(f"bad value for {arg}: {raw!r}") from e
        for p in phases:
            if kind == INT_LIST:
                configs[p].values.setdefault(name, []).append(value)
            else:
                configs[p].values[name] = value
    for cfg in configs.values():
        reason = unsupported_reason(cfg)
        if reason:
            raise Unimplemented(reason)
    return configs


def unsupported_reason(cfg: Config) -> str | None:
    """Why a known flag's value is out of scope (None when it is fine)."""
    if cfg.has("max-version") and cfg.get("max-version") < 0x0303:
        return "versions below TLS 1.2 are not implemented"
    if cfg.has("expect-version") and cfg.get("expect-version") not in (0x0303, 0x0304):
        return "only TLS 1.2 and 1.3 are implemented"
    if cfg.has("expect-early-data-reason") and cfg.get("expect-early-data-reason") != "disabled":
        return "0-RTT is not implemented"
    if cfg.flag("allow-unknown-alpn-protos"):
        return "no SSPI switch accepts an ALPN protocol the client did not offer"
    if cfg.has("read-size") and cfg.get("read-size") <= 0:
        return "bad -read-size"
    if cfg.has("resumption-delay") and cfg.get("resumption-delay") < 0:
        return "bad -resumption-delay"
    reason = signature_prefs_reason(cfg)
    if reason:
        return reason
    if cfg.has("export-keying-material") and not exporter_available():
        return "the exporter needs SetContextAttributes(SECPKG_ATTR_KEYING_MATERIAL_INFO)"
    return None


#: RFC 8446 SignatureScheme code point -> name, as CRYPTO_SETTINGS.strCngAlgId takes it
#: (schannel_py extension: one exact scheme per entry).
SIGNATURE_SCHEME_NAMES = {
    0x0401: "rsa_pkcs1_sha256",
    0x0501: "rsa_pkcs1_sha384",
    0x0601: "rsa_pkcs1_sha512",
    0x0403: "ecdsa_secp256r1_sha256",
    0x0503: "ecdsa_secp384r1_sha384",
    0x0603: "ecdsa_secp521r1_sha512",
    0x0804: "rsa_pss_rsae_sha256",
    0x0805: "rsa_pss_rsae_sha384",
    0x0806: "rsa_pss_rsae_sha512",
    0x0807: "ed25519",
    0x0809: "rsa_pss_pss_sha256",
    0x080A: "rsa_pss_pss_sha384",
    0x080B: "rsa_pss_pss_sha512",
}


def renegotiation_mode(cfg: Config) -> str:
    """BoringSSL's ssl_renegotiate_mode_t after the handshake, as test_config.cc sets it.

    The flags are applied in order, so the last one wins (explicit over ignore over
    freely over once); -forbid-renegotiation-after-handshake switches to "never"
    once the handshake is done, whatever else was given.
    """
    if cfg.flag("forbid-renegotiation-after-handshake"):
        return "never"
    for mode in ("explicit", "ignore", "freely", "once"):
        if cfg.flag(f"renegotiate-{mode}"):
            return mode
    return "never"


def signature_prefs_reason(cfg: Config) -> str | None:
    """Why -verify-prefs / -signing-prefs cannot be expressed (None when they can).

    The package has one set of signature schemes per credential, used both for
    the ClientHello's signature_algorithms (what the server may sign with) and
    for the client's CertificateVerify.  BoringSSL's two lists map onto it only
    when they name the same set, or when the one given restricts the only
    direction in use: -verify-prefs alone without a client certificate.
    """
    verify, signing = cfg.get("verify-prefs"), cfg.get("signing-prefs")
    one_set = "one set of signature schemes for both directions on the SSPI surface"
    if verify is not None and signing is not None:
        if set(verify) != set(signing):
            return f"-verify-prefs and -signing-prefs differ ({one_set})"
    elif signing is not None:
        return f"-signing-prefs alone would also restrict the server's signature ({one_set})"
    elif verify is not None and cfg.has("cert-file"):
        return f"-verify-prefs with a client certificate would restrict its signature ({one_set})"
    return None


def signature_settings(cfg: Config) -> list[Any]:
    """CRYPTO_SETTINGS entries disabling every known scheme the prefs do not list."""
    import schannel_py as S

    prefs = cfg.get("verify-prefs", cfg.get("signing-prefs"))
    if prefs is None:
        return []
    wanted = set(prefs)
    return [
        S.CRYPTO_SETTINGS(eAlgorithmUsage=S.TlsParametersCngAlgUsageSignature, strCngAlgId=name)
        for code, name in SIGNATURE_SCHEME_NAMES.items()
        if code not in wanted
    ]


def exporter_available() -> bool:
    import schannel_py

    return hasattr(schannel_py, "SetContextAttributes")


def parse_alpn_wire(wire: bytes) -> list[bytes]:
    """The protocols of an ALPN wire list (``\\x03foo\\x03bar``)."""
    out: list[bytes] = []
    i = 0
    while i < len(wire):
        n = wire[i]
        if n == 0 or i + 1 + n > len(wire):
            raise Unimplemented("malformed -advertise-alpn")
        out.append(wire[i + 1 : i + 1 + n])
        i += 1 + n
    return out


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

ALERT_NAMES = {
    0: "close_notify",
    10: "unexpected_message",
    20: "bad_record_mac",
    22: "record_overflow",
    30: "decompression_failure",
    40: "handshake_failure",
    42: "bad_certificate",
    43: "unsupported_certificate",
    44: "certificate_revoked",
    45: "certificate_expired",
    46: "certificate_unknown",
    47: "illegal_parameter",
    48: "unknown_ca",
    50: "decode_error",
    51: "decrypt_error",
    70: "protocol_version",
    71: "insufficient_security",
    80: "internal_error",
    86: "inappropriate_fallback",
    90: "user_canceled",
    100: "no_renegotiation",
    109: "missing_extension",
    110: "unsupported_extension",
    112: "unrecognized_name",
    116: "certificate_required",
    120: "no_application_protocol",
}


def alert_name(desc: int | None) -> str:
    if desc is None:
        return "none"
    if desc < 0:
        return "encrypted"
    return ALERT_NAMES.get(desc, str(desc))


class Failure(Exception):
    """The test failed: one canonical line on stderr, exit 1."""

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        alert_sent: int | None = None,
        alert_received: int | None = None,
        detail: str | None = None,
    ) -> None:
        self.reason = reason
        self.status = status
        self.alert_sent = alert_sent
        self.alert_received = alert_received
        self.detail = detail
        super().__init__(self.line())

    def line(self) -> str:
        parts = [f"TLSERR reason={self.reason}"]
        if self.status is not None:
            parts.append(f"status=0x{self.status & 0xFFFFFFFF:08X}")
        parts.append(f"alert_sent={alert_name(self.alert_sent)}")
        parts.append(f"alert_received={alert_name(self.alert_received)}")
        if self.detail:
            # One line: the runner greps stderr for strings with spaces in them
            # ("Unexpected SSL_shutdown result: -1 != 1"), so only line breaks go.
            parts.append("detail=" + " ".join(self.detail.splitlines()))
        return " ".join(parts)


def status_failure(call: str, status: int, **kw: Any) -> Failure:
    from schannel_py.constants import SecStatus

    try:
        name = SecStatus(status).name or hex(status)
    except ValueError:
        name = f"0x{status & 0xFFFFFFFF:08X}"
    return Failure(name, status=status, detail=call, **kw)


def plaintext_alert(data: bytes) -> int | None:
    """The description of an unencrypted alert record at the start of ``data``."""
    if len(data) >= 7 and data[0] == 21 and data[1] == 3 and data[3:5] == b"\x00\x02":
        return data[6]
    return None


# ---------------------------------------------------------------------------
# Credentials
# ---------------------------------------------------------------------------

#: TLS group code point -> CRYPTO_SETTINGS.strCngAlgId (TlsParametersCngAlgUsageKeyExchange).
GROUP_CNG_NAMES = {
    0x001D: "CURVE25519",
    0x0017: "NISTP256",
    0x0018: "NISTP384",
    0x11EB: "SECP256R1MLKEM768",
    0x11EC: "X25519MLKEM768",
    0x11ED: "SECP384R1MLKEM1024",
}


def credential_settings(cfg: Config) -> tuple[Any, ...]:
    """The part of a Config that lives in the credential handle (compared across phases)."""
    return (
        cfg.get("cert-file"),
        cfg.get("key-file"),
        cfg.flag("use-old-client-cert-callback"),
        cfg.get("min-version"),
        cfg.get("max-version"),
        cfg.flag("no-tls12"),
        cfg.flag("no-tls13"),
        tuple(cfg.get("curves", [])),
        tuple(sorted(set(cfg.get("verify-prefs", cfg.get("signing-prefs", []))))),
        cfg.flag("enable-ocsp-stapling"),
    )


def load_client_cert(cfg: Config) -> Any:
    """The CERT_CONTEXT for -cert-file/-key-file (None without them)."""
    from schannel_py import crypt32

    cert_file, key_file = cfg.get("cert-file"), cfg.get("key-file")
    if not cert_file and not key_file:
        return None
    if not cert_file or not key_file:
        raise Unimplemented("-cert-file and -key-file go together")
    ctx = crypt32.CertContextFromKeyPair(cert_file, key_file)
    if ctx is None:
        raise Unimplemented("client certificate/key type not supported")
    return ctx


def acquire(cfg: Config, cert_ctx: Any) -> Any:
    """An outbound SCH_CREDENTIALS handle for ``cfg`` (manual validation, like BoringSSL)."""
    import schannel_py as S

    disabled = 0
    if cfg.flag("no-tls13") or (cfg.has("max-version") and cfg.get("max-version") < 0x0304):
        disabled |= S.SP_PROT_TLS1_3_CLIENT
    if cfg.flag("no-tls12") or (cfg.has("min-version") and cfg.get("min-version") > 0x0303):
        disabled |= S.SP_PROT_TLS1_2_CLIENT
    crypto: list[Any] = []
    if cfg.has("curves"):
        wanted = set(cfg.get("curves"))
        for code, name in GROUP_CNG_NAMES.items():
            if code not in wanted:
                crypto.append(
                    S.CRYPTO_SETTINGS(
                        eAlgorithmUsage=S.TlsParametersCngAlgUsageKeyExchange, strCngAlgId=name
                    )
                )
    crypto += signature_settings(cfg)
    params = [
        S.TLS_PARAMETERS(
            grbitDisabledProtocols=disabled,
            cDisabledCrypto=len(crypto),
            pDisabledCrypto=crypto or None,
        )
    ]
    creds = [cert_ctx] if cert_ctx is not None else None
    # BoringSSL's SSL_enable_ocsp_stapling: a revocation flag makes SChannel ask for a
    # staple (under manual validation nothing is checked, as BoringSSL checks nothing).
    stapling = S.SCH_CRED_REVOCATION_CHECK_END_CERT if cfg.flag("enable-ocsp-stapling") else 0
    auth = S.SCH_CREDENTIALS(
        dwVersion=S.SCH_CREDENTIALS_VERSION,
        dwFlags=S.SCH_CRED_MANUAL_CRED_VALIDATION
        | S.SCH_CRED_NO_SERVERNAME_CHECK
        | S.SCH_CRED_NO_DEFAULT_CREDS
        | S.SCH_USE_STRONG_CRYPTO
        | stapling,
        cCreds=len(creds or []),
        paCred=creds,
        cTlsParameters=len(params),
        pTlsParameters=params,
    )
    cred = S.CredHandle()
    status = S.AcquireCredentialsHandle(
        None, S.UNISP_NAME, S.SECPKG_CRED_OUTBOUND, None, auth, None, None, cred, S.TimeStamp()
    )
    if status != S.SEC_E_OK:
        raise Unimplemented(f"AcquireCredentialsHandle refused the configuration: 0x{status:08X}")
    return cred


# ---------------------------------------------------------------------------
# One connection
# ---------------------------------------------------------------------------


@dataclass
class ProcessState:
    """What survives from one connection to the next (the "session")."""

    session_verify_ok: bool = True
    #: The server's signature scheme of the handshake that made the session
    #: (SSL_get_peer_signature_algorithm reports it on resumptions too).
    session_peer_sigalg: int = 0


class BoringSSLClock:
    """BoringSSL's test clock (test_state.cc): starts at 1234 s, moves only by -resumption-delay."""

    START = 1234.0

    def __init__(self) -> None:
        self.seconds = self.START

    def __call__(self) -> float:
        return self.seconds

    def advance(self, seconds: int) -> None:
        self.seconds += seconds


def install_clock(clock: BoringSSLClock) -> None:
    """Make ``clock`` the package's clock for every new context of this process.

    ``schannel_py.sspi.context.clock`` is read by each new context: the TLS 1.3
    ticket receive time and obfuscated age, and the session cache's
    insertion and expiry (dwSessionLifespan, 10 h by default, so a clock near
    1234 s is fine).
    """
    from schannel_py.sspi import context

    context.clock = clock


class Connection:
    """TLS over one socket through the SSPI functions, with BoGo's I/O options.

    The SSPI calls are :class:`schannel_py.driver.SspiDriver`'s (curl's loop);
    the shim adds BoGo's transport (-async: one byte at a time), its hooks
    (verify callback, renegotiation policy, the old client-certificate
    callback) and the translation of failures into TLSERR lines.
    """

    def __init__(
        self,
        sock: socket.socket,
        cfg: Config,
        cred: Any,
        cert_cred: Callable[[], Any] | None,
        target: str | None,
        is_resume: bool,
        state: ProcessState,
    ) -> None:
        import schannel_py as S
        from schannel_py.driver import SspiDriver

        self.S = S
        self.sock = sock
        self.cfg = cfg
        self.cred = cred
        self.cert_cred = cert_cred
        self.target = target
        self.is_resume = is_resume
        self.state = state
        self.async_io = cfg.flag("async")
        self.read_size = int(cfg.get("read-size", 512))
        req = (
            S.ISC_REQ_SEQUENCE_DETECT
            | S.ISC_REQ_REPLAY_DETECT
            | S.ISC_REQ_CONFIDENTIALITY
            | S.ISC_REQ_ALLOCATE_MEMORY
            | S.ISC_REQ_STREAM
        )
        if not cfg.flag("use-old-client-cert-callback"):
            req |= S.ISC_REQ_USE_SUPPLIED_CREDS
        self.drv = SspiDriver(
            self.send_raw,
            self.recv_raw,
            cred,
            target,
            req,
            recv_size=1 if self.async_io else 16384,
            check_flags=False,
            observer=self._observe,
            on_context=self._on_context,
            on_incomplete_credentials=self._on_incomplete_credentials,
            on_renegotiate=self._on_renegotiate,
        )
        self.in_renegotiation = False  # SEC_I_RENEGOTIATE's ISC loop is running
        self.peer_closed = False  # close_notify received
        self.peer_eof = False  # TCP EOF
        self.local_closed = False
        self.version = 0
        self.renegotiations = 0
        self.hook_done = False  # the verify callback ran on this connection
        self.verify_ok = True
        self.rejected_alert: int | None = None  # the verify callback rejected with it
        self.cert_mismatch = False

    @property
    def ctx(self) -> Any:
        return self.drv.ctx

    @property
    def enc(self) -> bytearray:
        """Received, not yet consumed by ISC/DecryptMessage."""
        return self.drv.encdata

    # --- raw I/O (the driver's transport) ------------------------------------------

    def recv_raw(self, n: int) -> bytes:
        """Up to ``n`` bytes of ciphertext (-async: the driver asks for one); b"" on EOF."""
        try:
            chunk = self.sock.recv(n)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.peer_eof = True
        return chunk

    def send_raw(self, data: bytes) -> None:
        if not data:
            return
        if self.async_io:
            for i in range(len(data)):  # the async BIO's write quota: one byte per retry
                self.sock.sendall(data[i : i + 1])
        else:
            self.sock.sendall(data)

    def _observe(self, event: str, details: dict[str, object]) -> None:
        if event == "decrypt":  # the ISC loop answering SEC_I_RENEGOTIATE is over
            self.in_renegotiation = False

    # --- the driver's hooks ----------------------------------------------------------

    def _on_context(self, drv: Any) -> None:
        """Right after the first ISC: the context attributes BoGo's flags call for."""
        if any(self.cfg.has(f) for f in VERIFY_FLAGS):
            self.install_verify_callback()
        if renegotiation_mode(self.cfg) == "ignore":
            self.ignore_hello_requests()

    def _on_incomplete_credentials(self, drv: Any) -> None:
        """The "old client certificate callback": the certificate is supplied on
        request, with a credential handle that carries it."""
        if self.cert_cred is not None and drv.cred is self.cred:
            drv.cred = self.cert_cred()
        else:
            drv.req |= self.S.ISC_REQ_USE_SUPPLIED_CREDS

    # --- handshake -----------------------------------------------------------------

    def handshake(self, alpn: list[bytes]) -> None:
        from schannel_py.driver import SspiError

        self.drv.alpn = alpn
        try:
            self.drv.handshake()
        except SspiError as e:
            raise self.isc_failure(e) from None
        self.version = self.query_version()
        if self.cert_mismatch:
            raise Failure(":PEER_CERTIFICATE_MISMATCH:", detail="peer certificate mismatch")

    def isc_failure(self, e: Any) -> Failure:
        """The TLSERR line for a failed ISC loop (the driver sent the ALERT output)."""
        from schannel_py.driver import SspiEOFError

        if isinstance(e, SspiEOFError):
            return Failure(
                ":UNEXPECTED_EOF:" if not self.enc else ":TRUNCATED_RECORD:",
                alert_received=plaintext_alert(bytes(self.enc)),
                detail="EOF during the handshake",
            )
        if e.call != "InitializeSecurityContext":
            return status_failure(e.call, e.status)
        self.local_closed = True
        sent = e.alert
        alert_sent = plaintext_alert(sent) if sent else None
        if sent and alert_sent is None:
            # Protected (TLS 1.3 handshake key): the package documents that the
            # callback's alert is what the ALERT buffer holds, so name it.
            alert_sent = self.rejected_alert if self.rejected_alert is not None else -1
        if self.rejected_alert is not None:
            return Failure(
                ":CERTIFICATE_VERIFY_FAILED:",
                status=e.status,
                alert_sent=alert_sent,
                detail="InitializeSecurityContext(verify_callback_rejected)",
            )
        return status_failure(
            "InitializeSecurityContext",
            e.status,
            alert_sent=alert_sent,
            alert_received=plaintext_alert(bytes(self.enc)),
        )

    def install_verify_callback(self) -> None:
        """BoGo's certificate verify callback as the package's verify callback.

        SECPKG_ATTR_PY_VERIFY_CALLBACK (schannel_py extension), set right after
        the first ISC: the package calls it while processing the server's
        Certificate, before the client's Finished, and a rejection makes that ISC
        fail with the alert under the keys the server reads with (TLS 1.3: the
        client handshake traffic key; TLS 1.2: plaintext).  The package itself
        validates nothing (SCH_CRED_MANUAL_CRED_VALIDATION), like BoringSSL's shim.
        """
        S = self.S
        info = S.SecPkgContext_PyVerifyCallback(
            pfnCallback=self.verify_callback, fOnResumption=self.cfg.flag("reverify-on-resume")
        )
        status = S.SetContextAttributes(self.ctx, S.SECPKG_ATTR_PY_VERIFY_CALLBACK, info, 0)
        if status != S.SEC_E_OK:
            raise status_failure("SetContextAttributes(PY_VERIFY_CALLBACK)", status)

    def ignore_hello_requests(self) -> None:
        """-renegotiate-ignore: SECPKG_ATTR_PY_RENEGOTIATION_POLICY IGNORE (schannel_py
        extension), so a TLS 1.2 HelloRequest is dropped inside DecryptMessage
        (SEC_E_OK, no data) instead of surfacing as SEC_I_RENEGOTIATE, which
        Windows' SSPI makes the caller answer with a renegotiating ISC."""
        S = self.S
        info = S.SecPkgContext_PyRenegotiationPolicy(dwPolicy=S.SCHANNEL_PY_RENEGOTIATION_IGNORE)
        status = S.SetContextAttributes(self.ctx, S.SECPKG_ATTR_PY_RENEGOTIATION_POLICY, info, 0)
        if status != S.SEC_E_OK:
            raise status_failure("SetContextAttributes(PY_RENEGOTIATION_POLICY)", status)

    def verify_callback(self, leaf: Any) -> Any:
        """The verify hook: record the result; reject with -verify-peer -verify-fail."""
        S = self.S
        cfg = self.cfg
        self.hook_done = True
        if cfg.has("expect-peer-cert-file"):
            self.cert_mismatch = not self.peer_cert_matches(leaf)
        self.verify_ok = not cfg.flag("verify-fail")
        if self.verify_ok or not cfg.flag("verify-peer"):
            return S.SEC_E_OK  # soft failure: only recorded (-expect-verify-result)
        alert = (
            S.TLS1_ALERT_CERTIFICATE_UNKNOWN
            if cfg.flag("use-custom-verify-callback")
            else S.TLS1_ALERT_HANDSHAKE_FAILURE
        )
        self.rejected_alert = alert
        return (S.SEC_E_CERT_UNKNOWN, alert)

    def peer_cert_matches(self, leaf: Any) -> bool:
        """-expect-peer-cert-file: the server's leaf is the file's first certificate."""
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding

        with open(self.cfg.get("expect-peer-cert-file"), "rb") as f:
            expected = x509.load_pem_x509_certificates(f.read())
        return bool(expected) and expected[0].public_bytes(Encoding.DER) == bytes(
            leaf.pbCertEncoded
        )

    # --- alerts and shutdown -------------------------------------------------------

    def _control(self, token: bytes) -> None:
        """ApplyControlToken + ISC through the driver; what it returns is sent."""
        from schannel_py.driver import SspiError

        S = self.S
        try:
            data = self.drv.control(
                token, accept=(S.SEC_E_OK, S.SEC_I_CONTEXT_EXPIRED, S.SEC_I_CONTINUE_NEEDED)
            )
        except SspiError as e:
            raise status_failure(e.call, e.status) from None
        try:
            self.send_raw(data)
        except OSError:
            pass
        self.local_closed = True

    def send_alert(self, description: int) -> None:
        S = self.S
        self._control(S.pack_alert_token(S.TLS1_ALERT_FATAL, description))

    def send_failure_alert(self) -> int | None:
        """After DecryptMessage failed: send the fatal alert the failure calls for.

        DecryptMessage has no ALERT output buffer; the package names the alert
        in SECPKG_ATTR_PY_HANDSHAKE_INFO (fFailureAlert/bFailureAlert,
        schannel_py extension), and SCHANNEL_ALERT_TOKEN + ISC protects it
        under the current write key (BoringSSL sends it as SSL_read fails).
        None when the peer's alert ended the connection (nothing to send) or
        the alert could not be sent.
        """
        S = self.S
        info = S.SecPkgContext_PyHandshakeInfo()
        status = S.QueryContextAttributes(self.ctx, S.SECPKG_ATTR_PY_HANDSHAKE_INFO, info)
        if status != S.SEC_E_OK or not info.fFailureAlert:
            return None
        alert = int(info.bFailureAlert)
        try:
            self.send_alert(alert)
        except Failure:
            return None
        return alert

    def key_update(self, requested: int) -> None:
        """A TLS 1.3 KeyUpdate: ApplyControlToken(SCHANNEL_PY_KEY_UPDATE), then ISC.

        schannel_py extension (Windows cannot ask for one).  ISC with no input
        returns the KeyUpdate record, under the old key; writes after it use
        the next traffic secret.  TLS 1.2: SEC_E_UNSUPPORTED_FUNCTION, a
        failure as SSL_key_update's.
        """
        from schannel_py.driver import SspiError

        S = self.S
        try:
            data = self.drv.control(S.pack_key_update_token(requested), accept=(S.SEC_E_OK,))
        except SspiError as e:
            suffix = "(PY_KEY_UPDATE)" if e.call == "ApplyControlToken" else "(key_update)"
            raise status_failure(e.call + suffix, e.status) from None
        self.send_raw(data)

    def shutdown(self) -> None:
        if self.local_closed:
            return
        S = self.S
        self._control(S.pack_control_token(S.SCHANNEL_SHUTDOWN))

    # --- records -------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        from schannel_py.driver import SspiError

        if not data:
            return
        try:
            self.drv.send(data)
        except SspiError as e:
            call = e.call + ("(STREAM_SIZES)" if e.call.startswith("Query") else "")
            raise status_failure(call, e.status) from None

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes of application data; b"" on close_notify or clean EOF."""
        from schannel_py.driver import SspiEOFError, SspiError

        try:
            data = self.drv.recv(n)
        except SspiEOFError as e:
            if self.in_renegotiation:  # EOF inside SEC_I_RENEGOTIATE's ISC loop
                raise self.isc_failure(e) from None
            if e.truncated:
                raise Failure(":TRUNCATED_RECORD:", detail="EOF inside a record") from None
            return b""  # clean EOF at a record boundary
        except SspiError as e:
            if e.call.startswith("InitializeSecurityContext"):
                raise self.isc_failure(e) from None
            raise status_failure(
                "DecryptMessage",
                e.status,
                alert_sent=self.send_failure_alert(),
                alert_received=plaintext_alert(bytes(self.enc)),
            ) from None
        if not data:
            self.peer_closed = self.drv.closed
        return data

    def _on_renegotiate(self, drv: Any) -> None:
        """SEC_I_RENEGOTIATE: a TLS 1.2 HelloRequest, or a TLS 1.3 post-handshake message.

        For a HelloRequest the mode decides (renegotiation_mode): once/freely
        accept it (the driver then runs the ISC loop), as BoringSSL renegotiates
        inside SSL_read.  explicit: SEC_I_RENEGOTIATE is SSL_read's "want
        renegotiate" signal and the ISC that answers it is the application's
        SSL_renegotiate (until then Encrypt/DecryptMessage answer
        SEC_E_CONTEXT_EXPIRED, as BoringSSL holds reads until SSL_renegotiate);
        every renegotiation is therefore triggered explicitly.  never: refused
        with a fatal no_renegotiation alert.  (ignore never gets here: the
        package drops the HelloRequest.)
        """
        S = self.S
        if self.version == 0x0303:
            mode = renegotiation_mode(self.cfg)
            allowed = mode in ("freely", "explicit") or (
                mode == "once" and self.renegotiations == 0
            )
            if not allowed:
                self.send_alert(S.TLS1_ALERT_NO_RENEGOTIATION)
                raise Failure(":NO_RENEGOTIATION:", alert_sent=S.TLS1_ALERT_NO_RENEGOTIATION)
            self.renegotiations += 1
        self.in_renegotiation = True

    # --- queries -------------------------------------------------------------------

    def query_version(self) -> int:
        S = self.S
        info = S.SecPkgContext_ConnectionInfo()
        status = S.QueryContextAttributes(self.ctx, S.SECPKG_ATTR_CONNECTION_INFO, info)
        if status != S.SEC_E_OK:
            raise status_failure("QueryContextAttributes(CONNECTION_INFO)", status)
        if info.dwProtocol & S.SP_PROT_TLS1_3_CLIENT:
            return 0x0304
        if info.dwProtocol & S.SP_PROT_TLS1_2_CLIENT:
            return 0x0303
        return 0

    def check_properties(self, alpn: list[bytes]) -> None:
        """CheckHandshakeProperties, through QueryContextAttributes."""
        S = self.S
        cfg = self.cfg
        if cfg.has("expect-version") and self.version != cfg.get("expect-version"):
            raise Failure(
                ":WRONG_VERSION:",
                detail=f"got version {self.version:#06x}, wanted {cfg.get('expect-version'):#06x}",
            )
        info = S.SecPkgContext_SessionInfo()
        status = S.QueryContextAttributes(self.ctx, S.SECPKG_ATTR_SESSION_INFO, info)
        if status != S.SEC_E_OK:
            raise status_failure("QueryContextAttributes(SESSION_INFO)", status)
        resumed = bool(info.dwFlags & S.SSL_SESSION_RECONNECT)
        expect_resume = self.is_resume and not cfg.flag("expect-session-miss")
        if resumed != expect_resume:
            raise Failure(
                ":SESSION_REUSE_MISMATCH:",
                detail=f"session unexpectedly was{'' if resumed else ' not'} reused",
            )
        if cfg.has("expect-peer-cert-file") and not self.hook_done:
            # A resumption without -reverify-on-resume: the session's certificate.
            leaf = S.PVOID()
            status = S.QueryContextAttributes(self.ctx, S.SECPKG_ATTR_REMOTE_CERT_CONTEXT, leaf)
            if status != S.SEC_E_OK or leaf.value is None or not self.peer_cert_matches(leaf.value):
                raise Failure(":PEER_CERTIFICATE_MISMATCH:", detail="peer certificate mismatch")
        if cfg.has("expect-ocsp-response"):
            self.check_ocsp_response(cfg.get("expect-ocsp-response"))
        if not self.hook_done:
            self.verify_ok = (
                self.state.session_verify_ok if resumed else not cfg.flag("verify-fail")
            )
        if not resumed:
            self.state.session_verify_ok = self.verify_ok
        self.check_handshake_info(resumed)
        if cfg.flag("expect-verify-result") and self.verify_ok == cfg.flag("verify-fail"):
            raise Failure(
                ":VERIFY_RESULT_MISMATCH:", detail="wrong certificate verification result"
            )
        cipher = S.SecPkgContext_CipherInfo()
        status = S.QueryContextAttributes(self.ctx, S.SECPKG_ATTR_CIPHER_INFO, cipher)
        if status != S.SEC_E_OK:
            raise status_failure("QueryContextAttributes(CIPHER_INFO)", status)
        if cfg.has("expect-curve-id") and cipher.dwKeyType != cfg.get("expect-curve-id"):
            raise Failure(":CURVE_MISMATCH:", detail=f"group {cipher.dwKeyType} negotiated")
        want_cipher = cfg.get("expect-cipher-aes", 0)  # assume AES hardware
        if want_cipher and cipher.dwCipherSuite != want_cipher:
            raise Failure(":CIPHER_MISMATCH:", detail=f"cipher {cipher.dwCipherSuite:#06x}")
        if cfg.has("expect-alpn") or alpn:
            ap = S.SecPkgContext_ApplicationProtocol()
            status = S.QueryContextAttributes(self.ctx, S.SECPKG_ATTR_APPLICATION_PROTOCOL, ap)
            if status != S.SEC_E_OK:
                raise status_failure("QueryContextAttributes(APPLICATION_PROTOCOL)", status)
            got = b""
            if ap.ProtoNegoStatus == S.SecApplicationProtocolNegotiationStatus_Success:
                got = bytes(ap.ProtocolId[: ap.ProtocolIdSize])
            if cfg.has("expect-alpn") and got != cfg.get("expect-alpn"):
                raise Failure(":ALPN_MISMATCH:", detail=f"negotiated {got!r}")
        if cfg.has("expect-client-ca-list"):
            issuers = S.SecPkgContext_IssuerListInfoEx()
            status = S.QueryContextAttributes(self.ctx, S.SECPKG_ATTR_ISSUER_LIST_EX, issuers)
            if status != S.SEC_E_OK:
                raise status_failure("QueryContextAttributes(ISSUER_LIST_EX)", status)
            want = [bytes.fromhex(h) for h in cfg.get("expect-client-ca-list").split(",") if h]
            if [bytes(x) for x in issuers.aIssuers] != want:
                raise Failure(":CA_LIST_MISMATCH:", detail="client CA list mismatch")

    def check_ocsp_response(self, want: bytes) -> None:
        """SSL_get0_ocsp_response: the server certificate's CERT_OCSP_RESPONSE_PROP_ID
        (on a resumption, the one kept with the session)."""
        S = self.S
        from schannel_py import crypt32

        leaf = S.PVOID()
        status = S.QueryContextAttributes(self.ctx, S.SECPKG_ATTR_REMOTE_CERT_CONTEXT, leaf)
        if status != S.SEC_E_OK or leaf.value is None:
            raise status_failure("QueryContextAttributes(REMOTE_CERT_CONTEXT)", status)
        prop = crypt32.CERT_OCSP_RESPONSE_PROP_ID
        size = crypt32.DWORD()
        got = b""
        if crypt32.CertGetCertificateContextProperty(leaf.value, prop, None, size):
            buf = bytearray(size.value)
            if crypt32.CertGetCertificateContextProperty(leaf.value, prop, buf, size):
                got = bytes(buf[: size.value])
        if got != want:
            raise Failure(":OCSP_RESPONSE_MISMATCH:", detail=f"OCSP response {got.hex()}")

    def handshake_info(self) -> Any:
        """SECPKG_ATTR_PY_HANDSHAKE_INFO (schannel_py extension)."""
        S = self.S
        info = S.SecPkgContext_PyHandshakeInfo()
        status = S.QueryContextAttributes(self.ctx, S.SECPKG_ATTR_PY_HANDSHAKE_INFO, info)
        if status != S.SEC_E_OK:
            raise status_failure("QueryContextAttributes(PY_HANDSHAKE_INFO)", status)
        return info

    def check_handshake_info(self, resumed: bool) -> None:
        """The CheckHandshakeProperties checks that need SECPKG_ATTR_PY_HANDSHAKE_INFO."""
        cfg = self.cfg
        info = self.handshake_info()
        if not resumed:
            self.state.session_peer_sigalg = int(info.wPeerSignatureScheme)
        sigalg = self.state.session_peer_sigalg if resumed else int(info.wPeerSignatureScheme)
        want = int(cfg.get("expect-peer-signature-algorithm", 0))
        if want and sigalg != want:
            raise Failure(
                ":PEER_SIGNATURE_ALGORITHM_MISMATCH:",
                detail=f"Peer signature algorithm was {sigalg:04x}, wanted {want:04x}.",
            )
        if cfg.flag("expect-hrr") and not info.fHelloRetryRequest:
            raise Failure(":HRR_MISMATCH:", detail="No HRR when expected")
        if cfg.flag("expect-no-hrr") and info.fHelloRetryRequest:
            raise Failure(":HRR_MISMATCH:", detail="Unexpected HRR")
        if cfg.flag("expect-extended-master-secret") and not info.fExtendedMasterSecret:
            raise Failure(":EMS_MISMATCH:", detail="No EMS for connection when expected")
        # SSL_get_secure_renegotiation_support: always true in TLS 1.3.
        ri = self.version == 0x0304 or bool(info.fSecureRenegotiation)
        if cfg.flag("expect-secure-renegotiation") and not ri:
            raise Failure(
                ":RENEGOTIATION_MISMATCH:",
                detail="No secure renegotiation for connection when expected",
            )
        if cfg.flag("expect-no-secure-renegotiation") and ri:
            raise Failure(
                ":RENEGOTIATION_MISMATCH:",
                detail="Secure renegotiation unexpectedly negotiated for connection",
            )
        # BoringSSL's CheckPeerVerifyPrefs runs when a CertificateRequest arrives:
        # the server's list, in order, must be exactly the expected one.
        want_prefs = [int(x) for x in cfg.get("expect-peer-verify-pref", [])]
        got_prefs = [int(x) for x in info.aPeerVerifyPrefs[: info.cPeerVerifyPrefs]]
        if want_prefs and got_prefs and got_prefs != want_prefs:
            raise Failure(
                ":PEER_VERIFY_PREFS_MISMATCH:",
                detail="peer verify preferences "
                + ",".join(f"{x:04x}" for x in got_prefs)
                + ", wanted "
                + ",".join(f"{x:04x}" for x in want_prefs),
            )
        # CheckCertificateRequest, when a CertificateRequest arrived (it always carries
        # signature schemes; TLS 1.2's also certificate_types, TLS 1.3's has none, so
        # there the list is empty, as SSL_get0_certificate_types reports).
        want_types = bytes(cfg.get("expect-certificate-types", b""))
        got_types = bytes(info.aCertificateTypes[: info.cCertificateTypes])
        if want_types and (got_prefs or got_types) and got_types != want_types:
            raise Failure(
                ":CERTIFICATE_TYPES_MISMATCH:",
                detail=f"certificate types mismatch. (got {got_types.hex()}, "
                f"wanted {want_types.hex()})",
            )
        if self.version < 0x0304:
            # Session tickets are sent post-handshake in TLS 1.3 (checked after the loop).
            expect_new = not cfg.flag("expect-no-session") and (
                not resumed or cfg.flag("expect-ticket-renewal")
            )
            if expect_new != bool(info.fNewSession):
                raise Failure(
                    ":NEW_SESSION_MISMATCH:",
                    detail=f"new session was{'' if info.fNewSession else ' not'} cached, "
                    "but we expected the opposite",
                )

    def check_tickets(self) -> None:
        """After the echo loop: a TLS 1.3 client must have received a NewSessionTicket."""
        cfg = self.cfg
        if self.version != 0x0304:
            return
        tickets = int(self.handshake_info().cTicketsReceived)
        if cfg.flag("expect-no-session"):
            if tickets:
                raise Failure(":UNEXPECTED_NEW_SESSION:", detail=f"{tickets} tickets received")
        elif not cfg.flag("shim-shuts-down") and tickets == 0:
            raise Failure(":NO_NEW_SESSION:", detail="Client did not receive a new session")

    def export_keying_material(self) -> bytes:
        """RFC 5705 / RFC 8446 exporter through SECPKG_ATTR_KEYING_MATERIAL(_INFO)."""
        S = self.S
        cfg = self.cfg
        label = str(cfg.get("export-label", ""))
        context = os.fsencode(cfg.get("export-context", ""))
        use_context = cfg.flag("use-export-context")
        n = int(cfg.get("export-keying-material"))
        info = S.SecPkgContext_KeyingMaterialInfo(
            cbLabel=len(label.encode()) + 1,
            pszLabel=label,
            cbContextValue=len(context) if use_context else 0,
            pbContextValue=context if use_context else None,
            cbKeyingMaterial=n,
        )
        status = S.SetContextAttributes(self.ctx, S.SECPKG_ATTR_KEYING_MATERIAL_INFO, info, 0)
        if status != S.SEC_E_OK:
            raise status_failure("SetContextAttributes(KEYING_MATERIAL_INFO)", status)
        km = S.SecPkgContext_KeyingMaterial()
        status = S.QueryContextAttributes(self.ctx, S.SECPKG_ATTR_KEYING_MATERIAL, km)
        if status != S.SEC_E_OK:
            raise status_failure("QueryContextAttributes(KEYING_MATERIAL)", status)
        data = bytes(km.pbKeyingMaterial or b"")[: km.cbKeyingMaterial]
        if len(data) != n:
            raise Failure(":EXPORTER:", detail=f"{len(data)} exporter bytes, wanted {n}")
        return data

    def tls_unique(self) -> bytes:
        S = self.S
        b = S.SecPkgContext_Bindings()
        status = S.QueryContextAttributes(self.ctx, S.SECPKG_ATTR_UNIQUE_BINDINGS, b)
        if status != S.SEC_E_OK:
            raise status_failure("QueryContextAttributes(UNIQUE_BINDINGS)", status)
        data = S.parse_channel_bindings(b.Bindings)
        prefix = b"tls-unique:"
        if data is None or not data.startswith(prefix):
            raise Failure(":TLS_UNIQUE:", detail="no tls-unique binding")
        return bytes(data[len(prefix) :])

    # --- the exchange (DoExchange) ---------------------------------------------------

    def run(self, alpn: list[bytes]) -> None:
        cfg = self.cfg
        self.handshake(alpn)
        self.check_properties(alpn)
        if cfg.has("export-keying-material"):
            self.write(self.export_keying_material())
        if cfg.flag("tls-unique"):
            self.write(self.tls_unique())
        if cfg.flag("send-alert"):
            self.send_alert(self.S.TLS1_ALERT_DECOMPRESSION_FAIL)
            return
        if cfg.flag("shim-writes-first"):
            self.write(b"hello")
        if not cfg.flag("shim-shuts-down"):
            while True:
                data = self.read(self.read_size)
                if not data:
                    break
                if cfg.flag("key-update"):
                    self.key_update(self.S.SCHANNEL_PY_KEY_UPDATE_NOT_REQUESTED)
                self.write(bytes(b ^ 0xFF for b in data))
        self.check_tickets()
        if self.renegotiations != int(cfg.get("expect-total-renegotiations", 0)):
            raise Failure(
                ":RENEGOTIATION_COUNT:",
                detail=f"{self.renegotiations} renegotiations, wanted "
                f"{cfg.get('expect-total-renegotiations', 0)}",
            )
        self.shutdown()
        if cfg.flag("shim-shuts-down") and cfg.flag("check-close-notify"):
            while not (self.peer_closed or self.peer_eof):
                # BoringSSL's SSL_shutdown, waiting for the peer's close_notify, fails on
                # application data; the package hands it over (a half-closed connection
                # may still receive, RFC 8446 6.1), so the shim applies that rule.
                if self.read(1 << 20):
                    raise Failure(
                        ":APPLICATION_DATA_ON_SHUTDOWN:", detail="data after our close_notify"
                    )
            if not self.peer_closed:
                raise Failure(
                    ":UNCLEAN_SHUTDOWN:", detail="Unexpected SSL_shutdown result: -1 != 1"
                )

    def close(self) -> None:
        self.drv.close()


# ---------------------------------------------------------------------------
# Process
# ---------------------------------------------------------------------------


def close_socket(sock: socket.socket) -> None:
    """Half-close and drain until EOF, so the runner never sees a reset mid-write."""
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(5.0)
        while sock.recv(4096):
            pass
    except OSError:
        pass
    finally:
        sock.close()


def connect(cfg: Config, port: int, shim_id: int) -> socket.socket:
    host = "::1" if cfg.flag("ipv6") else "127.0.0.1"
    family = socket.AF_INET6 if cfg.flag("ipv6") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.connect((host, port))
    sock.sendall(struct.pack("<Q", shim_id))
    return sock


def run(configs: dict[str, Config]) -> None:
    initial, resume = configs["initial"], configs["resume"]
    if not initial.has("port"):
        raise Unimplemented("no -port (server tests and other modes are not implemented)")
    port = int(initial.get("port"))
    shim_id = int(initial.get("shim-id", 0))
    count = int(initial.get("resume-count", 0))
    if count and credential_settings(initial) != credential_settings(resume):
        raise Unimplemented("credential settings that change on resumption")
    cert_ctx = load_client_cert(initial)
    old_callback = initial.flag("use-old-client-cert-callback")
    cred = acquire(initial, None if old_callback else cert_ctx)
    cert_cred_cache: list[Any] = []

    def cert_cred() -> Any:
        if not cert_cred_cache:
            cert_cred_cache.append(acquire(initial, cert_ctx))
        return cert_cred_cache[0]

    state = ProcessState()
    clock = BoringSSLClock()
    install_clock(clock)
    for i in range(count + 1):
        cfg = initial if i == 0 else resume
        alpn = parse_alpn_wire(cfg.get("advertise-alpn", b""))
        sock = connect(cfg, port, shim_id)
        conn = Connection(
            sock,
            cfg,
            cred,
            cert_cred if old_callback and cert_ctx is not None else None,
            cfg.get("host-name"),
            i > 0,
            state,
        )
        try:
            conn.run(alpn)
        finally:
            conn.close()
            close_socket(sock)
        clock.advance(int(cfg.get("resumption-delay", 0)))


def silence_stderr_noise() -> None:
    """Nothing but the shim's own verdict may reach stderr (a passing test needs it empty).

    Warnings are ignored; the package's loggers (an SSPI function that catches an
    unexpected exception logs it before answering SEC_E_INTERNAL_ERROR) get a
    null handler instead of logging's last-resort stderr handler; exceptions in
    finalizers ("Exception ignored in ...") are dropped.
    """
    warnings.simplefilter("ignore")
    package_log = logging.getLogger("schannel_py")
    package_log.addHandler(logging.NullHandler())
    package_log.propagate = False
    sys.unraisablehook = lambda unraisable: None


#: When set, the reason for every exit 89 is appended to this file, one line each
#: (bogo/run.py counts them: the runner keeps no output of unimplemented tests).
UNIMPLEMENTED_LOG_ENV = "SCHANNEL_PY_BOGO_UNIMPLEMENTED_LOG"


def note_unimplemented(reason: str) -> None:
    path = os.environ.get(UNIMPLEMENTED_LOG_ENV)
    if not path:
        return
    line = (reason.replace("\n", " ") + "\n").encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)  # one short write with O_APPEND: whole lines, whatever the workers
        finally:
            os.close(fd)
    except OSError:
        pass


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if "-is-handshaker-supported" in args:
        print("No", flush=True)
        return 0
    try:
        configs = parse_args(args)
        run(configs)
    except Unimplemented as e:
        print(f"UNIMPLEMENTED {e}", file=sys.stderr)
        note_unimplemented(str(e))
        return EXIT_UNIMPLEMENTED
    except Failure as e:
        print(e.line(), file=sys.stderr)
        return 1
    except OSError as e:
        reason = ":FILE_ERROR:" if e.filename is not None else ":SOCKET_ERROR:"
        print(Failure(reason, detail=str(e).replace(" ", "_")).line(), file=sys.stderr)
        return 1
    except Exception as e:  # a shim bug: still one canonical line, never a traceback
        detail = f"{type(e).__name__}: {e}"
        print(Failure(":SHIM_INTERNAL_ERROR:", detail=detail).line(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    silence_stderr_noise()  # process-wide, so only when running as the shim
    sys.exit(main())
