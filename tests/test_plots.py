"""Plots: token histogram, metrics curves, atomic saving, and life without matplotlib."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("matplotlib")

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from finetune_kit.errors import ConfigError, DataError
from finetune_kit.plots import (
    EMA_ALPHA,
    MAX_BINS,
    _bin_edges,
    _register_notebook_display,
    metrics_plot,
    save_figure,
    token_histogram,
)

ROOT = Path(__file__).resolve().parent.parent
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LIMIT_LABEL = "limit 16,385 tokens (longer examples are truncated)"


def legend_texts(ax: Axes) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]


def line_labelled(ax: Axes, prefix: str) -> Any:
    lines = [line for line in ax.lines if str(line.get_label()).startswith(prefix)]
    assert len(lines) == 1, [line.get_label() for line in ax.lines]
    return lines[0]


def bar_heights(ax: Axes, label: str) -> float:
    """Total height of the bars (or step outline) labelled ``label``."""
    total = 0.0
    for container in ax.containers:
        if container.get_label() == label:
            total += sum(p.get_height() for p in container.patches)
    for patch in ax.patches:
        if patch.get_label() == label and hasattr(patch, "get_data"):
            total += float(np.sum(patch.get_data().values))
    return total


def synthetic_metrics(n_steps: int = 300, seed: int = 0) -> pd.DataFrame:
    """A decreasing noisy loss with a validation point every 10 steps, like a result file."""
    rng = np.random.default_rng(seed)
    steps = np.arange(1, n_steps + 1)
    loss = 2.2 * np.exp(-steps / 60) + 0.45 + rng.normal(0, 0.12, n_steps)
    every10 = steps % 10 == 0
    valid = np.where(every10, 2.2 * np.exp(-steps / 60) + 0.55, np.nan)
    return pd.DataFrame(
        {
            "step": steps,
            "train_loss": loss,
            "train_accuracy": 1 - loss / 3,
            "valid_loss": valid,
            "valid_mean_token_accuracy": 1 - valid / 3,
        }
    )


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_MAGIC
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# -- token histogram ---------------------------------------------------------------------------


def test_histogram_marks_the_limit_with_a_labelled_line() -> None:
    fig = token_histogram([100, 2_000, 17_000, 5_000], limit=16_385, model="gpt-4o-mini")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    limit_line = line_labelled(ax, "limit ")
    assert limit_line.get_label() == LIMIT_LABEL
    assert list(limit_line.get_xdata()) == [16_385, 16_385]
    assert LIMIT_LABEL in legend_texts(ax)


def test_histogram_title_labels_and_thousands_separators() -> None:
    fig = token_histogram([1_200, 30_000, 2_500], limit=16_385, model="gpt-4o-mini")
    ax = fig.axes[0]
    assert ax.get_title() == "Tokens per example · 3 examples · gpt-4o-mini"
    assert ax.get_xlabel() == "tokens per example"
    assert ax.get_ylabel() == "examples"
    assert ax.xaxis.get_major_formatter()(16_385, 0) == "16,385"
    assert ax.yaxis.get_major_formatter()(1_000_000, 0) == "1,000,000"
    assert token_histogram([7]).axes[0].get_title() == "Tokens per example · 1 example"


def test_examples_over_the_limit_are_red_and_counted() -> None:
    counts = [500] * 96 + [20_000] * 4
    ax = token_histogram(counts, limit=16_385).axes[0]
    texts = legend_texts(ax)
    assert "over the limit: 4 examples (4.0%)" in texts
    assert bar_heights(ax, "within the limit") == 96
    assert bar_heights(ax, "over the limit: 4 examples (4.0%)") == 4
    # Bars come first in the legend, then the limit, then the median and p95 markers.
    assert texts[:3] == ["within the limit", "over the limit: 4 examples (4.0%)", LIMIT_LABEL]


def test_an_example_exactly_at_the_limit_is_not_over_it() -> None:
    ax = token_histogram([16_384, 16_385, 16_386], limit=16_385).axes[0]
    assert bar_heights(ax, "within the limit") == 2
    assert "over the limit: 1 example (33%)" in legend_texts(ax)


def test_median_and_p95_are_marked() -> None:
    counts = list(range(1, 101))
    ax = token_histogram(counts).axes[0]
    median = line_labelled(ax, "median")
    p95 = line_labelled(ax, "p95")
    assert median.get_label() == "median 50"  # 50.5 rounds to even
    assert median.get_xdata()[0] == pytest.approx(50.5)
    assert p95.get_xdata()[0] == pytest.approx(np.percentile(counts, 95))
    assert not [line for line in ax.lines if str(line.get_label()).startswith("limit")]
    assert legend_texts(ax)[0] == "examples"


def test_a_limit_far_beyond_the_data_is_not_zoomed_out_to() -> None:
    ax = token_histogram([900, 1_000, 1_100, 2_000], limit=65_536).axes[0]
    assert ax.get_xlim()[1] < 3_000
    assert LIMIT_LABEL.replace("16,385", "65,536") in legend_texts(ax)
    assert "→ the limit is off the chart: every example fits" in legend_texts(ax)


def test_a_limit_near_the_data_is_in_view() -> None:
    ax = token_histogram([900, 1_000, 1_100, 2_000], limit=2_500).axes[0]
    left, right = ax.get_xlim()
    assert left < 900 and right > 2_500
    assert not [t for t in legend_texts(ax) if t.startswith("→")]


def test_a_long_tail_is_cut_and_counted_in_the_legend() -> None:
    counts = np.concatenate([np.full(10_000, 1_000), np.arange(900, 1_100), [250_000, 400_000]])
    ax = token_histogram(counts, limit=16_385).axes[0]
    assert ax.get_xlim()[1] < 30_000
    assert "→ 2 longer examples off the chart, up to 400,000 tokens" in legend_texts(ax)
    assert "over the limit: 2 examples (<0.1%)" in legend_texts(ax)


def test_histogram_draws_into_a_given_axes() -> None:
    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert token_histogram([1, 2, 3], ax=right) is fig
    assert right.get_title().startswith("Tokens per example")
    assert not left.get_title()
    sub = Figure().subfigures(1, 2)[1]
    sub_ax = sub.add_subplot()
    assert token_histogram([1, 2, 3], ax=sub_ax) is sub.figure


def test_a_million_counts_give_a_handful_of_artists() -> None:
    counts = np.random.default_rng(1).lognormal(7.5, 0.9, 1_000_000).astype(int)
    ax = token_histogram(counts, limit=16_385, model="gpt-4o-mini").axes[0]
    assert ax.get_title() == "Tokens per example · 1,000,000 examples · gpt-4o-mini"
    assert len(ax.patches) <= 2 * 60
    assert bar_heights(ax, "within the limit") + sum(
        int(t.split(":")[1].split()[0].replace(",", ""))
        for t in legend_texts(ax)
        if t.startswith("over the limit")
    ) == pytest.approx(1_000_000)


def test_a_plain_list_of_ints_works() -> None:
    assert token_histogram([3, 1, 4, 1, 5, 9, 2, 6, 5, 3], bins=3).axes


@pytest.mark.parametrize(
    ("counts", "match"),
    [([], "no token counts"), ([1, -2], ">= 0"), (["a", "b"], "numbers"), ([1, np.nan], ">= 0")],
)
def test_bad_counts_raise_data_error(counts: list[Any], match: str) -> None:
    with pytest.raises(DataError, match=match):
        token_histogram(counts)


@pytest.mark.parametrize(
    "kwargs",
    [{"bins": 0}, {"bins": "nonsense"}, {"bins": True}, {"limit": 0}, {"limit": -5}],
)
def test_bad_options_raise_config_error(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        token_histogram([1, 2, 3], **kwargs)


def test_a_binning_rule_is_capped() -> None:
    counts = np.arange(0, 100_000)
    assert len(_bin_edges(counts.astype(float), "sqrt", None)) - 1 <= MAX_BINS
    assert len(_bin_edges(counts.astype(float), 500, None)) - 1 == 500


@settings(max_examples=200, deadline=None)
@given(
    counts=st.lists(st.integers(0, 200_000), min_size=1, max_size=60),
    limit=st.integers(1, 200_000),
    bins=st.one_of(st.integers(1, 300), st.sampled_from(["auto", "fd", "sturges", "sqrt"])),
)
def test_bin_edges_cover_the_data_and_split_at_the_limit(
    counts: list[int], limit: int, bins: int | str
) -> None:
    values = np.asarray(counts, dtype=float)
    edges = _bin_edges(values, bins, limit)
    assert edges[0] == values.min() - 0.5
    assert edges[-1] >= values.max()
    widths = np.diff(edges)
    assert (widths > 0).all()
    assert (widths[1:] >= 1 - 1e-9).all()
    if values.min() <= limit < values.max():
        assert np.isclose(edges, limit + 0.5).any()


# -- metrics -----------------------------------------------------------------------------------


def test_metrics_plot_has_loss_on_top_and_accuracy_below_sharing_steps() -> None:
    fig = metrics_plot(synthetic_metrics(), title="My job")
    loss_ax, acc_ax = fig.axes
    assert fig.get_suptitle() == "My job"
    assert loss_ax.get_ylabel() == "loss"
    assert acc_ax.get_ylabel() == "token accuracy"
    assert acc_ax.get_xlabel() == "step"
    assert loss_ax.get_shared_x_axes().joined(loss_ax, acc_ax)
    texts = legend_texts(loss_ax)
    assert texts[0] == "train (raw)"
    assert texts[1].startswith(f"train, EMA alpha={EMA_ALPHA:g} (last ")
    assert texts[2].startswith("validation (last ")
    assert len(texts) == 3
    assert len(legend_texts(acc_ax)) == 3
    assert acc_ax.yaxis.get_major_formatter()(0.5, 0) == "50%"


def test_validation_is_drawn_over_its_non_empty_steps_only() -> None:
    metrics = synthetic_metrics()
    ax = metrics_plot(metrics).axes[0]
    valid = line_labelled(ax, "validation")
    assert list(valid.get_xdata()) == list(range(10, 301, 10))
    assert not np.isnan(np.asarray(valid.get_ydata(), dtype=float)).any()
    assert valid.get_marker() == "o"
    expected = metrics["valid_loss"].dropna().iloc[-1]
    assert valid.get_label() == f"validation (last {expected:.3f})"


def test_train_curve_is_raw_and_smoothed() -> None:
    metrics = synthetic_metrics(50)
    ax = metrics_plot(metrics, ema_alpha=0.25).axes[0]
    raw = line_labelled(ax, "train (raw)")
    smooth = line_labelled(ax, "train, EMA")
    assert raw.get_alpha() == pytest.approx(0.3)
    y = metrics["train_loss"].to_numpy()
    # Bias-corrected EMA: weighted mean with weights (1 - a)^k over the points so far.
    weights = (1 - 0.25) ** np.arange(len(y))[::-1]
    assert smooth.get_ydata()[-1] == pytest.approx(np.sum(weights * y) / np.sum(weights))
    assert smooth.get_ydata()[0] == pytest.approx(y[0])


def test_no_smoothing_draws_one_train_line() -> None:
    ax = metrics_plot(synthetic_metrics(), ema_alpha=None).axes[0]
    assert [t for t in legend_texts(ax) if t.startswith("train")] == ["train"]


def test_full_validation_and_event_column_names() -> None:
    metrics = pd.DataFrame(
        {
            "step": [1, 2, 3, 4],
            "train_loss": [2.0, 1.8, 1.7, 1.5],
            "train_mean_token_accuracy": [0.4, 0.5, 0.55, 0.6],
            "valid_loss": [np.nan, 1.9, np.nan, 1.6],
            "valid_mean_token_accuracy": [np.nan, 0.45, np.nan, 0.58],
            "full_valid_loss": [np.nan, np.nan, np.nan, 1.62],
            "full_valid_mean_token_accuracy": [np.nan, np.nan, np.nan, 0.57],
        }
    )
    loss_ax, acc_ax = metrics_plot(metrics).axes
    assert "full validation (last 1.620)" in legend_texts(loss_ax)
    assert "full validation (last 57.0%)" in legend_texts(acc_ax)
    assert list(line_labelled(acc_ax, "full validation").get_xdata()) == [4]


def test_missing_columns_leave_out_what_is_missing() -> None:
    only_loss = synthetic_metrics()[["step", "train_loss"]]
    (ax,) = metrics_plot(only_loss).axes
    assert ax.get_ylabel() == "loss"
    assert ax.get_xlabel() == "step"
    assert len(legend_texts(ax)) == 2

    only_accuracy = synthetic_metrics()[["step", "valid_mean_token_accuracy"]]
    (ax,) = metrics_plot(only_accuracy).axes
    assert ax.get_ylabel() == "token accuracy"
    assert [t.split(" (")[0] for t in legend_texts(ax)] == ["validation"]

    empty_valid = synthetic_metrics().assign(valid_loss=np.nan)
    loss_ax = metrics_plot(empty_valid).axes[0]
    assert not [t for t in legend_texts(loss_ax) if t.startswith("validation")]


def test_csv_strings_unsorted_steps_and_no_step_column() -> None:
    events = pd.DataFrame(
        {"step": ["3", "2", "1"], "train_loss": ["1.0", "", "2.0"], "valid_loss": [None, 1.5, None]}
    )
    (ax,) = metrics_plot(events).axes
    assert list(line_labelled(ax, "train (raw)").get_xdata()) == [1, 3]
    assert list(line_labelled(ax, "validation").get_xdata()) == [2]
    assert ax.figure.get_suptitle() == "Training metrics · 3 steps"

    (ax,) = metrics_plot(pd.DataFrame({"train_loss": [3.0, 2.0, 1.0]})).axes
    assert ax.get_xlabel() == "row"
    assert list(line_labelled(ax, "train (raw)").get_xdata()) == [1, 2, 3]


def test_an_empty_frame_is_a_data_error() -> None:
    with pytest.raises(DataError, match="empty"):
        metrics_plot(pd.DataFrame())
    with pytest.raises(DataError, match="empty"):
        metrics_plot(pd.DataFrame(columns=["step", "train_loss"]))


def test_a_frame_without_metric_columns_is_a_data_error() -> None:
    with pytest.raises(DataError, match="none of the metric columns") as info:
        metrics_plot(pd.DataFrame({"step": [1, 2], "foo": [1, 2], "train_loss": [None, None]}))
    assert info.value.hint is not None
    assert "train_loss" in info.value.hint
    assert "foo" in info.value.hint


@pytest.mark.parametrize("alpha", [0, -0.1, 1.5])
def test_bad_alpha_is_a_config_error(alpha: float) -> None:
    with pytest.raises(ConfigError, match="ema_alpha"):
        metrics_plot(synthetic_metrics(), ema_alpha=alpha)


def test_many_validation_points_are_a_line_without_markers() -> None:
    metrics = synthetic_metrics(400).assign(valid_loss=lambda df: df["train_loss"] + 0.1)
    assert line_labelled(metrics_plot(metrics).axes[0], "validation").get_marker() in (None, "None")


# -- saving ------------------------------------------------------------------------------------


def test_save_figure_writes_a_valid_png(tmp_path: Path) -> None:
    fig = token_histogram(np.random.default_rng(0).lognormal(7, 1, 5_000), limit=16_385)
    out = save_figure(fig, tmp_path / "hist.png")
    assert out == tmp_path / "hist.png"
    data = out.read_bytes()
    assert png_size(data) == (1350, 720)  # 9 x 4.8 inches at 150 dpi
    assert 10_000 < len(data) < 2_000_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hist.png"]  # no temp file left

    small = save_figure(metrics_plot(synthetic_metrics()), tmp_path / "m.png", dpi=50)
    assert png_size(small.read_bytes()) == (450, 390)


def test_save_figure_follows_the_suffix(tmp_path: Path) -> None:
    fig = token_histogram([1, 2, 3])
    assert save_figure(fig, tmp_path / "h.svg").read_bytes().lstrip().startswith(b"<?xml")
    assert save_figure(fig, tmp_path / "noext").read_bytes()[:8] == PNG_MAGIC
    with pytest.raises(ConfigError, match=r"\.docx"):
        save_figure(fig, tmp_path / "h.docx")
    with pytest.raises(ConfigError, match="dpi"):
        save_figure(fig, tmp_path / "h.png", dpi=0)
    with pytest.raises(DataError, match="does not exist"):
        save_figure(fig, tmp_path / "missing" / "h.png")


def test_a_failed_save_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "hist.png"
    target.write_bytes(b"old")
    fig = token_histogram([1, 2, 3])

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(fig, "savefig", boom)
    with pytest.raises(RuntimeError):
        save_figure(fig, target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["hist.png"]


# -- without matplotlib, without pyplot, in notebooks ------------------------------------------


@pytest.mark.parametrize(
    "call",
    [lambda: token_histogram([1, 2]), lambda: metrics_plot(pd.DataFrame({"train_loss": [1.0]}))],
)
def test_missing_matplotlib_is_a_config_error_with_the_install_hint(
    monkeypatch: pytest.MonkeyPatch, call: Any
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import raises ImportError
    with pytest.raises(ConfigError, match="matplotlib") as info:
        call()
    assert info.value.hint == "pip install 'finetune-kit[plot]'"
    assert isinstance(info.value.__cause__, ImportError)


def test_plots_never_touch_pyplot(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        import pandas as pd
        from finetune_kit.plots import metrics_plot, save_figure, token_histogram
        fig = token_histogram([1, 2, 3], limit=2)
        metrics_plot(pd.DataFrame({"step": [1, 2], "train_loss": [2.0, 1.0]}))
        save_figure(fig, "out.png")
        assert "matplotlib.pyplot" not in sys.modules, "pyplot was imported"
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=tmp_path,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.png").read_bytes()[:8] == PNG_MAGIC


class _FakePngFormatter:
    def __init__(self, registered: dict[type, Any] | None = None) -> None:
        self.registered = dict(registered or {})

    def lookup_by_type(self, cls: type) -> Any:
        return self.registered[cls]

    def for_type(self, cls: type, func: Any) -> None:
        self.registered[cls] = func


def _fake_ipython(monkeypatch: pytest.MonkeyPatch, png: _FakePngFormatter | None) -> None:
    formatters = {} if png is None else {"image/png": png}
    shell = types.SimpleNamespace(display_formatter=types.SimpleNamespace(formatters=formatters))
    module = types.ModuleType("IPython")
    module.get_ipython = lambda: shell  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", module)


def test_in_ipython_a_figure_is_registered_to_show_as_png(monkeypatch: pytest.MonkeyPatch) -> None:
    png = _FakePngFormatter()
    _fake_ipython(monkeypatch, png)
    fig = token_histogram([1, 2, 3])
    render = png.registered[Figure]
    assert render(fig)[:8] == PNG_MAGIC


def test_an_existing_figure_formatter_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    def mine(fig: Figure) -> bytes:
        return b"mine"

    png = _FakePngFormatter({Figure: mine})
    _fake_ipython(monkeypatch, png)
    token_histogram([1, 2, 3])
    assert png.registered[Figure] is mine


def test_outside_ipython_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    _register_notebook_display(Figure)
    assert "IPython" not in sys.modules  # not imported just to find out
    asked: list[str] = []
    module = types.ModuleType("IPython")  # imported, but no shell runs (a script)
    module.get_ipython = lambda: asked.append("shell?")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", module)
    _register_notebook_display(Figure)
    assert asked == ["shell?"]
    text_only = _FakePngFormatter()  # a terminal shell: no image/png formatter
    shell = types.SimpleNamespace(
        display_formatter=types.SimpleNamespace(formatters={"text/plain": text_only})
    )
    module.get_ipython = lambda: shell  # type: ignore[attr-defined]
    _register_notebook_display(Figure)
    assert text_only.registered == {}


@pytest.mark.slow
def test_a_notebook_cell_returning_a_figure_shows_a_png() -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    source = "from finetune_kit.plots import token_histogram\ntoken_histogram([1, 2, 3], limit=2)"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    (output,) = notebook.cells[0].outputs
    assert "image/png" in output["data"]


def test_a_column_name_given_twice_takes_the_first_value_per_row() -> None:
    metrics = pd.DataFrame(
        [[1, 2.0, 0.5, np.nan], [2, 1.0, np.nan, 0.7]],
        columns=["step", "train_loss", "train_accuracy", "train_accuracy"],
    )
    acc_ax = metrics_plot(metrics, ema_alpha=None).axes[1]
    assert list(line_labelled(acc_ax, "train").get_ydata()) == [0.5, 0.7]


def test_a_few_examples_over_the_limit_are_counted_in_their_own_bars() -> None:
    ax = token_histogram([1_000] * 500 + [20_000] * 2, limit=16_385).axes[0]
    assert bar_heights(ax, "within the limit") == 500
    assert bar_heights(ax, "over the limit: 2 examples (0.4%)") == 2
    assert ax.get_ylim()[0] == 0
