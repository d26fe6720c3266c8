"""A student-only copy of the course: notebooks/, helpers/ and a student README.

For instructors who keep `solutions/` (model answers and hidden tests) private: the published
copy is what students clone or open in Colab. It is written to a folder, or committed to a
branch of the course's git repository without touching the working tree. Its notebooks' Colab
badges and set-up cells point at the copy's own address (`instructor.stamp`). Before anything
is written, every file is checked for solution and hidden-test markers.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from instructor import stamp
from instructor.cells import INSTRUCTOR_MARKERS

STUDENT_README = """# {title}: student edition

The notebooks of the course, ready to work through: open one in Colab with its badge, or set up
locally and start JupyterLab:

```bash
python -m pip install "torch==2.13.0" -e ".[lab]" && jupyter lab notebooks/
```

Each exercise has a visible check you can run as often as you like. Hidden tests (other shapes,
edge cases, PyTorch as the reference) run when your notebook is graded. Only the code in the
exercise cells (the ones that say `# YOUR CODE HERE`) is graded: put any helper you write there.
"""


def address(root: Path, github: str | None = None, branch: str | None = None) -> stamp.Address:
    """Where a published copy lives: `github` ("owner/name" or "owner/name@ref"), by default
    the course's configured repository; the ref from `github`, else `branch`, else the
    configured ref."""
    configured = stamp.configured(root)
    repo, _, ref = (github or configured.repository).partition("@")
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise ValueError(f"github must look like owner/name or owner/name@ref, got {github!r}")
    return stamp.Address(repo, ref or branch or configured.ref, configured.package)


def _helpers_digest(root: Path) -> str:
    """A short digest of helpers/*.py: the published version's local label, so that a copy
    with other helpers has another version (pip keeps an installed copy of the same version)."""
    digest = hashlib.sha256()
    for path in sorted((root / "helpers").rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:10]


def _student_pyproject(root: Path, where: stamp.Address) -> str:
    """The copy's pyproject.toml: helpers alone, the course's run-time dependencies, and the
    [lab] extra for a local JupyterLab."""
    project = stamp.pyproject(root)["project"]

    def toml_list(items: list[str]) -> str:
        return "[\n" + "".join(f'    "{item}",\n' for item in items) + "]"

    lab = project.get("optional-dependencies", {}).get("lab", [])
    return f"""[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "{project["name"]}"
version = "{project["version"]}+{_helpers_digest(root)}"
description = "{project["description"]}"
requires-python = "{project["requires-python"]}"
dependencies = {toml_list(project["dependencies"])}

[project.optional-dependencies]
lab = {toml_list(lab)}

[project.urls]
Repository = "{where.url()}"

[tool.setuptools]
packages = ["helpers"]
"""


def build(root: Path, dest: Path, where: stamp.Address | None = None) -> list[Path]:
    """Write the student copy into `dest` (emptied first); return the files written.

    where: the address the copy will have, which its Colab badges open and its set-up cells
    install (default: the course's configured address, `instructor.stamp.configured`).
    """
    where = where or stamp.configured(root)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copytree(
        root / "notebooks", dest / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints")
    )
    shutil.copytree(
        root / "helpers", dest / "helpers", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    (dest / "pyproject.toml").write_text(_student_pyproject(root, where))
    title = stamp.pyproject(root)["project"]["description"]
    (dest / "README.md").write_text(STUDENT_README.format(title=title.split(":")[0]))
    if (root / "LICENSE").is_file():
        shutil.copy(root / "LICENSE", dest / "LICENSE")
    for notebook in sorted((dest / "notebooks").rglob("*.ipynb")):
        stamp.stamp_file(notebook, where, notebook.relative_to(dest).as_posix())
    files = sorted(p for p in dest.rglob("*") if p.is_file())
    leaks = [
        f"{p.relative_to(dest)}: {m}"
        for p in files
        for m in INSTRUCTOR_MARKERS
        if m in p.read_text(errors="ignore")
    ]
    if leaks:
        shutil.rmtree(dest)
        raise RuntimeError(
            "refusing to publish; solution, hidden-test or mistake-catalogue "
            "markers in:\n  " + "\n  ".join(leaks)
        )
    return files


def to_branch(
    root: Path,
    branch: str,
    where: stamp.Address | None = None,
    message: str = "Publish the student edition",
) -> str:
    """Commit the student copy to `branch` of the git repository at root (created if missing),
    leaving the working tree and the current branch alone. Returns the new commit id.

    where: the copy's address (default: the course's repository at `branch`)."""
    where = where or address(root, branch=branch)

    def git(*args: str, env: dict | None = None) -> str:
        return subprocess.run(
            ["git", *args],
            cwd=root,
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
        ).stdout.strip()

    with tempfile.TemporaryDirectory() as scratch:
        tree_dir = Path(scratch) / "tree"
        build(root, tree_dir, where)
        env = {"GIT_INDEX_FILE": str(Path(scratch) / "index"), "GIT_WORK_TREE": str(tree_dir)}
        git("add", "--all", ".", env=env)
        tree = git("write-tree", env=env)
        parent = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"],
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.strip()
        commit = git("commit-tree", tree, "-m", message, *(["-p", parent] if parent else []))
        git("update-ref", f"refs/heads/{branch}", commit)
    return commit
