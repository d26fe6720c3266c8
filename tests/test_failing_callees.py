"""One mistake costs points once, in the student's kernel (issue 26): when a visible check fails
and the student's function calls another exercise's function that fails its own check, the
message starts by saying so ("your rnn_forward calls your rnn_step_forward, which fails its
check: fix rnn_step_forward first.") and names no known mistake of its own."""

from __future__ import annotations

import re
import sys
import types

import pytest

import course_tools
from helpers import checks
from instructor.records.cells import grade_id, is_locked_cell, is_solution_cell, is_test_cell

ASSIGNMENT = "01_bptt"
WRONG_STEP = (
    "def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
    "    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh + b_h)\n"
)
RIGHT_FORWARD = """
def rnn_forward(xs, h0, W_xh, W_hh, b_h):
    hs = []
    h = h0
    for x_t in xs:
        h = step_through(x_t, h, W_xh, W_hh, b_h)
        hs.append(h)
    return np.stack(hs)

def step_through(x_t, h, W_xh, W_hh, b_h):  # a helper of the student's own
    return rnn_step_forward(x_t, h, W_xh, W_hh, b_h)
"""
BLAME = (
    "rnn_forward: your rnn_forward calls your rnn_step_forward, which fails its check: fix "
    "rnn_step_forward first."
)


@pytest.fixture()
def kernel(monkeypatch):
    """A stand-in for a notebook's kernel: __main__ holds notebook 01's set-up and checking
    tools; run(source) runs a cell there and returns the CheckFailure's message, or ""."""
    solution = course_tools.read(
        course_tools.notebook_path(course_tools.ROOT / "solutions", ASSIGNMENT)
    )
    code = [c for c in solution.cells if c.cell_type == "code"]
    main = types.ModuleType("__main__")
    monkeypatch.setitem(sys.modules, "__main__", main)
    monkeypatch.setattr(checks, "NAME_FAILING_CALLEES", True)
    monkeypatch.setattr(checks, "NAME_KNOWN_MISTAKES", False)
    saved = [dict(s) for s in (checks._OUTCOMES, checks._CHECKED, checks._FAILING)]
    for store in (checks._OUTCOMES, checks._CHECKED, checks._FAILING):
        store.clear()
    namespace = vars(main)
    exec(code[0].source.replace("rng = course.setup(seed=0)", ""), namespace)
    for cell in code[1:]:
        if is_locked_cell(cell) and not is_test_cell(cell) and not is_solution_cell(cell):
            if grade_id(cell) == "checking_tools":
                exec(cell.source, namespace)
    visible = {grade_id(c): c.source for c in code if is_test_cell(c)}

    def run(source: str) -> str:
        try:
            exec(visible.get(source, source), namespace)
        except checks.CheckFailure as failure:
            return str(failure)
        return ""

    yield run
    for store, old in zip((checks._OUTCOMES, checks._CHECKED, checks._FAILING), saved, strict=True):
        store.clear()
        store.update(old)


def test_a_check_blames_the_failing_function_it_calls(kernel):
    kernel(WRONG_STEP)
    assert kernel("test_rnn_step_forward").startswith("rnn_step_forward: h_t is wrong.")
    kernel(RIGHT_FORWARD)
    message = kernel("test_rnn_forward")
    assert message.startswith(BLAME + "\n  found:    hs is wrong"), message
    for part in ("input:", "returned:", "expected:", "hint:"):
        assert part in message
    assert checks._OUTCOMES["rnn_forward"].startswith("failing: your rnn_forward calls")


def test_no_blame_once_the_called_function_is_fixed_or_redefined(kernel):
    kernel(WRONG_STEP)
    kernel("test_rnn_step_forward")
    zeros = (  # wrong on its own account too, but it calls the failing step
        "def rnn_forward(xs, h0, W_xh, W_hh, b_h):\n"
        "    rnn_step_forward(xs[0], h0, W_xh, W_hh, b_h)\n"
        "    return np.zeros((len(xs),) + h0.shape)\n"
    )
    kernel(zeros)
    assert kernel("test_rnn_forward").startswith(BLAME)
    # the step is redefined (its check not run again): this failure is rnn_forward's own
    kernel(WRONG_STEP)
    message = kernel("test_rnn_forward")
    assert message.startswith("rnn_forward: hs is wrong"), message
    # the step's check fails again, then passes: rnn_forward's failure is its own again
    kernel("test_rnn_step_forward")
    assert kernel("test_rnn_forward").startswith(BLAME)
    kernel(
        "def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
        "    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)\n"
    )
    assert kernel("test_rnn_step_forward") == ""
    assert re.match(r"rnn_forward: hs is wrong", kernel("test_rnn_forward"))


def test_no_blame_outside_a_kernel(kernel, monkeypatch):
    """The grader's process (and the release's table of known mistakes) never says it: there
    the called exercise is the model solution."""
    monkeypatch.setattr(checks, "NAME_FAILING_CALLEES", None)
    kernel(WRONG_STEP)
    kernel("test_rnn_step_forward")
    kernel(RIGHT_FORWARD)
    assert kernel("test_rnn_forward").startswith("rnn_forward: hs is wrong")


@pytest.mark.slow
def test_the_released_notebook_says_it_in_a_real_kernel(tmp_path, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")  # experiments at smoke scale
    solution = course_tools.read(
        course_tools.notebook_path(course_tools.ROOT / "solutions", ASSIGNMENT)
    )
    release = course_tools.read(
        course_tools.notebook_path(course_tools.ROOT / "notebooks", ASSIGNMENT)
    )
    nb = course_tools.make_submission(
        release, solution, {"rnn_step_forward": WRONG_STEP, "rnn_forward": RIGHT_FORWARD}
    )
    last = next(i for i, c in enumerate(nb.cells) if grade_id(c) == "test_rnn_forward")
    nb.cells = nb.cells[: last + 1]
    course_tools.execute(nb, tmp_path, timeout=300, allow_errors=True)
    shown = "\n".join(
        "\n".join(o.get("traceback", []))
        for o in nb.cells[last].outputs
        if o.output_type == "error"
    )
    plain = re.sub(r"\x1b\[[0-9;]*m", "", shown)
    assert plain.startswith("CheckFailure: " + BLAME), plain
    assert "known mistake" not in plain
