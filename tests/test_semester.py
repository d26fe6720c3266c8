"""A semester, played end to end through `rnn-course` as an instructor runs it.

Two assignments: notebook 01 collected from a Canvas bulk download, and a small notebook (the
example of CONTRIBUTING.md) from a Moodle one, 30 students in all, among them two of the same
display name in each LMS, a non-ASCII name, a late submission, an unreadable notebook, a known
mistake and a resubmission. Then autograde, an adjustment by hand, the resubmission graded,
feedback packed for Moodle, the class report and both LMS exports. Every student's final grade
is checked in the file the LMS imports, with the report's row and the late flags; and
publishing into a clone of the student repository keeps its `.git`.
"""

from __future__ import annotations

import csv
import io
import subprocess
import zipfile
from contextlib import redirect_stderr, redirect_stdout

import jupytext
import nbformat
import pytest
from test_contributing import EXAMPLE, example_sources

import course_tools
from instructor import cli
from instructor.commands.publish import build
from instructor.diagnosis import catalogue

pytestmark = pytest.mark.slow
CANVAS = "01_bptt"
MOODLE = EXAMPLE
DUE = f"""
[tool.rnn-course.due]
"{CANVAS}" = "2027-02-01T23:59:00+00:00"
"{MOODLE}" = "2027-03-01T23:59:00+00:00"
"""
LIMITS = """
c.Execute.timeout = 60
c.TrustedGrading.setup_timeout = 10
c.TrustedGrading.call_timeout = 10
"""
ON_TIME = (2027, 2, 1, 12, 0, 0)
ON_TIME_MOODLE = (2027, 3, 1, 12, 0, 0)
LATE = (2027, 2, 2, 9, 0, 0)


def run_cli(root, *args) -> str:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(["--root", str(root), *args])
    assert code == 0, f"rnn-course {' '.join(args)} failed:\n{err.getvalue()}"
    return out.getvalue()


def _notebooks(root, assignment):
    solution = course_tools.read(course_tools.notebook_path(root / "solutions", assignment))
    release = course_tools.read(course_tools.notebook_path(root / "notebooks", assignment))
    return solution, release


def _text(nb) -> str:
    return nbformat.writes(nb)


def _mistaken(root, assignment, solution, release) -> str:
    """A submission with one roundtrip catalogue mistake (it costs its own exercise only)."""
    entry = next(e for e in catalogue.load(root / "solutions", assignment) if e.roundtrip)
    return _text(course_tools.make_submission(release, solution, {entry.exercise: entry.source}))


@pytest.fixture(scope="module")
def semester(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("semester")
    root = course_tools.copy_course(tmp / "course")
    (root / "pyproject.toml").write_text((course_tools.ROOT / "pyproject.toml").read_text() + DUE)
    with open(root / "nbgrader_config.py", "a") as config:
        config.write(LIMITS)
    twin, mistakes = example_sources()
    (root / "solutions" / MOODLE).mkdir()
    (root / "solutions" / MOODLE / "mistakes.py").write_text(mistakes)
    nbformat.write(
        jupytext.reads(twin, fmt="py:percent"), root / "solutions" / MOODLE / f"{MOODLE}.ipynb"
    )
    run_cli(root, "release", "-a", CANVAS, "-a", MOODLE)

    # Canvas: name_userid_submissionid_file; `_late_` marks a late one.
    sol, rel = _notebooks(root, CANVAS)
    solved, untouched = _text(course_tools.make_submission(rel, sol)), _text(rel)
    canvas = {
        "adaada_201_1_01_bptt.ipynb": (solved, ON_TIME),
        "bakerben_202_2_01_bptt.ipynb": (solved, ON_TIME),
        "chencara_203_3_01_bptt.ipynb": (solved, ON_TIME),
        "dimadan_204_4_01_bptt.ipynb": (untouched, ON_TIME),
        "evanseve_205_5_01_bptt.ipynb": (untouched, ON_TIME),
        "fofinn_206_6_01_bptt.ipynb": (untouched, ON_TIME),
        "garciagil_207_7_01_bptt.ipynb": (_mistaken(root, CANVAS, sol, rel), ON_TIME),
        "hillhal_208_8_01_bptt.ipynb": (solved[:4000], ON_TIME),  # unreadable
        "ivanovivy_late_209_9_01_bptt.ipynb": (solved, LATE),
        "smithjohn_210_10_01_bptt.ipynb": (solved, ON_TIME),
        "smithjohn_211_11_01_bptt.ipynb": (untouched, ON_TIME),
        "jonesjo_212_12_01_bptt.ipynb": (untouched, ON_TIME),  # resubmits, solved
        "kimkai_213_13_01_bptt.ipynb": (solved, ON_TIME),
        "leelou_214_14_01_bptt.ipynb": (untouched, ON_TIME),
    }
    with zipfile.ZipFile(tmp / "canvas.zip", "w") as bulk:
        for name, (text, when) in canvas.items():
            bulk.writestr(zipfile.ZipInfo(name, when), text)

    # Moodle: a folder per participant, "Full Name_<id>_assignsubmission_file_".
    sol9, rel9 = _notebooks(root, MOODLE)
    solved9, untouched9 = _text(course_tools.make_submission(rel9, sol9)), _text(rel9)
    wrong9 = _mistaken(root, MOODLE, sol9, rel9)
    names = [
        "Zoë Ångström",
        "Li Wei",
        "Li Wei",
        *(f"Student {chr(65 + i)}" for i in range(13)),
    ]
    moodle = {}
    for i, name in enumerate(names):
        text = (solved9, wrong9, untouched9)[i % 3]
        moodle[f"{name}_{5001 + i}_assignsubmission_file_/{MOODLE}.ipynb"] = text
    with zipfile.ZipFile(tmp / "moodle.zip", "w") as bulk:
        for name, text in moodle.items():
            bulk.writestr(zipfile.ZipInfo(name, ON_TIME_MOODLE), text)

    collected = run_cli(root, "collect", str(tmp / "canvas.zip"), "-a", CANVAS)
    collected += run_cli(root, "collect", str(tmp / "moodle.zip"), "-a", MOODLE)
    run_cli(root, "autograde", "-j", "2", "-q")
    run_cli(root, "adjust", "-a", CANVAS, "-s", "jonesjo", "--points", "2", "--reason", "oral exam")

    # The resubmission: jonesjo's second upload (a later attachment id), now solved.
    with zipfile.ZipFile(tmp / "canvas2.zip", "w") as bulk:
        bulk.writestr(zipfile.ZipInfo("jonesjo_212_15_01_bptt.ipynb", ON_TIME), solved)
    collected += run_cli(root, "collect", str(tmp / "canvas2.zip"), "-a", CANVAS)
    graded_again = run_cli(root, "autograde", "-j", "2", "-q")
    run_cli(root, "feedback", "-a", MOODLE, "--lms", "moodle")
    run_cli(root, "feedback", "-a", CANVAS)
    run_cli(root, "report", "-o", str(tmp / "reports"))
    run_cli(root, "export", "--format", "canvas", "-o", str(tmp / "canvas.csv"))
    run_cli(root, "export", "--format", "moodle", "-o", str(tmp / "moodle.csv"))
    points = {
        a: sum(course_tools.grade_cells(_notebooks(root, a)[0]).values()) for a in (CANVAS, MOODLE)
    }
    return root, tmp, points, collected, graded_again, names


def _rows(path):
    with open(path, newline="", encoding="utf-8") as table:
        return list(csv.DictReader(table))


def test_every_canvas_students_final_grade(semester):
    root, tmp, points, *_ = semester
    grades = {row["ID"]: row for row in _rows(tmp / "canvas.csv")}
    column = next(c for c in next(iter(grades.values())) if CANVAS in c)
    got = {uid: float(row[column]) if row[column] else None for uid, row in grades.items()}
    full = points[CANVAS]
    for uid in ("201", "202", "203", "209", "210", "213"):
        assert got[uid] == full, (uid, got[uid])
    for uid in ("204", "205", "206", "211", "214", "208"):
        assert got[uid] == 0, (uid, got[uid])
    assert 0 < got["207"] < full, "a known mistake costs its own exercise's points only"
    assert got["212"] == full, "resubmitted solved; the +2 adjustment cannot pass the maximum"
    assert len(got) == 14, sorted(got)
    assert grades["210"]["Student"] == grades["211"]["Student"], "two of one name, two rows"


def test_every_moodle_students_final_grade(semester):
    root, tmp, points, *_, names = semester
    rows = _rows(tmp / f"moodle-{MOODLE}.csv")
    assert len(rows) == len(names) == 16
    by_id = {row["Identifier"]: float(row["Grade"]) for row in rows}
    for i, _name in enumerate(names):
        expected = (points[MOODLE], 0.0, 0.0)[i % 3]  # solved, its one exercise wrong, untouched
        assert by_id[f"Participant {5001 + i}"] == expected, (i, by_id)
    assert "Zoë Ångström" in {row["Full name"] for row in rows}


def test_the_report_shows_each_student_late_work_and_the_adjustment(semester):
    root, tmp, points, collected, graded_again, _ = semester
    rows = {row["student"]: row for row in _rows(tmp / "reports" / f"{CANVAS}.csv")}
    assert len(rows) == 14, sorted(rows)
    late = {s for s, row in rows.items() if row.get("late") == "1"}
    assert late == {"ivanovivy"}, late
    untouched = {s for s, row in rows.items() if row.get("untouched") == "1"}
    assert {"dimadan", "evanseve", "fofinn", "leelou"} <= untouched
    jones = rows["jonesjo"]
    assert jones["adjustment"] == "2" and "oral exam" in jones["adjustment_reason"]
    assert jones["adjustment_on_earlier_submission"] == "1"
    assert float(jones["automatic_score"]) == points[CANVAS]
    assert rows["hillhal"].get("trouble"), "the unreadable notebook is listed with its trouble"
    assert "ivanovivy" in collected and "late" in collected
    assert "graded 1 submission" in graded_again, graded_again
    html = (tmp / "reports" / f"{CANVAS}.html").read_text()
    assert "oral exam" in html and "jonesjo" in html


def test_feedback_has_a_page_for_everyone_and_a_moodle_bundle(semester):
    root, tmp, *_, names = semester
    pages = sorted((root / "feedback").glob(f"*/{CANVAS}/*.html"))
    assert len(pages) == 14, [p.parent.parent.name for p in pages]
    unreadable = next(p for p in pages if p.parent.parent.name == "hillhal").read_text()
    assert "could not be graded" in unreadable.lower() or "unreadable" in unreadable.lower()
    bundle = next((root / "feedback").glob(f"{MOODLE}-moodle.zip"))
    with zipfile.ZipFile(bundle) as packed:
        folders = {name.split("/")[0] for name in packed.namelist()}
    assert len(folders) == len(names), folders


def test_publishing_into_a_clone_keeps_its_git(tmp_path):
    clone = tmp_path / "student-edition"
    subprocess.run(["git", "init", "-q", str(clone)], check=True)
    head = (clone / ".git" / "HEAD").read_text()
    build(course_tools.ROOT, clone)
    build(course_tools.ROOT, clone)
    assert (clone / ".git" / "HEAD").read_text() == head
    assert (clone / "notebooks" / CANVAS / f"{CANVAS}.ipynb").is_file()
