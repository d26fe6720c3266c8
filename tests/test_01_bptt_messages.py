"""Notebook 01's visible checks point at the cause of each catalogued mistake.

test_exercise_mutants.py checks that every mistake loses points with a five-part message; here
the message of 01's visible check must also name the gradient that is first wrong and the line
to look at (a BPTT bug reported against the wrong gradient sends a student to the wrong line).
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers import checks
from message_harness import Notebook

ASSIGNMENT = "01_bptt"

# mistake id -> (what the message's first line names, phrases its hint must hold)
EXPECTED = {
    "tanh_derivative_missed": ("dW_xh is wrong", ["length 1", "tanh"]),
    "gradient_not_carried_to_the_previous": (
        "dW_xh is wrong",
        ["right for sequences of length 1 but wrong from length 2", "carried back"],
    ),
    "w_hh_transposed_in_the_backward": (
        "dh0 is wrong",
        ["dh0 is the only gradient wrong", "from length 2 on", "without a transpose"],
    ),
    "current_state_h_t_used_for_dw_hh": ("dW_hh is wrong", ["PREVIOUS hidden state", "h_1"]),
    # issue 25 (review 12): the hint names the cause the check established, not another one
    "dw_hh_transposed_h_prev_t_da": ("dW_hh is wrong", ["transpose", "not h_prev.T @ da"]),
    "tanh_derivative_applied_again_to_the": (
        "dh0 is wrong",
        ["no tanh derivative of its own", "applied once"],
    ),
    "float32_result": ("h_t is not float64", ["float32", "gradient check"]),
    "stores_the_state_before_the_update": ("hs is wrong", ["BEFORE step t", "after the update"]),
    "bias_gradient_averaged_over_the": ("db_h is wrong", ["over the batch"]),
    "tanh_derivative_taken_at_the": ("dW_xh is wrong", ["length 1", "tanh"]),
    "dhs_modified_in_place": ("changed one of its input arrays in place", ["dhs[t] + dh_next"]),
    "gradient_of_h0_left_at_zero": ("dh0 is wrong", ["only gradient wrong, at every length"]),
    "dw_xh_from_batch_sums_outer_product": ("dW_xh is wrong", ["outer products"]),
    "forward_difference_instead_of": ("grad is wrong", ["CENTRAL", "one-sided"]),
    "x_not_restored": ("did not restore x", ["put the original entry back"]),
    # issue 27: these passed the visible check and only hidden tests caught them
    "right_values_computed_by_torch": ("must be written with numpy alone", ["PyTorch"]),
    "eps_argument_ignored": ("grad is wrong", ["eps = 0.1", "the eps the caller passes"]),
    "indexes_rows_only_right_for_1_d_x": ("grad is wrong", ["one ENTRY at a time", "not one row"]),
    "no_1e_8_floor_0_0_gives_nan": ("returned NaN or inf", ["both 0", "max(1e-8, |a| + |b|)"]),
    "a_b_in_the_denominator_instead_of": ("relative error is wrong", ["not |a + b|"]),
}


NB = Notebook(
    ASSIGNMENT,
    setup=(
        "rnn_step_forward",
        "checking_tools",
        "rnn_forward",
        "rnn_backward",
        "numerical_gradient",
        "relative_error",
    ),
)


@pytest.mark.parametrize("mistake_id", sorted(EXPECTED))
def test_the_visible_check_points_at_the_cause(mistake_id, capsys):
    problem, phrases = EXPECTED[mistake_id]
    NB.expect_message(mistake_id, problem=problem, hint=phrases)


def test_the_transposed_carry_is_located_at_length_1_on_dh0(capsys):
    """The issue-25 case: dh_next = da @ W_hh.T must not be reported as dW_xh being wrong."""
    message = NB.visible_failure("w_hh_transposed_in_the_backward")
    assert message.startswith("rnn_backward: dh0 is wrong.")
    assert "input:    the first step of" in message


def test_a_close_miss_shows_the_digits_that_differ(capsys):
    """A one-sided difference agrees with the exact gradient to 3 decimals: the message shows
    the entry of the largest relative error with the digits where the two values part."""
    with pytest.raises(checks.CheckFailure) as info:
        checks.expect_close(
            "ex", "grad", np.array([12.00006, 0.75]), np.array([12.0, 0.75]), inputs="i", hint="h"
        )
    assert "at grad[0]: returned 12.00006, expected 12" in str(info.value)
    with pytest.raises(checks.CheckFailure) as info:
        checks.expect_close(
            "ex", "g", np.array([0.0, -1.0]), np.array([1.0, 1.0]), inputs="i", hint="h"
        )
    assert "max relative error 1.0e+00, at g[0]: returned 0, expected 1, one of them 0" in str(
        info.value
    )


def test_hints_do_not_name_a_cause_the_check_did_not_find(capsys):
    """Review 12: a transposed dW_hh is not told to use the previous state, nor a doubled tanh
    derivative in the carry to drop a transpose."""
    transposed = NB.visible_failure("dw_hh_transposed_h_prev_t_da")
    assert "PREVIOUS" not in transposed.split("hint:")[-1], transposed
    doubled = NB.visible_failure("tanh_derivative_applied_again_to_the")
    assert "without a transpose" not in doubled, doubled


def test_close_misses_show_the_digits_that_differ(capsys):
    """Review 12: x restored by arithmetic, and a relative error with + 1e-8, print differently
    from what was expected, not the same 3 decimals."""
    source = (
        "def numerical_gradient(f, x, eps=1e-5):\n"
        "    g = np.zeros(x.shape)\n"
        "    for i in np.ndindex(x.shape):\n"
        "        x[i] += eps; fp = f(x); x[i] -= 2 * eps; fm = f(x); x[i] += eps\n"
        "        g[i] = (fp - fm) / (2 * eps)\n"
        "    return g\n"
    )
    mistake = NB.mistake("numerical_gradient", "restore_by_arithmetic", source)
    message = NB.visible_failure(mistake)
    returned = message.split("returned:")[1].split("\n")[0]
    expected = message.split("expected:")[1].split("\n")[0]
    assert "did not restore x" in message
    assert returned.split(": ", 1)[1] != expected.split(": ", 1)[1], message
    source = (
        "def relative_error(a, b):\n"
        "    a, b = np.asarray(a, float), np.asarray(b, float)\n"
        "    return float(np.max(np.abs(a - b) / (1e-8 + np.abs(a) + np.abs(b))))\n"
    )
    message = NB.visible_failure(NB.mistake("relative_error", "plus_floor", source))
    assert "returned: 0.1111111108" in message and "expected: 0.1111111111" in message, message
    assert "a floor" in message.split("hint:")[-1], message
