"""CertFindChainInStore (CERT_CHAIN_FIND_BY_ISSUER): a client certificate and its chain.

Qt picks its local certificate this way (qtls_schannel.cpp,
``initializeCertificateStores``: ``CertFindChainInStore(store, X509_ASN_ENCODING,
0, CERT_CHAIN_FIND_BY_ISSUER, &para{pszUsageIdentifier = clientAuth}, NULL)``,
then ``rgpChain[0]->rgpElement[0]->pCertContext``).

Each candidate's chain is built by the chain engine, as Microsoft's page says
("CertFindChainInStore": the store "is passed as an additional store to the
CertGetCertificateChain function"), so the chain context is
:mod:`schannel_py.crypt32.chain`'s, with real trust bits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from schannel_py.constants import CRYPT_E_NOT_FOUND

from ._lasterror import SetLastError
from .certinfo import CRYPT_DATA_BLOB
from .chain import (
    CERT_CHAIN_CONTEXT,
    CERT_CHAIN_PARA,
    CERT_USAGE_MATCH,
    PCCERT_CHAIN_CONTEXT,
    CertGetCertificateChain,
    _valid_oid,
)
from .constants import (
    CERT_CHAIN_FIND_BY_ISSUER,
    CERT_CHAIN_FIND_BY_ISSUER_LOCAL_MACHINE_FLAG,
    CERT_CHAIN_FIND_BY_ISSUER_NO_KEY_FLAG,
    CERT_KEY_PROV_INFO_PROP_ID,
    CERT_TRUST_IS_NOT_VALID_FOR_USAGE,
    E_INVALIDARG,
    HCCE_LOCAL_MACHINE,
    USAGE_MATCH_TYPE_AND,
)
from .context import CERT_CONTEXT
from .decode import CTL_USAGE
from .store import CertStore

__all__ = [
    "CERT_CHAIN_FIND_BY_ISSUER_PARA",
    "CERT_CHAIN_FIND_ISSUER_PARA",
    "CertFindChainInStore",
]

#: sizeof(CERT_CHAIN_FIND_BY_ISSUER_PARA) on x64 without / with the two index pointers.
_PARA_SIZE_V1 = 64
_PARA_SIZE = 80


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


def _issuer_match(chain: CERT_CHAIN_CONTEXT, names: list[bytes]) -> int | None:
    """Index of the first element whose issuer is one of ``names`` (0 when no names)."""
    if not names:
        return 0
    for index, element in enumerate(chain.rgpChain[0].rgpElement):
        ctx = element.pCertContext
        if ctx is not None and ctx.pCertInfo.Issuer.tobytes() in names:
            return index
    return None


def _build(
    leaf: CERT_CONTEXT, store: CertStore, usage: str | None, flags: int
) -> CERT_CHAIN_CONTEXT | None:
    """CertGetCertificateChain for ``leaf`` with ``store`` as the additional store;
    None when the engine refuses the certificate or the usage OID."""
    para = CERT_CHAIN_PARA()
    if usage is not None:
        para.RequestedUsage = CERT_USAGE_MATCH(USAGE_MATCH_TYPE_AND, CTL_USAGE(1, [usage]))
    engine = HCCE_LOCAL_MACHINE if flags & CERT_CHAIN_FIND_BY_ISSUER_LOCAL_MACHINE_FLAG else None
    out = PCCERT_CHAIN_CONTEXT()
    if not CertGetCertificateChain(engine, leaf, None, store, para, 0, None, out):
        return None
    return out.value


def _para_values(para: Any) -> tuple[str | None, list[bytes]] | None:
    if not isinstance(para, CERT_CHAIN_FIND_BY_ISSUER_PARA):
        return None
    if not isinstance(para.cbSize, int) or para.cbSize < _PARA_SIZE_V1:
        return None
    usage = para.pszUsageIdentifier
    if isinstance(usage, bytes):
        usage = usage.split(b"\0", 1)[0].decode("ascii", "replace")
    if usage is not None and (not isinstance(usage, str) or not _valid_oid(usage)):
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
    ``CERT_CHAIN_FIND_BY_ISSUER_NO_KEY_FLAG``), a chain valid for
    ``pszUsageIdentifier`` (no ``CERT_TRUST_IS_NOT_VALID_FOR_USAGE``), one of the
    ``rgIssuer`` names as some element's issuer (any when ``cIssuer`` is 0;
    ``pdwIssuerChainIndex`` / ``pdwIssuerElementIndex`` get where), and the
    callback's approval when ``pfnFindCallback`` is set.  The search continues
    after ``pPrevChainContext``'s end certificate.  None at the end with
    ``CRYPT_E_NOT_FOUND``; bad arguments: ``E_INVALIDARG``.
    The chain is CertGetCertificateChain's (default engine, or the local
    machine's with ``CERT_CHAIN_FIND_BY_ISSUER_LOCAL_MACHINE_FLAG``; no
    revocation check), so its TrustStatus is real; an untrusted chain is
    still returned.
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
    for leaf in hCertStore._after(prev):
        has_key = leaf.private_key is not None or CERT_KEY_PROV_INFO_PROP_ID in leaf._props
        if not has_key and not flags & CERT_CHAIN_FIND_BY_ISSUER_NO_KEY_FLAG:
            continue
        chain = _build(leaf, hCertStore, usage, flags)
        if chain is None:  # bytes the engine cannot decode: not a candidate
            continue
        if chain.TrustStatus.dwErrorStatus & CERT_TRUST_IS_NOT_VALID_FOR_USAGE:
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
        return chain
    SetLastError(CRYPT_E_NOT_FOUND)
    return None
