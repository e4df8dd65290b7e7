"""Import layering of the TLS core, read from the source (issue 19).

``schannel_py.tls`` is a sans-IO client usable on its own: it imports nothing
from the rest of the package (SSPI, crypt32, tracing).  Inside it, the TLS 1.3
and TLS 1.2 handshakes share what they must through ``client_hello`` and the
client facade, and do not import each other.  Every import statement counts,
those inside functions and ``if TYPE_CHECKING:`` blocks too.
"""

from __future__ import annotations

import ast

from tests.support.package import PACKAGE_DIR

TLS_DIR = PACKAGE_DIR / "tls"
TLS_PACKAGE = "schannel_py.tls"


def imported_modules(source: str, package: str = TLS_PACKAGE) -> set[str]:
    """Absolute names of the modules a source file imports (relative imports
    resolved against ``package``; ``from X import y`` counts X and X.y, since y
    may be a submodule)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def tls_imports(name: str) -> set[str]:
    return imported_modules((TLS_DIR / name).read_text(encoding="utf-8"))


def test_the_resolver_sees_relative_absolute_and_nested_imports() -> None:
    source = (
        "from . import prf\n"
        "from ..sspi import context\n"
        "import schannel_py.crypt32 as c\n"
        "def f():\n"
        "    from .handshake12 import Handshake12\n"
    )
    assert imported_modules(source) >= {
        "schannel_py.tls.prf",
        "schannel_py.sspi",
        "schannel_py.sspi.context",
        "schannel_py.crypt32",
        "schannel_py.tls.handshake12",
    }


def test_the_handshake_modules_do_not_import_each_other() -> None:
    h13 = tls_imports("handshake13.py")
    h12 = tls_imports("handshake12.py")
    assert "schannel_py.tls.handshake12" not in h13
    assert "schannel_py.tls.handshake13" not in h12
    # What they share comes from one module both import.
    assert "schannel_py.tls.client_hello" in h13
    assert "schannel_py.tls.client_hello" in h12


def test_the_tls_package_imports_nothing_else_from_schannel_py() -> None:
    files = sorted(TLS_DIR.glob("*.py"))
    assert len(files) > 10
    outside: dict[str, list[str]] = {}
    for path in files:
        ours = {
            m
            for m in imported_modules(path.read_text(encoding="utf-8"))
            if m == "schannel_py" or m.startswith("schannel_py.")
        }
        bad = sorted(m for m in ours if not (m + ".").startswith(TLS_PACKAGE + "."))
        if bad:
            outside[path.name] = bad
    assert outside == {}
    # The two the brief names, checked explicitly as well.
    for path in files:
        for module in imported_modules(path.read_text(encoding="utf-8")):
            assert not module.startswith(("schannel_py.sspi", "schannel_py.crypt32")), path
