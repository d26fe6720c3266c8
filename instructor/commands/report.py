"""The class report: what a class got right and wrong on one assignment, as a page and a CSV.

`rnn-course report [-a ID] [-o DIR]` writes, per assignment, `<ID>.html` (opens from disk: the
figures are embedded PNGs, the style is inline, nothing is fetched) and `<ID>.csv` (one row per
graded submission, the data the page sums up). It reads what grading recorded: each
submission's done-marker (`instructor.coordinator.gradebook.recorded`: cell scores, problems,
diagnoses, time), the final scores (`instructor.scores.final_score`: one gradebook query, the
adjustments, the due dates) and each submitted notebook's flags, so it runs in seconds for a class
of a thousand.

The page shows the score distribution; per exercise, the share of students passing its visible
check and its hidden tests (a visible check passed far more often than the hidden tests points
at a weak visible check); the diagnosed mistakes, most frequent first, with the students who
made them; a table of students, lowest final score first (`instructor.scores.final_score`:
automatic score, adjustment with its reason, late penalty; lateness; problems; flags for an
untouched notebook and for a submission of the solution notebook,
`instructor.records.submission_flags`); submissions that timed out, crashed or were unreadable;
grading time per submission.

The page and the CSV are drawn by `instructor.output.class_report`, which escapes every string
grading recorded and makes every CSV text cell inert. A student whose record cannot be read is
listed as such (on the page, in the CSV, and to the caller); the report goes on with the rest.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from instructor.commands.selection import add_selection, check_assignments
from instructor.coordinator.gradebook import recorded
from instructor.coordinator.job import Result
from instructor.output.class_report import page, write_csv
from instructor.output.inert_terminal import print_failures
from instructor.records.cells import is_hidden_test, tested_exercise
from instructor.records.class_report import (
    TROUBLE,
    ClassReport,
    ExerciseStats,
    MistakeStats,
    Trouble,
    passed_cells,
)
from instructor.records.diagnosis import Verdict
from instructor.records.problems import ClassRun, StudentFailure
from instructor.records.submission import WORK, Submission
from instructor.records.submission_flags import flags, release_exercises
from instructor.scores.final_score import final_scores


def troubles_of(result: Result) -> list[Trouble]:
    """The report's groups of this result's problems, each once, in `Trouble` order."""
    found = {TROUBLE[p.kind] for p in result.problems if p.kind in TROUBLE}
    return [t for t in Trouble if t in found]


def exercise_stats(results: list[Result]) -> list[ExerciseStats]:
    """Per exercise (in notebook order), who passed the visible check and the hidden tests."""
    stats: dict[str, ExerciseStats] = {}
    for result in results:
        verdicts: dict[str, dict[str, bool]] = {}
        for cell, ok in passed_cells(result).items():
            exercise = tested_exercise(cell)
            if exercise:
                kind = "hidden" if is_hidden_test(cell) else "visible"
                both = verdicts.setdefault(exercise, {"visible": True, "hidden": True})
                both[kind] = both[kind] and ok
        for exercise, both in verdicts.items():
            entry = stats.setdefault(exercise, ExerciseStats(exercise))
            entry.graded += 1
            entry.visible += both["visible"]
            entry.hidden += both["hidden"]
    return list(stats.values())


def mistake_stats(results: list[Result]) -> list[MistakeStats]:
    """Every diagnosed known mistake, the most frequent first."""
    found: dict[tuple[str, str], MistakeStats] = {}
    for result in results:
        for d in result.diagnoses:
            if d.verdict is Verdict.KNOWN:
                key = (d.exercise, d.mistake)
                found.setdefault(key, MistakeStats(d.exercise, d.mistake, d.description))
                found[key].students.append(result.student)
    return sorted(found.values(), key=lambda m: (-len(m.students), m.exercise, m.mistake))


def build(root: Path, assignment: str) -> ClassReport:
    """The report of `assignment` from the done-markers under the course at `root`."""
    folder = root / WORK / "done" / assignment
    students = sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
    results, unreadable = [], []
    for student in students:
        result = recorded(Submission(root, assignment, student))
        if result is None:
            unreadable.append(student)
        else:
            results.append(result)
    troubles = {r.student: troubles_of(r) for r in results if troubles_of(r)}
    troubles.update({s: [Trouble.NO_RECORD] for s in unreadable})
    released = release_exercises(root, assignment)
    return ClassReport(
        assignment,
        results,
        exercise_stats(results),
        mistake_stats(results),
        troubles,
        unreadable,
        final_scores(root, [assignment]).of(assignment),
        {s: flags(Submission(root, assignment, s), released) for s in students},
    )


def graded_assignments(root: Path) -> list[str]:
    """The assignments with at least one graded submission."""
    done = root / WORK / "done"
    return (
        sorted(p.name for p in done.iterdir() if p.is_dir() and any(p.glob("*.json")))
        if done.is_dir()
        else []
    )


# ---- the CSV ---------------------------------------------------------------------------------


def write_reports(root: Path, out: Path, assignments: list[str] | None = None) -> ClassRun:
    """Write `<ID>.html` and `<ID>.csv` into `out` for each assignment (default: every graded
    one); returns the files written and the students whose record could not be read (listed
    in the report too)."""
    import matplotlib

    matplotlib.use("Agg")
    out.mkdir(parents=True, exist_ok=True)
    run = ClassRun()
    for assignment in assignments or graded_assignments(root):
        report = build(root, assignment)
        (out / f"{assignment}.html").write_text(page(report))
        run.written += [out / f"{assignment}.html", write_csv(report, out / f"{assignment}.csv")]
        run.failures += [
            StudentFailure(assignment, s, "its grading record cannot be read: regrade it")
            for s in report.unreadable
        ]
    return run


def write(root: Path, out: Path, assignments: list[str] | None = None) -> list[Path]:
    """The files `write_reports` writes."""
    return write_reports(root, out, assignments).written


HELP = "write the class report (HTML page and CSV per assignment)"


def add_arguments(sub: argparse.ArgumentParser) -> None:
    add_selection(sub, students=False)
    sub.add_argument(
        "-o",
        "--output",
        default="reports",
        help="folder to write, relative to the course folder (default: reports)",
    )


def run(args: argparse.Namespace) -> int:
    check_assignments(args.root, args.assignment)
    out = Path(args.output)
    done = write_reports(
        args.root, out if out.is_absolute() else args.root / out, args.assignment or None
    )
    if not done.written:
        raise ValueError("nothing graded yet: run `rnn-course autograde` first")
    print("wrote " + ", ".join(str(p) for p in done.written))
    return print_failures(done, "the report")
