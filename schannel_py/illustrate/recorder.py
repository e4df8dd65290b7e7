"""Collects the SSPI calls of a connection for :func:`.model.from_calls`."""

from __future__ import annotations

from types import TracebackType

from ..sspi import observe
from .model import Illustration, from_calls


class Recorder:
    """An observer that keeps every SSPI call while it is active (a ``with`` block,
    or :meth:`start` / :meth:`stop`); :meth:`illustration` builds the model."""

    def __init__(self) -> None:
        self.calls: list[observe.SspiCall] = []
        self._registration: observe.Registration | None = None

    def start(self) -> Recorder:
        if self._registration is None:
            self._registration = observe.add_observer(self.calls.append)
        return self

    def stop(self) -> None:
        if self._registration is not None:
            self._registration()
            self._registration = None

    def __enter__(self) -> Recorder:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def illustration(self, title: str = "TLS connection", connection: int = 0) -> Illustration:
        """The model of the first connection recorded (or of the ``connection``-th)."""
        return from_calls(self.calls, title, connection)
