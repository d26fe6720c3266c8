"""One mistake costs points once (issue 26): a student's function that calls another exercise is
graded with that exercise's model solution, which the grader runs in a process of its own and
never hands to student code (instructor/infrastructure/sandbox/model_calls.py)."""

from __future__ import annotations

import numpy as np
import pytest

import course_tools
from instructor.grading.trusted_run import grade_submission, model_calls
from instructor.infrastructure import confine
from instructor.infrastructure.sandbox import Limits, Sandbox
from mutants import exercise_of

ASSIGNMENT = "01_bptt"
# rnn_step_forward without the transpose of W_hh: wrong for every H > 1.
WRONG_STEP = (
    "def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
    "    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh + b_h)\n"
)
RIGHT_FORWARD = """
def rnn_forward(xs, h0, W_xh, W_hh, b_h):
    hs = []
    h = h0
    for x_t in xs:
        h = rnn_step_forward(x_t, h, W_xh, W_hh, b_h)
        hs.append(h)
    return np.stack(hs)
"""


@pytest.fixture(scope="module")
def solution():
    path = course_tools.notebook_path(course_tools.ROOT / "solutions", ASSIGNMENT)
    return course_tools.read(path)


def _failing(results):
    return {gid for gid, r in results.items() if not r.passed}


def test_a_wrong_step_costs_only_its_own_points(solution):
    """rnn_forward, right, calls the student's wrong rnn_step_forward: it is graded with the
    model's step and keeps its points; rnn_step_forward loses its own."""
    submission = course_tools.make_submission(
        solution, solution, {"rnn_step_forward": WRONG_STEP, "rnn_forward": RIGHT_FORWARD}
    )
    failing = _failing(grade_submission(solution, submission))
    assert failing == {"test_rnn_step_forward", "hidden_rnn_step_forward"}, failing


def test_a_function_cannot_reach_the_model_of_its_own_or_a_later_exercise(solution):
    """rnn_step_forward written as one step of rnn_forward would pass with the model's
    rnn_forward: exercises below a function (and itself) are never answered by the model."""
    via_forward = (
        "def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h):\n"
        "    return rnn_forward(x_t[None], h_prev, W_xh, W_hh, b_h)[0]\n"
    )
    submission = course_tools.make_submission(solution, solution, {"rnn_step_forward": via_forward})
    failing = _failing(grade_submission(solution, submission))
    # the student's own rnn_forward calls their rnn_step_forward again: no end
    assert {"test_rnn_step_forward", "hidden_rnn_step_forward"} <= failing
    assert {exercise_of(g) for g in failing} == {"rnn_step_forward"}, failing


def test_no_model_answers_for_an_exercise_left_unwritten(solution):
    """Attack (issue 26 review): rnn_backward by finite differences of rnn_forward, with
    neither rnn_step_forward nor rnn_forward written, got full marks on BPTT from the model's
    forward. An exercise the student left as released is never answered by the model."""
    release = course_tools.read(
        course_tools.notebook_path(course_tools.ROOT / "notebooks", ASSIGNMENT)
    )
    finite_differences = """
def rnn_backward(dhs, xs, hs, h0, W_xh, W_hh, b_h):
    params = {"W_xh": W_xh, "W_hh": W_hh, "b_h": b_h, "h0": h0}
    grads = {}
    for key, value in params.items():
        g = np.zeros_like(value)
        for i in np.ndindex(value.shape):
            for sign in (1, -1):
                moved = {k: v.copy() for k, v in params.items()}
                moved[key][i] += sign * 1e-6
                out = rnn_forward(xs, moved["h0"], moved["W_xh"], moved["W_hh"], moved["b_h"])
                g[i] += sign * np.sum(dhs * out) / 2e-6
        grads[key] = g
    return grads
"""
    submission = course_tools.make_submission(
        release, solution, {"rnn_backward": finite_differences}, solved=False
    )
    failing = _failing(grade_submission(solution, submission))
    assert {"test_rnn_backward", "hidden_rnn_backward"} <= failing, failing


def test_a_mistake_in_a_called_exercise_of_notebook_02_costs_points_once():
    """sigmoid_grad calls sigmoid, hidden_jacobian calls sigmoid_grad and tanh_grad, and
    jacobian_product_norms calls hidden_jacobian: a wrong sigmoid costs sigmoid's points only."""
    solution = course_tools.read(
        course_tools.notebook_path(course_tools.ROOT / "solutions", "02_vanishing")
    )
    wrong = "def sigmoid(x):\n    return 1.0 / (1.0 + np.exp(x))\n"  # the sign of the exponent
    submission = course_tools.make_submission(solution, solution, {"sigmoid": wrong})
    failing = _failing(grade_submission(solution, submission))
    assert failing and {exercise_of(g) for g in failing} == {"sigmoid"}, failing


# The model's step is `np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)`; the probe looks for it
# in two halves, so that its own source never holds the whole line.
PROBE = """
import gc, inspect, socket, sys
import numpy as np

def rnn_forward(xs, h0, W_xh, W_hh, b_h):
    first = "np.tanh(x_t @ W_xh.T + h_prev"
    second = " @ W_hh.T + b_h)"
    control_first = "h_prev @ W_h"      # the student's own step: found, so the search works
    control_second = "h + b_h)"

    def holds(text, a, b):
        at = text.find(a)
        while at >= 0:
            if text[at + len(a): at + len(a) + len(b)] == b:
                return True
            at = text.find(a, at + 1)
        return False

    found = {"gc": [], "control": 0, "code": [], "frames": [], "memory": None, "stub": ""}
    step = rnn_step_forward
    found["stub"] = type(step).__name__ + ":" + getattr(step.__code__, "co_filename", "")
    try:
        found["stub_source_has_model"] = holds(inspect.getsource(step), first, second)
    except (OSError, TypeError):
        found["stub_source_has_model"] = False
    for cell in step.__closure__ or ():
        contents = cell.cell_contents
        code = getattr(contents, "__code__", None)
        if code is not None:
            found["code"].append(code.co_filename)
    for obj in gc.get_objects():
        texts = []
        if isinstance(obj, dict):
            texts = [v for v in obj.values() if isinstance(v, str)]
        elif isinstance(obj, (list, tuple)):
            texts = [v for v in obj if isinstance(v, str)]
        elif callable(obj) and hasattr(obj, "__code__"):
            code = obj.__code__
            if code.co_name == "rnn_step_forward":
                found["code"].append(code.co_filename)
            texts = [c for c in code.co_consts if isinstance(c, str)]
        for text in texts:
            if holds(text, first, second):
                found["gc"].append(type(obj).__name__)
            if holds(text, control_first, control_second):
                found["control"] += 1
    frame = sys._getframe()
    sock = None
    while frame is not None:
        for value in list(frame.f_locals.values()):
            if isinstance(value, str) and holds(value, first, second):
                found["frames"].append(frame.f_code.co_name)
            if isinstance(value, socket.socket) and sock is None and value.fileno() >= 0:
                sock = value
        frame = frame.f_back
    try:  # every readable mapping of this process, read in place (/proc/self/mem is closed)
        import ctypes

        hits, control = 0, 0
        with open("/proc/self/maps") as maps:
            for line in maps:
                span, perms = line.split()[:2]
                if not perms.startswith("r") or line.rstrip().endswith(("]", "(deleted)")) and (
                    "[heap]" not in line and "[stack]" not in line
                ):
                    continue
                start, end = (int(x, 16) for x in span.split("-"))
                chunk = ctypes.string_at(start, end - start)
                hits += holds(chunk, first.encode(), second.encode())
                control += holds(chunk, control_first.encode(), control_second.encode())
                del chunk
        found["memory"] = [hits, control]
    except OSError as error:
        found["memory"] = str(error)
    # Asking the grader directly, on the wire, for models it must not give.
    from instructor.infrastructure.sandbox import codec
    from instructor.infrastructure.sandbox.protocol import Message, recv, send

    asked = {}
    args = [xs[0], h0, W_xh, W_hh, b_h]
    for name in ("rnn_forward", "rnn_backward", "numerical_gradient", "rnn_step_forward"):
        send(sock, Message.MODEL, codec.encode([name, [xs, h0, W_xh, W_hh, b_h]
                                               if name == "rnn_forward" else args, {}]))
        kind, payload = recv(sock)
        asked[name] = kind.name
    found["asked"] = asked
    found["step"] = step(xs[0], h0, W_xh, W_hh, b_h)
    return found
"""


def test_student_code_cannot_read_the_model_it_is_graded_with(solution):
    """The student's process holds no trace of the model's step, in its objects, frames, the
    stand-in's code and closure, or its memory; on the wire, the grader answers only for
    exercises above the called one."""
    models = model_calls(solution, Limits(setup_seconds=20, call_seconds=20))
    scratch = confine.make_scratch()
    box = Sandbox(
        "import numpy as np",
        [("rnn_step_forward", WRONG_STEP), ("rnn_forward", PROBE)],
        Limits(setup_seconds=20, call_seconds=60),
        scratch,
        allow_torch=False,
        models=models,
    )
    rng = np.random.default_rng(0)
    xs, h0 = rng.normal(size=(3, 2, 4)), rng.normal(size=(2, 5))
    W_xh, W_hh, b_h = rng.normal(size=(5, 4)), rng.normal(size=(5, 5)), rng.normal(size=5)
    try:
        found = box.call("rnn_forward", (xs, h0, W_xh, W_hh, b_h), {})
        assert not box.cell_errors, box.cell_errors
    finally:
        box.close()
        models.close()
        confine.remove_scratch(scratch)
    # the call went to the model: the model's step, not the student's wrong one
    np.testing.assert_allclose(found["step"], np.tanh(xs[0] @ W_xh.T + h0 @ W_hh.T + b_h))
    assert found["asked"] == {
        "rnn_forward": "DECLINED",  # the function being graded
        "rnn_backward": "DECLINED",  # below it
        "numerical_gradient": "DECLINED",
        "rnn_step_forward": "ANSWER",  # above it: what the stand-in gets
    }, found["asked"]
    assert found["control"] >= 1, "the search finds nothing, not even the student's own step"
    assert found["gc"] == [] and found["frames"] == [], found
    assert not found["stub_source_has_model"]
    assert set(found["code"]) == {"<cell rnn_step_forward>"}, found["code"]
    hits, control = found["memory"]
    assert control >= 1 and hits == 0, found["memory"]
