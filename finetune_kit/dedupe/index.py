"""Mergeable state of a duplicate search, and the grouping done once every example is in.

A state holds, per example, only what grouping needs — never the text: for near-duplicates a
compact signature (the low byte of each MinHash slot: 128 bytes), the LSH band keys (4 bytes
per band) and a key of the full signature; for exact duplicates the validation engine's
12-byte digest. A near state writes its rows to temporary files as they come (224 bytes per
example on disk) and grouping reads them back a block at a time, so the memory of a
near-duplicate pass stays flat however big the file. States of byte ranges (or Dask
partitions) are merged in file order with
[`merge`][finetune_kit.dedupe.index.NearIndex.merge]; grouping is a function of the merged
state only, and of the *set* of examples, not their order: shuffling a file changes no group.

Grouping (near): examples whose full signatures are equal form one class (no comparisons
needed, however many copies there are); classes that share an LSH band are candidates; a
candidate pair is a near-duplicate when its estimated Jaccard similarity reaches the
threshold; groups are the connected components of near-duplicate training classes. A
validation class that is near a training class is a leak. A bucket holding more than
``MAX_BUCKET`` classes compares each with the first ``MAX_BUCKET`` of them (in signature-key
order) only, so no bucket costs more than ``MAX_BUCKET`` comparisons per member.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from finetune_kit.dedupe.signature import KeepPolicy, NearConfig

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "MAX_BUCKET",
    "ExactIndex",
    "GroupingStats",
    "NearIndex",
    "estimated_similarity",
    "group_exact",
    "group_near",
]

MAX_BUCKET = 1024
"""A bucket larger than this compares each member with its first ``MAX_BUCKET`` members only."""

_CHUNK = 1024  # rows hashed into band keys at a time (512 KiB of signatures)
_READ_ROWS = 4096  # rows read back from disk at a time (512 KiB of signatures, 256 KiB of bands)
_VERIFY_BATCH = 4096  # candidate pairs (or group members) compared at a time
_MISS = 1.0 / 256.0  # chance that the low bytes of two different slot values agree
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """The C library's ``malloc_trim`` (glibc), or ``None`` where there is none."""
    try:
        fn: Callable[[int], int] = ctypes.CDLL(
            ctypes.util.find_library("c") or "libc.so.6"
        ).malloc_trim
    except (OSError, AttributeError):
        return None
    return fn


def _give_back() -> bool:
    """Return the freed pages of the C heap to the system (glibc only; elsewhere a no-op).

    Grouping frees arrays of a few hundred KiB between its steps; glibc keeps them in a heap
    that Python's small objects pin, so each step's peak would land on top of the last one's.
    Trimming between steps keeps a 200 MB file's peak 2-3 MiB lower. Returns whether it ran.
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


def _mix(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """A 64-bit finaliser (splitmix64) applied elementwise."""
    x = x ^ (x >> np.uint64(30))
    x = x * _MIX1
    x = x ^ (x >> np.uint64(27))
    x = x * _MIX2
    out: NDArray[np.uint64] = x ^ (x >> np.uint64(31))
    return out


def _multipliers(n: int, seed: int) -> NDArray[np.uint64]:
    rng = np.random.default_rng(seed)
    out: NDArray[np.uint64] = rng.integers(1, 2**63, size=n, dtype=np.uint64) * np.uint64(2) + (
        np.uint64(1)
    )
    return out


def _combine(values: NDArray[np.uint64], mult: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """Hash each row of ``values`` (n x k, uint64) into one uint64."""
    with np.errstate(over="ignore"):
        total: NDArray[np.uint64] = _mix((values * mult).sum(axis=-1, dtype=np.uint64))
    return total


def estimated_similarity(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> NDArray[np.float64]:
    """Estimated Jaccard similarity of compact signature ``a`` with each row of ``b``.

    Low bytes of two slots agree when the slots do, or by chance (1 in 256); the estimate
    corrects for that chance (b-bit MinHash) and is clipped to [0, 1].
    """
    agree = (b == a).mean(axis=-1)
    est: NDArray[np.float64] = np.clip((agree - _MISS) / (1.0 - _MISS), 0.0, 1.0)
    return est


@dataclass
class _Columns:
    """Arrays of a near index, one row per example with a signature."""

    lines: NDArray[np.int64]
    sig: NDArray[np.uint8]
    bands: NDArray[np.uint32]
    keys: NDArray[np.uint64]
    length: NDArray[np.int64]
    weight: NDArray[np.float64]


_FIELDS = ("lines", "sig", "bands", "keys", "length", "weight")


class _Spill:
    """The rows of a near index on disk: one anonymous temporary file per column, appended to.

    Grouping reads what it needs back a block of rows at a time (a band key column, the
    signatures of candidate pairs), so memory does not grow with the number of examples. The
    files are deleted when they are closed (by the operating system if the process dies).
    """

    def __init__(self, num_perm: int, bands: int) -> None:
        self.n = 0
        self.shape: dict[str, tuple[np.dtype[Any], int]] = {
            "lines": (np.dtype(np.int64), 1),
            "sig": (np.dtype(np.uint8), num_perm),
            "bands": (np.dtype(np.uint32), bands),
            "keys": (np.dtype(np.uint64), 1),
            "length": (np.dtype(np.int64), 1),
            "weight": (np.dtype(np.float64), 1),
        }
        self._files: dict[str, IO[bytes]] = {}

    def close(self) -> None:
        for fh in self._files.values():
            fh.close()
        self._files = {}

    def _file(self, name: str) -> IO[bytes]:
        fh = self._files.get(name)
        if fh is None:
            # closed by `close` or when the state is collected; deleted by the OS on close
            fh = tempfile.TemporaryFile(prefix="finetune-kit-dedupe-")  # noqa: SIM115
            self._files[name] = fh
        return fh

    def append(self, cols: _Columns, line_offset: int = 0) -> None:
        """Append rows (their lines shifted by ``line_offset``)."""
        for name in _FIELDS:
            dtype, _ = self.shape[name]
            arr = np.ascontiguousarray(getattr(cols, name), dtype=dtype)
            if name == "lines" and line_offset:
                arr = arr + line_offset
            fh = self._file(name)
            fh.seek(0, os.SEEK_END)
            fh.write(arr.data)
        self.n += len(cols.lines)

    def read(self, name: str, start: int = 0, stop: int | None = None) -> NDArray[Any]:
        """Rows ``[start, stop)`` of one column (a copy in memory)."""
        dtype, width = self.shape[name]
        stop = self.n if stop is None else min(stop, self.n)
        count = max(0, stop - start)
        buf = bytearray(count * width * dtype.itemsize)
        if count:
            fh = self._file(name)
            fh.seek(start * width * dtype.itemsize)
            if fh.readinto(buf) != len(buf):  # type: ignore[attr-defined]
                raise OSError(f"near-duplicate state: short read of the {name} column")
        arr = np.frombuffer(buf, dtype=dtype)
        return arr.reshape(count, width) if width > 1 else arr

    def blocks(self, rows: int = _READ_ROWS) -> Iterator[_Columns]:
        """Every row, a block of ``rows`` at a time."""
        for start in range(0, self.n, rows):
            stop = start + rows
            yield _Columns(**{name: self.read(name, start, stop) for name in _FIELDS})


class _Rows:
    """The rows of several spills one after another (training, then validation) for grouping."""

    def __init__(self, parts: Sequence[_Spill]) -> None:
        self.parts = [p for p in parts if p.n]
        self.offsets = np.cumsum([0, *(p.n for p in self.parts)])
        self.n = int(self.offsets[-1])

    def column(self, name: str) -> NDArray[Any]:
        """A one-value-per-row column, whole."""
        return np.concatenate([p.read(name) for p in self.parts])

    def band(self, b: int) -> NDArray[np.uint32]:
        """Band ``b``'s key of every row (read a block at a time)."""
        out = np.empty(self.n, dtype=np.uint32)
        for part, offset in zip(self.parts, self.offsets.tolist(), strict=False):
            for start in range(0, part.n, _READ_ROWS):
                block = part.read("bands", start, start + _READ_ROWS)
                out[offset + start : offset + start + len(block)] = block[:, b]
        return out

    def take(self, name: str, rows: NDArray[Any]) -> NDArray[Any]:
        """The ``name`` values of the given rows (in that order), read a block at a time."""
        part0 = self.parts[0] if self.parts else None
        dtype, width = part0.shape[name] if part0 is not None else (np.dtype(np.uint8), 1)
        out = np.empty((len(rows), width) if width > 1 else len(rows), dtype=dtype)
        if not len(rows):
            return out
        order = np.argsort(rows, kind="stable")
        wanted = rows[order]
        for part, offset in zip(self.parts, self.offsets.tolist(), strict=False):
            end = offset + part.n
            for start in range(offset, end, _READ_ROWS):
                stop = min(start + _READ_ROWS, end)
                lo, hi = np.searchsorted(wanted, (start, stop))
                if lo == hi:
                    continue
                block = part.read(name, start - offset, stop - offset)
                out[order[lo:hi]] = block[wanted[lo:hi] - start]
        return out


class NearIndex:
    """What a near-duplicate pass keeps per example (signatures, never texts); mergeable.

    The rows go to temporary files as they come (a block of a few thousand at a time), so the
    memory of a pass does not grow with the file; a pickled state (sent by a worker process)
    carries its rows along.

    Args:
        config: The settings every signature was made with.

    Attributes:
        n_lines: Lines seen (examples or not), for the line offset of a later range.
        n_examples: JSON objects seen.
        n_without_text: Examples with no words to compare (never grouped).
    """

    def __init__(self, config: NearConfig) -> None:
        self.config = config
        self.n_lines = 0
        self.n_examples = 0
        self.n_without_text = 0
        self._band_mult = _multipliers(config.rows, config.seed).reshape(1, 1, -1)
        self._key_mult = _multipliers(config.num_perm, config.seed + 1).reshape(1, -1)
        self._spill = _Spill(config.num_perm, config.bands)
        self._pending: NDArray[np.uint32] | None = None
        self._p_lines: list[int] = []
        self._p_length: list[int] = []
        self._p_weight: list[float] = []

    def __len__(self) -> int:
        return self._spill.n + len(self._p_lines)

    def add(self, line: int, signature: NDArray[np.uint32], length: int, weight: float) -> None:
        """Add one example's signature.

        Args:
            line: Its line (or row) number.
            signature: Its full MinHash signature (from
                [`example_signature`][finetune_kit.dedupe.example_signature]).
            length: Its length (words), for the ``longest`` policy.
            weight: Its trained weight, for the ``weight`` policy.
        """
        i = len(self._p_lines)
        if self._pending is None:
            self._pending = np.empty((_CHUNK, self.config.num_perm), dtype=np.uint32)
        self._pending[i] = signature
        self._p_lines.append(line)
        self._p_length.append(length)
        self._p_weight.append(weight)
        if i + 1 == _CHUNK:
            self._flush()

    def _flush(self) -> None:
        n = len(self._p_lines)
        if not n or self._pending is None:
            return
        full = self._pending[:n].astype(np.uint64)
        rows = full.reshape(n, self.config.bands, -1)
        self._spill.append(
            _Columns(
                lines=np.asarray(self._p_lines, dtype=np.int64),
                sig=(self._pending[:n] & 0xFF).astype(np.uint8),
                # 32 bits per band key: a chance collision only adds a pair to verify
                bands=(_combine(rows, self._band_mult) >> np.uint64(32)).astype(np.uint32),
                keys=_combine(full, self._key_mult),
                length=np.asarray(self._p_length, dtype=np.int64),
                weight=np.asarray(self._p_weight, dtype=np.float64),
            )
        )
        self._p_lines, self._p_length, self._p_weight = [], [], []

    def __getstate__(self) -> dict[str, Any]:
        rows = self.columns()  # the rows travel in memory (a range's worth)
        state = self.__dict__.copy()
        state["_spill"] = rows
        state["_pending"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        cols: _Columns = state.pop("_spill")
        self.__dict__.update(state)
        self._spill = _Spill(self.config.num_perm, self.config.bands)
        self._spill.append(cols)

    def merge(self, other: NearIndex, line_offset: int = 0) -> None:
        """Append a later range's (or partition's) state, its lines shifted by ``line_offset``.

        Args:
            other: The later state (made with the same settings).
            line_offset: Lines before the start of ``other``'s range.

        Raises:
            ValueError: The two states were made with different settings.
        """
        if other.config != self.config:
            raise ValueError("cannot merge near-duplicate states made with different settings")
        self._flush()
        other._flush()
        for block in other._spill.blocks():
            self._spill.append(block, line_offset)
        self.n_lines += other.n_lines
        self.n_examples += other.n_examples
        self.n_without_text += other.n_without_text

    def _rows(self) -> _Spill:
        self._flush()
        return self._spill

    def columns(self) -> _Columns:
        """Every row so far as one set of arrays (read back into memory)."""
        spill = self._rows()
        return _Columns(**{name: spill.read(name) for name in _FIELDS})


class ExactIndex:
    """What an exact pass keeps per example: the validation engine's digest; mergeable.

    Attributes:
        n_lines: Lines seen.
        n_examples: JSON objects seen.
    """

    def __init__(self) -> None:
        self.n_lines = 0
        self.n_examples = 0
        self.n_without_text = 0
        self._lines: list[int] = []
        self._digests: list[bytes] = []
        self._chunks: list[tuple[NDArray[np.int64], NDArray[np.bytes_]]] = []

    def __len__(self) -> int:
        return sum(len(c[0]) for c in self._chunks) + len(self._lines)

    def add(self, line: int, digest: bytes) -> None:
        """Add one example's digest (``validation.engine._example_digest``)."""
        self._lines.append(line)
        self._digests.append(digest)
        if len(self._lines) == _CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self._lines:
            self._chunks.append(
                (np.asarray(self._lines, np.int64), np.asarray(self._digests, dtype="S12"))
            )
            self._lines, self._digests = [], []

    def __getstate__(self) -> dict[str, Any]:
        self._flush()
        return self.__dict__.copy()

    def merge(self, other: ExactIndex, line_offset: int = 0) -> None:
        """Append a later range's state, its lines shifted by ``line_offset``."""
        self._flush()
        other._flush()
        self._chunks += [(lines + line_offset, d) for lines, d in other._chunks]
        self.n_lines += other.n_lines
        self.n_examples += other.n_examples

    def columns(self) -> tuple[NDArray[np.int64], NDArray[np.bytes_]]:
        """Lines and digests of every example so far."""
        self._flush()
        if not self._chunks:
            return np.zeros(0, np.int64), np.zeros(0, dtype="S12")
        return (
            np.concatenate([c[0] for c in self._chunks]),
            np.concatenate([c[1] for c in self._chunks]),
        )


# -- grouping ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RawGroup:
    """A group before it is reported: lines (sorted), the kept line, the lowest similarity."""

    lines: tuple[int, ...]
    kept: int
    similarity: float


@dataclass(frozen=True)
class RawLeak:
    """A validation line near a training line."""

    line: int
    validation_line: int
    similarity: float


@dataclass
class GroupingStats:
    """Work done while grouping (for the report's statistics)."""

    candidate_pairs: int = 0
    similar_pairs: int = 0
    large_buckets: int = 0


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if ra < rb:
                ra, rb = rb, ra
            self.parent[ra] = rb


def _pick(lines: NDArray[np.int64], score: NDArray[Any] | None) -> int:
    """Position of the example kept among members sorted by line (``score``: higher wins)."""
    if score is None:
        return int(np.argmin(lines))
    best = np.flatnonzero(score == score.max())
    return int(best[np.argmin(lines[best])])


def _candidate_pairs(
    band: Callable[[int], NDArray[np.uint32]],
    n_bands: int,
    reps: NDArray[Any],
    keys: NDArray[np.uint64],
    src: NDArray[np.int8],
    stats: GroupingStats,
) -> NDArray[np.int64]:
    """Every pair of classes that share a band key, once, as rows ``(low, high)``.

    Class ``c`` is row ``reps[c]`` of the band key columns ``band(b)``; ``keys`` and ``src``
    are per class.

    Validation-only pairs are left out. A bucket larger than ``MAX_BUCKET`` pairs each member
    with the first ``MAX_BUCKET`` members only (in key order, so the result does not depend
    on the order of the file).
    """
    n = len(keys)
    found: list[NDArray[np.int64]] = []
    for b in range(n_bands):
        vals = band(b)[reps]
        order = np.lexsort((keys, vals))
        v = vals[order]
        del vals
        same = v[1:] == v[:-1]  # positions p and p + 1 are in one bucket
        del v
        member = np.zeros(n, dtype=bool)
        member[:-1] = same
        member[1:] |= same
        at = np.flatnonzero(member)  # the positions in buckets of two or more, in order
        del member
        if not len(at):
            continue
        classes = order[at]
        del order
        # from here on, only the members of shared buckets (a few per cent of the classes)
        m = len(at)
        new_run = np.ones(m, dtype=bool)
        new_run[1:] = ~same[at[1:] - 1]
        del same, at
        run_id = np.cumsum(new_run) - 1
        run_start = np.flatnonzero(new_run)
        run_len = np.diff(np.append(run_start, m))
        rank = np.arange(m) - run_start[run_id]  # position inside its bucket
        stats.large_buckets += int((run_len > MAX_BUCKET).sum())
        # pair position p with p + d while both are in one bucket and p is among its pivots
        pos = np.flatnonzero((run_len[run_id] > 1) & (rank < MAX_BUCKET))
        d = 1
        while len(pos):
            pos = pos[pos + d < m]
            pos = pos[run_id[pos + d] == run_id[pos]]
            if not len(pos):
                break
            x, y = classes[pos], classes[pos + d]
            pair = np.stack([np.minimum(x, y), np.maximum(x, y)], axis=1)
            found.append(pair[(src[pair[:, 0]] == 0) | (src[pair[:, 1]] == 0)])
            d += 1
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.concatenate(found)
    code = np.unique(pairs[:, 0] * n + pairs[:, 1])
    return np.stack([code // n, code % n], axis=1)


def group_near(
    train: NearIndex, validation: NearIndex | None, keep: KeepPolicy
) -> tuple[list[RawGroup], list[RawLeak], GroupingStats]:
    """Group a merged near-duplicate state (and find leaks from ``validation``).

    Memory holds two 8-byte values per example (line and signature key) and a few index
    arrays while grouping; signatures and band keys are read back from the states' files a
    block at a time.

    Args:
        train: The training examples' state.
        validation: The validation examples' state, if any.
        keep: Which example of a group to keep.

    Returns:
        Groups (ordered by their first line), leaks (ordered by validation line) and the work
        done.
    """
    config = train.config
    t_rows = train._rows()
    n_t = t_rows.n
    rows = _Rows([t_rows] if validation is None else [t_rows, validation._rows()])
    n = rows.n
    stats = GroupingStats()
    if n == 0:
        return [], [], stats
    lines = rows.column("lines")
    keys = rows.column("keys")
    src = np.zeros(n, dtype=np.int8)
    src[n_t:] = 1
    # 1. classes of equal signatures, per side
    index = np.int32 if n < 2**31 else np.int64  # row numbers: half the memory of int64
    order = np.lexsort((lines, src, keys)).astype(index)
    k_sorted, s_sorted = keys[order], src[order]
    starts_mask = np.ones(n, dtype=bool)
    starts_mask[1:] = (k_sorted[1:] != k_sorted[:-1]) | (s_sorted[1:] != s_sorted[:-1])
    del k_sorted, s_sorted
    starts = np.flatnonzero(starts_mask).astype(index)
    del starts_mask
    ends = np.append(starts[1:], index(n))
    reps = order[starts]  # one example per class
    by_row = np.argsort(reps)  # classes in row order: without copies, the rows themselves
    reps, starts, ends = reps[by_row], starts[by_row], ends[by_row]
    del by_row
    r_key = keys[reps]
    del keys
    r_src = src[reps]
    _give_back()
    threshold = config.threshold - 1e-9

    # 2. candidates: classes sharing a band (each pair once), verified on their signatures
    pairs = _candidate_pairs(rows.band, config.bands, reps, r_key, r_src, stats)
    del r_key
    _give_back()
    edges: dict[tuple[int, int], float] = {}
    for start in range(0, len(pairs), _VERIFY_BATCH):
        batch = pairs[start : start + _VERIFY_BATCH]
        left, right = batch[:, 0], batch[:, 1]
        agree = (rows.take("sig", reps[left]) == rows.take("sig", reps[right])).mean(axis=1)
        sims = np.clip((agree - _MISS) / (1.0 - _MISS), 0.0, 1.0)
        ok = sims >= threshold
        for x, y, sim in zip(left[ok].tolist(), right[ok].tolist(), sims[ok].tolist(), strict=True):
            edges[(x, y)] = sim
    stats.candidate_pairs = len(pairs)
    stats.similar_pairs = len(edges)
    del pairs

    # 3. groups: connected components of training classes
    uf = _UnionFind()
    linked: set[int] = set()
    best_leak: dict[int, tuple[float, int]] = {}  # validation class -> (similarity, train class)
    for (a, b_), sim in edges.items():
        if r_src[a] == 0 and r_src[b_] == 0:
            uf.union(a, b_)
            linked.update((a, b_))
        elif r_src[a] != r_src[b_]:
            v_cls, t_cls = (a, b_) if r_src[a] == 1 else (b_, a)
            t_line = int(lines[order[starts[t_cls]]])
            old = best_leak.get(v_cls)
            if old is None or (sim, -t_line) > (old[0], -int(lines[order[starts[old[1]]]])):
                best_leak[v_cls] = (sim, t_cls)
    del edges
    _give_back()
    components: dict[int, list[int]] = {}
    copied = np.flatnonzero((r_src == 0) & (ends - starts > 1)).tolist()
    for c in sorted(linked.union(copied)):
        components.setdefault(uf.find(c), []).append(c)
    del uf, linked, copied
    groups: list[RawGroup] = []
    batch_members: list[NDArray[Any]] = []
    size = 0
    for i, classes in enumerate(components.values()):
        members = np.concatenate([order[starts[c] : ends[c]] for c in classes])
        if len(members) >= 2:
            batch_members.append(members[np.argsort(lines[members])])
            size += len(members)
        if batch_members and (size >= _VERIFY_BATCH or i == len(components) - 1):
            groups += _groups_of(batch_members, rows, lines, keep)
            batch_members, size = [], 0
    _give_back()
    groups.sort(key=lambda g: g.lines[0])

    # 4. leaks: every validation example of a class near a training class
    leaks: list[RawLeak] = []
    for v_cls, (sim, t_cls) in best_leak.items():
        t_line = int(lines[order[starts[t_cls]]])
        for idx in order[starts[v_cls] : ends[v_cls]]:
            leaks.append(RawLeak(t_line, int(lines[idx]), round(sim, 4)))
    leaks.sort(key=lambda x: x.validation_line)
    return groups, leaks, stats


def _groups_of(
    batch: list[NDArray[Any]], rows: _Rows, lines: NDArray[np.int64], keep: KeepPolicy
) -> list[RawGroup]:
    """The groups of a batch of member rows (each sorted by line): kept line, similarity."""
    flat = np.concatenate(batch)
    score = (
        None if keep == "first" else rows.take("length" if keep == "longest" else "weight", flat)
    )
    sig = rows.take("sig", flat)
    out: list[RawGroup] = []
    at = 0
    for members in batch:
        span = slice(at, at + len(members))
        m_lines = lines[members]
        kept = _pick(m_lines, None if score is None else score[span])
        sims = estimated_similarity(sig[at + kept], sig[span])
        at += len(members)
        out.append(
            RawGroup(
                lines=tuple(m_lines.tolist()),
                kept=int(m_lines[kept]),
                similarity=round(float(sims.min()), 4),
            )
        )
    return out


def group_exact(
    train: ExactIndex, validation: ExactIndex | None
) -> tuple[list[RawGroup], list[RawLeak], GroupingStats]:
    """Group examples with the same digest; validation examples equal to a training one leak.

    Exact copies are equal in every field, so the first is always the one kept.
    """
    lines, digests = train.columns()
    groups: list[RawGroup] = []
    leaks: list[RawLeak] = []
    if not len(lines):
        return groups, leaks, GroupingStats()
    order = np.lexsort((lines, digests))  # by digest, then line: a class's first is its kept
    d = digests[order]
    start = np.flatnonzero(np.concatenate(([True], d[1:] != d[:-1])))
    length = np.diff(np.append(start, len(d)))
    # only the classes with copies become Python objects (a few per cent of the examples)
    multi = length > 1
    for s, m in zip(start[multi].tolist(), length[multi].tolist(), strict=True):
        members = lines[order[s : s + m]].tolist()
        groups.append(RawGroup(tuple(members), members[0], 1.0))
    groups.sort(key=lambda g: g.lines[0])
    if validation is not None:
        first_line, first_digest = lines[order[start]], d[start]  # digests sorted, unique
        del order, d, multi
        v_lines, v_digests = validation.columns()
        at = np.searchsorted(first_digest, v_digests)
        at[at == len(first_digest)] = 0
        hit = first_digest[at] == v_digests
        for t_line, v_line in zip(first_line[at[hit]].tolist(), v_lines[hit].tolist(), strict=True):
            leaks.append(RawLeak(t_line, v_line, 1.0))
        leaks.sort(key=lambda x: x.validation_line)
    return groups, leaks, GroupingStats()


def lines_dropped(groups: Sequence[RawGroup]) -> set[int]:
    """Every grouped line that is not its group's kept line."""
    return {line for g in groups for line in g.lines if line != g.kept}
