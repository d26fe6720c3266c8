"""An expected value is computed only from data the student's code never touched.

A student's function that zeroes its arguments in place and returns zeros used to score full
marks: the checks computed the expected value, after the call, from the same arrays (mirrored
back from the sandbox, or the very objects in the student's kernel). Now the function works on
copies (`helpers.checks.protected_copy`), the grader's arrays never change, and a function whose
docstring does not let it change its inputs fails, naming the argument. Arguments that are there
to change (notebook 05's model and optimizer, notebook 06's random generator) still do: the
model solutions of those notebooks pass (tests/test_exercise_mutants.py).
"""

from __future__ import annotations

import io

import pytest

import course_tools
from attacks import Attack
from helpers import checks
from instructor.grading.trusted_run import exec_quietly, run_tests
from instructor.records.cells import grade_id, is_locked_cell, is_test_cell
from instructor.records.problems import Kind

_ZERO_ALL = "    for _a in ({}):\n        _a[...] = 0.0\n"

# Each zeroes every array it is given and returns what the checks, computing the expected value
# from the zeroed arrays, would then expect.
ZEROING = [
    Attack(
        "zeroes_step",
        "rnn_step_forward",
        "zeroes its arguments and returns zeros",
        "def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
        + _ZERO_ALL.format("x_t, h_prev, W_xh, W_hh, b_h")
        + "    return np.zeros((x_t.shape[0], W_hh.shape[0]))\n",
        ("rnn_step_forward",),
    ),
    Attack(
        "zeroes_forward",
        "rnn_forward",
        "zeroes its arguments and returns zeros",
        "def rnn_forward(xs, h0, W_xh, W_hh, b_h):\n"
        + _ZERO_ALL.format("xs, h0, W_xh, W_hh, b_h")
        + "    return np.zeros((xs.shape[0],) + h0.shape)\n",
        ("rnn_forward",),
    ),
    Attack(
        "zeroes_error",
        "relative_error",
        "zeroes both arrays and returns 0.0",
        "def relative_error(a, b):\n" + _ZERO_ALL.format("a, b") + "    return 0.0\n",
        ("relative_error",),
    ),
    Attack(
        "zeroes_jacobian",
        "hidden_jacobian",
        "zeroes W_hh and returns a zero Jacobian",
        "def hidden_jacobian(W_hh, a_t, activation):\n"
        "    if activation not in ('sigmoid', 'tanh', 'relu', 'linear'):\n"
        "        raise ValueError(activation)\n"
        + _ZERO_ALL.format("W_hh, a_t")
        + "    return np.zeros(W_hh.shape)\n",
        ("hidden_jacobian",),
        assignment="02_vanishing",
    ),
    Attack(
        "zeroes_norms",
        "jacobian_product_norms",
        "zeroes W_hh and returns the norms of zero products",
        "def jacobian_product_norms(W_hh, pre_activations, activation):\n"
        + _ZERO_ALL.format("W_hh, pre_activations")
        + "    return np.r_[np.zeros(len(pre_activations)), 1.0]\n",
        ("jacobian_product_norms",),
        assignment="02_vanishing",
    ),
    Attack(
        "zeroes_grads",
        "global_grad_norm",
        "zeroes every gradient and returns 0.0",
        "def global_grad_norm(grads):\n" + _ZERO_ALL.format("*grads,") + "    return 0.0\n",
        ("global_grad_norm",),
        assignment="03_exploding",
    ),
]
ASSIGNMENTS = sorted({a.assignment for a in ZEROING})


def _source(assignment: str):
    return course_tools.read(
        course_tools.notebook_path(course_tools.ROOT / "solutions", assignment)
    )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_zeroing_the_inputs_earns_nothing_in_the_grader(assignment):
    source = _source(assignment)
    attacks = [a for a in ZEROING if a.assignment == assignment]
    submission = course_tools.make_submission(source, source, {a.cell: a.source for a in attacks})
    run = run_tests(source, submission)
    outcomes = run.outcomes
    for attack in attacks:
        for name in attack.attacked:
            for gid in (f"test_{name}", f"hidden_{name}"):
                error = outcomes[gid].error
                assert error is not None, f"{attack.student}: {gid} passed"
                assert error[0] == "CheckFailure" and f"{name}: changed its argument" in error[1], (
                    attack.student,
                    gid,
                    error,
                )
    reported = {p.where for p in run.problems if p.kind is Kind.INPUT_CHANGED}
    assert reported == {n for a in attacks for n in a.attacked}  # a line in the summary
    attacked = {f"{p}_{n}" for a in attacks for n in a.attacked for p in ("test", "hidden")}
    failed = {g for g, o in outcomes.items() if not o.passed}
    assert failed == attacked, f"other exercises lost points: {failed - attacked}"


def _kernel_namespace(source) -> dict:
    """The student's kernel as far as the checks go: the set-up and checking-tool cells run."""
    code = [c for c in source.cells if c.cell_type == "code"]
    namespace: dict = {"__name__": "__main__"}
    exec_quietly(code[0].source, "set-up", namespace, io.StringIO())
    for cell in code[1:]:
        if is_locked_cell(cell) and not is_test_cell(cell):
            exec_quietly(cell.source, grade_id(cell) or "tools", namespace, io.StringIO())
    return namespace


def test_zeroing_the_inputs_fails_the_visible_checks_in_the_students_kernel():
    source = _source("01_bptt")
    namespace = _kernel_namespace(source)
    visible = {grade_id(c): c.source for c in source.cells if is_test_cell(c)}
    for attack, argument in ((ZEROING[0], "x_t"), (ZEROING[2], "a")):
        exec(attack.source, namespace)
        with pytest.raises(checks.CheckFailure) as failure:
            exec_quietly(
                visible[f"test_{attack.cell}"], attack.cell, dict(namespace), io.StringIO()
            )
        assert str(failure.value).startswith(
            f"{attack.cell}: changed its argument {argument} in place; it must not modify its "
            "inputs.\n  input:"
        )


def test_a_function_works_on_copies_and_the_callers_arrays_stay_as_they_were():
    import numpy as np
    import torch

    x, rng = np.arange(3.0), np.random.default_rng(0)
    model = torch.nn.Linear(2, 1)

    def uses(x, rng, model, pair):
        model.weight.data.zero_()  # a model is there to change
        return rng.normal() + x.sum() + pair[0].sum()

    checks.call("uses", uses, x, rng, model, (x, np.ones(2)), inputs="i")
    assert rng.bit_generator.state != np.random.default_rng(0).bit_generator.state
    assert float(model.weight.detach().abs().sum()) == 0.0

    def scribbles(x, rng, model, pair):
        pair[1][0] = np.nan

    with pytest.raises(checks.CheckFailure, match="scribbles: changed its argument pair in place"):
        checks.call("scribbles", scribbles, x, rng, model, (x, np.ones(2)), inputs="i")
    tensor = torch.ones(2)
    with pytest.raises(checks.CheckFailure, match="t: changed its argument t in place"):
        checks.call("t", lambda t: t.mul_(2), tensor, inputs="i")
    assert torch.equal(tensor, torch.ones(2))
    nan = np.array([np.nan])
    checks.call("reads", lambda v: float(v[0]), nan, inputs="i")  # NaN equals NaN here
