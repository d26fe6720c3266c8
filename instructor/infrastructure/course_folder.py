"""The course folder (solutions/, notebooks/, the gradebook) and nbgrader run on it in-process.

Every nbgrader step goes through `nbgrader.apps.NbGraderAPI` in the calling process: each
`nbgrader` command would pay ~5 s of start-up imports.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat


def find_root(start: Path | None = None) -> Path:
    """The course folder: the nearest folder at or above `start` holding nbgrader_config.py and
    solutions/ (the working directory by default)."""
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "nbgrader_config.py").is_file() and (folder / "solutions").is_dir():
            return folder
    raise ValueError(
        f"no course found at or above {here}: expected nbgrader_config.py and "
        f"solutions/ (run from the course folder, or pass --root)"
    )


def assignments(root: Path) -> list[str]:
    """Assignment ids: every folder of solutions/ holding a notebook, in teaching order."""
    return sorted(
        p.name for p in (root / "solutions").iterdir() if p.is_dir() and any(p.glob("*.ipynb"))
    )


def notebook_path(folder: Path, assignment: str) -> Path:
    """The one notebook of an assignment inside solutions/ or notebooks/."""
    found = sorted((folder / assignment).glob("*.ipynb"))
    if len(found) != 1:
        raise ValueError(f"expected one notebook in {folder / assignment}, found {found}")
    return found[0]


def course_config(root: Path):
    """The course's nbgrader_config.py at `root`; it derives its root and gradebook from there."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()


def course_api(root: Path, config=None):
    """An NbGraderAPI for the course at `root`, configured by its nbgrader_config.py (or by
    `config`, a variant of it)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    config = config or course_config(root)
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def db_url(root: Path) -> str:
    return course_config(root).CourseDirectory.db_url


def source_notebook_path(config, resources: dict) -> Path:
    """The instructor's version (in solutions/) of the notebook nbgrader is working on;
    `resources` is the dict nbgrader passes its preprocessors."""
    from nbgrader.coursedir import CourseDirectory

    info = resources["nbgrader"]
    coursedir = CourseDirectory(config=config)
    return (
        Path(coursedir.format_path(coursedir.source_directory, ".", info["assignment"]))
        / f"{info['notebook']}.ipynb"
    )


def read(path: Path):
    return nbformat.read(path, as_version=4)
