"""A job's training metrics as a DataFrame: from its result file, or from its events.

Shared by the clients (``JobClient.metrics``) and the archive, which re-reads what it saved.
"""

from __future__ import annotations

import base64
import contextlib
import io
from collections.abc import Iterable
from typing import TYPE_CHECKING

from finetune_kit.errors import DataError
from finetune_kit.jobs.models import JobEvent

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["metrics_from_events", "parse_result_file"]

_METRIC_COLUMNS = {
    "train_mean_token_accuracy": "train_accuracy",
}


def parse_result_file(data: bytes) -> pd.DataFrame:
    """Parse a job's result file (CSV, possibly base64-encoded) into a metrics frame.

    Args:
        data: The file's content as downloaded.

    Returns:
        One row per step: ``step``, ``train_loss``, ``train_accuracy``, ``valid_loss``,
        ``valid_mean_token_accuracy`` (validation columns are NaN on most steps).
    """
    import pandas as pd

    text = data.strip()
    if text and not text.startswith(b"step"):
        with contextlib.suppress(ValueError):
            text = base64.b64decode(text, validate=True).strip()
    try:
        frame: pd.DataFrame = pd.read_csv(io.BytesIO(text))
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"the result file is not a metrics CSV: {exc}") from exc
    renamed: pd.DataFrame = frame.rename(columns=_METRIC_COLUMNS)
    return renamed


def metrics_from_events(events: Iterable[JobEvent]) -> pd.DataFrame:
    """Build the metrics frame from ``metrics`` events (while the job is still running)."""
    import pandas as pd

    rows = [dict(ev.data) for ev in events if ev.type == "metrics" and "step" in ev.data]
    frame: pd.DataFrame = pd.DataFrame(rows)
    if frame.empty:
        empty: pd.DataFrame = pd.DataFrame(columns=["step", "train_loss", "train_accuracy"])
        return empty
    frame = frame.rename(columns=_METRIC_COLUMNS).drop_duplicates("step")
    ordered: pd.DataFrame = frame.sort_values("step").reset_index(drop=True)
    return ordered
