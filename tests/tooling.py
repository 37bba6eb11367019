"""Tools the tests need from the machine (LibreOffice, Chromium, weed, Redis, PostgreSQL).

Locally a missing tool skips the tests that need it, with the command that installs it.
In CI (`COLLATERAL_REQUIRE_TOOLS=1`, set by .ci/run) a missing tool fails instead,
so nothing is silently skipped.
"""

from __future__ import annotations

import os
import shutil

import pytest

REQUIRE_TOOLS = os.environ.get("COLLATERAL_REQUIRE_TOOLS", "") not in ("", "0", "false")


def missing(what: str, install_hint: str) -> None:
    """Skip (locally) or fail (in CI) because `what` is not available."""
    message = f"{what} is not available; install it with: {install_hint}"
    if REQUIRE_TOOLS:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def require_executable(name: str, install_hint: str) -> str:
    path = shutil.which(name)
    if path is None:
        missing(f"the executable {name!r}", install_hint)
    return path
