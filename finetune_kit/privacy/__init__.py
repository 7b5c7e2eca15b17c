"""Personal data: detectors users can extend, scanning and redaction."""

from __future__ import annotations

from finetune_kit.privacy.redaction import (
    SECRET_ENV,
    Detector,
    DetectorFunc,
    PIIFinding,
    PIIMatch,
    RedactionReport,
    Redactor,
    Strategy,
    list_detectors,
    pii_detector,
    redact_example,
    redact_file,
    redact_text,
    register_detector,
    scan_example,
    scan_text,
    unregister_detector,
)

__all__ = [
    "SECRET_ENV",
    "Detector",
    "DetectorFunc",
    "PIIFinding",
    "PIIMatch",
    "RedactionReport",
    "Redactor",
    "Strategy",
    "list_detectors",
    "pii_detector",
    "redact_example",
    "redact_file",
    "redact_text",
    "register_detector",
    "scan_example",
    "scan_text",
    "unregister_detector",
]
