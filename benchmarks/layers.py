"""Where a handshake's client CPU goes, by layer: a sampling profile for ``--profile``.

cProfile's per-call overhead distorts a handshake of about a thousand short Python
calls; this samples instead.  A CPU-time interval timer (``ITIMER_PROF``) interrupts
the process every millisecond; while an InitializeSecurityContext of a handshake is
running, each sample is put in the first layer its innermost frames belong to
(cryptography's C calls count for the package frame that made them).  The kernel's
timer granularity makes samples coarse, so a few thousand handshakes are needed for
a few percent of precision; the counts are printed with the shares.
"""

from __future__ import annotations

import collections
import os
import signal
from collections.abc import Callable
from types import FrameType

#: (layer, test on a frame's file name), first match wins, innermost frame first.
LAYERS: list[tuple[str, Callable[[str], bool]]] = [
    ("x25519 key share and exchange", lambda f: f.endswith(os.path.join("tls", "groups.py"))),
    (
        "certificate chain and signature checks",
        lambda f: os.sep + "crypt32" + os.sep in f or f.endswith("sigalgs.py"),
    ),
    (
        "HMAC and key schedule",
        lambda f: f.endswith(("mac.py", "keyschedule.py", "prf.py", os.sep + "hmac.py")),
    ),
    ("record protection (AEAD)", lambda f: f.endswith(("record.py", "suites.py"))),
    ("transcript hash", lambda f: f.endswith(os.path.join("tls", "session.py"))),
    ("TLS messages and state machines", lambda f: os.sep + "tls" + os.sep in f),
    ("SSPI layer", lambda f: os.sep + "sspi" + os.sep in f or f.endswith(("_env.py", "keylog.py"))),
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
            name = frame.f_code.co_filename
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
