"""A student-only copy of the course: notebooks/, helpers/ and a student README.

For instructors who keep `solutions/` (model answers and hidden tests) private: the published
copy is what students clone or open in Colab. It is written to a folder, or committed to a
branch of the course's git repository without touching the working tree. Its notebooks' Colab
badges and set-up cells point at the copy's own address (`instructor.infrastructure.stamp`). Before
anything is written, every file is checked for solution and hidden-test markers.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from instructor.infrastructure import stamp
from instructor.records.cells import INSTRUCTOR_MARKERS

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


# In a folder that `publish` wrote: the files it wrote there, one relative path per line. A
# later publish replaces exactly these and never touches anything else (a clone's .git, files the
# instructor added).
MANIFEST = ".rnn-course-published"


def _stage(root: Path, dest: Path, where: stamp.Address) -> list[str]:
    """Write the student copy into the new folder `dest`; return its files' relative paths
    (posix), sorted. Raises RuntimeError, writing nothing more, when a file holds instructor
    markers."""
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
        raise RuntimeError(
            "refusing to publish; solution, hidden-test or mistake-catalogue "
            "markers in:\n  " + "\n  ".join(leaks)
        )
    return [p.relative_to(dest).as_posix() for p in files]


def _refuse_unsafe(root: Path, dest: Path) -> None:
    """Raise ValueError when `dest` is the course, holds it, or lies in what publish copies."""
    root, dest = root.resolve(), dest.resolve()
    if dest == root or root.is_relative_to(dest):
        raise ValueError(
            f"refusing to publish into {dest}: it holds the course itself ({root}). Publish into "
            "a clone of the student repository or a new folder outside the course"
        )
    for inside in ("notebooks", "helpers", "solutions"):
        if dest.is_relative_to(root / inside):
            raise ValueError(
                f"refusing to publish into {dest}: it lies inside the course's {inside}/"
            )
    if dest.exists() and not dest.is_dir():
        raise ValueError(f"refusing to publish into {dest}: it is a file, not a folder")


def _through_link(dest: Path, relative: str) -> str | None:
    """The first part of `dest / relative` (below dest) that is a symbolic link, or None."""
    here = dest
    for part in Path(relative).parts:
        here = here / part
        if here.is_symlink():
            return here.relative_to(dest).as_posix()
    return None


def previously_published(dest: Path) -> set[str]:
    """The files an earlier publish wrote into `dest` (its manifest), or an empty set. Entries
    that are not plain relative paths inside `dest` are ignored."""
    manifest = dest / MANIFEST
    if manifest.is_symlink():
        raise ValueError(
            f"refusing to publish into {dest}: its {MANIFEST} is a symbolic link; publish "
            "follows no link, so remove it"
        )
    if not manifest.is_file():
        return set()
    entries = set()
    for line in manifest.read_text(errors="replace").splitlines():
        path = Path(line)
        if line and not path.is_absolute() and ".." not in path.parts:
            entries.add(path.as_posix())
    return entries


def build(root: Path, dest: Path, where: stamp.Address | None = None) -> list[Path]:
    """Write the student copy into `dest`; return the files written.

    `dest` may be new, or a folder such as a clone of the student repository: publish writes
    notebooks/, helpers/, README.md, pyproject.toml and LICENSE there and deletes nothing it did
    not write. A later publish into the same folder replaces the files the earlier one wrote
    (listed in `MANIFEST`), including ones the new copy no longer has, and leaves every other
    file alone (`.git` included). It refuses, writing nothing, when a file it would write is
    already there and an earlier publish did not write it, when `dest` is or holds the course,
    and when a file of the copy holds instructor markers.

    where: the address the copy will have, which its Colab badges open and its set-up cells
    install (default: the course's configured student edition,
    `instructor.infrastructure.stamp.configured`).
    """
    where = where or stamp.configured(root)
    _refuse_unsafe(root, dest)
    with tempfile.TemporaryDirectory() as scratch:
        staged = Path(scratch) / "copy"
        written = _stage(root, staged, where)
        previous = previously_published(dest)
        links = sorted({link for p in {*written, *previous} if (link := _through_link(dest, p))})
        if links:
            raise ValueError(
                f"refusing to publish into {dest}: {', '.join(links)} is a symbolic link, and "
                "publish writes and deletes nothing through a link (it could reach outside "
                f"{dest}): replace it with a real folder or file, or publish into a new folder"
            )
        foreign = [p for p in written if (dest / p).exists() and p not in previous]
        if foreign:
            shown = "\n  ".join(foreign[:10]) + ("\n  ..." if len(foreign) > 10 else "")
            raise ValueError(
                f"refusing to publish into {dest}: {len(foreign)} file(s) the copy would write "
                f"are there already and no earlier publish wrote them:\n  {shown}\n"
                "publish never overwrites a file it did not write: move them away, or publish "
                "into a new folder"
            )
        for stale in sorted(previous - set(written)):
            _remove_file(dest, dest / stale)
        for relative in written:
            target = dest / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(staged / relative, target)
        (dest / MANIFEST).write_text("".join(f"{p}\n" for p in written))
    return [dest / p for p in written]


def _remove_file(dest: Path, path: Path) -> None:
    """Delete one file an earlier publish wrote, then its folders up to `dest` once empty."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    folder = path.parent
    while folder != dest and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


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


HELP = "write a student-only copy of the course"


def add_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "dest",
        nargs="?",
        help="folder to write: a clone of the student repository, or a new folder (nothing "
        "publish did not write there is changed or deleted)",
    )
    sub.add_argument(
        "--branch",
        help="commit the copy to this git branch of the course's repository instead, to push "
        "to the student repository (never to the course's own remote)",
    )
    sub.add_argument(
        "--github",
        default=None,
        help="owner/name[@ref] on GitHub where the copy will live, which its Colab "
        "badges open and its set-up cells install (default: the student edition in "
        'pyproject.toml, [project.urls] "Student edition", at the --branch or the configured ref)',
    )


def run(args: argparse.Namespace) -> int:
    if bool(args.dest) == bool(args.branch):
        raise ValueError("publish needs a destination folder or --branch, not both")
    where = address(args.root, args.github, args.branch)
    if args.branch:
        commit = to_branch(args.root, args.branch, where)
        print(f"published the student edition to branch {args.branch} ({commit[:10]})")
    else:
        files = build(args.root, Path(args.dest), where)
        print(f"published the student edition ({len(files)} files) to {args.dest}")
    print(f"its Colab badges open and its set-up cells install {where.url()} at {where.ref}")
    return 0
