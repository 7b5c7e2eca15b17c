"""What a duplicate search found: groups, leaks, and what removing the copies saves."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import RenderableType

    from finetune_kit.cost.estimator import TrainingEstimate

__all__ = ["DedupeReport", "DedupeSavings", "DuplicateGroup", "ValidationLeak"]

_MICRO = Decimal("0.000001")
_SHOWN = 50


def _money(value: Decimal | None) -> float | None:
    return float(value.quantize(_MICRO)) if value is not None else None


def _fmt_money(value: Decimal | None) -> str:
    from finetune_kit.cost.estimator import _fmt_money as fmt

    return fmt(value)


@dataclass(frozen=True)
class DuplicateGroup:
    """Examples that are copies (exact or near) of each other.

    Attributes:
        lines: Their line numbers (row index + 1 for in-memory data), ascending.
        kept: The line kept (by the keep policy); the others are dropped.
        similarity: The lowest estimated Jaccard similarity between the kept example and
            another member (1.0 for exact copies). Members are linked through a chain of
            near-duplicates, so it can fall below the threshold for a member that is only
            near another member.
    """

    lines: tuple[int, ...]
    kept: int
    similarity: float

    @property
    def dropped(self) -> tuple[int, ...]:
        """The lines dropped."""
        return tuple(line for line in self.lines if line != self.kept)

    def to_dict(self) -> dict[str, Any]:
        """``{"lines": [...], "kept": n, "similarity": x}``."""
        return {"lines": list(self.lines), "kept": self.kept, "similarity": self.similarity}


@dataclass(frozen=True)
class ValidationLeak:
    """A validation example that near-duplicates (or equals) a training example.

    Attributes:
        line: The training example's line (the most similar one; the first on ties).
        validation_line: The validation example's line.
        similarity: Their estimated Jaccard similarity (1.0 for exact copies).
    """

    line: int
    validation_line: int
    similarity: float

    def to_dict(self) -> dict[str, Any]:
        """``{"line": n, "validation_line": m, "similarity": x}``."""
        return {
            "line": self.line,
            "validation_line": self.validation_line,
            "similarity": self.similarity,
        }


@dataclass(frozen=True)
class DedupeSavings:
    """Training tokens and money saved by dropping the copies: an estimate before minus after.

    Both sides are [`TrainingEstimate`][finetune_kit.TrainingEstimate]s of the same
    [`CostEstimator`][finetune_kit.CostEstimator]: the whole file, and the kept examples.
    With the default epoch count the two sides can train a different number of epochs
    (fewer examples, more epochs), so the saving per job is not always the saving per epoch
    times the epochs.

    Attributes:
        before: The estimate of the input.
        after: The estimate of the kept examples.
    """

    before: TrainingEstimate
    after: TrainingEstimate

    @property
    def tokens_saved_per_epoch(self) -> int:
        """Billed tokens per epoch, before minus after."""
        return self.before.billed_tokens_per_epoch - self.after.billed_tokens_per_epoch

    @property
    def tokens_saved_per_job(self) -> int:
        """Training tokens of the whole job, before minus after."""
        return self.before.training_tokens - self.after.training_tokens

    @property
    def dollars_saved_per_epoch(self) -> Decimal | None:
        """The per-epoch tokens saved at the model's training price (``None``: no price)."""
        price = self.before.price_per_1m
        if price is None:
            return None
        return Decimal(self.tokens_saved_per_epoch) * price / Decimal(10**6)

    @property
    def dollars_saved_per_job(self) -> Decimal | None:
        """Training cost of the job, before minus after (``None``: no price)."""
        before, after = self.before.training_cost, self.after.training_cost
        if before is None or after is None:
            return None
        return before - after

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures (money rounded to 6 places)."""
        b, a = self.before, self.after
        return {
            "model": b.model,
            "base_model": b.base_model,
            "currency": b.currency,
            "price_per_1m": _money(b.price_per_1m),
            "prices_as_of": b.prices_as_of.isoformat(),
            "billed_tokens_per_epoch_before": b.billed_tokens_per_epoch,
            "billed_tokens_per_epoch_after": a.billed_tokens_per_epoch,
            "n_epochs_before": b.n_epochs,
            "n_epochs_after": a.n_epochs,
            "training_tokens_before": b.training_tokens,
            "training_tokens_after": a.training_tokens,
            "training_cost_before": _money(b.training_cost),
            "training_cost_after": _money(a.training_cost),
            "tokens_saved_per_epoch": self.tokens_saved_per_epoch,
            "tokens_saved_per_job": self.tokens_saved_per_job,
            "dollars_saved_per_epoch": _money(self.dollars_saved_per_epoch),
            "dollars_saved_per_job": _money(self.dollars_saved_per_job),
        }


@dataclass
class DedupeReport:
    """Everything a duplicate search found.

    Attributes:
        groups: Groups of copies, ordered by their first line.
        leaks: Validation examples that copy a training example, by validation line.
        stats: Counts (lines, examples in and out, groups, leaks, settings, timings).
        savings: What dropping the copies saves, when a model was given.
        source: The training file, if any.
        validation_source: The validation file, if any.
    """

    groups: list[DuplicateGroup]
    leaks: list[ValidationLeak] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    savings: DedupeSavings | None = None
    source: str | None = None
    validation_source: str | None = None

    @property
    def dropped_lines(self) -> set[int]:
        """Every line that is a copy of a kept one."""
        return {line for g in self.groups for line in g.dropped}

    def to_dict(self) -> dict[str, Any]:
        """``{"groups": [...], "leaks": [...], "stats": {...}}`` (the CLI's JSON contract).

        ``stats`` holds ``examples_in``, ``examples_out``, and with a model
        ``tokens_saved_per_epoch``, ``tokens_saved_per_job``, ``dollars_saved_per_epoch``,
        ``dollars_saved_per_job`` and the before/after figures under ``pricing``.
        """
        stats = dict(self.stats)
        if self.savings is not None:
            s = self.savings.to_dict()
            for key in (
                "tokens_saved_per_epoch",
                "tokens_saved_per_job",
                "dollars_saved_per_epoch",
                "dollars_saved_per_job",
            ):
                stats[key] = s[key]
            stats["pricing"] = s
        return {
            "groups": [g.to_dict() for g in self.groups],
            "leaks": [x.to_dict() for x in self.leaks],
            "stats": stats,
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The report as JSON text (see [`to_dict`][finetune_kit.DedupeReport.to_dict])."""
        return json.dumps(self.to_dict(), indent=indent)

    def summary(self) -> str:
        """One line: examples in and out, groups, leaks, and the saving when priced."""
        st = self.stats
        text = (
            f"{st.get('examples_in', '?'):,} examples in, {st.get('examples_out', '?'):,} out: "
            f"{len(self.groups):,} group(s) of {st.get('mode', '')} duplicates"
        )
        if self.validation_source is not None or self.leaks:
            text += f", {len(self.leaks):,} validation leak(s)"
        if self.savings is not None:
            s = self.savings
            text += (
                f"; saves {s.tokens_saved_per_job:,} training tokens "
                f"({_fmt_money(s.dollars_saved_per_job)}) per job on {s.before.base_model}"
            )
        return text

    def __repr__(self) -> str:
        return f"<DedupeReport {self.summary()}>"

    def _group_rows(self) -> list[list[str]]:
        return [
            [str(g.kept), ", ".join(str(x) for x in g.dropped), f"{g.similarity:.2f}"]
            for g in self.groups[:_SHOWN]
        ]

    def _leak_rows(self) -> list[list[str]]:
        return [
            [str(x.validation_line), str(x.line), f"{x.similarity:.2f}"]
            for x in self.leaks[:_SHOWN]
        ]

    def _saving_pairs(self) -> list[tuple[str, str]]:
        s = self.savings
        if s is None:
            return []
        b, a = s.before, s.after
        return [
            ("model", b.base_model),
            (
                "billed tokens per epoch",
                (
                    f"{b.billed_tokens_per_epoch:,} → {a.billed_tokens_per_epoch:,} (saves "
                    f"{s.tokens_saved_per_epoch:,}, {_fmt_money(s.dollars_saved_per_epoch)})"
                ),
            ),
            ("epochs", f"{b.n_epochs} → {a.n_epochs}"),
            (
                "training tokens per job",
                f"{b.training_tokens:,} → {a.training_tokens:,} (saves {s.tokens_saved_per_job:,})",
            ),
            (
                "training cost per job",
                (
                    f"{_fmt_money(b.training_cost)} → {_fmt_money(a.training_cost)} "
                    f"(saves {_fmt_money(s.dollars_saved_per_job)})"
                ),
            ),
        ]

    def __rich__(self) -> RenderableType:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        from finetune_kit._render import key_value_table

        parts: list[RenderableType] = []
        if self.groups:
            table = Table("kept", "dropped", "similarity", title="Duplicate groups")
            for row in self._group_rows():
                table.add_row(*(Text(c) for c in row))
            if len(self.groups) > _SHOWN:
                table.caption = f"first {_SHOWN} of {len(self.groups):,}"
            parts.append(table)
        if self.leaks:
            table = Table("validation line", "training line", "similarity", title="Leaks")
            for row in self._leak_rows():
                table.add_row(*(Text(c) for c in row))
            if len(self.leaks) > _SHOWN:
                table.caption = f"first {_SHOWN} of {len(self.leaks):,}"
            parts.append(table)
        if self.savings is not None:
            parts.append(key_value_table(self._saving_pairs(), title="Saved by dropping copies"))
        parts.append(Text(self.summary(), style="bold"))
        return Group(*parts)

    def _repr_html_(self) -> str:
        from finetune_kit._html import key_values, table

        html = ""
        if self.groups:
            html += table(["kept", "dropped", "similarity"], self._group_rows(), caption="groups")
        if self.leaks:
            html += table(
                ["validation line", "training line", "similarity"],
                self._leak_rows(),
                caption="leaks",
            )
        if self.savings is not None:
            html += key_values(self._saving_pairs(), caption="saved")
        return html + key_values([("summary", self.summary())])
