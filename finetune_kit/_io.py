"""Atomic file writing: a file is either written whole or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from finetune_kit.errors import DataError


def _atomic_write(path: str | os.PathLike[str], *, binary: bool = False) -> Iterator[IO[Any]]:
    r"""Open a temporary file beside ``path``; on success rename it over ``path``.

    If the block raises, the temporary file is removed and ``path`` is left as it was, so a
    reader never sees a half-written file. Text mode writes UTF-8 with ``\n`` line endings.

    Args:
        path: The destination file.
        binary: Open in binary mode (the yielded object then accepts ``bytes``).

    Yields:
        A writable file object.

    Raises:
        DataError: The destination folder does not exist or is not writable.
    """
    dest = Path(path)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    except FileNotFoundError as exc:
        raise DataError("the output folder does not exist", file=dest) from exc
    except OSError as exc:
        raise DataError(f"cannot write here: {exc.strerror}", file=dest) from exc
    tmp = Path(tmp_name)
    # mkstemp creates the file 0600; give the result the mode a plain open() would have
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o666 & ~umask)
    try:
        mode = "wb" if binary else "w"
        kwargs = {} if binary else {"encoding": "utf-8", "newline": "\n"}
        with os.fdopen(fd, mode, **kwargs) as fh:  # type: ignore[call-overload]
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# An undecorated generator wrapped here, not with @contextmanager: mutation testing (mutmut)
# leaves decorated functions alone, and this one guards every file finetune-kit writes.
atomic_write = contextlib.contextmanager(_atomic_write)
