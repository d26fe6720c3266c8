"""Notebook 07's visible checks point at the cause of each catalogued mistake.

A self-learner has only the visible check (issue 27): a mistake that passes it and fails only the
hidden tests is told "passed". test_exercise_mutants.py checks that every mistake loses points,
test_known_mistakes.py that each already fails the visible check; here its message must say
where to look (the harness: message_harness.py).
"""

from __future__ import annotations

import pytest

from message_harness import Notebook

ASSIGNMENT = "07_lstm_gru"
EXERCISES = ("lstm_cell_forward", "cell_state_gradient", "gru_cell_forward", "lstm_cell_backward")

# mistake id -> (what the message's first line or input names, phrases its hint must hold)
EXPECTED = {
    "sigmoid_that_overflows": ("raised a warning", ["overflows", "np.tanh(0.5 * z)"]),
    "sigmoid_that_overflows_2": ("raised a warning", ["overflows", "np.tanh(0.5 * z)"]),
    "sigmoid_that_overflows_3": ("raised a warning", ["overflows", "np.tanh(0.5 * z)"]),
}
# mistake id -> (the message's first line holds, phrases its hint must hold), any inputs
NAMED = {
    "returns_c_h": ("returned (c, h), not (h, c)", ["return h, c"]),
    "float32_result": ("h is not float64", ["keep float64", "1e-9 tolerance"]),
    "output_gate_as_tanh": ("h is wrong", ["o is a sigmoid"]),
    "right_values_computed_by_torch": ("must be written with numpy alone", ["oracle"]),
    "right_values_computed_by_torch_autograd": ("must be written with numpy alone", ["oracle"]),
}

NB = Notebook(ASSIGNMENT, setup=(*EXERCISES, "checking_tools"), exercises=EXERCISES)


@pytest.mark.parametrize("mistake_id", sorted(EXPECTED))
def test_the_visible_check_points_at_the_cause(mistake_id, capsys):
    problem, phrases = EXPECTED[mistake_id]
    NB.expect_message(mistake_id, problem=problem, second_line="saturated gates", hint=phrases)


def test_the_model_answers_pass_their_visible_checks(capsys):
    NB.run_visible_checks()


@pytest.mark.parametrize("mistake_id", sorted(NAMED))
def test_the_visible_check_names_the_problem(mistake_id, capsys):
    problem, phrases = NAMED[mistake_id]
    NB.expect_message(mistake_id, problem=problem, hint=phrases)
