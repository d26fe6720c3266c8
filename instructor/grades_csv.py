"""Grades as a CSV file in nbgrader's export format, every text cell inert for spreadsheets.

nbgrader's own `CsvExportPlugin` joins fields with commas, unquoted: a student id or name with a
comma, a quote or a line break shifts or splits rows, and one starting with `=` is a formula.
`export` writes the same columns, in the same order, through the csv module, every text cell
through `csv_cells.inert_cell`; a student whose row cannot be made is reported
(`problems.StudentFailure`) and the export goes on with the rest.
"""

from __future__ import annotations

import csv
from pathlib import Path

from instructor.course_folder import db_url
from instructor.csv_cells import inert_cell
from instructor.problems import ClassRun, StudentFailure

COLUMNS = (
    "assignment",
    "duedate",
    "timestamp",
    "student_id",
    "last_name",
    "first_name",
    "email",
    "raw_score",
    "late_submission_penalty",
    "score",
    "max_score",
)
TEXT_COLUMNS = frozenset({"assignment", "student_id", "last_name", "first_name", "email"})


def _row(gradebook, assignment, student) -> dict[str, str]:
    """One student's row for one assignment, as nbgrader's CsvExportPlugin computes it."""
    from nbgrader.api import MissingEntry

    row: dict[str, object] = {
        "assignment": assignment.name,
        "duedate": assignment.duedate,
        "student_id": student.id,
        "last_name": student.last_name,
        "first_name": student.first_name,
        "email": student.email,
        "max_score": assignment.max_score,
    }
    try:
        submission = gradebook.find_submission(assignment.name, student.id)
    except MissingEntry:
        row.update(timestamp="", raw_score=0.0, late_submission_penalty=0.0, score=0.0)
    else:
        penalty = submission.late_submission_penalty
        row.update(
            timestamp=submission.timestamp,
            raw_score=submission.score,
            late_submission_penalty=penalty,
            score=max(0.0, submission.score - penalty),
        )
    text = {k: "" if v is None else str(v) for k, v in row.items()}
    return {k: inert_cell(v) if k in TEXT_COLUMNS else v for k, v in text.items()}


def export(root: Path, path: Path) -> ClassRun:
    """Every student's score per assignment, as CSV at `path` (relative: to the course)."""
    from nbgrader.api import Gradebook

    path = path if path.is_absolute() else root / path
    run = ClassRun(written=[path])
    with Gradebook(db_url(root)) as gb, path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        for assignment in gb.assignments:
            for student in gb.students:
                try:
                    writer.writerow(_row(gb, assignment, student))
                except Exception as error:  # this student's row only
                    gb.db.rollback()
                    run.failures.append(
                        StudentFailure(
                            assignment.name, str(student.id), f"{type(error).__name__}: {error}"
                        )
                    )
    return run
