"""The code is ruff clean and ruff formatted (the rules in pyproject.toml), so that layout is never
a review topic. Notebook sources (solutions/, notebooks/) are checked by their own tests."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from course_tools import ROOT


def _ruff(*args: str) -> subprocess.CompletedProcess:
    ruff = shutil.which("ruff") or shutil.which("ruff", path=str(ROOT / ".venv" / "bin"))
    command = [ruff] if ruff else [sys.executable, "-m", "ruff"]
    return subprocess.run([*command, *args], cwd=ROOT, capture_output=True, text=True)


@pytest.mark.parametrize(
    "args, fix",
    [(("check", "."), "ruff check --fix ."), (("format", "--check", "."), "ruff format .")],
)
def test_ruff(args, fix):
    out = _ruff(*args)
    assert out.returncode == 0, (
        f"`ruff {' '.join(args)}` found:\n{out.stdout[-3000:]}\nRun `{fix}`."
    )
