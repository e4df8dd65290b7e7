"""The page: one self-contained HTML file (inline CSS and script, no network).

Sections: the facts and the secrets banner; the ladder (SSPI calls on the
left, the records each call moved, with their direction); every record as an
annotated hex dump (protected records twice: ciphertext, then the decrypted
inner plaintext); the handshake messages; the key schedule as a tree of
``<details>`` elements.  Clicking a field's name (or a byte) highlights that
field's bytes and names it.

Element ids and ``data-*`` attributes are stable, for tests and for links:
``rec-N`` is record N, ``msg-N`` handshake message N, ``key-NAME`` a key
schedule step; each dump byte span and each field button carries ``data-f``,
the field's path (``r3p-1-4``: record 3, plaintext view, field 1, child 4),
and a group's bytes are the spans whose path starts with the group's path and
a dash.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from .dissect import Field
from .keys import KeyNode
from .model import Call, Illustration, Record, View

#: At most this many bytes of one field are printed in a dump; the rest is counted.
MAX_FIELD_BYTES = 4096

_CSS = """
:root { --out: #1f6feb; --in: #b35900; --hl: #ffe066; --muted: #666; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1200px; padding: 0 1rem 4rem; color: #1b1b1b; }
code, .hex, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 13px; }
h1 { margin: 1rem 0 .3rem; font-size: 1.5rem; }
h2 { border-bottom: 2px solid #ddd; margin-top: 2.2rem; }
nav a { margin-right: 1rem; }
.banner { padding: .6rem .8rem; border-radius: 6px; margin: .8rem 0; }
.banner.hidden { background: #eef6ee; border: 1px solid #9c9; }
.banner.shown { background: #fde8e8; border: 1px solid #d66; font-weight: 600; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: .1rem 1rem; margin: .5rem 0; }
dl.facts dt { color: var(--muted); }
table.ladder { border-collapse: collapse; width: 100%; }
table.ladder td { border-top: 1px solid #e4e4e4; vertical-align: top; padding: .35rem .4rem; }
td.sspi { width: 42%; }
.status { font-weight: 600; }
.status.failed { color: #b00; }
.meaning { margin: .15rem 0; color: #333; }
ul.notes { margin: .2rem 0; padding-left: 1.1rem; color: var(--muted); font-size: 13px; }
.wire a { display: block; text-decoration: none; padding: .1rem .3rem; border-radius: 4px; margin: .1rem 0; }
.wire a.out { color: var(--out); text-align: left; }
.wire a.out::after { content: " \\2192 server"; }
.wire a.in { color: var(--in); text-align: right; }
.wire a.in::before { content: "client \\2190  "; }
.wire a:hover { background: #f2f2f2; }
.elided { color: var(--muted); font-style: italic; font-size: 13px; }
.elided.in { text-align: right; }
.record { border: 1px solid #ddd; border-left: 6px solid var(--out); border-radius: 6px; padding: .4rem .8rem .8rem; margin: 1rem 0; }
.record.in { border-left-color: var(--in); }
.record h3 { margin: .3rem 0; font-size: 1.05rem; }
.moved { margin: 0; font-size: 13px; color: var(--muted); }
.view { display: grid; grid-template-columns: 50ch minmax(0, 1fr); gap: 0 1.2rem; margin-top: .6rem; }
.view h4 { grid-column: 1 / -1; margin: .4rem 0; font-size: .95rem; }
.view .info { grid-column: 1 / -1; }
.hex { width: 50ch; line-height: 1.6; word-spacing: -0.2ch; max-height: 36em; overflow-y: auto; }
.view ul.fields { max-height: 36em; overflow-y: auto; }
.hex span { padding: 1px 0; cursor: pointer; }
.hex .c0 { background: #e8f0fe; } .hex .c1 { background: #fce8e6; } .hex .c2 { background: #e6f4ea; }
.hex .c3 { background: #fef7e0; } .hex .c4 { background: #f3e8fd; } .hex .c5 { background: #e0f7fa; }
.hex span.hl, button.hl { background: var(--hl) !important; outline: 1px solid #c90; }
.hex span.hov, button.hov { outline: 1px dashed #c90; }
.hex .more { color: var(--muted); font-style: italic; }
.info { min-height: 1.4em; font-size: 13px; color: #333; margin: .3rem 0; }
ul.fields, ul.fields ul { list-style: none; padding-left: 1rem; margin: 0; }
ul.fields { padding-left: 0; font-size: 13px; }
ul.fields button { font: inherit; border: 0; background: none; padding: 0 .15rem; cursor: pointer; color: #0b4; color: #114; text-align: left; }
ul.fields button:hover { background: #f0f0f0; }
.val { font-family: ui-monospace, Menlo, Consolas, monospace; color: #444; word-break: break-all; }
.len { color: var(--muted); }
.note { color: #a40; }
details.key { margin: .15rem 0 .15rem 1.2rem; }
details.key > summary { cursor: pointer; }
.keybody { margin: .2rem 0 .4rem 1.2rem; font-size: 13px; }
.keybody div { margin: .1rem 0; }
.ok { color: #080; font-weight: 600; }
.bad { color: #b00; font-weight: 600; }
.secret-hidden { color: var(--muted); font-style: italic; }
ol.messages li { margin: .1rem 0; }
"""

_SCRIPT = """
(function () {
  function select(el) {
    var id = el.getAttribute('data-f');
    var view = el.closest('.view');
    if (!id || !view) return;
    document.querySelectorAll('.hl').forEach(function (x) { x.classList.remove('hl'); });
    var count = 0;
    view.querySelectorAll('[data-f]').forEach(function (x) {
      var f = x.getAttribute('data-f');
      if (f === id || f.indexOf(id + '-') === 0) {
        x.classList.add('hl');
        if (x.tagName === 'SPAN') count += x.getAttribute('data-n') | 0;
      }
    });
    var info = view.querySelector('.info');
    if (info) info.textContent = (el.getAttribute('data-name') || '') + ' (' + count + ' bytes)';
  }
  document.addEventListener('click', function (e) {
    var el = e.target.closest('[data-f]');
    if (el) select(el);
  });
  var hovered = [];
  document.addEventListener('mouseover', function (e) {
    hovered.forEach(function (x) { x.classList.remove('hov'); });
    hovered = [];
    var el = e.target.closest('[data-f]');
    var view = el && el.closest('.view');
    if (!view) return;
    var id = el.getAttribute('data-f');
    view.querySelectorAll('[data-f]').forEach(function (x) {
      var f = x.getAttribute('data-f');
      if (f === id || f.indexOf(id + '-') === 0) { x.classList.add('hov'); hovered.push(x); }
    });
  });
})();
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _anchor(name: str) -> str:
    return "key-" + re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")


def _direction_text(direction: str) -> str:
    return "client \u2192 server" if direction == "out" else "server \u2192 client"


# --- dumps ----------------------------------------------------------------------------


def _dump(view: View, prefix: str) -> str:
    """The hex dump (leaf spans) and the field tree of one view."""
    spans: list[str] = []
    items: list[str] = []
    colour = [0]

    def leaf_span(f: Field, path: str) -> None:
        raw = view.data[f.start : f.end]
        shown = raw[:MAX_FIELD_BYTES]
        text = " ".join(f"{b:02x}" for b in shown)
        more = ""
        if len(raw) > len(shown):
            more = f' <i class="more">\u2026 {len(raw) - len(shown)} more bytes</i>'
        title = f"{f.name}: {f.value}" if f.value else f.name
        spans.append(
            f'<span class="c{colour[0] % 6}" data-f="{path}" data-n="{f.size}" '
            f'data-name="{_e(f.name)}" title="{_e(title)}">{text}{more}</span>'
        )
        colour[0] += 1

    def tree(fields: list[Field], path: str) -> str:
        out = []
        for i, f in enumerate(fields):
            p = f"{path}-{i}"
            if not f.children:
                leaf_span(f, p)
            value = f' <span class="val">{_e(f.value)}</span>' if f.value else ""
            inner = f"<ul>{tree(f.children, p)}</ul>" if f.children else ""
            out.append(
                f'<li><button type="button" data-f="{p}" data-name="{_e(f.name)}">{_e(f.name)}</button>'
                f'{value} <span class="len">({f.size} B)</span>{inner}</li>'
            )
        return "".join(out)

    items.append(tree(view.fields, prefix))
    return (
        f'<div class="info">Click a field or a byte.</div><div class="hex">{" ".join(spans)}</div>'
        f'<ul class="fields">{"".join(items)}</ul>'
    )


def _record(r: Record, calls: list[Call]) -> str:
    head = f"#{r.index} {_direction_text(r.direction)}: {_e(r.title)} ({len(r.wire.data)} bytes)"
    parts = [f'<section class="record {r.direction}" id="rec-{r.index}"><h3>{head}</h3>']
    if r.call is not None and r.call < len(calls):
        verb = "sent" if r.direction == "out" else "received"
        parts.append(
            f'<p class="moved">{verb} by <a href="#call-{r.call}">{_e(calls[r.call].function)}'
            f" \u21d2 {_e(calls[r.call].status)}</a></p>"
        )
    if r.note:
        parts.append(f'<p class="note">{_e(r.note)}</p>')
    label = "on the wire (ciphertext)" if r.protected else "on the wire"
    parts.append(
        f'<div class="view" data-view="wire"><h4>{label}</h4>{_dump(r.wire, f"r{r.index}w")}</div>'
    )
    if r.plaintext is not None:
        parts.append(
            f'<div class="view" data-view="plain"><h4>decrypted with the keys of {_e(r.key)}</h4>'
            f"{_dump(r.plaintext, f'r{r.index}p')}</div>"
        )
    parts.append("</section>")
    return "".join(parts)


# --- the ladder -------------------------------------------------------------------------


def _flight_links(ill: Illustration, index: int) -> str:
    flight = ill.flights[index]
    out = []
    for ri in flight.records:
        r = ill.records[ri]
        out.append(
            f'<a class="{r.direction}" href="#rec-{ri}">#{ri} {_e(r.title)} ({len(r.wire.data)} B)</a>'
        )
    if flight.elided:
        out.append(
            f'<div class="elided">and {flight.elided} more application_data records '
            f"({flight.elided_bytes} bytes), {_direction_text(flight.direction)}, not shown</div>"
        )
    return "".join(out)


def _quiet(ill: Illustration, c: Call) -> bool:
    """A record call that drew nothing: its records are all beyond the first few (or it
    moved none, such as a DecryptMessage waiting for more bytes)."""
    return (
        c.function in ("EncryptMessage", "DecryptMessage")
        and not c.failure
        and not any(ill.flights[i].records for i in c.flights)
    )


def _summary_row(ill: Illustration, calls: list[Call]) -> str:
    counts: dict[str, int] = {}
    for c in calls:
        key = f"{c.function} \u21d2 {c.status}"
        counts[key] = counts.get(key, 0) + 1
    what = "; ".join(f"{n} \u00d7 {_e(k)}" for k, n in counts.items())
    moved = []
    for direction in ("out", "in"):
        flights = [ill.flights[i] for c in calls for i in c.flights]
        n = sum(f.elided for f in flights if f.direction == direction)
        size = sum(f.elided_bytes for f in flights if f.direction == direction)
        if n:
            moved.append(
                f'<div class="elided {direction}">{n} application_data records ({size} bytes), '
                f"{_direction_text(direction)}, not drawn</div>"
            )
    return (
        f'<tr class="calls-summary"><td class="sspi">{what}'
        f'<p class="meaning">The same calls again, moving application data; only the first '
        f"records each way are drawn.</p></td>"
        f'<td class="wire">{"".join(moved)}</td></tr>'
    )


def _call_row(ill: Illustration, c: Call) -> str:
    failed = " failed" if c.status.failed else ""
    params = ", ".join(f"{_e(k)}={_e(v)}" for k, v in c.params)
    after = ", ".join(f"{_e(k)}={_e(v)}" for k, v in c.after)
    notes = "".join(f"<li>{_e(n)}</li>" for n in c.notes)
    failure = f'<p class="note">{_e(c.failure)}</p>' if c.failure else ""
    flights = "".join(_flight_links(ill, i) for i in c.flights)
    return (
        f'<tr class="call" id="call-{c.index}"><td class="sspi"><b>{_e(c.function)}</b> \u21d2 '
        f'<span class="status{failed}">{_e(c.status)}</span>'
        f'<p class="meaning">{_e(c.meaning)}</p>{failure}'
        f'<details><summary>parameters</summary><div class="mono">({params})'
        f"{'<br>after: ' + after if after else ''}</div></details>"
        f'<ul class="notes">{notes}</ul></td><td class="wire">{flights}</td></tr>'
    )


def _ladder(ill: Illustration) -> str:
    rows = []
    if ill.calls:
        run: list[Call] = []

        def flush() -> None:
            elided = any(ill.flights[i].elided for c in run for i in c.flights)
            if len(run) > 1 and elided:
                rows.append(_summary_row(ill, run))
            else:
                rows.extend(_call_row(ill, c) for c in run)
            run.clear()

        for c in ill.calls:
            if _quiet(ill, c):
                run.append(c)
                continue
            flush()
            rows.append(_call_row(ill, c))
        flush()
    else:
        for i, f in enumerate(ill.flights):
            rows.append(
                f'<tr><td class="sspi">flight {i + 1}: {_direction_text(f.direction)}</td>'
                f'<td class="wire">{_flight_links(ill, i)}</td></tr>'
            )
    return (
        '<table class="ladder"><thead><tr><th>SSPI call, status and what it means</th>'
        "<th>records it moved (client \u2192 server on the left, server \u2192 client on the right)</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


# --- the key schedule --------------------------------------------------------------------


def _key(ill: Illustration, node: KeyNode, show_secrets: bool, depth: int) -> str:
    if node.value is None:
        value = '<span class="secret-hidden">unknown</span>'
    elif node.secret and not show_secrets:
        value = f'<span class="secret-hidden">{len(node.value)} bytes (hidden)</span>'
    else:
        value = f'<code class="val">{node.value.hex()}</code>'
    check = ""
    if node.check is True:
        check = f' <span class="ok" title="{_e("equals " + node.checked_against)}">\u2713 checked</span>'
    elif node.check is False:
        check = f' <span class="bad" title="{_e("differs from " + node.checked_against)}">\u2717 differs</span>'
    body = [f"<div><b>{_e(node.op)}</b>: <code>{_e(node.formula)}</code></div>"]
    if node.label:
        body.append(f'<div>label: <code>"{_e(node.label)}"</code></div>')
    if node.context:
        ctx = f"<div>context: {_e(node.context)}"
        if node.context_value:
            ctx += f' = <code class="val">{node.context_value.hex()}</code>'
        if node.messages:
            links = ", ".join(
                f'<a href="#msg-{i}">{_e(ill.messages[i].name)}</a>' for i in node.messages
            )
            ctx += f"<br>covers: {links}"
        body.append(ctx + "</div>")
    body.append(f"<div>output: {value}</div>")
    if node.checked_against and node.check is not None:
        body.append(f"<div>compared with {_e(node.checked_against)}</div>")
    children = "".join(_key(ill, c, show_secrets, depth + 1) for c in node.children)
    opened = " open" if depth == 0 else ""
    return (
        f'<details class="key" id="{_anchor(node.name)}"{opened}><summary><b>{_e(node.name)}</b> '
        f'<span class="len">{_e(node.op)}</span>{check}</summary>'
        f'<div class="keybody">{"".join(body)}</div>{children}</details>'
    )


def _messages(ill: Illustration) -> str:
    items = []
    for i, m in enumerate(ill.messages):
        where = (
            f' in <a href="#rec-{m.record}">record #{m.record}</a>' if m.record is not None else ""
        )
        items.append(
            f'<li id="msg-{i}">{_direction_text(m.direction)}: <b>{_e(m.name)}</b> ({len(m.data)} bytes){where}</li>'
        )
    return f'<ol class="messages" start="0">{"".join(items)}</ol>'


def render_html(ill: Illustration, show_secrets: bool = False) -> str:
    """The page for ``ill``; secret values only with ``show_secrets``."""
    if show_secrets:
        banner = (
            '<div class="banner shown" id="secrets-banner">This page shows secret values: traffic secrets, '
            "keys and IVs. Anyone holding it can decrypt this connection (and a capture of it).</div>"
        )
    else:
        banner = (
            '<div class="banner hidden" id="secrets-banner">Secret values are hidden: the key schedule shows '
            "each step's label, context and output length, not its bytes (re-run with --show-secrets to "
            "print them). The records below are decrypted with the connection's own keys.</div>"
        )
    facts = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in ill.facts)
    notes = "".join(f'<p class="note">{_e(n)}</p>' for n in ill.notes)
    shown_app = sum(len(f.records) for f in ill.flights)
    elided = sum(f.elided for f in ill.flights)
    keys = "".join(_key(ill, root, show_secrets, 0) for root in ill.key_schedule)
    records = "".join(_record(r, ill.calls) for r in ill.records)
    kind = "TLS 1.2 PRF" if ill.version == 0x0303 else "TLS 1.3 key schedule (RFC 8446 section 7.1)"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(ill.title)}</title><style>{_CSS}</style></head><body>"
        f'<header><h1>{_e(ill.title)}</h1><dl class="facts">{facts}'
        f"<dt>records</dt><dd>{shown_app} shown, {elided} more application_data records counted only</dd></dl>"
        f'{banner}{notes}<nav><a href="#ladder">ladder</a><a href="#records">records</a>'
        '<a href="#messages">handshake messages</a><a href="#keys">key schedule</a></nav></header>'
        f'<section id="ladder"><h2>The ladder</h2>{_ladder(ill)}</section>'
        '<section id="records"><h2>Records, byte by byte</h2><p>Click a field name or a byte: the field\'s '
        "bytes light up and its name shows under the dump. Protected records appear twice: as sent, "
        f"and decrypted.</p>{records}</section>"
        f'<section id="messages"><h2>Handshake messages (the transcript)</h2>{_messages(ill)}</section>'
        f'<section id="keys"><h2>{kind}</h2><p>Each step names its inputs; open a step to see '
        "its children. \u2713 marks a value this page recomputed that equals the TLS client's own "
        f"(or the Finished on the wire).</p>{keys}</section>"
        f"<script>{_SCRIPT}</script></body></html>"
    )


def write_html(ill: Illustration, path: str | Path, show_secrets: bool = False) -> Path:
    """Write the page to ``path`` (UTF-8) and return the path."""
    target = Path(path)
    target.write_text(render_html(ill, show_secrets), encoding="utf-8")
    return target
