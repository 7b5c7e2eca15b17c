"""Tests for finetune_kit.privacy.redaction: detectors, strategies, examples and files."""

from __future__ import annotations

import ipaddress
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from finetune_kit.errors import ConfigError, DataError
from finetune_kit.privacy import _numbers as numbers
from finetune_kit.privacy import detectors as det
from finetune_kit.privacy import redaction as privacy
from finetune_kit.privacy.redaction import (
    PIIFinding,
    RedactionReport,
    Redactor,
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

CORPUS = Path(__file__).parents[1] / "data" / "pii_corpus.jsonl"


def load_corpus() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]


def found(text: str, **kwargs: Any) -> list[tuple[str, str]]:
    return [(m.code, text[m.start : m.end]) for m in scan_text(text, **kwargs)]


def chat(*contents: Any) -> dict[str, Any]:
    roles = ["system", "user", "assistant"]
    return {
        "messages": [
            {"role": roles[min(i, 2)], "content": content} for i, content in enumerate(contents)
        ]
    }


# --------------------------------------------------------------------------- corpus


def corpus_scores() -> dict[str, tuple[float, float]]:
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for entry in load_corpus():
        text = entry["text"]
        want = Counter((p["code"], p["value"]) for p in entry["pii"])
        got = Counter(found(text))
        for (code, _), n in (want & got).items():
            tp[code] += n
        for (code, _), n in (got - want).items():
            fp[code] += n
        for (code, _), n in (want - got).items():
            fn[code] += n
    scores = {}
    for code in set(tp) | set(fp) | set(fn):
        precision = tp[code] / (tp[code] + fp[code]) if tp[code] + fp[code] else 1.0
        recall = tp[code] / (tp[code] + fn[code]) if tp[code] + fn[code] else 1.0
        scores[code] = (precision, recall)
    return scores


def test_corpus_has_at_least_200_positive_and_200_negative_strings() -> None:
    entries = load_corpus()
    positives = [e for e in entries if e["pii"]]
    negatives = [e for e in entries if not e["pii"]]
    assert len(positives) >= 200
    assert len(negatives) >= 200
    for entry in positives:
        for pii in entry["pii"]:
            assert pii["value"] in entry["text"]


@pytest.mark.parametrize("code", ["pii_email", "pii_card", "pii_iban", "pii_phone", "pii_secret"])
def test_corpus_precision_and_recall_are_at_least_95_percent(code: str) -> None:
    precision, recall = corpus_scores()[code]
    assert precision >= 0.95, f"{code} precision {precision:.3f}"
    assert recall >= 0.95, f"{code} recall {recall:.3f}"


def test_corpus_precision_and_recall_of_the_other_kinds_are_at_least_90_percent() -> None:
    scores = corpus_scores()
    for code in ("pii_ip", "pii_ssn", "pii_national_id", "pii_url_credentials"):
        precision, recall = scores[code]
        assert precision >= 0.9 and recall >= 0.9, (code, precision, recall)


def test_no_detected_corpus_value_survives_redaction() -> None:
    for entry in load_corpus():
        new, findings = redact_example(chat(entry["text"]))
        text = new["messages"][0]["content"]
        for pii in entry["pii"]:
            assert pii["value"] not in text, (pii, text)
        assert len(findings) >= len(entry["pii"])


def test_previews_never_show_the_whole_value() -> None:
    for entry in load_corpus():
        for match in scan_text(entry["text"]):
            value = entry["text"][match.start : match.end]
            assert value not in match.preview
            assert value not in repr(match)


# --------------------------------------------------------------------------- each detector


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("write to jane.doe@example.com.", "jane.doe@example.com"),
        ("<li.wei@example.co.uk>", "li.wei@example.co.uk"),
        ("mailto:ops+ft@example.org", "ops+ft@example.org"),
        ("'maría.lópez@example.es'", "maría.lópez@example.es"),
    ],
)
def test_email_addresses_are_found(text: str, value: str) -> None:
    assert found(text) == [("pii_email", value)]


@pytest.mark.parametrize(
    "text",
    [
        "git clone git@github.com:openai/openai-python.git",
        "@app.route('/train')",
        "npm install lodash@4.17.21",
        "out = q@k.transpose(-2, -1)",
        "user@localhost",
        "https://user@example.com/path",
    ],
)
def test_email_look_alikes_are_not_flagged(text: str) -> None:
    assert found(text) == []


def test_email_preview_masks_local_part_and_domain() -> None:
    assert scan_text("x jane.doe@example.com")[0].preview == "j***@e***.com"


@pytest.mark.parametrize(
    "value",
    [
        "+44 20 7946 0958",
        "+1 (415) 555-0132",
        "+4915123456789",
        "(212) 555-0147",
        "212-555-0147",
        "1-800-555-0199",
        "020 7946 0958",
        "06 12 34 56 78",
        "+33 (0)1 23 45 67 89",
    ],
)
def test_phone_numbers_in_common_formats_are_found(value: str) -> None:
    assert found(f"Call {value} today") == [("pii_phone", value)]


def test_phone_numbers_after_a_keyword_are_found_in_any_grouping() -> None:
    assert found("mobile: 612345678") == [("pii_phone", "612345678")]
    assert found("call me at 212 555 0147 ok") == [("pii_phone", "212 555 0147")]


@pytest.mark.parametrize(
    "text",
    [
        "batch sizes 128 256 512 1024",
        "Deadline: 18/07/2024 at 17:30.",
        "Between 01.02.2024 and 15.03.2024",
        "SKU 0012-3456-7890",
        "+0.03 BLEU, +1.5% accuracy",
        "text 2024-07-18",
        "ISBN 978-3-16-148410-0",
    ],
)
def test_phone_look_alikes_are_not_flagged(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    "value",
    ["4242 4242 4242 4242", "4111-1111-1111-1111", "5555555555554444", "3782 822463 10005"],
)
def test_luhn_valid_card_numbers_are_found(value: str) -> None:
    assert found(f"card {value} exp 12/30") == [("pii_card", value)]


@pytest.mark.parametrize(
    "text",
    [
        "order 4000123412341235",  # not Luhn-valid
        "timestamp 1718700000000",
        "Account 1234 5678 9012 3456",  # no card brand starts with 1
        "barcode 5901234123457",
        "serial 0000 0000 0000 0000",
    ],
)
def test_card_look_alikes_are_not_flagged(text: str) -> None:
    assert found(text) == []


def test_card_preview_shows_only_the_last_four_digits() -> None:
    assert scan_text("4242-4242-4242-4242")[0].preview == "**** **** **** 4242"


# Public test vectors: Luhn's worked example and the card networks' published test numbers.
LUHN_VALID = [
    "79927398713",  # the textbook example
    "4111111111111111",  # Visa
    "4012888888881881",  # Visa
    "4222222222222",  # Visa, 13 digits
    "5555555555554444",  # Mastercard
    "5105105105105100",  # Mastercard
    "2223003122003222",  # Mastercard 2-series
    "378282246310005",  # American Express
    "371449635398431",  # American Express
    "6011111111111117",  # Discover
    "6011000990139424",  # Discover
    "30569309025904",  # Diners Club
    "38520000023237",  # Diners Club
    "3530111333300000",  # JCB
    "3566002020360505",  # JCB
    "6200000000000005",  # UnionPay
    "0",
    "18",
    "59",
]


def test_luhn_checksum() -> None:
    assert det.luhn_ok("4242424242424242")
    assert not det.luhn_ok("4242424242424241")


@pytest.mark.parametrize("number", LUHN_VALID)
def test_luhn_accepts_public_test_numbers_and_catches_every_single_digit_error(
    number: str,
) -> None:
    assert det.luhn_ok(number)
    for i, digit in enumerate(number):  # Luhn catches any one wrong digit, in any position
        for other in "0123456789":
            if other != digit:
                wrong = number[:i] + other + number[i + 1 :]
                assert not det.luhn_ok(wrong), wrong


def test_luhn_doubles_every_second_digit_from_the_right() -> None:
    # every digit class in a doubled position: d -> 2d, minus 9 from 5 on (5->1, ..., 9->9)
    for d in range(10):
        check = (10 - (2 * d - 9 * (d >= 5)) % 10) % 10
        assert det.luhn_ok(f"{d}{check}"), (d, check)
        assert not det.luhn_ok(f"{d}{(check + 5) % 10}")
    assert det.luhn_ok("00") and det.luhn_ok("000") and not det.luhn_ok("01")


def test_the_check_digit_made_for_a_body_is_the_only_valid_one() -> None:
    for body in ("411111111111111", "7992739871", "3782822463100", "6011", "510510510510510"):
        digit = det._luhn_digit(body)
        assert det.luhn_ok(body + digit)
        assert [d for d in "0123456789" if det.luhn_ok(body + d)] == [digit]


def _card(prefix: str, length: int) -> str:
    return (prefix + "0" * length)[:length]


@pytest.mark.parametrize(
    ("prefix", "length", "ok"),
    [
        *[("4", n, n in (13, 16, 19)) for n in (12, 13, 14, 15, 16, 17, 18, 19, 20)],  # Visa
        *[(str(p), 16, True) for p in (51, 53, 55)],  # Mastercard
        ("51", 15, False),
        ("55", 17, False),
        *[(str(p), n, True) for p in (50, 56, 57, 58) for n in (12, 16, 19)],  # Maestro
        ("59", 16, False),
        *[(p, 15, True) for p in ("34", "37")],  # American Express
        *[(p, 16, False) for p in ("34", "37")],
        ("35", 15, False),
        *[(p, n, True) for p in ("300", "303", "305", "36", "38", "39") for n in (14, 19)],
        *[(p, 13, False) for p in ("300", "305", "36", "38", "39")],  # Diners Club
        ("306", 16, False),
        ("37", 14, False),
        *[(p, n, True) for p in ("3528", "3550", "3589") for n in (16, 19)],  # JCB
        ("3528", 15, False),
        *[(p, 16, False) for p in ("3527", "3590")],
        *[(p, 16, True) for p in ("2200", "2204", "2221", "2500", "2720")],  # Mir, Mastercard 2
        *[(p, 16, False) for p in ("2205", "2220", "2721")],
        ("2221", 15, False),
        ("2221", 17, False),
        *[("6", n, n >= 16) for n in (15, 16, 19)],  # Discover, UnionPay, ...
        *[(p, 16, False) for p in ("1", "7", "8", "9", "0")],
    ],
)
def test_card_brands_and_their_lengths(prefix: str, length: int, ok: bool) -> None:
    assert numbers.card_brand_ok(_card(prefix, length)) is ok


# Public IBAN examples (the IBAN registry's example of each country), all digit classes:
# digits 0-9 and letters A-Z (10-35) in the bank codes.
IBAN_VALID = [
    "GB82WEST12345698765432",
    "DE89370400440532013000",
    "FR1420041010050500013M02606",
    "NL91ABNA0417164300",
    "BE68539007547034",
    "CH9300762011623852957",
    "ES9121000418450200051332",
    "IT60X0542811101000000123456",
    "NO9386011117947",
    "AT611904300234573201",
    "PL61109010140000071219812874",
    "SE4550000000058398257466",
    "MT84MALT011000012345MTLCAST001S",
    "LC55HEMM000100010012001200023015",
    "KW81CBKU0000000000001234560101",
]


@pytest.mark.parametrize("iban", IBAN_VALID)
def test_iban_accepts_registry_examples_and_catches_every_single_character_error(
    iban: str,
) -> None:
    assert det.iban_ok(iban)
    grouped = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    assert det.iban_ok(grouped) and det.iban_ok(grouped.lower())
    digits, letters = "0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for i in range(2, len(iban)):  # mod 97 catches any one wrong digit, or letter, after the
        for other in digits if iban[i] in digits else letters:  # country code
            if other != iban[i]:
                wrong = iban[:i] + other + iban[i + 1 :]
                assert not det.iban_ok(wrong), wrong
    assert not det.iban_ok(iban + "0") and not det.iban_ok(iban[:-1])  # the country's length
    assert not det.iban_ok(iban[:-1] + "-")  # not alphanumeric


def test_iban_of_an_unknown_country_or_without_a_country_is_refused() -> None:
    assert not det.iban_ok("XX82WEST12345698765432")
    assert not det.iban_ok("8282WEST12345698765432")
    assert not det.iban_ok("")


@pytest.mark.parametrize(
    ("parts", "ok"),
    [
        (("123", "45", "6789"), True),
        (("001", "01", "0001"), True),
        (("899", "99", "9999"), True),
        (("665", "01", "0001"), True),
        (("667", "01", "0001"), True),
        (("000", "45", "6789"), False),
        (("666", "45", "6789"), False),
        (("900", "45", "6789"), False),
        (("999", "45", "6789"), False),
        (("123", "00", "6789"), False),
        (("123", "45", "0000"), False),
    ],
)
def test_ssn_rules(parts: tuple[str, str, str], ok: bool) -> None:
    assert det.ssn_ok(*parts) is ok


def test_dni_control_letter_for_every_remainder() -> None:
    letters = "TRWAGMYFPDXBNJZSQVHLCKE"  # the Spanish Interior Ministry's table
    for r in range(23):
        number = f"{10_000_000 + r + 23 * 1000:08d}"
        expected = letters[(10_000_000 + r + 23 * 1000) % 23]
        assert det.dni_ok(number + expected)
        assert det.dni_ok(f"{number}-{expected.lower()}")
        assert not any(det.dni_ok(number + x) for x in letters if x != expected)
    assert det.dni_ok("X1234567L") and det.dni_ok("Y1234567X") and det.dni_ok("Z1234567R")
    assert not det.dni_ok("1234567Z") and not det.dni_ok("1234567AZ")


@pytest.mark.parametrize("value", ["-X1234567L", " X1234567L", " x-1234567-l", "- Y 1234567 X"])
def test_nie_with_separators_before_its_letter_is_still_an_nie(value: str) -> None:
    # pasted from a form: the X/Y/Z that makes it an NIE is read after the separators
    assert det.dni_ok(value)
    assert not det.dni_ok(value[:-1] + ("A" if value[-1] != "A" else "B"))


def test_ibans_are_checked_by_country_length_and_mod_97() -> None:
    assert det.iban_ok("DE89 3704 0044 0532 0130 00")
    assert det.iban_ok("GB82WEST12345698765432")
    assert not det.iban_ok("DE88 3704 0044 0532 0130 00")  # check digits
    assert not det.iban_ok("DE89 3704 0044 0532 0130 0")  # length
    assert found("IBAN DE89 3704 0044 0532 0130 00 EUR") == [
        ("pii_iban", "DE89 3704 0044 0532 0130 00")
    ]
    assert found("NL91ABNA0417164300") == [("pii_iban", "NL91ABNA0417164300")]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("from 84.17.45.203", "84.17.45.203"),
        ("db at 10.0.0.5:5432", "10.0.0.5"),
        ("host 2a02:6b8::2:242", "2a02:6b8::2:242"),
        ("ula fd12:3456:789a:1::1.", "fd12:3456:789a:1::1"),
    ],
)
def test_ip_addresses_are_found_and_confirmed_with_ipaddress(text: str, value: str) -> None:
    assert found(text) == [("pii_ip", value)]
    ipaddress.ip_address(value)


@pytest.mark.parametrize(
    "text",
    [
        "bind 127.0.0.1 or 0.0.0.0",
        "docs use 192.0.2.15 and 2001:db8::1",
        "mask 255.255.255.0",
        "dns 8.8.8.8",
        "version 10.2.1.5",
        "upgrade to 2.10.1.0",
        "see section 10.5.2.1",
        "1.2.3.4 and cuDNN 8.9.7.29",
        "999.1.1.1",
        "a[::2] and std::vector and ft:gpt-4o-mini:org::abc",
        "fe80::1 is link-local",
    ],
)
def test_ip_look_alikes_and_reserved_ranges_are_not_flagged(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("SSN 536-22-1847", True),
        ("000-12-3456", False),
        ("666-12-3456", False),
        ("912-34-5678", False),
        ("123-00-4567", False),
        ("123-45-0000", False),
        ("SSN 536221847", True),
        ("id 536221847", False),
    ],
)
def test_ssn_area_group_and_serial_rules(text: str, ok: bool) -> None:
    assert bool(found(text, kinds=["ssn"])) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [("12345678Z", True), ("12345678A", False), ("X1234567L", True), ("X1234567A", False)],
)
def test_spanish_dni_and_nie_letters_are_checked(value: str, ok: bool) -> None:
    assert det.dni_ok(value) is ok
    assert bool(found(f"DNI {value}.")) is ok


@pytest.mark.parametrize(
    "value",
    [
        "sk-" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7dE9fG1hJ3",
        "sk-proj-" + "Ab1_Cd2-Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2Yz3",
        "AKIAQ3EGRIYD2YQ4NMJB",
        "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5",
        "github_pat_" + "11ABCDEFG0123456789abc_" + "Qw7Er5Ty3U" + "Yz9" * 10,
        "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
        "AIza" + "SyD3bF5hJ7kL9mN1pQ3rS5tV7wX9yZ1aB3c",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ],
)
def test_provider_key_shapes_are_found(value: str) -> None:
    assert found(f"my key: {value} thanks") == [("pii_secret", value)]


def test_private_key_pem_blocks_are_found_whole() -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"
    assert found(f"why?\n{pem}\nthanks") == [("pii_secret", pem)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('api_key = "3f9a2c0d11e2b7aa9c0d4e5f6a7b8c9d"', "3f9a2c0d11e2b7aa9c0d4e5f6a7b8c9d"),
        ("password: Tr0ub4dor&3", "Tr0ub4dor&3"),
        ("Authorization: Bearer AbCdEf0123456789GhIjKl", "AbCdEf0123456789GhIjKl"),
        ("my API key is Zq8Lm3Np7Rt2Vx6Bc1Df", "Zq8Lm3Np7Rt2Vx6Bc1Df"),
    ],
)
def test_values_after_a_secret_keyword_are_found_when_they_look_random(
    text: str, value: str
) -> None:
    assert found(text) == [("pii_secret", value)]


@pytest.mark.parametrize(
    "text",
    [
        "api_key=os.environ['OPENAI_API_KEY']",
        "api_key='YOUR_API_KEY'",
        "OPENAI_API_KEY=sk-...",
        "token: ${HF_TOKEN}",
        "max_tokens=512, token count: 4096",
        "the key is to use a lower learning rate",
        "The cache key is 7d865e959b2466918c9863afca942d0fb89d7c9ac0c99bafc3749504ded97730.",
        "password: <your-password>",
        "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "scikit-learn (sk-learn)",
        "-----BEGIN PUBLIC KEY-----",
    ],
)
def test_secret_look_alikes_and_placeholders_are_not_flagged(text: str) -> None:
    assert found(text) == []


def test_url_credentials_are_found_and_placeholders_are_not() -> None:
    text = "DATABASE_URL=postgres://admin:s3cr3tPw@db.example.com:5432/app"
    assert found(text) == [("pii_url_credentials", "admin:s3cr3tPw")]
    assert redact_text(text)[0] == "DATABASE_URL=postgres://[CREDENTIALS]@db.example.com:5432/app"
    for placeholder in (
        "postgres://user:password@localhost/db",
        "amqp://guest:guest@localhost:5672/",
        "postgres://${DB_USER}:${DB_PASS}@db/app",
        "mysql://root@localhost/test",
    ):
        assert found(placeholder) == [], placeholder


@pytest.mark.parametrize(
    "text",
    [
        "pip install openai==1.35.3 on Python 3.11.7, transformers v4.41.2",
        "Fine-tune gpt-4o-mini-2024-07-18 into ft:gpt-4o-mini-2024-07-18:acme::9xYz1AbC",
        "job ftjob-abc123XYZ789, file file-abc123, checkpoint ftckpt_zc4Q7MP7Y3lvx4Xb6cS0VfNP",
        "commit 3f9a2c0d11e2b7aa9c0d4e5f6a7b8c9d0e1f2a3b",
        "uuid 123e4567-e89b-12d3-a456-426614174000",
        "Use #ff5733 and #1E90FF; lr = 1e-5 * (1 - 0.999) ** 2",
        "Training costs $8.00 per 1M tokens; that is 1,234,567 tokens in 2024-07-18.",
    ],
)
def test_ml_chat_look_alikes_are_not_flagged(text: str) -> None:
    assert found(text) == []


# --------------------------------------------------------------------------- kinds and registry


def test_kinds_select_detectors_by_name_with_or_without_prefix() -> None:
    text = "mail a.b@example.com or call +44 20 7946 0958"
    assert [c for c, _ in found(text, kinds=["email"])] == ["pii_email"]
    assert [c for c, _ in found(text, kinds="pii_phone")] == ["pii_phone"]
    assert len(found(text, kinds="email, phone")) == 2


def test_unknown_kind_is_a_config_error_listing_the_known_kinds() -> None:
    with pytest.raises(ConfigError, match="unknown PII kind") as info:
        scan_text("x", kinds=["passport"])
    assert "email" in str(info.value)


def test_presidio_kinds_give_a_clear_error_when_presidio_is_not_installed() -> None:
    for kwargs in ({"kinds": ["person"]}, {"presidio": True}):
        with pytest.raises(ConfigError, match="Presidio") as info:
            scan_text("Ana lives in Madrid", **kwargs)
        assert "finetune-kit[presidio]" in str(info.value)
    assert "pii_person" not in Redactor().codes


def test_a_registered_detector_runs_with_the_built_in_ones() -> None:
    @pii_detector("pii_employee_id", description="Employee ids such as EMP-123456")
    def employee_ids(text: str):  # type: ignore[no-untyped-def]
        for m in re.finditer(r"\bEMP-\d{6}\b", text):
            yield m.span()

    try:
        text = "EMP-123456 wrote from a@example.com"
        assert found(text) == [("pii_employee_id", "EMP-123456"), ("pii_email", "a@example.com")]
        assert redact_text(text)[0] == "[EMPLOYEE_ID] wrote from [EMAIL]"
        fake = Redactor("pseudonym", secret="s").redact_text(text)[0]
        assert re.match(r"EMPLOYEE_ID_[0-9a-f]{8} ", fake)
        assert "pii_employee_id" in {d.code for d in list_detectors()}
    finally:
        unregister_detector("pii_employee_id")
    assert found("EMP-123456") == []


def test_detector_codes_must_be_well_formed_and_unique() -> None:
    with pytest.raises(ConfigError, match="invalid detector code"):
        register_detector("employee", lambda t: [], description="x")
    with pytest.raises(ConfigError, match="already registered"):
        register_detector("pii_email", lambda t: [], description="x")
    with pytest.raises(ConfigError, match="no detector"):
        unregister_detector("pii_nothing")


def test_a_detector_returning_a_bad_span_is_a_config_error() -> None:
    register_detector("pii_broken", lambda t: [(0, len(t) + 5)], description="broken")
    try:
        with pytest.raises(ConfigError, match="pii_broken"):
            scan_text("hello world")
    finally:
        unregister_detector("pii_broken")


# --------------------------------------------------------------------------- strategies


def test_mask_replaces_each_value_with_its_label() -> None:
    text, matches = redact_text("a@example.com, 4242 4242 4242 4242, 10.1.2.3")
    assert text == "[EMAIL], [CARD], [IP]"
    assert [m.code for m in matches] == ["pii_email", "pii_card", "pii_ip"]


def test_pseudonyms_are_consistent_across_examples_and_redactors() -> None:
    one = Redactor("pseudonym", secret="team-secret")
    two = Redactor("pseudonym", secret="team-secret")
    other = Redactor("pseudonym", secret="another-secret")
    first = one.redact_text("Jane.Doe@Example.com wrote")[0]
    assert first == one.redact_text("jane.doe@example.com wrote")[0]  # normalized
    assert first == two.redact_text("Jane.Doe@Example.com wrote")[0]
    assert first != other.redact_text("Jane.Doe@Example.com wrote")[0]
    assert one.redact_text("b@example.com")[0] != one.redact_text("c@example.com")[0]


def test_pseudonyms_keep_the_shape_of_their_kind() -> None:
    red = Redactor("pseudonym", secret="s")
    assert re.fullmatch(r"user_[0-9a-f]{6}@example\.com", red.pseudonym("pii_email", "a@b.io"))
    card = red.pseudonym("pii_card", "4242 4242 4242 4242")
    assert re.fullmatch(r"4000 00\d\d \d{4} \d{4}", card)
    assert det.luhn_ok(card.replace(" ", ""))
    ip = ipaddress.ip_address(red.pseudonym("pii_ip", "84.17.45.203"))
    assert any(
        ip in ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
    )
    assert ipaddress.ip_address(red.pseudonym("pii_ip", "2a02:6b8::2")) in ipaddress.ip_network(
        "2001:db8::/32"
    )
    iban = red.pseudonym("pii_iban", "DE89 3704 0044 0532 0130 00")
    assert iban.startswith("DE") and det.iban_ok(iban)
    assert red.pseudonym("pii_ssn", "536-22-1847").startswith("9")
    assert det.dni_ok(red.pseudonym("pii_national_id", "12345678Z"))
    assert red.pseudonym("pii_phone", "+44 20 7946 0958").startswith("+44 7700 900")
    assert red.pseudonym("pii_secret", "sk-proj-" + "a1" * 20).startswith("sk-proj-fake_")


def test_pseudonym_needs_a_secret_from_the_argument_or_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(privacy.SECRET_ENV, raising=False)
    with pytest.raises(ConfigError, match="secret"):
        Redactor("pseudonym")
    monkeypatch.setenv(privacy.SECRET_ENV, "from-env")
    assert (
        Redactor("pseudonym").redact_text("a@example.com")[0]
        == Redactor("pseudonym", secret="from-env").redact_text("a@example.com")[0]
    )


def test_the_secret_never_appears_in_the_redactor_repr() -> None:
    assert "hunter2-secret" not in repr(Redactor("pseudonym", secret="hunter2-secret"))


def test_unknown_strategy_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="strategy"):
        Redactor("blur")


def test_drop_drops_examples_with_personal_data_only() -> None:
    red = Redactor("drop")
    assert red.redact_example(chat("mail a@example.com"))[0] is None
    clean = chat("no personal data here")
    assert red.redact_example(clean) == (clean, [])


# --------------------------------------------------------------------------- examples


def test_redact_example_reports_field_paths_and_does_not_mutate_its_input() -> None:
    example = {
        "messages": [
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": [{"type": "text", "text": "I am a@example.com"}]},
            {"role": "assistant", "content": "Call +44 20 7946 0958", "name": "bob@example.org"},
        ]
    }
    before = json.dumps(example)
    new, findings = redact_example(example, line=7)
    assert json.dumps(example) == before
    assert new["messages"][1]["content"][0]["text"] == "I am [EMAIL]"
    assert new["messages"][2] == {"role": "assistant", "content": "Call [PHONE]", "name": "[EMAIL]"}
    assert [(f.line, f.field, f.code, f.start, f.end) for f in findings] == [
        (7, "messages[1].content[0].text", "pii_email", 5, 18),
        (7, "messages[2].content", "pii_phone", 5, 21),
        (7, "messages[2].name", "pii_email", 0, 15),
    ]
    assert new["messages"][0] is example["messages"][0]


def test_tool_call_arguments_stay_valid_json_after_redaction() -> None:
    arguments = json.dumps({"to": "jane@example.com", "note": "ring\n+44 20 7946 0958"})
    example = {
        "messages": [
            {"role": "user", "content": "send it"},
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "send_mail", "arguments": arguments},
                    }
                ],
            },
        ]
    }
    new, findings = redact_example(example)
    args = json.loads(new["messages"][1]["tool_calls"][0]["function"]["arguments"])
    assert args == {"to": "[EMAIL]", "note": "ring\n[PHONE]"}
    assert [f.field for f in findings] == [
        "messages[1].tool_calls[0].function.arguments.to",
        "messages[1].tool_calls[0].function.arguments.note",
    ]


def test_a_secret_under_a_secret_named_key_is_redacted_whole() -> None:
    arguments = json.dumps({"api_key": "Zq8Lm3Np7Rt2Vx6Bc1Df0Gh", "password": "hunter2!x"})
    example = {"metadata": {"OPENAI_API_KEY": "Zq8Lm3Np7Rt2Vx6Bc1Df0Gh"}, "args": arguments}
    new, findings = redact_example(example)
    assert new["metadata"]["OPENAI_API_KEY"] == "[SECRET]"
    assert json.loads(new["args"]) == {"api_key": "[SECRET]", "password": "[SECRET]"}
    assert {f.code for f in findings} == {"pii_secret"}


def test_data_urls_are_not_scanned() -> None:
    url = "data:image/png;base64," + "AKIA" + "Q3EGRIYD2YQ4NMJB" * 3
    example = chat([{"type": "image_url", "image_url": {"url": url}}])
    assert scan_example(example) == []


def test_scan_example_yields_field_code_and_masked_preview() -> None:
    example = chat("sys", "card 4242 4242 4242 4242")
    [finding] = scan_example(example, line=3)
    assert (finding.field, finding.code, finding.preview, finding.line) == (
        "messages[1].content",
        "pii_card",
        "**** **** **** 4242",
        3,
    )
    assert "4242 4242 4242 4242" not in repr(finding)
    assert "4242 4242 4242 4242" not in json.dumps(finding.to_dict())
    assert finding.message.startswith("possible personal data")


def test_field_paths_quote_keys_that_are_not_identifiers() -> None:
    [finding] = scan_example({"odd key": ["a@example.com"]})
    assert finding.field == '["odd key"][0]'


# --------------------------------------------------------------------------- files


def write_jsonl(path: Path, lines: list[Any]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for line in lines:
            fh.write((line if isinstance(line, str) else json.dumps(line)) + "\n")


def test_redact_file_copies_clean_and_broken_lines_and_counts_them(tmp_path: Path) -> None:
    src, dest = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    clean = '{"messages": [{"role": "user", "content": "hi"}], "x": 1.50}'
    write_jsonl(src, [clean, chat("mail a@example.com"), "{broken a@example.com", chat("v1.2.3")])
    report = redact_file(src, dest)
    out = dest.read_text(encoding="utf-8").splitlines()
    assert out[0] == clean  # byte for byte
    assert json.loads(out[1])["messages"][0]["content"] == "mail [EMAIL]"
    assert out[2] == "{broken a@example.com"
    assert (report.lines, report.examples, report.examples_changed) == (4, 3, 1)
    assert (report.unparsed_lines, report.unparsed_line_numbers) == (1, [3])
    assert report.counts == {"pii_email": 1}
    assert report.findings[0].line == 2


def test_redact_file_with_drop_leaves_out_examples_with_personal_data(tmp_path: Path) -> None:
    src, dest = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_jsonl(src, [chat("a@example.com"), chat("fine"), chat("+44 20 7946 0958")])
    report = redact_file(src, dest, strategy="drop")
    assert [json.loads(x) for x in dest.read_text().splitlines()] == [chat("fine")]
    assert report.examples_dropped == 2


def test_redact_file_refuses_to_overwrite_its_input(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    write_jsonl(src, [chat("a@example.com")])
    with pytest.raises(ConfigError, match="overwrite"):
        redact_file(src, tmp_path / "." / "in.jsonl")
    assert "a@example.com" in src.read_text()


def test_redact_file_on_a_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        redact_file(tmp_path / "nope.jsonl", tmp_path / "out.jsonl")
    assert not (tmp_path / "out.jsonl").exists()


def test_redact_file_leaves_no_output_when_the_strategy_is_wrong(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    write_jsonl(src, [chat("x")])
    with pytest.raises(ConfigError):
        redact_file(src, tmp_path / "out.jsonl", strategy="blur")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_report_keeps_max_findings_but_counts_everything(tmp_path: Path) -> None:
    src, dest = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_jsonl(src, [chat(f"u{i}@example.com") for i in range(30)])
    report = redact_file(src, dest, max_findings=5)
    assert len(report.findings) == 5 and report.findings_truncated
    assert report.counts == {"pii_email": 30} and report.total_findings == 30


def test_report_serializes_and_renders_without_raw_values(tmp_path: Path) -> None:
    src, dest = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_jsonl(src, [chat("mail jane.doe@example.com <b>")])
    report = redact_file(src, dest)
    data = json.dumps(report.to_dict())
    assert "jane.doe@example.com" not in data
    assert "jane.doe@example.com" not in repr(report) + str(report) + report._repr_html_()
    assert "<td><code>pii_email</code></td>" in report._repr_html_()
    assert json.loads(data)["counts"] == {"pii_email": 1}


def test_empty_report_renders(tmp_path: Path) -> None:
    assert "no personal data found" in RedactionReport("mask", [])._repr_html_()


def test_workers_give_the_same_output_and_report_as_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(privacy, "_PARALLEL_MIN_BYTES", 0)
    src = tmp_path / "in.jsonl"
    lines: list[Any] = []
    for i in range(300):
        lines.append(chat(f"q{i}", f"user{i}@example.com" if i % 7 == 0 else f"answer {i}"))
        if i == 150:
            lines.append("{broken")
    write_jsonl(src, lines)
    one = redact_file(src, tmp_path / "one.jsonl", strategy="pseudonym", secret="s", workers=1)
    two = redact_file(src, tmp_path / "two.jsonl", strategy="pseudonym", secret="s", workers=2)
    with pytest.raises(ConfigError, match="workers must be at least 1"):
        redact_file(src, tmp_path / "bad.jsonl", workers=0)
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()
    ignore = {"seconds", "output_path"}
    assert {k: v for k, v in one.to_dict().items() if k not in ignore} == {
        k: v for k, v in two.to_dict().items() if k not in ignore
    }
    assert one.unparsed_line_numbers == [152]


def test_precheck_of_the_joined_strings_never_hides_a_finding() -> None:
    # The walk skips examples whose joined strings show nothing; check it against a full walk.
    plan = privacy._resolve(None, False)
    for entry in load_corpus():
        for example in (
            chat(entry["text"]),
            chat("phone:", entry["text"]),
            {"a": [entry["text"], "SSN"], "b": {"key": entry["text"][:20]}},
        ):
            full = privacy._Walk(plan, None, None)
            full.value(example, ())
            assert scan_example(example) == full.findings


def test_digits_inside_hashes_are_skipped_but_numbers_between_words_are_not() -> None:
    assert found("sha d1123456789a and 4242424242424242f") == []
    assert found("a(212) 555-0147b") == []  # glued to words on both sides
    assert found("ref a (212) 555-0147 b") == [("pii_phone", "(212) 555-0147")]
    assert found("NIE X1234567L and iban NL91ABNA0417164300") == [
        ("pii_national_id", "X1234567L"),
        ("pii_iban", "NL91ABNA0417164300"),
    ]


def test_finding_kind_drops_the_prefix() -> None:
    assert PIIFinding("f", "pii_email", "x***", 0, 3).kind == "email"
