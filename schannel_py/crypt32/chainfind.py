"""CertFindChainInStore (CERT_CHAIN_FIND_BY_ISSUER): a client certificate and its chain.

Qt picks its local certificate this way (qtls_schannel.cpp,
``initializeCertificateStores``: ``CertFindChainInStore(store, X509_ASN_ENCODING,
0, CERT_CHAIN_FIND_BY_ISSUER, &para{pszUsageIdentifier = clientAuth}, NULL)``,
then ``rgpChain[0]->rgpElement[0]->pCertContext``).

The chain context returned is the smallest CERT_CHAIN_CONTEXT shape the callers
walk (``rgpChain[i].rgpElement[j].pCertContext``), defined here until the chain
engine's own structures replace it.  Its chains are built by name and key
identifier from the searched store, then the "CA" and "ROOT" system stores; they
carry no trust evaluation (every TrustStatus is zero): that is
CertGetCertificateChain's job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

from schannel_py.constants import CRYPT_E_NOT_FOUND

from ._lasterror import SetLastError
from .certinfo import CRYPT_DATA_BLOB
from .constants import (
    CERT_CHAIN_FIND_BY_ISSUER,
    CERT_CHAIN_FIND_BY_ISSUER_NO_KEY_FLAG,
    CERT_KEY_PROV_INFO_PROP_ID,
    E_INVALIDARG,
    szOID_ANY_ENHANCED_KEY_USAGE,
)
from .context import CERT_CONTEXT
from .store import CertStore, _could_issue, _open_system

__all__ = [
    "CERT_CHAIN_CONTEXT",
    "CERT_CHAIN_ELEMENT",
    "CERT_CHAIN_FIND_BY_ISSUER_PARA",
    "CERT_CHAIN_FIND_ISSUER_PARA",
    "CERT_SIMPLE_CHAIN",
    "CERT_TRUST_STATUS",
    "CertFindChainInStore",
]

#: sizeof(CERT_CHAIN_FIND_BY_ISSUER_PARA) on x64 without / with the two index pointers.
_PARA_SIZE_V1 = 64
_PARA_SIZE = 80
#: A chain longer than this is treated as a loop.
_MAX_DEPTH = 10


@dataclass
class CERT_CHAIN_FIND_BY_ISSUER_PARA:
    """What CertFindChainInStore looks for (wincrypt.h field names)."""

    cbSize: int = _PARA_SIZE
    pszUsageIdentifier: str | bytes | None = None
    dwKeySpec: int = 0
    dwAcquirePrivateKeyFlags: int = 0
    cIssuer: int = 0
    rgIssuer: list[CRYPT_DATA_BLOB] = field(default_factory=list)
    pfnFindCallback: Callable[[CERT_CONTEXT, Any], Any] | None = None
    pvFindArg: Any = None
    pdwIssuerChainIndex: Any = None
    pdwIssuerElementIndex: Any = None


CERT_CHAIN_FIND_ISSUER_PARA = CERT_CHAIN_FIND_BY_ISSUER_PARA


@dataclass
class CERT_TRUST_STATUS:
    """Error and information bits (CERT_TRUST_*)."""

    dwErrorStatus: int = 0
    dwInfoStatus: int = 0


@dataclass(eq=False)
class CERT_CHAIN_ELEMENT:
    """One certificate of a simple chain."""

    cbSize: int = 56
    pCertContext: CERT_CONTEXT | None = None
    TrustStatus: CERT_TRUST_STATUS = field(default_factory=CERT_TRUST_STATUS)
    pRevocationInfo: Any = None
    pIssuanceUsage: Any = None
    pApplicationUsage: Any = None
    pwszExtendedErrorInfo: str | None = None


@dataclass(eq=False)
class CERT_SIMPLE_CHAIN:
    """End certificate first, then its issuers up to the top one found."""

    cbSize: int = 40
    TrustStatus: CERT_TRUST_STATUS = field(default_factory=CERT_TRUST_STATUS)
    cElement: int = 0
    rgpElement: list[CERT_CHAIN_ELEMENT] = field(default_factory=list)
    pTrustListInfo: Any = None
    fHasRevocationFreshnessTime: bool = False
    dwRevocationFreshnessTime: int = 0


@dataclass(eq=False)
class CERT_CHAIN_CONTEXT:
    """A chain context: ``cChain`` simple chains in ``rgpChain``."""

    cbSize: int = 72
    TrustStatus: CERT_TRUST_STATUS = field(default_factory=CERT_TRUST_STATUS)
    cChain: int = 0
    rgpChain: list[CERT_SIMPLE_CHAIN] = field(default_factory=list)
    cLowerQualityChainContext: int = 0
    rgpLowerQualityChainContext: list[CERT_CHAIN_CONTEXT] = field(default_factory=list)
    fHasRevocationFreshnessTime: bool = False
    dwRevocationFreshnessTime: int = 0


def _issuer_pool(store: CertStore) -> list[CERT_CONTEXT]:
    pool = list(store)
    for name in ("CA", "ROOT"):
        system = _open_system(name, readonly=True, create=True)
        if system is not None:
            pool.extend(system)
    return pool


def _chain_for(leaf: CERT_CONTEXT, pool: list[CERT_CONTEXT]) -> list[CERT_CONTEXT]:
    chain = [leaf]
    seen = {leaf.pbCertEncoded}
    current = leaf.certificate
    while len(chain) < _MAX_DEPTH and current.issuer != current.subject:
        issuer = next(
            (
                c
                for c in pool
                if c.pbCertEncoded not in seen and _safe_could_issue(c.certificate, current)
            ),
            None,
        )
        if issuer is None:
            break
        chain.append(issuer)
        seen.add(issuer.pbCertEncoded)
        current = issuer.certificate
    return chain


def _safe_could_issue(issuer: x509.Certificate, subject: x509.Certificate) -> bool:
    try:
        return _could_issue(issuer, subject)
    except Exception:  # a malformed extension: not this issuer
        return False


def _usage_ok(chain: list[CERT_CONTEXT], usage: str | None) -> bool:
    if usage is None:
        return True
    for ctx in chain:
        try:
            eku = ctx.certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
        except x509.ExtensionNotFound:
            continue
        except Exception:
            return False
        oids = {o.dotted_string for o in eku.value}
        if usage not in oids and szOID_ANY_ENHANCED_KEY_USAGE not in oids:
            return False
    return True


def _issuer_match(chain: list[CERT_CONTEXT], names: list[bytes]) -> int | None:
    """Index of the first element whose issuer is one of ``names`` (0 when no names)."""
    if not names:
        return 0
    for index, ctx in enumerate(chain):
        if ctx.pCertInfo.Issuer.tobytes() in names:
            return index
    return None


def _para_values(para: Any) -> tuple[str | None, list[bytes]] | None:
    if not isinstance(para, CERT_CHAIN_FIND_BY_ISSUER_PARA):
        return None
    if not isinstance(para.cbSize, int) or para.cbSize < _PARA_SIZE_V1:
        return None
    usage = para.pszUsageIdentifier
    if isinstance(usage, bytes):
        usage = usage.split(b"\0", 1)[0].decode("ascii", "replace")
    if usage is not None and not isinstance(usage, str):
        return None
    count = para.cIssuer
    if not isinstance(count, int) or count < 0 or not isinstance(para.rgIssuer, (list, tuple)):
        return None
    if count > len(para.rgIssuer):
        return None
    names: list[bytes] = []
    for blob in para.rgIssuer[:count]:
        if not isinstance(blob, CRYPT_DATA_BLOB):
            return None
        names.append(blob.tobytes())
    return usage, names


def CertFindChainInStore(
    hCertStore: CertStore | None,
    dwCertEncodingType: int,
    dwFindFlags: int,
    dwFindType: int,
    pvFindPara: CERT_CHAIN_FIND_BY_ISSUER_PARA | None,
    pPrevChainContext: CERT_CHAIN_CONTEXT | None,
) -> CERT_CHAIN_CONTEXT | None:
    """The next chain whose end certificate is in ``hCertStore`` and matches ``pvFindPara``.

    ``CERT_CHAIN_FIND_BY_ISSUER`` only.  A match has a private key (unless
    ``CERT_CHAIN_FIND_BY_ISSUER_NO_KEY_FLAG``), the usage
    ``pszUsageIdentifier`` on every element that restricts usage, one of the
    ``rgIssuer`` names as some element's issuer (any when ``cIssuer`` is 0;
    ``pdwIssuerChainIndex`` / ``pdwIssuerElementIndex`` get where), and the
    callback's approval when ``pfnFindCallback`` is set.  The search continues
    after ``pPrevChainContext``'s end certificate.  None at the end with
    ``CRYPT_E_NOT_FOUND``; bad arguments: ``E_INVALIDARG``.
    ``dwKeySpec`` and the other flags change nothing here.
    """
    if not isinstance(hCertStore, CertStore) or dwFindType != CERT_CHAIN_FIND_BY_ISSUER:
        SetLastError(E_INVALIDARG)
        return None
    values = _para_values(pvFindPara)
    if values is None or pvFindPara is None:
        SetLastError(E_INVALIDARG)
        return None
    usage, names = values
    flags = dwFindFlags if isinstance(dwFindFlags, int) else 0
    prev = None
    if isinstance(pPrevChainContext, CERT_CHAIN_CONTEXT) and pPrevChainContext.rgpChain:
        elements = pPrevChainContext.rgpChain[0].rgpElement
        prev = elements[0].pCertContext if elements else None
    pool: list[CERT_CONTEXT] | None = None
    for leaf in hCertStore._after(prev):
        has_key = leaf.private_key is not None or CERT_KEY_PROV_INFO_PROP_ID in leaf._props
        if not has_key and not flags & CERT_CHAIN_FIND_BY_ISSUER_NO_KEY_FLAG:
            continue
        if pool is None:
            pool = _issuer_pool(hCertStore)
        chain = _chain_for(leaf, pool)
        if not _usage_ok(chain, usage):
            continue
        element_index = _issuer_match(chain, names)
        if element_index is None:
            continue
        callback = pvFindPara.pfnFindCallback
        if callback is not None:
            try:
                if not callback(leaf, pvFindPara.pvFindArg):
                    continue
            except Exception:
                continue
        for out, value in (
            (pvFindPara.pdwIssuerChainIndex, 0),
            (pvFindPara.pdwIssuerElementIndex, element_index),
        ):
            if out is not None and hasattr(out, "value"):
                out.value = value
        elements = [CERT_CHAIN_ELEMENT(pCertContext=c) for c in chain]
        simple = CERT_SIMPLE_CHAIN(cElement=len(elements), rgpElement=elements)
        return CERT_CHAIN_CONTEXT(cChain=1, rgpChain=[simple])
    SetLastError(CRYPT_E_NOT_FOUND)
    return None
