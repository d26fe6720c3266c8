"""What a submitted notebook itself says about the work in it, for the class report: whether the
student attempted any exercise, and whether they handed in the instructor's solution notebook.

- untouched: every exercise cell is as released (`notebooks/<id>/`): nothing was attempted.
- solution notebook: a code cell holds the hidden tests' marker (`cells.HIDDEN_BEGIN`), which
  only the solution notebook has (the grader restores every test cell, so the score alone does
  not show it).

A notebook that cannot be read gets neither flag (grading reports it as unreadable).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from instructor.records.cells import HIDDEN_BEGIN, grade_id, is_solution_cell
from instructor.records.submission import Submission


@dataclass(frozen=True)
class Flags:
    """The report's flags for one submission."""

    untouched: bool = False
    solution_notebook: bool = False

    def words(self) -> list[str]:
        return [
            *(["untouched: no exercise attempted"] if self.untouched else []),
            *(["the solution notebook (hidden tests present)"] if self.solution_notebook else []),
        ]


def _cells(path: Path):
    """The notebook's cells as NotebookNodes; None when it cannot be read."""
    import nbformat

    try:
        return nbformat.reads(path.read_text(errors="replace"), as_version=4).get("cells", [])
    except (OSError, ValueError, AttributeError, TypeError, KeyError):
        return None


def _exercises(cells) -> dict[str, str]:
    """grade id -> source of every exercise cell (whitespace at either end ignored)."""
    return {
        grade_id(c): str(c.get("source", "")).strip()
        for c in cells
        if isinstance(c, dict) and is_solution_cell(c) and grade_id(c)
    }


def release_exercises(root: Path, assignment: str) -> dict[str, str]:
    """The released notebook's exercise cells ({} when notebooks/ has no release of it)."""
    found = sorted((root / "notebooks" / assignment).glob("*.ipynb"))
    cells = _cells(found[0]) if len(found) == 1 else None
    return _exercises(cells) if cells else {}


def flags(sub: Submission, released: dict[str, str]) -> Flags:
    """The flags of `sub`; `released`: `release_exercises` of its assignment."""
    found = sorted(sub.folder.glob("*.ipynb")) if sub.folder.is_dir() else []
    if len(found) != 1:
        return Flags()
    data = found[0].read_bytes()
    if HIDDEN_BEGIN.encode() not in data and not released:
        return Flags()
    cells = _cells(found[0])
    if cells is None:
        return Flags()
    mine = _exercises(cells)
    untouched = bool(released) and all(mine.get(k, v) == v for k, v in released.items())
    solution = any(
        isinstance(c, dict) and c.get("cell_type") == "code" and HIDDEN_BEGIN in c.get("source", "")
        for c in cells
    )
    return Flags(untouched, solution)
