"""A minimal W3C WebDriver client for Debian's chromedriver, over 127.0.0.1 only.

The browser tests need a real headless Chromium and nothing from PyPI: this
module starts ``chromedriver`` (Debian package ``chromium-driver``) on a free
loopback port and speaks the W3C WebDriver protocol to it with ``urllib``.
:func:`find_browser` says where the two programs are; :func:`require_browser`
skips a test without them, or fails it in CI, where they must be installed.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.support import peers

#: No proxy, whatever the environment says: chromedriver is on 127.0.0.1.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

#: W3C WebDriver's key for an element reference.
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


def find_browser() -> tuple[str, str] | None:
    """(chromium, chromedriver) paths, from SCHANNEL_PY_CHROMIUM / SCHANNEL_PY_CHROMEDRIVER or PATH."""
    chromium = os.environ.get("SCHANNEL_PY_CHROMIUM") or shutil.which("chromium")
    driver = os.environ.get("SCHANNEL_PY_CHROMEDRIVER") or shutil.which("chromedriver")
    if chromium and driver:
        return chromium, driver
    return None


def require_browser() -> tuple[str, str]:
    found = find_browser()
    if found is None:
        peers.unavailable(
            "headless Chromium not found (Debian: apt-get install chromium chromium-driver)"
        )
    return found


class Browser:
    """One headless Chromium session driven through chromedriver."""

    def __init__(self, chromium: str, driver: str, width: int = 1280, height: int = 900) -> None:
        self.port = peers.free_port()
        self._proc = subprocess.Popen(
            [driver, f"--port={self.port}", "--allowed-ips=127.0.0.1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                self._call("GET", "/status")
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline or self._proc.poll() is not None:
                    self._proc.kill()
                    raise RuntimeError("chromedriver did not start") from None
                time.sleep(0.1)
        caps = {
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": chromium,
                        "args": [
                            "--headless=new",
                            "--no-sandbox",
                            "--disable-gpu",
                            "--disable-dev-shm-usage",
                            f"--window-size={width},{height}",
                        ],
                    },
                    "goog:loggingPrefs": {"browser": "ALL"},
                }
            }
        }
        try:
            self.session = self._call("POST", "/session", caps)["sessionId"]
        except Exception:
            self._proc.kill()
            raise

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        with _OPENER.open(req, timeout=60) as resp:
            return json.loads(resp.read() or b"{}").get("value")

    def cmd(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._call(method, f"/session/{self.session}{path}", body)

    def open(self, path: Path) -> None:
        self.cmd("POST", "/url", {"url": path.resolve().as_uri()})

    def script(self, source: str, *args: Any) -> Any:
        return self.cmd("POST", "/execute/sync", {"script": source, "args": list(args)})

    def find(self, css: str) -> dict[str, str]:
        found: dict[str, str] = self.cmd(
            "POST", "/element", {"using": "css selector", "value": css}
        )
        return found

    def click(self, element: dict[str, str]) -> None:
        self.script("arguments[0].scrollIntoView({block: 'center'})", element)
        self.cmd("POST", f"/element/{element[ELEMENT]}/click", {})

    def hover(self, element: dict[str, str]) -> None:
        """Move the mouse onto ``element`` (its centre)."""
        self.script("arguments[0].scrollIntoView({block: 'center'})", element)
        move = {"type": "pointerMove", "duration": 0, "origin": element, "x": 0, "y": 0}
        pointer = {
            "type": "pointer",
            "id": "mouse",
            "parameters": {"pointerType": "mouse"},
            "actions": [move],
        }
        self.cmd("POST", "/actions", {"actions": [pointer]})

    def console(self) -> list[dict[str, Any]]:
        """The browser console's entries since the last call (chromedriver's log)."""
        entries: list[dict[str, Any]] = self.cmd("POST", "/se/log", {"type": "browser"})
        return entries

    def screenshot(self, target: Path) -> Path:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(self.cmd("GET", "/screenshot")))
        return target

    def close(self) -> None:
        try:
            self.cmd("DELETE", "")
        except Exception:
            pass
        finally:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()

    def __enter__(self) -> Browser:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
