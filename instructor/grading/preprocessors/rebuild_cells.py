"""Sanitizing a submission: its cells rebuilt around the source notebook's, whatever the
student deleted, duplicated, retyped or moved.

nbgrader 0.9.6 restores deleted grade cells by looking up their predecessor among grade and
solution cells only, and blanks duplicated cells' metadata, and a later step then fails on
either: a correct notebook scores zero. Here the cell list is rebuilt from the source instead:
every nbgrader cell of the source, in the source's order, the read-only ones from the source
itself and each exercise cell from the student (the last copy, as a kernel would run it; a
placeholder when deleted); every other cell of the student's stays where it was, after the
nbgrader cell it followed. Every change is recorded as a `Problem`.

Sanitizing also bounds what the grader's own process reads afterwards, before any of the
student's limits apply: a cell larger than `cells.MAX_CELL_CHARS` or `cells.MAX_CELL_LINES` is
left out (an exercise cell is graded as not done). And it removes any copy of the grader's
record the notebook brings (`instructor.records.grader_record`), so that what the grader records is
its own.
"""

from __future__ import annotations

import copy
import uuid
from collections import Counter

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool

from instructor.infrastructure.course_folder import source_notebook_path
from instructor.records import grader_record, notebook_record, problems
from instructor.records.cells import CODE_STUB, grade_id, nbgrader_meta, released_source, too_large
from instructor.records.problems import Kind, Problem

LEFT_OUT = "(this cell was larger than {limit} and was left out by the grader)"


def _plain(cell: NotebookNode) -> NotebookNode:
    """A student's cell without nbgrader metadata (it is graded as nothing)."""
    cell = copy.deepcopy(cell)
    cell.get("metadata", {}).pop("nbgrader", None)
    return cell


def _bounded(cell: NotebookNode, label: str, found: list[Problem]) -> NotebookNode:
    """A student's own cell, or a note in its place when it is too large to read."""
    limit = too_large(cell.get("source", ""))
    if limit is None:
        return cell
    found.append(Problem(Kind.CELL_TOO_LARGE, label, limit))
    note = LEFT_OUT.format(limit=limit)
    cell.source = f"# {note}" if cell.cell_type == "code" else note
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    cell.pop("attachments", None)
    return cell


def _is_exercise(cell: NotebookNode) -> bool:
    return bool(nbgrader_meta(cell).get("solution"))


def _exercise_cell(source_cell: NotebookNode, student: NotebookNode | None) -> NotebookNode:
    """The student's exercise cell with the source's metadata and type."""
    cell = copy.deepcopy(source_cell)
    text = student.source if student is not None else CODE_STUB
    cell.source = text
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


def _locked_cell(source_cell: NotebookNode) -> NotebookNode:
    cell = copy.deepcopy(source_cell)
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


def _normalised(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def rebuild(
    source: NotebookNode, submitted: NotebookNode
) -> tuple[list[NotebookNode], list[Problem]]:
    """The submission's cells rebuilt around the source's nbgrader cells, and what was wrong."""
    ordered = [c for c in source.cells if grade_id(c)]
    by_id = {grade_id(c): c for c in ordered}
    after: dict[str | None, list[NotebookNode]] = {None: []}
    copies: dict[str, list[NotebookNode]] = {}
    anchor: str | None = None
    found: list[Problem] = []
    for index, cell in enumerate(submitted.cells):
        gid = grade_id(cell)
        if gid in by_id:
            copies.setdefault(gid, []).append(cell)
            anchor = gid
            continue
        after.setdefault(anchor, []).append(_bounded(_plain(cell), f"#{index + 1}", found))
    for gid, count in Counter({g: len(c) for g, c in copies.items()}).items():
        if count > 1:
            found.append(Problem(Kind.CELL_DUPLICATED, gid, str(count)))
    cells = list(after[None])
    for source_cell in ordered:
        gid = grade_id(source_cell)
        mine = copies.get(gid, [])
        if _is_exercise(source_cell):
            last = mine[-1] if mine else None
            limit = too_large(last.get("source", "")) if last is not None else None
            if limit is not None:  # graded as not done, and never parsed
                found.append(Problem(Kind.EXERCISE_CELL_TOO_LARGE, gid, limit))
                last = None
            elif last is None:
                found.append(Problem(Kind.EXERCISE_CELL_DELETED, gid))
            elif last.cell_type != source_cell.cell_type:
                found.append(Problem(Kind.CELL_RETYPED, gid, last.cell_type))
            cells += [  # earlier copies run, not graded
                _bounded(_plain(c), gid, found) for c in mine[:-1] if c.cell_type == "code"
            ]
            cells.append(_exercise_cell(source_cell, last))
        else:
            if not mine:
                found.append(Problem(Kind.TEST_CELL_DELETED, gid))
            elif any(c.cell_type != source_cell.cell_type for c in mine):
                other = next(c for c in mine if c.cell_type != source_cell.cell_type)
                found.append(Problem(Kind.CELL_RETYPED, gid, other.cell_type))
            elif any(
                _normalised(c.source) != _normalised(released_source(source_cell.source))
                for c in mine
            ):
                found.append(Problem(Kind.LOCKED_CELL_EDITED, gid))
            cells.append(_locked_cell(source_cell))
        cells += after.get(gid, [])
    seen: set[str] = set()
    for cell in cells:  # copies share ids; nbformat wants them unique
        if cell.get("id") in seen or "id" not in cell:
            cell["id"] = uuid.uuid4().hex[:8]
        seen.add(cell["id"])
    return cells, found


class RebuildCells(NbGraderPreprocessor):
    """Rebuild the submission's cells around the source notebook's (see `rebuild`)."""

    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb, resources):
        source = nbformat.read(source_notebook_path(self.config, resources), as_version=4)
        forged = grader_record.remove(nb)  # before anything records: the key is the grader's
        nb.cells, found = rebuild(source, nb)
        if forged:
            found.insert(
                0, Problem(Kind.FORGED_RECORD, "the notebook", notebook_record.METADATA_KEY)
            )
        for problem in found:
            self.log.warning("%s", problem.sentence())
            problems.record(nb, problem)
        return nb, resources
