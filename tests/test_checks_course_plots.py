import warnings

import matplotlib
import numpy as np
import pytest

from helpers import checks, course, plots

matplotlib.use("Agg")


def test_failure_message_has_all_five_parts():
    case = checks.small_rnn_case()
    with pytest.raises(checks.CheckFailure) as info:
        checks.expect_close(
            "ex", "dW", np.zeros((2, 4)), np.ones((2, 4)), inputs=case.describe(), hint="look here"
        )
    text = str(info.value)
    assert text.startswith("ex: dW is wrong.")
    for part in (
        "input:    T=3, B=2, D=4, H=5, seed 0",
        "returned: dW[0, 0:3]",
        "expected: dW[0, 0:3] = [1.000 1.000 1.000]",
        "max relative error 1.0e+00",
        "hint:     look here",
    ):
        assert part in text


@pytest.mark.parametrize(
    "returned, problem",
    [
        ([1.0, 2.0], "should be a numpy array"),
        (np.ones(3), "wrong shape"),
        (np.ones(2, dtype=int), "should hold floats"),
        (np.array([1.0, np.nan]), "inf or NaN"),
    ],
)
def test_as_array_rejects_what_students_return(returned, problem):
    with pytest.raises(checks.CheckFailure, match=problem):
        checks.as_array("ex", "x", returned, (2,), inputs="i")


def test_call_reports_not_implemented_and_exceptions_and_records_warnings():
    def todo():
        raise NotImplementedError()

    with pytest.raises(checks.CheckFailure, match="not implemented yet"):
        checks.call("ex", todo, inputs="i")
    with pytest.raises(checks.CheckFailure, match="raised ValueError"):
        checks.call("ex", lambda: np.ones(2) @ np.ones(3), inputs="i")

    def noisy():
        warnings.warn("overflow", RuntimeWarning, stacklevel=1)
        return 1

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing may escape to stderr
        result, caught = checks.call("ex", noisy, inputs="i")
    assert result == 1 and [str(w.message) for w in caught] == ["overflow"]


def test_close_and_relative_error():
    assert checks.close([1.0, 2.0], [1.0, 2.0 + 1e-12])
    assert not checks.close([1.0, 2.0], [1.0, 2.1])
    assert not checks.close(np.ones(2), np.ones(3))
    assert checks.max_relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert checks.max_relative_error([1.0], [3.0]) == pytest.approx(0.5)


def test_preview_shows_a_0d_array_as_a_number_and_an_array_in_brackets():
    assert checks.preview(np.asarray(1.6666667)) == "1.667"
    assert checks.preview(np.asarray(True)) == "True"
    assert checks.preview(np.array([1.0])) == "[1.000]"
    assert checks.preview(np.arange(5.0)) == "[0.000 1.000 2.000]"
    with pytest.raises(checks.CheckFailure) as failure:
        checks.expect_close("f", "mse", np.float64(5.0), 5 / 3, inputs="x", hint="h")
    assert "returned: mse = 5.000\n" in str(failure.value)
    assert "expected: mse = 1.667 " in str(failure.value)


def test_first_bad_step():
    assert checks.first_bad_step(5, lambda t: t < 3) == 3
    assert checks.first_bad_step(5, lambda t: True) is None
    with pytest.raises(ValueError):
        checks.first_bad_step(0, lambda t: True)


def test_expect_from_scratch_spots_torch():
    import torch as aliased

    def uses_alias(x):
        return aliased.tanh(x)

    def plain(x):
        return np.tanh(x)

    checks.expect_from_scratch("ex", plain)
    with pytest.raises(checks.CheckFailure, match="numpy alone"):
        checks.expect_from_scratch("ex", uses_alias)


def test_small_rnn_case_is_reproducible_and_prefixes():
    a, b = checks.small_rnn_case(seed=3), checks.small_rnn_case(seed=3)
    assert np.array_equal(a.W_hh, b.W_hh) and a.xs.shape == (3, 2, 4) and a.W_xh.shape == (5, 4)
    assert a.prefix(2).xs.shape == (2, 2, 4) and a.prefix(2).T == 2
    with pytest.raises(ValueError, match="scale"):
        checks.small_rnn_case(scale=0)


def test_course_modes(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert not course.is_autograding() and course.pick(10, 1) == 10
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert course.is_autograding() and course.pick(10, 1) == 1
    assert not course.in_colab()
    assert str(course.get_device(prefer_gpu=False)) == "cpu"
    assert "autograding" in course.describe()


def test_setup_runs_torch_on_one_thread_unless_asked():
    import torch

    before = torch.get_num_threads()
    try:
        course.setup(seed=0)
        assert torch.get_num_threads() == 1
        course.limit_threads(2)
        assert torch.get_num_threads() == 2
        for bad in (0, 1.5, True):
            with pytest.raises(ValueError, match="threads"):
                course.limit_threads(bad)
    finally:
        torch.set_num_threads(before)


def test_seed_everything_is_reproducible():
    import torch

    r1 = course.seed_everything(4)
    t1 = torch.rand(2)
    r2 = course.seed_everything(4)
    assert torch.equal(t1, torch.rand(2)) and r1.random() == r2.random()
    with pytest.raises(ValueError):
        course.seed_everything(-1)


def test_plots_are_labelled():
    ax = plots.line_plot(
        [1, 2, 3], {"a": [1, 10, 100]}, "t", "x", "y", logy=True, baseline=(5.0, "base")
    )
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("t", "x", "y")
    assert ax.get_yscale() == "log" and len(ax.get_legend().get_texts()) == 2
    with pytest.raises(ValueError, match="title"):
        plots.line_plot([1], {"a": [1]}, "", "x", "y")
    with pytest.raises(ValueError, match="shape"):
        plots.line_plot([1, 2], {"a": [1]}, "t", "x", "y")
    for bad in (0, 9, 2.5, True, np.bool_(True)):
        with pytest.raises(ValueError, match=r"steps must be an integer from 1 to 8 \(a readable"):
            plots.draw_unrolled_rnn(bad)
    assert plots.draw_unrolled_rnn(np.int64(4)).get_title()
    assert plots.draw_unrolled_rnn(3).get_title()


@pytest.mark.parametrize(
    "returned, problem",
    [
        (np.array([1.0, 2.0]), "should be one real number"),
        (1 + 2j, "should be one real number"),
        (True, "should be one real number"),
        ("0.5", "should be one real number"),
        (float("nan"), "inf or NaN"),
    ],
)
def test_as_number_rejects_what_is_not_one_real_number(returned, problem):
    with pytest.raises(checks.CheckFailure, match=problem):
        checks.as_number("ex", "rho", returned, inputs="i", hint="h")


def test_as_number_accepts_python_numpy_and_0d_numbers():
    for value in (0.5, np.float64(0.5), np.array(0.5), np.float32(0.5)):
        assert checks.as_number("ex", "rho", value, inputs="i", hint="h") == 0.5
    assert checks.as_number("ex", "n", 3, inputs="i", hint="h") == 3.0


def test_expect_elementwise_catches_warnings_changes_in_place_and_wrong_values():
    x = np.array([-1000.0, 0.0, 2.0])
    checks.expect_elementwise("ex", lambda v, c: c * v, x, 3 * x, 3.0, hint="h", warning_hint="w")

    def noisy(v):
        with np.errstate(over="warn"):
            return np.exp(-v) * 0 + v

    with pytest.raises(
        checks.CheckFailure, match="(?s)raised a warning.*RuntimeWarning.*hint:     w"
    ):
        checks.expect_elementwise("ex", noisy, x, x, hint="h", warning_hint="w")

    def in_place(v):
        v *= 2
        return v

    with pytest.raises(checks.CheckFailure, match="ex: changed its argument v in place"):
        checks.expect_elementwise("ex", in_place, x, 2 * x, hint="h", warning_hint="w")
    with pytest.raises(checks.CheckFailure, match=r"(?s)ex\(x, 3.0\) is wrong.*input:.*, 3.0"):
        checks.expect_elementwise("ex", lambda v, c: v, x, 3 * x, 3.0, hint="h", warning_hint="w")


def test_expect_unchanged_names_the_changed_argument():
    before = [np.ones(3), np.zeros(2)]
    checks.expect_unchanged("ex", "grads", before, [np.ones(3), np.zeros(2)], inputs="i")
    with pytest.raises(checks.CheckFailure, match=r"changed its input grads in place") as info:
        checks.expect_unchanged(
            "ex", "grads", before, [np.ones(3), np.array([0.0, 5.0])], inputs="i"
        )
    assert "grads[1] after the call" in str(info.value)
    with pytest.raises(checks.CheckFailure, match="changed its input W"):
        checks.expect_unchanged("ex", "W", np.eye(2), 2 * np.eye(2), inputs="i")
    with pytest.raises(checks.CheckFailure):
        checks.expect_unchanged("ex", "grads", before, before[:1], inputs="i")


def test_expect_raises_passes_only_on_the_named_error():
    def refuses(x):
        raise ValueError("no")

    def accepts(x):
        return x * 2

    def breaks(x):
        raise ZeroDivisionError("oops")

    def todo(x):
        raise NotImplementedError()

    parts = {
        "inputs": "x = 1",
        "problem": "accepted a bad x.",
        "expected": "ValueError",
        "hint": "refuse it",
    }
    checks.expect_raises("ex", ValueError, refuses, 1, **parts)
    with pytest.raises(checks.CheckFailure, match="accepted a bad x") as info:
        checks.expect_raises("ex", ValueError, accepts, 1, **parts)
    assert "returned: 2" in str(info.value)
    with pytest.raises(checks.CheckFailure, match="raised ZeroDivisionError"):
        checks.expect_raises("ex", ValueError, breaks, 1, **parts)
    with pytest.raises(checks.CheckFailure, match="not implemented yet"):
        checks.expect_raises("ex", ValueError, todo, 1, **parts)


def test_circle_is_a_line_whose_legend_entry_is_a_line():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    line = plots.circle(ax, 2.0, color="gray", linestyle="--", label="radius 2")
    x, y = line.get_data()
    assert np.allclose(np.hypot(x, y), 2.0) and np.isclose(x[0], x[-1])
    handles, labels = ax.get_legend_handles_labels()
    assert labels == ["radius 2"] and isinstance(handles[0], matplotlib.lines.Line2D)
    line.set_data(*plots.circle_points(0.5))
    assert np.allclose(np.hypot(*line.get_data()), 0.5)
    for bad in (-1.0, float("nan"), "1"):
        with pytest.raises(ValueError, match="radius"):
            plots.circle(ax, bad)
    plt.close(fig)


def test_moving_average_is_trailing_and_keeps_the_length():
    got = plots.moving_average([1.0, 2.0, 3.0, 4.0, 5.0], 2)
    assert np.allclose(got, [1.0, 1.5, 2.5, 3.5, 4.5])
    assert np.allclose(plots.moving_average([4.0, 2.0], 10), [4.0, 3.0])
    with_nan = plots.moving_average([1.0, np.nan, 3.0, 4.0], 2)
    assert np.isnan(with_nan[1:3]).all() and with_nan[3] == 3.5  # NaN stays in its windows
    assert plots.moving_average([], 3).shape == (0,)
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="window"):
            plots.moving_average([1.0], bad)
    with pytest.raises(ValueError, match="1-D"):
        plots.moving_average(np.ones((2, 2)), 2)
