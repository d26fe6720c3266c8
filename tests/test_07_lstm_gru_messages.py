"""Notebook 07's visible checks catch every catalogued mistake and point at its cause.

A self-learner has only the visible check (issue 27): a mistake that passes it and fails only the
hidden tests is told "passed". test_exercise_mutants.py checks that every mistake loses points;
here each must already fail the visible check, with a message that says where to look.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import course_tools
from helpers import checks
from instructor import catalogue
from instructor.cells import nbgrader_meta

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

ENTRIES = {e.id: e for e in catalogue.load(course_tools.ROOT / "solutions", ASSIGNMENT)}


@pytest.fixture(scope="module")
def cells():
    nb = course_tools.read(course_tools.notebook_path(course_tools.ROOT / "solutions", ASSIGNMENT))
    return {nbgrader_meta(c)["grade_id"]: c.source for c in nb.cells if nbgrader_meta(c)}


def namespace_with(cells, source: str = "") -> dict:
    """The model answers and the checking tools, then `source` (a mistake) over them."""
    namespace = {"np": np, "torch": torch, "checks": checks}
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
    assert "saturated gates" in message.split("\n")[1], message
    for phrase in phrases:
        assert phrase in hint, f"{mistake_id}: the hint lacks {phrase!r}:\n{message}"


def test_the_model_answers_pass_their_visible_checks(cells, capsys):
    namespace = namespace_with(cells)
    for exercise in EXERCISES:
        exec(cells[f"test_{exercise}"], namespace)


@pytest.mark.parametrize("mistake_id", sorted(NAMED))
def test_the_visible_check_names_the_problem(cells, mistake_id, capsys):
    message = visible_failure(cells, ENTRIES[mistake_id])
    problem, phrases = NAMED[mistake_id]
    first, hint = message.split("\n")[0], message.split("hint:")[-1]
    assert problem in first, message
    for phrase in phrases:
        assert phrase in hint, f"{mistake_id}: the hint lacks {phrase!r}:\n{message}"
