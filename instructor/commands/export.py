"""Grades as a CSV file in nbgrader's export format, every text cell inert for spreadsheets.

nbgrader's own `CsvExportPlugin` joins fields with commas, unquoted: a student id or name with a
comma, a quote or a line break shifts or splits rows, and one starting with `=` is a formula.
`export` writes the same columns, in the same order, through the csv module, every text cell
through `csv_cells.inert_cell`, with the final score (`instructor.scores.final_score`: automatic,
adjustment, late penalty) in nbgrader's score columns and what it is made of after them; a
student whose row cannot be made is reported (`problems.StudentFailure`) and the export goes on
with the rest.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from instructor.commands.selection import add_selection, check_assignments
from instructor.infrastructure.course_folder import db_url
from instructor.output import lms_gradebook
from instructor.output.csv_cells import inert_cell
from instructor.output.inert_terminal import inert_line, print_failures
from instructor.records.lms import Lms
from instructor.records.problems import ClassRun, StudentFailure
from instructor.scores.final_score import FinalScore, final_scores

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
    # after nbgrader's own columns: what the final score is made of
    # (`instructor.scores.final_score`)
    "automatic_score",
    "adjustment",
    "adjustment_reason",
    "adjustment_on_earlier_submission",
    "late",
    "days_late",
    "notes",
)
TEXT_COLUMNS = frozenset(
    {"assignment", "student_id", "last_name", "first_name", "email", "adjustment_reason", "notes"}
)


def _row(assignment, student, final: FinalScore | None) -> dict[str, str]:
    """One student's row for one assignment: nbgrader's columns, with `raw_score` the automatic
    score plus the adjustment, `late_submission_penalty` and `score` the final score's; a
    student without a graded submission scores 0."""
    row: dict[str, object] = {
        "assignment": assignment.name,
        "duedate": assignment.duedate,
        "student_id": student.id,
        "last_name": student.last_name,
        "first_name": student.first_name,
        "email": student.email,
        "max_score": assignment.max_score,
    }
    if final is None:
        row.update(timestamp="", raw_score=0.0, late_submission_penalty=0.0, score=0.0)
    else:
        adjustment = final.adjustment
        row.update(
            duedate=final.lateness.due or assignment.duedate,
            timestamp=final.graded.submitted or "",
            raw_score=final.adjusted,
            late_submission_penalty=final.penalty,
            score=final.score,
            max_score=final.max_score,
            automatic_score=final.automatic,
            adjustment=adjustment.points if adjustment else "",
            adjustment_reason=adjustment.reason if adjustment else "",
            adjustment_on_earlier_submission=int(final.stale) if adjustment else "",
            late=int(final.lateness.late),
            days_late=final.lateness.days,
            notes="; ".join(final.notes()),
        )
    text = {k: "" if v is None else str(v) for k, v in row.items()}
    return {k: inert_cell(v) if k in TEXT_COLUMNS else v for k, v in text.items()}


def export(root: Path, path: Path) -> ClassRun:
    """Every student's final score per assignment, as CSV at `path` (relative: to the
    course)."""
    from nbgrader.api import Gradebook

    path = path if path.is_absolute() else root / path
    run = ClassRun(written=[path])
    finals = final_scores(root)
    with Gradebook(db_url(root)) as gb, path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS, restval="")
        writer.writeheader()
        for assignment in gb.assignments:
            for student in gb.students:
                try:
                    final = finals.of(assignment.name).get(student.id)
                    writer.writerow(_row(assignment, student, final))
                except Exception as error:  # this student's row only
                    gb.db.rollback()
                    run.failures.append(
                        StudentFailure(
                            assignment.name, str(student.id), f"{type(error).__name__}: {error}"
                        )
                    )
    return run


HELP = "export grades as CSV: nbgrader's, or an LMS's import file"


def add_arguments(sub: argparse.ArgumentParser) -> None:
    add_selection(sub, students=False)
    sub.add_argument("-o", "--output", default="grades.csv")
    sub.add_argument(
        "--format",
        choices=["nbgrader", "canvas", "moodle"],
        default="nbgrader",
        help="nbgrader's CSV (default); Canvas's gradebook import CSV; Moodle's "
        "grading worksheet, one per assignment (-o's name plus -<ID>)",
    )
    sub.add_argument(
        "--lms-assignment",
        action="append",
        metavar="ID=LMS_ID",
        help="Canvas: the LMS's id of an assignment, so that the import updates "
        "it instead of creating one (repeatable)",
    )


def run(args: argparse.Namespace) -> int:
    check_assignments(args.root, args.assignment)
    if args.format == "nbgrader":
        if args.assignment or args.lms_assignment:
            raise ValueError("-a and --lms-assignment go with --format canvas or moodle")
        done = export(args.root, Path(args.output))
        print(f"wrote {done.written[0]}")
        return print_failures(done, "the export")
    ids = dict(pair.split("=", 1) for pair in args.lms_assignment or [] if "=" in pair)
    if len(ids) != len(args.lms_assignment or []):
        raise ValueError("--lms-assignment takes ID=LMS_ID, e.g. 01_bptt=4567")
    out = Path(args.output)
    written = lms_gradebook.export(
        args.root,
        Lms(args.format),
        out if out.is_absolute() else args.root / out,
        args.assignment or None,
        ids,
    )
    print("\n".join(inert_line(line) for line in written.lines()))
    return 0
