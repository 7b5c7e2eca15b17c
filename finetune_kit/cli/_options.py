"""The command line's conventions in one table, the typed definitions built from it, and a check.

Every option that more than one command has, and every spelling a user types often, is defined
once here. Commands use the definitions (``Annotated[int | None, EPOCHS] = None``) or, when the
help text must say something specific, the factory (``output_option("Where the fixed file
goes.")``), so names, short flags, choices, ranges, metavars and shown defaults cannot drift.
[`convention_problems`][finetune_kit.cli._options.convention_problems] walks a click command tree
and lists every place that breaks them; the test suite runs it on the whole app, so a command
added later is covered without being named.

The rules it enforces:

- an option whose Python name is in [`CONVENTIONS`][finetune_kit.cli._options.CONVENTIONS]
  uses that entry's flags, metavar, choices and range (renaming ``--epochs`` in one command fails);
- a flag spelled in the table belongs to that entry only, and a short flag means one long option
  across the whole app (``-s`` cannot be ``--system-prompt`` here and ``--strategy`` there);
- a file argument is shown as ``FILE`` (a folder as ``DIR``); every argument has an upper-case
  metavar;
- every optional option that takes a value shows its default (``show_default`` text when the
  default is computed, like "one per core"); defaults are never typed into help text;
- prices are per 1M tokens (``--...-price-per-1m``); a per-1K spelling only exists beside its
  per-1M twin;
- the rendered ``--help`` keeps every word of every help text, shows no ``<bool>`` for flags and
  no ``{...}`` in the usage line; the app has ``--version``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import typer

__all__ = [
    "CONVENTIONS",
    "DIR_ARGUMENT",
    "EPOCHS",
    "FILE_ARGUMENT",
    "FORMAT",
    "JOBS",
    "METHOD",
    "MODEL",
    "PII",
    "PROVIDER",
    "YES",
    "Convention",
    "MethodChoice",
    "OutputFormat",
    "PIIChoice",
    "Provider",
    "convention_problems",
    "file_argument",
    "model_option",
    "output_option",
    "pii_option",
    "price_options",
]


class OutputFormat(str, enum.Enum):
    """How a command prints its result: ``text`` for people, ``json`` for scripts."""

    text = "text"
    json = "json"


class MethodChoice(str, enum.Enum):
    """The fine-tuning method: ``supervised`` (chat examples) or ``dpo`` (preference pairs)."""

    supervised = "supervised"
    dpo = "dpo"


class PIIChoice(str, enum.Enum):
    """What to do about personal data: ``warn``, ``error`` (refuse the file) or ``off``."""

    warn = "warn"
    error = "error"
    off = "off"


class Provider(str, enum.Enum):
    """Which fine-tuning service a command talks to (``FINETUNE_KIT_PROVIDER``)."""

    openai = "openai"
    azure = "azure"
    together = "together"
    fireworks = "fireworks"


@dataclass(frozen=True)
class Convention:
    """One row of the conventions table: how an option is spelled and shown everywhere.

    Attributes:
        name: The Python parameter name commands use for it (the click ``dest``).
        flags: Every spelling, long first (``("--epochs", "-e")``).
        help: The help text (a command may pass a more specific one to the factory).
        metavar: What the value is shown as (``MODEL``, ``PATH``); ``None`` for choices, whose
            values are shown instead.
        choices: The allowed values when the type is an enum.
        minimum: The smallest allowed number, if any.
        maximum: The largest allowed number, if any.
        default_text: The default shown in ``--help`` when it is computed at run time
            (``"one per core"``); ``None`` shows the actual default.
        envvar: An environment variable the option reads, if any.
    """

    name: str
    flags: tuple[str, ...]
    help: str
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    default_text: str | None = None
    envvar: str | None = None

    def option(self, help: str | None = None, *, default_text: str | None = None) -> Any:
        """The typer option for this row.

        Args:
            help: A command-specific help text instead of the row's.
            default_text: A command-specific default to show instead of the row's.

        Returns:
            A ``typer.Option`` to put in ``Annotated[...]``.
        """
        shown = default_text or self.default_text
        return typer.Option(
            *self.flags,
            help=help or self.help,
            metavar=self.metavar,
            min=self.minimum,
            max=self.maximum,
            show_default=shown if shown is not None else True,
            envvar=self.envvar,
        )


def _values(enum_type: type[enum.Enum]) -> tuple[str, ...]:
    return tuple(str(member.value) for member in enum_type)


_ROWS = [
    Convention(
        "output_format",
        ("--format", "-f"),
        "Output: human-readable text or one JSON object.",
        choices=_values(OutputFormat),
    ),
    Convention("model", ("--model", "-m"), "Base model: alias, snapshot or ft: name.", "MODEL"),
    Convention(
        "method",
        ("--method",),
        "supervised (chat examples) or dpo (preference pairs).",
        choices=_values(MethodChoice),
        default_text="detected from the file",
    ),
    Convention(
        "pii",
        ("--pii",),
        "Personal data in the text: warn, error (refuse the file) or off (do not look).",
        choices=_values(PIIChoice),
    ),
    Convention(
        "epochs",
        ("--epochs", "-e"),
        "Passes over the training data.",
        "N",
        minimum=1,
        maximum=50,
        default_text="OpenAI's rule by file size",
    ),
    Convention("output", ("--output", "-o"), "The file to write.", "PATH"),
    Convention(
        "jobs",
        ("--jobs", "-j"),
        "Worker processes for big files.",
        "N",
        minimum=1,
        default_text="one per core",
    ),
    Convention("yes", ("--yes", "-y"), "Do not ask for confirmation."),
    Convention(
        "provider",
        ("--provider",),
        "openai (OPENAI_API_KEY, OPENAI_BASE_URL), azure (AZURE_OPENAI_ENDPOINT, "
        "AZURE_OPENAI_API_KEY, OPENAI_API_VERSION), together (TOGETHER_API_KEY, "
        "TOGETHER_BASE_URL) or fireworks (FIREWORKS_API_KEY, FIREWORKS_ACCOUNT_ID, "
        "FIREWORKS_BASE_URL).",
        choices=_values(Provider),
        envvar="FINETUNE_KIT_PROVIDER",
    ),
    Convention(
        "system_prompt",
        ("--system-prompt", "-s"),
        "System prompt every example starts with.",
        "TEXT",
        default_text="none",
    ),
    Convention(
        "prices_as_of",
        ("--prices-as-of",),
        "Use the prices as they were on DATE (YYYY-MM-DD).",
        "DATE",
        default_text="today",
    ),
    Convention(
        "tokenizer",
        ("--tokenizer",),
        "Hugging Face tokenizer for --model's tokens: a folder, tokenizer.json or hub id.",
        "PATH",
        default_text="the model's own",
    ),
    Convention(
        "max_length",
        ("--max-length",),
        "Longest example a training run keeps, in the model's tokens.",
        "N",
        minimum=1,
        default_text="the model's own",
    ),
    Convention(
        "poll_interval",
        ("--poll-interval",),
        "Seconds between two looks at the job.",
        "SECONDS",
        minimum=0,
    ),
]

CONVENTIONS: dict[str, Convention] = {row.name: row for row in _ROWS}
"""The conventions table, by Python parameter name (``docs/reference/cli.md`` prints it)."""

FORMAT = CONVENTIONS["output_format"].option()
"""``output_format: Annotated[OutputFormat, FORMAT] = OutputFormat.text``."""
MODEL = CONVENTIONS["model"].option()
"""``model: Annotated[str, MODEL]`` (required) or ``Annotated[str | None, MODEL] = None``."""
METHOD = CONVENTIONS["method"].option()
"""``method: Annotated[MethodChoice | None, METHOD] = None`` (None: detected from the file)."""
PII = CONVENTIONS["pii"].option()
"""``pii: Annotated[PIIChoice, PII] = PIIChoice.warn`` (the default may differ per command)."""
EPOCHS = CONVENTIONS["epochs"].option()
"""``epochs: Annotated[int | None, EPOCHS] = None``."""
JOBS = CONVENTIONS["jobs"].option()
"""``jobs: Annotated[int | None, JOBS] = None``."""
YES = CONVENTIONS["yes"].option()
"""``yes: Annotated[bool, YES] = False``."""
PROVIDER = CONVENTIONS["provider"].option()
"""``provider: Annotated[Provider, PROVIDER] = Provider.openai``."""
TOKENIZER = CONVENTIONS["tokenizer"].option()
"""``tokenizer: Annotated[str | None, TOKENIZER] = None`` (see docs/tokens.md)."""
MAX_LENGTH = CONVENTIONS["max_length"].option()
"""``max_length: Annotated[int | None, MAX_LENGTH] = None``."""


def model_option(help: str) -> Any:
    """``--model/-m`` with a command-specific help text."""
    return CONVENTIONS["model"].option(help)


def output_option(help: str) -> Any:
    """``--output/-o PATH`` with a command-specific help text."""
    return CONVENTIONS["output"].option(help)


def pii_option(help: str | None = None) -> Any:
    """``--pii warn|error|off`` (optionally with a command-specific help text)."""
    return CONVENTIONS["pii"].option(help)


def file_argument(help: str) -> Any:
    """The input file argument, shown as ``FILE``."""
    return typer.Argument(metavar="FILE", help=help, show_default=False)


FILE_ARGUMENT = file_argument("The JSONL file (never modified).")
"""``file: Annotated[Path, FILE_ARGUMENT]``."""
DIR_ARGUMENT = typer.Argument(
    metavar="DIR", help="The folder (created if missing).", show_default=False
)
"""``folder: Annotated[Path, DIR_ARGUMENT]``."""


def price_options(what: str | None = None) -> tuple[Any, Any]:
    """``--[WHAT-]price-per-1m USD`` and its explicit per-1K alternative ``...-per-1k``.

    Args:
        what: ``input`` or ``output`` when a command takes several prices; ``None`` for the
            one price of a command (``estimate``'s training price).

    Returns:
        The per-1M option and the per-1K option; name the command parameters
        ``[WHAT_]price_per_1m`` and ``[WHAT_]price_per_1k``.
    """
    prefix = f"--{what}-" if what else "--"
    label = f"{what.capitalize()} price" if what else "Price"
    per_1m = typer.Option(
        f"{prefix}price-per-1m",
        metavar="USD",
        help=f"{label} in USD per 1M tokens (the unit of OpenAI's price list).",
        show_default="the bundled price table",
    )
    per_1k = typer.Option(
        f"{prefix}price-per-1k",
        metavar="USD",
        help="The same price per 1K tokens instead (a thousandth of the per-1M price).",
        show_default="the bundled price table",
    )
    return per_1m, per_1k


# --------------------------------------------------------------------------- the check


def _commands(command: Any, path: str) -> Iterator[tuple[str, Any]]:
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        if not sub.hidden:
            yield from _commands(sub, f"{path} {name}")


def _flags(param: Any) -> tuple[str, ...]:
    return (*param.opts, *param.secondary_opts)


def _choices(param: Any) -> tuple[str, ...] | None:
    desc = getattr(param, "type_descriptor", None)
    if desc is None or not desc.is_choice:
        return None
    return tuple(str(getattr(c, "value", c)) for c in desc.choices or ())


def _is_flag(param: Any) -> bool:
    return bool(getattr(param, "is_flag", False))


def _shows_default(param: Any) -> bool:
    if isinstance(param.show_default, str):
        return bool(param.show_default.strip())
    return param.show_default is not False and param.default is not None


def _param_problems(where: str, param: Any, flags_here: set[str]) -> Iterator[str]:
    name = param.name or ""
    flags = _flags(param)
    if param.param_type_name == "argument":
        if not param.metavar or param.metavar != param.metavar.upper():
            yield f"{where}: argument {name!r} needs an upper-case metavar (FILE, DIR, JOB_ID)"
        elif param.type_descriptor.is_path and param.metavar not in ("FILE", "DIR"):
            yield f"{where}: path argument {name!r} is shown as {param.metavar}, not FILE or DIR"
        return
    if param.hidden:
        return
    row = CONVENTIONS.get(name)
    label = "/".join(flags)
    if row is not None:
        if flags != row.flags:
            yield f"{where}: option {name!r} is {label}, the conventions say {'/'.join(row.flags)}"
        if param.metavar != row.metavar and not _is_flag(param):
            yield f"{where}: {label} is shown as {param.metavar}, the conventions say {row.metavar}"
        if row.choices is not None and _choices(param) != row.choices:
            yield f"{where}: {label} takes {_choices(param)}, the conventions say {row.choices}"
        if (param.min, param.max) != (row.minimum, row.maximum) and not _is_flag(param):
            yield (
                f"{where}: {label} range {param.min}..{param.max}, "
                f"the conventions say {row.minimum}..{row.maximum}"
            )
    for other in CONVENTIONS.values():
        taken = set(flags) & set(other.flags)
        if other.name != name and taken:
            yield f"{where}: {'/'.join(sorted(taken))} belongs to {other.name!r} ({other.help})"
    if not param.required and not _is_flag(param) and not _shows_default(param):
        yield f"{where}: {label} shows no default (give show_default a text like 'none')"
    help_text = param.help or ""
    if re.search(r"default\s*:", help_text, re.IGNORECASE):
        yield f"{where}: {label} types its default into the help; use show_default"
    for flag in flags:
        if "-per-1k" in flag and flag.replace("-per-1k", "-per-1m") not in flags_here:
            yield f"{where}: {flag} has no per-1M twin; prices are per 1M tokens"


def _rendered_help(root: Any, path: list[str]) -> str:
    """What ``finetune-kit PATH --help`` prints on a wide terminal without colours."""
    import contextlib
    import io
    import os

    buffer = io.StringIO()
    saved = {k: os.environ.get(k) for k in ("COLUMNS", "NO_COLOR", "TERM")}
    os.environ.update(COLUMNS="400", NO_COLOR="1", TERM="dumb")
    try:
        with contextlib.redirect_stdout(buffer):
            root.main([*path, "--help"], prog_name=root.name, standalone_mode=False)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return buffer.getvalue()


def _words(text: str) -> str:
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def convention_problems(root: Any, *, render: bool = True) -> list[str]:
    """Every place where a command breaks the CLI conventions (empty when none does).

    Args:
        root: The click command tree (``typer.main.get_command(app)``).
        render: Also render each command's ``--help`` and check what a user sees.

    Returns:
        One line per problem, naming the command and the option.
    """
    from rich.text import Text

    problems: list[str] = []
    shorts: dict[str, set[str]] = {}
    root_flags = {f for p in root.params for f in _flags(p)}
    if "--version" not in root_flags:
        problems.append("finetune-kit: no --version option")
    for path, command in _commands(root, root.name or "finetune-kit"):
        if path != (root.name or "finetune-kit") and hasattr(command, "commands"):
            continue
        params = [p for p in command.params if p.name != "help"]
        if path == (root.name or "finetune-kit"):
            continue
        flags_here = {f for p in params for f in _flags(p)}
        for p in params:
            problems.extend(_param_problems(path, p, flags_here))
            if p.param_type_name == "option":
                longs = [f for f in _flags(p) if f.startswith("--")]
                for short in (f for f in _flags(p) if not f.startswith("--")):
                    shorts.setdefault(short, set()).update(longs[:1])
        if render:
            text = _rendered_help(root, path.split()[1:])
            seen = _words(text)
            if "<bool>" in text:
                problems.append(f"{path} --help: shows <bool> for a flag")
            usage = next((line for line in text.splitlines() if "Usage:" in line), "")
            if "{" in usage:
                problems.append(f"{path} --help: usage line {usage.strip()!r} has {{...}}")
            for p in params:
                help_text = p.help or ""
                if help_text and _words(Text.from_markup(help_text).plain) not in seen:
                    problems.append(f"{path} --help: the help of {p.name!r} loses words")
    for short, meanings in sorted(shorts.items()):
        if len(meanings) > 1:
            problems.append(f"{short} means {' and '.join(sorted(meanings))} in different commands")
    return problems
