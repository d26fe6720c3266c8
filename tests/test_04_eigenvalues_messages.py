"""Notebook 04's visible checks point at the cause of each catalogued mistake.

A self-learner has only the visible check (issue 27): a mistake that passes it and fails only the
hidden tests is told "passed". test_exercise_mutants.py checks that every mistake loses points,
test_known_mistakes.py that each already fails the visible check; here its message must say
where to look (the harness: message_harness.py), and the mistakes that once gave the same
answers on its inputs must stop at different ones.
"""

from __future__ import annotations

import pytest

from message_harness import Notebook

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

NB = Notebook(ASSIGNMENT, setup=(*EXERCISES, "checking_tools"), exercises=EXERCISES)


@pytest.mark.parametrize("mistake_id", sorted(EXPECTED))
def test_the_visible_check_points_at_the_cause(mistake_id, capsys):
    where, phrases = EXPECTED[mistake_id]
    NB.expect_message(mistake_id, head=where, hint=phrases)


def test_gamma_1_4_for_tanh_and_rho_for_sigma_max_stop_at_different_inputs(capsys):
    """Both answered True on the shear with tanh; now each fails where only it is wrong."""
    first = NB.visible_failure("gamma_1_4_for_tanh_too")
    second = NB.visible_failure("spectral_radius_instead_of_sigma_max_2")
    assert first.split("  returned:")[0] != second.split("  returned:")[0]


def test_the_model_answers_pass_their_visible_checks(capsys):
    NB.run_visible_checks()
