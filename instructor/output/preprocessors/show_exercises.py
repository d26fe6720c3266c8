"""Feedback: the page shows each exercise, the student's answer and what its checks said."""

from __future__ import annotations

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool

from instructor.infrastructure.course_folder import source_notebook_path
from instructor.records.cells import grade_id, is_hidden_test, nbgrader_meta, tested_exercise

# The key of the page's own cell metadata: {"exercise": name, "role": one of ROLES}.
KEY = "course_feedback"
ROLES = ("heading", "answer", "visible", "hidden")


def _mark(cell: NotebookNode, exercise: str, role: str) -> NotebookNode:
    cell.metadata[KEY] = {"exercise": exercise, "role": role}
    return cell


def exercise_headings(source: NotebookNode) -> dict[str, str]:
    """exercise -> the title of the last heading above its cell in the instructor's notebook
    (its `#`s removed)."""
    headings, last = {}, ""
    for cell in source.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    last = line.lstrip("#").strip()
        elif nbgrader_meta(cell).get("solution") and grade_id(cell):
            headings[grade_id(cell)] = last
    return headings


class ShowExercises(NbGraderPreprocessor):
    """Feedback: the page holds, for each exercise in the notebook's order, its heading (from the
    instructor's notebook: a student's edits to the prose do not reach it), the student's answer
    with its outputs, and the results of its visible check and hidden tests, their code left out.
    The lesson's prose, demonstrations and the read-only checking tools are left out: the student
    has them in their notebook, and they made a page 16,000 px tall. Tests of no exercise in the
    notebook come last, under a heading of their own.

    Every cell kept is marked in its metadata (`KEY`: exercise and role) for the page's template,
    which names each exercise in the summary."""

    enabled = Bool(True).tag(config=True)

    def _headings(self, resources: dict) -> dict[str, str]:
        try:
            path = source_notebook_path(self.config, resources)
            return exercise_headings(nbformat.read(path, as_version=4))
        except Exception:  # noqa: BLE001 (no source to read: exercises are named by id alone)
            return {}

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        headings = self._headings(resources)
        answers = [c for c in nb.cells if nbgrader_meta(c).get("solution") and grade_id(c)]
        tests: dict[str, list[NotebookNode]] = {}
        for cell in nb.cells:
            name = grade_id(cell) or ""
            meta = nbgrader_meta(cell)
            if meta.get("grade") and not meta.get("solution") and tested_exercise(name):
                cell.source = ""  # the instructor's checking code, hidden tests or not
                role = "hidden" if is_hidden_test(name) else "visible"
                tests.setdefault(tested_exercise(name), []).append(_mark(cell, "", role))
        cells, shown = [], None
        for answer in answers:
            exercise = grade_id(answer)
            title = headings.get(exercise) or f"Exercise `{exercise}`"
            if title != shown:
                heading = nbformat.v4.new_markdown_cell(f"### {title}")
                cells.append(_mark(heading, exercise, "heading"))
                shown = title
            cells.append(_mark(answer, exercise, "answer"))
            for test in tests.pop(exercise, []):
                cells.append(_mark(test, exercise, test.metadata[KEY]["role"]))
        if tests:
            cells.append(_mark(nbformat.v4.new_markdown_cell("### Other checks"), "", "heading"))
            for exercise, found in tests.items():
                cells += [_mark(t, exercise, t.metadata[KEY]["role"]) for t in found]
        nb.cells = cells
        resources[KEY] = {"exercises": [grade_id(a) for a in answers] + list(tests)}
        return nb, resources
