"""Streaming JSONL reading: one line at a time, with line numbers, never the whole file.

[`iter_jsonl`][finetune_kit.iter_jsonl] yields a [`Line`][finetune_kit.Line] for every line of a
file — including blank and broken ones — so a validator can report every problem with its line
number. Byte ranges (``start``/``end``) let a process pool read disjoint parts of one big file.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from finetune_kit.errors import DataError

__all__ = ["Line", "LineProblem", "iter_jsonl", "parse_line", "split_ranges"]

_BOM = b"\xef\xbb\xbf"
_DECODER = json.JSONDecoder()
# the scanner `json.loads` runs, without its three Python frames
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
_WHITESPACE = " \t\r\n"
_WS_START = frozenset(_WHITESPACE)
_BLOCK_SIZE = 1 << 20


@dataclass(frozen=True, slots=True)
class LineProblem:
    """Why a line could not be parsed into a JSON value.

    Attributes:
        code: ``invalid_utf8``, ``blank_line``, ``invalid_json`` or ``trailing_data``.
        message: What is wrong, with the position when known.
        hint: How to fix it.
    """

    code: str
    message: str
    hint: str


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a JSONL file.

    Attributes:
        number: 1-based line number in the file.
        raw: The line's bytes without the line ending.
        value: The parsed JSON value, or ``None`` when parsing failed.
        problem: Why parsing failed, or ``None``.
        had_bom: True when the line started with a UTF-8 byte-order mark (stripped before parsing).
    """

    number: int
    raw: bytes
    value: Any
    problem: LineProblem | None
    had_bom: bool = False

    @property
    def ok(self) -> bool:
        """True when the line parsed."""
        return self.problem is None


def _decode(raw: bytes) -> tuple[str | None, LineProblem | None]:
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.start + 4]
        try:
            raw.decode("cp1252")
            hint = (
                "the line looks like Windows-1252 (cp1252); re-encode the file as UTF-8, "
                "e.g. `finetune-kit fix` or `iconv -f cp1252 -t utf-8`"
            )
        except UnicodeDecodeError:
            hint = "re-encode the file as UTF-8"
        return None, LineProblem(
            "invalid_utf8",
            f"not valid UTF-8: byte {bad[:1].hex()} at byte {exc.start} of the line",
            hint,
        )


def parse_line(raw: bytes) -> tuple[Any, LineProblem | None, bool]:
    """Parse one JSONL line.

    Args:
        raw: The line's bytes, with or without its line ending.

    Returns:
        ``(value, problem, had_bom)``: the parsed value (``None`` on failure), why it failed, and
        whether a UTF-8 byte-order mark was stripped first.
    """
    had_bom = raw.startswith(_BOM)
    if had_bom:
        raw = raw[len(_BOM) :]
    text, problem = _decode(raw)
    if text is None:
        return None, problem, had_bom
    stripped = text.strip(_WHITESPACE)
    if not stripped:
        return (
            None,
            LineProblem(
                "blank_line",
                "blank line",
                "remove blank lines: every line must hold one JSON object",
            ),
            had_bom,
        )
    try:
        value, end = _DECODER.raw_decode(stripped)
    except json.JSONDecodeError as exc:
        return (
            None,
            LineProblem(
                "invalid_json",
                f"not valid JSON: {exc.msg} at column {exc.colno}",
                "each line must be one complete JSON object; check quotes, commas and "
                "brackets, and that the object is not split across lines",
            ),
            had_bom,
        )
    except RecursionError:
        return (
            None,
            LineProblem("invalid_json", "not valid JSON: nested too deeply", "flatten the value"),
            had_bom,
        )
    if end != len(stripped):
        return (
            None,
            LineProblem(
                "trailing_data",
                f"extra data after the JSON value at column {end + 1}",
                "put one JSON object per line; split concatenated objects onto their own lines",
            ),
            had_bom,
        )
    return value, None, had_bom


def _parses(raw: bytes) -> bool:
    """True when ``raw`` is one JSON value in UTF-8 (a fast check that keeps no value).

    False also for a line `parse_line` accepts after stripping a byte-order mark: call
    `parse_line` then, for the value or the problem.
    """
    # `json.loads` of the decoded text, step by step: skip blanks, scan one value, then only
    # blanks may follow (a text that starts with a byte-order mark fails the scan, as there).
    try:
        text = raw.decode("utf-8")
        start = len(text) - len(text.lstrip(_WHITESPACE)) if text[:1] in _WS_START else 0
        _, end = _SCAN(text, start)
    except (ValueError, RecursionError, StopIteration):
        return False
    return end == len(text) or not text[end:].strip(_WHITESPACE)


def iter_jsonl(
    path: str | os.PathLike[str],
    *,
    start: int = 0,
    end: int | None = None,
    first_line: int = 1,
) -> Iterator[Line]:
    """Yield every line of a JSONL file, parsed, with its line number.

    Memory stays flat: one line is in memory at a time. Blank and broken lines are yielded too
    (with [`Line.problem`][finetune_kit.Line] set), so nothing is dropped silently.

    Args:
        path: The file to read.
        start: Byte offset to start at; must be the start of a line (see
            [`split_ranges`][finetune_kit.split_ranges]).
        end: Byte offset to stop before (a line starting before ``end`` is read whole).
        first_line: The line number of the line at ``start``.

    Yields:
        One [`Line`][finetune_kit.Line] per line.

    Raises:
        DataError: The file does not exist or cannot be read.
    """
    return _parsed(_iter_raw_lines(path, start=start, end=end), first_line)


def _parsed(bodies: Iterable[bytes], first_line: int = 1) -> Iterator[Line]:
    """Parse line bodies (without their line endings) into numbered lines."""
    number = first_line
    for body in bodies:
        value, problem, had_bom = parse_line(body)
        yield Line(number, body, value, problem, had_bom)
        number += 1


def _block_parts(data: bytes) -> list[bytes]:
    """The lines of a block of whole lines, split at each newline (CR kept), no empty tail."""
    parts = data.split(b"\n")
    if not parts[-1]:
        parts.pop()
    return parts


def _block_lines(data: bytes, parts: list[bytes] | None = None) -> list[bytes]:
    """The bodies of the lines of a block of whole lines, without their CRLF or LF endings.

    ``parts`` are the block's `_block_parts` when the caller has them already.
    """
    if parts is None:
        parts = _block_parts(data)
    return [part.rstrip(b"\r") for part in parts] if b"\r" in data else parts


def _open(path: str | os.PathLike[str]) -> BinaryIO:
    p = Path(path)
    try:
        return p.open("rb")
    except FileNotFoundError as exc:
        raise DataError("file not found", file=p, hint="check the path") from exc
    except IsADirectoryError as exc:
        raise DataError("is a directory, not a file", file=p) from exc
    except OSError as exc:
        raise DataError(f"cannot open file: {exc.strerror}", file=p) from exc


def _iter_blocks(
    path: str | os.PathLike[str],
    *,
    start: int = 0,
    end: int | None = None,
    size: int = _BLOCK_SIZE,
) -> Iterator[tuple[bytes, list[bytes]]]:
    """Yield the lines of a file in blocks of about ``size`` bytes (whole lines only).

    Args:
        path: The file to read.
        start: Byte offset to start at; must be the start of a line.
        end: Byte offset to stop before (a line starting before ``end`` is read whole).
        size: How many bytes to read at a time (a longer line is read whole).

    Yields:
        ``(data, parts)``: the bytes read, and its lines split at each newline, without the
        empty part after the last one (a part keeps the carriage return of a CRLF ending).

    Raises:
        DataError: The file does not exist or cannot be read.
    """
    with _open(path) as fh:
        fh.seek(start)
        pos = start
        while end is None or pos < end:
            data = fh.read(size if end is None else min(size, end - pos))
            if not data:
                break
            if not data.endswith(b"\n"):
                data += fh.readline()
            pos += len(data)
            yield data, _block_parts(data)


def _iter_raw_lines(
    path: str | os.PathLike[str], *, start: int = 0, end: int | None = None
) -> Iterator[bytes]:
    """Yield the bytes of every line of a file, without its line ending (CRLF or LF), unparsed.

    Raises:
        DataError: The file does not exist or cannot be read.
    """
    for data, parts in _iter_blocks(path, start=start, end=end):
        yield from _block_lines(data, parts)


def split_ranges(path: str | os.PathLike[str], parts: int) -> list[tuple[int, int]]:
    """Split a file into at most ``parts`` byte ranges that each start at a line start.

    Args:
        path: The file.
        parts: How many ranges to aim for (at least 1).

    Returns:
        ``[(start, end), ...]`` covering the whole file in order, without overlap.
    """
    size = Path(path).stat().st_size
    parts = max(1, parts)
    if size == 0:
        return [(0, 0)]
    bounds = [0]
    with Path(path).open("rb") as fh:
        for i in range(1, parts):
            target = size * i // parts
            if target <= bounds[-1]:
                continue
            fh.seek(target - 1)
            fh.readline()  # move to the start of the next line
            cut = fh.tell()
            if bounds[-1] < cut < size:
                bounds.append(cut)
    bounds.append(size)
    return list(itertools.pairwise(bounds))
