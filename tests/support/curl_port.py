"""curl's CA-file loader and host check, ported call for call (one port for every test).

Sources (curl/curl @5c61e168, fetched mirror):

* lib/vtls/schannel_verify.c: ``add_certs_file_to_store`` /
  ``add_certs_data_to_store`` (the CA file through CryptQueryObject),
  ``Curl_verify_host``, ``get_alt_name_info`` and ``cert_get_name_string``
  (the host check over every SAN, IP addresses included);
* lib/vtls/hostcheck.c: ``Curl_cert_hostcheck`` / ``hostmatch``.

Failures raise :class:`CurlError` with the CURLcode curl returns and its failf() text.
"""

from __future__ import annotations

import ctypes
import ipaddress
from pathlib import Path
from typing import Any

import schannel_py as sc
from schannel_py import crypt32 as c


class CurlError(Exception):
    """A CURLcode other than CURLE_OK, with curl's failf() text."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"{code}: {text}")
        self.code = code
        self.text = text


# --- the CA file (lib/vtls/schannel_verify.c) ------------------------------------------------

BEGIN_CERT = b"-----BEGIN CERTIFICATE-----"
END_CERT = b"\n-----END CERTIFICATE-----"


def add_certs_data_to_store(trust_store: c.CertStore, ca_buffer: bytes) -> int:
    """``add_certs_data_to_store``: each BEGIN..END span through
    CryptQueryObject(CERT_QUERY_OBJECT_BLOB, CONTENT_FLAG_CERT, FORMAT_FLAG_BASE64_ENCODED),
    then CertAddCertificateContextToStore(ALWAYS) and CertFreeCertificateContext.
    Returns the number of certificates added."""
    num_certs, current = 0, 0
    while current < len(ca_buffer):
        begin = ca_buffer.find(BEGIN_CERT, current, len(ca_buffer) - 1)
        after = begin + len(BEGIN_CERT)
        if begin < 0 or ca_buffer[after : after + 1] not in (b"\r", b"\n"):
            break
        end = ca_buffer.find(END_CERT, begin)
        if end < 0:
            raise CurlError("CURLE_SSL_CACERT_BADFILE", "CA file is not correctly formatted")
        blob = ca_buffer[begin : end + len(END_CERT)]
        cert_context = c.PCCERT_CONTEXT()
        if not c.CryptQueryObject(
            c.CERT_QUERY_OBJECT_BLOB,
            c.CRYPT_DATA_BLOB.from_bytes(blob),
            c.CERT_QUERY_CONTENT_FLAG_CERT,
            c.CERT_QUERY_FORMAT_FLAG_BASE64_ENCODED,
            0,
            None,
            None,
            None,
            None,
            None,
            cert_context,
        ):
            raise CurlError(
                "CURLE_SSL_CACERT_BADFILE",
                f"failed to extract certificate from CA file: {c.GetLastError():#x}",
            )
        current = begin + len(blob)
        if not c.CertAddCertificateContextToStore(
            trust_store, cert_context.value, c.CERT_STORE_ADD_ALWAYS, None
        ):
            raise CurlError("CURLE_SSL_CACERT_BADFILE", "failed to add certificate to store")
        num_certs += 1
        c.CertFreeCertificateContext(cert_context.value)
    return num_certs


def add_certs_file_to_store(trust_store: c.CertStore, ca_file: Path) -> int:
    """``add_certs_file_to_store``: the whole file read, then the data loader."""
    return add_certs_data_to_store(trust_store, ca_file.read_bytes())


# --- the host check (lib/vtls/schannel_verify.c, lib/vtls/hostcheck.c) -----------------------


def hostmatch(hostname: str, pattern: str) -> bool:
    """hostcheck.c ``hostmatch``: RFC 6125 6.4.3, '*' only as the whole leftmost label
    of a pattern with two dots or more, never for an IP literal; trailing dots ignored."""
    hostname, pattern = hostname.removesuffix("."), pattern.removesuffix(".")
    if not pattern.startswith("*."):
        return hostname.lower() == pattern.lower()
    if _is_ipnum(hostname) or hostname.startswith("."):
        return False
    if pattern.count(".") < 2:
        return hostname.lower() == pattern.lower()
    if "." not in hostname:
        return False
    return hostname[hostname.index(".") :].lower() == pattern[pattern.index(".") :].lower()


def _is_ipnum(hostname: str) -> bool:
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        return False
    return True


def remote_cert_context(ctx: sc.CtxtHandle) -> c.CERT_CONTEXT:
    """QueryContextAttributes(SECPKG_ATTR_REMOTE_CERT_CONTEXT), failing as curl does."""
    holder = sc.PVOID()
    status = sc.QueryContextAttributes(ctx, sc.SECPKG_ATTR_REMOTE_CERT_CONTEXT, holder)
    if status != sc.SEC_E_OK or holder.value is None:
        raise CurlError("CURLE_PEER_FAILED_VERIFICATION", "Failed to read remote certificate")
    assert isinstance(holder.value, c.CERT_CONTEXT)
    return holder.value


def get_alt_name_info(cert: c.CERT_CONTEXT) -> c.CERT_ALT_NAME_INFO | None:
    """``get_alt_name_info``: CertFindExtension(szOID_SUBJECT_ALT_NAME2) on pCertInfo, then
    CryptDecodeObjectEx(CRYPT_DECODE_ALLOC_FLAG | CRYPT_DECODE_NOCOPY_FLAG)."""
    info = cert.pCertInfo
    extension = c.CertFindExtension(c.szOID_SUBJECT_ALT_NAME2, info.cExtension, info.rgExtension)
    if extension is None:
        return None
    alt_name_info, size = c.PVOID(), c.DWORD()
    if not c.CryptDecodeObjectEx(
        c.X509_ASN_ENCODING | c.PKCS_7_ASN_ENCODING,
        c.szOID_SUBJECT_ALT_NAME2,
        extension.Value.pbData,
        extension.Value.cbData,
        c.CRYPT_DECODE_ALLOC_FLAG | c.CRYPT_DECODE_NOCOPY_FLAG,
        c.CRYPT_DECODE_PARA(),
        alt_name_info,
        size,
    ):
        return None
    assert isinstance(alt_name_info.value, c.CERT_ALT_NAME_INFO)
    return alt_name_info.value


def cert_get_name_string(cert: c.CERT_CONTEXT, buffer: Any, length: int) -> int:
    """``cert_get_name_string`` on Windows 8+: CertGetNameString(CERT_NAME_DNS_TYPE,
    CERT_NAME_DISABLE_IE4_UTF8_FLAG | CERT_NAME_SEARCH_ALL_NAMES_FLAG)."""
    flags = c.CERT_NAME_DISABLE_IE4_UTF8_FLAG | c.CERT_NAME_SEARCH_ALL_NAMES_FLAG
    return c.CertGetNameString(cert, c.CERT_NAME_DNS_TYPE, flags, None, buffer, length)


def verify_host_of(server: c.CERT_CONTEXT, conn_hostname: str) -> None:
    """The body of ``Curl_verify_host`` (Win8_compat) on the server's certificate: an IP
    literal against the SAN's IP entries, a name against every DNS name of the
    multi-string read by its returned length; CURLE_PEER_FAILED_VERIFICATION."""
    try:
        ip_blob: bytes | None = ipaddress.ip_address(conn_hostname).packed
    except ValueError:
        ip_blob = None
    if ip_blob is not None:
        alt_name_info = get_alt_name_info(server)
        if alt_name_info is None:
            raise CurlError("CURLE_PEER_FAILED_VERIFICATION", "no alternate name information")
        for entry in alt_name_info.rgAltEntry[: alt_name_info.cAltEntry]:
            if entry.dwAltNameChoice == c.CERT_ALT_NAME_IP_ADDRESS:
                if entry.IPAddress.cbData == len(ip_blob) and entry.IPAddress.tobytes() == ip_blob:
                    return
        raise CurlError("CURLE_PEER_FAILED_VERIFICATION", "no IP address matched")
    length = cert_get_name_string(server, None, 0)
    if length == 0:
        raise CurlError("CURLE_PEER_FAILED_VERIFICATION", "no certificate name information")
    buff = ctypes.create_unicode_buffer(length)
    if cert_get_name_string(server, buff, length) != length:
        raise CurlError("CURLE_PEER_FAILED_VERIFICATION", "name information of unexpected size")
    names = ctypes.wstring_at(buff, length)
    index = 0
    while index < length and names[index] != "\0":
        cert_hostname = names[index:].split("\0", 1)[0]
        if cert_hostname and hostmatch(conn_hostname, cert_hostname):
            return
        index += len(cert_hostname) + 1
    raise CurlError(
        "CURLE_PEER_FAILED_VERIFICATION",
        f"failed to match connection hostname ({conn_hostname}) against server certificate names",
    )


def curl_verify_host(ctx: sc.CtxtHandle, conn_hostname: str) -> None:
    """``Curl_verify_host``: the server's certificate from the context, then
    :func:`verify_host_of`."""
    verify_host_of(remote_cert_context(ctx), conn_hostname)
