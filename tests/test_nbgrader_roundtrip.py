"""The real nbgrader round trip in a scratch copy of the course: release, autograde a class of
submissions (solved, untouched, mistaken), feedback, CSV export."""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest

import course_tools
from mutants import MUTANTS, exercise_of

pytestmark = pytest.mark.slow
ASSIGNMENTS = course_tools.assignments()


@pytest.fixture(scope="module")
def graded(generated_course):
    """Autograde every assignment's class once; return (course root, expected results)."""
    root = generated_course
    api = course_tools.course_api(root)
    cases = {}
    for assignment in ASSIGNMENTS:
        solution = course_tools.read(course_tools.notebook_path(root / "solutions", assignment))
        release = course_tools.read(course_tools.notebook_path(root / "notebooks", assignment))
        students = {"solved": course_tools.make_submission(release, solution),
                    "untouched": course_tools.make_submission(release, solution, solved=False)}
        mutants = [m for m in MUTANTS if m.assignment == assignment and m.roundtrip]
        for i, mutant in enumerate(mutants):
            students[f"mistake{i}"] = course_tools.make_submission(
                release, solution, {mutant.cell: mutant.source})
        for student, nb in students.items():
            course_tools.submit(root, assignment, student, nb)
            result = api.autograde(assignment, student, force=True)
            assert result["success"], result["log"]
        cases[assignment] = (course_tools.grade_cells(solution), mutants)
    return root, cases


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solved_submission_gets_full_marks(graded, assignment):
    root, cases = graded
    points, _ = cases[assignment]
    assert course_tools.cell_scores(root, assignment, "solved") == points


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_untouched_release_gets_zero(graded, assignment):
    root, cases = graded
    scores = course_tools.cell_scores(root, assignment, "untouched")
    assert set(scores) == set(cases[assignment][0]) and sum(scores.values()) == 0


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_mistake_loses_points_on_its_own_exercise_only(graded, assignment):
    root, cases = graded
    points, mutants = cases[assignment]
    assert len(mutants) >= 3, "the round trip needs at least three plausible mistakes"
    for i, mutant in enumerate(mutants):
        scores = course_tools.cell_scores(root, assignment, f"mistake{i}")
        own = {g for g in points if exercise_of(g) == mutant.cell}
        lost = {g for g in points if scores[g] < points[g]}
        assert lost and lost <= own, f"{mutant.mistake}: lost {lost}, expected within {own}"
        assert 0 < sum(scores.values()) < sum(points.values())


def test_feedback_and_grade_export(graded):
    root, cases = graded
    api = course_tools.course_api(root)
    for assignment in ASSIGNMENTS:
        result = api.generate_feedback(assignment, "solved", force=True)
        assert result["success"], result["log"]
        html = list((root / "feedback" / "solved" / assignment).glob("*.html"))
        assert html and "rnn" in html[0].read_text(encoding="utf-8").lower()
    out = root / "grades.csv"
    subprocess.run([sys.executable, "-m", "nbgrader", "export", "--to", str(out)], cwd=root,
                   check=True, capture_output=True)
    rows = list(csv.DictReader(out.open()))
    by_student = {(r["assignment"], r["student_id"]): float(r["score"]) for r in rows}
    for assignment, (points, _) in cases.items():
        assert by_student[(assignment, "solved")] == sum(points.values())
        assert by_student[(assignment, "untouched")] == 0
