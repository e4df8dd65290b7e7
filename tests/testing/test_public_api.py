"""Every public name of the toolkit is documented: a docstring, and a row of docs/testing.md."""

from __future__ import annotations

import inspect
import typing
from pathlib import Path

import pytest

import schannel_py.testing as toolkit
from schannel_py.testing import attacks

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
REFERENCE = GUIDE.read_text(encoding="utf-8").split("## Reference: the public names", 1)[-1]


def _public(module: object) -> list[tuple[str, object]]:
    return [(name, getattr(module, name)) for name in module.__all__]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "obj"), _public(toolkit) + _public(attacks), ids=lambda v: str(v)[:40]
)
def test_named_in_the_reference_and_documented(name: str, obj: object) -> None:
    assert f"`{name}`" in REFERENCE, f"{name} has no row in docs/testing.md's reference"
    if typing.get_origin(obj) is not None:
        return  # a type alias (Literal, Callable) has no docstring; the reference spells it out
    if inspect.isclass(obj) or inspect.isfunction(obj) or inspect.ismodule(obj):
        assert (obj.__doc__ or "").strip(), f"{name} has no docstring"
