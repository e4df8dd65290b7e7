"""schannel_py: the Windows SChannel TLS client, in pure Python.

The public surface is SSPI's: ``AcquireCredentialsHandle``,
``InitializeSecurityContext``, ``EncryptMessage``, ``DecryptMessage``,
``QueryContextAttributes``, ``ApplyControlToken`` and friends, with Windows'
parameter names, buffer rules and status codes, plus every constant under its
Windows name.  Certificates and stores live in :mod:`schannel_py.crypt32`.
"""

from __future__ import annotations

from . import crypt32
from .constants import *  # noqa: F403
from .constants import __all__ as _constants_all
from .sspi.cache import SslEmptyCache, SslEmptyCacheA, SslEmptyCacheW
from .sspi.functions import (
    AcquireCredentialsHandle,
    AcquireCredentialsHandleA,
    AcquireCredentialsHandleW,
    ApplyControlToken,
    DecryptMessage,
    DeleteSecurityContext,
    EncryptMessage,
    EnumerateSecurityPackages,
    EnumerateSecurityPackagesA,
    EnumerateSecurityPackagesW,
    FreeContextBuffer,
    FreeCredentialsHandle,
    InitializeSecurityContext,
    InitializeSecurityContextA,
    InitializeSecurityContextW,
    QueryContextAttributes,
    QueryContextAttributesA,
    QueryContextAttributesW,
    QueryCredentialsAttributes,
    QueryCredentialsAttributesA,
    QueryCredentialsAttributesW,
    QuerySecurityPackageInfo,
    QuerySecurityPackageInfoA,
    QuerySecurityPackageInfoW,
    SetContextAttributes,
    SetContextAttributesA,
    SetContextAttributesW,
)
from .sspi.types import *  # noqa: F403
from .sspi.types import __all__ as _types_all

# The key log observes the SSPI layer from import on (SSLKEYLOGFILE needs no call).
from . import keylog as _keylog  # noqa: E402, F401  isort: skip

__version__ = "0.1.0"

__all__ = [
    *_constants_all,
    *_types_all,
    "crypt32",
    "SslEmptyCache",
    "SslEmptyCacheA",
    "SslEmptyCacheW",
    "AcquireCredentialsHandle",
    "AcquireCredentialsHandleA",
    "AcquireCredentialsHandleW",
    "ApplyControlToken",
    "DecryptMessage",
    "DeleteSecurityContext",
    "EncryptMessage",
    "EnumerateSecurityPackages",
    "EnumerateSecurityPackagesA",
    "EnumerateSecurityPackagesW",
    "FreeContextBuffer",
    "FreeCredentialsHandle",
    "InitializeSecurityContext",
    "InitializeSecurityContextA",
    "InitializeSecurityContextW",
    "QueryContextAttributes",
    "QueryContextAttributesA",
    "QueryContextAttributesW",
    "QueryCredentialsAttributes",
    "QueryCredentialsAttributesA",
    "QueryCredentialsAttributesW",
    "QuerySecurityPackageInfo",
    "QuerySecurityPackageInfoA",
    "QuerySecurityPackageInfoW",
    "SetContextAttributes",
    "SetContextAttributesA",
    "SetContextAttributesW",
]
