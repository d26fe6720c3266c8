"""Notebook 08's visible checks catch every catalogued mistake and point at its cause.

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

ASSIGNMENT = "08_mitigations"
EXERCISES = (
    "l2_penalty",
    "l1_penalty",
    "dot_product_attention",
    "steps_to_threshold",
    "diagnose_run",
)
TOOLS = (
    "checking_tools",
    "checking_tools_attention",
    "checking_tools_threshold",
    "checking_tools_diagnosis",
)

# mistake id -> (the case its message names, phrases its hint must hold)
EXPECTED = {
    "less_instead_of_less_or_equal": ("a loss exactly at the threshold", ["EQUAL", "<="]),
    "nan_counted_as_reached": ("a NaN before the crossing", ["NaN never counts"]),
    "counts_from_1_off_by_one": ("small example", ["counting from 0"]),
    "the_last_crossing": ("small example", ["FIRST", "not the last one"]),
    "the_step_of_the_lowest_loss": ("small example", ["not the lowest loss"]),
    "counts_the_losses_above_the": ("small example", ["not a count of the losses above"]),
    "right_numbers_computed_by_torch": ("the function's code", ["PyTorch is the checker's oracle"]),
    "healthy_by_the_last_loss_alone": (
        "only the very last loss below the threshold",
        ["MEAN of the last 10 losses"],
    ),
}

ENTRIES = {e.id: e for e in catalogue.load(course_tools.ROOT / "solutions", ASSIGNMENT)}


@pytest.fixture(scope="module")
def cells():
    nb = course_tools.read(course_tools.notebook_path(course_tools.ROOT / "solutions", ASSIGNMENT))
    return {nbgrader_meta(c)["grade_id"]: c.source for c in nb.cells if nbgrader_meta(c)}


def namespace_with(cells, source: str = "") -> dict:
    """The model answers and the checking tools, then `source` (a mistake) over them."""
    namespace = {"np": np, "torch": torch, "checks": checks}
    for grade_id in (*EXERCISES, *TOOLS):
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
    case, phrases = EXPECTED[mistake_id]
    hint = message.split("hint:")[-1]
    assert case in message, message
    for phrase in phrases:
        assert phrase in hint, f"{mistake_id}: the hint lacks {phrase!r}:\n{message}"


def test_the_model_answers_pass_their_visible_checks(cells, capsys):
    namespace = namespace_with(cells)
    for exercise in EXERCISES:
        exec(cells[f"test_{exercise}"], namespace)
