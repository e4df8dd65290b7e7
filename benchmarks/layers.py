"""Where a handshake's client CPU goes, by layer: a sampling profile for ``--profile``.

cProfile's per-call overhead distorts a handshake of about a thousand short Python
calls; this samples instead.  A CPU-time interval timer (``ITIMER_PROF``) interrupts
the process every millisecond; while an InitializeSecurityContext of a handshake is
running, each sample is put in the first layer (by module) its innermost frames belong to
(cryptography's C calls count for the package frame that made them).  The kernel's
timer granularity makes samples coarse, so a few thousand handshakes are needed for
a few percent of precision; the counts are printed with the shares.
"""

from __future__ import annotations

import collections
import signal
from collections.abc import Callable
from types import FrameType

#: (layer, test on a frame's module name), first match wins, innermost frame first.
LAYERS: list[tuple[str, Callable[[str], bool]]] = [
    ("x25519 key share and exchange", lambda m: m == "schannel_py.tls.groups"),
    (
        "certificate chain and signature checks",
        lambda m: m.startswith("schannel_py.crypt32") or m == "schannel_py.tls.sigalgs",
    ),
    (
        "HMAC and key schedule",
        lambda m: (
            m in ("schannel_py.tls.mac", "schannel_py.tls.keyschedule")
            or m in ("schannel_py.tls.prf", "hmac")
        ),
    ),
    (
        "record protection (AEAD)",
        lambda m: m in ("schannel_py.tls.record", "schannel_py.tls.suites"),
    ),
    ("transcript hash", lambda m: m == "schannel_py.tls.session"),
    ("TLS messages and state machines", lambda m: m.startswith("schannel_py.tls")),
    (
        "SSPI layer",
        lambda m: (
            m.startswith("schannel_py.sspi") or m in ("schannel_py._env", "schannel_py.keylog")
        ),
    ),
]


class LayerSampler:
    """Counts samples by layer while :attr:`active` is true (set it around the calls
    to measure).  Use as a context manager: the timer runs inside the block."""

    def __init__(self) -> None:
        self.active = False
        self.counts: collections.Counter[str] = collections.Counter()
        self._previous: object = None

    def _layer(self, frame: FrameType | None) -> str:
        while frame is not None:
            name = str(frame.f_globals.get("__name__", ""))
            for layer, test in LAYERS:
                if test(name):
                    return layer
            frame = frame.f_back
        return "other"

    def _sample(self, signum: int, frame: FrameType | None) -> None:
        if self.active:
            self.counts[self._layer(frame)] += 1

    def __enter__(self) -> LayerSampler:
        self._previous = signal.signal(signal.SIGPROF, self._sample)
        signal.setitimer(signal.ITIMER_PROF, 0.001, 0.001)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        signal.signal(signal.SIGPROF, self._previous)  # type: ignore[arg-type]

    def table(self, title: str, per_handshake_ms: float) -> str:
        """The shares, and what they come to per handshake at ``per_handshake_ms``."""
        total = sum(self.counts.values()) or 1
        lines = [f"{title} ({total} samples; {per_handshake_ms:.3f} ms per handshake)"]
        for layer, n in self.counts.most_common():
            share = n / total
            lines.append(
                f"| {layer:<40} | {share:>6.1%} | {share * per_handshake_ms * 1000:6.0f} us |"
            )
        return "\n".join(lines)
