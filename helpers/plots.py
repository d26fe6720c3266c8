"""One plotting style for the course: every figure titled, every axis labelled, logs where
quantities grow or shrink geometrically."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from helpers._validate import number, positive_int

STYLE = {
    "figure.figsize": (7.0, 4.0),
    "figure.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.labelsize": 11,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "lines.linewidth": 2.0,
}


def use_course_style() -> None:
    """Apply the course's matplotlib style (called by `helpers.course.setup`)."""
    plt.rcParams.update(STYLE)


def labelled(
    ax: plt.Axes, title: str, xlabel: str, ylabel: str, logy: bool = False, logx: bool = False
) -> plt.Axes:
    """Give `ax` its title and axis labels (required: a figure without them is not finished)."""
    for name, value in (("title", title), ("xlabel", xlabel), ("ylabel", ylabel)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name} must be a non-empty string: every course figure is labelled")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    return ax


def line_plot(
    x: Sequence[float] | np.ndarray,
    series: Mapping[str, Sequence[float] | np.ndarray],
    title: str,
    xlabel: str,
    ylabel: str,
    logy: bool = False,
    ax: plt.Axes | None = None,
    baseline: tuple[float, str] | None = None,
    marker: str | None = None,
) -> plt.Axes:
    """Plot several named series against one x axis, with a legend.

    series: label -> values, each the length of x. baseline: (y, label) drawn as a dashed line.
    logy: log scale on y; non-positive values are masked (they cannot be drawn on a log axis).
    """
    x = np.asarray(x)
    if not series:
        raise ValueError("series must name at least one line to draw")
    if ax is None:
        _, ax = plt.subplots()
    for label, values in series.items():
        values = np.asarray(values, dtype=float)
        if values.shape != x.shape:
            raise ValueError(f"series {label!r} has shape {values.shape} but x has {x.shape}")
        if logy:
            values = np.where(values > 0, values, np.nan)
        ax.plot(x, values, label=label, marker=marker)
    if baseline is not None:
        ax.axhline(baseline[0], color="gray", linestyle="--", linewidth=1.2, label=baseline[1])
    labelled(ax, title, xlabel, ylabel, logy=logy)
    ax.legend()
    return ax


def draw_unrolled_rnn(steps: int = 4, ax: plt.Axes | None = None) -> plt.Axes:
    """Draw an RNN unrolled over `steps` time steps: inputs x_t, states h_t, losses l_t.

    Forward edges are black; the backward path of the gradient from l_T to h_0 is drawn in red,
    so the figure shows both the shared weights and where the products of Jacobians come from.
    """
    steps = positive_int("steps", steps, maximum=8, why="a readable figure")
    if ax is None:
        _, ax = plt.subplots(figsize=(1.7 * (steps + 1), 3.2))

    def node(x: float, y: float, text: str, color: str) -> None:
        ax.text(
            x,
            y,
            text,
            ha="center",
            va="center",
            fontsize=12,
            zorder=3,
            bbox={"boxstyle": "circle,pad=0.35", "fc": color, "ec": "black"},
        )

    def arrow(
        x0: float, y0: float, x1: float, y1: float, label: str = "", color: str = "black"
    ) -> None:
        ax.annotate(
            "",
            xy=(x1, y1),
            xytext=(x0, y0),
            zorder=2,
            arrowprops={
                "arrowstyle": "-|>",
                "color": color,
                "lw": 1.6,
                "shrinkA": 16,
                "shrinkB": 16,
            },
        )
        if label:
            ax.text(
                (x0 + x1) / 2, (y0 + y1) / 2 + 0.12, label, ha="center", fontsize=9, color=color
            )

    node(0, 1, "$h_0$", "#eeeeee")
    for t in range(1, steps + 1):
        node(t, 0, f"$x_{t}$", "#dbe9f6")
        node(t, 1, f"$h_{t}$", "#fde8c8")
        node(t, 2, rf"$\ell_{t}$", "#e3f1de")
        arrow(t, 0, t, 1)
        arrow(t, 1, t, 2)
        arrow(t - 1, 1, t, 1, "$W_{hh}$" if t == 1 else "")
        arrow(t, 1 - 0.15, t - 1, 1 - 0.15, color="tab:red")
    ax.text(0.55, -0.05, "$W_{xh}$", fontsize=9)
    ax.text(
        steps / 2,
        -0.65,
        "red: the gradient flows back through every $W_{hh}$ "
        r"(one Jacobian $\partial h_t/\partial h_{t-1}$ per step)",
        ha="center",
        fontsize=9,
        color="tab:red",
    )
    ax.set_xlim(-0.6, steps + 0.6)
    ax.set_ylim(-0.9, 2.5)
    ax.set_axis_off()
    ax.set_title(f"An RNN unrolled over T = {steps} steps: the same weights at every step")
    return ax


def circle(ax: plt.Axes, radius: float = 1.0, points: int = 200, **style) -> plt.Line2D:
    """Draw the circle of `radius` around 0 as a line on `ax` and return it.

    A line, not a `plt.Circle` patch, so that its legend entry is a line like the circle itself
    (a patch shows up as a rectangle). `style` goes to `ax.plot` (color, linestyle, label, ...).
    To change the radius later: `line.set_data(*(r * np.asarray(xy) for xy in unit))` with
    `unit = circle_points(1.0)`, or simply draw a new one.
    """
    number("radius", radius, minimum=0)
    points = positive_int("points", points, minimum=8)
    (line,) = ax.plot(*circle_points(radius, points), **style)
    return line


def circle_points(radius: float, points: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of `points` points around the circle of `radius` (closed: the last equals the
    first), for `Line2D.set_data` when a circle drawn by `circle` changes its radius."""
    angle = np.linspace(0.0, 2.0 * np.pi, points)
    return radius * np.cos(angle), radius * np.sin(angle)


def moving_average(values: Sequence[float] | np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over the last `window` entries at every position, same length as `values`
    (over the entries there are at the start). A float64 array of shape (len(values),);
    non-finite entries stay visible: a window holding a NaN averages to NaN."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"values must be 1-D, got shape {values.shape}")
    window = positive_int("window", window)
    if values.size == 0:
        return values
    padded = np.concatenate([np.zeros(window - 1), values])
    windows = np.lib.stride_tricks.sliding_window_view(padded, window)  # (len(values), window)
    counts = np.minimum(np.arange(1, values.size + 1), window)
    return windows.sum(axis=1) / counts
