"""A student-only copy of the course: notebooks/, helpers/ and a student README.

For instructors who keep `solutions/` (model answers and hidden tests) private: the published
copy is what students clone or open in Colab. It is written to a folder, or committed to a
branch of the course's git repository without touching the working tree. Before anything is
written, every file is checked for solution and hidden-test markers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from instructor.cells import INSTRUCTOR_MARKERS

DEFAULT_GITHUB = "rnn-gradients/rnn-gradients-course"

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


def _project(root: Path) -> dict:
    """The [project] table of the course's pyproject.toml (tomllib: Python 3.11+)."""
    import tomllib

    return tomllib.loads((root / "pyproject.toml").read_text())["project"]


def _student_pyproject(root: Path) -> str:
    project = _project(root)
    deps = ",\n".join(f'    "{d}"' for d in project["dependencies"])
    return f"""[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{project['name']}"
version = "{project['version']}"
description = "{project['description']}"
requires-python = "{project['requires-python']}"
dependencies = [
{deps},
]

[project.optional-dependencies]
lab = ["jupyterlab>=4", "ipykernel>=6"]

[tool.setuptools]
packages = ["helpers"]
"""


def build(root: Path, dest: Path, github: str = DEFAULT_GITHUB) -> list[Path]:
    """Write the student copy into `dest` (emptied first); return the files written.

    github: "owner/name" or "owner/name@branch" the Colab badges and set-up cells point to.
    """
    repo, _, branch = github.partition("@")
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise ValueError(f"github must look like owner/name or owner/name@branch, got {github!r}")
    branch = branch or "main"
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copytree(root / "notebooks", dest / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copytree(root / "helpers", dest / "helpers",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (dest / "pyproject.toml").write_text(_student_pyproject(root))
    title = _project(root)["description"]
    (dest / "README.md").write_text(STUDENT_README.format(title=title.split(":")[0]))
    if (root / "LICENSE").is_file():
        shutil.copy(root / "LICENSE", dest / "LICENSE")
    for notebook in (dest / "notebooks").rglob("*.ipynb"):
        text = notebook.read_text()
        text = text.replace(f"github/{DEFAULT_GITHUB}/blob/main/", f"github/{repo}/blob/{branch}/")
        text = text.replace(f"git+https://github.com/{DEFAULT_GITHUB}",
                            f"git+https://github.com/{repo}@{branch}")
        notebook.write_text(text)
    files = sorted(p for p in dest.rglob("*") if p.is_file())
    leaks = [f"{p.relative_to(dest)}: {m}" for p in files for m in INSTRUCTOR_MARKERS
             if m in p.read_text(errors="ignore")]
    if leaks:
        shutil.rmtree(dest)
        raise RuntimeError("refusing to publish; solution or hidden-test markers in:\n  "
                           + "\n  ".join(leaks))
    return files


def to_branch(root: Path, branch: str, github: str = DEFAULT_GITHUB,
              message: str = "Publish the student edition") -> str:
    """Commit the student copy to `branch` of the git repository at root (created if missing),
    leaving the working tree and the current branch alone. Returns the new commit id."""
    def git(*args: str, env: dict | None = None) -> str:
        return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                              text=True, env={**os.environ, **(env or {})}).stdout.strip()

    with tempfile.TemporaryDirectory() as scratch:
        tree_dir = Path(scratch) / "tree"
        build(root, tree_dir, github)
        env = {"GIT_INDEX_FILE": str(Path(scratch) / "index"), "GIT_WORK_TREE": str(tree_dir)}
        git("add", "--all", ".", env=env)
        tree = git("write-tree", env=env)
        parent = subprocess.run(["git", "rev-parse", "--verify", "--quiet",
                                 f"refs/heads/{branch}"], cwd=root, capture_output=True,
                                text=True).stdout.strip()
        commit = git("commit-tree", tree, "-m", message, *(["-p", parent] if parent else []))
        git("update-ref", f"refs/heads/{branch}", commit)
    return commit

