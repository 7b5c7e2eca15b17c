"""The ``finetune-kit`` command line.

The typer [`app`][finetune_kit.cli._common.app] lives in ``cli/_common.py``; each group of
commands is a module of its own (``cli/data.py``: validate/convert/fix, ...), imported
here so that they register. Commands only parse arguments, call the library and print.
"""

from __future__ import annotations

from finetune_kit.cli import (  # noqa: F401  (they register commands)
    compare,
    cost,
    data,
    dedupe,
    demo,
    emulator,
    export,
    jobs,
    lifecycle,
    migrate,
    privacy,
    tokens,
)
from finetune_kit.cli._common import app

__all__ = ["app", "main"]


def main() -> None:
    """Run the command line (the ``finetune-kit`` console script)."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
