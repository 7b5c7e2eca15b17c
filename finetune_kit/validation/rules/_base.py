"""What the rule modules share: the example lines the catalog shows, and the registration."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from finetune_kit._checks import SEMANTIC, Format, Problem
from finetune_kit.validation.engine import (
    CodeInfo,
    Rule,
    RuleContext,
    Severity,
    register_builtin,
    register_code,
)

_USER = '{"role": "user", "content": "What is overfitting?"}'
_ASSISTANT = '{"role": "assistant", "content": "A model that learns its lessons too well, sirrah."}'
_GOOD = f'{{"messages": [{_USER}, {_ASSISTANT}]}}'

E, W = Severity.ERROR, Severity.WARNING


def _code(
    code: str,
    severity: Severity,
    description: str,
    hint: str,
    *,
    bad: str | bytes | None = None,
    good: str | None = _GOOD,
    file_level: bool = False,
) -> None:
    register_code(CodeInfo(code, severity, description, hint, bad, good, file_level))


def _rule(
    code: str,
    severity: Severity,
    description: str,
    hint: str,
    *,
    bad: str,
    good: str = _GOOD,
    formats: tuple[Format, ...] = ("chat", "preference"),
) -> Callable[
    [Callable[[Mapping[str, Any], RuleContext], Iterable[Problem | str]]],
    Callable[[Mapping[str, Any], RuleContext], Iterable[Problem | str]],
]:
    """Register a built-in rule on the raw parsed JSON of one line."""

    def decorator(
        func: Callable[[Mapping[str, Any], RuleContext], Iterable[Problem | str]],
    ) -> Callable[[Mapping[str, Any], RuleContext], Iterable[Problem | str]]:
        _code(code, severity, description, hint, bad=bad, good=good)
        register_builtin(
            Rule(code, func, severity, hint, description, frozenset(formats), typed=False)
        )
        return func

    return decorator


def _semantic_rule(
    code: str, severity: Severity, description: str, hint: str, *, bad: str, good: str = _GOOD
) -> None:
    """Register a check the typed models share (function and formats from ``SEMANTIC``)."""
    func, formats = SEMANTIC[code]
    _rule(code, severity, description, hint, bad=bad, good=good, formats=formats)(func)
