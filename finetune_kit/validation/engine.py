"""The validation engine: one set of rules for in-memory datasets and files on disk.

Every problem is a [`Finding`][finetune_kit.Finding] with a line number, a stable code, a
severity, a message, a fix hint and a JSON path. [`validate`][finetune_kit.validate] reads a file
in one streaming pass and reports *every* problem at once; a
[`Validator`][finetune_kit.Validator] holds the rules and lets you add your own.

Examples:
    >>> from finetune_kit import Validator, Problem
    >>> validator = Validator()
    >>> @validator.rule(code="too_polite", severity="warning", hint="Say it plainly.")
    ... def too_polite(example, ctx):
    ...     if "prithee" in example.messages[-1].text.lower():
    ...         yield Problem("the answer says 'prithee'", field="messages[-1].content")
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from pydantic import ValidationError

from finetune_kit._checks import Format, Method, Problem, detect_format, forget_messages
from finetune_kit.errors import ConfigError
from finetune_kit.reading import Line, iter_jsonl
from finetune_kit.validation.profiles import ValidationProfile, get_profile, turn_order_problems

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import RenderableType

    from finetune_kit.dataset import Dataset
    from finetune_kit.schema import Example, PreferenceExample
    from finetune_kit.tokens.chat import ChatTokenizer
    from finetune_kit.tokens.counting import Tokenizer

__all__ = [
    "CATALOG",
    "MIN_EXAMPLES",
    "CodeInfo",
    "Finding",
    "Format",
    "LineResult",
    "Method",
    "PIIMode",
    "Problem",
    "Rule",
    "RuleContext",
    "RuleFunc",
    "Severity",
    "ValidationReport",
    "Validator",
    "detect_format",
    "rule",
    "validate",
]

MIN_EXAMPLES = 10
"""OpenAI's minimum number of examples in a training file."""

PIIMode = Literal["warn", "error", "off"]
"""What validation does about personal data: warn (default), refuse it, or not look."""

PII_RULE = "pii"
"""Code of the built-in rule that reports personal data (as ``pii_*`` findings)."""

_METHOD_FORMAT: dict[str, Format] = {"supervised": "chat", "dpo": "preference"}
_FORMAT_NAME = {"chat": "a chat (supervised)", "preference": "a preference (DPO)"}
ENTRY_POINT_GROUP = "finetune_kit.rules"


class Severity(str, enum.Enum):
    """How bad a finding is: errors make OpenAI reject the file; warnings deserve a look."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in the data.

    Attributes:
        code: Stable identifier, e.g. ``missing_assistant_message``.
        severity: ``error`` or ``warning``.
        message: What is wrong.
        hint: How to fix it.
        line: 1-based line in the file (row index + 1 for in-memory data); ``None`` for
            file-level findings.
        field: JSON path such as ``messages[2].content``, where it applies.
    """

    code: str
    severity: Severity
    message: str
    hint: str
    line: int | None = None
    field: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the finding as a JSON-ready dict (the documented output contract)."""
        return {
            "line": self.line,
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint,
            "field": self.field,
        }

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "file"
        at = f" {self.field}" if self.field else ""
        return f"{where}{at}: {self.severity.value} [{self.code}] {self.message} — {self.hint}"


@dataclass(frozen=True, slots=True)
class RuleContext:
    """What a rule knows besides the example itself.

    Attributes:
        line: The example's line (or row) number, when known.
        model: The base model the data is meant for, if given.
        method: ``supervised`` or ``dpo``, if given.
        format: The format of this example (``chat`` or ``preference``).
        file: The file being validated, if any.
        json_text: The example as compact JSON with sorted keys and ASCII escapes (what
            duplicate detection hashes), when the engine made it. A rule may search it to
            skip its walk: a string that holds ``<|`` puts ``<|`` in the text.
    """

    line: int | None
    model: str | None
    method: Method | None
    format: Format
    file: str | None = None
    json_text: str | None = None


RuleFunc = Callable[[Any, RuleContext], Iterable["Problem | str"]]
"""A rule: ``(example, context) -> iterable of Problem or str``."""


@dataclass(frozen=True)
class Rule:
    """A registered rule.

    Attributes:
        code: Stable code of the findings it yields.
        func: The function. Typed rules get an [`Example`][finetune_kit.Example] or
            [`PreferenceExample`][finetune_kit.PreferenceExample]; raw rules get the parsed
            JSON dict as it is in the file.
        severity: Severity of its findings.
        hint: Default fix hint.
        description: One line saying what it checks (used in docs).
        formats: The formats it applies to.
        typed: True when ``func`` takes the typed model (only called on structurally valid
            examples); False when it takes the raw dict.
    """

    code: str
    func: RuleFunc
    severity: Severity
    hint: str
    description: str = ""
    formats: frozenset[Format] = frozenset({"chat", "preference"})
    typed: bool = True

    def run(self, example: Any, ctx: RuleContext) -> Iterator[Finding]:
        """Run the rule and turn what it yields into findings for ``ctx.line``."""
        found: list[Finding] = []
        self._apply(example, ctx, found)
        yield from found

    def _apply(self, example: Any, ctx: RuleContext, found: list[Finding]) -> None:
        """Run the rule, appending its findings to ``found`` (the engine's per-example call)."""
        try:
            produced = list(self.func(example, ctx))
        except Exception as exc:  # a user rule must never crash the whole validation
            found.append(
                Finding(
                    "rule_failed",
                    Severity.ERROR,
                    f"rule {self.code!r} raised {type(exc).__name__}: {exc}",
                    "fix the rule function; the example itself may be fine",
                    ctx.line,
                )
            )
            return
        for item in produced:
            problem = Problem(item) if isinstance(item, str) else item
            found.append(
                Finding(
                    problem.code or self.code,
                    self.severity,
                    problem.message,
                    problem.hint or self.hint,
                    ctx.line,
                    problem.field,
                )
            )


@dataclass(frozen=True)
class CodeInfo:
    """Documentation of one finding code.

    Attributes:
        code: The code.
        severity: Its severity.
        description: What it means.
        hint: The default fix hint.
        bad: A line (JSON text, or bytes for encoding problems) that triggers it.
        good: The same line fixed.
        file_level: True for codes about the whole file (no line number).
    """

    code: str
    severity: Severity
    description: str
    hint: str
    bad: str | bytes | None = None
    good: str | None = None
    file_level: bool = False


CATALOG: dict[str, CodeInfo] = {}
"""Every finding code the engine and the built-in rules emit, by code (filled as the rule
modules register themselves)."""

_BUILTIN_RULES: list[Rule] = []
_PLAIN_SILENT: set[str] = set()


def register_code(info: CodeInfo) -> None:
    """Document a finding code in the [`CATALOG`][finetune_kit.validation.engine.CATALOG]."""
    CATALOG[info.code] = info


def register_builtin(rule: Rule) -> None:
    """Add a built-in rule (the rule modules of [`finetune_kit.validation.rules`][] call it)."""
    _BUILTIN_RULES.append(rule)


def register_plain_silent(codes: Iterable[str]) -> None:
    """Declare built-in rules that never find anything in a plain text-only chat example.

    The engine skips them on such examples (see `_plain_messages`); the test suite checks the
    claim for every code declared.
    """
    _PLAIN_SILENT.update(codes)


def builtin_rules() -> tuple[Rule, ...]:
    """The built-in rules in the order they run."""
    return tuple(_BUILTIN_RULES)


def _make_rule(
    func: RuleFunc,
    code: str,
    severity: Severity | str,
    hint: str,
    description: str | None,
    formats: Iterable[Format],
    typed: bool,
) -> Rule:
    if not code or not code.replace("_", "").isalnum():
        raise ConfigError(f"rule code {code!r} must be a non-empty snake_case word")
    return Rule(
        code=code,
        func=func,
        severity=Severity(severity),
        hint=hint,
        description=description or (func.__doc__ or "").strip().split("\n")[0],
        formats=frozenset(formats),
        typed=typed,
    )


_GLOBAL_RULES: dict[str, Rule] = {}


def rule(
    *,
    code: str,
    severity: Severity | str = Severity.ERROR,
    hint: str,
    description: str | None = None,
    formats: Iterable[Format] = ("chat", "preference"),
    typed: bool = True,
) -> Callable[[RuleFunc], RuleFunc]:
    """Register a rule for every [`Validator`][finetune_kit.Validator] (and the CLI).

    Args:
        code: Stable snake_case code for its findings.
        severity: ``"error"`` or ``"warning"``.
        hint: How to fix what it finds.
        description: One line for docs (default: the function's docstring's first line).
        formats: Which formats it applies to.
        typed: Give the function the typed example (default) or the raw dict.

    Returns:
        A decorator that registers the function and returns it unchanged.
    """

    def decorator(func: RuleFunc) -> RuleFunc:
        _GLOBAL_RULES[code] = _make_rule(func, code, severity, hint, description, formats, typed)
        return func

    return decorator


_PLUGINS: list[Rule] | None = None


def _plugin_rules() -> list[Rule]:
    """Rules shipped by other packages through the ``finetune_kit.rules`` entry point group.

    An entry point may name a [`Rule`][finetune_kit.Rule], a list of them, or a function that
    registers rules with [`rule`][finetune_kit.rule] when called.
    """
    global _PLUGINS  # noqa: PLW0603 - loaded once per process, like pytest plugins
    if _PLUGINS is None:
        found: list[Rule] = []
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                obj = ep.load()
            except Exception as exc:
                raise ConfigError(
                    f"rule plugin {ep.name!r} ({ep.value}) failed to load: {exc}",
                    hint="fix or uninstall the package that provides it",
                ) from exc
            if isinstance(obj, Rule):
                found.append(obj)
            elif isinstance(obj, list | tuple):
                found.extend(r for r in obj if isinstance(r, Rule))
            elif callable(obj):
                obj()
        _PLUGINS = found
    return _PLUGINS


_ENCODING_CODES = frozenset({"bom", "bom_missing"})
"""Findings about the file's encoding: they do not keep an example from being counted."""


def _finding(
    code: str, message: str, line: int | None, *, field: str | None = None, hint: str | None = None
) -> Finding:
    """A finding for one of the engine's own codes (severity and hint from the catalog)."""
    info = CATALOG[code]
    return Finding(code, info.severity, message, hint or info.hint, line, field)


@dataclass(slots=True)
class LineResult:
    """What the engine found on one line.

    Attributes:
        line: 1-based line number.
        value: The parsed object (``None`` when the line did not parse to an object).
        format: The example's format, when it is an object.
        findings: Everything found on the line.
        tokens: The example's token count, when a counter was given and the example is valid.
    """

    line: int
    value: Any
    format: Format | None
    findings: list[Finding]
    tokens: int | None = None

    @property
    def has_error(self) -> bool:
        """True when any finding on the line is an error."""
        return any(f.severity is Severity.ERROR for f in self.findings)


def _canonical_text(obj: Any) -> str:
    # ASCII output (escapes for the rest) is the encoder's fastest path and needs no UTF-8 step.
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("ascii"), digest_size=12).digest()


_PLAIN_ROLES = {"system": b"s", "developer": b"d", "user": b"u", "assistant": b"a"}


def _plain_messages(obj: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The messages of a plain text-only chat example, or None when it is anything more.

    Plain: the only key is ``messages``, a non-empty list of objects that each hold exactly a
    ``role`` (system, developer, user or assistant) and a string ``content``. Whether an
    example is plain depends on its JSON value only (never on key order or Python types), so
    two examples with the same canonical text are both plain or both not.
    """
    if len(obj) != 1:
        return None
    msgs = obj.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return None
    roles = _PLAIN_ROLES
    for m in msgs:
        if not isinstance(m, dict) or len(m) != 2 or not isinstance(m.get("content"), str):
            return None
        role = m.get("role")
        if not isinstance(role, str) or role not in roles:
            return None
    return msgs


def _plain_digest(messages: Iterable[Mapping[str, Any]]) -> bytes:
    """Duplicate digest of a plain example without its canonical JSON text.

    Each message adds its role's byte, the byte length of its content and the content
    (UTF-8; lone surrogates as their own 3 bytes), so equal digests mean equal messages. A
    personalisation string keeps these digests apart from those of canonical texts: a plain
    example can only equal another plain example.
    """
    h = hashlib.blake2b(digest_size=12, person=b"plain-chat")
    update = h.update
    roles = _PLAIN_ROLES
    for m in messages:
        data = m["content"].encode("utf-8", "surrogatepass")
        update(roles[m["role"]] + len(data).to_bytes(8, "little"))
        update(data)
    return h.digest()


def _example_digest(obj: Mapping[str, Any]) -> bytes:
    """The digest duplicate detection keys an example by: the one function for it.

    Plain examples are hashed by `_plain_digest`, the others by their canonical JSON text;
    whatever looks up a digest the engine stored (the merge of parallel ranges) must use this.
    """
    msgs = _plain_messages(obj)
    return _plain_digest(msgs) if msgs is not None else _digest(_canonical_text(obj))


Source: TypeAlias = (
    "Dataset | str | os.PathLike[str] | Iterable[Example | PreferenceExample | dict[str, Any]]"
)
"""What can be validated: a JSONL path, a dataset, or examples (typed or dicts)."""

TokenCounter = Callable[[Mapping[str, Any], Format], int]
"""Counts an example's tokens: ``(raw example, format) -> tokens``."""


@dataclass
class _FileState:
    """Per-file accumulators, mergeable across byte ranges processed in parallel."""

    n_lines: int = 0
    n_examples: int = 0
    n_valid: int = 0
    formats: Counter[str] = field(default_factory=Counter)
    messages_per_example: Counter[int] = field(default_factory=Counter)
    no_system: int = 0
    no_user: int = 0
    seen: dict[bytes, int] = field(default_factory=dict)
    n_duplicates: int = 0

    def merge(self, other: _FileState, line_offset: int) -> list[Finding]:
        """Fold a later range's state into this one (its lines shifted by ``line_offset``).

        Returns:
            The duplicates that only show across the two ranges (new findings).
        """
        new: list[Finding] = []
        self.n_lines += other.n_lines
        self.n_examples += other.n_examples
        self.n_valid += other.n_valid
        self.formats.update(other.formats)
        self.messages_per_example.update(other.messages_per_example)
        self.no_system += other.no_system
        self.no_user += other.no_user
        self.n_duplicates += other.n_duplicates
        for digest, local_line in other.seen.items():
            line = local_line + line_offset
            first = self.seen.get(digest)
            if first is None:
                self.seen[digest] = line
            else:
                new.append(_duplicate(line, first))
        self.n_duplicates += len(new)
        return new

    def stats(self) -> dict[str, Any]:
        """The report's ``stats`` block."""
        dist = dict(sorted(self.messages_per_example.items()))
        total = sum(k * v for k, v in dist.items())
        counted = sum(dist.values())
        return {
            "n_lines": self.n_lines,
            "n_examples": self.n_examples,
            "n_valid_examples": self.n_valid,
            "formats": dict(self.formats),
            "examples_without_system_message": self.no_system,
            "examples_without_user_message": self.no_user,
            "messages_per_example": {
                "min": min(dist) if dist else None,
                "max": max(dist) if dist else None,
                "mean": round(total / counted, 2) if counted else None,
                "distribution": {str(k): v for k, v in dist.items()},
            },
            "n_duplicates": self.n_duplicates,
        }


def _duplicate(line: int, first: int) -> Finding:
    return _finding("duplicate_example", f"same example as line {first}", line)


class Validator:
    """A set of rules and the engine that runs them.

    Args:
        rules: Extra rules for this validator only.
        builtin: Include the built-in rules (see the rules reference).
        plugins: Include rules registered globally with [`rule`][finetune_kit.rule] and those
            shipped through the ``finetune_kit.rules`` entry point group.
        min_examples: The file-level minimum (default: the profile's; OpenAI requires 10).
        pii: Personal data found in the text: ``"warn"`` (``pii_*`` warnings, the default),
            ``"error"`` (refuse it) or ``"off"`` (do not look).
        profile: The provider whose rules apply: ``openai`` (default), ``azure`` (UTF-8
            with BOM required) or ``together`` (alternating turns, its limits); see
            [`finetune_kit.validation.profiles`][].
    """

    def __init__(
        self,
        rules: Iterable[Rule] = (),
        *,
        builtin: bool = True,
        plugins: bool = True,
        min_examples: int | None = None,
        pii: PIIMode = "warn",
        profile: str | ValidationProfile = "openai",
    ) -> None:
        if pii not in ("warn", "error", "off"):
            raise ConfigError(f"pii must be 'warn', 'error' or 'off', not {pii!r}")
        self._own: dict[str, Rule] = {r.code: r for r in rules}
        self._builtin = builtin
        self._plugins = plugins
        self.profile = get_profile(profile)
        self.min_examples = self.profile.min_examples if min_examples is None else min_examples
        self.pii: PIIMode = pii

    # -- registry ---------------------------------------------------------------------------

    def add_rule(
        self,
        func: RuleFunc,
        *,
        code: str,
        severity: Severity | str = Severity.ERROR,
        hint: str,
        description: str | None = None,
        formats: Iterable[Format] = ("chat", "preference"),
        typed: bool = True,
    ) -> Rule:
        """Add a rule to this validator.

        Args:
            func: ``(example, ctx) -> iterable of Problem | str``.
            code: Stable snake_case code.
            severity: ``"error"`` or ``"warning"``.
            hint: How to fix what it finds.
            description: One line for docs.
            formats: Which formats it applies to.
            typed: Give the typed example (default) or the raw dict.

        Returns:
            The registered [`Rule`][finetune_kit.Rule].
        """
        made = _make_rule(func, code, severity, hint, description, formats, typed)
        self._own[code] = made
        return made

    def rule(
        self,
        *,
        code: str,
        severity: Severity | str = Severity.ERROR,
        hint: str,
        description: str | None = None,
        formats: Iterable[Format] = ("chat", "preference"),
        typed: bool = True,
    ) -> Callable[[RuleFunc], RuleFunc]:
        """Decorator form of [`add_rule`][finetune_kit.Validator.add_rule]."""

        def decorator(func: RuleFunc) -> RuleFunc:
            self.add_rule(
                func,
                code=code,
                severity=severity,
                hint=hint,
                description=description,
                formats=formats,
                typed=typed,
            )
            return func

        return decorator

    def remove_rule(self, code: str) -> None:
        """Stop running the rule with ``code`` in this validator (built-in ones too)."""
        self._own[code] = Rule(code, _no_findings, Severity.WARNING, "", "disabled", frozenset())

    @property
    def rules(self) -> list[Rule]:
        """Every active rule, built-in first, then plugins, then this validator's own."""
        merged: dict[str, Rule] = {}
        if self._builtin:
            merged.update((r.code, r) for r in _BUILTIN_RULES)
            pii_rule = merged.pop(PII_RULE, None)
            if pii_rule is not None and self.pii != "off":
                severity = Severity.ERROR if self.pii == "error" else Severity.WARNING
                merged[PII_RULE] = replace(pii_rule, severity=severity)
        if self._plugins:
            merged.update((r.code, r) for r in _plugin_rules())
            merged.update(_GLOBAL_RULES)
        merged.update(self._own)
        return [r for r in merged.values() if r.formats]

    # -- engine -----------------------------------------------------------------------------

    def scan(
        self,
        lines: Iterable[Line],
        *,
        model: str | None = None,
        method: Method | None = None,
        expected_format: Format | None = None,
        file: str | None = None,
        counter: TokenCounter | None = None,
        token_limit: int | None = None,
        state: _FileState | None = None,
        at_file_start: bool = True,
    ) -> Iterator[LineResult]:
        """Check lines one by one, yielding each line's result as soon as it is known.

        This is the streaming core behind [`validate`][finetune_kit.Validator.validate] and the
        cost estimate; file-level checks are added by
        [`finish`][finetune_kit.Validator.finish].

        Args:
            lines: Parsed lines (see [`iter_jsonl`][finetune_kit.iter_jsonl]).
            model: Base model, passed to rules.
            method: Expected method; lines in the other format are errors.
            expected_format: The file's format when no method is given (lines in another
                format are ``mixed_formats`` errors). Default: the first example's format.
            file: File name, passed to rules.
            counter: Counts each valid example's tokens (``LineResult.tokens``).
            token_limit: Per-example token limit; longer examples get ``example_too_long``.
            state: Accumulator for file-level statistics.
            at_file_start: The lines start at the start of the file (False for a later byte
                range or partition of it, numbered from 1 too: its line 1 is not the file's,
                so the byte-order-mark rules of the file's first line do not apply).

        Yields:
            One [`LineResult`][finetune_kit.LineResult] per line.
        """
        from finetune_kit.schema import Example, PreferenceExample

        st = state if state is not None else _FileState()
        if method is not None:
            if method not in _METHOD_FORMAT:
                raise ConfigError(f"unknown method {method!r}", hint="use supervised or dpo")
            expected_format = _METHOD_FORMAT[method]
        active = self.rules
        raw_rules = {f: [r for r in active if not r.typed and f in r.formats] for f in _FORMATS}
        typed_rules = {f: [r for r in active if r.typed and f in r.formats] for f in _FORMATS}
        # Plain text-only chat examples (most of a big file) skip the built-in rules that
        # cannot find anything in them; they need no canonical text either, unless a rule
        # from outside the built-in set runs (it may read ``ctx.json_text``).
        builtin = {r.func for r in _BUILTIN_RULES}
        silent = {r.func for r in _BUILTIN_RULES if r.code in _PLAIN_SILENT}
        plain_rules = [r for r in raw_rules["chat"] if r.func not in silent]
        only_builtin = all(r.func in builtin for r in active)
        models: dict[Format, type[Example] | type[PreferenceExample]] = {
            "chat": Example,
            "preference": PreferenceExample,
        }
        first_line = 1 if at_file_start else 0  # no line is the file's first otherwise
        for line in lines:
            st.n_lines += 1
            n = line.number
            found: list[Finding] = []
            if line.had_bom and not (n == first_line and self.profile.bom != "forbidden"):
                found.append(_finding("bom", "the line starts with a UTF-8 byte-order mark", n))
            if n == first_line and not line.had_bom and self.profile.bom == "required":
                found.append(
                    _finding(
                        "bom_missing",
                        f"{self.profile.title} needs UTF-8 with a byte-order mark; "
                        "the file has none",
                        n,
                    )
                )
            if line.problem is not None:
                p = line.problem
                found.append(_finding(p.code, p.message, n, hint=p.hint))
                yield LineResult(n, None, None, found)
                continue
            obj = line.value
            if not isinstance(obj, dict):
                kind = type(obj).__name__ if obj is not None else "null"
                found.append(_finding("not_an_object", f"the line is a JSON {kind}", n))
                yield LineResult(n, None, None, found)
                continue
            st.n_examples += 1
            detected = detect_format(obj)
            if detected == "completion":
                found.append(
                    _finding(
                        "legacy_completion_format",
                        "legacy prompt/completion example: chat models need `messages`",
                        n,
                    )
                )
                yield LineResult(n, obj, None, found)
                continue
            fmt = detected
            st.formats[fmt] += 1
            if expected_format is None:
                expected_format = fmt
            if fmt != expected_format:
                if method is not None:
                    found.append(
                        _finding(
                            "wrong_format_for_method",
                            f"this is {_FORMAT_NAME[fmt]} example, but method {method!r} "
                            f"expects {_FORMAT_NAME[expected_format]} one",
                            n,
                        )
                    )
                else:
                    found.append(
                        _finding(
                            "mixed_formats",
                            f"this is {_FORMAT_NAME[fmt]} example, but the file's first example "
                            f"is {_FORMAT_NAME[expected_format]} one",
                            n,
                        )
                    )
            plain = _plain_messages(obj) if fmt == "chat" else None
            text: str | None
            if plain is None:
                text = canonical = _canonical_text(obj)
                digest = _digest(canonical)
            else:
                text = None if only_builtin else _canonical_text(obj)
                digest = _plain_digest(plain)
            ctx = RuleContext(
                line=n, model=model, method=method, format=fmt, file=file, json_text=text
            )
            for r in raw_rules[fmt] if plain is None else plain_rules:
                r._apply(obj, ctx, found)
            if self.profile.alternating_turns:
                msgs = (
                    obj.get("messages")
                    if fmt == "chat"
                    else (obj.get("input") or {}).get("messages")
                )
                where = "messages" if fmt == "chat" else "input.messages"
                for path, text_ in turn_order_problems(msgs, where):
                    found.append(_finding("turns_not_alternating", text_, n, field=path))
            forget_messages()
            # a missing or stray byte-order mark is about the file's bytes, not the example:
            # the example is still counted (and priced), the file is still refused
            structurally_ok = not any(
                f.severity is Severity.ERROR and f.code not in _ENCODING_CODES for f in found
            )
            tokens: int | None = None
            if structurally_ok:
                if typed_rules[fmt]:
                    try:
                        typed = models[fmt].model_validate(obj)
                    except ValidationError as exc:
                        found.extend(_schema_findings(exc, n))
                    else:
                        for r in typed_rules[fmt]:
                            r._apply(typed, ctx, found)
                _tally_messages(obj, fmt, st)
                if counter is not None:
                    tokens = counter(obj, fmt)
                    if token_limit is not None and tokens > token_limit:
                        found.append(
                            _finding(
                                "example_too_long",
                                f"{tokens:,} tokens, over the model's limit of {token_limit:,}: "
                                f"{self.profile.title} truncates it from the end",
                                n,
                            )
                        )
                if not any(f.severity is Severity.ERROR for f in found):
                    st.n_valid += 1
            first = st.seen.get(digest)
            if first is None:
                st.seen[digest] = n
            else:
                dup = _duplicate(n, first)
                st.n_duplicates += 1
                found.append(dup)
            yield LineResult(n, obj, fmt, found, tokens)

    def finish(self, state: _FileState) -> list[Finding]:
        """File-level findings once every line is scanned (e.g. too few examples)."""
        out: list[Finding] = []
        if state.n_examples < self.min_examples:
            out.append(
                _finding(
                    "too_few_examples",
                    f"{state.n_examples} example(s); {self.profile.title} requires at least "
                    f"{self.min_examples}",
                    None,
                )
            )
        return out

    def validate(
        self,
        source: Dataset
        | str
        | os.PathLike[str]
        | Iterable[Example | PreferenceExample | dict[str, Any]],
        *,
        model: str | None = None,
        method: Method | None = None,
        token_limit: int | None = None,
        tokenizer: str | os.PathLike[str] | None = None,
    ) -> ValidationReport:
        """Validate a file, a [`Dataset`][finetune_kit.Dataset] or an iterable of examples.

        Args:
            source: A JSONL path, a dataset, or examples (typed or dicts); for in-memory data
                the line number is the row index + 1.
            model: The base model. When given, every example's tokens are counted and those
                over the model's per-example limit are reported. An open-weight model
                (e.g. ``openai/gpt-oss-20b``) is counted in its own tokens after its chat
                format, against its maximum training length.
            method: ``supervised`` or ``dpo``; examples in the other format are errors.
            token_limit: Override the per-example token limit.
            tokenizer: A Hugging Face tokenizer folder, ``tokenizer.json`` or hub id to count
                ``model``'s tokens with (see
                [`tokenizer_for_model`][finetune_kit.tokenizer_for_model]).

        Returns:
            The [`ValidationReport`][finetune_kit.ValidationReport] with every finding.
        """
        file: str | None = None
        if isinstance(source, str | os.PathLike):
            file = str(source)
            lines: Iterable[Line] = iter_jsonl(source)
        else:
            lines = _lines_from_objects(source)
        count, token_limit = self._counter(model, method, token_limit, tokenizer)
        counter = count.count_raw if count is not None else None
        state = _FileState()
        findings: list[Finding] = []
        if file is not None:
            path = Path(file)
            findings.extend(self._size_findings(path.stat().st_size if path.is_file() else 0))
        for result in self.scan(
            lines,
            model=model,
            method=method,
            file=file,
            counter=counter,
            token_limit=token_limit,
            state=state,
        ):
            findings.extend(result.findings)
        findings.extend(self.finish(state))
        return ValidationReport(findings=findings, stats=state.stats(), source=file)

    def _counter(
        self,
        model: str | None,
        method: Method | None,
        token_limit: int | None,
        tokenizer: str | os.PathLike[str] | None,
    ) -> tuple[Tokenizer | ChatTokenizer | None, int | None]:
        """What counts ``model``'s tokens during a validation, and the per-example limit.

        ``None`` counts nothing (no model). Byte ranges and partitions scanned elsewhere make
        theirs here too, so every scan of a validation counts alike.
        """
        if model is not None and (tokenizer is not None or _is_open_model(model)):
            from finetune_kit.catalog.providers import training_limit
            from finetune_kit.tokens.registry import tokenizer_for_model

            if token_limit is None:  # the provider's training length for the model, if known
                token_limit = training_limit(self.profile.limits_from, model, method)
            chat = tokenizer_for_model(
                model,
                tokenizer=os.fspath(tokenizer) if tokenizer is not None else None,
                max_length=token_limit,
            )
            return chat, chat.max_length
        if model is not None:
            from finetune_kit.catalog.providers import price_table, training_overrides
            from finetune_kit.tokens.counting import Tokenizer

            source_name = self.profile.limits_from
            tok = Tokenizer.for_model(model, prices=price_table(source_name))
            if token_limit is None:
                limit = training_overrides(source_name, model, method).get("token_limit")
                token_limit = int(limit) if limit is not None else tok.example_limit
            return tok, token_limit
        return None, token_limit

    def _size_findings(self, size: int) -> list[Finding]:
        """``file_too_large`` when a file of ``size`` bytes is over the provider's limit."""
        if size <= self.profile.max_file_bytes:
            return []
        return [
            _finding(
                "file_too_large",
                f"{size:,} bytes; {self.profile.title} takes at most "
                f"{self.profile.max_file_bytes:,}",
                None,
            )
        ]


def _is_open_model(model: str) -> bool:
    from finetune_kit.tokens.registry import open_model_info

    return open_model_info(model) is not None


def _no_findings(_example: Any, _ctx: RuleContext) -> Iterable[Problem | str]:
    return ()


_FORMATS: tuple[Format, ...] = ("chat", "preference")


def _lines_from_objects(items: Iterable[Any]) -> Iterator[Line]:
    for i, item in enumerate(items):
        value = item.to_dict() if hasattr(item, "to_dict") else item
        yield Line(i + 1, b"", value, None)


def _tally_messages(obj: Mapping[str, Any], fmt: Format, st: _FileState) -> None:
    msgs = obj.get("messages") if fmt == "chat" else (obj.get("input") or {}).get("messages")
    if not isinstance(msgs, list):
        return
    st.messages_per_example[len(msgs)] += 1
    roles = {m.get("role") for m in msgs if isinstance(m, dict)}
    if "system" not in roles and "developer" not in roles:
        st.no_system += 1
    if "user" not in roles:
        st.no_user += 1


def _loc_to_path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif "[" in part or part in {"str", "list", "none"}:
            continue  # pydantic names union members in the location; they are not fields
        else:
            out += f".{part}" if out else part
    return out


def _schema_findings(exc: ValidationError, line: int) -> list[Finding]:
    """Safety net: a schema error that no raw rule caught becomes a ``schema_error`` finding."""
    return [
        _finding(
            "schema_error",
            err["msg"],
            line,
            field=_loc_to_path(err["loc"]) or None,
        )
        for err in exc.errors(include_url=False)
    ]


class _FindingsView:
    """``errors``, ``warnings`` and ``ok`` for any result that holds ``findings``."""

    findings: Sequence[Finding]

    @property
    def errors(self) -> list[Finding]:
        """Findings with severity ``error``."""
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        """Findings with severity ``warning``."""
        return [f for f in self.findings if f.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors


@dataclass
class ValidationReport(_FindingsView):
    """Everything [`validate`][finetune_kit.validate] found.

    Attributes:
        findings: Every finding, in line order (file-level ones last).
        stats: Counts: lines, examples, formats, messages per example, duplicates, ...
        source: The file validated, if any.
    """

    findings: list[Finding]
    stats: dict[str, Any] = field(default_factory=dict)
    source: str | None = None

    def by_code(self) -> dict[str, list[Finding]]:
        """Findings grouped by code, errors first, then by count."""
        groups: dict[str, list[Finding]] = {}
        for f in self.findings:
            groups.setdefault(f.code, []).append(f)
        return dict(
            sorted(
                groups.items(),
                key=lambda kv: (kv[1][0].severity is not Severity.ERROR, -len(kv[1]), kv[0]),
            )
        )

    def to_dict(self) -> dict[str, Any]:
        """``{"errors": [...], "warnings": [...], "stats": {...}}`` (the CLI's JSON contract)."""
        return {
            "errors": [f.to_dict() for f in self.errors],
            "warnings": [f.to_dict() for f in self.warnings],
            "stats": self.stats,
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The report as a JSON string (see [`to_dict`][finetune_kit.ValidationReport.to_dict])."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    def to_dataframe(self) -> pd.DataFrame:
        """One row per finding: line, code, severity, field, message, hint."""
        import pandas as pd

        columns = ["line", "code", "severity", "field", "message", "hint"]
        rows = [{k: f.to_dict()[k] for k in columns} for f in self.findings]
        frame: pd.DataFrame = pd.DataFrame(rows, columns=columns).astype({"line": "Int64"})
        return frame

    def raise_for_errors(self) -> None:
        """Raise [`ValidationFailed`][finetune_kit.ValidationFailed] when there is an error."""
        if not self.ok:
            from finetune_kit.errors import ValidationFailed

            raise ValidationFailed(self, file=self.source)

    def summary(self) -> str:
        """One line: examples (and how many are valid when not all are), errors, warnings."""
        n = self.stats.get("n_examples", "?")
        valid = self.stats.get("n_valid_examples", n)
        counted = f"{n} examples" if valid == n else f"{n} examples ({valid} valid)"
        verdict = "OK" if self.ok else "NOT OK"
        return f"{verdict}: {counted}, {len(self.errors)} error(s), {len(self.warnings)} warning(s)"

    def __repr__(self) -> str:
        return f"<ValidationReport {self.summary()}>"

    def __rich__(self) -> RenderableType:
        from finetune_kit._render import validation_report

        return validation_report(self)

    def _repr_html_(self) -> str:
        from finetune_kit._html import table

        rows = [
            [
                str(f.line) if f.line is not None else "—",
                f.severity.value,
                f.code,
                f.field or "",
                f.message,
            ]
            for f in self.findings[:50]
        ]
        more = len(self.findings) - len(rows)
        caption = self.summary() + (
            f" (first 50 of {len(self.findings)} shown)" if more > 0 else ""
        )
        return table(["line", "severity", "code", "field", "message"], rows, caption=caption)


_DEFAULT = Validator()


def validate(
    source: Dataset
    | str
    | os.PathLike[str]
    | Iterable[Example | PreferenceExample | dict[str, Any]],
    *,
    model: str | None = None,
    method: Method | None = None,
    token_limit: int | None = None,
    tokenizer: str | os.PathLike[str] | None = None,
) -> ValidationReport:
    """Validate with the built-in rules plus every globally registered and plugin rule.

    Args:
        source: A JSONL path, a [`Dataset`][finetune_kit.Dataset], or examples.
        model: The base model; enables the per-example token-limit check.
        method: ``supervised`` or ``dpo``.
        token_limit: Override the per-example token limit.
        tokenizer: A Hugging Face tokenizer for ``model`` (folder, file or hub id).

    Returns:
        The [`ValidationReport`][finetune_kit.ValidationReport].

    Examples:
        >>> from finetune_kit import validate
        >>> report = validate([{"messages": [{"role": "user", "content": "Hi"}]}])
        >>> sorted({f.code for f in report.errors})
        ['missing_assistant_message', 'too_few_examples']
    """
    return _DEFAULT.validate(
        source, model=model, method=method, token_limit=token_limit, tokenizer=tokenizer
    )
