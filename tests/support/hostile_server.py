"""A scripted, misbehaving TLS 1.3 / TLS 1.2 server for attack tests.

The harness and the attack registry are :mod:`schannel_py.testing.attacks`
(the cases: ``attacks13`` / ``attacks12``), re-exported here.  The builders (:class:`Server13`, :class:`Server12`, records) are
:mod:`schannel_py.testing.builders`, re-exported here.  Built on the project's own codec, key schedule and record protection, it does
*not* run a state machine of its own: a test script calls the builders in any
order, with any overrides, and decides which (possibly malformed) records go
to the client.  Where an attack must get past decryption the server holds the
right keys: after :meth:`Server13.derive_handshake` it can protect records
under the server handshake secret and open the client's records (its alert)
under the client handshake secret, exactly as a real peer would.

The client, :class:`Harness`, runs the real SSPI entry points
(``InitializeSecurityContext``, ``DecryptMessage``) through the single-call
methods of :class:`schannel_py.driver.SspiDriver`, the way curl's loop does, and returns the status together with the alert record
the client put in its SECBUFFER_ALERT output buffer.  ``decided`` records the
alert description the TLS core chose for every failure (the ``failure`` of the
SSPI observer hook's events, :mod:`schannel_py.sspi.observe`), which is the
only witness of the alert for failures inside DecryptMessage, where SSPI has
no ALERT buffer.
"""

from __future__ import annotations

from schannel_py.testing.attacks import (  # noqa: F401  (moved to the package)
    CURL_FLAGS,
    FAILURES,
    Attack,
    Decision,
    Harness,
    check_outcome,
    credential,
    finish12,
    registry,
    run_attack,
    to_client_flight12,
    watching_failures,
)
from schannel_py.testing.builders import (  # noqa: F401  (the attack modules import them from here)
    COMPAT_CCS,
    ECDSA_P256_SHA256,
    HT,
    TLS12_ECDHE_ECDSA_AES128,
    TLS13_AES128,
    Exts,
    Identity,
    Server12,
    Server13,
    certificate_status,
    ext_block,
    handshake_messages,
    identity,
    record,
    split_records,
    u16,
)
from schannel_py.tls.groups import X25519, KeyShare  # noqa: F401
from schannel_py.tls.messages import Ext, HandshakeType  # noqa: F401
from schannel_py.tls.record import (  # noqa: F401
    ALERT,
    APPLICATION_DATA,
    CHANGE_CIPHER_SPEC,
    HANDSHAKE,
    HEADER_LEN,
    frame,
)
