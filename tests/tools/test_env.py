"""schannel_py._env.getenv answers what os.environ holds at the moment of the call."""

from __future__ import annotations

import os

import pytest

from schannel_py._env import getenv


def test_follows_os_environ_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    name = "SCHANNEL_PY_TEST_ENV_PROBE"
    monkeypatch.delenv(name, raising=False)
    assert getenv(name) is None
    monkeypatch.setenv(name, "first")
    assert getenv(name) == "first"
    os.environ[name] = "second"
    assert getenv(name) == "second"
    del os.environ[name]
    assert getenv(name) is None
    monkeypatch.setenv(name, "")
    assert getenv(name) == ""  # set but empty is not unset


def test_agrees_with_os_environ_for_every_variable() -> None:
    for name in list(os.environ)[:200]:
        assert getenv(name) == os.environ.get(name)


def test_a_replaced_os_environ_is_followed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "environ", {"SCHANNEL_PY_TEST_ENV_PROBE": "replaced"})
    assert getenv("SCHANNEL_PY_TEST_ENV_PROBE") == "replaced"
    assert getenv("HOME_NOT_IN_THE_REPLACEMENT") is None
