from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from conftest import WriteLines, good_example
from finetune_kit import SAMPLE_SYSTEM_PROMPT, DataError, Dataset, Example, PreferenceExample
from finetune_kit import dataset as dataset_module

ROWS = [
    {"question": "What is a GPU?", "answer": "A forge of many small smiths."},
    {"question": "What is a tensor?", "answer": "A matrix grown ambitious, good sir."},
]


def test_from_records_builds_system_user_assistant_examples() -> None:
    ds = Dataset.from_records(ROWS, user="question", assistant="answer", system_prompt="Be old.")
    assert len(ds) == 2
    ex = ds[0]
    assert isinstance(ex, Example)
    assert [m.role for m in ex.messages] == ["system", "user", "assistant"]
    assert ex.messages[2].content == ROWS[0]["answer"]


def test_from_records_without_columns_takes_ready_examples() -> None:
    pref = {
        "input": {"messages": [{"role": "user", "content": "Hi"}]},
        "preferred_output": [{"role": "assistant", "content": "Hail"}],
        "non_preferred_output": [{"role": "assistant", "content": "Yo"}],
    }
    ds = Dataset.from_records([pref])
    assert isinstance(ds[0], PreferenceExample)
    assert ds.format == "preference"


def test_every_empty_cell_is_reported_with_row_and_column() -> None:
    rows = [
        {"q": "a", "a": "b"},
        {"q": "", "a": "b"},
        {"q": "c", "a": None},
        {"q": "d", "a": float("nan")},
    ]
    with pytest.raises(DataError) as info:
        Dataset.from_records(rows, user="q", assistant="a")
    found = [(f.line, f.field) for f in info.value.findings]
    assert found == [(2, "q"), (3, "a"), (4, "a")]
    assert "3 problem(s)" in str(info.value)


def test_missing_column_suggests_a_close_match() -> None:
    with pytest.raises(DataError, match="did you mean 'question'"):
        Dataset.from_records(ROWS, user="questions", assistant="answer")


def test_invalid_ready_examples_name_their_line_and_field() -> None:
    with pytest.raises(DataError) as info:
        Dataset.from_records([good_example(), {"messages": [{"role": "bot", "content": "x"}]}])
    codes = {(f.line, f.code) for f in info.value.findings}
    assert (2, "unknown_role") in codes


def test_from_dataframe_converts_numbers_and_keeps_row_numbers() -> None:
    df = pd.DataFrame({"q": ["two plus two?", "one?"], "a": [4, None]})
    with pytest.raises(DataError) as info:
        Dataset.from_dataframe(df, user="q", assistant="a")
    assert [(f.line, f.field) for f in info.value.findings] == [(2, "a")]
    ds = Dataset.from_dataframe(df.iloc[:1], user="q", assistant="a")
    assert ds[0].messages[-1].content == "4"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("cp1252", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-8", b"")],
)
def test_from_csv_reads_windows_and_bom_exports(
    tmp_path: Path, encoding: str, prefix: bytes
) -> None:
    text = 'question,answer\n"Qu\'est-ce qu\'un café?","Un breuvage, naïve âme — 5 €"\n'
    path = tmp_path / "data.csv"
    path.write_bytes(prefix + text.encode(encoding))
    ds = Dataset.from_csv(path, user="question", assistant="answer")
    assert ds[0].messages[-1].content == "Un breuvage, naïve âme — 5 €"  # type: ignore[union-attr]
    assert ds[0].messages[0].content == "Qu'est-ce qu'un café?"  # type: ignore[union-attr]


def test_from_csv_errors_give_the_file_line_even_with_multiline_cells(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text('q;a\n"line one\nline two";ok\n"q2";\n', encoding="utf-8")
    with pytest.raises(DataError) as info:
        Dataset.from_csv(path, user="q", assistant="a")
    assert [(f.line, f.field) for f in info.value.findings] == [(4, "a")]
    assert str(path) in str(info.value)


def test_from_csv_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        Dataset.from_csv(tmp_path / "none.csv", user="q", assistant="a")


def test_from_jsonl_reads_valid_files_and_lists_every_bad_line(write_lines: WriteLines) -> None:
    ok = write_lines([good_example(i) for i in range(3)])
    assert len(Dataset.from_jsonl(ok)) == 3
    bad = write_lines([good_example(), "nope", {"messages": []}])
    with pytest.raises(DataError) as info:
        Dataset.from_jsonl(bad)
    assert [(f.line, f.code) for f in info.value.findings] == [
        (2, "invalid_json"),
        (3, "empty_messages"),
    ]


def test_to_jsonl_round_trips(tmp_path: Path) -> None:
    ds = Dataset.sample()
    path = ds.to_jsonl(tmp_path / "out.jsonl")
    assert Dataset.from_jsonl(path) == ds
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert first["messages"][0] == {"role": "system", "content": SAMPLE_SYSTEM_PROMPT}


def test_to_jsonl_never_leaves_a_half_written_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("previous content\n", encoding="utf-8")
    calls = {"n": 0}
    real_dumps = json.dumps

    def failing_dumps(obj: Any, **kw: Any) -> str:
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("disk on fire")
        return real_dumps(obj, **kw)

    monkeypatch.setattr(dataset_module.json, "dumps", failing_dumps)
    with pytest.raises(RuntimeError):
        Dataset.sample().to_jsonl(target)
    assert target.read_text(encoding="utf-8") == "previous content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_split_is_deterministic_and_disjoint() -> None:
    ds = Dataset.sample()
    train, valid = ds.split(0.2, seed=7)
    train2, valid2 = ds.split(0.2, seed=7)
    assert (train, valid) == (train2, valid2)
    assert len(valid) == 10 and len(train) == 40
    assert {e.model_dump_json() for e in train}.isdisjoint({e.model_dump_json() for e in valid})
    with pytest.raises(DataError):
        ds.split(1.5)


def test_dedupe_map_filter_and_slicing() -> None:
    ds = Dataset.sample()
    doubled = ds + ds[:5]
    assert len(doubled) == 55 and len(doubled.dedupe()[0]) == 50
    upper = ds.map(lambda ex: ex.model_copy(update={"messages": ex.messages[1:]}))  # type: ignore[union-attr]
    assert upper[0].messages[0].role == "user"  # type: ignore[union-attr]
    assert len(ds.filter(lambda ex: "overfitting" in ex.messages[1].text)) == 1  # type: ignore[union-attr]


def test_to_dataframe_and_html_repr() -> None:
    ds = Dataset.sample()
    df = ds.to_dataframe()
    assert {"system", "user", "assistant", "n_messages"} <= set(df.columns)
    assert len(df) == 50
    html = ds._repr_html_()
    assert html.count("<tr>") == 11 and "first 10 shown" in html
    assert "50 chat examples" in repr(ds)


def test_from_file_dispatches_on_suffix(tmp_path: Path) -> None:
    df = pd.DataFrame(ROWS)
    df.to_parquet(tmp_path / "d.parquet")
    df.to_excel(tmp_path / "d.xlsx", index=False)
    for name in ("d.parquet", "d.xlsx"):
        ds = Dataset.from_file(tmp_path / name, user="question", assistant="answer")
        assert len(ds) == 2
    with pytest.raises(DataError, match="unknown file type"):
        Dataset.from_file(tmp_path / "d.docx")


def test_written_files_get_the_usual_permissions(tmp_path: Path) -> None:
    import os

    umask = os.umask(0o022)
    try:
        path = Dataset.sample().to_jsonl(tmp_path / "out.jsonl")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_dataset_renders_with_rich() -> None:
    from rich.console import Console

    console = Console(record=True, width=120)
    console.print(Dataset.sample())
    text = console.export_text()
    assert "50 chat examples" in text and "first 10 of 50" in text
