"""The ``finetune-kit`` command line.

The typer [`app`][finetune_kit._cli_common.app] lives in ``_cli_common``; each group of commands
is a module of its own (``_cli_data``: validate/convert/fix, ...), imported here so that they
register. Commands only parse arguments, call the library and print.
"""

from __future__ import annotations

from finetune_kit import (  # noqa: F401  (they register commands)
    _cli_cost,
    _cli_data,
    _cli_demo,
    _cli_emulator,
    _cli_export,
    _cli_jobs,
    _cli_lifecycle,
    _cli_privacy,
)
from finetune_kit._cli_common import app

__all__ = ["app", "main"]


def main() -> None:
    """Run the command line (the ``finetune-kit`` console script)."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
