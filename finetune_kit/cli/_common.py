"""Shared pieces of the command line: the typer app, output format, printing and error exits.

Command modules (``cli/*.py``) register their commands on [`app`][] and use these helpers so
that every command behaves the same way: human output by default, ``--format json`` for
scripts, colours only on a TTY, a one-line error and exit code 2 for bad input. The options
they share are defined once, in ``_options`` (the conventions table and its check).

Help texts are plain text: every command of [`app`][] is a
[`_Command`][finetune_kit.cli._common._Command], which shows them literally (typer would read
``[...]`` in them as rich markup and drop it).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperCommand, TyperGroup

from finetune_kit.cli._options import FORMAT, Engine, OutputFormat
from finetune_kit.errors import FinetuneKitError

__all__ = [
    "EXIT_FINDINGS",
    "EXIT_OK",
    "EXIT_USAGE",
    "FORMAT_OPTION",
    "OutputFormat",
    "app",
    "console",
    "dask_options",
    "err_console",
    "errors_as_exit",
    "fail",
    "on_dask",
    "print_json",
]


class _Command(TyperCommand):
    """A typer command whose ``--help`` shows its help texts as typed.

    typer renders help texts as rich markup, so ``[default: one per core]`` in a help string
    was read as a style tag and vanished ("Worker processes ."). Here help texts are plain
    text: they are escaped once, when the command is built, so every bracket shows. Flags show
    no ``<bool>`` (they take no value), and the usage line shows ``FILE`` as the docs write it
    (typer writes ``{file}``).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.help:
            self.help = escape(_unwrapped(self.help))
        for param in self.params:
            _as_plain_text(param)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None:
            _as_plain_text(option)
        return option

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = super().collect_usage_pieces(ctx)
        return [re.sub(r"^\{(.+)\}(\.\.\.)?$", r"\1\2", piece) for piece in pieces]


class _Group(TyperGroup):
    """The root ``finetune-kit`` group: its options follow the same rules as the commands'."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            _as_plain_text(param)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None:
            _as_plain_text(option)
        return option


def _unwrapped(text: str) -> str:
    """A docstring's paragraphs each on one line (rich then wraps them to the terminal)."""
    import inspect

    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(p if p.startswith("\b") else " ".join(p.split()) for p in paragraphs)


def _as_plain_text(param: Any) -> None:
    if param.help and not getattr(param, "_escaped", False):
        param.help = escape(param.help)
        param._escaped = True
    if getattr(param, "is_flag", False) and param.metavar is None:
        param.metavar = ""  # a flag takes no value: show nothing rather than <bool>


class _App(typer.Typer):
    """A typer app whose commands are [`_Command`][finetune_kit.cli._common._Command]s."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[F], F]:
        kwargs.setdefault("cls", _Command)
        return super().command(*args, **kwargs)


app = _App(
    name="finetune-kit",
    cls=_Group,
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


FORMAT_OPTION = FORMAT
"""Use as ``output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text``."""


def _print_version(value: bool) -> None:
    if value:
        from finetune_kit import __version__

        sys.stdout.write(f"finetune-kit {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Validate, price, run and archive OpenAI fine-tuning jobs on your own data."""


def print_json(data: Any) -> None:
    """Print ``data`` as one JSON document on stdout (never coloured).

    Written piece by piece as it is encoded: a big report (thousands of duplicate groups) is
    never held as one string.
    """
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")
    sys.stdout.flush()


def fail(message: str, *, code: int = EXIT_USAGE) -> NoReturn:
    """Print a one-line error on stderr and exit with ``code``."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


def on_dask(
    engine: Engine, scheduler: str | None, partitioned: bool = False, *, jobs: int | None = None
) -> bool:
    """True for ``--engine dask``; the Dask-only options without it are a usage error."""
    if engine is Engine.dask:
        if scheduler is not None and jobs is not None:
            fail("--jobs sizes the local cluster; a --scheduler's cluster has its own workers")
        return True
    if scheduler is not None:
        fail("--scheduler names a Dask cluster: add --engine dask")
    if partitioned:
        fail("--partitioned writes part files from a Dask cluster: add --engine dask")
    return False


def dask_options(
    scheduler: str | None, jobs: int | None, output_format: OutputFormat
) -> dict[str, Any]:
    """The Dask engine's cluster options of a command (``engines.dask.Cluster``).

    Dask's progress bar shows for people (text output) on a terminal only.
    """
    progress = output_format is OutputFormat.text and console.is_terminal
    return {"scheduler": scheduler, "workers": jobs, "progress": progress}


@contextmanager
def errors_as_exit(code: int = EXIT_USAGE) -> Iterator[None]:
    """Turn a [`FinetuneKitError`][finetune_kit.FinetuneKitError] into a one-line error and exit."""
    try:
        yield
    except FinetuneKitError as exc:
        fail(str(exc), code=code)
