"""finetune-kit: turn your own examples into clean, validated, priced fine-tuning jobs.

The public API is the table below: each public name and the module that defines it. ``__all__``,
lazy loading and ``dir()`` are derived from it, and ``__init__.pyi`` (what type checkers read) is
generated from it by ``scripts/gen_stub.py`` (a test fails when the two differ). Names are
imported on first use, so ``import finetune_kit`` (and ``finetune-kit validate``) stays fast: the
``openai`` SDK is only loaded by the job client.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

PUBLIC: dict[str, str] = {
    "APIConnectionFailed": "finetune_kit.errors",
    "APIError": "finetune_kit.errors",
    "AnyExample": "finetune_kit.dataset",
    "ArchiveReport": "finetune_kit.jobs.archive",
    "AsyncJobClient": "finetune_kit.jobs.client",
    "AuthenticationFailed": "finetune_kit.errors",
    "ChatTokenizer": "finetune_kit.tokens.chat",
    "Checkpoint": "finetune_kit.jobs.models",
    "ConfigError": "finetune_kit.errors",
    "ContentPart": "finetune_kit.schema",
    "Comparison": "finetune_kit.move.compare",
    "CostEstimator": "finetune_kit.cost.estimator",
    "DataError": "finetune_kit.errors",
    "Dataset": "finetune_kit.dataset",
    "DedupeReport": "finetune_kit.dedupe.report",
    "DedupeSavings": "finetune_kit.dedupe.report",
    "DuplicateGroup": "finetune_kit.dedupe.report",
    "Example": "finetune_kit.schema",
    "ExampleTokens": "finetune_kit.tokens.chat",
    "ExportReport": "finetune_kit.export.convert",
    "FidelityReport": "finetune_kit.export.fidelity",
    "FileRef": "finetune_kit.jobs.models",
    "Finding": "finetune_kit.validation.engine",
    "FinetuneKitError": "finetune_kit.errors",
    "FixReport": "finetune_kit.validation.fixes",
    "Format": "finetune_kit._checks",
    "FunctionCall": "finetune_kit.schema",
    "FunctionDefinition": "finetune_kit.schema",
    "HFChatTokenizer": "finetune_kit.tokens.hf",
    "HarmonyTokenizer": "finetune_kit.tokens.harmony",
    "ImagePart": "finetune_kit.schema",
    "ImageURL": "finetune_kit.schema",
    "Job": "finetune_kit.jobs.models",
    "JobClient": "finetune_kit.jobs.client",
    "JobCreationRefused": "finetune_kit.errors",
    "JobError": "finetune_kit.jobs.models",
    "JobEvent": "finetune_kit.jobs.models",
    "JobFailed": "finetune_kit.errors",
    "JobTimeout": "finetune_kit.errors",
    "LifecycleWarning": "finetune_kit.lifecycle",
    "Line": "finetune_kit.reading",
    "LineProblem": "finetune_kit.reading",
    "LineResult": "finetune_kit.validation.engine",
    "Message": "finetune_kit.schema",
    "Migration": "finetune_kit.move.migrate",
    "MigrationReport": "finetune_kit.move.migrate",
    "Method": "finetune_kit._checks",
    "ModelLifecycle": "finetune_kit.lifecycle",
    "ModelPrice": "finetune_kit.catalog.prices",
    "ModelTokens": "finetune_kit.tokens.compare",
    "NearConfig": "finetune_kit.dedupe.signature",
    "OpenAIChatTokenizer": "finetune_kit.tokens.chat",
    "PIIFinding": "finetune_kit.privacy.redaction",
    "PIIMatch": "finetune_kit.privacy.redaction",
    "PIIMode": "finetune_kit.validation.engine",
    "PersonalDataFound": "finetune_kit.errors",
    "PreferenceExample": "finetune_kit.schema",
    "PreferenceInput": "finetune_kit.schema",
    "PricePoint": "finetune_kit.move.compare",
    "PriceTable": "finetune_kit.catalog.prices",
    "Provider": "finetune_kit.providers.base",
    "ProviderFacts": "finetune_kit.providers.base",
    "ProviderUnsupported": "finetune_kit.errors",
    "Problem": "finetune_kit._checks",
    "QuotaExceeded": "finetune_kit.errors",
    "RecordedWait": "finetune_kit.jobs._core",
    "RedactionReport": "finetune_kit.privacy.redaction",
    "Redactor": "finetune_kit.privacy.redaction",
    "RenderedExample": "finetune_kit.tokens.chat",
    "RetryPolicy": "finetune_kit.jobs._core",
    "Role": "finetune_kit.schema",
    "Rule": "finetune_kit.validation.engine",
    "RuleContext": "finetune_kit.validation.engine",
    "SAMPLE_SYSTEM_PROMPT": "finetune_kit.dataset",
    "Segment": "finetune_kit.tokens.chat",
    "Severity": "finetune_kit.validation.engine",
    "TargetCost": "finetune_kit.move.compare",
    "TextPart": "finetune_kit.schema",
    "TokenComparison": "finetune_kit.tokens.compare",
    "Tokenizer": "finetune_kit.tokens.counting",
    "TokenizerInfo": "finetune_kit.tokens.registry",
    "TokenizerUnavailable": "finetune_kit.errors",
    "Tool": "finetune_kit.schema",
    "ToolCall": "finetune_kit.schema",
    "TrainingEstimate": "finetune_kit.cost.estimator",
    "UnknownModelError": "finetune_kit.errors",
    "UsageEstimate": "finetune_kit.cost.estimator",
    "ValidationFailed": "finetune_kit.errors",
    "ValidationLeak": "finetune_kit.dedupe.report",
    "ValidationReport": "finetune_kit.validation.engine",
    "Validator": "finetune_kit.validation.engine",
    "amigrate": "finetune_kit.move.migrate",
    "azure_client": "finetune_kit.providers.azure",
    "compare": "finetune_kit.move.compare",
    "compare_tokens": "finetune_kit.tokens.compare",
    "dedupe_file": "finetune_kit.dedupe.core",
    "default_epochs": "finetune_kit.cost.estimator",
    "detect_format": "finetune_kit._checks",
    "export_file": "finetune_kit.export.convert",
    "find_duplicates": "finetune_kit.dedupe.core",
    "fix_file": "finetune_kit.validation.fixes",
    "get_provider": "finetune_kit.providers.registry",
    "from_format": "finetune_kit.export.convert",
    "iter_jsonl": "finetune_kit.reading",
    "lifecycle_findings": "finetune_kit.lifecycle",
    "migrate": "finetune_kit.move.migrate",
    "open_model_info": "finetune_kit.tokens.registry",
    "parse_line": "finetune_kit.reading",
    "pii_detector": "finetune_kit.privacy.detectors",
    "recorded_waits": "finetune_kit.jobs._core",
    "redact_example": "finetune_kit.privacy.redaction",
    "redact_file": "finetune_kit.privacy.redaction",
    "redact_text": "finetune_kit.privacy.redaction",
    "register_detector": "finetune_kit.privacy.detectors",
    "rule": "finetune_kit.validation.engine",
    "sample_csv_path": "finetune_kit.dataset",
    "scan_example": "finetune_kit.privacy.redaction",
    "scan_text": "finetune_kit.privacy.redaction",
    "set_testing": "finetune_kit.jobs._core",
    "split_ranges": "finetune_kit.reading",
    "to_format": "finetune_kit.export.convert",
    "tokenizer_for_model": "finetune_kit.tokens.registry",
    "validate": "finetune_kit.validation.engine",
}
"""Every public name and the module that defines it (the one table of the public API)."""

__all__ = [*sorted(PUBLIC), "__version__"]  # noqa: PLE0604  (derived; see __init__.pyi)


def __getattr__(name: str) -> Any:
    module = PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'finetune_kit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
