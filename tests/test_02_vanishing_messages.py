"""Notebook 02's visible checks point at the cause of each catalogued mistake.

A self-learner has only the visible check (issue 27): a mistake that passes it and fails only the
hidden tests is told "passed". test_exercise_mutants.py checks that every mistake loses points,
test_known_mistakes.py that each already fails the visible check; here its message must say
where to look (the harness: message_harness.py).
"""

from __future__ import annotations

import pytest

from message_harness import Notebook

ASSIGNMENT = "02_vanishing"
EXERCISES = (
    "sigmoid",
    "sigmoid_grad",
    "tanh_grad",
    "hidden_jacobian",
    "jacobian_product_norms",
    "latch_fixed_point",
    "latch_gain",
)

# mistake id -> (what the message's first line names, phrases its hint must hold)
EXPECTED = {
    "sigmoid_in_float32": ("sigmoid(x) has dtype float32", ["float64 in, float64 out"]),
    "tanh_grad_in_float32": ("tanh_grad(x) has dtype float32", ["float64 in, float64 out"]),
    "relu_derivative_1_at_a_0": ("J is wrong", ["exactly 0, where relu' is 0"]),
    "unknown_activation_treated_as_linear": (
        "accepted an unknown activation",
        ["raise ValueError for any other name"],
    ),
    "a_fixed_number_of_iterations_not_a": (
        "is not a fixed point",
        ["until an iteration changes x by less than tol", "not a fixed number of times"],
    ),
    "refuses_w_1_but_not_w_1": (
        "self-weight that stores nothing",
        ["w = 1 stores nothing too", "w = 1 included"],
    ),
    "no_valueerror_for_w_1": (
        "accepted a self-weight that stores nothing",
        ["w <= 1", "raise ValueError"],
    ),
}

NB = Notebook(ASSIGNMENT, setup=(*EXERCISES, "checking_tools"), exercises=EXERCISES)


@pytest.mark.parametrize("mistake_id", sorted(EXPECTED))
def test_the_visible_check_points_at_the_cause(mistake_id, capsys):
    problem, phrases = EXPECTED[mistake_id]
    NB.expect_message(mistake_id, problem=problem, hint=phrases)


def test_the_model_answers_pass_their_visible_checks(capsys):
    NB.run_visible_checks()


# Review 12: correct rewritings that round differently where the value is tiny pass the checks
CORRECT_REWRITINGS = {
    "sigmoid": [
        "def sigmoid(x):\n    return 0.5 * (1.0 + np.tanh(np.asarray(x, float) / 2))\n",
        "def sigmoid(x):\n"
        "    x = np.asarray(x, float)\n"
        "    s = 1.0 / (1.0 + np.exp(-np.abs(x)))\n"
        "    return np.where(x >= 0, s, 1.0 - s)\n",
    ],
    "sigmoid_grad": ["def sigmoid_grad(x):\n    return 0.25 - (sigmoid(x) - 0.5) ** 2\n"],
    "tanh_grad": [
        "def tanh_grad(x):\n    return 4.0 * sigmoid_grad(2.0 * np.asarray(x, float))\n",
        "def tanh_grad(x):\n    t = np.tanh(np.asarray(x, float))\n    return (1 - t) * (1 + t)\n",
    ],
}


@pytest.mark.parametrize(
    "exercise, source",
    [(e, s) for e, sources in CORRECT_REWRITINGS.items() for s in sources],
)
def test_correct_rewritings_pass_their_visible_and_hidden_checks(exercise, source, capsys):
    namespace = NB.namespace_with(source)
    exec(NB.cells[f"test_{exercise}"], namespace)
    exec(NB.cells[f"hidden_{exercise}"], namespace)


def test_an_answer_that_iterates_at_w_1_fails_without_hanging(capsys):
    """Review 12: `if w < 1: raise`, then `while True`, would iterate some 10^8 times at w = 1;
    the visible check stops it within its budget of Python lines and says why."""
    import time

    source = (
        "def latch_fixed_point(w, tol=1e-12):\n"
        "    if w < 1:\n        raise ValueError(w)\n"
        "    x = 1.0\n"
        "    while True:\n"
        "        new = float(np.tanh(w * x))\n"
        "        if abs(new - x) < tol:\n            return new\n"
        "        x = new\n"
    )
    mistake = NB.mistake("latch_fixed_point", "while_true", source)
    started = time.monotonic()
    message = NB.visible_failure(mistake)
    assert time.monotonic() - started < 20, "the check took too long"
    assert "kept iterating at a self-weight that stores nothing" in message, message
    assert "w = 1 included" in message.split("hint:")[-1], message
