"""The illustrated connection's page in a real browser: headless Chromium (issue 26).

Debian's ``chromium`` and ``chromium-driver`` drive the page through
:mod:`tests.support.webdriver` (no PyPI package).  Without them the tests skip,
except in CI (CI=true), where they fail: CI installs both.  The screenshot of
the RFC 8448 page is kept under ``build/illustrate/`` as CI's artefact.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from schannel_py import illustrate
from schannel_py.illustrate import dissect as D
from tests.support import vectors
from tests.support.paths import ROOT
from tests.support.webdriver import Browser, require_browser

ARTEFACTS = ROOT / "build" / "illustrate"

#: What the page's script says is highlighted: the selected spans' hex, in order.
_HIGHLIGHTED = """
return Array.from(arguments[0].querySelectorAll('.hex span.hl'))
    .map(function (s) { return s.textContent; }).join(' ');
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium, driver = require_browser()
    with Browser(chromium, driver) as b:
        yield b


@pytest.fixture(scope="module")
def rfc8448_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    page = tmp_path_factory.mktemp("page") / "rfc8448.html"
    illustrate.write_html(illustrate.from_replay("rfc8448"), page, show_secrets=True)
    return page


def _errors(entries: list[dict[str, object]]) -> list[dict[str, object]]:
    return [e for e in entries if e.get("level") in ("SEVERE", "ERROR")]


def test_page_loads_without_console_errors(browser: Browser, rfc8448_page: Path) -> None:
    browser.console()  # drop anything from before
    browser.open(rfc8448_page)
    assert browser.script("return document.title").startswith("RFC 8448")
    assert browser.script("return document.readyState") == "complete"
    # The page asked for nothing: one document, no other resource.
    assert browser.script("return performance.getEntriesByType('resource').length") == 0
    assert _errors(browser.console()) == []
    browser.screenshot(ARTEFACTS / "rfc8448.png")
    assert (ARTEFACTS / "rfc8448.png").stat().st_size > 10_000


def test_clicking_a_client_hello_extension_highlights_exactly_its_bytes(
    browser: Browser, rfc8448_page: Path
) -> None:
    record = bytes.fromhex(
        vectors.load_json("rfc8448")["Simple_1RTT_Handshake"]["Record_ClientHello_1"]
    )
    browser.open(rfc8448_page)
    # Where each extension sits, read from the record independently of the page:
    # after the record header (5), handshake header (4), version (2), random (32),
    # session id, cipher suites, compression methods and the extensions' length.
    pos = 5 + 4 + 2 + 32
    pos += 1 + record[pos]
    pos += 2 + int.from_bytes(record[pos : pos + 2], "big")
    pos += 1 + record[pos]
    pos += 2
    spans: dict[int, bytes] = {}
    while pos < len(record):
        code = int.from_bytes(record[pos : pos + 2], "big")
        n = int.from_bytes(record[pos + 2 : pos + 4], "big")
        spans[code] = record[pos : pos + 4 + n]
        pos += 4 + n
    view = browser.find('#rec-0 .view[data-view="wire"]')
    for code, name in ((0, "server_name"), (51, "key_share"), (43, "supported_versions")):
        button = browser.find(f'#rec-0 button[data-name="extension: {name}"]')
        browser.click(button)
        shown = browser.script(_HIGHLIGHTED, view).split()
        assert bytes.fromhex("".join(shown)) == spans[code], name
        info = browser.script("return arguments[0].querySelector('.info').textContent", view)
        assert info == f"extension: {name} ({len(spans[code])} bytes)"
    # Hovering a field outlines its bytes the same way, without selecting it.
    browser.hover(browser.find('#rec-0 button[data-name="extension: supported_versions"]'))
    hovered = browser.script(
        "return Array.from(arguments[0].querySelectorAll('.hex span.hov'))"
        ".map(function (s) { return s.textContent; }).join(' ');",
        view,
    )
    assert bytes.fromhex("".join(hovered.split())) == spans[43]
    # Clicking one byte selects its leaf field alone: the record header's content type.
    first = browser.find('#rec-0 .hex span[data-f="r0w-0-0"]')
    browser.click(first)
    assert browser.script(_HIGHLIGHTED, view) == "16"
    assert _errors(browser.console()) == []


def test_key_schedule_tree_expands(browser: Browser, rfc8448_page: Path) -> None:
    browser.open(rfc8448_page)
    is_open = "return document.getElementById(arguments[0]).open"
    visible = "return document.getElementById(arguments[0]).checkVisibility()"
    assert browser.script(is_open, "key-early_secret") is True
    assert browser.script(is_open, "key-derived-early") is False
    assert browser.script(visible, "key-handshake_secret") is False
    browser.click(browser.find("#key-derived-early > summary"))
    assert browser.script(is_open, "key-derived-early") is True
    assert browser.script(visible, "key-handshake_secret") is True
    browser.click(browser.find("#key-handshake_secret > summary"))
    assert browser.script(visible, "key-client_handshake_traffic_secret") is True
    browser.click(browser.find("#key-client_handshake_traffic_secret > summary"))
    text = browser.script(
        "return document.getElementById('key-client_handshake_traffic_secret').innerText"
    )
    # RFC 8448 section 3's client handshake traffic secret, and its label.
    assert "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21" in text
    assert '"c hs traffic"' in text
    assert _errors(browser.console()) == []


def test_every_field_button_highlights_bytes(browser: Browser, rfc8448_page: Path) -> None:
    """Each field of the ClientHello, clicked, lights up as many bytes as the field has."""
    ill = illustrate.from_replay("rfc8448")
    browser.open(rfc8448_page)
    fields = list(D.walk(ill.records[0].wire.fields))
    sizes = browser.script(
        """
        var view = document.querySelector('#rec-0 .view[data-view="wire"]');
        return Array.from(view.querySelectorAll('button[data-f]')).map(function (b) {
            b.click();
            var n = 0;
            view.querySelectorAll('.hex span.hl').forEach(function (s) {
                n += parseInt(s.getAttribute('data-n'), 10);
            });
            return n;
        });
        """
    )
    assert sizes == [f.size for f in fields]
