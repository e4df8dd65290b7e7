"""The illustrated connection: any traced connection as one self-contained HTML page.

    from schannel_py import illustrate

    with illustrate.Recorder() as rec:
        ...  # run a connection through the SSPI functions
    html = illustrate.render_html(rec.illustration("my connection"))

:class:`Recorder` collects the observer's events (:mod:`schannel_py.sspi.observe`);
:func:`from_calls` and :func:`from_replay` build the model (:mod:`.model`), one
connection at a time (:func:`connections` splits a recording; ``connection=N``
picks one);
:func:`render_html` and :func:`write_html` turn it into the page (:mod:`.page`).
Secret values (traffic secrets, keys, IVs) appear on the page only with
``show_secrets=True``, and the page then says so in a banner.
"""

from __future__ import annotations

from .model import Illustration, connections, from_calls, from_replay
from .page import render_html, write_html
from .recorder import Recorder

__all__ = [
    "Illustration",
    "Recorder",
    "connections",
    "from_calls",
    "from_replay",
    "render_html",
    "write_html",
]
