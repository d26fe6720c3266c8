"""Every exercise's checks pass the model solution and take points from each plausible mistake,
on its own exercise only: an exercise that calls the mistaken one is graded with the model
solution of what it calls (instructor/infrastructure/sandbox/model_calls.py).

Grades with the course's trusted grader (instructor.grading.trusted_run.grade_submission: the
instructor's tests in this process, the student's functions in a sandbox process), without a kernel
run; the real nbgrader round trip (a class graded through `rnn-course autograde`) is in
test_grading.py.
"""

from __future__ import annotations

import matplotlib
import pytest

import course_tools
from instructor.grading.trusted_run import grade_submission
from mutants import MUTANTS, exercise_of

matplotlib.use("Agg")


def grade(solution_nb, replace=None):
    """grade_id -> Outcome for the model solution with some exercise cells replaced."""
    release_like = course_tools.make_submission(solution_nb, solution_nb, replace)
    return grade_submission(solution_nb, release_like)


@pytest.fixture(scope="module")
def solution_notebooks():
    return {
        a: course_tools.read(course_tools.notebook_path(course_tools.ROOT / "solutions", a))
        for a in course_tools.assignments()
    }


@pytest.mark.parametrize("assignment", course_tools.assignments())
def test_model_solution_passes_every_check(assignment, solution_notebooks):
    results = grade(solution_notebooks[assignment])
    failed = {gid: r.error for gid, r in results.items() if not r.passed}
    assert results and not failed, f"the model solution fails: {failed}"


@pytest.mark.parametrize("assignment", course_tools.assignments())
def test_every_exercise_has_visible_and_hidden_tests(assignment, solution_notebooks):
    nb = solution_notebooks[assignment]
    exercises = {
        course_tools.nbgrader_meta(c)["grade_id"]
        for c in nb.cells
        if course_tools.nbgrader_meta(c).get("solution")
    }
    graded = set(course_tools.grade_cells(nb))
    for name in exercises:
        assert f"test_{name}" in graded, f"{name} has no visible test cell test_{name}"
        assert f"hidden_{name}" in graded, f"{name} has no hidden test cell hidden_{name}"
    hidden = [
        c.source
        for c in nb.cells
        if course_tools.nbgrader_meta(c).get("grade")
        and course_tools.nbgrader_meta(c)["grade_id"].startswith("hidden_")
    ]
    assert all("### BEGIN HIDDEN TESTS" in src for src in hidden)


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: f"{m.assignment}: {m.cell}: {m.mistake}")
def test_mistake_loses_points(mutant, solution_notebooks):
    results = grade(solution_notebooks[mutant.assignment], {mutant.cell: mutant.source})
    own = {gid: r for gid, r in results.items() if exercise_of(gid) == mutant.cell}
    assert own, f"no test cells found for {mutant.cell}"
    failing = [r for r in own.values() if not r.passed]
    assert failing, f"'{mutant.mistake}' passes every test of {mutant.cell}"
    elsewhere = {gid: r.error for gid, r in results.items() if gid not in own and not r.passed}
    assert not elsewhere, f"'{mutant.mistake}' also costs the points of {elsewhere}"
    for r in failing:
        # A student sees a five-part message, never a bare AssertionError or a NameError.
        name, message = r.error
        assert name == "CheckFailure", f"{r.grade_id} failed with {name}: {message}"
        for part in ("input:", "returned:", "expected:", "hint:"):
            assert part in message, f"{r.grade_id}'s message lacks '{part}': {message}"
