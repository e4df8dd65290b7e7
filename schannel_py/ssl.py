"""Python's ``ssl`` API over the SSPI client: an ``ssl.SSLContext`` whose TLS is SChannel's.

:class:`SSLContext` subclasses :class:`ssl.SSLContext` (callers check
``isinstance``) and overrides the private hook ``_wrap_bio`` that
:meth:`ssl.SSLContext.wrap_bio` calls, as truststore overrides the public
wrappers: ``ctx.wrap_bio(incoming, outgoing, server_hostname=...)`` returns a
real :class:`ssl.SSLObject` whose ``_sslobj`` is :class:`SChannelObject`, which
drives this package's SSPI functions (the ISC loop, EncryptMessage,
DecryptMessage, ApplyControlToken) over the two memory BIOs.  asyncio's
``open_connection(ssl=ctx)`` and ``loop.start_tls`` use exactly that path; the
hook ``_wrap_socket`` gives ``wrap_socket`` (http.client, urllib3, requests,
httpx) a real :class:`ssl.SSLSocket` over :class:`SChannelSocketObject`.

Client side only; TLS 1.2 and 1.3 only.  What is honoured and what is refused:
docs/python-ssl.md.
"""

from __future__ import annotations

import _socket
import _ssl
import binascii
import datetime
import hashlib
import ipaddress
import os
import re
import ssl
import struct
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID

from . import constants as C
from . import crypt32, keylog
from .constants import SecStatus
from .crypt32._x509 import extensions_of, load_certificate, serial_number
from .driver import CURL_REQ_FLAGS, SspiDriver, SspiEOFError, SspiError
from .sspi import cache as sspi_cache
from .sspi import context as sspi_context
from .sspi import credentials as sspi_credentials
from .sspi import functions as F
from .sspi import observe
from .sspi.types import (
    CRYPTO_SETTINGS,
    PVOID,
    SCH_CREDENTIALS,
    TLS_PARAMETERS,
    CredHandle,
    SecPkgContext_Bindings,
    SecPkgContext_CipherInfo,
    SecPkgContext_ConnectionInfo,
    SecPkgContext_PyHandshakeInfo,
    SecPkgContext_PyVerifyCallback,
    SecPkgContext_SessionInfo,
    TimeStamp,
    parse_channel_bindings,
)
from .tls.session import Session12, Ticket13

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

__all__ = [
    "SChannelObject",
    "SChannelSocketObject",
    "SSLContext",
    "SSLSession",
    "STATUS_ERRORS",
    "extract_from_ssl",
    "inject_into_ssl",
]

_PROTOCOL_TLS_CLIENT = ssl.PROTOCOL_TLS_CLIENT
_ACCEPTED_PROTOCOLS = (ssl.PROTOCOL_TLS_CLIENT, ssl.PROTOCOL_TLS)
_OLD_VERSIONS = (ssl.TLSVersion.SSLv3, ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1)

# --- errors --------------------------------------------------------------------------

#: SSPI status -> (exception class, OpenSSL-style reason).  Certificate statuses are
#: refined into verify_code / verify_message by :func:`_verify_details`.
STATUS_ERRORS: dict[int, tuple[type[ssl.SSLError], str]] = {
    C.SEC_E_UNTRUSTED_ROOT: (ssl.SSLCertVerificationError, "CERTIFICATE_VERIFY_FAILED"),
    C.SEC_E_CERT_EXPIRED: (ssl.SSLCertVerificationError, "CERTIFICATE_VERIFY_FAILED"),
    C.SEC_E_WRONG_PRINCIPAL: (ssl.SSLCertVerificationError, "CERTIFICATE_VERIFY_FAILED"),
    C.SEC_E_CERT_WRONG_USAGE: (ssl.SSLCertVerificationError, "CERTIFICATE_VERIFY_FAILED"),
    C.SEC_E_CERT_UNKNOWN: (ssl.SSLCertVerificationError, "CERTIFICATE_VERIFY_FAILED"),
    C.CRYPT_E_REVOKED: (ssl.SSLCertVerificationError, "CERTIFICATE_VERIFY_FAILED"),
    C.SEC_E_ALGORITHM_MISMATCH: (ssl.SSLError, "SSLV3_ALERT_HANDSHAKE_FAILURE"),
    C.SEC_E_UNSUPPORTED_FUNCTION: (ssl.SSLError, "UNSUPPORTED_PROTOCOL"),
    C.SEC_E_ILLEGAL_MESSAGE: (ssl.SSLError, "UNEXPECTED_MESSAGE"),
    C.SEC_E_INVALID_TOKEN: (ssl.SSLError, "WRONG_VERSION_NUMBER"),
    C.SEC_E_DECRYPT_FAILURE: (ssl.SSLError, "DECRYPTION_FAILED_OR_BAD_RECORD_MAC"),
    C.SEC_E_MESSAGE_ALTERED: (ssl.SSLError, "DECRYPTION_FAILED_OR_BAD_RECORD_MAC"),
    C.SEC_E_CONTEXT_EXPIRED: (ssl.SSLError, "PROTOCOL_IS_SHUTDOWN"),
    C.SEC_E_NO_CREDENTIALS: (ssl.SSLError, "NO_CERTIFICATE_ASSIGNED"),
    C.SEC_E_INTERNAL_ERROR: (ssl.SSLError, "INTERNAL_ERROR"),
}

#: OpenSSL's X509_V_ERR_* messages for the codes this module reports.
_VERIFY_MESSAGES = {
    0: "unspecified certificate verification error",
    9: "certificate is not yet valid",
    10: "certificate has expired",
    18: "self-signed certificate",
    19: "self-signed certificate in certificate chain",
    20: "unable to get local issuer certificate",
    21: "unable to verify the first certificate",
    23: "certificate revoked",
    26: "unsupported certificate purpose",
}


def _make_error(
    cls: type[ssl.SSLError], errno: int, reason: str | None, message: str
) -> ssl.SSLError:
    """An ssl exception shaped as CPython builds them: (errno, strerror), reason, library."""
    text = f"[SSL: {reason}] {message} (schannel_py)" if reason else message
    exc = cls(errno, text)
    setattr(exc, "reason", reason)  # noqa: B010 (stubs type it as str)
    setattr(exc, "library", "SSL" if reason else None)  # noqa: B010
    return exc


def _want_read() -> ssl.SSLError:
    return _make_error(
        ssl.SSLWantReadError, ssl.SSL_ERROR_WANT_READ, None, "The operation did not complete (read)"
    )


def _want_write() -> ssl.SSLError:
    return _make_error(
        ssl.SSLWantWriteError,
        ssl.SSL_ERROR_WANT_WRITE,
        None,
        "The operation did not complete (write)",
    )


def _eof_error() -> ssl.SSLError:
    return _make_error(
        ssl.SSLEOFError,
        ssl.SSL_ERROR_EOF,
        "UNEXPECTED_EOF_WHILE_READING",
        "EOF occurred in violation of protocol",
    )


def _is_self_signed(der: bytes) -> bool:
    try:
        cert = load_certificate(der)
        return cert.issuer == cert.subject
    except Exception:
        return False


def _verify_details(status: int, chain: list[bytes], target: str | None) -> tuple[int, str]:
    """(verify_code, verify_message) as OpenSSL reports the failure ``status`` stands for."""
    if status == C.SEC_E_WRONG_PRINCIPAL:
        host = target or ""
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return 62, f"Hostname mismatch, certificate is not valid for '{host}'."
        return 64, f"IP address mismatch, certificate is not valid for '{host}'."
    code = 0
    if status == C.SEC_E_UNTRUSTED_ROOT:
        if len(chain) == 1 and _is_self_signed(chain[0]):
            code = 18
        elif len(chain) > 1 and _is_self_signed(chain[-1]):
            code = 19
        else:
            code = 20
    elif status == C.SEC_E_CERT_EXPIRED:
        code = 10
        try:
            leaf = load_certificate(chain[0])
            if leaf.not_valid_before_utc > datetime.datetime.now(datetime.timezone.utc):
                code = 9
        except Exception:
            pass
    elif status == C.CRYPT_E_REVOKED:
        code = 23
    elif status == C.SEC_E_CERT_WRONG_USAGE:
        code = 26
    return code, _VERIFY_MESSAGES[code]


def _status_error(status: int, chain: list[bytes], target: str | None) -> ssl.SSLError:
    """The one exception a failure status maps to (STATUS_ERRORS)."""
    cls, reason = STATUS_ERRORS.get(status, (ssl.SSLError, "SSLV3_ALERT_HANDSHAKE_FAILURE"))
    name = repr(SecStatus(status))
    if cls is ssl.SSLCertVerificationError:
        code, message = _verify_details(status, chain, target)
        exc = _make_error(cls, 1, reason, f"certificate verify failed: {message}")
        exc.verify_code = code  # type: ignore[attr-defined]
        exc.verify_message = message  # type: ignore[attr-defined]
        return exc
    return _make_error(cls, 1, reason, f"SChannel returned {name}")


# --- getpeercert's dict ----------------------------------------------------------------

#: OpenSSL's long names (OBJ_nid2ln) for the attribute types of a Name.
_LONG_NAMES = {
    "2.5.4.3": "commonName",
    "2.5.4.4": "surname",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "countryName",
    "2.5.4.7": "localityName",
    "2.5.4.8": "stateOrProvinceName",
    "2.5.4.9": "streetAddress",
    "2.5.4.10": "organizationName",
    "2.5.4.11": "organizationalUnitName",
    "2.5.4.12": "title",
    "2.5.4.13": "description",
    "2.5.4.15": "businessCategory",
    "2.5.4.17": "postalCode",
    "2.5.4.42": "givenName",
    "2.5.4.43": "initials",
    "2.5.4.44": "generationQualifier",
    "2.5.4.46": "dnQualifier",
    "2.5.4.65": "pseudonym",
    "2.5.4.97": "organizationIdentifier",
    "0.9.2342.19200300.100.1.1": "userId",
    "0.9.2342.19200300.100.1.25": "domainComponent",
    "1.2.840.113549.1.9.1": "emailAddress",
    "1.3.6.1.4.1.311.60.2.1.1": "jurisdictionLocalityName",
    "1.3.6.1.4.1.311.60.2.1.2": "jurisdictionStateOrProvinceName",
    "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionCountryName",
}

_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def _name_tuple(name: x509.Name) -> tuple[tuple[tuple[str, str], ...], ...]:
    return tuple(
        tuple(
            (_LONG_NAMES.get(a.oid.dotted_string, a.oid.dotted_string), str(a.value)) for a in rdn
        )
        for rdn in name.rdns
    )


def _asn1_time(when: datetime.datetime) -> str:
    return (
        f"{_MONTHS[when.month - 1]} {when.day:2d} "
        f"{when.hour:02d}:{when.minute:02d}:{when.second:02d} {when.year} GMT"
    )


def _serial_hex(serial: int) -> str:
    """Whole bytes of hex, a negative serial's magnitude after "-" (OpenSSL's
    i2a_ASN1_INTEGER, as CPython prints it)."""
    text = f"{abs(serial):X}"
    text = "0" + text if len(text) % 2 else text
    return "-" + text if serial < 0 else text


def _general_name(gn: x509.GeneralName) -> tuple[Any, ...] | None:
    if isinstance(gn, x509.DNSName):
        return ("DNS", gn.value)
    if isinstance(gn, x509.IPAddress):
        ip = gn.value
        if isinstance(ip, ipaddress.IPv6Address):
            groups = struct.unpack(">8H", ip.packed)
            return ("IP Address", ":".join(f"{g:X}" for g in groups))
        if isinstance(ip, ipaddress.IPv4Address):
            return ("IP Address", str(ip))
        return None
    if isinstance(gn, x509.RFC822Name):
        return ("email", gn.value)
    if isinstance(gn, x509.UniformResourceIdentifier):
        return ("URI", gn.value)
    if isinstance(gn, x509.DirectoryName):
        return ("DirName", _name_tuple(gn.value))
    if isinstance(gn, x509.RegisteredID):
        return ("Registered ID", _LONG_NAMES.get(gn.value.dotted_string, gn.value.dotted_string))
    return ("othername", "<unsupported>")


def decode_certificate(der: bytes) -> dict[str, Any]:
    """The dict CPython's ``getpeercert()`` builds (``_ssl._decode_certificate``)."""
    cert = load_certificate(der)
    out: dict[str, Any] = {
        "subject": _name_tuple(cert.subject),
        "issuer": _name_tuple(cert.issuer),
        "version": cert.version.value + 1,
        "serialNumber": _serial_hex(serial_number(cert)),
        "notBefore": _asn1_time(cert.not_valid_before_utc),
        "notAfter": _asn1_time(cert.not_valid_after_utc),
    }
    exts = extensions_of(cert)
    try:
        san = exts.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [n for n in (_general_name(g) for g in san) if n is not None]
        out["subjectAltName"] = tuple(names)
    except x509.ExtensionNotFound:
        pass
    try:
        aia = exts.get_extension_for_class(x509.AuthorityInformationAccess).value
        for key, oid in (
            ("OCSP", AuthorityInformationAccessOID.OCSP),
            ("caIssuers", AuthorityInformationAccessOID.CA_ISSUERS),
        ):
            uris = tuple(
                d.access_location.value
                for d in aia
                if d.access_method == oid
                and isinstance(d.access_location, x509.UniformResourceIdentifier)
            )
            if uris:
                out[key] = uris
    except x509.ExtensionNotFound:
        pass
    try:
        cdp = exts.get_extension_for_class(x509.CRLDistributionPoints).value
        uris = tuple(
            n.value
            for dp in cdp
            for n in dp.full_name or ()
            if isinstance(n, x509.UniformResourceIdentifier)
        )
        if uris:
            out["crlDistributionPoints"] = uris
    except x509.ExtensionNotFound:
        pass
    return out


# --- cipher names -----------------------------------------------------------------------

#: IANA TLS 1.2 suite names -> OpenSSL's (what CPython's cipher() reports).
_OPENSSL_NAMES = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256": "ECDHE-ECDSA-AES128-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384": "ECDHE-ECDSA-AES256-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256": "ECDHE-RSA-AES128-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384": "ECDHE-RSA-AES256-SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256": "DHE-RSA-AES128-GCM-SHA256",
    "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384": "DHE-RSA-AES256-GCM-SHA384",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
    "TLS_RSA_WITH_AES_128_CBC_SHA256": "AES128-SHA256",
    "TLS_RSA_WITH_AES_256_CBC_SHA256": "AES256-SHA256",
    "TLS_RSA_WITH_AES_128_CBC_SHA": "AES128-SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA": "AES256-SHA",
}


#: The TLS 1.2 suites of this package by OpenSSL name: (cipher, signature algorithm),
#: the two things CRYPTO_SETTINGS can disable.
_SUITE_SHAPES: dict[str, tuple[str, str]] = {
    "ECDHE-ECDSA-AES128-GCM-SHA256": ("AES128", "ECDSA"),
    "ECDHE-ECDSA-AES256-GCM-SHA384": ("AES256", "ECDSA"),
    "ECDHE-ECDSA-CHACHA20-POLY1305": ("CHACHA20", "ECDSA"),
    "ECDHE-RSA-AES128-GCM-SHA256": ("AES128", "RSA"),
    "ECDHE-RSA-AES256-GCM-SHA384": ("AES256", "RSA"),
    "ECDHE-RSA-CHACHA20-POLY1305": ("CHACHA20", "RSA"),
}
_OPENSSL_NAME_OF = {shape: name for name, shape in _SUITE_SHAPES.items()}


def _suite_names() -> dict[int, str]:
    from .tls import suites

    return {
        code: _OPENSSL_NAMES.get(suite.name, suite.name) for code, suite in suites.SUITES.items()
    }


#: IANA code -> the name CPython reports (IANA for TLS 1.3, OpenSSL's for TLS 1.2).
_SUITE_NAMES = _suite_names()
_DESCRIBED: dict[str, dict[str, Any]] = {}


def _described_suites() -> dict[str, dict[str, Any]]:
    """OpenSSL's get_ciphers() entry of every suite it knows, by name (computed once)."""
    if not _DESCRIBED:
        scratch = _C_TYPE(_PROTOCOL_TLS_CLIENT)
        scratch.set_ciphers("ALL:@SECLEVEL=0")
        _DESCRIBED.update({c["name"]: c for c in scratch.get_ciphers()})
    return _DESCRIBED


# --- trust material -----------------------------------------------------------------------


def _split_der(data: bytes) -> list[bytes]:
    """Concatenated DER certificates (cadata as bytes) -> a list; ValueError if malformed."""
    out = []
    i = 0
    while i < len(data):
        if data[i] != 0x30 or i + 2 > len(data):
            raise ValueError("not a DER certificate")
        first = data[i + 1]
        if first < 0x80:
            length, hdr = first, 2
        else:
            n = first & 0x7F
            if n == 0 or n > 4 or i + 2 + n > len(data):
                raise ValueError("bad DER length")
            length, hdr = int.from_bytes(data[i + 2 : i + 2 + n], "big"), 2 + n
        end = i + hdr + length
        if end > len(data):
            raise ValueError("truncated DER certificate")
        out.append(data[i:end])
        i = end
    return out


_PEM_CERT = re.compile(
    rb"-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----([A-Za-z0-9+/=\s]*?)"
    rb"-----END (?:X509 |TRUSTED )?CERTIFICATE-----"
)


def _pem_ders(data: bytes) -> list[bytes]:
    """The DER of each PEM certificate block, not parsed here (a CA bundle such as
    certifi's holds certificates cryptography warns about; the chain engine reads
    what it uses)."""
    out = []
    for m in _PEM_CERT.finditer(data):
        try:
            der = binascii.a2b_base64(m.group(1))
            # A TRUSTED CERTIFICATE block carries OpenSSL's trust settings after it.
            out.append(_split_der(der)[0] if b"TRUSTED" in m.group(0)[:30] else der)
        except (binascii.Error, ValueError, IndexError):
            continue
    return out


#: ssl.SSLContext as the stdlib defines it (before any injection).
_ORIGINAL_SSLCONTEXT: type[ssl.SSLContext] = ssl.SSLContext
_INJECTED = False
#: (module, attribute, value before inject_into_ssl) for extract_from_ssl.
_SAVED: list[tuple[Any, str, Any]] = []

#: The C type's descriptors.  The overrides below call them directly: the stdlib's
#: Python properties call ``super(SSLContext, SSLContext)`` through the *module
#: global* ``ssl.SSLContext``, which recurses forever once that name is this class.
_C_TYPE: Any = _ssl._SSLContext
_C_MIN: Any = vars(_C_TYPE)["minimum_version"]
_C_MAX: Any = vars(_C_TYPE)["maximum_version"]
_C_OPTIONS: Any = vars(_C_TYPE)["options"]
_C_VERIFY_MODE: Any = vars(_C_TYPE)["verify_mode"]
_C_VERIFY_FLAGS: Any = vars(_C_TYPE)["verify_flags"]
_C_MSG_CALLBACK: Any = vars(_C_TYPE)["_msg_callback"]


def _direct(descriptor: Any, convert: Callable[[Any], Any], refuse: str = "") -> Any:
    """A property over one of the C type's descriptors, read through ``convert``;
    ``refuse`` names a version setting whose TLS 1.1-and-older values are refused."""

    def get(self: Any) -> Any:
        return convert(descriptor.__get__(self))

    def put(self: Any, value: Any) -> None:
        if refuse:
            _refuse_old(value, refuse)
        descriptor.__set__(self, value)

    return property(get, put)


# --- the context ----------------------------------------------------------------------------


class SSLContext(ssl.SSLContext):
    """An ``ssl.SSLContext`` whose connections run on schannel_py's SSPI client.

    Build it as ``SSLContext(ssl.PROTOCOL_TLS_CLIENT)``; ``wrap_bio`` returns a
    real ``ssl.SSLObject``.  Client side only, TLS 1.2 and 1.3 only.
    """

    _sch_alpn: list[bytes]
    _sch_roots: Any
    _sch_creds: dict[tuple[Any, ...], CredHandle]
    _sch_lock: threading.Lock
    _sch_client_cert: Any
    _sch_crypto: tuple[tuple[int, str, int, int], ...]
    _sch_tls12: frozenset[str] | None

    def __new__(cls, protocol: int | None = None, *args: Any, **kwargs: Any) -> SSLContext:
        if protocol is None:
            protocol = _PROTOCOL_TLS_CLIENT
        if protocol == ssl.PROTOCOL_TLS_SERVER and _INJECTED and cls is SSLContext:
            # Injected as ssl.SSLContext: servers in this process keep OpenSSL's.
            return _ServerContext(protocol)
        if protocol not in _ACCEPTED_PROTOCOLS:
            raise ValueError(
                "schannel_py.ssl.SSLContext is a TLS client: use ssl.PROTOCOL_TLS_CLIENT"
                f" (got {protocol!r})"
            )
        self = super().__new__(cls, protocol, *args, **kwargs)
        self._sch_alpn = []
        self._sch_roots = None
        self._sch_creds = {}
        self._sch_lock = threading.Lock()
        self._sch_client_cert = None
        self._sch_crypto = ()  # CRYPTO_SETTINGS from set_ciphers: (usage, alg, min, max)
        self._sch_tls12 = None  # the TLS 1.2 suites set_ciphers left (OpenSSL names)
        return self

    def __init__(self, protocol: int | None = None, *args: Any, **kwargs: Any) -> None:
        pass

    # --- recorded settings ---

    def set_alpn_protocols(self, alpn_protocols: Iterable[str]) -> None:
        protocols = list(alpn_protocols)
        super().set_alpn_protocols(protocols)
        self._sch_alpn = [p.encode("ascii") for p in protocols]

    def load_verify_locations(
        self,
        cafile: str | bytes | os.PathLike[str] | os.PathLike[bytes] | None = None,
        capath: str | bytes | os.PathLike[str] | os.PathLike[bytes] | None = None,
        cadata: str | ReadableBuffer | None = None,
    ) -> None:
        super().load_verify_locations(cafile, capath, cadata)  # CPython's own argument errors
        ders: list[bytes] = []
        if cafile is not None:
            with open(cafile, "rb") as f:
                ders += _pem_ders(f.read())
        if capath is not None:
            for entry in sorted(os.scandir(os.fsdecode(capath)), key=lambda e: e.name):
                try:
                    if entry.is_file():
                        with open(entry.path, "rb") as f:
                            ders += _pem_ders(f.read())
                except OSError:
                    continue
        if isinstance(cadata, str):
            ders += _pem_ders(cadata.encode("ascii", "replace"))
        elif cadata is not None:
            ders += _split_der(bytes(cadata))
        self._add_roots(ders)

    def _add_roots(self, ders: list[bytes]) -> None:
        with self._sch_lock:
            if self._sch_roots is None:
                self._sch_roots = crypt32.CertOpenStore(
                    crypt32.CERT_STORE_PROV_MEMORY, 0, None, 0, None
                )
            for der in ders:
                crypt32.CertAddEncodedCertificateToStore(
                    self._sch_roots,
                    crypt32.X509_ASN_ENCODING,
                    der,
                    len(der),
                    crypt32.CERT_STORE_ADD_USE_EXISTING,
                    None,
                )

    minimum_version = _direct(_C_MIN, ssl.TLSVersion, "minimum_version")
    maximum_version = _direct(_C_MAX, ssl.TLSVersion, "maximum_version")

    @property
    def _msg_callback(self) -> Any:
        """Stored, never called (no OpenSSL underneath); the stdlib's would recurse once
        injected."""
        return getattr(self, "_sch_msg_callback", None)

    @_msg_callback.setter
    def _msg_callback(self, callback: Any) -> None:
        self._sch_msg_callback = callback

    options = _direct(_C_OPTIONS, ssl.Options)
    verify_flags = _direct(_C_VERIFY_FLAGS, ssl.VerifyFlags)
    verify_mode = _direct(_C_VERIFY_MODE, ssl.VerifyMode)

    def set_ciphers(self, cipherlist: str, /) -> None:
        """OpenSSL's cipher string, evaluated by OpenSSL itself, then expressed as the
        CRYPTO_SETTINGS that disable the rest of this package's TLS 1.2 suites (AES-128,
        AES-256, ChaCha20-Poly1305; ECDSA or RSA signatures).  As SChannel's settings,
        they apply to TLS 1.3 too.  ``ssl.SSLError`` when no suite of this package is
        left (CPython's "No cipher can be selected.") or when the choice cannot be
        expressed that way."""
        scratch = _C_TYPE(_PROTOCOL_TLS_CLIENT)
        scratch.set_ciphers(cipherlist)  # CPython's own error for a string OpenSSL refuses
        chosen = {c["name"] for c in scratch.get_ciphers() if c["protocol"] == "TLSv1.2"}
        kept = {_SUITE_SHAPES[name] for name in chosen if name in _SUITE_SHAPES}
        if not kept:
            raise ssl.SSLError("No cipher can be selected.")
        ciphers = {c for c, _ in kept}
        auths = {a for _, a in kept}
        if kept != {(c, a) for c in ciphers for a in auths}:
            raise ssl.SSLError(
                "No cipher can be selected. (schannel_py: SChannel's CRYPTO_SETTINGS disable"
                " a cipher or a signature algorithm for every suite, not one suite: "
                f"{sorted(_OPENSSL_NAME_OF[k] for k in kept)} cannot be chosen alone)"
            )
        crypto: list[tuple[int, str, int, int]] = []
        usage = C.TlsParametersCngAlgUsageCipher
        if "AES128" not in ciphers and "AES256" not in ciphers:
            crypto.append((usage, "AES", 0, 0))
        elif "AES128" not in ciphers:
            crypto.append((usage, "AES", 256, 0))
        elif "AES256" not in ciphers:
            crypto.append((usage, "AES", 0, 128))
        if "CHACHA20" not in ciphers:
            crypto.append((usage, "CHACHA20_POLY1305", 0, 0))
        for auth in ("ECDSA", "RSA"):
            if auth not in auths:
                crypto.append((C.TlsParametersCngAlgUsageSignature, auth, 0, 0))
        super().set_ciphers(cipherlist)
        with self._sch_lock:
            self._sch_crypto = tuple(crypto)
            self._sch_tls12 = frozenset(_OPENSSL_NAME_OF[k] for k in kept)

    def get_ciphers(self) -> list[dict[str, Any]]:  # type: ignore[override]
        """The suites this context's connections offer, in their order, each described
        as CPython describes it (OpenSSL's own entry for the suite)."""
        cred = sspi_credentials.CREDENTIALS.get(self._credential())
        codes = cred.cipher_suites if cred is not None else ()
        described = _described_suites()
        out = []
        for code in codes:
            name = _SUITE_NAMES.get(code)
            if name is None or name not in described:
                continue
            entry = described[name]
            if entry["protocol"] == "TLSv1.2" and self._sch_tls12 is not None:
                if name not in self._sch_tls12:
                    continue  # its signature algorithm is disabled
            out.append(dict(entry))
        return out

    def load_cert_chain(
        self,
        certfile: str | bytes | os.PathLike[str] | os.PathLike[bytes],
        keyfile: str | bytes | os.PathLike[str] | os.PathLike[bytes] | None = None,
        password: Any = None,
    ) -> None:
        """The client certificate (PEM: leaf, then its chain) and its key, for every
        connection made after this call."""
        if callable(password):
            password = password()  # once, for both the stdlib's check and ours
        super().load_cert_chain(certfile, keyfile, password)  # CPython's own errors
        if isinstance(password, str):
            password = password.encode("utf-8")
        elif password is not None:
            password = bytes(password)
        cert = crypt32.CertContextFromKeyPair(
            os.fsdecode(certfile), os.fsdecode(keyfile if keyfile is not None else certfile),
            password,
        )  # fmt: skip
        if cert is None:
            raise _make_error(
                ssl.SSLError,
                1,
                "UNSUPPORTED_KEY_TYPE",
                "client key not usable by schannel_py (RSA 2048+, ECDSA P-256/P-384, Ed25519)",
            )
        with self._sch_lock:
            self._sch_client_cert = cert
            self._sch_creds.clear()  # new connections get a credential carrying it

    # --- what SChannel is asked for ---

    def _disabled_protocols(self) -> int:
        lo, hi = self.minimum_version, self.maximum_version
        allow12 = not self.options & ssl.OP_NO_TLSv1_2
        allow13 = not self.options & ssl.OP_NO_TLSv1_3
        if hi not in (ssl.TLSVersion.MAXIMUM_SUPPORTED,) and hi < ssl.TLSVersion.TLSv1_3:
            allow13 = False
        if hi not in (ssl.TLSVersion.MAXIMUM_SUPPORTED,) and hi < ssl.TLSVersion.TLSv1_2:
            allow12 = False
        if lo == ssl.TLSVersion.MAXIMUM_SUPPORTED or (
            lo != ssl.TLSVersion.MINIMUM_SUPPORTED and lo > ssl.TLSVersion.TLSv1_2
        ):
            allow12 = False
        if not (allow12 or allow13):
            raise _make_error(
                ssl.SSLError,
                1,
                "NO_PROTOCOLS_AVAILABLE",
                "no protocols available (schannel_py speaks TLS 1.2 and 1.3 only)",
            )
        disabled = 0
        if not allow12:
            disabled |= C.SP_PROT_TLS1_2_CLIENT
        if not allow13:
            disabled |= C.SP_PROT_TLS1_3_CLIENT
        return disabled

    def _credential(self) -> CredHandle:
        """The shared outbound credential for the current settings (acquired once each)."""
        disabled = self._disabled_protocols()
        with self._sch_lock:
            crypto = self._sch_crypto
            key = (disabled, crypto)
            cred = self._sch_creds.get(key)
            if cred is not None:
                return cred
            settings = [
                CRYPTO_SETTINGS(
                    eAlgorithmUsage=usage, strCngAlgId=alg, dwMinBitLength=lo, dwMaxBitLength=hi
                )
                for usage, alg, lo, hi in crypto
            ]
            params = None
            if disabled or settings:
                params = [
                    TLS_PARAMETERS(
                        grbitDisabledProtocols=disabled,
                        cDisabledCrypto=len(settings),
                        pDisabledCrypto=settings or None,
                    )
                ]
            certs = [self._sch_client_cert] if self._sch_client_cert is not None else None
            auth = SCH_CREDENTIALS(
                dwVersion=C.SCH_CREDENTIALS_VERSION,
                cCreds=len(certs or []),
                paCred=certs,
                # Validation is this module's verify callback (the context's own CAs).
                dwFlags=C.SCH_USE_STRONG_CRYPTO | C.SCH_CRED_MANUAL_CRED_VALIDATION,
                cTlsParameters=len(params or []),
                pTlsParameters=params,
            )
            cred = CredHandle()
            status = F.AcquireCredentialsHandle(
                None, C.UNISP_NAME, C.SECPKG_CRED_OUTBOUND, None, auth, None, None, cred,
                TimeStamp(),
            )  # fmt: skip
            if status != C.SEC_E_OK:
                raise _status_error(status, [], None)
            self._sch_creds[key] = cred
            return cred

    # --- the hook ssl.SSLContext.wrap_bio calls ---

    def _wrap_bio(
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: str | None = None,
        *,
        owner: Any = None,
        session: Any = None,
    ) -> SChannelObject:
        if server_side:
            raise ValueError("schannel_py.ssl.SSLContext is client-side only (server_side=True)")
        if self.check_hostname and not server_hostname:
            raise ValueError("check_hostname requires server_hostname")
        return SChannelObject(self, incoming, outgoing, server_hostname, owner, session)

    # --- the hook ssl.SSLContext.wrap_socket (SSLSocket._create) calls ---

    def _wrap_socket(
        self,
        sock: ssl.SSLSocket,
        server_side: bool = False,
        server_hostname: str | None = None,
        *,
        owner: Any = None,
        session: Any = None,
    ) -> SChannelSocketObject:
        if server_side:
            raise ValueError("schannel_py.ssl.SSLContext is client-side only (server_side=True)")
        if self.check_hostname and not server_hostname:
            raise ValueError("check_hostname requires server_hostname")
        return SChannelSocketObject(self, sock, server_hostname, owner, session)


# --- injection -------------------------------------------------------------------------------


class _ServerContext(_ORIGINAL_SSLCONTEXT):  # type: ignore[misc,valid-type]
    """The stdlib's (OpenSSL) context, for servers built while injected.  The stdlib's
    property setters call ``super(SSLContext, SSLContext)`` through the module global,
    which then names :class:`SSLContext` and recurses (Python 3.13's
    ``create_default_context`` sets ``verify_flags``): these set the C type's values
    directly.  ``_msg_callback`` is given to OpenSSL as it is (the stdlib's wrapper,
    which turns the numbers into enums, would recurse too)."""

    minimum_version = _direct(_C_MIN, ssl.TLSVersion)
    maximum_version = _direct(_C_MAX, ssl.TLSVersion)
    options = _direct(_C_OPTIONS, ssl.Options)
    verify_flags = _direct(_C_VERIFY_FLAGS, ssl.VerifyFlags)
    verify_mode = _direct(_C_VERIFY_MODE, ssl.VerifyMode)
    _msg_callback = _direct(_C_MSG_CALLBACK, lambda callback: callback)


def _patch(module: Any, name: str, value: Any) -> None:
    _SAVED.append((module, name, getattr(module, name)))
    setattr(module, name, value)


def inject_into_ssl() -> None:
    """Make ``ssl.SSLContext`` this package's, as truststore does.

    ``ssl.create_default_context()`` (and so urllib, http.client, and every
    library that builds its context through it) then returns a
    :class:`SSLContext`.  urllib3's module-level ``SSLContext`` and requests'
    preloaded context are replaced too when those modules are already imported.
    ``ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)`` keeps building the stdlib's
    (OpenSSL) context.  Calling it again does nothing; :func:`extract_from_ssl`
    undoes it.
    """
    global _INJECTED
    with _INJECT_LOCK:
        if _INJECTED:
            return
        if ssl.SSLContext is not _ORIGINAL_SSLCONTEXT:
            raise RuntimeError(
                "schannel_py.ssl.inject_into_ssl: ssl.SSLContext was already replaced"
                f" by {ssl.SSLContext!r} (another injection, e.g. truststore's)"
            )
        _patch(ssl, "SSLContext", SSLContext)
        urllib3_ssl = sys.modules.get("urllib3.util.ssl_")
        if urllib3_ssl is not None and hasattr(urllib3_ssl, "SSLContext"):
            _patch(urllib3_ssl, "SSLContext", SSLContext)
        adapters = sys.modules.get("requests.adapters")
        if adapters is not None and hasattr(adapters, "_preloaded_ssl_context"):
            ctx = SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            certs = sys.modules.get("requests.certs")
            where = getattr(certs, "where", None)
            if callable(where):
                try:
                    ctx.load_verify_locations(cafile=where())
                except (OSError, ValueError):
                    pass
            _patch(adapters, "_preloaded_ssl_context", ctx)
        _INJECTED = True


def extract_from_ssl() -> None:
    """Undo :func:`inject_into_ssl`: every replaced name gets its value back."""
    global _INJECTED
    with _INJECT_LOCK:
        while _SAVED:
            module, name, value = _SAVED.pop()
            setattr(module, name, value)
        _INJECTED = False


_INJECT_LOCK = threading.Lock()


def _refuse_old(value: ssl.TLSVersion, what: str) -> None:
    if value in _OLD_VERSIONS:
        raise ValueError(
            f"schannel_py.ssl: {what} {value!r} refused: only TLS 1.2 and TLS 1.3 are available"
        )


# --- keylog_filename --------------------------------------------------------------------------

#: Context handle -> the keylog_filename of the connection's SSLContext.
_KEYLOG_PATHS: dict[observe.Handle, str] = {}
_KEYLOG_LOCK = threading.Lock()
#: The order OpenSSL (CPython's client, s_server) writes the TLS 1.3 lines in.
_KEYLOG_ORDER = {
    "SERVER_HANDSHAKE_TRAFFIC_SECRET": 0,
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET": 1,
    "EXPORTER_SECRET": 2,
    "SERVER_TRAFFIC_SECRET_0": 3,
    "CLIENT_TRAFFIC_SECRET_0": 4,
}


class _Secrets:
    """One ISC call's new secrets, in the shape keylog.lines_for reads."""

    def __init__(self, call: observe.SspiCall) -> None:
        self.version = call.version
        self.client_random = call.client_random
        self.secrets = {s.label: s.value for s in call.secrets}


def _keylog_observer(call: observe.SspiCall) -> None:
    """Append what this ISC call derived to its context's keylog_filename (NSS format)."""
    if not call.secrets:
        return
    handle = call.params.get("phContext") or call.after.get("phNewContext")
    path = _KEYLOG_PATHS.get(handle) if isinstance(handle, observe.Handle) else None
    if path is None:
        return
    found = sorted(keylog.lines_for(_Secrets(call)), key=lambda item: _KEYLOG_ORDER.get(item[0], 9))
    lines = "".join(line + "\n" for _, line in found)
    if not lines:
        return
    with _KEYLOG_LOCK:
        try:
            with open(path, "a", encoding="ascii") as fh:
                fh.write(lines)
        except OSError:
            pass  # as OpenSSL: a key log that cannot be written is skipped


_KEYLOG_REGISTRATION = observe.add_handshake_observer(_keylog_observer, lambda: bool(_KEYLOG_PATHS))


# --- sessions ---------------------------------------------------------------------------------


class SSLSession:
    """What ``SSLObject.session`` is for :class:`SSLContext`: one resumable session of
    SChannel's session cache (CPython's ``ssl.SSLSession`` cannot be built from Python).

    Read-only, with ``ssl.SSLSession``'s attributes (``id``, ``time``, ``timeout``,
    ``ticket_lifetime_hint``, ``has_ticket``); equal when the ids are, unhashable, as
    CPython's.  Given back to ``wrap_bio(session=)`` / ``wrap_socket(session=)`` /
    ``obj.session =`` of a connection of the same context before its handshake, it
    puts the session back in SChannel's cache under that connection's key (target
    name, process, logon session, credential), newest, so the ClientHello offers it.
    """

    __slots__ = ("_context", "_material", "id", "time", "timeout", "ticket_lifetime_hint",
                 "has_ticket")  # fmt: skip

    _context: SSLContext
    _material: Ticket13 | Session12 | None
    id: bytes
    time: int
    timeout: int
    ticket_lifetime_hint: int
    has_ticket: bool

    def __init__(self) -> None:
        raise TypeError("cannot create 'schannel_py.ssl.SSLSession' instances")

    @classmethod
    def _make(
        cls,
        context: SSLContext,
        material: Ticket13 | Session12 | None,
        session_id: bytes,
        created: float,
        lifespan_s: int,
    ) -> SSLSession:
        self = object.__new__(cls)
        self._context = context
        self._material = material
        ticket = b""
        hint = 0
        if isinstance(material, Ticket13):
            ticket, hint, created = material.ticket, material.lifetime, material.received_at
        elif isinstance(material, Session12):
            ticket, hint, created = material.ticket, material.ticket_lifetime, material.created_at
            session_id = material.session_id
        # As OpenSSL's client: a ticket's session is named by the ticket's SHA-256.
        self.id = hashlib.sha256(ticket).digest() if ticket else session_id
        self.time = int(created)
        self.timeout = min(hint, lifespan_s) if hint else lifespan_s
        self.ticket_lifetime_hint = hint
        self.has_ticket = bool(ticket)
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SSLSession):
            return NotImplemented
        return self.id == other.id

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<schannel_py.ssl.SSLSession id={self.id.hex()} has_ticket={self.has_ticket}>"


# --- the engine ------------------------------------------------------------------------------

_REQ_FLAGS = CURL_REQ_FLAGS
_RECV_SIZE = 16384 + 2048  # one full record and its header
_DECRYPT_GOOD = (C.SEC_E_OK, C.SEC_I_RENEGOTIATE, C.SEC_I_CONTEXT_EXPIRED)

_NEW, _HANDSHAKING, _DONE, _FAILED = range(4)
_BINDINGS = {
    "tls-unique": C.SECPKG_ATTR_UNIQUE_BINDINGS,
    "tls-server-end-point": C.SECPKG_ATTR_ENDPOINT_BINDINGS,
}


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _guarded(
    method: Callable[Concatenate[SChannelObject, _P], _R],
) -> Callable[Concatenate[SChannelObject, _P], _R]:
    """Let ssl errors through; any other exception becomes SSLError(INTERNAL_ERROR)."""

    def wrapper(self: SChannelObject, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(self, *args, **kwargs)
        except ssl.SSLError:
            raise
        except OSError:
            if self._socket_errors:  # the socket's own errors (timeouts, resets), as CPython
                raise
            raise _make_error(ssl.SSLError, 1, "INTERNAL_ERROR", "internal error") from None
        except SspiEOFError:
            raise _eof_error() from None
        except SspiError as e:
            raise _status_error(e.status, self._chain, self.server_hostname) from None
        except Exception as e:
            raise _make_error(ssl.SSLError, 1, "INTERNAL_ERROR", f"internal error: {e!r}") from e

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


class SChannelObject:
    """What ``ssl.SSLObject._sslobj`` is for :class:`SSLContext`: one SSPI client context
    over two memory BIOs (the engine behind every ``ssl.SSLObject`` method)."""

    #: Let the transport's OSErrors out unchanged (the socket engine).
    _socket_errors = False

    def __init__(
        self,
        context: SSLContext,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_hostname: str | None,
        owner: Any,
        session: Any,
    ) -> None:
        self._context = context
        self._incoming = incoming
        self._outgoing = outgoing
        self.server_hostname = server_hostname
        self.owner = owner
        self.server_side = False
        self._verify = context.verify_mode != ssl.CERT_NONE
        self._check_name = context.check_hostname
        self._roots = context._sch_roots
        self._chain: list[bytes] = []
        self._state = _NEW
        self._failure: ssl.SSLError | None = None
        self._plain = b""
        self._closed = False  # the peer's close_notify arrived
        self._shut = False  # ours was sent
        self._reneg = False
        self._after_reneg = False
        self._keylog_handle: observe.Handle | None = None
        self._keylog_finalizer: Any = None
        self._session: SSLSession | None = None
        self._done_at = 0.0
        if session is not None:
            self.session = session
        self._driver = SspiDriver(
            self._send,
            self._recv,
            context._credential(),
            server_hostname,
            _REQ_FLAGS,
            alpn=list(context._sch_alpn),
            # post_handshake_auth False (OpenSSL's default): the extension is not offered.
            flags64=0 if context.post_handshake_auth else C.ISC_REQ_NO_POST_HANDSHAKE_AUTH,
            check_flags=False,
            on_context=self._on_context,
        )

    # --- transport over the BIOs ---

    def _send(self, data: bytes) -> None:
        if data:
            self._outgoing.write(data)

    def _recv(self, n: int) -> bytes:
        data = self._incoming.read(n)
        if data:
            return data
        if self._incoming.eof:
            return b""
        raise _want_read()

    def _fill(self) -> None:
        data = self._incoming.read()
        if data:
            self._driver.feed(data)
        elif self._incoming.eof:
            raise _eof_error()
        else:
            raise _want_read()

    # --- validation ---

    def _on_context(self, driver: SspiDriver) -> None:
        path = self._context.keylog_filename
        handle = observe.Handle(driver.ctx.dwLower, driver.ctx.dwUpper)
        if path:
            with _KEYLOG_LOCK:
                _KEYLOG_PATHS[handle] = os.fspath(path)
            self._keylog_handle = handle
            # An abandoned handshake: forget the handle when the engine goes.
            self._keylog_finalizer = weakref.finalize(self, _KEYLOG_PATHS.pop, handle, None)
        if not self._verify:
            return
        cb = SecPkgContext_PyVerifyCallback(pfnCallback=self._check_chain, fOnResumption=False)
        F.SetContextAttributes(driver.ctx, C.SECPKG_ATTR_PY_VERIFY_CALLBACK, cb, 0)

    def _check_chain(self, leaf: Any) -> int:
        chain: list[bytes] = [bytes(leaf.pbCertEncoded)]
        prev = None
        while True:
            prev = crypt32.CertEnumCertificatesInStore(leaf.hCertStore, prev)
            if prev is None:
                break
            der = bytes(prev.pbCertEncoded)
            if der != chain[0]:
                chain.append(der)
        self._chain = chain
        status: int = crypt32.verify_server_chain(
            chain,
            self.server_hostname,
            datetime.datetime.now(datetime.timezone.utc),
            check_name=self._check_name,
            extra_roots=self._roots,
        )
        return status

    # --- handshake ---

    def _fail(self, exc: ssl.SSLError) -> ssl.SSLError:
        self._state = _FAILED
        self._failure = exc
        return exc

    @_guarded
    def do_handshake(self) -> None:
        """Run the ISC loop as far as the bytes in ``incoming`` allow."""
        if self._state == _DONE:
            return
        if self._state == _FAILED:
            assert self._failure is not None
            raise self._failure
        d = self._driver
        try:
            if self._state == _NEW:
                self._offer_session()
                token = d.first_call()
                self._state = _HANDSHAKING
                self._send(token)
            d.handshake_loop(read_first=not d.encdata)
        except ssl.SSLWantReadError:
            raise
        except SspiEOFError:
            raise self._fail(_eof_error()) from None
        except SspiError as e:
            raise self._fail(_status_error(e.status, self._chain, self.server_hostname)) from None
        finally:
            if self._state == _FAILED:
                self._handshake_over()
        self._state = _DONE
        self._done_at = time.time()
        self._after_reneg = bool(d.encdata)
        self._handshake_over()

    def _handshake_over(self) -> None:
        """The handshake is over: its secrets are logged; stop watching its calls."""
        if self._keylog_handle is not None:
            with _KEYLOG_LOCK:
                _KEYLOG_PATHS.pop(self._keylog_handle, None)
            self._keylog_handle = None
            self._keylog_finalizer.detach()

    # --- data ---

    def read(self, len: int = 1024, buffer: Any = None) -> bytes | int:  # noqa: A002
        """Up to ``len`` bytes of plaintext (into ``buffer`` if given); b""/0 after close_notify."""
        target = memoryview(buffer).cast("B") if buffer is not None else None
        if target is not None and (len <= 0 or len > target.nbytes):
            len = target.nbytes  # noqa: A001 (CPython's rule for read(n, buffer))
        if len < 0:
            raise ValueError("size should not be negative")
        data = self._read(len)
        if target is None:
            return data
        target[: data.__len__()] = data
        return data.__len__()

    @_guarded
    def _read(self, n: int) -> bytes:
        if self._state != _DONE:
            self.do_handshake()
        if n == 0:
            return b""
        while not self._plain:
            if self._closed:
                return b""
            self._step()
        data = self._plain[:n]
        self._plain = self._plain[n:]
        return data

    def _step(self) -> None:
        """One DecryptMessage (or the rest of a post-handshake ISC exchange)."""
        d = self._driver
        if self._reneg:
            d.handshake_loop(read_first=not d.encdata)
            self._reneg = False
            self._after_reneg = True
        if not d.encdata and not self._after_reneg:
            self._fill()
        self._after_reneg = False
        status, data = d.decrypt_record()
        if status == C.SEC_E_INCOMPLETE_MESSAGE:
            self._fill()
            return
        if status not in _DECRYPT_GOOD:  # fatal, as in OpenSSL: later calls raise it again
            raise self._fail(_status_error(status, self._chain, self.server_hostname))
        self._plain += data
        if status == C.SEC_I_RENEGOTIATE:
            self._reneg = True
            try:
                # As curl: ISC over what DecryptMessage left (EXTRA), even if nothing.
                d.handshake_loop(read_first=False)
            except ssl.SSLWantReadError:
                if not self._plain:
                    raise
                return
            self._reneg = False
            self._after_reneg = True
        elif status == C.SEC_I_CONTEXT_EXPIRED:
            self._closed = True

    def write(self, data: Any) -> int:
        """Encrypt all of ``data`` into ``outgoing``; continues the handshake first."""
        return self._write(bytes(memoryview(data).cast("B")))

    @_guarded
    def _write(self, data: bytes) -> int:
        if self._state != _DONE:
            self.do_handshake()
        if self._shut or self._closed:
            raise _make_error(ssl.SSLError, 1, "PROTOCOL_IS_SHUTDOWN", "protocol is shutdown")
        if not data:
            return 0
        return self._driver.send(data)

    def pending(self) -> int:
        """Plaintext bytes decrypted and not yet read."""
        return self._plain.__len__()

    @_guarded
    def shutdown(self) -> None:
        """Send close_notify once; return once the peer's has been read (else WantRead)."""
        if self._state != _DONE:
            raise _make_error(ssl.SSLError, 1, "SHUTDOWN_WHILE_IN_INIT", "shutdown while in init")
        if not self._shut:
            self._shut = True
            self._driver.shutdown()
        while not self._closed:
            self._plain = b""  # application data after our close_notify is dropped
            self._step()
        return None

    # --- what the handshake negotiated ---

    def _query(self, attribute: int, buffer: Any) -> bool:
        return bool(F.QueryContextAttributes(self._driver.ctx, attribute, buffer) == C.SEC_E_OK)

    def _leaf_der(self) -> bytes | None:
        holder = PVOID()
        if not self._query(C.SECPKG_ATTR_REMOTE_CERT_CONTEXT, holder):
            return None
        cert = holder.value
        if not isinstance(cert, crypt32.CERT_CONTEXT):
            return None
        der = bytes(cert.pbCertEncoded)
        crypt32.CertFreeCertificateContext(cert)
        return der

    def getpeercert(self, binary_form: bool = False) -> dict[str, Any] | bytes | None:
        """The server's certificate: DER, or CPython's dict ({} under CERT_NONE)."""
        if self._state != _DONE:
            raise ValueError("handshake not done yet")
        try:
            der = self._leaf_der()
        except Exception:
            der = None
        if binary_form:
            return der
        if der is None:
            return None
        if not self._verify:
            return {}
        try:
            return decode_certificate(der)
        except Exception:
            return {}

    def version(self) -> str | None:
        """ "TLSv1.3" / "TLSv1.2" once the handshake is done."""
        if self._state != _DONE:
            return None
        info = SecPkgContext_ConnectionInfo()
        if not self._query(C.SECPKG_ATTR_CONNECTION_INFO, info):
            return None
        if info.dwProtocol & C.SP_PROT_TLS1_3:
            return "TLSv1.3"
        if info.dwProtocol & C.SP_PROT_TLS1_2:
            return "TLSv1.2"
        return None

    def cipher(self) -> tuple[str, str, int] | None:
        """(suite name as OpenSSL spells it, version, secret bits)."""
        version = self.version()
        if version is None:
            return None
        info = SecPkgContext_CipherInfo()
        if not self._query(C.SECPKG_ATTR_CIPHER_INFO, info):
            return None
        name = info.szCipherSuite
        if version == "TLSv1.2":
            name = _OPENSSL_NAMES.get(name, name)
        return (name, version, int(info.dwCipherLen))

    def shared_ciphers(self) -> list[tuple[str, str, int]] | None:
        return None

    def compression(self) -> str | None:
        return None

    def selected_alpn_protocol(self) -> str | None:
        if self._state != _DONE:
            return None
        try:
            proto = self._driver.negotiated_alpn()
        except Exception:
            return None
        return proto.decode("ascii", "replace") if proto is not None else None

    def get_channel_binding(self, cb_type: str = "tls-unique") -> bytes | None:
        """RFC 5929 channel bindings: "tls-unique" as CPython gives it, and (beyond
        CPython) "tls-server-end-point"; None before the handshake."""
        if cb_type not in _BINDINGS:
            raise ValueError(f"{cb_type!r} channel binding type not implemented")
        if self._state != _DONE:
            return None
        if cb_type == "tls-unique" and self.version() == "TLSv1.3":
            # CPython (OpenSSL 3): our Finished for a new session, the server's when
            # the session was resumed (SSL_get_finished / SSL_get_peer_finished).
            info = SecPkgContext_PyHandshakeInfo()
            if not self._query(C.SECPKG_ATTR_PY_HANDSHAKE_INFO, info):
                return None
            found = info.rgbServerFinished if self.session_reused else info.rgbClientFinished
            return bytes(found) or None
        bindings = SecPkgContext_Bindings()
        if not self._query(_BINDINGS[cb_type], bindings):
            return None
        data = parse_channel_bindings(bytes(bindings.Bindings or b""))
        prefix = cb_type.encode("ascii") + b":"
        if data is None or not data.startswith(prefix):
            return None
        return data[len(prefix) :]

    def verify_client_post_handshake(self) -> None:
        raise _make_error(ssl.SSLError, 1, "NOT_SERVER", "not a server")

    @property
    def context(self) -> SSLContext:
        return self._context

    @context.setter
    def context(self, ctx: SSLContext) -> None:
        if not isinstance(ctx, SSLContext):
            raise TypeError("The value must be a schannel_py.ssl.SSLContext")
        self._context = ctx

    @property
    def session(self) -> SSLSession | None:
        """The connection's newest resumable session (its last TLS 1.3 ticket, or its
        TLS 1.2 session), None before the handshake."""
        if self._state != _DONE:
            return None
        ctx = sspi_context.CONTEXTS.get(self._driver.ctx)
        if ctx is None:
            return None
        client = ctx.client
        material: Ticket13 | Session12 | None = None
        if client.tickets:
            material = client.tickets[-1]
        elif client.session12 is not None:
            material = client.session12
        info = SecPkgContext_SessionInfo()
        session_id = b""
        # OpenSSL's TLS 1.3 session has no id until a ticket names it.
        if (
            material is None
            and self.version() == "TLSv1.2"
            and self._query(C.SECPKG_ATTR_SESSION_INFO, info)
        ):
            session_id = bytes(info.rgbSessionId or b"")[: int(info.cbSessionId or 0)]
        lifespan = ctx.cred.session_lifespan_ms // 1000
        return SSLSession._make(self._context, material, session_id, self._done_at, lifespan)

    @session.setter
    def session(self, value: Any) -> None:
        # CPython's checks, in its order and words (PySSL_set_session).
        if not isinstance(value, SSLSession):
            raise TypeError("Value is not a SSLSession.")
        if value._context is not self._context:
            raise ValueError("Session refers to a different SSLContext.")
        if self._state != _NEW:
            raise ValueError("Cannot set session after handshake.")
        self._session = value

    def _offer_session(self) -> None:
        """Put the session given for this connection newest in SChannel's cache, under
        the key this connection's context will look it up with."""
        if self._session is None or self._session._material is None:
            return
        cred = sspi_credentials.CREDENTIALS.get(self._driver.cred)
        if cred is None:
            return
        key = sspi_cache.make_key(self.server_hostname, cred.logon, cred.handle_id)
        now = sspi_context.clock()
        sspi_cache.CACHE.add(key, self._session._material, now, cred.session_lifespan_ms)

    @property
    def session_reused(self) -> bool:
        if self._state != _DONE:
            return False
        info = SecPkgContext_SessionInfo()
        return self._query(C.SECPKG_ATTR_SESSION_INFO, info) and bool(
            info.dwFlags & C.SSL_SESSION_RECONNECT
        )


class SChannelSocketObject(SChannelObject):
    """What ``ssl.SSLSocket._sslobj`` is for :class:`SSLContext`: the same engine with
    the socket itself as transport (its blocking mode and timeout apply).

    Ciphertext goes out through the base socket's ``send`` (``SSLSocket.send`` would
    recurse into the engine); what a non-blocking socket does not take at once stays
    queued and is flushed before anything is read or written again.
    """

    _socket_errors = True

    def __init__(
        self,
        context: SSLContext,
        sock: ssl.SSLSocket,
        server_hostname: str | None,
        owner: Any,
        session: Any,
    ) -> None:
        self._sock = sock
        self._out = bytearray()
        super().__init__(context, ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname, owner, session)

    def _flush(self) -> bool:
        """Send what is queued; False if a non-blocking socket would block."""
        while self._out:
            try:
                n = _socket.socket.send(self._sock, self._out)
            except BlockingIOError:
                return False
            del self._out[:n]
        return True

    def _send(self, data: bytes) -> None:
        if data:
            self._out += data
            self._flush()

    def _recv(self, n: int) -> bytes:
        if not self._flush():
            raise _want_write()
        try:
            return _socket.socket.recv(self._sock, n)
        except BlockingIOError:
            raise _want_read() from None

    def _fill(self) -> None:
        data = self._recv(_RECV_SIZE)
        if not data:
            raise _eof_error()
        self._driver.feed(data)

    def do_handshake(self) -> None:
        """The handshake over the socket; what is left queued raises SSLWantWriteError."""
        super().do_handshake()
        if not self._flush():
            raise _want_write()

    def write(self, data: Any) -> int:
        """Encrypt and send all of ``data`` (SSLWantWriteError, nothing taken, if the
        previous write is still queued)."""
        if not self._flush():
            raise _want_write()
        return super().write(data)

    def shutdown(self) -> Any:
        """close_notify both ways, then the socket (what ``SSLSocket.unwrap`` returns)."""
        super().shutdown()
        if not self._flush():
            raise _want_write()
        return self.owner
