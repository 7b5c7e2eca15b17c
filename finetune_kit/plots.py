"""Plots: the token histogram of a dataset, one example's trained tokens, and a job's curves.

Every function takes plain data (a sequence of token counts, a metrics ``DataFrame``) and
returns a matplotlib ``Figure`` built with the object-oriented API.
Nothing touches ``pyplot``'s global state, so the functions are safe in services, in CI and in
threads: no window opens, no figure is kept alive behind your back, and no backend has to be
chosen. In a Jupyter notebook, a figure returned as a cell's last value is drawn inline.

matplotlib is an optional dependency: ``pip install 'finetune-kit[plot]'``. Without it the
functions raise [`ConfigError`][finetune_kit.ConfigError] with that hint.

Examples:
    >>> from finetune_kit.plots import token_histogram
    >>> fig = token_histogram([120, 340, 95, 17_000], limit=16_385, model="gpt-4o-mini")
    >>> fig.axes[0].get_title()
    'Tokens per example · 4 examples · gpt-4o-mini'
    >>> fig.axes[0].lines[0].get_label()
    'limit 16,385 tokens (longer examples are truncated)'
"""

from __future__ import annotations

import io
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from finetune_kit.errors import ConfigError, DataError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from finetune_kit.tokens.chat import RenderedExample

__all__ = [
    "EMA_ALPHA",
    "MAX_BINS",
    "metrics_plot",
    "save_figure",
    "token_histogram",
    "trainable_tokens_plot",
]

EMA_ALPHA = 0.1
"""Default smoothing of the train curves in [`metrics_plot`][finetune_kit.plots.metrics_plot].

The smoothed value is an exponential moving average ``s[t] = a * x[t] + (1 - a) * s[t-1]``
with ``a = 0.1`` (bias-corrected at the start, so the curve does not begin at zero): each point
is mostly the last ~10 steps. This is TensorBoard's smoothing slider at 0.9.
"""

MAX_BINS = 200
"""Most bins a named binning rule (``"auto"``, ``"fd"``, ...) may produce in a histogram.

Beyond this the bars get thinner than a screen pixel; pass an ``int`` to ask for more.
"""

_PLOT_HINT = "pip install 'finetune-kit[plot]'"

# Colours from matplotlib's default cycle, fixed so that every figure reads the same way.
_TRAIN = "tab:blue"
_VALID = "tab:orange"
_FULL_VALID = "tab:green"
_OVER = "tab:red"
_MARKER = "0.25"

# Metric columns in the order they are preferred. OpenAI's result-file CSV says
# ``train_accuracy``; the ``metrics`` job events say ``train_mean_token_accuracy``.
_LOSS = (("train_loss",), ("valid_loss",), ("full_valid_loss",))
_ACCURACY = (
    ("train_mean_token_accuracy", "train_accuracy"),
    ("valid_mean_token_accuracy", "valid_accuracy"),
    ("full_valid_mean_token_accuracy", "full_valid_accuracy"),
)
# Up to this many bins, histogram bars are drawn one by one with gaps; beyond, as one outline.
_MAX_SEPARATE_BARS = 60
# Above this many validation points, draw a plain line: markers would merge into a smear.
_MAX_MARKERS = 100
# Above this many steps, legends go to a fixed corner: matplotlib's "best" placement gets slow.
_MAX_BEST_LEGEND = 5_000


# -- token histogram ---------------------------------------------------------------------------


def token_histogram(
    counts: Sequence[int] | npt.ArrayLike,
    *,
    limit: int | None = None,
    model: str | None = None,
    bins: int | str = "auto",
    ax: Axes | None = None,
) -> Figure:
    """Draw the histogram of per-example token counts, with the model's per-example limit.

    Bins are computed with numpy (a million counts take well under a second); up to 60 bins
    are drawn as separate bars, more as one filled outline per colour, so drawing never costs
    one artist per example. When ``limit`` falls inside the data, a bin edge is placed just
    above it, so no bar mixes examples under and over the limit: bars over the limit are red
    and the legend says how many examples OpenAI will truncate. Dashed and dotted lines mark
    the median and the 95th percentile (linear interpolation, as in
    [`TrainingEstimate.token_stats`][finetune_kit.TrainingEstimate]).

    The x axis shows what matters, and the legend says what it leaves out:

    - a long tail (a few examples far longer than the rest) is cut at 125% of the 99.5th
      percentile, or of the limit when some examples exceed it; the legend counts the examples
      off the chart and gives the longest;
    - a limit far beyond the longest example (the data would fill less than half the axis) is
      not zoomed out to; the legend says that every example fits.

    Args:
        counts: Token count of each example (for instance
            [`TrainingEstimate.token_counts`][finetune_kit.TrainingEstimate]).
        limit: The model's per-example token limit; ``None`` draws no limit line.
        model: Model name shown in the title.
        bins: Number of bins, or a numpy rule name (``"auto"``, ``"fd"``, ``"sturges"``, ...;
            a rule is capped at [`MAX_BINS`][finetune_kit.plots.MAX_BINS] bins). Bins are never
            narrower than one token.
        ax: Draw into this existing ``Axes`` instead of a new figure.

    Returns:
        The figure (the one holding ``ax`` when it was given).

    Raises:
        ConfigError: matplotlib is not installed, or ``limit``/``bins`` is invalid.
        DataError: ``counts`` is empty, or holds negative or non-numeric values.
    """
    figure_class = _matplotlib_figure()
    import numpy as np
    from matplotlib.container import BarContainer
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    values = _as_counts(counts)
    if limit is not None and (isinstance(limit, bool) or limit < 1):
        raise ConfigError(f"the token limit must be a positive integer, not {limit!r}")
    n = int(values.size)
    edges = _bin_edges(values[values <= _view_end(values, limit)], bins, limit)
    lo, hi = float(edges[0]), float(edges[-1])

    if ax is None:
        fig = figure_class(figsize=(9, 4.8), layout="constrained")
        ax = fig.add_subplot()
    else:
        parent = ax.figure
        fig = parent if isinstance(parent, figure_class) else parent.figure

    if limit is None:
        _bars(ax, np.histogram(values, edges)[0], edges, _TRAIN, "examples")
    else:
        over_mask = values > limit
        n_over = int(np.count_nonzero(over_mask))
        _bars(ax, np.histogram(values[~over_mask], edges)[0], edges, _TRAIN, "within the limit")
        if n_over:
            label = f"over the limit: {_plural(n_over, 'example')} ({_percent(n_over, n)})"
            _bars(ax, np.histogram(values[over_mask], edges)[0], edges, _OVER, label)

    # What lies right of the visible range is said in the legend, under the drawn entries.
    notes: list[str] = []
    n_beyond = int(np.count_nonzero(values > hi))
    if n_beyond:
        longest = float(values.max())
        notes.append(
            f"→ {_plural(n_beyond, 'longer example')} off the chart, up to {longest:,.0f} tokens"
        )
    x_min, x_max = lo, hi
    if limit is not None:
        ax.axvline(
            limit,
            color=_OVER,
            linewidth=1.8,
            label=f"limit {limit:,} tokens (longer examples are truncated)",
        )
        # Zoom out to a limit above the data only while the data still fills half the axis.
        # (A limit above the visible range is above every example: see _view_end.)
        if limit > hi and limit - lo > 2 * (hi - lo):
            notes.append("→ the limit is off the chart: every example fits")
        else:
            x_min, x_max = min(lo, limit), max(hi, limit)
    median, p95 = (float(v) for v in np.percentile(values, [50, 95]))
    ax.axvline(median, color=_MARKER, linestyle="--", linewidth=1.2, label=f"median {median:,.0f}")
    ax.axvline(p95, color=_MARKER, linestyle=":", linewidth=1.5, label=f"p95 {p95:,.0f}")

    pad = 0.02 * (x_max - x_min)
    ax.set_xlim(x_min - pad, x_max + pad)

    title = f"Tokens per example · {_plural(n, 'example')}"
    if model:
        title += f" · {model}"
    ax.set_title(title)
    ax.set_xlabel("tokens per example")
    ax.set_ylabel("examples")
    ax.xaxis.set_major_locator(MaxNLocator(nbins="auto", integer=True, min_n_ticks=1))
    ax.yaxis.set_major_locator(MaxNLocator(nbins="auto", integer=True, min_n_ticks=1))
    ax.xaxis.set_major_formatter(_thousands)
    ax.yaxis.set_major_formatter(_thousands)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    # Bars first, then the marker lines (matplotlib would list lines before bars), then notes.
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(
        range(len(handles)), key=lambda i: not isinstance(handles[i], (BarContainer, Patch))
    )
    ax.legend(
        [handles[i] for i in order] + [Line2D([], [], linestyle="none") for _ in notes],
        [labels[i] for i in order] + notes,
        loc="best",
        fontsize="small",
        framealpha=0.9,
    )
    return fig


def _view_end(values: npt.NDArray[np.float64], limit: int | None) -> float:
    """Where the x axis ends: past the limit, but not stretched over a few extreme examples.

    A long tail (a handful of examples ten times longer than the rest) would squeeze every
    other bar into the left edge. The axis covers up to 125% of the 99.5th percentile (or of
    the limit, when some examples exceed it); examples beyond are counted in a note.
    """
    import numpy as np

    hi = float(values.max())
    focus = float(np.quantile(values, 0.995))
    if limit is not None and limit < hi:
        focus = max(focus, float(limit))
    return hi if hi <= 1.25 * focus + 1 else 1.25 * focus + 1


def _bars(
    ax: Axes,
    heights: npt.NDArray[np.intp],
    edges: npt.NDArray[np.float64],
    colour: str,
    label: str,
) -> None:
    """Draw histogram bars of one colour.

    Up to 60 bins: one bar per non-empty bin, with thin white gaps that make each bar readable.
    More bins: one filled step outline for the whole series (a single artist, so drawing cost
    does not grow with the number of bins).
    """
    import numpy as np

    if len(heights) > _MAX_SEPARATE_BARS:
        ax.stairs(heights, edges, fill=True, color=colour, alpha=0.85, label=label)
        return
    keep = np.flatnonzero(heights)
    ax.bar(
        edges[:-1][keep],
        heights[keep],
        width=np.diff(edges)[keep],
        align="edge",
        color=colour,
        alpha=0.85,
        edgecolor="white",
        linewidth=0.6,
        label=label,
    )


def _as_counts(counts: Sequence[int] | npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Turn ``counts`` into a flat float array, refusing empty and invalid input."""
    import numpy as np

    try:
        values = np.asarray(counts, dtype=np.float64).ravel()
    except (TypeError, ValueError) as exc:
        raise DataError(
            "token counts must be numbers", hint="pass one integer per example"
        ) from exc
    if values.size == 0:
        raise DataError(
            "no token counts to plot: the dataset has no countable examples",
            hint="check the validation report: examples with errors are not counted",
        )
    if not np.isfinite(values).all() or (values < 0).any():
        raise DataError("token counts must be finite numbers >= 0")
    return values


def _bin_edges(
    values: npt.NDArray[np.float64], bins: int | str, limit: int | None
) -> npt.NDArray[np.float64]:
    """Equal-width bin edges over ``values``, at least one token wide, aligned on ``limit``.

    Counts are integers, so edges sit half-way between integers: an example of exactly
    ``limit`` tokens falls left of the edge at ``limit + 0.5``, one token more falls right.
    The first edge is half a token below the shortest example (never at negative counts).
    """
    import numpy as np

    lo, hi = float(values.min()), float(values.max())
    if isinstance(bins, str):
        try:
            rule_edges = np.histogram_bin_edges(values, bins=bins)
        except ValueError as exc:
            raise ConfigError(
                f"unknown binning rule {bins!r}",
                hint="pass a number of bins, or one of numpy's rules: auto, fd, sturges, sqrt",
            ) from exc
        n_bins = min(len(rule_edges) - 1, MAX_BINS)
    elif isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ConfigError(f"bins must be a positive integer or a rule name, not {bins!r}")
    else:
        n_bins = bins
    start = lo - 0.5
    width = max((hi + 0.5 - start) / n_bins, 1.0)
    if limit is not None and lo <= limit < hi:
        # Widen the bins a little (at most 2x) so that limit + 0.5 falls on an edge; if the limit
        # sits inside the first bin, that bin alone is cut short at the limit.
        anchor = limit + 0.5
        k = math.floor((anchor - start) / width)
        if k >= 1:
            width = (anchor - start) / k
        else:
            rest = np.arange(max(1, math.ceil((hi - anchor) / width)) + 1, dtype=np.float64)
            return np.concatenate([[start], anchor + rest * width])
    n_edges = max(1, math.ceil((hi - start) / width)) + 1
    return start + np.arange(n_edges, dtype=np.float64) * width


# -- metrics -----------------------------------------------------------------------------------


def metrics_plot(
    metrics: pd.DataFrame,
    *,
    title: str | None = None,
    ema_alpha: float | None = EMA_ALPHA,
) -> Figure:
    """Draw training and validation loss (top) and token accuracy (bottom) per step.

    The columns are those of OpenAI's result-file CSV and of the job's ``metrics`` events:
    ``step``, ``train_loss``, ``train_accuracy`` or ``train_mean_token_accuracy``,
    ``valid_loss``, ``valid_mean_token_accuracy``, ``full_valid_loss`` and
    ``full_valid_mean_token_accuracy``. Only the columns present (and not all empty) are drawn;
    a panel with nothing to draw is left out, so a frame with losses only gives one panel.
    Values may be strings (as read from a CSV): they are converted, and blanks become NaN.

    Raw train values are noisy, so they are drawn faint, with a smoothed line over them (an
    exponential moving average, see [`EMA_ALPHA`][finetune_kit.plots.EMA_ALPHA]). Validation
    values exist only on some steps: they are drawn as markers joined by a line over the steps
    that have them. Rows are sorted by step (job events arrive newest first). Without a
    ``step`` column the x axis is the row number.

    Args:
        metrics: One row per step, for instance from ``JobClient.metrics(...)`` or
            ``pandas.read_csv`` of the job's result file.
        title: Figure title; by default ``Training metrics · N steps``.
        ema_alpha: Weight of the newest point in the smoothed train line (0 < alpha <= 1;
            smaller is smoother); ``None`` draws no smoothed line.

    Returns:
        The figure, with one or two axes sharing the step axis.

    Raises:
        ConfigError: matplotlib is not installed, or ``ema_alpha`` is out of range.
        DataError: The frame is empty or has none of the metric columns.
    """
    figure_class = _matplotlib_figure()
    import pandas as pd
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    if ema_alpha is not None and not 0 < ema_alpha <= 1:
        raise ConfigError(f"ema_alpha must be in (0, 1], not {ema_alpha!r}")
    if not isinstance(metrics, pd.DataFrame):
        raise DataError(f"metrics must be a pandas DataFrame, not {type(metrics).__name__}")
    if metrics.empty:
        raise DataError(
            "no metrics to plot: the table is empty",
            hint="metrics appear once the job has trained its first steps",
        )

    frame = pd.DataFrame(index=range(len(metrics)))
    has_step = "step" in metrics.columns
    frame["step"] = _numeric_column(metrics, "step") if has_step else range(1, len(metrics) + 1)
    for names in (*_LOSS, *_ACCURACY):
        for name in names:
            if name in metrics.columns:
                frame[name] = _numeric_column(metrics, name)
    frame = frame.dropna(subset=["step"]).sort_values("step", kind="stable")

    # Per panel: the (train, validation, full validation) columns it draws, None if absent.
    panels: list[tuple[str, tuple[str | None, str | None, str | None]]] = []
    for kind, (train_names, valid_names, full_names) in (("loss", _LOSS), ("accuracy", _ACCURACY)):
        picked = tuple(_first_filled(frame, n) for n in (train_names, valid_names, full_names))
        if any(picked):
            panels.append((kind, (picked[0], picked[1], picked[2])))
    if not panels:
        expected = ", ".join(name for names in (*_LOSS, *_ACCURACY) for name in names)
        found = ", ".join(map(str, metrics.columns))
        raise DataError(
            "no metrics to plot: none of the metric columns has a value",
            hint=f"expected some of: {expected}; the table has: {found}",
        )

    fig = figure_class(figsize=(9, 1.0 + 3.4 * len(panels)), layout="constrained")
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    steps = frame["step"]
    # "best" avoids covering the curves but is slow on long runs; then loss falls (legend at the
    # top right) and accuracy rises (legend at the bottom right).
    legend_loc = "best" if len(frame) <= _MAX_BEST_LEGEND else None
    for ax, (kind, (train, valid, full_valid)) in zip(axes, panels, strict=True):
        if train is not None:
            y = frame[train]
            ok = y.notna()
            raw_style = {"alpha": 0.3, "linewidth": 0.8} if ema_alpha is not None else {}
            label = "train" if ema_alpha is None else "train (raw)"
            ax.plot(steps[ok], y[ok], color=_TRAIN, label=label, **raw_style)
            if ema_alpha is not None:
                smooth = y[ok].ewm(alpha=ema_alpha, adjust=True).mean()
                ax.plot(
                    steps[ok],
                    smooth,
                    color=_TRAIN,
                    linewidth=1.8,
                    label=f"train, EMA alpha={ema_alpha:g} (last {_fmt(kind, smooth.iloc[-1])})",
                )
        for column, colour, name, marker in (
            (valid, _VALID, "validation", "o"),
            (full_valid, _FULL_VALID, "full validation", "D"),
        ):
            if column is None:
                continue
            y = frame[column]
            ok = y.notna()
            ax.plot(
                steps[ok],
                y[ok],
                color=colour,
                marker=marker if int(ok.sum()) <= _MAX_MARKERS else None,
                markersize=4 if marker == "o" else 5,
                linewidth=1.3,
                label=f"{name} (last {_fmt(kind, y[ok].iloc[-1])})",
            )
        if kind == "loss":
            ax.set_ylabel("loss")
            ax.legend(loc=legend_loc or "upper right", fontsize="small", framealpha=0.9)
        else:
            ax.set_ylabel("token accuracy")
            top = max(float(frame[c].max()) for c in (train, valid, full_valid) if c is not None)
            ax.yaxis.set_major_formatter(PercentFormatter(100.0 if top > 1 else 1.0))
            ax.legend(loc=legend_loc or "lower right", fontsize="small", framealpha=0.9)
        ax.grid(alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)

    bottom = axes[-1]
    bottom.set_xlabel("step" if has_step else "row")
    bottom.xaxis.set_major_locator(MaxNLocator(nbins="auto", integer=True, min_n_ticks=1))
    bottom.xaxis.set_major_formatter(_thousands)
    if title is None:
        last = float(steps.max()) if len(steps) else 0.0
        title = f"Training metrics · {_plural(int(last), 'step')}"
    fig.suptitle(title)
    return fig


def _numeric_column(metrics: pd.DataFrame, name: str) -> npt.NDArray[np.float64]:
    """Column ``name`` as floats (blanks and text become NaN).

    A frame can hold a name twice (say ``train_mean_token_accuracy`` renamed to an existing
    ``train_accuracy``); then each row takes the first of them that has a value.
    """
    import numpy as np
    import pandas as pd

    column = metrics[name]
    if isinstance(column, pd.DataFrame):
        numbers = column.apply(pd.to_numeric, errors="coerce")
        return numbers.bfill(axis=1).iloc[:, 0].to_numpy(dtype=np.float64)
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)


def _first_filled(frame: pd.DataFrame, names: Sequence[str]) -> str | None:
    """The first of ``names`` that is a column of ``frame`` with at least one value."""
    for name in names:
        if name in frame.columns and frame[name].notna().any():
            return name
    return None


def _fmt(kind: str, value: float) -> str:
    """A last value for a legend: 3 decimals for a loss, a percentage for an accuracy."""
    if kind == "loss" or value > 1:
        return f"{value:.3f}"
    return f"{value:.1%}"


# -- saving ------------------------------------------------------------------------------------


def trainable_tokens_plot(
    rendered: RenderedExample,
    *,
    title: str | None = None,
    columns: int = 110,
    max_tokens: int | None = 400,
) -> Figure:
    """Draw one rendered example token by token, the trained tokens highlighted.

    Each token is a box holding its text (a line break shown as ``↵``); boxes of tokens that
    train (assistant messages with a weight other than 0) are filled, the others outlined.
    Lines wrap at ``columns`` characters.

    Args:
        rendered: The example as a chat tokenizer renders it
            ([`ChatTokenizer.render`][finetune_kit.ChatTokenizer.render]).
        title: The figure's title (default: token totals).
        columns: Characters per line before wrapping.
        max_tokens: Draw at most this many tokens (``None``: all).

    Returns:
        The figure.

    Raises:
        ConfigError: matplotlib is not installed.

    Examples:
        >>> from finetune_kit import RenderedExample
        >>> from finetune_kit.plots import trainable_tokens_plot
        >>> ex = RenderedExample(("<|user|>", "Hi", "<|bot|>", "Hello"),
        ...                      (False, False, False, True), (0, 0, 1, 1))
        >>> fig = trainable_tokens_plot(ex)
        >>> fig.axes[0].get_title()
        '4 tokens billed, 1 trained (25%)'
    """
    from matplotlib.patches import FancyBboxPatch

    figure_class = _matplotlib_figure()
    n_total = len(rendered.tokens)
    n_train = sum(rendered.trainable)
    shown = rendered.tokens if max_tokens is None else rendered.tokens[:max_tokens]
    cells: list[tuple[int, int, int, str, bool]] = []  # line, column, width, text, trained
    line = col = 0
    for text, trained in zip(shown, rendered.trainable, strict=False):
        label = text.replace("\n", "↵").replace("\t", "→") or "∅"
        width = max(1, len(label))
        if col and col + width > columns:
            line += 1
            col = 0
        cells.append((line, col, width, label, trained))
        col += width + 1
        if text.endswith("\n"):
            line += 1
            col = 0
    n_lines = line + 1
    # monospace glyphs are ~0.6 em wide: one column is one 8 pt character plus a margin
    fig = figure_class(figsize=(0.075 * columns + 0.3, 0.6 + 0.26 * n_lines), layout="constrained")
    ax = fig.subplots()
    for ln, c, w, label, trained in cells:
        ax.add_patch(
            FancyBboxPatch(
                (c + 0.08, -ln - 0.82),
                w - 0.16,
                0.68,
                boxstyle="round,pad=0.02,rounding_size=0.15",
                facecolor=_TRAIN if trained else "white",
                edgecolor=_TRAIN if trained else "0.7",
                alpha=0.85 if trained else 1.0,
                linewidth=0.8,
            )
        )
        ax.text(
            c + w / 2,
            -ln - 0.48,
            label,
            ha="center",
            va="center",
            family="monospace",
            fontsize=8,
            color="white" if trained else "0.15",
        )
    ax.set_xlim(0, columns)
    ax.set_ylim(-n_lines - 0.1, 0.1)
    ax.set_axis_off()
    share = _percent(n_train, n_total)
    cut = f" (first {len(shown):,} drawn)" if len(shown) < n_total else ""
    ax.set_title(
        title or f"{n_total:,} tokens billed, {n_train:,} trained ({share}){cut}",
        loc="left",
        fontsize=10,
    )
    return fig


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 150) -> Path:
    """Write ``fig`` to ``path`` atomically: a reader never sees a half-written image.

    The image goes to a temporary file beside ``path`` that is renamed over it once complete.
    The format follows the suffix (``.png``, ``.svg``, ``.pdf``, ...); no suffix means PNG.

    Args:
        fig: The figure to save (any matplotlib ``Figure``).
        path: Destination file; its folder must exist.
        dpi: Resolution of raster formats, in dots per inch.

    Returns:
        ``path`` as a ``Path``.

    Raises:
        ConfigError: The suffix is not a format matplotlib can write, or ``dpi`` is not positive.
        DataError: The folder does not exist or is not writable.
    """
    from finetune_kit._io import atomic_write

    dest = Path(path)
    fmt = dest.suffix.lower().lstrip(".") or "png"
    supported = fig.canvas.get_supported_filetypes()
    if fmt not in supported:
        raise ConfigError(
            f"cannot save a figure as .{fmt}",
            hint=f"use one of: {', '.join('.' + s for s in sorted(supported))}",
        )
    if dpi <= 0:
        raise ConfigError(f"dpi must be positive, not {dpi!r}")
    with atomic_write(dest, binary=True) as fh:
        fig.savefig(fh, format=fmt, dpi=dpi)
    return dest


# -- helpers -----------------------------------------------------------------------------------


def _matplotlib_figure() -> type[Figure]:
    """Import matplotlib's ``Figure`` (the optional extra), and make notebooks draw it inline."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ConfigError(
            "plotting needs matplotlib, which is not installed", hint=_PLOT_HINT
        ) from exc
    _register_notebook_display(Figure)
    return Figure


def _register_notebook_display(figure_class: type[Figure]) -> None:
    """Inside IPython, show a ``Figure`` returned by a cell as a PNG.

    Jupyter draws figures inline only after ``pyplot`` (or ``%matplotlib inline``) has
    registered a PNG formatter for them; a figure made without pyplot would otherwise show as
    ``<Figure size 900x480 with 1 Axes>``. This registers the same kind of formatter, once,
    and only when none is registered yet. Outside IPython it does nothing.
    """
    ipython = sys.modules.get("IPython")
    get_shell = getattr(ipython, "get_ipython", None)
    shell = get_shell() if get_shell is not None else None
    formatters = getattr(getattr(shell, "display_formatter", None), "formatters", None)
    png = formatters.get("image/png") if isinstance(formatters, dict) else None
    if png is None:
        return
    try:
        png.lookup_by_type(figure_class)
    except KeyError:
        png.for_type(figure_class, _png_bytes)


def _png_bytes(fig: Any) -> bytes:
    """PNG bytes of ``fig`` at screen resolution (for notebook display)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _thousands(value: float, _pos: float | None = None) -> str:
    """Tick label with thousands separators: ``16,385``."""
    return f"{value:,.0f}"


def _plural(n: int, word: str) -> str:
    """``1 example``, ``2 examples``, with thousands separators."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _percent(part: int, whole: int) -> str:
    """A share that never rounds a non-zero part to ``0%``."""
    share = 100 * part / whole
    if 0 < share < 0.1:
        return "<0.1%"
    return f"{share:.1f}%" if share < 10 else f"{share:.0f}%"
