"""The Dask engine gives one machine's results: findings, totals, duplicates, outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import WriteLines, good_example
from finetune_kit import CostEstimator, Validator, dedupe_file, redact_file, validate
from finetune_kit.errors import ConfigError
from finetune_kit.validation.rules import CATALOG
from validation_corpus import LINE_CODES, padding, thirty_lines

pytest.importorskip("distributed")

from finetune_kit.engines import dask as on_dask

# Tiny partitions: a case file of ten lines is cut into several, so every merge path runs.
BLOCK = 300


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """One 2-worker cluster for the module (threads in this process: quick to start)."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as made,
    ):
        yield made


def _findings(report: Any) -> list[tuple[Any, ...]]:
    return [(f.line, f.code, f.severity, f.message, f.field) for f in report.findings]


def _same_validation(path: Path, client: Any, *, model: str | None = None, **kw: Any) -> None:
    validator = Validator(**kw)
    local = validator.validate(path, model=model)
    cluster = on_dask.validate(
        str(path), model=model, validator=validator, client=client, blocksize=BLOCK
    )
    assert _findings(cluster) == _findings(local)
    assert cluster.stats == local.stats
    assert cluster.ok == local.ok


def _same_estimate(path: Path, client: Any, model: str = "gpt-4o-mini") -> None:
    local = CostEstimator().estimate_training(path, model, method=None, jobs=1)
    cluster = on_dask.estimate(str(path), model, method=None, client=client, blocksize=BLOCK)
    assert _findings(cluster) == _findings(local)
    assert cluster.billed_tokens_per_epoch == local.billed_tokens_per_epoch
    assert cluster.total_tokens_per_epoch == local.total_tokens_per_epoch
    assert list(cluster.token_counts) == list(local.token_counts)
    assert cluster.to_dict() == local.to_dict()


@pytest.mark.parametrize("code", LINE_CODES)
def test_every_corpus_case_validates_and_counts_as_on_one_machine(
    code: str, client: Any, write_lines: WriteLines
) -> None:
    info = CATALOG[code]
    assert info.bad is not None
    path = write_lines([*padding(code), info.bad, *padding(code)[:3]])
    model = "gpt-3.5-turbo-0125" if code == "model_lacks_vision" else None
    _same_validation(path, client, model=model)
    _same_estimate(path, client)


@pytest.mark.parametrize("profile", ["openai", "azure", "together"])
def test_thirty_defects_give_the_same_findings_under_every_profile(
    profile: str, client: Any, write_lines: WriteLines
) -> None:
    bom_first = b"\xef\xbb\xbf" + json.dumps(good_example(99)).encode()
    bom_later = b"\xef\xbb\xbf" + json.dumps(good_example(98)).encode()
    path = write_lines([bom_first, *thirty_lines(), bom_later, *thirty_lines()])
    _same_validation(path, client, profile=profile)
    _same_validation(path, client, profile=profile, model="gpt-4o-mini")


def test_duplicates_across_partitions_and_files_name_the_first_line(
    client: Any, tmp_path: Path
) -> None:
    rows = [good_example(i) for i in range(60)]
    rows[40] = rows[2]  # a later partition copies line 3
    rows[55] = rows[2]
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text("".join(json.dumps(r) + "\n" for r in rows))
    second.write_text(json.dumps(rows[7]) + "\n" + json.dumps(good_example(500)) + "\n")

    one = on_dask.validate(str(first), client=client, blocksize=BLOCK)
    dups = [(f.line, f.message) for f in one.findings if f.code == "duplicate_example"]
    assert dups == [(41, "same example as line 3"), (56, "same example as line 3")]

    both = on_dask.validate(str(tmp_path / "*.jsonl"), client=client, blocksize=BLOCK)
    dups = [(f.line, f.message) for f in both.findings if f.code == "duplicate_example"]
    assert dups[-1] == (61, "same example as line 8")  # line 1 of b.jsonl, after a's 60
    assert both.stats["files"] == [
        {"file": str(first), "first_line": 1, "n_lines": 60},
        {"file": str(second), "first_line": 61, "n_lines": 2},
    ]
    report = on_dask.dedupe(str(first), client=client, blocksize=BLOCK)
    assert [g.lines for g in report.groups] == [(3, 41, 56)]


def test_collections_and_parquet_validate_as_the_same_records_in_memory(
    client: Any, tmp_path: Path
) -> None:
    import dask
    import dask.bag
    import dask.dataframe
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows: list[dict[str, Any]] = [good_example(i) for i in range(12)]
    rows[4] = {"messages": [{"role": "user", "content": "only a question"}]}
    rows[9] = rows[1]
    local = validate(rows)
    bag = dask.bag.from_sequence(rows, npartitions=3)
    assert _findings(on_dask.validate(bag, client=client)) == _findings(local)
    lines = dask.bag.from_sequence([json.dumps(r) for r in rows], npartitions=4)
    assert _findings(on_dask.validate(lines, client=client)) == _findings(local)
    # dask turns object columns into strings unless told not to (docs/scale.md says so too)
    with dask.config.set({"dataframe.convert-string": False}):
        messages = pd.DataFrame({"messages": [r["messages"] for r in rows]})
        frame = dask.dataframe.from_pandas(messages)
    assert _findings(on_dask.validate(frame.repartition(npartitions=3), client=client)) == (
        _findings(local)
    )
    path = tmp_path / "train.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=5)
    assert _findings(on_dask.validate(str(path), client=client)) == _findings(local)


def _pii_files(folder: Path, n: int = 8) -> list[Path]:
    folder.mkdir()
    out = []
    for i in range(n):
        path = folder / f"logs-{i}.jsonl"
        lines = []
        for j in range(25):
            ex = good_example(100 * i + j)
            if j % 3 == 0:
                ex["messages"][1]["content"] += (
                    f" Mail me at user{i}.{j}@example.com or +1 415 555 01{j:02d}"
                )
            lines.append(json.dumps(ex, ensure_ascii=False))
        lines.insert(7, "{broken")
        path.write_text("\r\n".join(lines) + ("\n" if i % 2 else ""))  # CRLF, and no last newline
        out.append(path)
    return out


def test_redact_over_eight_files_is_byte_identical_to_one_machine(
    client: Any, tmp_path: Path
) -> None:
    files = _pii_files(tmp_path / "in")
    expected = b""
    counts: dict[str, int] = {}
    for i, path in enumerate(files):
        single = redact_file(path, tmp_path / f"one-{i}.jsonl", strategy="pseudonym", secret="k")
        expected += (tmp_path / f"one-{i}.jsonl").read_bytes()
        for code, n in single.counts.items():
            counts[code] = counts.get(code, 0) + n
    assert counts  # the files do hold personal data

    report = on_dask.redact(
        str(tmp_path / "in"),
        tmp_path / "all.jsonl",
        strategy="pseudonym",
        secret="k",
        client=client,
        blocksize=BLOCK,
    )
    assert (tmp_path / "all.jsonl").read_bytes() == expected
    assert report.counts == counts
    assert report.unparsed_lines == 8
    assert report.unparsed_line_numbers[:2] == [8, 34]

    parts = tmp_path / "parts"
    on_dask.redact(
        [str(p) for p in files],
        parts,
        strategy="pseudonym",
        secret="k",
        partitioned=True,
        client=client,
        blocksize=None,
    )
    names = sorted(p.name for p in parts.iterdir())
    assert names == [f"part-{i:05d}.jsonl" for i in range(8)]
    for i in range(8):
        assert (parts / names[i]).read_bytes() == (tmp_path / f"one-{i}.jsonl").read_bytes()


def test_a_failure_mid_run_leaves_no_output_file(
    client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from finetune_kit.privacy import redaction

    files = _pii_files(tmp_path / "in", n=4)
    real = redaction._redact_lines

    def failing(blocks: Any, out: Any, *args: Any) -> None:
        blocks = list(blocks)
        if any(b"user2." in data for data, _ in blocks):
            raise OSError("disk gone")
        real(blocks, out, *args)

    monkeypatch.setattr(redaction, "_redact_lines", failing)
    with pytest.raises(OSError, match="disk gone"):
        on_dask.redact([str(p) for p in files], tmp_path / "out.jsonl", client=client)
    out = tmp_path / "out"
    with pytest.raises(OSError, match="disk gone"):
        on_dask.redact(
            [str(p) for p in files], out, partitioned=True, client=client, blocksize=None
        )
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["in", "out"]  # no out.jsonl, no temporary file beside it
    assert list(out.iterdir()) == []  # no part file, final or temporary


def test_dedupe_writes_the_kept_lines_of_one_machine(client: Any, tmp_path: Path) -> None:
    rows = [json.dumps(good_example(i % 17)) for i in range(50)]
    rows.insert(10, "not json")
    src = tmp_path / "train.jsonl"
    src.write_text("\n".join(rows) + "\n")
    local = dedupe_file(src, tmp_path / "one.jsonl")
    cluster = on_dask.dedupe(str(src), tmp_path / "dask.jsonl", client=client, blocksize=BLOCK)
    assert (tmp_path / "dask.jsonl").read_bytes() == (tmp_path / "one.jsonl").read_bytes()
    assert [g.lines for g in cluster.groups] == [g.lines for g in local.groups]
    assert cluster.stats["examples_out"] == local.stats["examples_out"] == 17


def test_cli_engine_dask_gives_the_local_json_and_exit_code(client: Any, tmp_path: Path) -> None:
    from finetune_kit.cli import app

    src = tmp_path / "train.jsonl"
    src.write_text("".join(json.dumps(good_example(i % 6)) + "\n" for i in range(12)) + "[1]\n")
    runner = CliRunner()
    address = client.scheduler.address
    for command in (["validate"], ["estimate", "--model", "gpt-4o-mini"]):
        local = runner.invoke(app, [*command, str(src), "--format", "json"])
        cluster = runner.invoke(
            app,
            [*command, str(src), "--format", "json", "--engine", "dask", "--scheduler", address],
        )
        assert local.exit_code == cluster.exit_code == 1, cluster.output
        assert json.loads(cluster.stdout) == json.loads(local.stdout)
    wrong = runner.invoke(app, ["validate", str(src), "--scheduler", address])
    assert wrong.exit_code == 2
    assert "--engine dask" in wrong.output


def test_nothing_imports_dask_unless_asked() -> None:
    code = (
        "import sys, contextlib, io\n"
        "import finetune_kit\n"
        "from finetune_kit.cli import app\n"
        "for cmd in (['--help'], ['validate', '--help'], ['redact', '--help']):\n"
        "    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "        app(cmd)\n"
        "assert not any(m.split('.')[0] in ('dask', 'distributed') for m in sys.modules), "
        "sorted(m for m in sys.modules if m.startswith(('dask', 'distributed')))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "COLUMNS": "100"})


def test_a_missing_extra_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ConfigError, match=r"finetune-kit\[dask\]"):
        on_dask.validate("train.jsonl")


@pytest.mark.parametrize("partitioned", [False, True])
def test_fix_writes_what_fix_file_writes(
    partitioned: bool, client: Any, tmp_path: Path, write_lines: WriteLines
) -> None:
    from finetune_kit import fix_file

    rows: list[Any] = [good_example(i % 9) for i in range(20)]
    src = write_lines(
        [*rows[:6], *thirty_lines(), b"\xef\xbb\xbf" + json.dumps(rows[2]).encode(), *rows]
    )
    local = fix_file(src, tmp_path / "one.jsonl", bom=True)
    out = tmp_path / ("parts" if partitioned else "dask.jsonl")
    cluster = on_dask.fix(
        str(src), out, bom=True, partitioned=partitioned, client=client, blocksize=BLOCK
    )
    written = (
        b"".join(p.read_bytes() for p in sorted(out.glob("part-*.jsonl")))
        if partitioned
        else out.read_bytes()
    )
    assert written == (tmp_path / "one.jsonl").read_bytes()
    assert cluster.rejects is not None and local.rejects is not None
    assert Path(cluster.rejects).read_bytes() == Path(local.rejects).read_bytes()
    assert (cluster.fixed, cluster.n_written, cluster.n_rejected) == (
        local.fixed,
        local.n_written,
        local.n_rejected,
    )
    assert cluster.fixed["duplicate_example"] >= 15  # copies across partitions were dropped


@pytest.mark.parametrize("partitioned", [False, True])
def test_cli_fix_on_dask_writes_the_local_bytes_and_report(
    partitioned: bool,
    client: Any,
    tmp_path: Path,
    write_lines: WriteLines,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from finetune_kit.cli import app

    monkeypatch.setattr(on_dask, "DEFAULT_BLOCKSIZE", BLOCK)  # the CLI has no --blocksize
    rows: list[Any] = [good_example(i % 7) for i in range(14)]
    src = write_lines([*rows[:5], *thirty_lines(), *rows])
    runner = CliRunner()
    common = ["fix", str(src), "--provider", "azure", "--format", "json"]
    local = runner.invoke(app, [*common, "-o", str(tmp_path / "one.jsonl")])
    out = tmp_path / ("parts" if partitioned else "dask.jsonl")
    dask_args = ["--engine", "dask", "--scheduler", client.scheduler.address]
    cluster = runner.invoke(
        app,
        [*common, "-o", str(out), *dask_args, *(["--partitioned"] if partitioned else [])],
    )
    assert local.exit_code == cluster.exit_code == 1, cluster.output  # lines were rejected
    written = (
        b"".join(p.read_bytes() for p in sorted(out.glob("part-*.jsonl")))
        if partitioned
        else out.read_bytes()
    )
    assert not partitioned or len(list(out.glob("part-*.jsonl"))) > 3
    assert written.startswith(b"\xef\xbb\xbf")
    assert written == (tmp_path / "one.jsonl").read_bytes()
    mine, theirs = json.loads(cluster.stdout), json.loads(local.stdout)
    assert Path(mine.pop("rejects")).read_bytes() == Path(theirs.pop("rejects")).read_bytes()
    del mine["output"], theirs["output"]
    assert mine == theirs
    assert mine["fixed"]["duplicate_example"] >= 5  # copies in later partitions were dropped
    wrong = runner.invoke(app, [*common, "-o", str(out), "--partitioned"])
    assert wrong.exit_code == 2
    assert "--engine dask" in wrong.output


@pytest.mark.parametrize("keep", ["first", "longest"])
def test_cli_near_dedupe_on_dask_gives_the_local_groups_and_kept_lines(
    keep: str, client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dedupe_corpus import make_corpus
    from finetune_kit.cli import app
    from finetune_kit.engines._inputs import source_of

    monkeypatch.setattr(on_dask, "DEFAULT_BLOCKSIZE", 20_000)  # the CLI has no --blocksize
    corpus = make_corpus(80, seed=5)
    src = tmp_path / "train.jsonl"
    src.write_text("".join(json.dumps(e) + "\n" for e in corpus.train), encoding="utf-8")
    n_parts = len(source_of(str(src), 20_000).parts)
    runner = CliRunner()
    common = ["dedupe", str(src), "--near", "--keep", keep, "--format", "json"]
    local = runner.invoke(app, [*common, "-o", str(tmp_path / "one.jsonl")])
    dask_args = ["--engine", "dask", "--scheduler", client.scheduler.address]
    cluster = runner.invoke(app, [*common, "-o", str(tmp_path / "dask.jsonl"), *dask_args])
    assert local.exit_code == cluster.exit_code == 0, cluster.output
    mine, theirs = json.loads(cluster.stdout), json.loads(local.stdout)
    for timing in ("scan_seconds", "group_seconds"):
        del mine["stats"][timing], theirs["stats"][timing]
    assert mine == theirs
    assert (tmp_path / "dask.jsonl").read_bytes() == (tmp_path / "one.jsonl").read_bytes()
    # groups whose lines lie several partitions apart were found
    per_part = len(corpus.train) / n_parts
    assert n_parts >= 4
    assert any(g["lines"][-1] - g["lines"][0] > 2 * per_part for g in mine["groups"])


def test_rules_registered_in_this_process_travel_to_the_workers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import cloudpickle

    from finetune_kit import Rule, Severity
    from finetune_kit.validation import engine

    def shouty(example: Any, ctx: Any) -> list[str]:
        return ["LOUD"] if "!" in json.dumps(example) else []

    monkeypatch.setitem(
        engine._GLOBAL_RULES, "shouty", Rule("shouty", shouty, Severity.WARNING, "calm down")
    )
    validator = Validator(pii="error")
    expected = [(r.code, r.severity) for r in validator.rules]
    shipped = cloudpickle.loads(cloudpickle.dumps(on_dask._portable(validator)))
    monkeypatch.delitem(engine._GLOBAL_RULES, "shouty")  # a worker's registry has no such rule
    assert ("shouty", Severity.WARNING) in expected
    assert ("pii", Severity.ERROR) in expected
    assert [(r.code, r.severity) for r in shipped.rules] == expected
    assert shipped.min_examples == validator.min_examples


def test_cli_partitioned_redact_writes_to_a_url_as_given(
    client: Any, write_lines: WriteLines, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``-o memory://…`` reaches fsspec intact (a Path would make it ``memory:/…``)."""
    import fsspec

    from finetune_kit.cli import app

    monkeypatch.setattr(on_dask, "DEFAULT_BLOCKSIZE", BLOCK)
    rows: list[Any] = [good_example(i) for i in range(12)]
    rows[3]["messages"][1]["content"] = "Write to ana.garcia@example.es, please."
    src = write_lines(rows)
    memory = fsspec.filesystem("memory")
    if memory.exists("/redacted-cli"):
        memory.rm("/redacted-cli", recursive=True)
    result = CliRunner().invoke(
        app,
        [
            "redact", str(src), "-o", "memory://redacted-cli", "--partitioned",
            "--engine", "dask", "--scheduler", client.scheduler.address, "--format", "json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    parts = sorted(p for p in memory.ls("/redacted-cli", detail=False) if "part-" in p)
    assert len(parts) > 1
    written = b"".join(memory.cat_file(p) for p in parts)
    assert written.count(b"\n") == 12
    assert b"ana.garcia@example.es" not in written and b"Write to " in written
