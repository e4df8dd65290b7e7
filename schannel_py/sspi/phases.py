"""The SSPI context as a state machine: its phases, what each call does in each, and the moves.

Theory of operation
-------------------
A security context is always in one :class:`Phase`.  :data:`PHASES` says, for
each phase, what InitializeSecurityContext (ISC), EncryptMessage and
DecryptMessage do there, and which phases it may move to and on what.  The
code follows the table, not the other way round:

* the record calls ask :attr:`Rule.encrypt` / :attr:`Rule.decrypt` (copied onto
  the context as ``may_encrypt`` / ``may_decrypt`` by :func:`move`);
* ISC dispatches on the phase through ``sspi.handshake.ISC_STEPS``, one step
  function per phase, checked against this table by a test;
* every change of phase goes through :func:`move`, which refuses a move the
  table does not list (a programming error, so the SSPI guard turns it into
  SEC_E_INTERNAL_ERROR rather than letting a context drift into a state nobody
  designed);
* ``schannel-py diagram`` draws :data:`PHASES` beside the TLS machines, and a
  test checks that docs/architecture.md carries exactly that drawing.

Control tokens are not phases: ApplyControlToken queues a token (an alert,
close_notify, a KeyUpdate) in any phase, and the next ISC emits it before doing
anything else (``sspi.control``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..tls.handshake_base import StateEnum

if TYPE_CHECKING:
    from .context import Context


class Phase(StateEnum):
    """Where a context stands, as an SSPI caller sees it."""

    NEW = "new"  # before the first ISC: no handle exists yet
    HANDSHAKE = "handshake"
    NEED_CREDENTIAL = "need_credential"  # ISC returned SEC_I_INCOMPLETE_CREDENTIALS
    ESTABLISHED = "established"
    RENEGOTIATE = "renegotiate"  # DecryptMessage returned SEC_I_RENEGOTIATE
    SHUTDOWN = "shutdown"  # our close_notify (or alert) is out; the peer's may follow
    CLOSED = "closed"  # nothing more to read or write
    FAILED = "failed"


@dataclass(frozen=True)
class Rule:
    """The SSPI calls in one phase.

    ``isc_no_input`` is what ISC does when called with ``pInput = NULL`` and no
    control token pending; ``isc`` what it does with input.  ``encrypt`` and
    ``decrypt`` say whether the record calls work (otherwise they return
    SEC_E_CONTEXT_EXPIRED).  ``moves`` maps each phase this one may move to on
    the call and outcome that causes the move.
    """

    isc_no_input: str
    isc: str
    encrypt: bool
    decrypt: bool
    moves: Mapping[Phase, str]


#: Statuses written in the table (checked by tests against what the calls return).
CONTEXT_EXPIRED = "SEC_E_CONTEXT_EXPIRED"
INCOMPLETE = "SEC_E_INCOMPLETE_MESSAGE"

PHASES: Mapping[Phase, Rule] = {
    Phase.NEW: Rule(
        isc_no_input="send the ClientHello: SEC_I_CONTINUE_NEEDED",
        isc="send the ClientHello (input: ALPN list, 64-bit flags): SEC_I_CONTINUE_NEEDED",
        encrypt=False,
        decrypt=False,
        moves={Phase.HANDSHAKE: "ISC: SEC_I_CONTINUE_NEEDED"},
    ),
    Phase.HANDSHAKE: Rule(
        isc_no_input=INCOMPLETE,
        isc="feed whole records to the TLS client; SEC_I_CONTINUE_NEEDED until its Finished",
        encrypt=False,
        decrypt=False,
        moves={
            Phase.ESTABLISHED: "ISC: SEC_E_OK (or SEC_I_NO_RENEGOTIATION)",
            Phase.NEED_CREDENTIAL: "ISC: SEC_I_INCOMPLETE_CREDENTIALS",
            Phase.SHUTDOWN: "ISC: close_notify token sent (TLS 1.2 renegotiation)",
            Phase.CLOSED: "ISC: close_notify token sent, or SEC_E_OK after the peer's close_notify",
            Phase.FAILED: "ISC: an error status",
        },
    ),
    Phase.NEED_CREDENTIAL: Rule(
        isc_no_input="as with input: the paused flight is held",
        isc="go on with the certificate of a new credential offered, else with none "
        "(an empty Certificate), whatever the flags; the input is the same flight "
        "again, what followed it, or nothing",
        encrypt=False,
        decrypt=False,
        moves={
            Phase.HANDSHAKE: "ISC: credential chosen",
            Phase.SHUTDOWN: "ISC: close_notify token sent (TLS 1.2 renegotiation)",
            Phase.CLOSED: "ISC: close_notify token sent",
            Phase.FAILED: "ISC: an error status",
        },
    ),
    Phase.ESTABLISHED: Rule(
        isc_no_input="TLS 1.2: start a renegotiation (SEC_I_CONTINUE_NEEDED); "
        "TLS 1.3: " + INCOMPLETE,
        isc="send what the client owes; hand every input byte back as EXTRA: SEC_E_OK",
        encrypt=True,
        decrypt=True,
        moves={
            Phase.RENEGOTIATE: "DecryptMessage: SEC_I_RENEGOTIATE",
            Phase.HANDSHAKE: "ISC: TLS 1.2 renegotiation",
            Phase.SHUTDOWN: "ISC: close_notify token sent",
            Phase.CLOSED: "DecryptMessage: SEC_I_CONTEXT_EXPIRED",
            Phase.FAILED: "DecryptMessage or ISC: an error status",
        },
    ),
    Phase.RENEGOTIATE: Rule(
        isc_no_input="as with an empty input: the message DecryptMessage consumed is held",
        isc="send what the client owes (KeyUpdate answer: SEC_E_OK; renegotiation "
        "ClientHello: SEC_I_CONTINUE_NEEDED; a post-handshake CertificateRequest: "
        "SEC_I_INCOMPLETE_CREDENTIALS once unless a certificate or USE_SUPPLIED_CREDS is "
        "offered, then the answer); hand every input byte back as EXTRA: SEC_E_OK",
        encrypt=False,
        decrypt=False,
        moves={
            Phase.ESTABLISHED: "ISC: SEC_E_OK",
            Phase.HANDSHAKE: "ISC: TLS 1.2 HelloRequest accepted",
            Phase.SHUTDOWN: "ISC: SEC_E_OK after our close_notify",
            Phase.FAILED: "ISC: an error status",
        },
    ),
    Phase.SHUTDOWN: Rule(
        isc_no_input=INCOMPLETE,
        isc=INCOMPLETE,
        encrypt=False,
        decrypt=True,
        moves={
            Phase.RENEGOTIATE: "DecryptMessage: SEC_I_RENEGOTIATE",
            Phase.CLOSED: "DecryptMessage: SEC_I_CONTEXT_EXPIRED",
            Phase.FAILED: "DecryptMessage: an error status",
        },
    ),
    Phase.CLOSED: Rule(
        isc_no_input=INCOMPLETE,
        isc=INCOMPLETE,
        encrypt=False,
        decrypt=False,
        moves={},
    ),
    Phase.FAILED: Rule(
        isc_no_input=INCOMPLETE,
        isc="the failure's status again",
        encrypt=False,
        decrypt=False,
        moves={},
    ),
}

#: For each phase, the phases :func:`move` accepts (the table's ``moves``).
_ALLOWED = {phase: frozenset(rule.moves) for phase, rule in PHASES.items()}
_ENCRYPT = {phase: rule.encrypt for phase, rule in PHASES.items()}
_DECRYPT = {phase: rule.decrypt for phase, rule in PHASES.items()}


class IllegalMove(RuntimeError):
    """A phase change the table does not list (a bug, never the caller's fault)."""


def move(ctx: Context, to: Phase) -> None:
    """The one place a context changes phase; a move to the same phase is no move."""
    here = ctx.phase
    if to is here:
        return
    if to not in _ALLOWED[here]:
        raise IllegalMove(f"SSPI context cannot move from {here.name} to {to.name}")
    ctx.phase = to
    ctx.may_encrypt = _ENCRYPT[to]
    ctx.may_decrypt = _DECRYPT[to]
