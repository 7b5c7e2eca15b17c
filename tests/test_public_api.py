from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import finetune_kit

ROOT = Path(__file__).resolve().parent.parent

# The public API as released: every name here must stay importable from the package root.
SNAPSHOT = frozenset(
    {
        "APIConnectionFailed",
        "APIError",
        "AnyExample",
        "ArchiveReport",
        "AsyncJobClient",
        "AuthenticationFailed",
        "ChatTokenizer",
        "Checkpoint",
        "ConfigError",
        "ContentPart",
        "Comparison",
        "CostEstimator",
        "DataError",
        "Dataset",
        "DedupeReport",
        "DedupeSavings",
        "DuplicateGroup",
        "Example",
        "ExampleTokens",
        "ExportReport",
        "FidelityReport",
        "FileRef",
        "Finding",
        "FinetuneKitError",
        "FixReport",
        "Format",
        "FunctionCall",
        "FunctionDefinition",
        "HFChatTokenizer",
        "HarmonyTokenizer",
        "ImagePart",
        "ImageURL",
        "Job",
        "JobClient",
        "JobCreationRefused",
        "JobError",
        "JobEvent",
        "JobFailed",
        "JobTimeout",
        "LifecycleWarning",
        "Line",
        "LineProblem",
        "LineResult",
        "Message",
        "Method",
        "Migration",
        "MigrationReport",
        "ModelLifecycle",
        "ModelPrice",
        "ModelTokens",
        "NearConfig",
        "OpenAIChatTokenizer",
        "PIIFinding",
        "PIIMatch",
        "PIIMode",
        "PersonalDataFound",
        "PreferenceExample",
        "PreferenceInput",
        "PricePoint",
        "PriceTable",
        "Provider",
        "ProviderFacts",
        "ProviderUnsupported",
        "Problem",
        "QuotaExceeded",
        "RecordedWait",
        "RedactionReport",
        "Redactor",
        "RenderedExample",
        "RetryPolicy",
        "Role",
        "Rule",
        "RuleContext",
        "SAMPLE_SYSTEM_PROMPT",
        "Segment",
        "Severity",
        "TargetCost",
        "TextPart",
        "TokenComparison",
        "Tokenizer",
        "TokenizerInfo",
        "TokenizerUnavailable",
        "Tool",
        "ToolCall",
        "TrainingEstimate",
        "UnknownModelError",
        "UsageEstimate",
        "ValidationFailed",
        "ValidationLeak",
        "ValidationReport",
        "Validator",
        "amigrate",
        "azure_client",
        "compare",
        "compare_tokens",
        "dedupe_file",
        "default_epochs",
        "detect_format",
        "export_file",
        "find_duplicates",
        "fix_file",
        "get_provider",
        "from_format",
        "iter_jsonl",
        "lifecycle_findings",
        "migrate",
        "open_model_info",
        "parse_line",
        "pii_detector",
        "recorded_waits",
        "redact_example",
        "redact_file",
        "redact_text",
        "register_detector",
        "rule",
        "sample_csv_path",
        "scan_example",
        "scan_text",
        "set_testing",
        "split_ranges",
        "to_format",
        "tokenizer_for_model",
        "validate",
    }
)


def test_the_public_names_are_the_released_snapshot() -> None:
    assert set(finetune_kit.PUBLIC) == SNAPSHOT


def test_all_and_dir_are_derived_from_the_one_table() -> None:
    assert finetune_kit.__all__ == [*sorted(finetune_kit.PUBLIC), "__version__"]
    assert len(set(finetune_kit.__all__)) == len(finetune_kit.__all__)
    assert dir(finetune_kit) == sorted(finetune_kit.__all__)


def test_every_name_is_defined_in_the_module_the_table_names() -> None:
    for name, module in finetune_kit.PUBLIC.items():
        obj = getattr(finetune_kit, name)
        assert getattr(importlib.import_module(module), name) is obj, name
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert obj.__module__ == module, f"{name} is defined in {obj.__module__}"


def test_every_public_name_is_exported_and_documented() -> None:
    for name in finetune_kit.PUBLIC:
        obj = getattr(finetune_kit, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), f"{name} has no docstring"


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        finetune_kit.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_the_type_stub_is_generated_from_the_table() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_stub.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_importing_the_package_imports_none_of_its_modules() -> None:
    code = (
        "import sys, finetune_kit; "
        "print(sorted(m for m in sys.modules if m.startswith('finetune_kit.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_every_error_derives_from_the_base_error() -> None:
    from finetune_kit import errors

    for name in errors.__all__:
        assert issubclass(getattr(errors, name), finetune_kit.FinetuneKitError)
