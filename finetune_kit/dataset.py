"""[`Dataset`][finetune_kit.Dataset]: typed examples built from CSV, DataFrames, records or JSONL.

Examples:
    >>> from finetune_kit import Dataset
    >>> rows = [{"q": f"What is {w}?", "a": f"{w.title()}, good sir, is a noble art."}
    ...         for w in ["bias", "variance"]]
    >>> ds = Dataset.from_records(rows, user="q", assistant="a",
    ...                           system_prompt="Answer as Shakespeare would.")
    >>> len(ds), ds[0].messages[0].role
    (2, 'system')
"""

from __future__ import annotations

import csv
import difflib
import json
import math
import os
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from finetune_kit._html import table
from finetune_kit._io import atomic_write
from finetune_kit.errors import DataError
from finetune_kit.reading import Line, iter_jsonl
from finetune_kit.schema import Example, Message, PreferenceExample
from finetune_kit.validation.engine import Severity, ValidationReport, Validator

if TYPE_CHECKING:
    import pandas as pd
    from rich.table import Table

    from finetune_kit.dedupe import DedupeReport, KeepPolicy, NearConfig
    from finetune_kit.export.convert import FidelityReport
    from finetune_kit.privacy.redaction import RedactionReport
    from finetune_kit.validation.engine import Method

__all__ = ["SAMPLE_SYSTEM_PROMPT", "AnyExample", "Dataset", "sample_csv_path"]

SAMPLE_SYSTEM_PROMPT = (
    "You are a learned tutor of machine learning who answers every question in the style of "
    "William Shakespeare: Early Modern English, vivid metaphor, and no more than three sentences."
)
"""The system prompt the bundled sample (and the tutorial) uses."""


def sample_csv_path() -> Path:
    """Path of the bundled sample: 50 machine-learning questions answered in Shakespearean style.

    The CSV has the columns ``question`` and ``answer``.
    """
    from importlib import resources

    return Path(str(resources.files("finetune_kit") / "data" / "shakespeare_ml_qa.csv"))


AnyExample = Example | PreferenceExample
"""A supervised chat example or a preference (DPO) example."""

_TABLE_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".xls", ".parquet", ".jsonl", ".json"}


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _cell(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)


class Dataset(Sequence[AnyExample]):
    """An ordered collection of typed fine-tuning examples.

    Build one with a ``from_*`` constructor, check it with
    [`validate`][finetune_kit.Dataset.validate], write it with
    [`to_jsonl`][finetune_kit.Dataset.to_jsonl]. Transformations return new datasets.

    Args:
        examples: The examples.
        source: Where they came from (a file name), for messages and reprs.
    """

    def __init__(self, examples: Iterable[AnyExample] = (), *, source: str | None = None) -> None:
        self._examples: list[AnyExample] = list(examples)
        self.source = source

    # -- sequence protocol ----------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._examples)

    def __iter__(self) -> Iterator[AnyExample]:
        return iter(self._examples)

    @overload
    def __getitem__(self, index: int) -> AnyExample: ...

    @overload
    def __getitem__(self, index: slice) -> Dataset: ...

    def __getitem__(self, index: int | slice) -> AnyExample | Dataset:
        if isinstance(index, slice):
            return Dataset(self._examples[index], source=self.source)
        return self._examples[index]

    def __add__(self, other: Dataset) -> Dataset:
        return Dataset([*self._examples, *other._examples])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Dataset) and self._examples == other._examples

    __hash__ = None  # type: ignore[assignment]  # mutable-looking container: no hashing

    @property
    def format(self) -> str | None:
        """``"chat"``, ``"preference"`` (from the first example), or ``None`` when empty."""
        if not self._examples:
            return None
        return "preference" if isinstance(self._examples[0], PreferenceExample) else "chat"

    # -- builders ---------------------------------------------------------------------------------

    @classmethod
    def from_records(
        cls,
        rows: Iterable[Mapping[str, Any]],
        *,
        user: str | None = None,
        assistant: str | None = None,
        system_prompt: str | None = None,
        system: str | None = None,
        source: str | None = None,
        first_line: int = 1,
    ) -> Dataset:
        """Build a dataset from dicts.

        With ``user`` and ``assistant`` column names, each row becomes one chat example
        ``[system?, user, assistant]``. Without them, each row must already be an example in
        OpenAI's format (``{"messages": [...]}`` or a preference example).

        Args:
            rows: The records.
            user: Column holding the user's message.
            assistant: Column holding the assistant's answer.
            system_prompt: One system prompt for every example.
            system: Column holding a per-row system prompt (overrides ``system_prompt``).
            source: Name of where the rows came from, for error messages.
            first_line: Number of the first row in error messages (e.g. 2 for a CSV with a
                header line).

        Returns:
            The dataset.

        Raises:
            DataError: A column is missing, or rows have empty cells or invalid examples. Every
                problem is listed in ``error.findings``; no row is dropped silently.
        """
        if (user is None) != (assistant is None):
            raise DataError(
                "give both `user` and `assistant` column names, or neither",
                hint="e.g. user='question', assistant='answer'",
            )
        if user is None or assistant is None:
            return cls._from_example_dicts(rows, source=source, first_line=first_line)
        columns = {"user": user, "assistant": assistant} | ({"system": system} if system else {})
        examples: list[AnyExample] = []
        from finetune_kit.validation.engine import _finding

        problems = []
        for i, row in enumerate(rows):
            line = first_line + i
            if i == 0:
                _check_columns(row, columns.values(), source)
            values: dict[str, str] = {}
            for role, col in columns.items():
                value = row.get(col)
                if _missing(value):
                    problems.append(
                        _finding(
                            "empty_cell",
                            f"column {col!r} is empty",
                            line,
                            field=col,
                            hint=f"fill in the {role} text, or remove the row",
                        )
                    )
                else:
                    values[role] = _cell(value)
            if len(values) < len(columns):
                continue
            messages = []
            sys_text = values.get("system", system_prompt)
            if sys_text:
                messages.append(Message(role="system", content=sys_text))
            messages.append(Message(role="user", content=values["user"]))
            messages.append(Message(role="assistant", content=values["assistant"]))
            examples.append(Example(messages=messages))
        if problems:
            _raise_problems(problems, source, "row")
        return cls(examples, source=source)

    @classmethod
    def _from_example_dicts(
        cls, rows: Iterable[Mapping[str, Any]], *, source: str | None, first_line: int
    ) -> Dataset:
        lines = (
            Line(first_line + i, b"", dict(row) if isinstance(row, Mapping) else row, None)
            for i, row in enumerate(rows)
        )
        return cls._from_lines(lines, source=source)

    @classmethod
    def _from_lines(cls, lines: Iterable[Line], *, source: str | None) -> Dataset:
        validator = Validator(plugins=False)
        examples: list[AnyExample] = []
        errors = []
        for result in validator.scan(lines, file=source):
            bad = [f for f in result.findings if f.severity is Severity.ERROR]
            if bad:
                errors.extend(bad)
            elif result.value is not None and not errors:
                model = PreferenceExample if result.format == "preference" else Example
                examples.append(model.model_validate(result.value))
        if errors:
            _raise_problems(errors, source, "line")
        return cls(examples, source=source)

    @classmethod
    def from_dataframe(
        cls,
        df: pd.DataFrame,
        *,
        user: str | None = None,
        assistant: str | None = None,
        system_prompt: str | None = None,
        system: str | None = None,
    ) -> Dataset:
        """Build a dataset from a pandas DataFrame (one example per row).

        Args:
            df: The frame. Row numbers in errors count from 1 in frame order.
            user: Column holding the user's message.
            assistant: Column holding the assistant's answer.
            system_prompt: One system prompt for every example.
            system: Column holding a per-row system prompt.

        Returns:
            The dataset.

        Raises:
            DataError: As for [`from_records`][finetune_kit.Dataset.from_records].
        """
        records = df.to_dict(orient="records")
        return cls.from_records(
            [{str(k): v for k, v in r.items()} for r in records],
            user=user,
            assistant=assistant,
            system_prompt=system_prompt,
            system=system,
            source="DataFrame",
        )

    @classmethod
    def from_csv(
        cls,
        path: str | os.PathLike[str],
        *,
        user: str,
        assistant: str,
        system_prompt: str | None = None,
        system: str | None = None,
        encoding: str | None = None,
        delimiter: str | None = None,
    ) -> Dataset:
        """Build a chat dataset from a CSV file with a header row.

        Args:
            path: The CSV file.
            user: Column holding the user's message.
            assistant: Column holding the assistant's answer.
            system_prompt: One system prompt for every example.
            system: Column holding a per-row system prompt.
            encoding: The file's encoding. ``None`` tries UTF-8 (with or without BOM) and falls
                back to Windows-1252 (cp1252), as Excel on Windows writes it.
            delimiter: Field delimiter; ``None`` sniffs ``,``, ``;`` or tab.

        Returns:
            The dataset; errors name the file's line numbers.

        Raises:
            DataError: The file is missing or undecodable, a column is missing, or cells are
                empty (all of them are listed).
        """
        p = Path(path)
        if not p.is_file():
            raise DataError("file not found", file=p, hint="check the path")
        encodings = [encoding] if encoding else ["utf-8-sig", "cp1252"]
        for enc in encodings:
            try:
                return cls._read_csv(p, enc, user, assistant, system_prompt, system, delimiter)
            except UnicodeDecodeError as exc:
                last = exc
            except LookupError as exc:
                raise DataError(f"unknown encoding {enc!r}", file=p) from exc
        raise DataError(
            f"cannot decode the file as {' or '.join(encodings)}: {last.reason} at byte "
            f"{last.start}",
            file=p,
            hint="pass encoding=... (e.g. 'latin-1', 'utf-16') matching how it was saved",
        ) from last

    @classmethod
    def _read_csv(
        cls,
        path: Path,
        encoding: str,
        user: str,
        assistant: str,
        system_prompt: str | None,
        system: str | None,
        delimiter: str | None,
    ) -> Dataset:
        with path.open(encoding=encoding, newline="") as fh:
            if delimiter is None:
                sample = fh.read(64 * 1024)
                fh.seek(0)
                try:
                    delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
                except csv.Error:
                    delimiter = ","
            reader = csv.DictReader(fh, delimiter=delimiter)
            rows: list[dict[str, Any]] = []
            lines: list[int] = []
            start = 2
            for row in reader:
                if None in row:
                    raise DataError(
                        f"the row has {len(row) - 1 + len(row[None] or [])} fields but the header "
                        f"has {len(reader.fieldnames or [])}",
                        file=path,
                        line=start,
                        hint="quote fields that contain the delimiter",
                    )
                rows.append(row)
                lines.append(start)
                start = reader.line_num + 1
        if not rows:
            raise DataError("the CSV has no data rows", file=path)
        _check_columns(rows[0], [c for c in (user, assistant, system) if c], str(path))
        try:
            ds = cls.from_records(
                rows,
                user=user,
                assistant=assistant,
                system_prompt=system_prompt,
                system=system,
                source=str(path),
            )
        except DataError as exc:
            # from_records counted rows; give the real line numbers of the file
            fixed = [replace(f, line=lines[(f.line or 1) - 1]) for f in exc.findings]
            _raise_problems(fixed, str(path), "line")
        ds.source = str(path)
        return ds

    @classmethod
    def from_jsonl(cls, path: str | os.PathLike[str]) -> Dataset:
        """Read a JSONL file of examples (streamed line by line).

        Args:
            path: The file.

        Returns:
            The dataset.

        Raises:
            DataError: The file is missing, or lines have errors (every one is listed in
                ``error.findings`` with its line number; run `finetune-kit validate` for a
                report).
        """
        return cls._from_lines(iter_jsonl(path), source=str(path))

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **kwargs: Any) -> Dataset:
        """Read a dataset from ``.jsonl``, ``.csv``/``.tsv``, ``.xlsx`` or ``.parquet``.

        Args:
            path: The file; the format is chosen by its suffix.
            **kwargs: For tables: ``user``, ``assistant``, ``system_prompt``, ``system``
                (and ``encoding`` for CSV).

        Returns:
            The dataset.

        Raises:
            DataError: Unknown suffix, missing optional dependency, or bad data.
        """
        p = Path(path)
        suffix = p.suffix.lower()
        if suffix in {".jsonl", ".json"}:
            return cls.from_jsonl(p)
        if suffix in {".csv", ".tsv", ".txt"}:
            return cls.from_csv(p, **kwargs)
        if suffix in {".xlsx", ".xls", ".parquet"}:
            if not p.is_file():
                raise DataError("file not found", file=p, hint="check the path")
            import pandas as pd

            kwargs.pop("encoding", None)
            try:
                df = pd.read_parquet(p) if suffix == ".parquet" else pd.read_excel(p)
            except ImportError as exc:
                raise DataError(
                    f"reading {suffix} files needs an optional dependency: {exc}",
                    file=p,
                    hint="pip install 'finetune-kit[io]'",
                ) from exc
            except (ValueError, OSError) as exc:
                raise DataError(f"cannot read the file: {exc}", file=p) from exc
            ds = cls.from_dataframe(df, **kwargs)
            ds.source = str(p)
            return ds
        raise DataError(
            f"unknown file type {suffix!r}",
            file=p,
            hint=f"use one of {', '.join(sorted(_TABLE_SUFFIXES))}",
        )

    @classmethod
    def sample(cls) -> Dataset:
        """The bundled sample as a dataset, with the sample's system prompt.

        The prompt is [`SAMPLE_SYSTEM_PROMPT`][finetune_kit.SAMPLE_SYSTEM_PROMPT].

        Examples:
            >>> from finetune_kit import Dataset
            >>> len(Dataset.sample())
            50
        """
        return cls.from_csv(
            sample_csv_path(),
            user="question",
            assistant="answer",
            system_prompt=SAMPLE_SYSTEM_PROMPT,
        )

    # -- output ---------------------------------------------------------------------------------

    def to_jsonl(self, path: str | os.PathLike[str]) -> Path:
        """Write the examples as OpenAI fine-tuning JSONL, atomically.

        The file is written to a temporary name and renamed at the end, so it is never seen
        half-written.

        Args:
            path: Destination.

        Returns:
            The path written.
        """
        dest = Path(path)
        with atomic_write(dest) as fh:
            for ex in self._examples:
                fh.write(json.dumps(ex.to_dict(), ensure_ascii=False) + "\n")
        return dest

    def to_format(
        self, fmt: str, *, check: bool = True
    ) -> tuple[list[dict[str, Any]], FidelityReport]:
        """Convert to another provider's training format.

        Args:
            fmt: ``hf-messages``, ``hf-preference``, ``vertex-gemini``, ``bedrock-conversation``
                or ``mistral`` (see the export guide and ``finetune_kit.export.convert``).
            check: Validate the records against the target format's documented rules.

        Returns:
            The records, and the [`FidelityReport`][finetune_kit.FidelityReport] saying what
            could not be carried over.
        """
        from finetune_kit.export.convert import to_format

        return to_format(self, fmt, check=check)

    def redact(
        self,
        strategy: str = "mask",
        *,
        kinds: Iterable[str] | str | None = None,
        secret: str | bytes | None = None,
    ) -> tuple[Dataset, RedactionReport]:
        """Find personal data and redact it before it leaves the machine.

        Args:
            strategy: ``mask`` (``[EMAIL]``), ``pseudonym`` (the same value becomes the same fake
                value across the dataset, keyed by ``secret``) or ``drop`` (leave the example
                out).
            kinds: Detector codes to run (default: every built-in one), e.g. ``["pii_email"]``.
            secret: Key for pseudonyms (default: the ``FINETUNE_KIT_PII_SECRET`` variable).

        Returns:
            The redacted dataset, and a [`RedactionReport`][finetune_kit.RedactionReport] with
            counts per kind and masked previews (never the values).
        """
        import time

        from finetune_kit.privacy.redaction import RedactionReport, Redactor

        redactor = Redactor(strategy, kinds=kinds, secret=secret)
        started = time.perf_counter()
        report = RedactionReport(strategy=strategy, kinds=redactor.codes, input_path=self.source)
        kept: list[AnyExample] = []
        for i, example in enumerate(self._examples):
            new, findings = redactor.redact_example(example.to_dict(), line=i + 1)
            report.lines += 1
            report.examples += 1
            for found in findings:
                report.counts[found.code] = report.counts.get(found.code, 0) + 1
            report.findings.extend(findings)
            if new is None:
                report.examples_dropped += 1
                continue
            if findings:
                report.examples_changed += 1
            kept.append(type(example).model_validate(new))
        report.seconds = time.perf_counter() - started
        return Dataset(kept, source=self.source), report

    def to_records(self) -> list[dict[str, Any]]:
        """The examples as JSON-ready dicts."""
        return [ex.to_dict() for ex in self._examples]

    def to_dataframe(self) -> pd.DataFrame:
        """One row per example with readable columns.

        Chat data: ``system``, ``user`` (last user message), ``assistant`` (last assistant
        message), ``n_messages``, ``messages``. Preference data: ``prompt``, ``preferred``,
        ``non_preferred``, ``n_messages``.
        """
        import pandas as pd

        frame: pd.DataFrame = pd.DataFrame([_summary_row(ex) for ex in self._examples])
        return frame

    # -- transformations ----------------------------------------------------------------------

    def split(self, validation_fraction: float = 0.1, *, seed: int = 0) -> tuple[Dataset, Dataset]:
        """Shuffle deterministically and split into training and validation sets.

        Args:
            validation_fraction: Share of examples for validation (0 < f < 1); at least one.
            seed: Shuffle seed (the same seed gives the same split).

        Returns:
            ``(train, validation)``.

        Raises:
            DataError: The fraction is out of range or the dataset too small to split.
        """
        if not 0 < validation_fraction < 1:
            raise DataError(
                f"validation_fraction must be between 0 and 1, got {validation_fraction}"
            )
        if len(self) < 2:
            raise DataError("need at least 2 examples to split")
        order = list(range(len(self)))
        random.Random(seed).shuffle(order)
        n_valid = min(len(self) - 1, max(1, round(len(self) * validation_fraction)))
        valid_idx = set(order[:n_valid])
        train = [ex for i, ex in enumerate(self._examples) if i not in valid_idx]
        valid = [ex for i, ex in enumerate(self._examples) if i in valid_idx]
        return Dataset(train, source=self.source), Dataset(valid, source=self.source)

    def dedupe(
        self,
        *,
        near: bool = False,
        threshold: float | None = None,
        keep: KeepPolicy = "first",
        validation: Dataset | None = None,
        config: NearConfig | None = None,
        model: str | None = None,
        n_epochs: int | None = None,
    ) -> tuple[Dataset, DedupeReport]:
        """Drop duplicate examples: exact copies, or near-duplicates with ``near=True``.

        Args:
            near: Near-duplicates (MinHash + LSH over the conversation's word shingles; needs
                the ``dedupe`` extra); without it, exact copies.
            threshold: Near-duplicate similarity threshold (default 0.8).
            keep: The example kept in a group: ``first``, ``longest`` or ``weight``.
            validation: A validation dataset, to find its examples that copy this one's.
            config: Near-duplicate settings ([`NearConfig`][finetune_kit.NearConfig]).
            model: Price the saving (tokens and dollars) for this model.
            n_epochs: Epochs to price (default: the size heuristic of each side).

        Returns:
            The kept examples (in order), and the [`DedupeReport`][finetune_kit.DedupeReport]
            (groups by row number, leaks, savings).

        Examples:
            >>> from finetune_kit import Dataset
            >>> doubled = Dataset.sample() + Dataset.sample()
            >>> kept, report = doubled.dedupe()
            >>> len(kept), len(report.groups)
            (50, 50)
        """
        from finetune_kit.dedupe import find_duplicates

        report = find_duplicates(
            self.to_records(),
            near=near,
            threshold=threshold,
            keep=keep,
            validation=validation.to_records() if validation is not None else None,
            config=config,
            model=model,
            n_epochs=n_epochs,
        )
        dropped = report.dropped_lines
        kept = [ex for i, ex in enumerate(self._examples, 1) if i not in dropped]
        return Dataset(kept, source=self.source), report

    def map(self, func: Callable[[AnyExample], AnyExample]) -> Dataset:
        """Apply ``func`` to every example and return the new dataset."""
        return Dataset([func(ex) for ex in self._examples], source=self.source)

    def filter(self, predicate: Callable[[AnyExample], bool]) -> Dataset:
        """Keep the examples for which ``predicate`` is true."""
        return Dataset([ex for ex in self._examples if predicate(ex)], source=self.source)

    def validate(
        self,
        *,
        model: str | None = None,
        method: Method | None = None,
        validator: Validator | None = None,
    ) -> ValidationReport:
        """Validate the examples (row index + 1 serves as the line number).

        Args:
            model: Base model; enables the per-example token-limit check.
            method: ``supervised`` or ``dpo``.
            validator: A validator with custom rules (default: built-in + registered rules).

        Returns:
            The [`ValidationReport`][finetune_kit.ValidationReport].
        """
        from finetune_kit.validation.engine import validate as _validate

        if validator is not None:
            return validator.validate(self, model=model, method=method)
        return _validate(self, model=model, method=method)

    # -- display --------------------------------------------------------------------------------

    def __repr__(self) -> str:
        src = f" from {self.source}" if self.source else ""
        return f"<Dataset {len(self)} {self.format or 'empty'} examples{src}>"

    def __rich__(self) -> Table:
        from rich.table import Table

        first = self._examples[0] if self._examples else None
        columns = _display_columns(first) if first is not None else []
        caption = f"first 10 of {len(self)}" if len(self) > 10 else None
        table = Table("#", *columns, title=repr(self).strip("<>"), caption=caption)
        for i, ex in enumerate(self._examples[:10]):
            summary = _summary_row(ex)
            table.add_row(str(i + 1), *(_short(str(summary.get(k, "")), 60) for k in columns))
        return table

    def _repr_html_(self) -> str:
        rows = []
        for i, ex in enumerate(self._examples[:10]):
            summary = _summary_row(ex)
            cells = [summary.get(k, "") for k in _display_columns(ex)]
            rows.append([i + 1, *(_short(str(c)) for c in cells)])
        headers = ["#", *(_display_columns(self._examples[0]) if self._examples else [])]
        caption = repr(self).strip("<>") + (" (first 10 shown)" if len(self) > 10 else "")
        return table(headers, rows, caption=caption)


def _display_columns(ex: AnyExample) -> list[str]:
    if isinstance(ex, PreferenceExample):
        return ["prompt", "preferred", "non_preferred"]
    return ["system", "user", "assistant"]


def _short(text: str, width: int = 80) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _last(messages: Sequence[Message], role: str) -> str:
    for m in reversed(messages):
        if m.role == role:
            return m.text
    return ""


def _summary_row(ex: AnyExample) -> dict[str, Any]:
    if isinstance(ex, PreferenceExample):
        return {
            "prompt": _last(ex.input.messages, "user"),
            "preferred": ex.preferred_output[0].text,
            "non_preferred": ex.non_preferred_output[0].text,
            "n_messages": len(ex.input.messages) + 1,
        }
    system = next((m.text for m in ex.messages if m.role in ("system", "developer")), "")
    return {
        "system": system,
        "user": _last(ex.messages, "user"),
        "assistant": _last(ex.messages, "assistant"),
        "n_messages": len(ex.messages),
        "messages": [m.to_dict() for m in ex.messages],
    }


def _check_columns(row: Mapping[str, Any], wanted: Iterable[str], source: str | None) -> None:
    available = [str(k) for k in row]
    for col in wanted:
        if col not in row:
            close = difflib.get_close_matches(col, available, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"columns: {', '.join(available)}"
            raise DataError(f"no column {col!r}", file=source, hint=hint)


def _raise_problems(problems: Sequence[Any], source: str | None, unit: str) -> None:
    first = problems[0]
    where = f"{unit} {first.line}" if first.line is not None else "file"
    field = f", {first.field}" if first.field else ""
    raise DataError(
        f"{len(problems)} problem(s); first at {where}{field}: {first.message}",
        file=source,
        line=first.line,
        field=first.field,
        hint=first.hint,
        findings=problems,
    )
