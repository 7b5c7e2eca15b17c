"""Personal data in validation, Dataset.redact, uploads and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import good_example
from finetune_kit import (
    Dataset,
    JobClient,
    PersonalDataFound,
    Severity,
    Validator,
    validate,
)
from finetune_kit.cli import app
from finetune_kit.testing import Emulator

EMAIL = "jane.doe@example.com"


def _rows() -> list[dict[str, object]]:
    rows = [good_example(i) for i in range(10)]
    rows[3]["messages"][1]["content"] = f"Mail {EMAIL} about overfitting"  # type: ignore[index]
    rows[5]["messages"][2]["content"] = f"Ask {EMAIL}, good sir."  # type: ignore[index]
    return rows


def test_validate_warns_about_personal_data_with_masked_previews() -> None:
    report = validate(_rows())
    assert report.ok
    pii = [f for f in report.warnings if f.code == "pii_email"]
    assert [(f.line, f.field) for f in pii] == [
        (4, "messages[1].content"),
        (6, "messages[2].content"),
    ]
    assert all(EMAIL not in f.message for f in pii)


def test_pii_error_mode_refuses_and_off_mode_does_not_look() -> None:
    strict = Validator(pii="error").validate(_rows())
    assert {f.code for f in strict.errors} == {"pii_email"}
    assert all(f.severity is Severity.ERROR for f in strict.errors)
    assert Validator(pii="off").validate(_rows()).findings == []


def test_dataset_redact_masks_pseudonymises_or_drops() -> None:
    ds = Dataset.from_records(_rows())
    masked, report = ds.redact()
    assert len(masked) == 10 and report.counts == {"pii_email": 2}
    assert EMAIL not in json.dumps(masked.to_records())
    assert "[EMAIL]" in masked[3].messages[1].text  # type: ignore[union-attr]
    fake, _ = ds.redact("pseudonym", secret="s3cret")
    first = fake[3].messages[1].text  # type: ignore[union-attr]
    second = fake[5].messages[2].text  # type: ignore[union-attr]
    alias = next(w for w in first.split() if "@" in w)
    assert alias in second and EMAIL not in first  # the same value, the same pseudonym
    dropped, report = ds.redact("drop")
    assert len(dropped) == 8 and report.examples_dropped == 2


def test_upload_with_pii_error_refuses_before_any_request(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _rows()), encoding="utf-8")
    with Emulator() as emu:
        client = JobClient(emu.client())
        with pytest.raises(PersonalDataFound) as info:
            client.upload(path, pii="error")
        assert EMAIL not in str(info.value)
        assert info.value.line == 4
        assert emu.requests == []
        assert client.upload(path, wait=False).id  # the default only warns


def test_validate_cli_pii_error_exits_one(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _rows()), encoding="utf-8")
    runner = CliRunner()
    warn = runner.invoke(app, ["validate", str(path), "--format", "json"])
    assert warn.exit_code == 0 and len(json.loads(warn.stdout)["warnings"]) == 2
    strict = runner.invoke(app, ["validate", str(path), "--pii", "error"])
    assert strict.exit_code == 1
    assert runner.invoke(app, ["validate", str(path), "--pii", "maybe"]).exit_code == 2
