"""What the Dask engine reads: partitions of JSONL files, Parquet files or Dask collections.

Every input becomes an ordered list of partitions. A JSONL partition is a block of whole lines
read by Dask's own reader (``dask.bytes.read_bytes``, any fsspec URL); a Parquet, bag or data
frame partition is a list of records. [`lines_of`][finetune_kit.engines._inputs.lines_of]
turns a partition into numbered [`Line`][finetune_kit.Line]s, from 1 in each partition, as a
byte range of the one-machine pass is numbered; the merge shifts them.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from finetune_kit.errors import ConfigError, DataError
from finetune_kit.reading import Line, _block_lines, _parsed, parse_line

__all__ = ["DEFAULT_BLOCKSIZE", "Part", "Source", "lines_of", "source_of"]

DEFAULT_BLOCKSIZE = "64 MiB"
"""Bytes of JSONL per partition (whole lines; a file smaller than this is one partition)."""

_JSONL = (".jsonl", ".jsonl.gz", ".json", ".ndjson")
_PARQUET = (".parquet", ".pq")
EXTRA_HINT = "install the extra: pip install 'finetune-kit[dask]'"


def require_dask() -> None:
    """Raise a clear error when Dask (the ``dask`` extra) is not installed."""
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            f"the Dask engine needs dask and distributed ({exc.name} is missing)",
            hint=EXTRA_HINT,
        ) from exc


@dataclass(frozen=True)
class Part:
    """One partition and where it sits.

    Attributes:
        file: The file it belongs to (``None`` for a Dask collection).
        first: It starts at its file's first line (the byte-order-mark rules of line 1).
        kind: ``bytes`` (a block of JSONL lines) or ``records`` (a list of values or a frame).
    """

    file: str | None
    first: bool
    kind: str


@dataclass
class Source:
    """An input as ordered partitions.

    Attributes:
        payloads: One Dask ``Delayed`` per partition, in order.
        parts: What each partition is.
        files: The files read, in order (empty for a collection).
        label: The report's ``source``: the path or pattern given, ``None`` for a collection.
        size: The file's size in bytes when the input is one file, else ``None``.
    """

    payloads: list[Any]
    parts: list[Part]
    files: list[str] = field(default_factory=list)
    label: str | None = None
    size: int | None = None

    @property
    def jsonl(self) -> bool:
        """True when the partitions are blocks of JSONL lines."""
        return all(p.kind == "bytes" for p in self.parts)


def _expand(source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[str]:
    """Every file named by paths, globs, directories or URLs, in order (globs sorted)."""
    import fsspec.core

    items = [source] if isinstance(source, str | os.PathLike) else list(source)
    if not items:
        raise ConfigError("no input given", hint="pass a file, a glob, a directory or a URL")
    out: list[str] = []
    for item in items:
        url = os.fspath(item)
        fs, _, paths = fsspec.core.get_fs_token_paths(url)
        if not paths:
            raise DataError("no file matches", file=url, hint="check the path or the pattern")
        local = "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))
        for path in paths:
            if fs.isdir(path):
                found = sorted(p for p in fs.find(path) if p.endswith(_JSONL + _PARQUET))
                if not found:
                    raise DataError(
                        "the directory holds no .jsonl or .parquet file", file=url, hint=""
                    )
                out.extend(p if local else fs.unstrip_protocol(p) for p in found)
            elif not fs.exists(path):
                raise DataError("file not found", file=url, hint="check the path")
            elif local:  # a plain path stays as given (the one-machine reports name it so)
                out.append(url if not any(c in url for c in "*?[") else path)
            else:
                out.append(fs.unstrip_protocol(path))
    return out


def source_of(source: Any, blocksize: int | str | None) -> Source:
    """Partitions of paths, globs, directories, URLs, a ``dask.bag`` or a ``dask.dataframe``.

    Args:
        source: What to read.
        blocksize: Bytes of JSONL per partition (``None``: one partition per file).

    Returns:
        The [`Source`][finetune_kit.engines._inputs.Source].

    Raises:
        ConfigError: Mixed JSONL and Parquet files, or an input of an unknown kind.
        DataError: A file does not exist.
    """
    import dask.bag
    import dask.dataframe

    if isinstance(source, dask.bag.Bag):
        delayed = source.to_delayed()
        return Source(delayed, [Part(None, i == 0, "records") for i in range(len(delayed))])
    if isinstance(source, dask.dataframe.DataFrame):
        delayed = source.to_delayed()
        return Source(delayed, [Part(None, i == 0, "records") for i in range(len(delayed))])
    if not isinstance(source, str | os.PathLike | list | tuple):
        raise ConfigError(
            f"cannot read a {type(source).__name__} with the Dask engine",
            hint="pass JSONL or Parquet paths, globs, directories or URLs, a dask.bag or a "
            "dask.dataframe",
        )
    files = _expand(source)
    parquet = [f for f in files if f.endswith(_PARQUET)]
    label = os.fspath(source) if isinstance(source, str | os.PathLike) else None
    if parquet and len(parquet) != len(files):
        raise ConfigError(
            "the input mixes JSONL and Parquet files", hint="give one kind of file at a time"
        )
    if parquet:
        frame = dask.dataframe.read_parquet(files, dtype_backend="pyarrow")
        delayed = frame.to_delayed()
        parts = [Part(None, i == 0, "records") for i in range(len(delayed))]
        return Source(delayed, parts, files, label)
    from dask.bytes.core import read_bytes

    _, blocks, paths = read_bytes(
        files, delimiter=b"\n", blocksize=blocksize, sample=False, include_path=True
    )
    payloads: list[Any] = []
    parts = []
    for file, file_blocks in zip(files, blocks, strict=True):
        for i, block in enumerate(file_blocks):
            payloads.append(block)
            parts.append(Part(file, i == 0, "bytes"))
    size: int | None = None
    if len(files) == 1:
        import fsspec.core

        fs, path = fsspec.core.url_to_fs(files[0])
        size = int(fs.size(path))
    del paths
    return Source(payloads, parts, files, label, size)


def _plain(value: Any) -> Any:
    """A value read from Parquet or pandas as JSON would hold it (a null field is absent)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items() if not _missing(v)}
    if isinstance(value, str | bytes | bool | int) or value is None:
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return _plain(value.tolist())
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    try:
        import pandas as pd

        return value is pd.NA or value is pd.NaT
    except ImportError:  # pragma: no cover - pandas comes with dask[dataframe]
        return False


def _records(payload: Any) -> Iterable[Any]:
    """The records of a bag partition (a list) or a frame partition (a pandas frame)."""
    if hasattr(payload, "to_dict") and hasattr(payload, "columns"):
        return (_plain(r) for r in payload.to_dict(orient="records"))
    records: Iterable[Any] = payload
    return records


def lines_of(payload: Any, part: Part) -> Iterator[Line]:
    """The numbered lines of one partition (from 1).

    A block of JSONL bytes is read as the one-machine reader reads a file; a record that is a
    ``str`` or ``bytes`` is one JSONL line; any other record is the example itself.
    """
    if part.kind == "bytes":
        return _parsed(_block_lines(payload))
    return _record_lines(_records(payload))


def _record_lines(records: Iterable[Any]) -> Iterator[Line]:
    for i, item in enumerate(records, 1):
        if isinstance(item, str | bytes):
            raw = item.encode("utf-8", "surrogatepass") if isinstance(item, str) else item
            body = raw.rstrip(b"\r\n")
            value, problem, had_bom = parse_line(body)
            yield Line(i, body, value, problem, had_bom)
        else:
            value = item.to_dict() if hasattr(item, "to_dict") else item
            yield Line(i, b"", value, None)


def jsonl_bytes(payload: Any, part: Part) -> bytes:
    """A partition as JSONL bytes: a block as read, records one JSON object per line."""
    if part.kind == "bytes":
        data: bytes = payload
        return data
    out = []
    for line in lines_of(payload, part):
        out.append(line.raw if line.raw else json.dumps(line.value, ensure_ascii=False).encode())
    return b"".join(x + b"\n" for x in out)
