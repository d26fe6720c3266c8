"""Notebook 03's visible checks point at the cause of each catalogued mistake.

A self-learner has only the visible check (issue 27): a mistake that passes it and fails only the
hidden tests is told "passed". test_exercise_mutants.py checks that every mistake loses points,
test_known_mistakes.py that each already fails the visible check (the harness here:
message_harness.py). The textbook sigmoid (1 / (1 + exp(-x)), which overflows for x << 0) must
be caught by the huge-weight case with the overflow hint, the np.where form (both branches
evaluated, exp(x) overflows for x >> 0) by the huge positive state with a hint of its own, and
answers that work for 1-D x or a non-empty list only by the 2-D and empty-list cases; booleans
and float32 results are named by their dtype, each with its own hint.
"""

from __future__ import annotations

import pytest

from message_harness import Notebook

ASSIGNMENT = "03_exploding"
EXERCISES = ("relu", "relu_grad", "global_grad_norm", "constant_answer_mse", "single_unit_rnn")

# mistake id -> (what the message's first line names, the case it fails on, phrases its hint
# must hold)
EXPECTED = {
    "textbook_sigmoid_overflows_for_huge": (
        "raised a warning",
        "a huge weight",
        ["1 / (1 + exp(-x)) overflows for x << 0", "exp(-|x|)"],
    ),
    "np_where_evaluates_both_branches": (
        "raised a warning",
        "a huge positive state",
        ["np.where", "BOTH branches", "exp(-|x|)"],
    ),
    "python_loop_over_a_1_d_array": ("raised ValueError", "x of shape (2, 3)", []),
    "python_loop_over_a_1_d_array_grad": ("raised ValueError", "x of shape (3, 2)", []),
    "concatenate_fails_on_an_empty_list": ("raised ValueError", "no arrays", []),
    "booleans_instead_of_floats": ("has dtype bool", "x of shape (6,)", ["booleans", ".astype"]),
    "returns_float32": ("has dtype float32", "x of shape (6,)", ["float64 in, float64 out"]),
    "computes_in_float32": ("has dtype float32", "numbers", ["float64 in, float64 out"]),
}

NB = Notebook(ASSIGNMENT, setup=(*EXERCISES, "checking_tools"), exercises=EXERCISES)


@pytest.mark.parametrize("mistake_id", sorted(EXPECTED))
def test_the_visible_check_points_at_the_cause(mistake_id, capsys):
    problem, case, phrases = EXPECTED[mistake_id]
    NB.expect_message(mistake_id, problem=problem, case=case, hint=phrases)


def test_the_model_answers_pass_their_visible_checks(capsys):
    NB.run_visible_checks()
