"""One final score per student and assignment (`instructor.scores.final_score`), read alike by the
class report, nbgrader's CSV, Canvas's and Moodle's imports: the automatic score, an instructor's
`rnn-course adjust` with its reason (kept, and flagged, across a resubmission), and the late penalty
from the configured due dates; a score set in nbgrader's formgrader never overrides it. Every
command refuses an assignment or student it does not know, listing the valid ones."""

from __future__ import annotations

import csv
import io
import zipfile
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime

import pytest

import course_tools
from instructor import cli
from instructor.coordinator.gradebook import Recorder, ensure_assignments
from instructor.coordinator.job import Grade, Result
from instructor.infrastructure.course_folder import db_url
from instructor.records.submission import Submission
from instructor.scores import adjustments
from instructor.scores.final_score import final_scores
from instructor.scores.lateness import Lateness, LatePolicy, deadlines, parse_time

A = "01_bptt"
DUE = """
[tool.rnn-course.due]
"01_bptt" = "2027-02-01T23:59:00+01:00"

[tool.rnn-course.late-penalty]
percent-per-day = 10
max-percent = 15
"""
ON_TIME = (2027, 2, 1, 20, 0, 0)  # 21:00 at +01:00, before the due date
TWO_DAYS_LATE = (2027, 2, 3, 10, 0, 0)  # 35 h after it: two started days


def with_due_dates(root):
    """A pyproject.toml in the scratch course: the course's, with due dates and a penalty."""
    text = (course_tools.ROOT / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(text + DUE)
    return root


def run_cli(root, *args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(["--root", str(root), *args])
    return code, out.getvalue(), err.getvalue()


def grade(root, student, fraction, when=None):
    """Record `fraction` of every cell's points for what `student` has in submitted/, with the
    digest of those files, as grading does."""
    path = course_tools.notebook_path(root / "solutions", A)
    cells = course_tools.grade_cells(course_tools.read(path))
    sub = Submission(root, A, student)
    with Recorder(root) as recorder:
        recorder.record(
            Result(
                A,
                student,
                [Grade(path.stem, c, fraction * p, p) for c, p in cells.items()],
                timestamp=datetime(*when).isoformat() if when else None,
                digest=sub.digest(),
            )
        )
    return fraction * sum(cells.values())


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("final")
    root = with_due_dates(course_tools.copy_course(tmp / "course"))
    ensure_assignments(root, [A])
    release = course_tools.notebook_path(root / "notebooks", A).read_text()
    solution = course_tools.notebook_path(root / "solutions", A).read_text()
    solved = release.replace("raise NotImplementedError()", "return 1")
    entries = {
        "ontimeann_101_1_01_bptt.ipynb": (solved, ON_TIME),
        "latebob_late_102_2_01_bptt.ipynb": (solved, ON_TIME),
        "slowcat_103_3_01_bptt.ipynb": (solved, TWO_DAYS_LATE),
        "solvedsol_104_4_01_bptt.ipynb": (solution, ON_TIME),
        "idleida_105_5_01_bptt.ipynb": (release, ON_TIME),
    }
    with zipfile.ZipFile(tmp / "canvas.zip", "w") as bulk:
        for name, (text, when) in entries.items():
            bulk.writestr(zipfile.ZipInfo(name, when), text)
    moodle = tmp / "moodle" / "Erin Jones_4242_assignsubmission_file_"
    moodle.mkdir(parents=True)
    (moodle / "01_bptt.ipynb").write_text(solved)
    assert run_cli(root, "collect", str(tmp / "canvas.zip"), "-a", A)[0] == 0
    assert run_cli(root, "collect", str(tmp / "moodle"), "-a", A)[0] == 0
    automatic = {
        "ontimeann": grade(root, "ontimeann", 0.5, ON_TIME),
        "latebob": grade(root, "latebob", 1.0, ON_TIME),
        "slowcat": grade(root, "slowcat", 1.0, TWO_DAYS_LATE),
        "solvedsol": grade(root, "solvedsol", 1.0, ON_TIME),
        "idleida": grade(root, "idleida", 0.0, ON_TIME),
        "erin_jones": grade(root, "erin_jones", 0.25, ON_TIME),
    }
    return root, automatic


def report_rows(root, tmp_path) -> dict[str, dict[str, str]]:
    code, _, err = run_cli(root, "report", "-a", A, "-o", str(tmp_path))
    assert code == 0, err
    with open(tmp_path / f"{A}.csv", newline="") as table:
        return {row["student"]: row for row in csv.DictReader(table)}


def exported(root, tmp_path) -> dict[str, dict[str, float]]:
    """student -> final score, as nbgrader's CSV, Canvas's import and Moodle's worksheet say."""
    found: dict[str, dict[str, float]] = {"nbgrader": {}, "canvas": {}, "moodle": {}}
    assert run_cli(root, "export", "-o", str(tmp_path / "grades.csv"))[0] == 0
    with open(tmp_path / "grades.csv", newline="") as table:
        for row in csv.DictReader(table):
            found["nbgrader"][row["student_id"]] = float(row["score"])
    assert run_cli(root, "export", "--format", "canvas", "-o", str(tmp_path / "c.csv"))[0] == 0
    with open(tmp_path / "c.csv", newline="") as table:
        for row in csv.DictReader(table):
            found["canvas"][row["Student"]] = float(row[A])
    assert run_cli(root, "export", "--format", "moodle", "-o", str(tmp_path / "m.csv"))[0] == 0
    with open(tmp_path / f"m-{A}.csv", newline="") as table:
        for row in csv.DictReader(table):
            found["moodle"][row["Full name"]] = float(row["Grade"])
    return found


def test_lateness_comes_from_the_lms_marker_and_the_due_date(course):
    root, automatic = course
    scores = final_scores(root).of(A)
    assert not scores["ontimeann"].lateness.late and scores["ontimeann"].penalty == 0
    bob = scores["latebob"]  # Canvas's _late_ marker, recorded time before the due date
    assert bob.lateness.late and bob.lateness.lms_marker and bob.lateness.days == 0
    assert bob.score == automatic["latebob"]  # flagged, not penalised
    cat = scores["slowcat"]  # two started days: 20 %, capped at 15 %
    assert cat.lateness.days == 2 and not cat.lateness.lms_marker
    assert cat.score == pytest.approx(automatic["slowcat"] * 0.85)


def test_an_adjustment_reaches_the_report_and_every_export(course, tmp_path):
    root, automatic = course
    code, said, err = run_cli(
        root, "adjust", "-a", A, "-s", "erin_jones", "--points", "2", "--reason", "test too strict"
    )
    assert code == 0, err
    assert "final score now" in said and adjustments.store(root).is_file()
    expected = automatic["erin_jones"] + 2
    rows = report_rows(root, tmp_path)
    assert float(rows["erin_jones"]["score"]) == pytest.approx(expected)
    assert rows["erin_jones"]["adjustment_reason"] == "test too strict"
    assert float(rows["slowcat"]["score"]) == pytest.approx(automatic["slowcat"] * 0.85)
    assert rows["slowcat"]["late"] == "1" and rows["slowcat"]["days_late"] == "2"
    every = exported(root, tmp_path)
    assert every["nbgrader"]["erin_jones"] == pytest.approx(expected)
    assert every["moodle"]["Erin Jones"] == pytest.approx(expected)
    assert every["nbgrader"]["slowcat"] == pytest.approx(every["canvas"]["slowcat"])
    assert every["canvas"]["slowcat"] == pytest.approx(automatic["slowcat"] * 0.85)
    page = (tmp_path / f"{A}.html").read_text()
    assert "test too strict" in page and "2 day(s) after the due date" in page
    code, listed, _ = run_cli(root, "adjust", "--list")
    assert "erin_jones: +2 points, 'test too strict'" in listed
    assert run_cli(root, "adjust", "-a", A, "-s", "erin_jones", "--remove")[0] == 0
    assert final_scores(root).of(A)["erin_jones"].score == automatic["erin_jones"]


def test_a_resubmission_keeps_the_adjustment_and_flags_it(course, tmp_path):
    """The rule: an adjustment made on an earlier submission still counts, flagged 'made on an
    earlier submission' in the report, the exports and --list, until made again or removed."""
    root, automatic = course
    args = ("adjust", "-a", A, "-s", "ontimeann", "--points", "-1", "--reason", "copied cell")
    assert run_cli(root, *args)[0] == 0
    assert not final_scores(root).of(A)["ontimeann"].stale
    notebook = Submission(root, A, "ontimeann").folder / f"{A}.ipynb"
    notebook.write_text(notebook.read_text().replace("return 1", "return 2"))
    new = grade(root, "ontimeann", 1.0, ON_TIME)
    score = final_scores(root).of(A)["ontimeann"]
    assert score.stale and score.score == pytest.approx(new - 1)
    row = report_rows(root, tmp_path)["ontimeann"]
    assert row["adjustment_on_earlier_submission"] == "1"
    assert float(row["score"]) == pytest.approx(new - 1)
    code, said, _ = run_cli(root, "export", "--format", "canvas", "-o", str(tmp_path / "c.csv"))
    assert "ontimeann" in said and "made on an earlier submission" in said
    assert "[made on an earlier submission]" in run_cli(root, "adjust", "--list")[1]
    assert run_cli(root, *args)[0] == 0  # confirmed on the new submission
    assert not final_scores(root).of(A)["ontimeann"].stale
    assert run_cli(root, "adjust", "-a", A, "-s", "ontimeann", "--remove")[0] == 0


def test_a_formgrader_score_never_overrides_the_automatic_one(course, tmp_path):
    """A manual score set in nbgrader's formgrader (kept in the gradebook across a regrade) is
    not part of the final score; the report and the exports say it was ignored."""
    from nbgrader.api import Gradebook

    root, automatic = course
    with Gradebook(db_url(root)) as gb:
        submission = gb.find_submission(A, "idleida")
        cell = submission.notebooks[0].grades[0]
        cell.manual_score = cell.max_score
        gb.db.commit()
    assert final_scores(root).of(A)["idleida"].score == automatic["idleida"] == 0
    row = report_rows(root, tmp_path)["idleida"]
    assert row["score"] == "0" and "formgrader score" in row["notes"]
    every = exported(root, tmp_path)
    assert every["nbgrader"]["idleida"] == every["canvas"]["idleida"] == 0


def test_the_report_lists_students_with_their_flags(course, tmp_path):
    root, _ = course
    rows = report_rows(root, tmp_path)
    assert rows["idleida"]["untouched"] == "1" and rows["solvedsol"]["untouched"] == "0"
    assert rows["solvedsol"]["solution_notebook"] == "1"
    assert rows["ontimeann"]["solution_notebook"] == "0"
    assert rows["latebob"]["late"] == "1" and rows["latebob"]["days_late"] == "0"
    page = (tmp_path / f"{A}.html").read_text()
    table = page.split("<h2>Students</h2>")[1].split("</table>")[0]
    order = [s for s in rows if f"<td>{s}</td>" in table]
    assert sorted(order, key=lambda s: table.index(f"<td>{s}</td>"))[0] == "idleida"  # lowest
    assert "untouched: no exercise attempted" in table
    assert "the solution notebook (hidden tests present)" in table
    assert "marked late by the LMS" in table
    assert "<script" not in page


@pytest.mark.parametrize(
    "args, listed",
    [
        (("report", "-a", "01_bpt"), "01_bptt"),
        (("export", "--format", "canvas", "-a", "01_bpt"), "01_bptt"),
        (("feedback", "-s", "typo"), "ontimeann"),
        (("feedback", "-a", "nope"), "01_bptt"),
        (("adjust", "-a", A, "-s", "typo", "--points", "1", "--reason", "x"), "ontimeann"),
        (("release", "-a", "01_bpt"), "01_bptt"),
    ],
)
def test_unknown_assignments_and_students_are_refused_with_the_valid_ones(
    course, tmp_path, args, listed
):
    root, _ = course
    code, said, err = run_cli(root, *args)
    assert code == 2 and listed in err and ("typo" in err or "01_bpt" in err or "nope" in err)
    assert not said


def test_collect_requires_one_assignment_and_says_so():
    helped = cli.parser().parse_args(["collect", "x", "-a", A])
    assert helped.assignment == A
    text = [a for a in cli.parser()._subparsers._group_actions[0].choices["collect"]._actions]
    assignment = next(a for a in text if "--assignment" in a.option_strings)
    assert assignment.required and "repeatable" not in assignment.help
    with pytest.raises(SystemExit), redirect_stderr(io.StringIO()):
        cli.parser().parse_args(["collect", "x"])


def test_due_dates_and_policy_are_read_and_checked(tmp_path):
    (tmp_path / "pyproject.toml").write_text(DUE)
    rules = deadlines(tmp_path, [A])
    assert rules.due[A] == datetime(2027, 2, 1, 22, 59, tzinfo=UTC)
    assert rules.policy == LatePolicy(10.0, 15.0) and rules.policy.percent(1) == 10
    with pytest.raises(ValueError, match="no assignment"):
        deadlines(tmp_path, ["02_vanishing"])
    with pytest.raises(ValueError, match="UTC offset"):
        parse_time("2027-02-01T23:59", "due")
    (tmp_path / "pyproject.toml").write_text("[tool.rnn-course.late-penalty]\nmax-percent = 5\n")
    with pytest.raises(ValueError, match="percent-per-day"):
        deadlines(tmp_path)
    due = datetime(2027, 2, 1, tzinfo=UTC)
    assert Lateness(datetime(2027, 2, 1, 0, 1, tzinfo=UTC), due).days == 1
    assert Lateness(due, due).late is False


def test_the_feedback_page_shows_the_final_score(course):
    """Feedback reads the same final score: automatic, adjustment with its reason, lateness."""
    from instructor.output.final_score_note import add_final_scores

    root, automatic = course
    args = ("adjust", "-a", A, "-s", "slowcat", "--points", "-3", "--reason", "late <b>note</b>")
    assert run_cli(root, *args)[0] == 0
    page = root / "feedback" / "slowcat" / A / f"{A}.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    # A student's text naming the box's class (attack, issue 26 review) does not stop it.
    page.write_text(
        '<html><head></head><body><p>Score: 15 / 15</p><pre>class="final-score"</pre></body></html>'
    )
    add_final_scores(root, [page])
    add_final_scores(root, [page])  # once only
    text = page.read_text()
    final = (automatic["slowcat"] - 3) * 0.85
    assert text.count("Final grade") == 1 and f"Final grade: {final:g} / 15" in text
    assert "late &lt;b&gt;note&lt;/b&gt;" in text and "2 day(s) after the due date" in text
    assert run_cli(root, "adjust", "-a", A, "-s", "slowcat", "--remove")[0] == 0
