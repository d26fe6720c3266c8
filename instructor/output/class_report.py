"""The class report drawn: its page (figures as embedded PNGs, tables, no script, a policy that
forbids fetching anything) and its CSV, from the data of `instructor.records.class_report`.

Every string on the page that grading recorded (names, ids, descriptions) is escaped: the page
is built from `Markup` written here and plain strings, which `_td` and the page escape. Every CSV
cell that holds text goes through `csv_cells.inert_cell`, so that no spreadsheet reads it as a
formula.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import statistics
from pathlib import Path
from typing import TYPE_CHECKING

from instructor.output.csv_cells import inert_cell
from instructor.output.inert_html import POLICY_TAG
from instructor.records.class_report import (
    ClassReport,
    Trouble,
    passed_cells,
)
from instructor.records.diagnosis import Verdict
from instructor.records.phases import DIAGNOSIS
from instructor.records.problems import sentences
from instructor.records.submission_flags import Flags

if TYPE_CHECKING:
    from instructor.coordinator.job import Result

MAX_NAMES = 12  # students listed per mistake on the page (the CSV has them all)


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
