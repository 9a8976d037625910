"""Programs the tests need from Debian's packages (nginx, chromium): found, or installed.

A test that needs one never skips: it installs the package with apt-get (as `.ci/run` does
before the suite), and fails saying what to install when that is impossible.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def _find(names: tuple[str, ...]) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
        if os.path.isabs(name) and os.access(name, os.X_OK):
            return name
    return None


def debian_program(names: tuple[str, ...], packages: tuple[str, ...], why: str) -> str:
    """The first of `names` found on PATH (or as an absolute path); installs `packages` with
    apt-get when none is."""
    found = _find(names)
    if found:
        return found
    install = ["apt-get", "install", "-y", *packages]
    if shutil.which("apt-get") is None:
        pytest.fail(
            f"{names[0]} is needed ({why}) and is not installed, and apt-get is not available "
            f"to install it: install it first (`{' '.join(install)}` on Debian)",
            pytrace=False,
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    outputs = []
    for attempt in (install, ["apt-get", "update"], install):
        result = subprocess.run(
            attempt, env=env, capture_output=True, text=True, timeout=600, check=False
        )
        outputs.append(f"$ {' '.join(attempt)} -> {result.returncode}\n{result.stderr[-1500:]}")
        if attempt is install and result.returncode == 0:
            found = _find(names)
            if found:
                return found
    pytest.fail(
        f"{names[0]} is needed ({why}) and installing it failed:\n" + "\n".join(outputs),
        pytrace=False,
    )
