"""Export to other fine-tuning formats, one module per target with its rules."""

from __future__ import annotations

from finetune_kit.export.convert import (
    FIDELITY_KINDS,
    FORMATS,
    ExportFormat,
    ExportReport,
    FidelityItem,
    FidelityKind,
    FidelityReport,
    TargetRule,
    check_records,
    export_file,
    from_format,
    get_format,
    register_format,
    to_format,
)

__all__ = [
    "FIDELITY_KINDS",
    "FORMATS",
    "ExportFormat",
    "ExportReport",
    "FidelityItem",
    "FidelityKind",
    "FidelityReport",
    "TargetRule",
    "check_records",
    "export_file",
    "from_format",
    "get_format",
    "register_format",
    "to_format",
]
