"""The Dask side of the engine: which client runs the tasks, results in order, safe outputs.

[`client_for`][finetune_kit.engines._cluster.client_for] uses the client given, else connects
to ``scheduler``, else the running default client, else starts a ``LocalCluster`` sized to the
machine for the length of the call. [`in_order`][finetune_kit.engines._cluster.in_order] yields
results in partition order and releases each from the cluster once taken, so the merge holds
one partition's result at a time. [`write_out`][finetune_kit.engines._cluster.write_out]
writes what the tasks produce either as one ordered file (the local atomic writer) or as
``part-NNNNN.jsonl`` files under a folder or URL, each written under a temporary name and
renamed only once every partition has succeeded.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from finetune_kit._io import atomic_write
from finetune_kit.engines._inputs import Part, require_dask
from finetune_kit.errors import ConfigError, DataError

__all__ = ["client_for", "in_order", "write_out"]

_PART = "part-{:05d}.jsonl"


@contextlib.contextmanager
def client_for(
    client: Any = None, scheduler: str | None = None, workers: int | None = None
) -> Iterator[Any]:
    """The Dask client to run on (see the module docstring for which one).

    Args:
        client: A ``distributed.Client`` to use as it is.
        scheduler: The address of a running scheduler (``tcp://host:8786``).
        workers: Workers of the local cluster started when there is no other.

    Yields:
        The client; one this function made is closed (and its cluster stopped) afterwards.

    Raises:
        ConfigError: Dask is missing, or the scheduler cannot be reached.
    """
    require_dask()
    import distributed

    if client is not None:
        yield client
        return
    if scheduler is not None:
        try:
            made = distributed.Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise ConfigError(
                f"cannot reach the Dask scheduler at {scheduler}: {exc}",
                hint="check the address (tcp://HOST:8786) and that the scheduler runs",
            ) from exc
        with made:
            yield made
        return
    try:
        running = distributed.get_client()
    except ValueError:  # no default client in this process
        running = None
    if running is not None:
        yield running
        return
    with (
        distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1 if workers is not None else None,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as made,
    ):
        yield made


def in_order(client: Any, tasks: Sequence[Any], progress: bool = False) -> Iterator[Any]:
    """Compute ``tasks`` on the cluster and yield their results in order.

    Args:
        client: The Dask client.
        tasks: Dask ``Delayed`` objects.
        progress: Show Dask's progress bar (text, on the terminal) while they run.

    Yields:
        Each task's result; a task's exception is raised as it was raised on the worker.
    """
    futures = client.compute(list(tasks))
    try:
        if progress:
            import distributed

            distributed.progress(futures)
        for future in futures:
            yield future.result()
            future.release()
    finally:
        client.cancel(futures)


def _run_task(work: Callable[..., Any], target: str | None, args: tuple[Any, ...]) -> Any:
    """Worker: run ``work(out, *args)`` into a temporary part file, or into memory."""
    if target is None:
        buffer = io.BytesIO()
        value = work(buffer, *args)
        return value, buffer.getvalue()
    import fsspec

    with fsspec.open(target, "wb") as fh:
        value = work(fh, *args)
    return value, None


def write_out(
    client: Any,
    work: Callable[..., Any],
    inputs: Sequence[tuple[Any, ...]],
    output: str | os.PathLike[str],
    *,
    partitioned: bool,
    progress: bool = False,
) -> list[Any]:
    """Run ``work(out, *args)`` for every partition's args and write what it writes to ``out``.

    Args:
        client: The Dask client.
        work: A picklable function that writes one partition's output to a binary file and
            returns a small value (its report).
        inputs: Each partition's arguments, in order (Dask ``Delayed`` objects allowed).
        output: One ordered file (a local path), or with ``partitioned`` a folder or URL that
            gets ``part-00000.jsonl``, ``part-00001.jsonl``, ... in order.
        partitioned: Write one file per partition instead of one ordered file.
        progress: Show Dask's progress bar.

    Returns:
        What ``work`` returned for each partition, in order.

    Raises:
        DataError: The output cannot be written. A failed run leaves no final file behind:
            the ordered file is renamed into place at the end, part files only once every
            partition has succeeded.
    """
    from dask.delayed import delayed

    if not partitioned:
        dest = os.fspath(output)
        if "://" in dest:
            raise ConfigError(
                f"{dest}: one ordered file is written locally",
                hint="write partitioned output to a URL (partitioned=True, CLI --partitioned)",
            )
        values = []
        tasks = [delayed(_run_task, pure=False)(work, None, args) for args in inputs]
        with atomic_write(dest, binary=True) as fh:
            for value, data in in_order(client, tasks, progress):
                fh.write(data)
                values.append(value)
        return values
    import fsspec.core

    fs, root = fsspec.core.url_to_fs(os.fspath(output))
    try:
        fs.makedirs(root, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create the output folder: {exc}", file=str(output)) from exc
    run = uuid.uuid4().hex[:8]
    temps = [f"{root}/.{_PART.format(i)}.{run}.tmp" for i in range(len(inputs))]
    finals = [f"{root}/{_PART.format(i)}" for i in range(len(inputs))]
    tasks = [
        delayed(_run_task, pure=False)(work, fs.unstrip_protocol(temp), args)
        for temp, args in zip(temps, inputs, strict=True)
    ]
    try:
        values = [value for value, _ in in_order(client, tasks, progress)]
    except BaseException:
        for temp in temps:
            with contextlib.suppress(OSError):
                fs.rm(temp)
        raise
    for temp, final in zip(temps, finals, strict=True):
        fs.mv(temp, final)
    for stale in fs.glob(f"{root}/part-*.jsonl"):  # parts of an earlier, longer run
        if stale.rstrip("/").rsplit("/", 1)[-1] not in {f.rsplit("/", 1)[-1] for f in finals}:
            fs.rm(stale)
    return values


def part_args(payloads: Sequence[Any], parts: Sequence[Part], *extra: Any) -> list[tuple[Any, ...]]:
    """``(payload, part, *extra)`` for each partition (the usual arguments of a task)."""
    return [(payload, part, *extra) for payload, part in zip(payloads, parts, strict=True)]
