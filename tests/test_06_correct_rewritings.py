"""Notebook 06's checks accept correct rewritings of an exercise, not only the model solution.

test_exercise_mutants.py checks that every catalogued mistake loses points; here a correct answer
written another way must get every point. elu_grad as elu(x) + alpha is the standard rewriting
(f'(x) = f(x) + alpha for x <= 0): where exp(x) is tiny it loses digits to cancellation (relative
error 1.7e-4 at x = -30, an absolute error below one machine epsilon times alpha), and a check
with a relative tolerance alone rejected it. elu as alpha * (exp(x) - 1), what its docstring
says, loses an absolute epsilon times alpha to cancellation near 0 (relative error 2.8e-9 at
x = -1e-9, and 0 at x = -1e-300), and the same allowance accepts it.
"""

from __future__ import annotations

import matplotlib
import pytest

import course_tools
from instructor.grading.trusted_run import grade_submission

matplotlib.use("Agg")

ASSIGNMENT = "06_initialization"

REWRITINGS = {
    "elu as alpha * (exp(x) - 1), without expm1": (
        "elu",
        "def elu(x, alpha=1.0):\n"
        "    x = np.asarray(x, dtype=np.float64)\n"
        "    return np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0)) - 1))\n",
    ),
    "elu_grad as elu(x) + alpha": (
        "elu_grad",
        "def elu_grad(x, alpha=1.0):\n"
        "    x = np.asarray(x, dtype=np.float64)\n"
        "    return np.where(x > 0, 1.0, elu(x, alpha) + alpha)\n",
    ),
    "elu_grad as alpha * (exp(x) - 1) + alpha": (
        "elu_grad",
        "def elu_grad(x, alpha=1.0):\n"
        "    x = np.asarray(x, dtype=np.float64)\n"
        "    return np.where(x > 0, 1.0, alpha * (np.exp(np.minimum(x, 0.0)) - 1) + alpha)\n",
    ),
}


@pytest.mark.parametrize("name", list(REWRITINGS))
def test_correct_rewriting_gets_every_point(name):
    exercise, source = REWRITINGS[name]
    solution = course_tools.read(
        course_tools.notebook_path(course_tools.ROOT / "solutions", ASSIGNMENT)
    )
    submission = course_tools.make_submission(solution, solution, {exercise: source})
    results = grade_submission(solution, submission)
    failed = {gid: r.error for gid, r in results.items() if not r.passed}
    assert not failed, f"{name} is correct but lost points: {failed}"
