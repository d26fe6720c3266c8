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

Every string on the page that grading recorded (names, ids, descriptions) is escaped: the page
is built from `Markup` the report writes itself and plain strings, which `_td` and the page
escape. Every CSV cell that holds text goes through `csv_cells.inert_cell`, so that no
spreadsheet reads it as a formula. A student whose record cannot be read is listed as such (on
the page, in the CSV, and to the caller); the report goes on with the rest.
"""

from __future__ import annotations

import argparse
import base64
import csv
import enum
import html
import io
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from instructor.coordinator.gradebook import recorded
from instructor.coordinator.job import Result
from instructor.infrastructure.selection import add_selection, check_assignments
from instructor.output.csv_cells import inert_cell
from instructor.output.inert_html import POLICY_TAG
from instructor.output.inert_terminal import print_failures
from instructor.records.cells import is_hidden_test, tested_exercise
from instructor.records.diagnosis import Verdict
from instructor.records.phases import DIAGNOSIS
from instructor.records.problems import ClassRun, Kind, StudentFailure, sentences
from instructor.records.submission import WORK, Submission
from instructor.records.submission_flags import Flags, flags, release_exercises
from instructor.scores.final_score import FinalScore, final_scores

WEAK_CHECK_GAP = 0.2  # visible pass rate this far above the hidden one: a weak visible check
MAX_NAMES = 12  # students listed per mistake on the page (the CSV has them all)


class Trouble(enum.Enum):
    """Why a submission was not graded normally, as the report groups problems."""

    TIMED_OUT = "timed out"
    CRASHED = "crashed"
    UNREADABLE = "unreadable"
    NO_RECORD = "grading record unreadable"


TROUBLE = {
    Kind.STUDENT_TIMEOUT: Trouble.TIMED_OUT,
    Kind.CALL_TIMEOUT: Trouble.TIMED_OUT,
    Kind.CELL_TIMEOUT: Trouble.TIMED_OUT,
    Kind.WORKER_DIED: Trouble.CRASHED,
    Kind.PROCESS_DIED: Trouble.CRASHED,
    Kind.KERNEL_DIED: Trouble.CRASHED,
    Kind.GRADER_FAULT: Trouble.CRASHED,
    Kind.NBGRADER_FAILED: Trouble.CRASHED,
    Kind.OUT_OF_MEMORY: Trouble.CRASHED,
    Kind.MISSING_NOTEBOOK: Trouble.UNREADABLE,
    Kind.BROKEN_NOTEBOOK: Trouble.UNREADABLE,
}


@dataclass
class ExerciseStats:
    """How the class did on one exercise: students whose visible check / hidden tests all
    passed, out of `graded`."""

    name: str
    graded: int = 0
    visible: int = 0
    hidden: int = 0

    def share(self, passed: int) -> float:
        return passed / self.graded if self.graded else 0.0

    @property
    def weak_check(self) -> bool:
        return self.share(self.visible) - self.share(self.hidden) >= WEAK_CHECK_GAP


@dataclass
class MistakeStats:
    """One diagnosed mistake and the students who made it."""

    exercise: str
    mistake: str
    description: str
    students: list[str] = field(default_factory=list)


@dataclass
class ClassReport:
    """Everything the page and the CSV show for one assignment."""

    assignment: str
    results: list[Result]
    exercises: list[ExerciseStats]
    mistakes: list[MistakeStats]
    troubles: dict[str, list[Trouble]]  # student -> what went wrong
    unreadable: list[str] = field(default_factory=list)  # students whose record is unreadable
    finals: dict[str, FinalScore] = field(default_factory=dict)  # student -> final score
    flags: dict[str, Flags] = field(default_factory=dict)  # student -> flags of the notebook

    def score(self, result: Result) -> float:
        """The student's final score (`instructor.scores.final_score`), as every export has it."""
        final = self.finals.get(result.student)
        return final.score if final else result.score


def passed_cells(result: Result) -> dict[str, bool]:
    """grade id -> whether it scored full points (nothing passes in a failed result)."""
    return {g.cell: not result.failed and g.score >= g.max_score for g in result.grades}


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
def csv_rows(report: ClassReport) -> list[dict[str, str]]:
    """One row per graded submission: score, time, troubles, and per exercise its visible and
    hidden verdicts and the diagnosed mistake; then one per student whose record could not be
    read. `score` is the final score (`instructor.scores.final_score`); what it is made of,
    lateness and the notebook's flags follow. Text cells are inert for spreadsheets (`inert_cell`);
    numbers are written here."""
    rows = []
    for result in report.results:
        cells = passed_cells(result)
        named = {d.exercise: d for d in result.diagnoses}
        final = report.finals.get(result.student)
        adjustment = final.adjustment if final else None
        flagged = report.flags.get(result.student, Flags())
        row = {
            "student": inert_cell(result.student),
            "score": f"{report.score(result):g}",
            "max_score": f"{result.max_score:g}",
            "automatic_score": f"{result.score:g}",
            "adjustment": f"{adjustment.points:g}" if adjustment else "",
            "adjustment_reason": inert_cell(adjustment.reason if adjustment else ""),
            "adjustment_on_earlier_submission": str(int(final.stale)) if adjustment else "",
            "late": str(int(bool(final and final.lateness.late))),
            "days_late": str(final.lateness.days if final else 0),
            "late_penalty": f"{final.penalty:g}" if final else "0",
            "untouched": str(int(flagged.untouched)),
            "solution_notebook": str(int(flagged.solution_notebook)),
            "notes": inert_cell("; ".join(final.notes() if final else [])),
            "seconds": f"{result.seconds:.2f}",
            "diagnosis_seconds": f"{result.phases.get(DIAGNOSIS, 0.0):.3f}",
            "trouble": inert_cell(
                "; ".join(t.value for t in report.troubles.get(result.student, []))
            ),
            "problems": inert_cell("; ".join(sentences(result.problems))),
        }
        for ex in report.exercises:
            row[f"{ex.name} visible"] = str(int(cells.get(f"test_{ex.name}", False)))
            row[f"{ex.name} hidden"] = str(int(cells.get(f"hidden_{ex.name}", False)))
            d = named.get(ex.name)
            row[f"{ex.name} mistake"] = inert_cell(
                d.mistake if d and d.verdict is Verdict.KNOWN else ""
            )
        rows.append(row)
    for student in report.unreadable:
        rows.append({"student": inert_cell(student), "trouble": Trouble.NO_RECORD.value})
    return rows


def write_csv(report: ClassReport, path: Path) -> Path:
    rows = csv_rows(report)
    fields = list(rows[0]) if report.results else ["student", "score", "max_score", "trouble"]
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=fields, restval="")
        writer.writerow({f: inert_cell(f) for f in fields})
        writer.writerows(rows)
    return path


# ---- the page --------------------------------------------------------------------------------
def _png(fig) -> str:
    """An <img> holding the figure as an embedded PNG (the page needs no other file)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img alt="" src="data:image/png;base64,{data}">'


def score_figure(report: ClassReport) -> str:
    """Histogram of total scores."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.3), layout="constrained")
    ax = fig.add_subplot()
    scores = [report.score(r) for r in report.results]
    top = max((r.max_score for r in report.results), default=1.0) or 1.0
    ax.hist(
        scores,
        bins=min(20, max(5, int(top))),
        range=(0, top),
        color="#4c72b0",
        label=f"{len(scores)} submissions",
    )
    ax.set(
        title=f"{report.assignment}: score distribution",
        xlabel=f"score (of {top:g})",
        ylabel="students",
    )
    fig.legend(loc="outside lower center")  # below the axes: never over a bar
    return _png(fig)


def exercise_figure(report: ClassReport) -> str:
    """Per exercise, the share passing the visible check and the hidden tests."""
    from matplotlib.figure import Figure

    names = [e.name for e in report.exercises]
    fig = Figure(figsize=(7, 0.45 * len(names) + 1.6), layout="constrained")
    ax = fig.add_subplot()
    y = range(len(names))
    ax.barh(
        [i - 0.2 for i in y],
        [e.share(e.visible) for e in report.exercises],
        0.4,
        label="visible check passed",
        color="#55a868",
    )
    ax.barh(
        [i + 0.2 for i in y],
        [e.share(e.hidden) for e in report.exercises],
        0.4,
        label="hidden tests passed",
        color="#c44e52",
    )
    ax.set_yticks(list(y), names)
    ax.invert_yaxis()
    ax.set(xlim=(0, 1), xlabel="share of students", title="Exercises: visible vs hidden")
    fig.legend(loc="outside lower center", ncol=2)  # below the axes: never over a bar
    return _png(fig)


def time_figure(report: ClassReport) -> str:
    """Histogram of grading seconds per submission."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.3), layout="constrained")
    ax = fig.add_subplot()
    ax.hist([r.seconds for r in report.results], bins=20, color="#8172b2", label="submissions")
    ax.set(title="Grading time per submission", xlabel="seconds", ylabel="submissions")
    fig.legend(loc="outside lower center")  # below the axes: never over a bar
    return _png(fig)


CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 10px; text-align: left; }
th { background: #f4f4f4; } td.n { text-align: right; } .weak { color: #b35900; }
.muted { color: #777; } code { background: #f4f4f4; padding: 0 3px; }
.stale { color: #b35900; font-style: italic; }
"""


class Markup(str):
    """HTML the report writes itself; any other string on the page is escaped (`_html`)."""


def _html(content: str) -> str:
    """`content` as page text: Markup as it is, any other string escaped."""
    return content if isinstance(content, Markup) else html.escape(content)


def _table(header: list[str], rows: list[list[Markup]]) -> Markup:
    head = "".join(f"<th>{_html(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    return Markup(f"<table><tr>{head}</tr>{body}</table>")


def _td(content: str, cls: str = "") -> Markup:
    """A table cell holding `content` (escaped unless it is Markup)."""
    opening = f'<td class="{html.escape(cls)}">' if cls else "<td>"
    return Markup(f"{opening}{_html(content)}</td>")


def _code(text: str) -> Markup:
    return Markup(f"<code>{html.escape(text)}</code>")


def _names(students: list[str]) -> Markup:
    shown = ", ".join(html.escape(s) for s in students[:MAX_NAMES])
    more = len(students) - MAX_NAMES
    return Markup(
        shown + (f' <span class="muted">and {more} more (CSV)</span>' if more > 0 else "")
    )


def exercises_html(report: ClassReport) -> Markup:
    rows = [
        [
            _td(_code(e.name)),
            _td(f"{e.share(e.visible):.0%}", "n"),
            _td(f"{e.share(e.hidden):.0%}", "n"),
            _td(
                Markup('<span class="weak">visible check passes far more often: weak?</span>')
                if e.weak_check
                else ""
            ),
        ]
        for e in report.exercises
    ]
    return _table(["exercise", "visible check passed", "hidden tests passed", ""], rows)


def mistakes_html(report: ClassReport) -> Markup:
    if not report.mistakes:
        return Markup('<p class="muted">No known mistake was diagnosed.</p>')
    rows = [
        [
            _td(_code(m.exercise)),
            _td(
                Markup(
                    f"{html.escape(m.description)} "
                    f'<span class="muted">({html.escape(m.mistake)})</span>'
                )
            ),
            _td(str(len(m.students)), "n"),
            _td(_names(m.students)),
        ]
        for m in report.mistakes
    ]
    return _table(["exercise", "mistake", "students", "who"], rows)


def _student_row(report: ClassReport, result: Result) -> list[Markup]:
    """One student's row: final score, what it is made of, lateness, problems, flags."""
    final = report.finals.get(result.student)
    notes = final.notes() if final else []
    adjustment = [n for n in notes if n.startswith("adjusted")]
    late = [n for n in notes if n.startswith(("late", "formgrader"))]
    problems = [t.value for t in report.troubles.get(result.student, [])]
    problems += sentences(result.problems)
    flagged = report.flags.get(result.student, Flags()).words()
    return [
        _td(result.student),
        _td(f"{report.score(result):g} / {result.max_score:g}", "n"),
        _td(f"{result.score:g}", "n"),
        _td("; ".join(adjustment), "stale" if final and final.stale else ""),
        _td("; ".join(late), "weak" if late else ""),
        _td("; ".join(problems)),
        _td("; ".join(flagged), "weak" if flagged else ""),
    ]


def students_html(report: ClassReport) -> Markup:
    """Every graded student, the lowest final score first (the CSV has the same rows, for
    sorting by anything else: the page runs no script)."""
    if not report.results:
        return Markup('<p class="muted">No graded submission.</p>')
    ordered = sorted(report.results, key=lambda r: (report.score(r), r.student))
    rows = [_student_row(report, r) for r in ordered]
    note = Markup(
        '<p class="muted">Sorted by final score, lowest first; the CSV has every column '
        "for any other order.</p>"
    )
    header = ["student", "final score", "automatic", "adjustment", "late", "problems", "flags"]
    return Markup(note + _table(header, rows))


def troubles_html(report: ClassReport) -> Markup:
    if not report.troubles:
        return Markup('<p class="muted">Every submission was read and graded in time.</p>')
    rows = []
    for trouble in Trouble:
        who = [s for s, ts in report.troubles.items() if trouble in ts]
        if who:
            rows.append([_td(trouble.value), _td(str(len(who)), "n"), _td(_names(who))])
    return _table(["what happened", "submissions", "who"], rows)


def timing_html(report: ClassReport) -> Markup:
    seconds = sorted(r.seconds for r in report.results)
    diagnosis = sum(r.phases.get(DIAGNOSIS, 0.0) for r in report.results)
    if not seconds:
        return Markup("")
    return Markup(
        f"<p>median {statistics.median(seconds):.1f} s, slowest {seconds[-1]:.1f} s, "
        f"{sum(seconds):.0f} s in all, of which diagnosis {diagnosis:.1f} s.</p>"
        + time_figure(report)
    )


def page(report: ClassReport) -> str:
    """The report's HTML page."""
    scores = [report.score(r) for r in report.results]
    title = f"Class report: {html.escape(report.assignment)}"
    summary = (
        f"{len(scores)} graded submissions; mean score "
        f"{statistics.fmean(scores):.2f}, median {statistics.median(scores):g}"
        if scores
        else "no graded submissions"
    )
    parts = [f"<h1>{title}</h1><p>{summary}.</p>"]
    if scores:
        parts += [
            score_figure(report),
            "<h2>Exercises</h2>",
            exercise_figure(report),
            exercises_html(report),
        ]
    parts += [
        "<h2>Diagnosed mistakes</h2>",
        mistakes_html(report),
        "<h2>Students</h2>",
        students_html(report),
        "<h2>Submissions not graded normally</h2>",
        troubles_html(report),
        "<h2>Grading time</h2>",
        timing_html(report),
    ]
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8">{POLICY_TAG}<title>{title}</title>'
        f"<style>{CSS}</style></head><body>{''.join(parts)}</body></html>\n"
    )


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
