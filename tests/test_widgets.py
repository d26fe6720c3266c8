"""helpers.widgets.Explorer: controls drive a view that is built once and updated in place."""

import ipywidgets
import matplotlib
import pytest

from helpers import widgets

matplotlib.use("Agg")


class RecordingView:
    """A view that draws one line and remembers every update it received."""

    def __init__(self, figure):
        self.ax = figure.subplots()
        self.line, = self.ax.plot([], [])
        self.calls = []

    def update(self, scale, kind):
        if kind == "broken":
            raise RuntimeError("this setting cannot be drawn")
        self.calls.append((scale, kind))
        self.line.set_data([0, 1, 2], [0, scale, 2 * scale])
        self.ax.set_ylim(0, 2 * scale + 1)
        self.ax.set_title(f"{kind}: scale {scale}")


def make_explorer(**kwargs):
    controls = {"scale": ipywidgets.FloatSlider(value=1.0, min=0.5, max=2.0),
                "kind": ipywidgets.Dropdown(options=["a", "b"], value="a")}
    return widgets.Explorer(RecordingView, controls, **kwargs)


def test_explorer_draws_once_at_start_and_again_on_every_change():
    explorer = make_explorer(title="demo")
    assert explorer.view.calls == [(1.0, "a")]
    explorer.controls["scale"].value = 1.5
    explorer.controls["kind"].value = "b"
    assert explorer.view.calls == [(1.0, "a"), (1.5, "a"), (1.5, "b")]
    assert len(explorer.timings) == 3 and all(t > 0 for t in explorer.timings)
    assert "redrawn in" in explorer.status.value
    assert explorer.values() == {"scale": 1.5, "kind": "b"}
    assert explorer.render().startswith(b"\x89PNG")


def test_one_figure_is_reused_not_recreated():
    explorer = make_explorer()
    figure, axes = explorer.figure, explorer.view.ax
    explorer.controls["scale"].value = 2.0
    assert explorer.figure is figure and explorer.view.ax is axes
    assert list(explorer.view.line.get_ydata()) == [0, 2.0, 4.0]


def test_sweep_visits_every_option_and_slider_range_then_restores():
    explorer = make_explorer()
    timings = explorer.sweep(points=3)
    scales = [c[0] for c in explorer.view.calls]
    assert {0.5, 1.25, 2.0} <= set(scales)
    assert (1.0, "b") in explorer.view.calls
    assert explorer.values() == {"scale": 1.0, "kind": "a"}
    assert len(timings) == len(explorer.view.calls) - 1
    with pytest.raises(ValueError, match="points"):
        explorer.sweep(points=1)


def test_an_error_in_the_view_is_shown_and_recorded_not_raised():
    explorer = widgets.Explorer(RecordingView, {
        "scale": ipywidgets.FloatSlider(value=1.0, min=0.5, max=2.0),
        "kind": ipywidgets.Dropdown(options=["a", "broken"], value="a")})
    explorer.controls["kind"].value = "broken"
    assert explorer.errors and "RuntimeError: this setting cannot be drawn" in explorer.errors[0]


@pytest.mark.parametrize("kwargs, message", [
    ({"make_view": 3}, "make_view must be a function"),
    ({"controls": {}}, "controls must name at least one widget"),
    ({"controls": {"x": ipywidgets.Button(description="not a control")}}, "value widget"),
    ({"make_view": lambda figure: object()}, "update"),
    ({"dpi": 5}, "dpi"),
])
def test_bad_arguments_raise_clear_value_errors(kwargs, message):
    arguments = {"make_view": RecordingView,
                 "controls": {"scale": ipywidgets.FloatSlider(value=1.0),
                              "kind": ipywidgets.Dropdown(options=["a"], value="a")}}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        widgets.Explorer(arguments.pop("make_view"), arguments.pop("controls"), **arguments)
