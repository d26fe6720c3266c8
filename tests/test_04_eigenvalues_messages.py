"""Notebook 04's visible checks catch every catalogued mistake and point at its cause.

A self-learner has only the visible check (issue 27): a mistake that passes it and fails only the
hidden tests is told "passed". test_exercise_mutants.py checks that every mistake loses points;
here each must already fail the visible check, with a message that says where to look, and the
mistakes that once gave the same answers on its inputs must stop at different ones.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import course_tools
from helpers import checks
from instructor import catalogue
from instructor.cells import nbgrader_meta

ASSIGNMENT = "04_eigenvalues"
EXERCISES = (
    "spectral_radius",
    "largest_singular_value",
    "scale_to_spectral_radius",
    "gradient_bound",
    "guaranteed_to_vanish",
)

# mistake id -> (what the message's first line or input names, phrases its hint must hold)
EXPECTED = {
    "eigvalsh_assumes_w_symmetric": ("transposed shear", ["np.linalg.eigvalsh", "symmetric"]),
    "divides_by_zero_for_a_nilpotent_w": (
        "raised ZeroDivisionError, not ValueError",
        ["rho(W) = 0", "raise ValueError"],
    ),
    "less_or_equal_instead_of_less": ("exactly 1", ["at gamma * sigma_max = 1", "strictly"]),
    "unknown_activation_gets_gamma_1": (
        "accepted an activation it does not know",
        ["raise ValueError"],
    ),
    "gamma_1_4_for_tanh_too": ("2 * identity", ["tanh's largest slope is 1"]),
    "spectral_radius_instead_of_sigma_max_2": ("shear", ["rho = 0.5 < 1 here", "LARGEST SINGULAR"]),
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
    where, phrases = EXPECTED[mistake_id]
    head, hint = message.split("  returned:")[0], message.split("hint:")[-1]
    assert where in head, message
    for phrase in phrases:
        assert phrase in hint, f"{mistake_id}: the hint lacks {phrase!r}:\n{message}"


def test_gamma_1_4_for_tanh_and_rho_for_sigma_max_stop_at_different_inputs(cells, capsys):
    """Both answered True on the shear with tanh; now each fails where only it is wrong."""
    first = visible_failure(cells, ENTRIES["gamma_1_4_for_tanh_too"])
    second = visible_failure(cells, ENTRIES["spectral_radius_instead_of_sigma_max_2"])
    assert first.split("  returned:")[0] != second.split("  returned:")[0]


def test_the_model_answers_pass_their_visible_checks(cells, capsys):
    namespace = namespace_with(cells)
    for exercise in EXERCISES:
        exec(cells[f"test_{exercise}"], namespace)
