"""Notebook 05's visible checks catch every catalogued mistake and point at its cause.

A self-learner has only the visible check (issue 27): a mistake that passes it and fails only the
hidden tests is told "passed". test_exercise_mutants.py checks that every mistake loses points;
here each must already fail the visible check, with a message that says where to look, and the
three train_step mistakes that return a norm of 0 must stop at different problems.
"""

from __future__ import annotations

import copy
import functools

import numpy as np
import pytest
import torch

import course_tools
from helpers import checks, models
from instructor import catalogue
from instructor.cells import nbgrader_meta

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

ENTRIES = {e.id: e for e in catalogue.load(course_tools.ROOT / "solutions", ASSIGNMENT)}


@pytest.fixture(scope="module")
def cells():
    nb = course_tools.read(course_tools.notebook_path(course_tools.ROOT / "solutions", ASSIGNMENT))
    return {nbgrader_meta(c)["grade_id"]: c.source for c in nb.cells if nbgrader_meta(c)}


def namespace_with(cells, source: str = "") -> dict:
    """The model answers and the checking tools, then `source` (a mistake) over them."""
    namespace = {
        "np": np,
        "torch": torch,
        "checks": checks,
        "models": models,
        "copy": copy,
        "functools": functools,
    }
    for grade_id in (*EXERCISES, "checking_tools"):
        exec(cells[grade_id], namespace)
    exec(source, namespace)
    return namespace


def visible_failure(cells, mistake) -> str:
    """The message the visible check of the mistake's exercise shows ('' when it passes)."""
    namespace = namespace_with(cells, mistake.source)
    try:
        exec(cells[f"test_{mistake.exercise}"], namespace)
    except checks.CheckFailure as failure:
        return str(failure)
    return ""


@pytest.mark.parametrize("mistake_id", sorted(ENTRIES))
def test_every_catalogued_mistake_fails_its_visible_check(cells, mistake_id, capsys):
    assert visible_failure(cells, ENTRIES[mistake_id]), f"{mistake_id} passes the visible check"


@pytest.mark.parametrize("mistake_id", sorted(EXPECTED))
def test_the_visible_check_points_at_the_cause(cells, mistake_id, capsys):
    message = visible_failure(cells, ENTRIES[mistake_id])
    problem, phrases = EXPECTED[mistake_id]
    first, hint = message.split("\n")[0], message.split("hint:")[-1]
    assert problem in first, message
    for phrase in phrases:
        assert phrase in hint, f"{mistake_id}: the hint lacks {phrase!r}:\n{message}"


def test_the_model_answers_pass_their_visible_checks(cells, capsys):
    namespace = namespace_with(cells)
    for exercise in EXERCISES:
        exec(cells[f"test_{exercise}"], namespace)


def test_a_train_step_that_raises_another_type_error_is_not_blamed_on_none(cells, capsys):
    """Only a TypeError about None is read as None handed to clip_grad_norm_."""
    source = (
        "def train_step(model, inputs, targets, loss_fn, optimizer, max_norm=None):\n"
        "    if max_norm is None:\n"
        "        raise TypeError('unsupported operand')\n"
        "    return 0.0, 0.0\n"
    )
    namespace = namespace_with(cells, source)
    with pytest.raises(checks.CheckFailure) as failure:
        namespace["check_train_step"](namespace["train_step"], "tanh", None, 0.1, 5, "none")
    assert "raised TypeError." in str(failure.value).split("\n")[0], failure.value
