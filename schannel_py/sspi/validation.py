"""Server certificate checks ISC runs: the package's validation, then the application's callback.

The TLS client calls :func:`validator`'s check when the server's Certificate
arrives and :func:`reverifier`'s on a resumed handshake.  The application's
verify callback (SECPKG_ATTR_PY_VERIFY_CALLBACK) runs inside that check; a
rejection is a TLS failure like any other, so its alert is protected with
whatever keys the client writes with at that point.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .. import constants as C
from .. import crypt32
from ..constants import SecStatus
from ..crypt32.revocation import RevocationParams, Scope
from ..tls.alerts import AlertDescription, TLSError
from .credentials import REVOCATION_CHECK_FLAGS

if TYPE_CHECKING:
    from .context import Context

log = logging.getLogger("schannel_py.sspi.context")


#: The SCH_CRED_REVOCATION_CHECK_* flags and the scope each stands for.
REVOCATION_SCOPES: dict[int, Scope] = {
    C.SCH_CRED_REVOCATION_CHECK_END_CERT: "end",
    C.SCH_CRED_REVOCATION_CHECK_CHAIN: "chain",
    C.SCH_CRED_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT: "chain_exclude_root",
}


def server_cert_context(
    chain: Sequence[bytes], staple: bytes | None
) -> crypt32.CERT_CONTEXT | None:
    """The server's leaf as a CERT_CONTEXT (its store holds the chain as sent) with the
    stapled OCSP response, if any, as its CERT_OCSP_RESPONSE_PROP_ID property (the
    encoded OCSPResponse, byte for byte), as SChannel keeps it."""
    leaf = crypt32.chain_context(chain)
    if leaf is not None and staple is not None:
        crypt32.CertSetCertificateContextProperty(
            leaf,
            crypt32.CERT_OCSP_RESPONSE_PROP_ID,
            0,
            crypt32.CRYPT_DATA_BLOB.from_bytes(staple),
        )
    return leaf


def revocation_params(flags: int) -> RevocationParams | None:
    """The revocation check a credential's dwFlags ask for; None: no check at all.

    AcquireCredentialsHandle refuses two CHECK flags at once, so at most one is set."""
    scope = REVOCATION_SCOPES.get(flags & REVOCATION_CHECK_FLAGS)
    if scope is None:
        return None
    return RevocationParams(scope, cache_only=bool(flags & C.SCH_CRED_REVOCATION_CHECK_CACHE_ONLY))


def validator(ctx: Context, target: str | None, manual: bool) -> Callable[[list[bytes]], None]:
    """The certificate check ISC runs when the server's Certificate arrives:
    the package's validation (unless manual), then the application's callback.
    The server's stapled OCSP response for the leaf, if any, is the TLS client's
    ``ocsp_staple`` by then (the revocation check reads it first)."""

    def check(chain: list[bytes]) -> None:
        if not manual:
            now = datetime.datetime.fromtimestamp(ctx.client.now(), datetime.timezone.utc)
            flags = ctx.cred.flags
            check_name = not (flags & C.SCH_CRED_NO_SERVERNAME_CHECK)
            if not flags & REVOCATION_CHECK_FLAGS:  # the common case: no revocation work
                status = crypt32.verify_server_chain(chain, target, now, check_name=check_name)
            else:
                events = ctx.revocation_events = []
                status = crypt32.verify_server_chain(
                    chain,
                    target,
                    now,
                    check_name=check_name,
                    revocation=revocation_params(flags),
                    ignore_offline=bool(flags & C.SCH_CRED_IGNORE_REVOCATION_OFFLINE),
                    ignore_no_check=bool(flags & C.SCH_CRED_IGNORE_NO_REVOCATION_CHECK),
                    staple=ctx.client.ocsp_staple,
                    events=events,
                )
            if status != C.SEC_E_OK:
                ctx.validation_error = SecStatus(status)
                raise TLSError(
                    crypt32.status_to_alert(status),
                    f"certificate rejected: {SecStatus(status)!r}",
                    cause=int(status),
                )
        if ctx.verify_callback is not None:
            run_verify_callback(ctx, chain)

    return check


def reverifier(ctx: Context) -> Callable[[list[bytes]], None]:
    """The check on a resumed handshake: the callback, if it asked for resumptions."""

    def check(chain: list[bytes]) -> None:
        if ctx.verify_callback is not None and ctx.verify_on_resumption:
            run_verify_callback(ctx, chain)

    return check


def _callback_verdict(result: object) -> tuple[SecStatus, int | None] | None:
    """(status, alert or None) from what a verify callback returned; None if malformed."""
    alert: object = None
    if isinstance(result, tuple):
        if len(result) != 2:
            return None
        result, alert = result
    if not isinstance(result, int) or isinstance(result, bool):
        return None
    if alert is not None and (
        not isinstance(alert, int) or isinstance(alert, bool) or not 0 <= alert <= 255
    ):
        return None
    try:
        status = SecStatus(result)
    except (ValueError, TypeError, OverflowError):
        return None
    if status != C.SEC_E_OK and not status.failed:
        return None  # a success code other than SEC_E_OK cannot fail ISC
    return status, (int(alert) if alert is not None else None)


def run_verify_callback(ctx: Context, chain: list[bytes]) -> None:
    """Call the application's verify callback; raise TLSError if it rejects the server.

    A rejection fails ISC with the callback's status and its alert (by default the
    one ``crypt32.status_to_alert`` gives); an exception or a malformed answer is
    SEC_E_INTERNAL_ERROR with internal_error.
    """
    callback = ctx.verify_callback
    if callback is None:
        return
    verdict: tuple[SecStatus, int | None] | None = None
    leaf = server_cert_context(chain, ctx.client.ocsp_staple)
    if leaf is not None:
        ctx.in_callback = True
        try:
            verdict = _callback_verdict(callback(leaf))
        except Exception:
            log.debug("verify callback raised", exc_info=True)
        finally:
            ctx.in_callback = False
    if verdict is None:
        raise TLSError(
            AlertDescription.internal_error,
            "verify callback failed",
            cause=int(C.SEC_E_INTERNAL_ERROR),
        )
    status, alert = verdict
    if status == C.SEC_E_OK:
        return
    raise TLSError(
        alert if alert is not None else crypt32.status_to_alert(status),
        f"verify callback rejected the certificate: {status!r}",
        cause=int(status),
    )
