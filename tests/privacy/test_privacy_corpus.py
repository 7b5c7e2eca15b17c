"""Recall and look-alikes kept on the second labelled corpus, per kind.

``tests/data/pii_corpus_intl.jsonl`` was written from the libraries' own test vectors and
published formats, not from the detectors: libphonenumber's example numbers for 50 regions,
python-stdnum's test lists (IBAN registry samples, codici fiscali and CURPs found online, broken
numbers), detect-secrets' plugin tests, payment processors' test cards, RFC address forms. Each
entry has a ``kind`` (the per-kind row of the table in ``docs/privacy.md``), a ``source`` and, for
phone numbers written without a country code, the ``region`` the reader would pass.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from finetune_kit.privacy import scan_example, scan_text
from finetune_kit.privacy.detectors import FAMILY_ALL, gate_json_block

CORPUS = Path(__file__).parents[1] / "data" / "pii_corpus_intl.jsonl"


def load() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]


def found(entry: dict[str, Any]) -> list[tuple[str, str]]:
    text = entry["text"]
    return [(m.code, text[m.start : m.end]) for m in scan_text(text, region=entry.get("region"))]


def scores() -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """Per kind: [values found, values]; per look-alike kind: [kept, look-alikes]."""
    recall: dict[str, list[int]] = {}
    kept: dict[str, list[int]] = {}
    for entry in load():
        got = found(entry)
        if entry["pii"]:
            row = recall.setdefault(entry["kind"], [0, 0])
            for pii in entry["pii"]:
                row[0] += (pii["code"], pii["value"]) in got
                row[1] += 1
        else:
            row = kept.setdefault(entry["kind"], [0, 0])
            row[0] += not got
            row[1] += 1
    return recall, kept


def test_the_corpus_has_400_values_over_every_kind_and_400_look_alikes() -> None:
    entries = load()
    positives = [e for e in entries if e["pii"]]
    look_alikes = [e for e in entries if not e["pii"]]
    assert sum(len(e["pii"]) for e in positives) >= 400
    assert len(look_alikes) >= 400
    codes = Counter(p["code"] for e in positives for p in e["pii"])
    assert set(codes) == {
        *("pii_email", "pii_phone", "pii_card", "pii_iban", "pii_ip", "pii_ssn"),
        *("pii_national_id", "pii_secret", "pii_url_credentials"),
    }
    id_kinds = {e["kind"] for e in positives if e["pii"][0]["code"] == "pii_national_id"}
    assert id_kinds >= {
        *("es_dni", "es_nie", "es_cif", "fr_nir", "de_idnr", "it_codicefiscale"),
        *("gb_nino", "us_itin", "mx_curp", "br_cpf"),
    }
    regions = {
        e["source"].split("(")[1][:2] for e in positives if "example number (" in e["source"]
    }
    assert len(regions) >= 40
    for entry in entries:
        assert entry["source"]
        for pii in entry["pii"]:
            assert pii["value"] in entry["text"]


def test_recall_and_look_alikes_kept_are_at_least_99_percent() -> None:
    recall, kept = scores()
    values = sum(n for _, n in recall.values())
    hits = sum(k for k, _ in recall.values())
    alikes = sum(n for _, n in kept.values())
    untouched = sum(k for k, _ in kept.values())
    assert hits / values >= 0.99, recall
    assert untouched / alikes >= 0.99, kept


def test_every_kind_keeps_at_least_90_percent() -> None:
    recall, kept = scores()
    for kind, (hit, n) in {**recall, **kept}.items():
        assert hit / n >= 0.9, (kind, hit, n)


def test_ipv6_addresses_are_found_in_every_text_form() -> None:
    entries = [e for e in load() if e["kind"] == "ip" and ":" in e["pii"][0]["value"]]
    assert len(entries) >= 20
    assert all((e["pii"][0]["code"], e["pii"][0]["value"]) in found(e) for e in entries)


@pytest.mark.parametrize("encode", [False, True])
def test_the_block_gate_names_every_corpus_line_with_a_finding(encode: bool) -> None:
    lines = []
    for entry in load():
        text = entry["text"]
        args = json.dumps({"q": text, "n": 1}, ensure_ascii=encode)
        call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": args}}
        for obj in (
            {"messages": [{"role": "user", "content": text}]},
            {"messages": [{"role": "assistant", "tool_calls": [call]}]},
        ):
            lines.append(json.dumps(obj, ensure_ascii=encode))
    data = "\n".join(lines).encode()
    named = gate_json_block(data, FAMILY_ALL)
    offset = 0
    for line in lines:
        if offset not in named:
            assert scan_example(json.loads(line)) == [], f"the gate missed {line!r}"
        offset += len(line.encode()) + 1
