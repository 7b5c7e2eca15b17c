"""Export OpenAI chat data to other providers' fine-tuning formats, and read it back.

OpenAI's chat JSONL is the format most trainers accept; this module moves it to Hugging Face
TRL (``hf-messages``, ``hf-preference``), Google Vertex AI Gemini (``vertex-gemini``), Amazon
Bedrock (``bedrock-conversation``) and Mistral (``mistral``). Every conversion says what it
could not carry over in a [`FidelityReport`][finetune_kit.FidelityReport] (per kind, with
counts and line numbers), and every exported record is checked against the target's documented
rules, whose findings go in the same report.

Examples:
    >>> from finetune_kit import Example, Message
    >>> from finetune_kit.export.convert import to_format
    >>> ex = Example(messages=[Message(role="user", content="Hi"),
    ...                        Message(role="assistant", content="Good morrow!", weight=0)])
    >>> records, report = to_format([ex], "vertex-gemini")
    >>> records[0]["contents"][1]
    {'role': 'model', 'parts': [{'text': 'Good morrow!'}]}
    >>> [(item.kind, item.count, item.lines) for item in report.items]
    [('weight_zero_trained', 1, (1,))]
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from finetune_kit._io import atomic_write
from finetune_kit.errors import ConfigError, DataError
from finetune_kit.export import bedrock, gemini, mistral
from finetune_kit.export._common import ExportFormat, TargetRule, normalize
from finetune_kit.export.fidelity import (
    FIDELITY_KINDS,
    FidelityItem,
    FidelityKind,
    FidelityReport,
    Notes,
)
from finetune_kit.export.hf import HF_MESSAGES, HF_PREFERENCE
from finetune_kit.reading import Line, iter_jsonl
from finetune_kit.schema import Example, PreferenceExample
from finetune_kit.validation.engine import Finding, Method, Severity, Validator, detect_format

if TYPE_CHECKING:
    from rich.console import RenderableType

__all__ = [
    "FIDELITY_KINDS",
    "FORMATS",
    "ExportFormat",
    "ExportReport",
    "FidelityItem",
    "FidelityKind",
    "FidelityReport",
    "TargetRule",
    "check_records",
    "export_file",
    "from_format",
    "get_format",
    "register_format",
    "to_format",
]

FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        HF_MESSAGES,
        HF_PREFERENCE,
        gemini.FORMAT,
        bedrock.FORMAT,
        mistral.FORMAT,
    )
}
"""The known target formats, by name (add one with ``register_format``)."""


def get_format(fmt: str | ExportFormat) -> ExportFormat:
    """Look a target format up by name.

    Args:
        fmt: A format name such as ``"vertex-gemini"``, or an
            [`ExportFormat`][finetune_kit.export.convert.ExportFormat] (returned as it is).

    Returns:
        The format.

    Raises:
        ConfigError: The name is unknown; the message lists the known ones.
    """
    if isinstance(fmt, ExportFormat):
        return fmt
    try:
        return FORMATS[fmt]
    except KeyError:
        raise ConfigError(
            f"unknown export format {fmt!r}; known formats: {', '.join(FORMATS)}",
            hint="pick one of the known formats",
        ) from None


def register_format(fmt: ExportFormat, *, replace: bool = False) -> ExportFormat:
    """Add a target format to ``FORMATS`` (and to the CLI).

    Args:
        fmt: The format.
        replace: Allow replacing a format with the same name.

    Returns:
        The format.

    Raises:
        ConfigError: A format with that name exists and ``replace`` is false.
    """
    if fmt.name in FORMATS and not replace:
        raise ConfigError(f"export format {fmt.name!r} is already registered")
    FORMATS[fmt.name] = fmt
    return fmt


@dataclass
class ExportReport:
    """The result of [`export_file`][finetune_kit.export.convert.export_file].

    Attributes:
        input: The file read.
        output: The file written.
        format: The target format's name.
        n_lines: Lines read.
        n_written: Records written.
        skipped: Why each line that was not exported was skipped (errors, with line numbers).
        fidelity: What the export could not carry over, and the target's findings.
    """

    input: str
    output: str
    format: str
    n_lines: int
    n_written: int
    skipped: list[Finding]
    fidelity: FidelityReport

    @property
    def skipped_lines(self) -> list[int]:
        """Line numbers of the lines that were not exported."""
        return sorted({f.line for f in self.skipped if f.line is not None})

    @property
    def ok(self) -> bool:
        """True when every line was exported and the target's rules found no error."""
        return not self.skipped and self.fidelity.ok

    def summary(self) -> str:
        """One line: what was written, skipped, and found."""
        return (
            f"wrote {self.n_written} {self.format} record(s) to {self.output}; "
            f"{len(self.skipped_lines)} line(s) skipped; {self.fidelity.summary()}"
        )

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON-ready dict (the CLI's ``--format json`` output)."""
        return {
            "input": self.input,
            "output": self.output,
            "format": self.format,
            "n_lines": self.n_lines,
            "n_written": self.n_written,
            "ok": self.ok,
            "skipped": [f.to_dict() for f in self.skipped],
            **{k: v for k, v in self.fidelity.to_dict().items() if k != "format"},
        }

    def __repr__(self) -> str:
        return f"<ExportReport {self.summary()}>"

    def __rich__(self) -> RenderableType:
        from finetune_kit.export._render import export_renderable

        return export_renderable(self)

    def _repr_html_(self) -> str:
        from finetune_kit.export._render import export_html

        return export_html(self)


# -- conversion -----------------------------------------------------------------------------------

_MODELS: dict[str, type[Example] | type[PreferenceExample]] = {
    "chat": Example,
    "preference": PreferenceExample,
}
_KIND_NAME = {"chat": "chat (supervised)", "preference": "preference (DPO)"}


def _as_dict(item: Any, spec: ExportFormat, line: int) -> dict[str, Any]:
    """The example as a JSON-ready dict, checked to be of the kind the format takes."""
    model = _MODELS[spec.input_kind]
    if isinstance(item, Example | PreferenceExample):
        if not isinstance(item, model):
            other = "chat" if isinstance(item, Example) else "preference"
            raise DataError(
                f"{spec.name} is made from {_KIND_NAME[spec.input_kind]} examples, but this is "
                f"a {_KIND_NAME[other]} example",
                line=line,
                hint="use hf-preference for preference data and the other formats for chat data",
            )
        return item.to_dict()
    if isinstance(item, Mapping):
        try:
            return model.model_validate(item).to_dict()
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            raise DataError(err["msg"], line=line, hint="fix the example first") from exc
    raise DataError(f"expected an example, got {type(item).__name__}", line=line)


def _write(spec: ExportFormat, data: dict[str, Any], notes: Notes, line: int) -> dict[str, Any]:
    notes.start(line)
    return spec.write(normalize(data, spec.input_kind, notes), notes)


def to_format(
    examples: Iterable[Example | PreferenceExample | Mapping[str, Any]],
    fmt: str | ExportFormat,
    *,
    check: bool = True,
) -> tuple[list[dict[str, Any]], FidelityReport]:
    """Convert examples to a target format.

    Args:
        examples: Typed examples (a [`Dataset`][finetune_kit.Dataset] works), or dicts in
            OpenAI's format. Chat examples for every format but ``hf-preference``, which takes
            preference examples.
        fmt: The target format's name (see ``FORMATS``).
        check: Run the target's documented rules on every record (findings in the report).

    Returns:
        ``(records, report)``: one JSON-ready record per example, and the
        [`FidelityReport`][finetune_kit.FidelityReport] (line = row index + 1).

    Raises:
        ConfigError: Unknown format.
        DataError: An example is of the wrong kind or invalid (with its row number).
    """
    spec = get_format(fmt)
    notes = Notes()
    records: list[dict[str, Any]] = []
    findings: list[Finding] = []
    for i, item in enumerate(examples):
        record = _write(spec, _as_dict(item, spec, i + 1), notes, i + 1)
        if check:
            findings.extend(spec.check(record, i + 1))
        records.append(record)
    return records, FidelityReport.from_notes(spec.name, "export", len(records), notes, findings)


def from_format(
    records: Iterable[Mapping[str, Any]], fmt: str | ExportFormat
) -> tuple[list[Example | PreferenceExample], FidelityReport]:
    """Read records in a target format back into typed OpenAI examples.

    Args:
        records: Parsed records of the target format.
        fmt: The format's name.

    Returns:
        ``(examples, report)``; the report lists what OpenAI's format cannot hold (dropped on
        the way in) and ids that had to be generated.

    Raises:
        ConfigError: Unknown format, or one without a way back.
        DataError: A record cannot be read or does not make a valid OpenAI example (with its
            row number).
    """
    spec = get_format(fmt)
    if spec.read is None:
        raise ConfigError(f"{spec.name} has no way back to OpenAI's format")
    model = _MODELS[spec.input_kind]
    notes = Notes()
    examples: list[Example | PreferenceExample] = []
    for i, record in enumerate(records):
        notes.start(i + 1)
        try:
            data = spec.read(record, notes)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
            raise DataError(
                f"not a readable {spec.name} record ({detail})",
                line=i + 1,
                hint=f"check the record against {spec.docs_url}",
            ) from exc
        try:
            examples.append(model.model_validate(data))
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            raise DataError(
                f"the record does not make a valid OpenAI example: {err['msg']}", line=i + 1
            ) from exc
    return examples, FidelityReport.from_notes(spec.name, "import", len(examples), notes)


def check_records(records: Iterable[Mapping[str, Any]], fmt: str | ExportFormat) -> list[Finding]:
    """Check records already in a target format against the target's documented rules.

    Args:
        records: Parsed records (row index + 1 is the finding's line).
        fmt: The format's name.

    Returns:
        Every finding, in line order.
    """
    spec = get_format(fmt)
    return [f for i, record in enumerate(records) for f in spec.check(record, i + 1)]


# -- files ----------------------------------------------------------------------------------------

_LINE_VALIDATOR: Validator | None = None


def _line_errors(line: Line, spec: ExportFormat, error: ValidationError | None) -> list[Finding]:
    """Why a line cannot be exported: the built-in rules' errors, else the schema's."""
    global _LINE_VALIDATOR  # noqa: PLW0603 - one stateless validator, built on first use
    if _LINE_VALIDATOR is None:
        _LINE_VALIDATOR = Validator(plugins=False)
    method: Method = "supervised" if spec.input_kind == "chat" else "dpo"
    result = next(iter(_LINE_VALIDATOR.scan([line], method=method)))
    errors = [f for f in result.findings if f.severity is Severity.ERROR]
    if errors or error is None:
        return errors
    from finetune_kit.validation.rules import CATALOG

    hint = CATALOG["schema_error"].hint
    return [
        Finding("schema_error", Severity.ERROR, e["msg"], hint, line.number)
        for e in error.errors(include_url=False)
    ]


def _parse(line: Line, spec: ExportFormat) -> tuple[dict[str, Any] | None, list[Finding]]:
    error: ValidationError | None = None
    value = line.value
    if line.ok and isinstance(value, dict) and detect_format(value) == spec.input_kind:
        try:
            return _MODELS[spec.input_kind].model_validate(value).to_dict(), []
        except ValidationError as exc:
            error = exc
    return None, _line_errors(line, spec, error)


def export_file(
    input_path: str | os.PathLike[str],
    fmt: str | ExportFormat,
    output_path: str | os.PathLike[str],
    *,
    check: bool = True,
) -> ExportReport:
    """Convert a JSONL file in OpenAI's format to a target format, streaming.

    The input is read one line at a time; the output is written atomically (whole or not at
    all). Lines that do not parse or do not make a valid example are not exported and are
    reported with their line numbers and the reason; they are never dropped silently.

    Args:
        input_path: The OpenAI JSONL file.
        fmt: The target format's name.
        output_path: Where the target JSONL goes (never the input file).
        check: Run the target's documented rules on every record.

    Returns:
        The [`ExportReport`][finetune_kit.ExportReport]; its line numbers are the input
        file's.

    Raises:
        ConfigError: Unknown format.
        DataError: The input cannot be read, the output cannot be written, or the output is
            the input.
    """
    spec = get_format(fmt)
    src, dst = Path(input_path), Path(output_path)
    if not src.is_file():
        raise DataError("file not found" if not src.exists() else "not a file", file=src)
    if dst.exists() and src.samefile(dst):
        raise DataError(
            "refusing to overwrite the input file", file=dst, hint="choose another output path"
        )
    notes = Notes()
    skipped: list[Finding] = []
    findings: list[Finding] = []
    n_lines = n_written = 0
    with atomic_write(dst) as fh:
        for line in iter_jsonl(src):
            n_lines += 1
            data, errors = _parse(line, spec)
            if data is None:
                skipped.extend(errors)
                continue
            record = _write(spec, data, notes, line.number)
            if check:
                findings.extend(spec.check(record, line.number))
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            n_written += 1
    report = FidelityReport.from_notes(spec.name, "export", n_written, notes, findings)
    return ExportReport(str(src), str(dst), spec.name, n_lines, n_written, skipped, report)
