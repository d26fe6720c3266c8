"""Notebook 05's visible checks point at the cause of each catalogued mistake.

A self-learner has only the visible check (issue 27): a mistake that passes it and fails only the
hidden tests is told "passed". test_exercise_mutants.py checks that every mistake loses points,
test_known_mistakes.py that each already fails the visible check; here its message must say
where to look (the harness: message_harness.py), and the three train_step mistakes that return
a norm of 0 must stop at different problems.
"""

from __future__ import annotations

import copy
import functools

import pytest

from helpers import checks, models
from message_harness import Notebook

ASSIGNMENT = "05_clipping"
EXERCISES = ("clip_grad_norm", "clip_grad_value", "train_step")

# mistake id -> (what the message's first line names, phrases its hint must hold)
EXPECTED = {
    "clips_only_when_total_max_norm": (
        "clipped[0] is wrong",
        ["exactly max_norm here", "compare that factor with 1, not total with max_norm"],
    ),
    "passes_max_norm_none_to_clip_grad": (
        "raised TypeError with max_norm=None",
        ["max_norm=None means no clipping", "float('inf')"],
    ),
    "clips_before_backward": (
        "returned norm 0, and .grad holds this batch's unclipped gradients",
        ["before loss.backward() filled .grad", "clip after backward"],
    ),
    "zero_grad_between_backward_and_step": (
        "returned norm 0, and .grad is empty after the step",
        ["zero_grad() ran after loss.backward()", "BEFORE backward"],
    ),
    "measures_the_norm_only_when_clipping": (
        "returned norm 0 with max_norm=None",
        ["the norm must still be measured", "float('inf')"],
    ),
    "epsilon_added_to_the_factor": (
        "the 1e-6 is added to the factor, not to the norm",
        ["max_norm / (total + 1e-6)", "brackets"],
    ),
    "returns_float32_arrays": ("clipped[0] is float32, not float64", ["float64"]),
    "never_calls_zero_grad": ("norm is wrong", ["left over", "zero_grad() BEFORE"]),
}

NB = Notebook(
    ASSIGNMENT,
    setup=(*EXERCISES, "checking_tools"),
    exercises=EXERCISES,
    models=models,
    copy=copy,
    functools=functools,
)


@pytest.mark.parametrize("mistake_id", sorted(EXPECTED))
def test_the_visible_check_points_at_the_cause(mistake_id, capsys):
    problem, phrases = EXPECTED[mistake_id]
    NB.expect_message(mistake_id, problem=problem, hint=phrases)


def test_the_model_answers_pass_their_visible_checks(capsys):
    NB.run_visible_checks()


def test_a_train_step_that_raises_another_type_error_is_not_blamed_on_none(capsys):
    """Only a TypeError about None is read as None handed to clip_grad_norm_."""
    source = (
        "def train_step(model, inputs, targets, loss_fn, optimizer, max_norm=None):\n"
        "    if max_norm is None:\n"
        "        raise TypeError('unsupported operand')\n"
        "    return 0.0, 0.0\n"
    )
    namespace = NB.namespace_with(source)
    with pytest.raises(checks.CheckFailure) as failure:
        namespace["check_train_step"](namespace["train_step"], "tanh", None, 0.1, 5, "none")
    assert "raised TypeError." in str(failure.value).split("\n")[0], failure.value
