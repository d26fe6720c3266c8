"""Feedback for a class, through nbgrader in one process: one student's failure never stops
another's, and every page is made inert before anyone opens it.

For each autograded submission, nbgrader renders the HTML page (its hidden tests replaced by a
note, `instructor.output.preprocessors.HideHiddenTests`); then the page is checked and rebuilt:

- a page that still holds the hidden tests' marker is removed, never shown (the student's own
  output may have printed it: that student gets no page, and a line says why);
- every page is rebuilt by `instructor.output.inert_html.inert_page`: no script, no event
  handler, no `javascript:` URL, whatever the student's markdown or outputs held.

A submission that could not be graded (a broken notebook, a grading failure) gets a page too,
saying why and what to do (`instructor.output.ungraded_page`), with the reasons grading recorded;
one handed in but not graded yet gets none, and a line says so. A student whose page cannot be made
(nbgrader fails, the marker shows) is reported (`problems.StudentFailure`) and the others get
theirs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from instructor.commands.selection import add_selection, check_assignments, check_students
from instructor.coordinator.gradebook import FAILED_NOTE, recorded
from instructor.infrastructure.course_folder import course_api, notebook_path
from instructor.output.feedback_bundle import CANVAS_REFUSAL, moodle_bundle
from instructor.output.final_score_note import add_final_scores
from instructor.output.inert_html import inert_page
from instructor.output.inert_terminal import inert_line, print_failures
from instructor.output.ungraded_page import ungraded_page
from instructor.records.cells import HIDDEN_BEGIN
from instructor.records.problems import ClassRun, StudentFailure, sentences
from instructor.records.submission import Submission


def _submissions(root: Path) -> list[tuple[str, str]]:
    """(assignment, student) of every submission handed in or autograded, sorted."""
    found = set()
    for top in (root / "submitted", root / "autograded"):
        if top.is_dir():
            found |= {
                (a.name, s.name)
                for s in top.iterdir()
                if s.is_dir()
                for a in s.iterdir()
                if a.is_dir()
            }
    return sorted(found)


def _ungraded(root: Path, sub: Submission) -> Path:
    """Write the page of a submission grading failed on: why (as grading recorded it), and what
    to do."""
    result = recorded(sub)
    if result is not None:
        reasons, max_score = sentences(result.problems), result.max_score
        notebooks = {g.notebook for g in result.grades}
    else:
        note = (sub.autograded / FAILED_NOTE).read_text(errors="replace")
        reasons, max_score, notebooks = [ln for ln in note.splitlines() if ln.strip()], 0.0, set()
    try:
        name = notebook_path(root / "solutions", sub.assignment).stem
    except (ValueError, OSError):
        name = sorted(notebooks)[0] if notebooks else sub.assignment
    page = root / "feedback" / sub.student / sub.assignment / f"{name}.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    for old in page.parent.glob("*.html"):
        old.unlink()
    page.write_text(ungraded_page(sub.assignment, reasons, max_score))
    return page


def _pages(api, root: Path, assignment: str, student: str) -> list[Path]:
    """Render, check and rebuild one student's feedback pages; raises RuntimeError with the
    reason when there is none to give them (and leaves none behind)."""
    folder = root / "feedback" / student / assignment
    try:
        result = api.generate_feedback(assignment, student)
    except Exception as error:  # nbconvert or nbgrader failed on this notebook
        result = {"success": False, "log": f"{type(error).__name__}: {error}"}
    pages = sorted(folder.glob("*.html")) if folder.is_dir() else []
    if not result["success"]:
        for page in pages:
            page.unlink()
        lines = [line for line in str(result.get("log", "")).splitlines() if line.strip()]
        raise RuntimeError(f"nbgrader could not render it: {(lines or ['?'])[-1][:300]}")
    for page in pages:
        text = page.read_text(errors="replace")
        if HIDDEN_BEGIN in text:
            for other in pages:
                other.unlink(missing_ok=True)
            raise RuntimeError(
                f"its page would show the marker {HIDDEN_BEGIN!r} (printed by the notebook, or a "
                "hidden test not removed); it was withheld"
            )
        page.write_text(inert_page(text))
    return pages


def generate_feedback(
    root: Path, only_assignments: list[str] | None = None, only_students: list[str] | None = None
) -> ClassRun:
    """HTML feedback for every submission (or those named): the pages written (a page saying why
    for a submission that could not be graded), and the students who got none, with the
    reason."""
    api = course_api(root)
    run = ClassRun()
    for assignment, student in _submissions(root):
        if (only_assignments and assignment not in only_assignments) or (
            only_students and student not in only_students
        ):
            continue
        sub = Submission(root, assignment, student)
        if (sub.autograded / FAILED_NOTE).exists():
            run.written.append(_ungraded(root, sub))
            continue
        if not sub.autograded.is_dir():
            reason = "handed in, not graded yet: run `rnn-course autograde` first"
            run.failures.append(StudentFailure(assignment, student, reason))
            continue
        try:
            run.written += _pages(api, root, assignment, student)
        except RuntimeError as error:
            run.failures.append(StudentFailure(assignment, student, str(error)))
    add_final_scores(root, run.written)  # the grade every export has, with its parts
    return run


HELP = "write HTML feedback (hidden tests removed)"


def add_arguments(sub: argparse.ArgumentParser) -> None:
    add_selection(sub)
    sub.add_argument(
        "--lms",
        choices=["moodle", "canvas"],
        help="also pack the pages for the LMS's bulk feedback upload: moodle writes "
        "feedback/<ID>-moodle.zip per assignment (Upload multiple feedback files in a zip); "
        "Canvas has no such upload (the command says why)",
    )


def run(args: argparse.Namespace) -> int:
    check_assignments(args.root, args.assignment)
    check_students(args.root, args.student)
    if args.lms == "canvas":
        raise ValueError(CANVAS_REFUSAL)
    done = generate_feedback(args.root, args.assignment or None, args.student or None)
    print(f"wrote {len(done.written)} feedback file(s) under {args.root / 'feedback'}")
    if args.lms == "moodle":
        packed = moodle_bundle(args.root, done.written)
        print("\n".join(inert_line(line) for line in packed.lines()))
    return print_failures(done, "feedback")
