"""A dependency's deprecation warning raised from the package's code fails the tests
(issue 18): the next API change is seen before it breaks users."""

from __future__ import annotations

import warnings

import pytest

from tests.support.package import PACKAGE_DIR, is_package_file

RECORD_PY = str(PACKAGE_DIR / "tls" / "record.py")


def warn_from_package(message: str) -> None:
    """What cryptography does when our code calls something it deprecates: the
    warning is attributed to the package's line that made the call."""
    warnings.warn_explicit(message, UserWarning, RECORD_PY, 1, module="schannel_py.tls.record")


def test_a_package_warning_is_recorded_even_where_the_package_swallows_errors(
    package_warnings: list[warnings.WarningMessage],
) -> None:
    try:  # the shape of the package's checks around cryptography calls
        warn_from_package("DSA is deprecated")
    except Exception:
        pytest.fail("the warning was raised as an error inside the test body")
    ours = [w for w in package_warnings if is_package_file(w.filename)]
    assert [str(w.message) for w in ours] == ["DSA is deprecated"]
    package_warnings.clear()  # this test's own probe must not fail it


def test_the_configured_filter_makes_package_warnings_errors(
    pytestconfig: pytest.Config,
) -> None:
    """Outside the fixture (imports, session fixtures) pyproject's filter applies."""
    ours = [f for f in pytestconfig.getini("filterwarnings") if f.endswith(":schannel_py")]
    assert len(ours) == 1
    action, message, category, module = ours[0].split(":")
    assert (action, message, category) == ("error", "", "")  # every warning, any category
    with warnings.catch_warnings():
        warnings.filterwarnings(action, message, Warning, module)
        with pytest.raises(UserWarning):
            warn_from_package("deprecated")


def test_warnings_from_elsewhere_are_not_the_packages() -> None:
    assert is_package_file(RECORD_PY)
    assert not is_package_file(__file__)
    assert not is_package_file(warnings.__file__)
