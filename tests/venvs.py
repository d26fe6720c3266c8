"""Clean virtual environments for the tests that play a user on another machine (a Colab
runtime, a student's laptop), cached between runs.

A venv is built once per set of requirements under $RNN_COURSE_VENVS (default
~/.cache/rnn-course/venvs), in a folder named by a digest of what it holds, and reused while it
holds exactly the distributions it held when it was built; anything else (a run that died after
installing the course into it, say) gets it rebuilt. A venv of the same name unused for
`STALE_DAYS` (built for requirements since changed) is removed when a new one is built. CI
points RNN_COURSE_VENVS at an empty folder, so that there every venv is built from scratch.
Everything runs through `<venv>/bin/python -m ...`: a venv built in a scratch folder and then
moved keeps working.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

CONTENTS = "rnn-course-contents.json"
STALE_DAYS = 2


def home() -> Path:
    return Path(os.environ.get("RNN_COURSE_VENVS") or Path.home() / ".cache/rnn-course/venvs")


def python(venv: Path) -> Path:
    return venv / "bin" / "python"


def run(venv: Path, *args: str, timeout: float = 900, **kwargs) -> subprocess.CompletedProcess:
    """`<venv>/bin/python ARGS` with the course's checkout off the path (no PYTHONPATH)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(kwargs.pop("env", {}))
    return subprocess.run(
        [str(python(venv)), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        **kwargs,
    )


def installed(venv: Path) -> dict[str, str]:
    """name (lower case) -> version of every distribution in the venv."""
    out = run(venv, "-m", "pip", "list", "--format=json", timeout=120)
    if out.returncode:
        raise RuntimeError(f"pip list failed in {venv}:\n{out.stderr}")
    return {d["name"].lower(): d["version"] for d in json.loads(out.stdout)}


def cached(
    name: str, requirements: list[str], pip: str | None = None, salt: str = ""
) -> tuple[Path, float]:
    """A venv in which `pip install REQUIREMENTS` ran (pip `pip` first, or the venv's own pip
    when None; `salt`: anything else its contents depend on, such as a pyproject.toml); and the
    seconds spent building it (0.0 when the cache held it)."""
    key = json.dumps([sys.version, pip, requirements, salt])
    venv = home() / f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"
    if (venv / CONTENTS).is_file():
        try:
            if installed(venv) == json.loads((venv / CONTENTS).read_text()):
                (venv / CONTENTS).touch()  # in use: not stale
                return venv, 0.0
        except (RuntimeError, OSError, ValueError, subprocess.SubprocessError):
            pass
    for old in venv.parent.glob(f"{name}-*"):
        if old != venv and (
            not (old / CONTENTS).is_file()
            or time.time() - (old / CONTENTS).stat().st_mtime > STALE_DAYS * 86400
        ):
            shutil.rmtree(old, ignore_errors=True)
    start = time.monotonic()
    scratch = venv.with_name(f".{venv.name}-{os.getpid()}")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.parent.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", str(scratch)],
            check=True,
            capture_output=True,
            timeout=300,
        )
        steps = [[f"pip=={pip}"]] if pip else []
        steps.append(list(requirements))
        for step in steps:
            out = run(scratch, "-m", "pip", "install", "--quiet", *step)
            if out.returncode:
                raise RuntimeError(f"pip install {' '.join(step)} failed:\n{out.stderr[-3000:]}")
        (scratch / CONTENTS).write_text(json.dumps(installed(scratch)))
        shutil.rmtree(venv, ignore_errors=True)
        scratch.rename(venv)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return venv, time.monotonic() - start
