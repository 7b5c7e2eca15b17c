"""Validation: the engine, its registry, and the built-in rules that register into it."""

from __future__ import annotations

from finetune_kit.validation import rules  # noqa: F401  (the built-in rules register themselves)
from finetune_kit.validation.engine import (
    CATALOG,
    MIN_EXAMPLES,
    CodeInfo,
    Finding,
    Format,
    LineResult,
    Method,
    PIIMode,
    Problem,
    Rule,
    RuleContext,
    RuleFunc,
    Severity,
    ValidationReport,
    Validator,
    detect_format,
    rule,
    validate,
)
from finetune_kit.validation.fixes import FixReport, fix_file

__all__ = [
    "CATALOG",
    "MIN_EXAMPLES",
    "CodeInfo",
    "Finding",
    "FixReport",
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
    "fix_file",
    "rule",
    "validate",
]
