"""CryptoAPI-shaped certificates: contexts, stores and server-chain validation.

Names and parameter orders follow wincrypt.h; ``None`` stands for NULL and
out-parameters are objects with a ``value`` attribute (:class:`PCCERT_CONTEXT`,
or any ctypes-like buffer for strings).  Functions that fail return FALSE/NULL
and leave the reason for :func:`GetLastError`, as in C.

The "ROOT" system store is the OS CA bundle, plus the PEM file named by the
``SCHANNEL_PY_ROOT_CERTS`` environment variable, plus whatever the process
added to it; :func:`verify_server_chain` trusts exactly that store.

The "MY" system store (client certificates) is backed by the directory named
by the ``SCHANNEL_PY_MY_STORE`` environment variable, default
``~/.schannel_py/my``, re-read at every open: ``*.pem`` files holding a
certificate (plus optional chain certificates) and its private key, and
``*.pfx`` / ``*.p12`` files with an empty password.  Adding a context that has
a private key to "MY" writes ``<sha1 thumbprint>.pem`` there (mode 0600);
deleting it removes the file.  See :mod:`schannel_py.crypt32.mystore`.

Without PKCS#12, :func:`CertContextFromKeyPair` pairs a PEM/DER certificate
with its PEM/DER private key (RSA 2048+, ECDSA P-256/P-384, Ed25519);
:func:`find_client_certificate` and :func:`client_chain` pick a client
certificate for a server's CA list and build the chain it sends
(see :mod:`schannel_py.crypt32.client`).

Revocation (CRLs and OCSP, for the SCH_CRED_REVOCATION_* and
CERT_CHAIN_REVOCATION_* flags) is :mod:`schannel_py.crypt32.revocation`:
:func:`set_fetcher` replaces the HTTP retrieval (:func:`offline_fetcher` never
connects), :func:`preload_crl` / :func:`preload_ocsp_response` prime its cache.
"""

from __future__ import annotations

from . import chain as _chain
from . import chainfind as _chainfind
from . import constants
from ._lasterror import GetLastError, SetLastError
from .certinfo import (
    CERT_EXTENSION,
    CERT_INFO,
    CERT_PUBLIC_KEY_INFO,
    CRYPT_ALGORITHM_IDENTIFIER,
    CRYPT_BIT_BLOB,
    CRYPT_OBJID_BLOB,
    FILETIME,
    CertFindExtension,
    CertVerifyTimeValidity,
)
from .chain import *  # noqa: F403  (chain.__all__)
from .chainfind import *  # noqa: F403  (chainfind.__all__)
from .client import CertContextFromKeyPair, client_chain, find_client_certificate
from .constants import *  # noqa: F403  (the wincrypt.h names are the API)
from .context import (
    CERT_CONTEXT,
    CERT_NAME_BLOB,
    CRYPT_DATA_BLOB,
    CRYPT_HASH_BLOB,
    CRYPT_INTEGER_BLOB,
    PCCERT_CONTEXT,
    CertCreateCertificateContext,
    CertDuplicateCertificateContext,
    CertFreeCertificateContext,
    cert_context_from_pem,
    cert_contexts_from_pem,
    pem_certificates_to_der,
)
from .decode import (
    CERT_ALT_NAME_ENTRY,
    CERT_ALT_NAME_INFO,
    CERT_BASIC_CONSTRAINTS2_INFO,
    CERT_ENHKEY_USAGE,
    CERT_OTHER_NAME,
    CRYPT_DECODE_PARA,
    CTL_USAGE,
    PVOID,
    CryptDecodeObject,
    CryptDecodeObjectEx,
)
from .encoding import (
    CryptBinaryToString,
    CryptBinaryToStringA,
    CryptBinaryToStringW,
    CryptStringToBinary,
    CryptStringToBinaryA,
    CryptStringToBinaryW,
)
from .fetch import FetchError, FetchRequest, offline_fetcher, set_default_timeout, set_fetcher
from .mystore import load_my_directory, my_store_directory
from .names import (
    CertGetNameString,
    CertGetNameStringA,
    CertGetNameStringW,
    CertNameToStr,
    CertNameToStrA,
    CertNameToStrW,
    name_to_str,
)
from .pfx import PFXImportCertStore, PFXIsPFXBlob
from .properties import (
    CRYPT_KEY_PROV_INFO,
    CRYPT_KEY_PROV_PARAM,
    DWORD,
    CertEnumCertificateContextProperties,
    CertGetCertificateContextProperty,
    CertSetCertificateContextProperty,
)
from .query import CryptQueryObject
from .revocation import RevocationEvent, RevocationParams, preload_crl, preload_ocsp_response
from .revocation import clear_cache as clear_revocation_cache
from .store import (
    HCERTSTORE,
    CertAddCertificateContextToStore,
    CertAddCertificateLinkToStore,
    CertAddEncodedCertificateToStore,
    CertAddStoreToCollection,
    CertCloseStore,
    CertDeleteCertificateFromStore,
    CertDuplicateStore,
    CertEnumCertificatesInStore,
    CertFindCertificateInStore,
    CertOpenStore,
    CertOpenSystemStore,
    CertOpenSystemStoreA,
    CertOpenSystemStoreW,
    CertRemoveStoreFromCollection,
    CertStore,
    chain_context,
    env_root_certificates_der,
    os_root_certificates_der,
    root_certificates_der,
)
from .verify import name_matches, status_to_alert, verify_server_chain

__all__ = [
    *(name for name in dir(constants) if not name.startswith("_")),
    "CERT_ALT_NAME_ENTRY",
    "CERT_ALT_NAME_INFO",
    "CERT_BASIC_CONSTRAINTS2_INFO",
    *_chain.__all__,
    *_chainfind.__all__,
    "CERT_CONTEXT",
    "CERT_ENHKEY_USAGE",
    "CERT_EXTENSION",
    "CERT_INFO",
    "CERT_NAME_BLOB",
    "CERT_OTHER_NAME",
    "CERT_PUBLIC_KEY_INFO",
    "CRYPT_ALGORITHM_IDENTIFIER",
    "CRYPT_BIT_BLOB",
    "CRYPT_DATA_BLOB",
    "CRYPT_DECODE_PARA",
    "CTL_USAGE",
    "CRYPT_HASH_BLOB",
    "CRYPT_INTEGER_BLOB",
    "CRYPT_KEY_PROV_INFO",
    "CRYPT_KEY_PROV_PARAM",
    "CRYPT_OBJID_BLOB",
    "DWORD",
    "FILETIME",
    "HCERTSTORE",
    "PCCERT_CONTEXT",
    "PVOID",
    "CertAddCertificateContextToStore",
    "CertAddCertificateLinkToStore",
    "CertAddEncodedCertificateToStore",
    "CertAddStoreToCollection",
    "CertEnumCertificateContextProperties",
    "CertFindExtension",
    "CertDuplicateStore",
    "CertGetCertificateContextProperty",
    "CertRemoveStoreFromCollection",
    "CertSetCertificateContextProperty",
    "CertVerifyTimeValidity",
    "CryptBinaryToString",
    "CryptBinaryToStringA",
    "CryptBinaryToStringW",
    "CryptDecodeObject",
    "CryptDecodeObjectEx",
    "CryptQueryObject",
    "CryptStringToBinary",
    "CryptStringToBinaryA",
    "CryptStringToBinaryW",
    "CertContextFromKeyPair",
    "CertCloseStore",
    "CertCreateCertificateContext",
    "CertDeleteCertificateFromStore",
    "CertDuplicateCertificateContext",
    "CertEnumCertificatesInStore",
    "CertFindCertificateInStore",
    "CertFreeCertificateContext",
    "CertGetNameString",
    "CertGetNameStringA",
    "CertGetNameStringW",
    "CertNameToStr",
    "CertNameToStrA",
    "CertNameToStrW",
    "CertOpenStore",
    "CertOpenSystemStore",
    "CertOpenSystemStoreA",
    "CertOpenSystemStoreW",
    "CertStore",
    "GetLastError",
    "PFXImportCertStore",
    "PFXIsPFXBlob",
    "SetLastError",
    "cert_context_from_pem",
    "chain_context",
    "client_chain",
    "cert_contexts_from_pem",
    "env_root_certificates_der",
    "find_client_certificate",
    "load_my_directory",
    "my_store_directory",
    "name_matches",
    "name_to_str",
    "os_root_certificates_der",
    "pem_certificates_to_der",
    "root_certificates_der",
    "status_to_alert",
    "verify_server_chain",
    "FetchError",
    "FetchRequest",
    "RevocationEvent",
    "RevocationParams",
    "clear_revocation_cache",
    "offline_fetcher",
    "preload_crl",
    "preload_ocsp_response",
    "set_default_timeout",
    "set_fetcher",
]
