"""Validate, count, redact and deduplicate on a Dask cluster, with one machine's results.

Each function reads its input in partitions (JSONL blocks of whole lines through Dask's own
reader, so any fsspec URL such as ``s3://`` or ``gs://`` works; Parquet files with a
``messages`` column; or a ``dask.bag`` / ``dask.dataframe``), runs the library's own
per-record code on every partition on the workers, and merges the partitions' states in order
exactly as the one-machine byte-range pass merges its ranges. The reports are the
one-machine types, finding for finding: same codes, severities and line numbers, same token
totals, duplicates that span partitions named with their first line.

Several files are one dataset, in the order given (globs and directories sorted): lines are
numbered through them as if the files were one after the other, and ``stats["files"]`` says
where each file starts. A file's own first line keeps the byte-order-mark rules of line 1.

Which cluster: ``client=`` (a ``distributed.Client``), else ``scheduler=`` (an address), else
the default client of the process, else a ``LocalCluster`` sized to the machine that starts
and stops with the call.

Examples:
    >>> from finetune_kit.engines import dask as on_dask
    >>> report = on_dask.validate("train.jsonl")  # doctest: +SKIP
    >>> estimate = on_dask.estimate("s3://bucket/logs/*.jsonl", "gpt-4o-mini")  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any, TypedDict

from finetune_kit.cost.estimator import (
    CostEstimator,
    TrainingEstimate,
    _check_arguments,
    _first_format,
    _merge,
    _OpenCounter,
    _scan,
    _ScanResult,
    _ScanSpec,
)
from finetune_kit.dedupe.core import _config, _report
from finetune_kit.dedupe.core import _scan as _dedupe_scan
from finetune_kit.dedupe.report import DedupeReport
from finetune_kit.dedupe.signature import KeepPolicy, NearConfig
from finetune_kit.engines._cluster import client_for, in_order, part_args, write_out
from finetune_kit.engines._inputs import (
    DEFAULT_BLOCKSIZE,
    Part,
    Source,
    jsonl_bytes,
    lines_of,
    require_dask,
    source_of,
)
from finetune_kit.errors import ConfigError
from finetune_kit.privacy.redaction import RedactionReport, Redactor, _add_part, _redact_to
from finetune_kit.reading import _block_lines, _block_parts, _parsed
from finetune_kit.validation.engine import Method, ValidationReport, Validator
from finetune_kit.validation.fixes import FixReport, _fix_into
from finetune_kit.validation.profiles import ValidationProfile

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from finetune_kit.tokens.chat import ChatTokenizer


class Cluster(TypedDict, total=False):
    """Where and how a function of this module runs (its keyword arguments).

    Attributes:
        client: A ``distributed.Client`` to run on.
        scheduler: The address of a running scheduler (``tcp://host:8786``), when no client
            is given.
        workers: Workers of the ``LocalCluster`` started when there is neither a client, a
            scheduler nor a default client in the process (default: sized to the machine).
        blocksize: Bytes of JSONL per partition (default 64 MiB; ``None``: one per file).
        progress: Show Dask's progress bar while the partitions run.
    """

    client: Any
    scheduler: str | None
    workers: int | None
    blocksize: int | str | None
    progress: bool


__all__ = ["DEFAULT_BLOCKSIZE", "Cluster", "dedupe", "estimate", "fix", "redact", "validate"]

_SUB_BLOCK = 1 << 20  # bytes of a partition redacted at a time, as the one-machine reader does


# -- worker tasks (module-level: workers import them) ---------------------------------------------


@functools.lru_cache(maxsize=8)
def _validation_counter(
    profile: ValidationProfile,
    model: str,
    method: Method | None,
    token_limit: int | None,
    tokenizer: str | None,
) -> Any:
    """The counter ``validate`` uses for ``model``, built once per worker process."""
    counter, _ = Validator(builtin=False, plugins=False, profile=profile)._counter(
        model, method, token_limit, tokenizer
    )
    return counter


@functools.lru_cache(maxsize=8)
def _tiktoken_counter(encoding: str, model: str, limit: int | None) -> Any:
    from finetune_kit.tokens.counting import Tokenizer

    return Tokenizer(encoding, model=model, example_limit=limit, fast=True)


def _counter_of(recipe: tuple[Any, ...] | None) -> Any:
    """A worker's counter from the recipe the driver shipped (tokenizers do not pickle)."""
    if recipe is None:
        return None
    kind, *args = recipe
    if kind == "validate":
        return _validation_counter(*args)
    if kind == "tiktoken":
        return _tiktoken_counter(*args)
    return _OpenCounter(args[0])  # keeps per-partition trainable counts: a fresh one each time


def _scan_part(
    payload: Any,
    part: Part,
    validator: Validator,
    spec: _ScanSpec,
    recipe: tuple[Any, ...] | None,
) -> _ScanResult:
    """Worker: validate (and count) one partition, lines numbered from 1."""
    spec = dataclasses.replace(spec, file=part.file if part.file is not None else spec.file)
    return _scan(
        validator,
        lines_of(payload, part),
        _counter_of(recipe),
        spec,
        track_duplicates=True,
        at_file_start=part.first,
    )


def _format_part(payload: Any, part: Part) -> Any:
    """Worker: the format of a partition's first example (``None`` when it has none)."""
    return _first_format(lines_of(payload, part))


def _sub_blocks(data: bytes) -> Iterator[tuple[bytes, list[bytes]]]:
    """A partition's bytes in blocks of about 1 MiB of whole lines (see `_iter_blocks`)."""
    start, size = 0, len(data)
    while start < size:
        cut = data.find(b"\n", min(start + _SUB_BLOCK, size) - 1)
        end = size if cut < 0 else cut + 1
        block = data[start:end]
        yield block, _block_parts(block)
        start = end


def _redact_work(
    out: IO[bytes], payload: Any, part: Part, args: tuple[Any, ...], max_findings: int
) -> tuple[RedactionReport, list[tuple[Any, ...]]]:
    """Worker: redact one partition into ``out``."""
    data = jsonl_bytes(payload, part)
    partial, found = _redact_to(_sub_blocks(data), out, args, max_findings)
    partial.bytes_read = len(data)
    return partial, found


def _dedupe_part(payload: Any, part: Part, config: NearConfig | None) -> Any:
    """Worker: the duplicate-search state of one partition."""
    return _dedupe_scan(lines_of(payload, part), config)


def _kept_work(out: IO[bytes], payload: Any, part: Part, dropped: frozenset[int]) -> int:
    """Worker: write a partition's lines except the dropped copies; returns lines written."""
    from finetune_kit.reading import _block_lines

    written = 0
    for number, body in enumerate(_block_lines(jsonl_bytes(payload, part)), 1):
        if number not in dropped:
            out.write(body + b"\n")
            written += 1
    return written


def _fix_lines(payload: Any, part: Part, first_line: int = 1) -> Iterator[Any]:
    return _parsed(_block_lines(jsonl_bytes(payload, part)), first_line)


def _fix_format_part(payload: Any, part: Part) -> Any:
    """Worker: the format of a partition's first example once the safe fixes are applied."""
    from finetune_kit.validation.fixes import _safe_lines

    return _first_format(_safe_lines(_fix_lines(payload, part), FixReport("", "", None), {}))


def _fix_seen_part(
    payload: Any, part: Part, validator: Validator, method: Method | None, fmt: Any
) -> tuple[dict[bytes, int], int]:
    """Worker, first pass of ``fix``: the partition's first-seen digests and its line count."""
    from pathlib import Path

    n_lines = 0

    def counted() -> Iterator[Any]:
        nonlocal n_lines
        for line in _fix_lines(payload, part):
            n_lines += 1
            yield line

    with Path(os.devnull).open("wb") as sink:
        state = _fix_into(
            validator,
            counted(),
            sink,
            sink,
            FixReport("", "", None),
            method=method,
            bom=False,
            expected_format=fmt,
        )
    return state.seen, n_lines


def _fix_work(
    out: IO[bytes],
    payload: Any,
    part: Part,
    validator: Validator,
    method: Method | None,
    fmt: Any,
    first_line: int,
    later_copies: dict[int, int],
    bom: bool,
) -> tuple[FixReport, bytes]:
    """Worker, second pass of ``fix``: write the partition's good lines; its rejects as bytes."""
    import io

    report = FixReport("", "", None)
    rejects = io.BytesIO()
    _fix_into(
        validator,
        _fix_lines(payload, part, first_line),
        out,
        rejects,
        report,
        method=method,
        bom=bom,
        expected_format=fmt,
        later_copies=later_copies,
    )
    return report, rejects.getvalue()


def _task(func: Any, *args: Any) -> Any:
    from dask.delayed import delayed

    return delayed(func, pure=False)(*args)


# -- the driver ---------------------------------------------------------------------------------


def _client(cluster: Cluster) -> Any:
    return client_for(cluster.get("client"), cluster.get("scheduler"), cluster.get("workers"))


def _progress(cluster: Cluster) -> bool:
    return bool(cluster.get("progress", False))


def _portable(validator: Validator) -> Validator:
    """The validator with its rules resolved here, as the workers must run them.

    Rules registered in this process (``@rule``, a validator's own) and plugin rules exist
    only where they were registered: a worker that unpickled the validator would rebuild its
    rule list from its own registries. The resolved list travels instead (functions by
    reference, or by value when defined in a script).
    """
    return Validator(
        validator.rules,
        builtin=False,
        plugins=False,
        min_examples=validator.min_examples,
        pii=validator.pii,
        profile=validator.profile,
    )


def _expected_format(
    client: Any, src: Source, method: Method | None, task: Any = _format_part
) -> Any:
    """The format a single pass would settle on: the method's, else the first example's."""
    if method is not None:
        return None  # the scan takes it from the method
    for payload, part in zip(src.payloads, src.parts, strict=True):
        fmt = client.compute(_task(task, payload, part)).result()
        if fmt is not None:
            return fmt
    return None


def _scan_all(
    client: Any,
    src: Source,
    validator: Validator,
    spec: _ScanSpec,
    recipe: tuple[Any, ...] | None,
    progress: bool,
) -> tuple[_ScanResult, list[int]]:
    """Scan every partition on the cluster; the merged result and each partition's lines."""
    tasks = [
        _task(_scan_part, payload, part, validator, spec, recipe)
        for payload, part in zip(src.payloads, src.parts, strict=True)
    ]
    lines: list[int] = []

    def results() -> Iterator[_ScanResult]:
        for res in in_order(client, tasks, progress):
            lines.append(res.state.n_lines)
            yield res

    return _merge(results()), lines


def _files_stats(src: Source, lines: Sequence[int]) -> list[dict[str, Any]]:
    """Where each file of a many-file input starts in the line numbering, and its lines."""
    out: list[dict[str, Any]] = []
    first = 1
    for part, n in zip(src.parts, lines, strict=True):
        if part.first or not out:
            out.append({"file": part.file, "first_line": first, "n_lines": 0})
        out[-1]["n_lines"] += n
        first += n
    return out


def _with_files(stats: dict[str, Any], src: Source, lines: Sequence[int]) -> dict[str, Any]:
    if len(src.files) > 1:
        return {**stats, "files": _files_stats(src, lines)}
    return stats


def validate(
    source: Any,
    *,
    model: str | None = None,
    method: Method | None = None,
    token_limit: int | None = None,
    tokenizer: str | os.PathLike[str] | None = None,
    validator: Validator | None = None,
    **cluster: Unpack[Cluster],
) -> ValidationReport:
    """Validate on a Dask cluster: the report [`validate`][finetune_kit.validate] gives.

    Args:
        source: JSONL or Parquet paths, globs, directories or fsspec URLs (one or a list), a
            ``dask.bag`` of examples or JSONL strings, or a ``dask.dataframe`` whose columns
            are the examples' keys (``messages``, ...).
        model: The base model; enables the per-example token-limit check.
        method: ``supervised`` or ``dpo``.
        token_limit: Override the per-example token limit.
        tokenizer: A Hugging Face tokenizer for ``model`` (folder, file or hub id).
        validator: The [`Validator`][finetune_kit.Validator] (default: built-in, registered
            and plugin rules); it is pickled to the workers.
        **cluster: Where and how it runs (see [`Cluster`][finetune_kit.engines.dask.Cluster]).

    Returns:
        The [`ValidationReport`][finetune_kit.ValidationReport]; with several files its
        ``stats["files"]`` lists each file's first line and line count.

    Raises:
        ConfigError: Dask is missing, the scheduler cannot be reached, or a bad argument.
        DataError: A file does not exist or cannot be read.
    """
    require_dask()
    v = validator if validator is not None else Validator()
    tok = os.fspath(tokenizer) if tokenizer is not None else None
    _, limit = v._counter(model, method, token_limit, tok)  # bad models fail here, not on workers
    recipe = None if model is None else ("validate", v.profile, model, method, token_limit, tok)
    src = source_of(source, cluster.get("blocksize", DEFAULT_BLOCKSIZE))
    with _client(cluster) as c:
        spec = _ScanSpec(model, method, _expected_format(c, src, method), src.label, limit)
        merged, lines = _scan_all(c, src, _portable(v), spec, recipe, _progress(cluster))
    findings = v._size_findings(src.size) if src.size is not None else []
    findings += [*merged.findings, *v.finish(merged.state)]
    stats = _with_files(merged.state.stats(), src, lines)
    return ValidationReport(findings=findings, stats=stats, source=src.label)


def estimate(
    source: Any,
    model: str,
    n_epochs: int | None = None,
    method: Method | None = "supervised",
    *,
    estimator: CostEstimator | None = None,
    training_per_1m: Decimal | float | str | None = None,
    token_limit: int | None = None,
    today: Any = None,
    lifecycle: bool = True,
    tokenizer: str | os.PathLike[str] | ChatTokenizer | None = None,
    **cluster: Unpack[Cluster],
) -> TrainingEstimate:
    """Validate, count and price on a Dask cluster: what ``estimate_training`` gives.

    Args:
        source: What to read (see [`validate`][finetune_kit.engines.dask.validate]).
        model: The base model.
        n_epochs: Epochs to price (default: OpenAI's rule by size).
        method: ``supervised`` or ``dpo``; ``None`` accepts the first example's format.
        estimator: The [`CostEstimator`][finetune_kit.CostEstimator] (prices, validator).
        training_per_1m: Override the training price (USD per 1M tokens).
        token_limit: Override the per-example token limit.
        today: The day wind-down dates are judged on.
        lifecycle: Add the lifecycle findings.
        tokenizer: A Hugging Face tokenizer or a ready chat tokenizer for ``model``.
        **cluster: Where and how it runs (see [`Cluster`][finetune_kit.engines.dask.Cluster]).

    Returns:
        The [`TrainingEstimate`][finetune_kit.TrainingEstimate]; with several files its
        ``stats["files"]`` lists each file's first line and line count.

    Raises:
        ConfigError: Dask is missing, bad arguments, no training price.
        UnknownModelError: The model is not in the price table.
        DataError: A file does not exist or cannot be read.
    """
    require_dask()
    est = estimator if estimator is not None else CostEstimator()
    _check_arguments(n_epochs, None, token_limit)
    prep = est._plan(model, method, training_per_1m, token_limit, tokenizer)
    recipe: tuple[Any, ...]
    if prep.chat is None:
        assert not isinstance(prep.counter, _OpenCounter)
        recipe = ("tiktoken", prep.counter.encoding_name, model, prep.limit)
    else:
        recipe = ("open", prep.chat)
    src = source_of(source, cluster.get("blocksize", DEFAULT_BLOCKSIZE))
    with _client(cluster) as c:
        spec = _ScanSpec(model, method, _expected_format(c, src, method), src.label, prep.limit)
        merged, lines = _scan_all(
            c, src, _portable(est.validator), spec, recipe, _progress(cluster)
        )
    result = est._priced(prep, merged, model, method, n_epochs, today, lifecycle, src.label)
    if len(src.files) > 1:
        result = dataclasses.replace(result, stats=_with_files(dict(result.stats), src, lines))
    return result


def redact(
    source: Any,
    output: str | os.PathLike[str],
    *,
    strategy: str = "mask",
    kinds: Iterable[str] | str | None = None,
    secret: str | bytes | None = None,
    region: str | None = None,
    redactor: Redactor | None = None,
    partitioned: bool = False,
    max_findings: int = 1000,
    **cluster: Unpack[Cluster],
) -> RedactionReport:
    """Redact on a Dask cluster: the output and report of [`redact_file`][finetune_kit.redact_file].

    Args:
        source: What to read (see [`validate`][finetune_kit.engines.dask.validate]); records
            of a collection or Parquet file are written as one JSON object per line.
        output: One ordered file (a local path), or with ``partitioned`` a folder or URL that
            gets ``part-00000.jsonl``, ... (concatenated, they are the ordered file).
        strategy: ``mask``, ``pseudonym`` or ``drop`` (ignored when ``redactor`` is given).
        kinds: Which detectors to run (ignored when ``redactor`` is given).
        secret: Pseudonym secret (ignored when ``redactor`` is given).
        region: Default region for phone numbers (ignored when ``redactor`` is given).
        redactor: A ready [`Redactor`][finetune_kit.Redactor] (built-in detectors only).
        partitioned: Write a part file per partition instead of one ordered file.
        max_findings: How many findings (masked) the report keeps; counts are complete.
        **cluster: Where and how it runs (see [`Cluster`][finetune_kit.engines.dask.Cluster]).

    Returns:
        The [`RedactionReport`][finetune_kit.privacy.redaction.RedactionReport].

    Raises:
        ConfigError: Dask is missing, user-registered detectors (workers do not have them),
            or bad arguments.
        DataError: A file cannot be read, or the output cannot be written; nothing is left at
            the output then.
    """
    require_dask()
    red = redactor or Redactor(strategy, kinds=kinds, secret=secret, region=region)
    if not all(d.builtin for d in red.detectors):
        raise ConfigError(
            "the Dask engine runs the built-in detectors only (workers do not have detectors "
            "registered in this process)",
            hint="redact on one machine (redact_file) or pass only built-in kinds",
        )
    src = source_of(source, cluster.get("blocksize", DEFAULT_BLOCKSIZE))
    if src.files and os.fspath(output) in src.files:
        raise ConfigError(
            "refusing to overwrite the input file", file=os.fspath(output), hint="write elsewhere"
        )
    started = time.perf_counter()
    report = RedactionReport(
        strategy=red.strategy, kinds=red.codes, input_path=src.label, output_path=str(output)
    )
    with _client(cluster) as c:
        inputs = part_args(src.payloads, src.parts, red._args, max_findings)
        values = write_out(
            c, _redact_work, inputs, output, partitioned=partitioned, progress=_progress(cluster)
        )
    for partial, found in values:
        _add_part(report, partial, found, max_findings)
        report.bytes_read += partial.bytes_read
    report.seconds = time.perf_counter() - started
    return report


def dedupe(
    source: Any,
    output: str | os.PathLike[str] | None = None,
    *,
    near: bool = False,
    threshold: float | None = None,
    config: NearConfig | None = None,
    keep: KeepPolicy = "first",
    partitioned: bool = False,
    **cluster: Unpack[Cluster],
) -> DedupeReport:
    """Find duplicates on a Dask cluster, as [`find_duplicates`][finetune_kit.find_duplicates] does.

    Exact duplicates by default (the validation engine's digest), near-duplicates with
    ``near``; a copy in a later partition names the first line of its example wherever it is.

    Args:
        source: What to read (see [`validate`][finetune_kit.engines.dask.validate]).
        output: Where the kept lines go, as [`dedupe_file`][finetune_kit.dedupe_file] writes
            them (``None``: only report); a local file, or with ``partitioned`` a folder or URL.
        near: Near-duplicates instead of exact ones (needs the ``dedupe`` extra).
        threshold: Near-duplicate threshold (default 0.8).
        config: Near-duplicate settings.
        keep: ``first``, ``longest`` or ``weight`` (near-duplicates).
        partitioned: Write a part file per partition instead of one ordered file.
        **cluster: Where and how it runs (see [`Cluster`][finetune_kit.engines.dask.Cluster]).

    Returns:
        The [`DedupeReport`][finetune_kit.DedupeReport].

    Raises:
        ConfigError: Dask is missing or bad settings.
        DataError: A file cannot be read or the output cannot be written.
    """
    require_dask()
    if keep not in ("first", "longest", "weight"):
        raise ConfigError(f"keep must be one of first, longest, weight, not {keep!r}")
    cfg = _config(near, threshold, config)
    src = source_of(source, cluster.get("blocksize", DEFAULT_BLOCKSIZE))
    started = time.perf_counter()
    with _client(cluster) as c:
        tasks = [
            _task(_dedupe_part, payload, part, cfg)
            for payload, part in zip(src.payloads, src.parts, strict=True)
        ]
        merged: Any = None
        lines: list[int] = []
        for state in in_order(c, tasks, _progress(cluster)):
            lines.append(state.n_lines)
            if merged is None:
                merged = state
            else:
                merged.merge(state, line_offset=merged.n_lines)
        if merged is None:
            merged = _dedupe_scan([], cfg)
        report = _report(merged, None, cfg, keep, started, source=src.label, validation_source=None)
        if output is not None:
            dropped = report.dropped_lines
            inputs = []
            offset = 0
            for (payload, part), n in zip(
                zip(src.payloads, src.parts, strict=True), lines, strict=True
            ):
                local = frozenset(d - offset for d in dropped if offset < d <= offset + n)
                inputs.append((payload, part, local))
                offset += n
            write_out(
                c, _kept_work, inputs, output, partitioned=partitioned, progress=_progress(cluster)
            )
    if len(src.files) > 1:
        report.stats["files"] = _files_stats(src, lines)
    return report


def fix(
    source: Any,
    output: str | os.PathLike[str],
    *,
    rejects: str | os.PathLike[str] | None = None,
    method: Method | None = None,
    validator: Validator | None = None,
    bom: bool = False,
    partitioned: bool = False,
    **cluster: Unpack[Cluster],
) -> FixReport:
    """Apply the safe fixes on a Dask cluster: what [`fix_file`][finetune_kit.fix_file] writes.

    Two passes: the first finds each example's first line across partitions, the second
    writes every partition's good lines (a copy of an example of an earlier partition is
    dropped, as one pass over the file drops it) and collects the rejects.

    Args:
        source: What to read (see [`validate`][finetune_kit.engines.dask.validate]).
        output: The fixed file (local), or with ``partitioned`` a folder or URL of part files.
        rejects: Where lines that still have errors go (default: ``OUTPUT.rejects.jsonl``
            beside a file, ``rejects.jsonl`` in a folder; written only when a line is
            rejected). A local path.
        method: ``supervised`` or ``dpo``.
        validator: A validator with custom rules (default: built-in rules only).
        bom: Start the output with a UTF-8 byte-order mark (Azure OpenAI); with
            ``partitioned``, the first part starts with it when it holds a line.
        partitioned: Write a part file per partition instead of one ordered file.
        **cluster: Where and how it runs (see [`Cluster`][finetune_kit.engines.dask.Cluster]).

    Returns:
        The [`FixReport`][finetune_kit.FixReport].

    Raises:
        ConfigError: Dask is missing, or an output would overwrite the input.
        DataError: A file cannot be read or written; a failed run leaves no output file.
    """
    from pathlib import Path

    from finetune_kit._io import atomic_write
    from finetune_kit.validation.engine import _FileState

    require_dask()
    engine = _portable(validator if validator is not None else Validator(plugins=False))
    src = source_of(source, cluster.get("blocksize", DEFAULT_BLOCKSIZE))
    dest = os.fspath(output)
    if rejects is not None:
        rej = Path(rejects)
    elif partitioned:
        rej = Path(dest) / "rejects.jsonl"
    else:
        rej = Path(dest).with_name(Path(dest).stem + ".rejects.jsonl")
    if any(str(t) in src.files for t in (dest, rej)):
        raise ConfigError("refusing to overwrite the input file", file=dest, hint="write elsewhere")
    report = FixReport(src.label or "(collection)", dest, str(rej))
    with _client(cluster) as c:
        fmt = _expected_format(c, src, method, _fix_format_part)
        first_pass = [
            _task(_fix_seen_part, payload, part, engine, method, fmt)
            for payload, part in zip(src.payloads, src.parts, strict=True)
        ]
        seen: dict[bytes, int] = {}
        inputs = []
        offset = 0
        for (payload, part), (local_seen, n_lines) in zip(
            zip(src.payloads, src.parts, strict=True), in_order(c, first_pass), strict=True
        ):
            copies: dict[int, int] = {}
            for digest, line in local_seen.items():
                first = seen.get(digest)
                if first is None:
                    seen[digest] = line + offset
                else:
                    copies[line + offset] = first
            inputs.append(
                (payload, part, engine, method, fmt, offset + 1, copies, bom and not offset)
            )
            offset += n_lines
        del seen
        values = write_out(
            c, _fix_work, inputs, output, partitioned=partitioned, progress=_progress(cluster)
        )
    bad = [data for _, data in values if data]
    for partial, _ in values:
        report.fixed.update(partial.fixed)
        report.n_written += partial.n_written
        report.n_rejected += partial.n_rejected
    if bad or rejects is not None:
        with atomic_write(rej, binary=True) as fh:
            for data in bad:
                fh.write(data)
    else:
        report.rejects = None
    report.file_findings = engine.finish(_FileState(n_examples=report.n_written))
    return report
