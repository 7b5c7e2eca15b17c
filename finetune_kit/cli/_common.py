"""Shared pieces of the command line: the typer app, output format, printing and error exits.

Command modules (``_cli_*.py``) register their commands on [`app`][] and use these helpers so
that every command behaves the same way: human output by default, ``--format json`` for
scripts, colours only on a TTY, a one-line error and exit code 2 for bad input.
"""

from __future__ import annotations

import enum
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from finetune_kit.errors import FinetuneKitError

app = typer.Typer(
    name="finetune-kit",
    help="Validate, price, run and archive OpenAI fine-tuning jobs on your own data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

console = Console(highlight=False, emoji=False)
err_console = Console(stderr=True, highlight=False, emoji=False)

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2

F = TypeVar("F", bound=Callable[..., Any])


class OutputFormat(str, enum.Enum):
    """How a command prints its result."""

    text = "text"
    json = "json"


FORMAT_OPTION = typer.Option(
    "--format", "-f", help="Output: human-readable text or one JSON object."
)
"""Use as ``output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text``."""


def print_json(data: Any) -> None:
    """Print ``data`` as one JSON document on stdout (never coloured)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


def fail(message: str, *, code: int = EXIT_USAGE) -> NoReturn:
    """Print a one-line error on stderr and exit with ``code``."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def errors_as_exit(code: int = EXIT_USAGE) -> Iterator[None]:
    """Turn a [`FinetuneKitError`][finetune_kit.FinetuneKitError] into a one-line error and exit."""
    try:
        yield
    except FinetuneKitError as exc:
        fail(str(exc), code=code)
