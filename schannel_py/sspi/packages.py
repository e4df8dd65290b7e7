"""The security packages this provider stands for: EnumerateSecurityPackages and
QuerySecurityPackageInfo, and the names AcquireCredentialsHandle answers to.

Windows registers SChannel under three names, each reported with the same
SecPkgInfo (docs/windows-behaviour.md rule 0.1.3); the other packages of a
Windows machine (Negotiate, Kerberos, NTLM, ...) are not emulated, so they are
not listed.
"""

from __future__ import annotations

from .. import constants as C
from .types import SecPkgInfo

#: fCapabilities Windows reports for SChannel: 0x004107B3.
CAPABILITIES = (
    C.SECPKG_FLAG_INTEGRITY
    | C.SECPKG_FLAG_PRIVACY
    | C.SECPKG_FLAG_CONNECTION
    | C.SECPKG_FLAG_MULTI_REQUIRED
    | C.SECPKG_FLAG_EXTENDED_ERROR
    | C.SECPKG_FLAG_IMPERSONATION
    | C.SECPKG_FLAG_ACCEPT_WIN32_NAME
    | C.SECPKG_FLAG_STREAM
    | C.SECPKG_FLAG_MUTUAL_AUTH
    | C.SECPKG_FLAG_APPCONTAINER_PASSTHROUGH
)
VERSION = 1
MAX_TOKEN = 24576
COMMENT = "Schannel Security Package"

#: The packages, in the order Windows enumerates them.
PACKAGES: tuple[SecPkgInfo, ...] = tuple(
    SecPkgInfo(CAPABILITIES, VERSION, C.UNISP_RPC_ID, MAX_TOKEN, name, COMMENT)
    for name in (C.SCHANNEL_NAME, C.UNISP_NAME, C.DEFAULT_TLS_SSP_NAME)
)
_BY_NAME = {p.Name.lower(): p for p in PACKAGES}
#: Lower-cased names AcquireCredentialsHandle and QuerySecurityPackageInfo accept.
NAMES = frozenset(_BY_NAME)


def find(name: object) -> SecPkgInfo | None:
    """The package called ``name`` (case-insensitive, str or ANSI bytes), or None."""
    if isinstance(name, (bytes, bytearray)):
        try:
            name = bytes(name).split(b"\0", 1)[0].decode("ascii")
        except UnicodeDecodeError:
            return None
    if not isinstance(name, str):
        return None
    return _BY_NAME.get(name.lower())
