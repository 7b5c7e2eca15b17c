"""Fine-tuning prices as data: per-model training and inference prices with their history.

The bundled table lives in ``finetune_kit/data/prices.json``. Every price entry carries the date
it took effect (``as_of``) and a ``source``, so a [`PriceTable`][finetune_kit.PriceTable] can
answer "what did this cost on that day" as well as "what does it cost now". No price is written
in code: change the JSON (or override a price) when OpenAI changes theirs.

Prices are kept in USD **per 1M tokens**, the unit OpenAI publishes today. Older announcements
quoted prices per 1K tokens; multiply those by 1,000 (``$0.008 / 1K`` is ``$8 / 1M``).

Examples:
    >>> from finetune_kit import PriceTable
    >>> table = PriceTable.load()
    >>> table.get("gpt-4o-mini").training_per_1m
    Decimal('3')
    >>> PriceTable.load().as_of("2023-09-01").get("gpt-3.5-turbo").input_per_1m
    Decimal('12')
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from finetune_kit.errors import ConfigError, UnknownModelError

__all__ = ["ModelPrice", "PriceTable", "base_model_name", "to_decimal"]

_PRICE_FIELDS = ("training_per_1m", "input_per_1m", "cached_input_per_1m", "output_per_1m")


def to_decimal(value: Decimal | float | int | str) -> Decimal:
    """Convert a price to ``Decimal`` through its text form (``0.1`` stays exactly 0.1).

    Args:
        value: A number or numeric string.

    Returns:
        The value as a ``Decimal``.

    Raises:
        ConfigError: The value is not a finite, non-negative number.
    """
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value))
    except ArithmeticError as exc:
        raise ConfigError(f"not a number: {value!r}") from exc
    if not d.is_finite() or d < 0:
        raise ConfigError(f"a price must be a finite number >= 0, not {value!r}")
    return d


def base_model_name(model: str) -> str:
    """Return the base model of a fine-tuned model name (other names are returned stripped).

    Args:
        model: A model name such as ``ft:gpt-4o-mini-2024-07-18:my-org::abc123`` or
            ``ft:gpt-3.5-turbo-0125:org:suffix:id:ckpt-step-10``.

    Returns:
        The base model (``gpt-4o-mini-2024-07-18``), or ``model`` itself when it is not an
        ``ft:`` name.
    """
    name = model.strip()
    if name.startswith("ft:"):
        parts = name.split(":")
        if len(parts) > 1 and parts[1]:
            return parts[1]
    return name


@dataclass(frozen=True)
class ModelPrice:
    """The prices and limits of one model on one date.

    Money is ``Decimal`` USD per 1M tokens; ``None`` means "not published" (for example no
    cached-input price before prompt caching existed).

    Attributes:
        model: The canonical model name (a dated snapshot such as ``gpt-4o-mini-2024-07-18``).
        training_per_1m: Training price per 1M trained tokens.
        input_per_1m: Inference price of the fine-tuned model per 1M input tokens.
        cached_input_per_1m: Inference price per 1M cached input tokens, where it exists.
        output_per_1m: Inference price per 1M output tokens.
        example_token_limit: Tokens per training example; longer examples are truncated.
        methods: Supported fine-tuning methods (``supervised``, ``dpo``, ``vision``).
        as_of: The date this price took effect.
        source: Where the figures come from.
        currency: ``USD``.
        training_available_until: Last day new jobs can be created, when announced.
        shutdown_date: The day the model (and its fine-tunes) stop, when announced.
        overridden: True when some figure was overridden by the user.
    """

    model: str
    training_per_1m: Decimal | None
    input_per_1m: Decimal | None
    cached_input_per_1m: Decimal | None
    output_per_1m: Decimal | None
    example_token_limit: int | None
    methods: tuple[str, ...]
    as_of: dt.date
    source: str
    currency: str = "USD"
    training_available_until: dt.date | None = None
    shutdown_date: dt.date | None = None
    overridden: bool = False

    def per_1k(self, name: str) -> Decimal | None:
        """A price per 1K tokens (the unit of OpenAI's 2023 announcements).

        Args:
            name: ``training``, ``input``, ``cached_input`` or ``output``.

        Returns:
            The price per 1K tokens, or ``None`` when it is not known.
        """
        value: Decimal | None = getattr(self, f"{name}_per_1m")
        return None if value is None else value / 1000

    def to_dict(self) -> dict[str, Any]:
        """Return the entry as JSON-ready data (prices as plain numbers per 1M tokens)."""
        return {
            "model": self.model,
            "training_per_1m": _num(self.training_per_1m),
            "input_per_1m": _num(self.input_per_1m),
            "cached_input_per_1m": _num(self.cached_input_per_1m),
            "output_per_1m": _num(self.output_per_1m),
            "example_token_limit": self.example_token_limit,
            "methods": list(self.methods),
            "as_of": self.as_of.isoformat(),
            "source": self.source,
            "currency": self.currency,
            "training_available_until": _iso(self.training_available_until),
            "shutdown_date": _iso(self.shutdown_date),
            "overridden": self.overridden,
        }


def _num(value: Decimal | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_date(value: dt.date | str, what: str = "date") -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise ConfigError(f"{what} {value!r} is not a date", hint="use YYYY-MM-DD") from exc


@dataclass(frozen=True)
class _Alias:
    as_of: dt.date
    target: str
    source: str


@dataclass(frozen=True)
class _Model:
    name: str
    entries: tuple[ModelPrice, ...]  # sorted by as_of


@dataclass(frozen=True)
class _Data:
    models: Mapping[str, _Model]
    aliases: Mapping[str, tuple[_Alias, ...]]
    currency: str
    source: str


def _load_data(text: str, origin: str) -> _Data:
    try:
        raw = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"price table {origin} is not valid JSON: {exc.msg}") from exc
    try:
        currency = str(raw.get("currency", "USD"))
        models: dict[str, _Model] = {}
        for name, spec in raw["models"].items():
            limit = spec.get("example_token_limit")
            entries = []
            for e in spec["prices"]:
                entries.append(
                    ModelPrice(
                        model=name,
                        training_per_1m=_opt_price(e.get("training_per_1m")),
                        input_per_1m=_opt_price(e.get("input_per_1m")),
                        cached_input_per_1m=_opt_price(e.get("cached_input_per_1m")),
                        output_per_1m=_opt_price(e.get("output_per_1m")),
                        example_token_limit=int(limit) if limit is not None else None,
                        methods=tuple(spec.get("methods", ("supervised",))),
                        as_of=_parse_date(e["as_of"], "as_of"),
                        source=str(e["source"]),
                        currency=currency,
                        training_available_until=_opt_date(spec.get("training_available_until")),
                        shutdown_date=_opt_date(spec.get("shutdown_date")),
                    )
                )
            if not entries:
                raise ConfigError(f"price table {origin}: model {name!r} has no price entry")
            models[name] = _Model(name, tuple(sorted(entries, key=lambda p: p.as_of)))
        aliases: dict[str, tuple[_Alias, ...]] = {}
        for name, history in raw.get("aliases", {}).items():
            items = [
                _Alias(_parse_date(a["as_of"], "as_of"), str(a["target"]), str(a["source"]))
                for a in history
            ]
            for a in items:
                if a.target not in models:
                    raise ConfigError(
                        f"price table {origin}: alias {name!r} points to unknown {a.target!r}"
                    )
            aliases[name] = tuple(sorted(items, key=lambda a: a.as_of))
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"price table {origin} is malformed: missing or bad {exc}") from exc
    return _Data(models, aliases, currency, origin)


def _opt_price(value: Any) -> Decimal | None:
    return None if value is None else to_decimal(value)


def _opt_date(value: Any) -> dt.date | None:
    return None if value is None else _parse_date(value)


@functools.lru_cache(maxsize=1)
def _bundled() -> _Data:
    text = resources.files("finetune_kit").joinpath("data/prices.json").read_text("utf-8")
    return _load_data(text, "finetune_kit/data/prices.json")


@dataclass(frozen=True, eq=False)
class PriceTable:
    """Per-model fine-tuning prices on a given date, with user overrides.

    Build one with [`load`][finetune_kit.PriceTable.load]; [`as_of`][finetune_kit.PriceTable.as_of]
    and [`with_override`][finetune_kit.PriceTable.with_override] return new tables (a table is
    immutable, so it can be shared between threads).

    Attributes:
        date: The day the prices apply to (today by default).
    """

    _data: _Data
    date: dt.date
    _overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(
        cls, path: str | os.PathLike[str] | None = None, *, as_of: dt.date | str | None = None
    ) -> PriceTable:
        """Load the bundled price table (or your own JSON file in the same format).

        Args:
            path: A JSON file in the format of ``finetune_kit/data/prices.json``; default: the
                bundled table.
            as_of: The date the prices apply to; default: today.

        Returns:
            The table.

        Raises:
            ConfigError: The file cannot be read or is malformed.
        """
        if path is None:
            data = _bundled()
        else:
            p = Path(path)
            try:
                text = p.read_text("utf-8")
            except OSError as exc:
                raise ConfigError(f"cannot read price table {p}: {exc.strerror}") from exc
            data = _load_data(text, str(p))
        when = _parse_date(as_of) if as_of is not None else dt.date.today()
        return cls(data, when)

    def as_of(self, when: dt.date | str) -> PriceTable:
        """The same table, with prices as they were on ``when`` (overrides are kept).

        Args:
            when: A date or ``YYYY-MM-DD`` string.

        Returns:
            A new table.
        """
        return replace(self, date=_parse_date(when, "--prices-as-of date"))

    @property
    def currency(self) -> str:
        """The currency of every price (``USD``)."""
        return self._data.currency

    def models(self) -> list[str]:
        """Canonical names of the models with a price on the table's date, sorted."""
        out = {n for n, m in self._data.models.items() if m.entries[0].as_of <= self.date}
        out.update(self._overrides)
        return sorted(out)

    def aliases(self) -> dict[str, str]:
        """Alias → canonical model, as they resolve on the table's date."""
        out: dict[str, str] = {}
        for name in self._data.aliases:
            target = self._alias_target(name)
            if target is not None:
                out[name] = target
        return out

    def _alias_target(self, name: str) -> str | None:
        target = None
        for a in self._data.aliases.get(name, ()):
            if a.as_of <= self.date:
                target = a.target
        return target

    def resolve(self, model: str) -> str:
        """The canonical name of a model: aliases and ``ft:`` names resolve to the snapshot.

        Args:
            model: A snapshot (``gpt-4o-mini-2024-07-18``), an alias (``gpt-4o-mini``) or a
                fine-tuned model name (``ft:gpt-4o-mini-2024-07-18:org::id``).

        Returns:
            The canonical snapshot name.

        Raises:
            UnknownModelError: The model is not in the table (with close matches).
        """
        base = base_model_name(model)
        if base in self._overrides or base in self._data.models:
            return base
        target = self._alias_target(base)
        if target is not None:
            return target
        history = self._data.aliases.get(base)
        if history:
            raise self._not_yet(model, history[0].as_of)
        raise UnknownModelError(model, self.suggestions(base))

    def _not_yet(self, model: str, first: dt.date) -> UnknownModelError:
        """The error for a model that exists, but had no price yet on the table's date."""
        exc = UnknownModelError(model)
        exc.message = (
            f"no price for {model!r} on {self.date.isoformat()} (first priced {first.isoformat()})"
        )
        exc.hint = f"use a date on or after {first.isoformat()}, or override the prices"
        exc.args = (exc.message,)
        return exc

    def suggestions(self, model: str, n: int = 3) -> list[str]:
        """Known names close to ``model`` (by ``difflib``), best first."""
        names = sorted({*self._data.models, *self._data.aliases, *self._overrides})
        return difflib.get_close_matches(base_model_name(model), names, n=n, cutoff=0.5)

    def __contains__(self, model: object) -> bool:
        if not isinstance(model, str):
            return False
        try:
            self.resolve(model)
        except UnknownModelError:
            return False
        return True

    def get(self, model: str) -> ModelPrice:
        """The prices of ``model`` on the table's date (with overrides applied).

        Args:
            model: A snapshot, alias or ``ft:`` name.

        Returns:
            The [`ModelPrice`][finetune_kit.ModelPrice].

        Raises:
            UnknownModelError: The model is unknown, or had no price yet on the table's date.
        """
        name = self.resolve(model)
        entry: ModelPrice | None = None
        spec = self._data.models.get(name)
        if spec is not None:
            for e in spec.entries:
                if e.as_of <= self.date:
                    entry = e
        override = self._overrides.get(name)
        if entry is None and override is None:
            assert spec is not None
            raise self._not_yet(model, spec.entries[0].as_of)
        if override is None:
            assert entry is not None
            return entry
        base = entry or ModelPrice(
            model=name,
            training_per_1m=None,
            input_per_1m=None,
            cached_input_per_1m=None,
            output_per_1m=None,
            example_token_limit=None,
            methods=("supervised", "dpo"),
            as_of=self.date,
            source="user override",
            currency=self.currency,
        )
        changes = dict(override)
        return replace(
            base,
            overridden=True,
            source=f"{base.source}; overridden by the user ({', '.join(sorted(changes))})",
            **changes,
        )

    def with_override(
        self,
        model: str,
        *,
        training_per_1m: Decimal | float | str | None = None,
        input_per_1m: Decimal | float | str | None = None,
        cached_input_per_1m: Decimal | float | str | None = None,
        output_per_1m: Decimal | float | str | None = None,
        example_token_limit: int | None = None,
    ) -> PriceTable:
        """A new table where some figures of ``model`` are replaced by yours.

        Overriding a model that is not in the table adds it (useful for a model newer than the
        bundled data). Prices are per 1M tokens; for a per-1K price multiply by 1,000.

        Args:
            model: A snapshot, alias or ``ft:`` name (or a new name).
            training_per_1m: Training price per 1M tokens.
            input_per_1m: Inference input price per 1M tokens.
            cached_input_per_1m: Cached inference input price per 1M tokens.
            output_per_1m: Inference output price per 1M tokens.
            example_token_limit: Tokens per training example.

        Returns:
            The new table.
        """
        try:
            name = self.resolve(model)
        except UnknownModelError:
            name = base_model_name(model)
        changes: dict[str, Any] = dict(self._overrides.get(name, {}))
        given = {
            "training_per_1m": training_per_1m,
            "input_per_1m": input_per_1m,
            "cached_input_per_1m": cached_input_per_1m,
            "output_per_1m": output_per_1m,
        }
        for key, value in given.items():
            if value is not None:
                changes[key] = to_decimal(value)
        if example_token_limit is not None:
            if example_token_limit < 1:
                raise ConfigError("example_token_limit must be at least 1")
            changes["example_token_limit"] = int(example_token_limit)
        overrides = dict(self._overrides)
        overrides[name] = changes
        return replace(self, _overrides=overrides)

    def rows(self) -> list[ModelPrice]:
        """Every model's prices on the table's date, sorted by name."""
        return [self.get(m) for m in self.models()]

    def history(self, model: str) -> list[ModelPrice]:
        """Every price entry of ``model`` ever recorded, oldest first (overrides not applied)."""
        spec = self._data.models.get(self.resolve(model))
        return list(spec.entries) if spec else []

    def to_dict(self) -> dict[str, Any]:
        """The table on its date as JSON-ready data (``as_of``, ``currency``, ``models``, ...)."""
        return {
            "as_of": self.date.isoformat(),
            "currency": self.currency,
            "unit": f"{self.currency} per 1M tokens",
            "models": [r.to_dict() for r in self.rows()],
            "aliases": self.aliases(),
        }

    def _repr_html_(self) -> str:
        from finetune_kit._html import table

        rows = [
            [
                r.model,
                _fmt(r.training_per_1m),
                _fmt(r.input_per_1m),
                _fmt(r.cached_input_per_1m),
                _fmt(r.output_per_1m),
                f"{r.example_token_limit:,}" if r.example_token_limit else "—",
                ", ".join(r.methods),
                r.as_of.isoformat(),
            ]
            for r in self.rows()
        ]
        return table(
            [
                "model",
                "training",
                "input",
                "cached input",
                "output",
                "tokens/example",
                "methods",
                "since",
            ],
            rows,
            caption=f"Fine-tuning prices ({self.currency} per 1M tokens) "
            f"as of {self.date.isoformat()}",
        )

    def __repr__(self) -> str:
        return f"<PriceTable as of {self.date.isoformat()}: {len(self.models())} models>"


def _fmt(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return f"${value.normalize():f}" if value != value.to_integral_value() else f"${int(value)}"
