"""Tools the tests and the benchmark share: find assignments, drive nbgrader in one process,
build submissions, and run a notebook's exercise and test cells in-process.

Every nbgrader step goes through `nbgrader.apps.NbGraderAPI` in the calling process: each
`nbgrader` command would pay ~5 s of start-up imports.
"""

from __future__ import annotations

import copy
import json
import shutil
import traceback
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def assignments(root: Path = ROOT) -> list[str]:
    """Assignment ids: every folder of solutions/ holding a notebook, in teaching order."""
    return sorted(p.name for p in (root / "solutions").iterdir()
                  if p.is_dir() and any(p.glob("*.ipynb")))


def notebook_path(folder: Path, assignment: str) -> Path:
    """The one notebook of an assignment inside solutions/ or notebooks/."""
    found = sorted((folder / assignment).glob("*.ipynb"))
    if len(found) != 1:
        raise ValueError(f"expected one notebook in {folder / assignment}, found {found}")
    return found[0]


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def grade_cells(nb) -> dict[str, float]:
    """grade_id -> points, for every graded cell of a notebook."""
    return {nbgrader_meta(c)["grade_id"]: float(nbgrader_meta(c)["points"])
            for c in nb.cells if nbgrader_meta(c).get("grade")}


def copy_course(dest: Path, root: Path = ROOT) -> Path:
    """A scratch copy of the course (sources, helpers, config) where nbgrader may write freely."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(root / "solutions", dest / "solutions",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    shutil.copy(root / "nbgrader_config.py", dest / "nbgrader_config.py")
    return dest


def course_config(root: Path):
    """The course's nbgrader_config.py at `root`; it derives its root and gradebook from there."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()


def course_api(root: Path):
    """An NbGraderAPI for the course at `root`, configured by its nbgrader_config.py."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    config = course_config(root)
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def generate_release(root: Path) -> None:
    """`nbgrader generate_assignment --force` for every assignment of the course at root."""
    api = course_api(root)
    for assignment in assignments(root):
        result = api.generate_assignment(assignment, force=True)
        if not result["success"]:
            raise RuntimeError(f"generate_assignment {assignment} failed:\n{result['log']}\n"
                               f"{result.get('error', '')}")


def strip_markers(source: str) -> str:
    return "\n".join(line for line in source.splitlines()
                     if line.strip() not in SOLUTION_MARKERS)


def solution_sources(solution_nb) -> dict[str, str]:
    """grade_id -> the model solution's source (markers removed), for every solution cell."""
    return {nbgrader_meta(c)["grade_id"]: strip_markers(c.source)
            for c in solution_nb.cells if nbgrader_meta(c).get("solution")}


def make_submission(release_nb, solution_nb, replace: dict[str, str] | None = None,
                    solved: bool = True):
    """A student's notebook: the release with its solution cells filled in.

    solved=True fills every solution cell with the model solution; `replace` maps grade_id ->
    source for the cells a (mistaken) student wrote differently.
    """
    nb = copy.deepcopy(release_nb)
    answers = solution_sources(solution_nb) if solved else {}
    answers.update(replace or {})
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if nbgrader_meta(cell).get("solution") and gid in answers:
            cell.source = answers[gid]
    return nb


def submit(root: Path, assignment: str, student: str, nb) -> Path:
    """Write nb as submitted/<student>/<assignment>/<name>.ipynb in the course at root."""
    name = notebook_path(root / "notebooks", assignment).name
    path = root / "submitted" / student / assignment / name
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def cell_scores(root: Path, assignment: str, student: str) -> dict[str, float]:
    """grade_id -> score of one autograded submission, read from the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(course_config(root).CourseDirectory.db_url) as gb:
        submission = gb.find_submission(assignment, student)
        return {g.name: float(g.score) for nb in submission.notebooks for g in nb.grades}


# ---------------------------------------------------------------- in-process execution


@dataclass
class CellResult:
    grade_id: str
    error: BaseException | None
    output: str

    @property
    def passed(self) -> bool:
        return self.error is None


def _python(source: str) -> str:
    """IPython cell source as plain Python (magics become get_ipython() calls)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def run_exercises(nb, replace: dict[str, str] | None = None) -> dict[str, CellResult]:
    """Run a notebook's set-up, exercise and checking-tool cells in one namespace, then each
    grade cell on its own; return grade_id -> result. Experiment cells are skipped.

    replace: grade_id -> source for solution cells (a mistaken student's version).
    """
    import contextlib
    import io

    replace = replace or {}
    namespace: dict = {"__name__": "__main__"}
    results: dict[str, CellResult] = {}
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    for index, cell in enumerate(code_cells):
        meta = nbgrader_meta(cell)
        gid = meta.get("grade_id")
        if meta.get("grade"):
            continue
        if index == 0 or meta.get("solution") or meta.get("locked"):
            exec(compile(_python(replace.get(gid, cell.source)), f"<cell {gid or index}>", "exec"),
                 namespace)
    for cell in code_cells:
        meta = nbgrader_meta(cell)
        if not meta.get("grade"):
            continue
        out, error = io.StringIO(), None
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(_python(cell.source), f"<{meta['grade_id']}>", "exec"), namespace)
        except Exception as exc:  # the cell's failure is the result we report
            error = exc
            out.write(traceback.format_exc(limit=1))
        results[meta["grade_id"]] = CellResult(meta["grade_id"], error, out.getvalue())
    return results


def execute(nb, workdir: Path, timeout: int = 120):
    """Run nb top to bottom in a fresh python3 kernel started in workdir; nb gets the outputs."""
    import nbclient

    nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}}).execute()
    return nb


def read(path: Path):
    return nbformat.read(path, as_version=4)


def dumps_cells(nb) -> str:
    """Cell sources and nbgrader metadata only: what the sync test compares."""
    return json.dumps([{"type": c.cell_type, "source": c.source, "nbgrader": nbgrader_meta(c)}
                       for c in nb.cells], indent=1, sort_keys=True)
