"""Autograding a whole class the way an instructor does (`instructor.autograde`, two workers):
the round trip (solved, untouched, mistaken), tampering attempts, broken submissions,
feedback without hidden tests, CSV export, and resuming an interrupted or repeated run."""

from __future__ import annotations

import csv
import sqlite3
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import course_tools
from attacks import ATTACKS, BROKEN, broken_answers
from instructor import confine
from instructor.autograde import Job as GradingJob
from instructor.autograde import autograde, log_path
from mutants import MUTANTS, exercise_of

pytestmark = pytest.mark.slow
ASSIGNMENTS = course_tools.assignments()
ASSIGNMENT = "01_bptt"  # the attacks and broken submissions are written against notebook 01
# Short limits so that hanging submissions cost seconds, not minutes (30 s per cell leaves room
# for the set-up cell of a kernel that shares two cores with the others).
TEST_LIMITS = """
c.Execute.timeout = 30
c.TrustedGrading.setup_timeout = 6
c.TrustedGrading.call_timeout = 6
"""
def build_class(root):
    """Write every kind of submission into submitted/; return the bytes of files that
    tampering must not change."""
    for assignment in ASSIGNMENTS:
        solution = course_tools.read(course_tools.notebook_path(root / "solutions", assignment))
        release = course_tools.read(course_tools.notebook_path(root / "notebooks", assignment))
        course_tools.submit(root, assignment, "solved",
                            course_tools.make_submission(release, solution))
        course_tools.submit(root, assignment, "untouched",
                            course_tools.make_submission(release, solution, solved=False))
        mutants = [m for m in MUTANTS if m.assignment == assignment and m.roundtrip]
        for i, mutant in enumerate(mutants):
            course_tools.submit(root, assignment, f"mistake{i}", course_tools.make_submission(
                release, solution, {mutant.cell: mutant.source}))
    solution = course_tools.read(course_tools.notebook_path(root / "solutions", ASSIGNMENT))
    release = course_tools.read(course_tools.notebook_path(root / "notebooks", ASSIGNMENT))
    for attack in ATTACKS:
        course_tools.submit(root, ASSIGNMENT, attack.student, course_tools.make_submission(
            release, solution, {attack.cell: attack.source.replace("{root}", str(root))}))
    for student, replace in BROKEN.items():
        course_tools.submit(root, ASSIGNMENT, student, course_tools.make_submission(
            release, solution, broken_answers(solution, replace)))
    edited = course_tools.make_submission(release, solution, {
        "rnn_forward": "def rnn_forward(xs, h0, W_xh, W_hh, b_h):\n    return np.zeros("
                       "(xs.shape[0],) + h0.shape)\n"})
    edited.cells = [c for c in edited.cells
                    if course_tools.nbgrader_meta(c).get("grade_id") != "hidden_rnn_forward"]
    for cell in edited.cells:
        if course_tools.nbgrader_meta(cell).get("grade_id") == "test_rnn_forward":
            cell.source = "print('all good')"
    course_tools.submit(root, ASSIGNMENT, "edits_tests", edited)
    path = course_tools.submit(root, ASSIGNMENT, "broken_json", release)
    path.write_text(path.read_text()[:5000])
    path = course_tools.submit(root, ASSIGNMENT, "renamed", course_tools.make_submission(
        release, solution))
    path.rename(path.with_name(f"{ASSIGNMENT} (1).ipynb"))
    import helpers.checks

    guarded = [root / "nbgrader_config.py", root / "submitted/solved" / ASSIGNMENT /
               f"{ASSIGNMENT}.ipynb", Path(helpers.checks.__file__)]
    return {p: p.read_bytes() for p in guarded}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = course_tools.copy_course(tmp_path_factory.mktemp("class"))
    with open(root / "nbgrader_config.py", "a") as config:
        config.write(TEST_LIMITS)
    course_tools.generate_release(root)
    guarded = build_class(root)
    summary = autograde(root, workers=2, progress=False)
    return root, summary, guarded


def points(root, assignment=ASSIGNMENT):
    return course_tools.grade_cells(
        course_tools.read(course_tools.notebook_path(root / "solutions", assignment)))


def scores(root, student, assignment=ASSIGNMENT):
    return course_tools.cell_scores(root, assignment, student)


def summary_line(summary, student):
    found = [line for line in summary.lines() if f"/{student}:" in line]
    return found[0] if found else ""


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solved_submission_gets_full_marks(graded, assignment):
    root, summary, _ = graded
    assert scores(root, "solved", assignment) == points(root, assignment)
    assert not summary_line(summary, "solved")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_untouched_release_gets_zero(graded, assignment):
    root, _, _ = graded
    got = scores(root, "untouched", assignment)
    assert set(got) == set(points(root, assignment)) and sum(got.values()) == 0


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_mistake_loses_points_on_its_own_exercise_only(graded, assignment):
    root, _, _ = graded
    full = points(root, assignment)
    mutants = [m for m in MUTANTS if m.assignment == assignment and m.roundtrip]
    assert len(mutants) >= 3, "the round trip needs at least three plausible mistakes"
    for i, mutant in enumerate(mutants):
        got = scores(root, f"mistake{i}", assignment)
        own = {g for g in full if exercise_of(g) == mutant.cell}
        lost = {g for g in full if got[g] < full[g]}
        assert lost and lost <= own, f"{mutant.mistake}: lost {lost}, expected within {own}"


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.student)
def test_tampering_earns_nothing(graded, attack):
    root, _, _ = graded
    got = scores(root, attack.student)
    attacked = {g: s for g, s in got.items() if exercise_of(g) in attack.attacked}
    assert attacked and not any(attacked.values()), f"{attack.trick} earned {attacked}"


def test_tampering_changed_no_file_and_no_grade_of_anyone_else(graded):
    root, _, guarded = graded
    for path, data in guarded.items():
        assert path.read_bytes() == data, f"{path} was changed by a submission"
    with sqlite3.connect(root / "gradebook.db") as db:
        worst = db.execute("select max(grade.auto_score - grade_cells.max_score) from grade "
                           "join grade_cells on grade.cell_id = grade_cells.id").fetchone()[0]
    assert worst <= 0, "a score above its cell's maximum reached the gradebook"


def test_a_hidden_test_cannot_be_edited_or_deleted_away(graded):
    root, _, _ = graded
    got = scores(root, "edits_tests")
    assert got["test_rnn_forward"] == 0 and got["hidden_rnn_forward"] == 0
    assert got["test_rnn_step_forward"] == 1 and got["hidden_relative_error"] == 1


@pytest.mark.parametrize("student, lost, kept, reported", [
    ("raises", {"rnn_step_forward", "rnn_forward"}, {"numerical_gradient", "relative_error"},
     ""),
    ("hangs_top_level", {"relative_error"}, {"rnn_step_forward", "rnn_backward"},
     "per-cell time limit"),
    ("hangs_in_call", {"rnn_backward"}, {"rnn_forward", "relative_error"},
     "ran past its time limit"),
    ("kills_kernel", {"numerical_gradient"}, {"rnn_backward", "relative_error"},
     "kernel died"),
    ("floods_output", set(), {"rnn_step_forward", "relative_error"}, ""),
    ("broken_json", {"rnn_step_forward", "relative_error"}, set(), "not a valid notebook"),
    ("renamed", {"rnn_step_forward", "relative_error"}, set(),
     "no 01_bptt.ipynb in the submission (found 01_bptt (1).ipynb)"),
])
def test_a_bad_submission_costs_only_its_own_points(graded, student, lost, kept, reported):
    root, summary, _ = graded
    got, full = scores(root, student), points(root)
    for grade_id, score in got.items():
        if exercise_of(grade_id) in lost:
            assert score == 0, f"{student}: {grade_id} scored {score}"
        if exercise_of(grade_id) in kept:
            assert score == full[grade_id], f"{student}: {grade_id} lost points"
    if confine.kernel_confinement() is None or reported in ("", "not a valid notebook") \
            or reported.startswith("no 01_bptt"):  # the rest is seen in the kernel's run
        assert reported in summary_line(summary, student), summary.lines()
    assert log_path(root, GradingJob(ASSIGNMENT, student)).is_file()


def test_huge_output_is_truncated_in_the_graded_notebook(graded):
    root, _, _ = graded
    nb = course_tools.read(root / "autograded/floods_output" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    assert len(nbformat.writes(nb)) < 2_000_000


def test_plain_nbgrader_autograde_uses_the_same_protection(graded):
    """`nbgrader autograde` with the course's config (no coordinator) is just as safe."""
    root, _, _ = graded
    attack = next(a for a in ATTACKS if a.student == "patches_helpers")
    result = course_tools.course_api(root).autograde(ASSIGNMENT, attack.student, force=True)
    assert result["success"], result["log"]
    assert not any(s for g, s in scores(root, attack.student).items()
                   if exercise_of(g) in attack.attacked)


def _rnn_course(root, *args):
    return subprocess.run([sys.executable, "-m", "instructor.cli", "--root", str(root), *args],
                          capture_output=True, text=True, check=True).stdout


def test_feedback_hides_hidden_tests_and_export_matches_the_gradebook(graded):
    root, _, _ = graded
    _rnn_course(root, "feedback", "-s", "solved", "-s", "mistake0")
    for student in ("solved", "mistake0"):
        html = (root / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
        assert "hidden tests ran here" in html
        for hidden_line in ("BEGIN HIDDEN TESTS", "check_rnn_backward(rnn_backward, _case)",
                            "_case.dhs[-1] = 1.0"):
            assert hidden_line not in html, f"{student}'s feedback shows {hidden_line!r}"
    assert "rnn_backward: " in (root / "feedback/mistake0" / ASSIGNMENT /
                                f"{ASSIGNMENT}.html").read_text()
    _rnn_course(root, "export", "-o", "grades.csv")
    rows = {(r["assignment"], r["student_id"]): float(r["score"])
            for r in csv.DictReader((root / "grades.csv").open())}
    for assignment in ASSIGNMENTS:
        assert rows[(assignment, "solved")] == sum(points(root, assignment).values())
        assert rows[(assignment, "untouched")] == 0
    assert rows[(ASSIGNMENT, "broken_json")] == 0


def _submissions(root):
    with sqlite3.connect(root / "gradebook.db") as db:
        return db.execute("select count(*), count(distinct student_id || assignment_id) "
                          "from submitted_assignment").fetchone()


def test_rerun_resumes_and_regrades_only_what_changed(graded):
    """Runs last in this module: it changes the class."""
    root, summary, _ = graded
    before = _submissions(root)
    again = autograde(root, workers=2, progress=False)
    assert not again.graded and len(again.skipped) == len(summary.graded) + len(summary.skipped)
    # a resubmission, and a run interrupted after one student's grades were committed
    solution = course_tools.read(course_tools.notebook_path(root / "solutions", ASSIGNMENT))
    release = course_tools.read(course_tools.notebook_path(root / "notebooks", ASSIGNMENT))
    course_tools.submit(root, ASSIGNMENT, "mistake0",
                        course_tools.make_submission(release, solution))
    (root / ".grading/done" / ASSIGNMENT / "untouched.json").unlink()
    resumed = autograde(root, workers=2, progress=False)
    assert sorted(r.student for r in resumed.graded) == ["mistake0", "untouched"]
    assert scores(root, "mistake0") == points(root)
    assert sum(scores(root, "untouched").values()) == 0
    count, distinct = _submissions(root)
    assert count == distinct == before[0], "a submission was lost or duplicated"
