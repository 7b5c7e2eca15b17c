"""The CLI conventions: every command of the app follows them, and breaking one is caught."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from finetune_kit import __version__
from finetune_kit.cli import app
from finetune_kit.cli._options import CONVENTIONS, convention_problems

runner = CliRunner()


def _tree() -> Any:
    return typer.main.get_command(app)


def _param(tree: Any, command: str, name: str) -> Any:
    return next(p for p in tree.commands[command].params if p.name == name)


def _help(*args: str) -> str:
    result = runner.invoke(app, [*args, "--help"], terminal_width=200, color=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_every_command_follows_the_cli_conventions() -> None:
    assert convention_problems(_tree()) == []


def test_renaming_one_commands_option_breaks_the_conventions() -> None:
    tree = _tree()
    _param(tree, "estimate", "epochs").opts = ["--n-epochs", "-e"]
    assert convention_problems(tree, render=False) == [
        "finetune-kit estimate: option 'epochs' is --n-epochs/-e, the conventions say --epochs/-e",
        "-e means --epochs and --n-epochs in different commands",
    ]


def test_a_short_flag_with_two_meanings_breaks_the_conventions() -> None:
    tree = _tree()
    _param(tree, "redact", "strategy").opts = ["--strategy", "-s"]
    problems = convention_problems(tree, render=False)
    assert "-s means --strategy and --system-prompt in different commands" in problems


def test_a_default_typed_into_the_help_breaks_the_conventions() -> None:
    tree = _tree()
    jobs = _param(tree, "redact", "jobs")
    jobs.help = "Worker processes [default: one per core]."
    jobs.show_default = False
    problems = convention_problems(tree, render=False)
    assert "finetune-kit redact: --jobs/-j types its default into the help; use show_default" in (
        problems
    )
    assert (
        "finetune-kit redact: --jobs/-j shows no default (give show_default a text like 'none')"
        in (problems)
    )


def test_a_per_1k_price_without_its_per_1m_twin_breaks_the_conventions() -> None:
    tree = _tree()
    _param(tree, "estimate", "price_per_1m").opts = ["--price"]
    problems = convention_problems(tree, render=False)
    assert "finetune-kit estimate: --price-per-1k has no per-1M twin; prices are per 1M tokens" in (
        problems
    )


def _flat(text: str) -> str:
    """The help as one line of words (box drawing and wrapping removed)."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


@pytest.mark.parametrize("command", ["estimate", "redact", "train", "convert", "usage"])
def test_help_keeps_every_word_and_shows_every_default(command: str) -> None:
    text = _help(command)
    assert "<bool>" not in text
    assert not re.search(r"[a-z] \.(\s|$)", text)  # "Epochs ." was a swallowed "[default: ...]"
    params = _tree().commands[command].params
    with_values = [
        p
        for p in params
        if p.param_type_name == "option" and not p.required and not getattr(p, "is_flag", False)
    ]
    assert _flat(text).count("[default:") >= len(with_values) > 0


def test_estimate_help_shows_computed_defaults_as_defaults() -> None:
    text = _flat(_help("estimate"))
    assert "[default: (one per core)]" in text  # typer shows a computed default in brackets
    assert f"[default: ({CONVENTIONS['epochs'].default_text})]" in text


def test_usage_lines_show_file_as_the_docs_write_it() -> None:
    assert "Usage: finetune-kit validate [OPTIONS] FILE" in _help("validate")
    assert "Usage: finetune-kit lifecycle [OPTIONS] [MODEL]" in _help("lifecycle")


def test_version_prints_the_package_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"finetune-kit {__version__}\n"


def test_required_table_columns_are_marked_as_such() -> None:
    text = _flat(_help("convert"))
    assert text.count("[default: (required for tables)]") == 2
