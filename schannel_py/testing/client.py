"""The project's reference SSPI loop (:class:`schannel_py.driver.SspiDriver`) on a transport.

For tests of the toolkit itself and as a known-good client next to yours: the
loop under test is usually your own, given ``transport.send`` / ``transport.recv``.
"""

from __future__ import annotations

from typing import Any

from ..driver import SspiDriver
from ..sspi.types import CredHandle
from .stores import acquire_credential
from .transport import Transport

__all__ = ["reference_client"]


def reference_client(
    transport: Transport,
    cred: CredHandle | None = None,
    target: str | None = "localhost",
    **options: Any,
) -> SspiDriver:
    """An :class:`~schannel_py.driver.SspiDriver` over ``transport`` (not yet connected:
    call ``.handshake()``).  ``cred`` defaults to a credential with manual validation
    (the server's certificate is not checked); ``options`` go to ``SspiDriver``."""
    if cred is None:
        cred = acquire_credential(manual_validation=True)
    return SspiDriver(transport.send, transport.recv, cred, target, **options)
