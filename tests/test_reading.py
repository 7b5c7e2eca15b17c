from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finetune_kit import DataError, iter_jsonl, parse_line, reading, split_ranges
from finetune_kit.reading import _parses


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"", "blank_line"),
        (b"   \t", "blank_line"),
        (b'{"a": 1', "invalid_json"),
        (b'{"a": 1} {"b": 2}', "trailing_data"),
        (b'{"a": "caf\xe9"}', "invalid_utf8"),
    ],
)
def test_parse_line_names_the_problem(raw: bytes, code: str) -> None:
    value, problem, _ = parse_line(raw)
    assert value is None
    assert problem is not None and problem.code == code
    assert problem.hint


def test_parse_line_strips_bom_and_reports_it() -> None:
    value, problem, had_bom = parse_line(b'\xef\xbb\xbf{"a": 1}')
    assert value == {"a": 1} and problem is None and had_bom


def test_invalid_utf8_suggests_cp1252_when_it_decodes_as_cp1252() -> None:
    _, problem, _ = parse_line('{"a": "naïve"}'.encode("cp1252"))
    assert problem is not None and "cp1252" in problem.hint


def test_iter_jsonl_numbers_every_line_including_blank_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_bytes(b'{"a": 1}\r\n\r\n{"a": 2}\nnot json\n{"a": 3}')
    lines = list(iter_jsonl(path))
    assert [ln.number for ln in lines] == [1, 2, 3, 4, 5]
    assert [ln.ok for ln in lines] == [True, False, True, False, True]
    assert lines[4].value == {"a": 3}


def test_iter_jsonl_missing_file_is_a_data_error_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found") as info:
        list(iter_jsonl(tmp_path / "nope.jsonl"))
    assert info.value.file is not None and "nope.jsonl" in info.value.file


@given(
    chunks=st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=30),
    parts=st.integers(min_value=1, max_value=7),
)
def test_split_ranges_cover_the_file_and_start_at_line_starts(
    chunks: list[bytes], parts: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("split") / "f.jsonl"
    data = b"\n".join(chunks) + (b"\n" if chunks else b"")
    path.write_bytes(data)
    ranges = split_ranges(path, parts)
    assert ranges[0][0] == 0 and ranges[-1][1] == len(data)
    for (_, end), (start, _) in itertools.pairwise(ranges):
        assert end == start
    for start, _ in ranges:
        assert start == 0 or data[start - 1 : start] == b"\n"
    whole = [ln.raw for ln in iter_jsonl(path)]
    pieces: list[bytes] = []
    for start, end in ranges:
        pieces.extend(ln.raw for ln in iter_jsonl(path, start=start, end=end))
    assert pieces == whole


@given(
    lines=st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")), max_size=25),
    final_newline=st.booleans(),
    crlf=st.booleans(),
    size=st.integers(min_value=1, max_value=64),
    parts=st.integers(min_value=1, max_value=4),
)
def test_blocks_hold_whole_lines_and_agree_with_line_by_line_reading(
    lines: list[bytes],
    final_newline: bool,
    crlf: bool,
    size: int,
    parts: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    path = tmp_path_factory.mktemp("blocks") / "f.jsonl"
    ending = b"\r\n" if crlf else b"\n"
    data = ending.join(lines) + (ending if final_newline and lines else b"")
    path.write_bytes(data)
    expected = [ln.raw for ln in iter_jsonl(path)]
    got: list[bytes] = []
    for start, end in split_ranges(path, parts):
        for block, pieces in reading._iter_blocks(path, start=start, end=end, size=size):
            assert block.split(b"\n")[: len(pieces)] == pieces  # whole lines, in order
            assert block.endswith(b"\n") or block == data[len(data) - len(block) :]
            got.extend(piece.rstrip(b"\r") for piece in pieces)
    assert got == expected


@pytest.mark.parametrize(
    "raw",
    [
        b"{}",
        b" \t{} \r",
        b"{} x",
        b"{}{}",
        b"",
        b"   ",
        b"[1, 2",
        b"NaN",
        b'"\\ud800"',
        b"\xff{}",
        b"\xef\xbb\xbf{}",
        b"[" * 5000 + b"]" * 5000,
    ],
)
def test_the_fast_json_check_agrees_with_json_loads(raw: bytes) -> None:
    try:
        json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        expected = False
    else:
        expected = True
    assert _parses(raw) is expected
