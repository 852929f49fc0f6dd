"""Line plots of search statistics: the mean of several runs with a shaded spread."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .style import new_axes


def plot_mean_spread(
    x: Sequence[float],
    series: Mapping[str, Sequence[Sequence[float]]],
    ax: Axes | None = None,
    xlabel: str = "",
    ylabel: str = "",
    title: str | None = None,
    logy: bool = False,
) -> Figure:
    """One line per series: the mean of its samples at each ``x``, shaded between the
    smallest and largest mean ± one standard deviation that the samples allow."""
    if not series:
        raise ValueError("series must hold at least one named series")
    for name, samples in series.items():
        if len(samples) != len(x):
            raise ValueError(f"series[{name!r}] must have one sample list per x ({len(x)}), "
                             f"got {len(samples)}")
        if any(len(s) == 0 for s in samples):
            raise ValueError(f"series[{name!r}] has an x with no samples")
    fig, ax = new_axes(ax, (6.0, 4.0))
    for name, samples in series.items():
        arrays = [np.asarray(s, dtype=float) for s in samples]
        mean = np.array([a.mean() for a in arrays])
        std = np.array([a.std() for a in arrays])
        low = np.maximum(mean - std, [a.min() for a in arrays])  # never below the data
        high = np.minimum(mean + std, [a.max() for a in arrays])
        (line,) = ax.plot(x, mean, marker="o", ms=4, lw=1.8, label=name)
        ax.fill_between(x, low, high, color=line.get_color(), alpha=0.18, lw=0)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=9)
    if title:
        ax.set_title(title, fontsize=10)
    return fig
