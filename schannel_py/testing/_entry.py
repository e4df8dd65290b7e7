"""The ``pytest11`` entry point: a switch and an option, nothing else unless switched on.

Installing schannel_py registers this module with pytest; it only adds the
``schannel_py_testing`` ini switch and the ``--schannel-py-testing`` /
``--schannel-py-seed`` options.  When the switch or the flag is on, it loads
:mod:`schannel_py.testing.plugin` (the fixtures).
"""

from __future__ import annotations

import pytest

PLUGIN = "schannel_py.testing.plugin"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("schannel_py", "schannel_py testing toolkit")
    group.addoption(
        "--schannel-py-testing",
        action="store_true",
        default=False,
        help=f"load the schannel_py testing fixtures ({PLUGIN})",
    )
    group.addoption(
        "--schannel-py-seed",
        type=int,
        default=0,
        help="seed of the schannel_transport fixture (replays a failing case)",
    )
    parser.addini(
        "schannel_py_testing",
        type="bool",
        default=False,
        help=f"load the schannel_py testing fixtures ({PLUGIN})",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("schannel_py_testing") or config.getini("schannel_py_testing"):
        if not config.pluginmanager.has_plugin(PLUGIN):
            config.pluginmanager.import_plugin(PLUGIN)
