"""Safe fixes: only remediations that cannot change what an example means.

[`fix_file`][finetune_kit.fix_file] strips byte-order marks, drops blank lines, re-encodes
Windows-1252 lines as UTF-8 and drops exact duplicate examples. Every line that still has an
error goes to a rejects file together with its findings, so nothing is lost; the input is never
overwritten.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from finetune_kit._html import key_values
from finetune_kit._io import atomic_write
from finetune_kit.errors import DataError
from finetune_kit.reading import Line, iter_jsonl, parse_line
from finetune_kit.validation.engine import (
    Finding,
    Format,
    Method,
    Validator,
    _duplicate,
    _FileState,
)

__all__ = ["FixReport", "fix_file"]

_FIX_DESCRIPTIONS = {
    "bom": "byte-order mark stripped",
    "blank_line": "blank line dropped",
    "invalid_utf8": "line re-encoded from cp1252 to UTF-8",
    "duplicate_example": "exact duplicate example dropped",
    "bom_missing": "byte-order mark added at the start (Azure OpenAI needs one)",
}
_BOM = b"\xef\xbb\xbf"


@dataclass
class FixReport:
    """What [`fix_file`][finetune_kit.fix_file] did.

    Attributes:
        source: The input file.
        output: The fixed file.
        rejects: The rejects file (``None`` when none was needed).
        fixed: How many lines each safe fix touched, by finding code.
        n_written: Lines written to the output.
        n_rejected: Lines moved to the rejects file (they still have errors).
        file_findings: File-level findings about the output (e.g. too few examples).
    """

    source: str
    output: str
    rejects: str | None
    fixed: Counter[str] = field(default_factory=Counter)
    n_written: int = 0
    n_rejected: int = 0
    file_findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no line had to be rejected and no file-level error remains."""
        return self.n_rejected == 0 and not any(
            f.severity.value == "error" for f in self.file_findings
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "source": self.source,
            "output": self.output,
            "rejects": self.rejects,
            "fixed": dict(self.fixed),
            "n_written": self.n_written,
            "n_rejected": self.n_rejected,
            "file_findings": [f.to_dict() for f in self.file_findings],
        }

    def describe(self) -> list[tuple[str, int, str]]:
        """``(code, count, what was done)`` for every fix applied."""
        return [(code, n, _FIX_DESCRIPTIONS[code]) for code, n in sorted(self.fixed.items())]

    def _repr_html_(self) -> str:
        pairs: list[tuple[str, object]] = [
            ("written", self.n_written),
            ("rejected", self.n_rejected),
        ]
        pairs += [(desc, n) for _, n, desc in self.describe()]
        return key_values(pairs, caption=f"fix {self.source} -> {self.output}")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (b.exists() and a.samefile(b))
    except OSError:
        return False


def _safe_lines(
    lines: Iterable[Line], report: FixReport, originals: dict[int, bytes]
) -> Iterator[Line]:
    """Lines with the safe encoding fixes applied; blank lines are dropped here."""
    for line in lines:
        raw = line.raw
        if line.had_bom:
            report.fixed["bom"] += 1
            raw = raw[3:]
        problem = line.problem
        if problem is not None and problem.code == "blank_line":
            report.fixed["blank_line"] += 1
            continue
        value = line.value
        if problem is not None and problem.code == "invalid_utf8":
            try:
                recoded = raw.decode("cp1252").encode("utf-8")
            except UnicodeDecodeError:
                recoded = None
            if recoded is not None:
                value, problem, _ = parse_line(recoded)
                raw = recoded
                report.fixed["invalid_utf8"] += 1
        originals[line.number] = raw
        yield Line(line.number, raw, value, problem)


def fix_file(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    rejects: str | os.PathLike[str] | None = None,
    method: Method | None = None,
    validator: Validator | None = None,
    bom: bool = False,
) -> FixReport:
    """Apply the safe fixes to a JSONL file.

    Good lines are written to ``output`` byte for byte (after the fixes); lines that still have
    an error go to ``rejects`` as ``{"line", "raw", "findings"}`` objects. Both files are
    written atomically; nothing is lost.

    Args:
        source: The input file (never modified).
        output: Where the fixed file goes.
        rejects: Where lines that still have errors go (default: ``OUTPUT.rejects.jsonl``,
            written only when a line is rejected).
        method: ``supervised`` or ``dpo``.
        validator: A validator with custom rules (default: built-in rules only).
        bom: Start the output with a UTF-8 byte-order mark, as Azure OpenAI requires
            (``finetune-kit fix --provider azure``); BOMs inside the file are still removed.

    Returns:
        The [`FixReport`][finetune_kit.FixReport].

    Raises:
        DataError: The input is missing, or an output would overwrite the input.
    """
    src, out = Path(source), Path(output)
    rej = Path(rejects) if rejects is not None else out.with_name(out.stem + ".rejects.jsonl")
    if not src.is_file():
        raise DataError("file not found", file=src, hint="check the path")
    for target in (out, rej):
        if _same_file(src, target):
            raise DataError(
                "refusing to overwrite the input file", file=target, hint="choose another output"
            )
    report = FixReport(str(src), str(out), str(rej))
    engine = validator or Validator(plugins=False)
    with atomic_write(out, binary=True) as good, atomic_write(rej, binary=True) as bad:
        _fix_into(engine, iter_jsonl(src), good, bad, report, method=method, bom=bom)
    if rejects is None and report.n_rejected == 0:
        rej.unlink(missing_ok=True)
        report.rejects = None
    report.file_findings = engine.finish(_FileState(n_examples=report.n_written))
    return report


def _fix_into(
    engine: Validator,
    lines: Iterable[Line],
    good: IO[bytes],
    bad: IO[bytes],
    report: FixReport,
    *,
    method: Method | None,
    bom: bool,
    expected_format: Format | None = None,
    later_copies: Mapping[int, int] | None = None,
) -> _FileState:
    """Fix ``lines`` into ``good`` (and ``bad``, the rejects), counting in ``report``.

    ``later_copies`` (line -> first line) marks lines as copies of examples seen before these
    lines (in an earlier partition of the same file): they are dropped as duplicates too.

    Returns:
        The scan's state (its ``seen`` digests name each example's first line).
    """
    state = _FileState()
    originals: dict[int, bytes] = {}
    scan = engine.scan(
        _safe_lines(lines, report, originals),
        method=method,
        expected_format=expected_format,
        state=state,
    )
    for result in scan:
        first = later_copies.get(result.line) if later_copies else None
        if first is not None:
            result.findings.append(_duplicate(result.line, first))
        raw = originals.pop(result.line)
        if result.has_error:
            report.n_rejected += 1
            record = {
                "line": result.line,
                **_raw_fields(raw),
                "findings": [f.to_dict() for f in result.findings],
            }
            bad.write(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")
        elif any(f.code == "duplicate_example" for f in result.findings):
            report.fixed["duplicate_example"] += 1
        else:
            if bom and report.n_written == 0:
                good.write(_BOM)
                report.fixed["bom_missing"] += 1
            good.write(raw + b"\n")
            report.n_written += 1
    return state


def _raw_fields(raw: bytes) -> dict[str, str]:
    try:
        return {"raw": raw.decode("utf-8")}
    except UnicodeDecodeError:
        # lossless: every byte maps to one latin-1 character; raw.encode("latin-1") restores it
        return {"raw": raw.decode("latin-1"), "raw_encoding": "latin-1"}
