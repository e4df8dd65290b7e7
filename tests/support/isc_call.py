"""Single InitializeSecurityContext calls laid out as real callers lay them out.

Qt and .NET make one-off ISC calls (Qt's renegotiate() with pInput NULL, the
repeated call after SEC_I_INCOMPLETE_CREDENTIALS) outside any loop; the
handshake loop itself lives once, in :mod:`schannel_py.driver`
(tests/support/sspi_driver.py wraps it, and may not call ISC itself).
"""

from __future__ import annotations

import schannel_py as sc

#: Qt's client request flags (qtbase src/plugins/tls/schannel/qtls_schannel.cpp,
#: getContextRequirements, client with peer verification done by Qt itself).
QT_FLAGS = (
    sc.ISC_REQ_ALLOCATE_MEMORY
    | sc.ISC_REQ_CONFIDENTIALITY
    | sc.ISC_REQ_REPLAY_DETECT
    | sc.ISC_REQ_SEQUENCE_DETECT
    | sc.ISC_REQ_STREAM
    | sc.ISC_REQ_MANUAL_CRED_VALIDATION
)


def token_input(data: bytes) -> sc.SecBufferDesc:
    """The ISC input curl, Qt and .NET pass: [TOKEN data, EMPTY] (the EMPTY turns into
    EXTRA/MISSING)."""
    return sc.SecBufferDesc(
        [
            sc.SecBuffer(len(data), sc.SECBUFFER_TOKEN, data),
            sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None),
        ]
    )


def out_buffers() -> sc.SecBufferDesc:
    """The ISC output curl and Qt pass: [TOKEN, ALERT, EMPTY] for the package to allocate."""
    return sc.SecBufferDesc(
        [
            sc.SecBuffer(0, sc.SECBUFFER_TOKEN, None),
            sc.SecBuffer(0, sc.SECBUFFER_ALERT, None),
            sc.SecBuffer(0, sc.SECBUFFER_EMPTY, None),
        ]
    )


def isc_continue(
    cred: sc.CredHandle,
    ctx: sc.CtxtHandle,
    target: str | None,
    flags: int,
    pinput: sc.SecBufferDesc | None,
) -> tuple[sc.SecStatus, bytes]:
    """One ISC continuing ``ctx`` with ``pinput`` (None: pInput NULL) and
    :func:`out_buffers`; (status, the token to send)."""
    out = out_buffers()
    status = sc.InitializeSecurityContext(
        cred, ctx, target, flags, 0, 0, pinput, 0, None, out, sc.ULONG(), None
    )
    tok = out.pBuffers[0]
    sent = bytes(tok.pvBuffer[: tok.cbBuffer]) if tok.pvBuffer is not None else b""
    return status, sent
