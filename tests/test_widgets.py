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
        (self.line,) = self.ax.plot([], [])
        self.calls = []

    def update(self, scale, kind):
        if kind == "broken":
            raise RuntimeError("this setting cannot be drawn")
        self.calls.append((scale, kind))
        self.line.set_data([0, 1, 2], [0, scale, 2 * scale])
        self.ax.set_ylim(0, 2 * scale + 1)
        self.ax.set_title(f"{kind}: scale {scale}")


def make_explorer(**kwargs):
    controls = {
        "scale": ipywidgets.FloatSlider(value=1.0, min=0.5, max=2.0),
        "kind": ipywidgets.Dropdown(options=["a", "b"], value="a"),
    }
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
    explorer = widgets.Explorer(
        RecordingView,
        {
            "scale": ipywidgets.FloatSlider(value=1.0, min=0.5, max=2.0),
            "kind": ipywidgets.Dropdown(options=["a", "broken"], value="a"),
        },
    )
    explorer.controls["kind"].value = "broken"
    assert explorer.errors and "RuntimeError: this setting cannot be drawn" in explorer.errors[0]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"make_view": 3}, "make_view must be a function"),
        ({"controls": {}}, "controls must name at least one widget"),
        ({"controls": {"x": ipywidgets.Button(description="not a control")}}, "value widget"),
        ({"make_view": lambda figure: object()}, "update"),
        ({"dpi": 5}, "dpi"),
    ],
)
def test_bad_arguments_raise_clear_value_errors(kwargs, message):
    arguments = {
        "make_view": RecordingView,
        "controls": {
            "scale": ipywidgets.FloatSlider(value=1.0),
            "kind": ipywidgets.Dropdown(options=["a"], value="a"),
        },
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        widgets.Explorer(arguments.pop("make_view"), arguments.pop("controls"), **arguments)


def test_sliders_are_wide_enough_for_one_visible_step_per_arrow_key():
    fine = ipywidgets.FloatSlider(value=1.0, min=0.5, max=4.0, step=0.05)  # 70 steps
    coarse = ipywidgets.IntSlider(value=60, min=5, max=120, step=5)  # 23 steps
    fixed = ipywidgets.IntSlider(value=1, min=0, max=3, layout={"width": "150px"})
    explorer = widgets.Explorer(
        _AnyView,
        {"scale": fine, "n": coarse, "m": fixed, "kind": ipywidgets.Dropdown(options=["a", "b"])},
    )
    width = int(fine.layout.width.removesuffix("px"))
    assert (width - widgets.LABEL_PX) / 70 >= widgets.STEP_PX
    assert coarse.layout.width == fine.layout.width and fixed.layout.width == "150px"
    rows = explorer.widget.children
    assert rows[0] is fine and rows[1] is coarse and rows[2] is fixed
    assert isinstance(rows[3], ipywidgets.HBox) and rows[3].children[0] is explorer.controls["kind"]


class _AnyView:
    def __init__(self, figure):
        self.ax = figure.subplots()

    def update(self, **values):
        pass


class LegendView:
    """Data along the lower-left to upper-right diagonal and a legend asked for the lower left."""

    def __init__(self, figure, anchored=False):
        self.ax = figure.subplots()
        (self.line,) = self.ax.plot([], [], "o", label="points")
        kwargs = {"bbox_to_anchor": (1.0, 1.0)} if anchored else {}
        self.ax.legend(loc="lower left" if not anchored else "upper left", **kwargs)

    def update(self, slope):
        x = [i / 40 for i in range(41)]
        self.line.set_data(x, [slope * v for v in x])
        self.ax.set_xlim(0, 1)
        self.ax.set_ylim(0, 1)
        self.ax.set_title(f"slope {slope}")


def test_a_legend_moves_off_the_data_and_one_left_on_it_is_reported():
    from matplotlib.figure import Figure

    slider = ipywidgets.FloatSlider(value=1.0, min=0.5, max=1.0, step=0.5)
    explorer = widgets.Explorer(LegendView, {"slope": slider})
    explorer.sweep(points=2)
    assert explorer.errors == []  # "best" found a free corner each time
    figure = Figure()
    view = LegendView(figure)  # the same view outside an explorer
    view.update(slope=1.0)
    figure.canvas.draw()
    assert widgets.legends_over_data(figure) == ["the legend of 'slope 1.0' covers 'points'"]
    outside = Figure()
    anchored = LegendView(outside, anchored=True)  # a legend beside the axes stays put
    anchored.update(slope=1.0)
    outside.canvas.draw()
    assert widgets.legends_over_data(outside) == []
    kept = widgets.Explorer(lambda f: LegendView(f, anchored=True), {"slope": slider})
    legend = kept.view.ax.get_legend()
    assert kept.errors == [] and legend.get_window_extent().x0 >= kept.view.ax.bbox.x1
