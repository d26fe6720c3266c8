"""Interactive explorers: controls that redraw a matplotlib figure whenever one of them moves.

Built only on what ipywidgets 7.7 (Colab) and 8 share: sliders, dropdowns, `observe`, and an
`Output` widget that shows an inline image. Each redraw is timed and the time is shown under the
figure, so "does it feel live?" is answered by the explorer itself.

Speed comes from drawing the figure once and then only updating it: the notebook supplies a
*view*, an object built once on the explorer's figure whose `update(**values)` changes the
data of its lines and points (`set_data`, `set_offsets`, limits, titles). Creating a fresh
figure for every change costs matplotlib several times more (new axes, ticks and text layout).

Two rules hold for every explorer, whatever its view does. A slider is wide enough that one
press of an arrow key moves its handle by a visible step (`STEP_PX` pixels, up to a track of
`MAX_TRACK_PX`), each slider on its own row and the other controls on one row below. A legend
inside a plot goes where it covers the least data, at every redraw (matplotlib's "best"), and a
legend that still covers data is recorded in `errors`, so that tests catch it.

Widgets need a live kernel and a front end: a static view of a notebook (GitHub, nbviewer, an
exported HTML) shows no widget, and autograding never moves a slider. Notebooks therefore draw a
static figure of the same thing next to every explorer, with the same view class.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from matplotlib.figure import Figure

STEP_PX = 6  # pixels the handle of a slider moves for one step (one arrow key press)
MIN_TRACK_PX, MAX_TRACK_PX = 200, 600  # a slider's track, whatever its number of steps
LABEL_PX = 160  # a slider's description and readout, beside its track


class View(Protocol):
    """What an explorer redraws: built once on a figure, then updated in place."""

    def update(self, **values: Any) -> None: ...


class Explorer:
    """Controls above a figure; moving any control updates the figure.

    make_view(figure) -> View: builds the plots on a fresh matplotlib Figure of `figsize`
    inches (add axes with `figure.subplots(...)`); `view.update(**values)` then receives the
    controls' values as keyword arguments named like the controls. controls: name -> ipywidgets
    value widget (a slider, a dropdown, ...). Display the explorer as the last expression of a
    cell. `timings` holds the seconds each redraw took (update plus rendering); `errors` the
    problems met while redrawing (an exception in the view's update, a legend over the data).
    """

    def __init__(
        self,
        make_view: Callable[[Figure], View],
        controls: Mapping[str, Any],
        title: str = "",
        figsize: tuple[float, float] = (10.0, 3.8),
        dpi: int = 80,
    ) -> None:
        import ipywidgets as widgets

        if not callable(make_view):
            raise ValueError(
                "make_view must be a function that builds the plots on a figure "
                f"and returns an object with an update(**values) method, got "
                f"{make_view!r}"
            )
        if not controls:
            raise ValueError(
                "controls must name at least one widget, e.g. {'rho': ipywidgets.FloatSlider(...)}"
            )
        for name, control in controls.items():
            if not isinstance(control, widgets.ValueWidget):
                raise ValueError(
                    f"control {name!r} must be an ipywidgets value widget (a "
                    f"slider, a dropdown, ...), got {type(control).__name__}"
                )
        if not (isinstance(dpi, int) and 20 <= dpi <= 300):
            raise ValueError(f"dpi must be an integer from 20 to 300, got {dpi!r}")
        # A Figure made without pyplot: the inline backend never shows it on its own.
        self.figure = Figure(figsize=figsize, dpi=dpi)
        self.view = make_view(self.figure)
        if not callable(getattr(self.view, "update", None)):
            raise ValueError(
                "make_view must return an object with an update(**values) method, "
                f"got {type(self.view).__name__}"
            )
        self.controls, self.dpi = dict(controls), dpi
        self.timings: list[float] = []
        self.errors: list[str] = []
        for axes in self.figure.axes:
            _place_legend_best(axes)
        self.output = widgets.Output()
        self.status = widgets.HTML()
        header = [widgets.HTML(f"<b>{title}</b>")] if title else []
        self.widget = widgets.VBox(
            [*header, *_control_rows(widgets, self.controls.values()), self.output, self.status]
        )
        for control in self.controls.values():
            control.observe(self._changed, names="value")
        self.redraw()

    def values(self) -> dict[str, Any]:
        """The controls' current values, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def render(self) -> bytes:
        """The figure as PNG bytes, as it stands."""
        import matplotlib

        buffer = io.BytesIO()
        # Text is most of a redraw's time; unhinted glyphs render about 15% faster and look
        # the same at screen resolution. Fast compression: the size hardly matters here.
        with matplotlib.rc_context({"text.hinting": "none"}):
            self.figure.savefig(
                buffer, format="png", dpi=self.dpi, pil_kwargs={"compress_level": 1}
            )
        return buffer.getvalue()

    def redraw(self) -> float:
        """Update the view for the current values and show it; return the seconds it took.

        An error in the view's update is shown where the figure would be, not raised: a slider
        callback has nowhere else to report it.
        """
        from IPython.display import Image, clear_output, display

        start = time.perf_counter()
        with self.output:
            clear_output(wait=True)
            try:
                self.view.update(**self.values())
                display(Image(data=self.render(), format="png"))
            except Exception as error:  # a callback must not raise into the widget machinery
                self.errors.append(f"{self.values()}: {type(error).__name__}: {error}")
                print(f"could not draw: {type(error).__name__}: {error}")
            else:
                self.errors += [
                    f"{self.values()}: {problem}" for problem in legends_over_data(self.figure)
                ]
        seconds = time.perf_counter() - start
        self.timings.append(seconds)
        self.status.value = f"<small>redrawn in {1000 * seconds:.0f} ms</small>"
        return seconds

    def sweep(self, points: int = 5) -> list[float]:
        """Move every control through its range, one at a time (`points` values per slider,
        every option of a dropdown), as a person exploring would; then restore the values.

        Returns the seconds each redraw took. Benchmarks and tests use it: a headless run
        never moves a slider otherwise.
        """
        if isinstance(points, bool) or not isinstance(points, int) or points < 2:
            raise ValueError(f"points must be an integer >= 2, got {points!r}")
        start, first = self.values(), len(self.timings)
        for control in self.controls.values():
            for value in _control_values(control, points):
                control.value = value
        for name, value in start.items():
            self.controls[name].value = value
        return self.timings[first:]

    def _changed(self, change: Mapping[str, Any]) -> None:
        self.redraw()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def _slider_steps(control: Any) -> int | None:
    """How many steps a slider has from min to max (None for a control that is not a slider)."""
    if hasattr(control, "options") or not all(
        hasattr(control, name) for name in ("min", "max", "step")
    ):
        return None
    if not control.step:
        return None
    return max(1, round((control.max - control.min) / control.step))


def _control_rows(widgets: Any, controls: Any) -> list[Any]:
    """The controls laid out: each slider on its own row, all as wide as the slider with the
    most steps needs for one visible step per arrow key (unless the notebook set a width), then
    the other controls on one row."""
    controls = list(controls)
    steps = [_slider_steps(control) for control in controls]
    sliders = [c for c, n in zip(controls, steps, strict=True) if n is not None]
    others = [c for c, n in zip(controls, steps, strict=True) if n is None]
    if sliders:
        track = min(MAX_TRACK_PX, max(MIN_TRACK_PX, STEP_PX * max(n or 0 for n in steps)))
        for slider in sliders:
            if not slider.layout.width:
                slider.layout.width = f"{track + LABEL_PX}px"
    return sliders + ([widgets.HBox(others)] if others else [])


def _place_legend_best(axes: Any) -> None:
    """Let a legend inside `axes` move to where it covers the least data at every draw (a
    legend the view anchored elsewhere, outside the axes say, stays where it is)."""
    legend = axes.get_legend()
    if legend is None or legend.get_bbox_to_anchor().bounds != axes.bbox.bounds:
        return
    if hasattr(legend, "set_loc"):  # matplotlib 3.8+
        legend.set_loc("best")
    else:
        legend._loc = 0  # "best" in matplotlib 3.6 and 3.7


def legends_over_data(figure: Figure) -> list[str]:
    """A sentence for each legend of the (drawn) figure that covers data of its own axes: a
    point of a scatter or of a marker-only line, or a segment of a drawn line."""
    from matplotlib.transforms import Bbox

    problems = []
    for axes in figure.axes:
        legend = axes.get_legend()
        if legend is None or not legend.get_visible():
            continue
        box = Bbox.intersection(legend.get_window_extent(), axes.bbox)
        if box is None:  # the legend is outside the plotting area
            continue
        covered = []
        for line in axes.lines:
            if not line.get_visible():
                continue
            if line.get_linestyle() in ("None", "", " "):  # markers only: their points
                hit = box.count_contains(line.get_transform().transform(line.get_xydata())) > 0
            else:
                hit = (
                    line.get_transform()
                    .transform_path(line.get_path())
                    .intersects_bbox(box, filled=False)
                )
            covered += [_name(line)] if hit else []
        for patch in axes.patches:
            outline = patch.get_transform().transform_path(patch.get_path())
            if patch.get_visible() and outline.intersects_bbox(box, filled=patch.get_fill()):
                covered.append(_name(patch))
        for collection in axes.collections:
            offsets = collection.get_offset_transform().transform(collection.get_offsets())
            if collection.get_visible() and len(offsets) and box.count_contains(offsets):
                covered.append(_name(collection))
        if covered:
            problems.append(f"the legend of {axes.get_title()!r} covers {', '.join(covered)}")
    return problems


def _name(artist: Any) -> str:
    label = artist.get_label()
    return repr(label) if label and not label.startswith("_") else type(artist).__name__


def _control_values(control: Any, points: int) -> list[Any]:
    """The values a sweep visits: every option of a selection widget, or `points` values from
    min to max of a slider (whole numbers for an integer slider)."""
    if hasattr(control, "options"):
        return [option[1] if isinstance(option, tuple) else option for option in control.options]
    low, high = control.min, control.max
    values = [low + (high - low) * i / (points - 1) for i in range(points)]
    return [round(v) for v in values] if isinstance(control.value, int) else values
