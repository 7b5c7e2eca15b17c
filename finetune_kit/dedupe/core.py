"""Find exact or near-duplicate examples in a file or in memory, and leaks into validation.

One streaming pass per file keeps a compact state per example (never its text); big files are
split into byte ranges that a process pool reads in parallel, the states are merged in file
order, then grouped once (see [`index`][finetune_kit.dedupe.index]).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from finetune_kit._io import atomic_write
from finetune_kit.dedupe.index import (
    ExactIndex,
    NearIndex,
    RawGroup,
    RawLeak,
    _give_back,
    group_exact,
    group_near,
)
from finetune_kit.dedupe.report import DedupeReport, DedupeSavings, DuplicateGroup, ValidationLeak
from finetune_kit.dedupe.signature import (
    KeepPolicy,
    NearConfig,
    _rensa,
    example_weight,
    example_words,
    signature_of_words,
)
from finetune_kit.errors import ConfigError, DataError
from finetune_kit.reading import Line, _iter_raw_lines, iter_jsonl, split_ranges
from finetune_kit.validation.engine import (
    Finding,
    ValidationReport,
    _example_digest,
    _finding,
)

if TYPE_CHECKING:
    from finetune_kit.cost.estimator import CostEstimator, TrainingEstimate

__all__ = ["dedupe_file", "find_duplicates", "near_findings", "with_near_findings"]

PARALLEL_MIN_BYTES = 4 * 1024 * 1024
"""Files at least this big are read by a process pool (smaller ones in-process)."""
_CHUNK_BYTES = 8 * 1024 * 1024
_KEEP = ("first", "longest", "weight")

Records: TypeAlias = "str | os.PathLike[str] | Iterable[Any]"
"""A JSONL path, or examples (typed, with ``to_dict``, or dicts)."""

_Index: TypeAlias = "NearIndex | ExactIndex"


def _scan(lines: Iterable[Line], config: NearConfig | None) -> _Index:
    """Build the state of one stream of lines (line numbers as given)."""
    if config is None:
        exact = ExactIndex()
        for line in lines:
            exact.n_lines += 1
            if isinstance(line.value, dict):
                exact.n_examples += 1
                exact.add(line.number, _example_digest(line.value))
        return exact
    near = NearIndex(config)
    for line in lines:
        near.n_lines += 1
        obj = line.value
        if not isinstance(obj, dict):
            continue
        near.n_examples += 1
        words = example_words(obj, config)
        signature = signature_of_words(words, config)
        if signature is None:
            near.n_without_text += 1
            continue
        near.add(line.number, signature, len(words), example_weight(obj))
    return near


def _scan_range(path: str, start: int, end: int, config: NearConfig | None) -> _Index:
    return _scan(iter_jsonl(path, start=start, end=end), config)


def _object_lines(items: Iterable[Any]) -> Iterator[Line]:
    for i, item in enumerate(items):
        value = item.to_dict() if hasattr(item, "to_dict") else item
        yield Line(i + 1, b"", dict(value) if isinstance(value, Mapping) else value, None)


def _check_file(path: Path) -> int:
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise DataError("file not found", file=path, hint="check the path") from exc
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror}", file=path) from exc
    if path.is_dir():
        raise DataError("is a directory, not a file", file=path)
    return size


def _state(data: Records, config: NearConfig | None, jobs: int | None) -> _Index:
    if not isinstance(data, str | os.PathLike):
        return _scan(_object_lines(data), config)
    path = Path(data)
    size = _check_file(path)
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if workers <= 1 or size < PARALLEL_MIN_BYTES:
        return _scan(iter_jsonl(path), config)
    n_parts = workers * max(1, math.ceil(size / (_CHUNK_BYTES * workers)))
    ranges = split_ranges(path, n_parts)
    with ProcessPoolExecutor(max_workers=min(workers, len(ranges))) as pool:
        futures = [pool.submit(_scan_range, str(path), s, e, config) for s, e in ranges]
        futures.reverse()
        merged = futures.pop().result()
        while futures:  # drop each range's state once merged: memory holds one copy
            part = futures.pop().result()
            merged.merge(part, line_offset=merged.n_lines)  # type: ignore[arg-type]
            del part
    _give_back()  # the unpickled range states are gone: hand their pages back
    return merged


def _kept_objects(data: Records, dropped: set[int]) -> Iterator[Any]:
    lines = iter_jsonl(data) if isinstance(data, str | os.PathLike) else _object_lines(data)
    for line in lines:
        if line.number not in dropped and line.value is not None:
            yield line.value


def find_duplicates(
    data: Records,
    *,
    near: bool = False,
    threshold: float | None = None,
    keep: KeepPolicy = "first",
    validation: Records | None = None,
    config: NearConfig | None = None,
    model: str | None = None,
    n_epochs: int | None = None,
    estimator: CostEstimator | None = None,
    jobs: int | None = None,
) -> DedupeReport:
    """Find groups of duplicate examples and validation examples that copy training ones.

    Args:
        data: Training examples: a JSONL path, or examples (a
            [`Dataset`][finetune_kit.Dataset], typed examples or dicts; line numbers are then
            row index + 1).
        near: Near-duplicates (MinHash + LSH over the conversation's word shingles); without
            it, exact duplicates (the validation engine's ``duplicate_example`` digest).
        threshold: Near-duplicate similarity threshold (default
            [`DEFAULT_THRESHOLD`][finetune_kit.dedupe.DEFAULT_THRESHOLD], 0.8).
        keep: The example kept in a group: ``first``, ``longest`` or ``weight`` (most trained
            assistant messages); ties go to the first. Exact copies always keep the first.
        validation: Validation examples (path or examples), to find leaks.
        config: Near-duplicate settings (shingle size, signature size, bands, system prompt,
            roles); ``threshold`` overrides its threshold.
        model: Price the saving for this model: the report's ``savings`` then holds a training
            estimate of the input and one of the kept examples.
        n_epochs: Epochs to price (default: the estimator's default for each side's size).
        estimator: The [`CostEstimator`][finetune_kit.CostEstimator] (default: a new one).
        jobs: Worker processes for big files (default: one per core; 1 = no pool).

    Returns:
        The [`DedupeReport`][finetune_kit.DedupeReport].

    Raises:
        ConfigError: Bad settings, or near-duplicates without the ``dedupe`` extra.
        DataError: A file cannot be read.
    """
    if keep not in _KEEP:
        raise ConfigError(f"keep must be one of {', '.join(_KEEP)}, not {keep!r}")
    if jobs is not None and jobs < 1:
        raise ConfigError(f"jobs must be at least 1, not {jobs}")
    cfg = _config(near, threshold, config)
    started = time.perf_counter()
    if not isinstance(data, str | os.PathLike):
        data = list(data)  # read twice (scan, then the kept examples)
    state = _state(data, cfg, jobs)
    v_state = _state(validation, cfg, jobs) if validation is not None else None
    report = _report(
        state,
        v_state,
        cfg,
        keep,
        started,
        source=str(data) if isinstance(data, str | os.PathLike) else None,
        validation_source=(
            str(validation)
            if isinstance(validation, str | os.PathLike)
            else ("(in memory)" if validation is not None else None)
        ),
    )
    if model is not None:
        dropped = report.dropped_lines
        before = _estimate(estimator, data, model, n_epochs, jobs)
        after = _estimate(estimator, _kept_objects(data, dropped), model, n_epochs, jobs)
        report.savings = DedupeSavings(before, after)
    return report


def _config(near: bool, threshold: float | None, config: NearConfig | None) -> NearConfig | None:
    """The near-duplicate settings asked for (``None``: exact duplicates)."""
    cfg: NearConfig | None = None
    if near:
        base = config if config is not None else NearConfig()
        cfg = base if threshold is None else NearConfig(**{**base.__dict__, "threshold": threshold})
        _rensa()
    elif threshold is not None or config is not None:
        raise ConfigError("threshold and config apply to near-duplicates", hint="add near=True")
    return cfg


def _report(
    state: _Index,
    v_state: _Index | None,
    cfg: NearConfig | None,
    keep: KeepPolicy,
    started: float,
    *,
    source: str | None,
    validation_source: str | None,
) -> DedupeReport:
    """Group a finished (merged) state and report it; ``started``: when the scan began."""
    scanned = time.perf_counter()
    raw: tuple[list[RawGroup], list[RawLeak], Any]
    if isinstance(state, NearIndex):
        assert v_state is None or isinstance(v_state, NearIndex)
        raw = group_near(state, v_state, keep)
    else:
        assert v_state is None or isinstance(v_state, ExactIndex)
        raw = group_exact(state, v_state)
    groups = [DuplicateGroup(g.lines, g.kept, g.similarity) for g in raw[0]]
    leaks = [ValidationLeak(x.line, x.validation_line, x.similarity) for x in raw[1]]
    work = raw[2]
    n_dropped = sum(len(g.lines) - 1 for g in groups)
    stats: dict[str, Any] = {
        "mode": "near" if cfg is not None else "exact",
        "threshold": cfg.threshold if cfg is not None else 1.0,
        "keep": keep if cfg is not None else "first",
        "n_lines": state.n_lines,
        "examples_in": state.n_examples,
        "examples_out": state.n_examples - n_dropped,
        "examples_removed": n_dropped,
        "n_groups": len(groups),
        "examples_without_text": state.n_without_text,
        "n_leaks": len(leaks),
        "validation_examples": v_state.n_examples if v_state is not None else None,
        "candidate_pairs": work.candidate_pairs,
        "similar_pairs": work.similar_pairs,
        "large_buckets": work.large_buckets,
        "scan_seconds": round(scanned - started, 3),
        "group_seconds": round(time.perf_counter() - scanned, 3),
    }
    if cfg is not None:
        stats |= {
            "shingle": cfg.shingle,
            "num_perm": cfg.num_perm,
            "bands": cfg.bands,
            "system": cfg.system,
            "roles": cfg.roles,
        }
    return DedupeReport(groups, leaks, stats, source=source, validation_source=validation_source)


def _estimate(
    estimator: CostEstimator | None,
    data: Any,
    model: str,
    n_epochs: int | None,
    jobs: int | None,
) -> TrainingEstimate:
    from finetune_kit.cost.estimator import CostEstimator

    est = estimator if estimator is not None else CostEstimator()
    return est.estimate_training(data, model, n_epochs, method=None, jobs=jobs, lifecycle=False)


def dedupe_file(
    path: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    *,
    near: bool = False,
    threshold: float | None = None,
    keep: KeepPolicy = "first",
    validation: str | os.PathLike[str] | None = None,
    config: NearConfig | None = None,
    model: str | None = None,
    n_epochs: int | None = None,
    estimator: CostEstimator | None = None,
    jobs: int | None = None,
) -> DedupeReport:
    r"""Find the duplicates of a JSONL file and write the kept lines, in order, atomically.

    Every line that is not a dropped copy is written byte for byte (line endings become
    ``\\n``), lines that are not examples included: nothing is dropped silently.

    Args:
        path: The training file.
        output: Where the kept lines go (``None``: only report).
        near: Near-duplicates instead of exact ones.
        threshold: Near-duplicate threshold (default 0.8).
        keep: ``first``, ``longest`` or ``weight``.
        validation: A validation file, to find leaks.
        config: Near-duplicate settings.
        model: Price the saving for this model (after = the written file when there is one).
        n_epochs: Epochs to price.
        estimator: The cost estimator.
        jobs: Worker processes for big files.

    Returns:
        The [`DedupeReport`][finetune_kit.DedupeReport].

    Raises:
        DataError: A file cannot be read or written, or ``output`` is the input.
        ConfigError: Bad settings.
    """
    src = Path(path)
    if output is not None and Path(output).exists() and Path(output).resolve() == src.resolve():
        raise DataError(
            "refusing to overwrite the input file", file=src, hint="choose another output"
        )
    report = find_duplicates(
        src,
        near=near,
        threshold=threshold,
        keep=keep,
        validation=validation,
        config=config,
        jobs=jobs,
    )
    if output is not None:
        dropped = report.dropped_lines
        with atomic_write(output, binary=True) as fh:
            for number, raw in enumerate(_iter_raw_lines(src), 1):
                if number not in dropped:
                    fh.write(raw + b"\n")
    if model is not None:
        before = _estimate(estimator, src, model, n_epochs, jobs)
        kept: Any = Path(output) if output is not None else _kept_objects(src, report.dropped_lines)
        after = _estimate(estimator, kept, model, n_epochs, jobs)
        report.savings = DedupeSavings(before, after)
    return report


# -- validation findings ----------------------------------------------------------------------


def near_findings(report: DedupeReport) -> list[Finding]:
    """The report as validation findings (warnings).

    ``near_duplicate`` on each dropped line of a group, ``validation_leak`` on each training
    line a validation example copies.

    Args:
        report: A near-duplicate report (with a validation source for leaks).

    Returns:
        Warnings in line order.
    """
    out: list[Finding] = []
    for g in report.groups:
        for line in g.dropped:
            out.append(
                _finding(
                    "near_duplicate",
                    f"near-duplicate of line {g.kept} (group of {len(g.lines)}, similarity "
                    f"at least {g.similarity:.2f})",
                    line,
                )
            )
    where = report.validation_source or "the validation data"
    for leak in report.leaks:
        out.append(
            _finding(
                "validation_leak",
                f"line {leak.validation_line} of {where} copies this example (similarity "
                f"{leak.similarity:.2f}): the validation loss measures memory, not learning",
                leak.line,
            )
        )
    out.sort(key=lambda f: f.line or 0)
    return out


def with_near_findings(validation: ValidationReport, report: DedupeReport) -> ValidationReport:
    """A validation report with the near-duplicate and leak warnings of ``report`` added.

    A line that already has a ``duplicate_example`` finding (an exact copy) gets no
    ``near_duplicate`` warning as well. The validation engine knows nothing of near-duplicates
    (it sits below this package); callers such as ``finetune-kit validate --near`` combine the
    two here.

    Args:
        validation: The report of the training file.
        report: Its near-duplicate report.

    Returns:
        A new report; ``stats`` gains ``n_near_duplicates`` and ``n_validation_leaks``.
    """
    exact = {f.line for f in validation.findings if f.code == "duplicate_example"}
    extra = [
        f for f in near_findings(report) if not (f.code == "near_duplicate" and f.line in exact)
    ]
    findings = sorted(
        [*validation.findings, *extra], key=lambda f: f.line if f.line is not None else math.inf
    )
    stats = {
        **validation.stats,
        "n_near_duplicates": sum(1 for f in extra if f.code == "near_duplicate"),
        "n_validation_leaks": sum(1 for f in extra if f.code == "validation_leak"),
    }
    return ValidationReport(findings=findings, stats=stats, source=validation.source)
