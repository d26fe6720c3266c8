"""Notebook 03's visible checks catch every catalogued mistake and point at its cause.

A self-learner has only the visible check (issue 27): a mistake that passes it and fails only the
hidden tests is told "passed". test_exercise_mutants.py checks that every mistake loses points;
here each must already fail the visible check, and the textbook sigmoid (1 / (1 + exp(-x)), which
overflows for x << 0) must be caught by the huge-weight case with the overflow hint, the
np.where form (both branches evaluated, exp(x) overflows for x >> 0) by the huge positive state
with a hint of its own, and answers that work for 1-D x or a non-empty list only by the 2-D and
empty-list cases; booleans and float32 results are named by their dtype, each with its own
hint.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import course_tools
from helpers import checks
from instructor import catalogue
from instructor.cells import nbgrader_meta

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

ENTRIES = {e.id: e for e in catalogue.load(course_tools.ROOT / "solutions", ASSIGNMENT)}


@pytest.fixture(scope="module")
def cells():
    nb = course_tools.read(course_tools.notebook_path(course_tools.ROOT / "solutions", ASSIGNMENT))
    return {nbgrader_meta(c)["grade_id"]: c.source for c in nb.cells if nbgrader_meta(c)}


def visible_failure(cells, mistake) -> str:
    """The message the visible check of the mistake's exercise shows ('' when it passes)."""
    namespace = {"np": np, "torch": torch, "checks": checks}
    for grade_id in (*EXERCISES, "checking_tools"):
        exec(cells[grade_id], namespace)
    exec(mistake.source, namespace)
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
    problem, case, phrases = EXPECTED[mistake_id]
    first, hint = message.split("\n")[0], message.split("hint:")[-1]
    assert problem in first, message
    assert case in message, message
    for phrase in phrases:
        assert phrase in hint, f"{mistake_id}: the hint lacks {phrase!r}:\n{message}"


def test_the_model_answers_pass_their_visible_checks(cells, capsys):
    namespace = {"np": np, "torch": torch, "checks": checks}
    for grade_id in (*EXERCISES, "checking_tools"):
        exec(cells[grade_id], namespace)
    for exercise in EXERCISES:
        exec(cells[f"test_{exercise}"], namespace)
