from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import WriteLines, good_example
from finetune_kit import DataError, fix_file, validate
from validation_corpus import THIRTY, thirty_lines

SAFE = {"invalid_utf8", "blank_line"}


def test_fix_on_thirty_defects_loses_nothing(write_lines: WriteLines, tmp_path: Path) -> None:
    src = write_lines([good_example(i) for i in range(12)] + thirty_lines())
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    report = fix_file(src, out, rejects=rejects)
    written = out.read_text(encoding="utf-8").splitlines()
    rejected = [json.loads(x) for x in rejects.read_text(encoding="utf-8").splitlines()]
    warnings_only = {"nothing_to_train_on", "empty_content"}
    n_bad = sum(1 for _, code in THIRTY if code not in SAFE | warnings_only)
    assert report.n_rejected == len(rejected) == n_bad
    assert report.fixed == {"blank_line": 1, "invalid_utf8": 1}
    # every line is accounted for: written, rejected, or a blank line dropped
    assert len(written) + len(rejected) + report.fixed["blank_line"] == 12 + 30
    assert validate(out).ok
    for record in rejected:
        assert record["findings"] and isinstance(record["line"], int) and "raw" in record
    assert {r["line"] for r in rejected}.isdisjoint({13 + 3, 13 + 4})  # cp1252 line was fixed


def test_fix_strips_bom_and_drops_exact_duplicates(write_lines: WriteLines, tmp_path: Path) -> None:
    lines: list[bytes | dict[str, object]] = [
        b"\xef\xbb\xbf" + json.dumps(good_example(0)).encode(),
        *[good_example(i) for i in range(1, 11)],
        good_example(4),
    ]
    src = write_lines(lines)
    report = fix_file(src, tmp_path / "o.jsonl")
    assert report.fixed == {"bom": 1, "duplicate_example": 1}
    assert report.ok and report.n_written == 11 and report.rejects is None
    assert not (tmp_path / "o.rejects.jsonl").exists()
    assert not (tmp_path / "o.jsonl").read_bytes().startswith(b"\xef\xbb\xbf")


def test_fix_refuses_to_overwrite_its_input(write_lines: WriteLines) -> None:
    src = write_lines([good_example()])
    with pytest.raises(DataError, match="overwrite the input"):
        fix_file(src, src)


def test_fix_keeps_undecodable_bytes_recoverable(write_lines: WriteLines, tmp_path: Path) -> None:
    raw = b'{"messages": "\x81\x8d"}'  # not UTF-8, not cp1252
    src = write_lines([raw])
    fix_file(src, tmp_path / "o.jsonl", rejects=tmp_path / "r.jsonl")
    record = json.loads((tmp_path / "r.jsonl").read_text(encoding="utf-8"))
    assert record["raw_encoding"] == "latin-1"
    assert record["raw"].encode("latin-1") == raw
