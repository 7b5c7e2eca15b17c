"""The library-confirmed detectors: phones by region, national ids, IBANs, IPv6, secrets."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from finetune_kit.cli import app
from finetune_kit.errors import ConfigError
from finetune_kit.privacy import Redactor, redact_file, redact_text, scan_text
from finetune_kit.privacy import _numbers as num


def found(text: str, **kwargs: Any) -> list[tuple[str, str]]:
    return [(m.code, text[m.start : m.end]) for m in scan_text(text, **kwargs)]


# --------------------------------------------------------------------------- phones


@pytest.mark.parametrize(
    "text",
    [
        "Llámame al +34 612 34 56 78",
        "WhatsApp: 0034 612 345 678",
        "Appelez-moi au +33 6 12 34 56 78",
        "Meu celular é +55 11 96123-4567",
        "Reach me at +52 55 1234 5678",
    ],
)
def test_international_numbers_of_any_region_are_found(text: str) -> None:
    (code, value), *_ = found(text)
    assert code == "pii_phone" and value.startswith(("+", "00"))


def test_a_national_number_is_read_in_the_region_given() -> None:
    text = "Ana Ruiz, 612 345 678, Madrid"
    assert found(text) == []  # 3-3-3 is not how libphonenumber groups Spanish numbers
    assert found(text, region="ES") == [("pii_phone", "612 345 678")]
    assert found(text, region="es") == [("pii_phone", "612 345 678")]


def test_without_a_region_national_numbers_need_the_regions_own_grouping_or_a_phone_word() -> None:
    assert found("020 7946 0958 (office)") == [("pii_phone", "020 7946 0958")]
    assert found("06 12 34 56 78 le soir") == [("pii_phone", "06 12 34 56 78")]
    assert found("Mi móvil es 612345678") == [("pii_phone", "612345678")]
    assert found("part no. 0800-1234-56") == []


@pytest.mark.parametrize(
    "text",
    [
        "+34 000 000 000",  # not a valid Spanish number
        "+44 7700 900456",  # reserved for drama, invalid for libphonenumber
        "gained +4915123456 views",
        "pedido 46-3456-7890",  # an order id, even though Brazil has such numbers
        "Tenemos 1.234.567 filas",
        "el 17.05.2024 a las 10:30",
        "server 10.1.149.37",
    ],
)
def test_phone_look_alikes_are_kept(text: str) -> None:
    assert [c for c, _ in found(text, region="ES")] in ([], ["pii_ip"])


def test_an_unknown_region_is_refused_with_the_fix() -> None:
    with pytest.raises(ConfigError, match="unknown phone region") as info:
        scan_text("x", region="Spain")
    assert "ISO 3166" in (info.value.hint or "")
    with pytest.raises(ConfigError):
        Redactor(region="XX")


def test_redact_file_reads_national_numbers_in_the_region_in_every_worker(
    tmp_path: Any, monkeypatch: Any
) -> None:
    from finetune_kit.privacy import redaction

    monkeypatch.setattr(redaction, "_PARALLEL_MIN_BYTES", 0)  # split even a small file
    src = tmp_path / "in.jsonl"
    line = json.dumps({"messages": [{"role": "user", "content": "Ana, 612 345 678."}]})
    src.write_text((line + "\n") * 2_000, encoding="utf-8")
    for workers in (1, 2):
        report = redact_file(src, tmp_path / f"out{workers}.jsonl", region="ES", workers=workers)
        assert report.counts == {"pii_phone": 2_000}
    assert (tmp_path / "out1.jsonl").read_bytes() == (tmp_path / "out2.jsonl").read_bytes()


def test_the_cli_takes_a_region(tmp_path: Any) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"messages": [{"role": "user", "content": "Ana, 612 345 678."}]}) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["redact", str(src), "-o", str(out), "--region", "ES"])
    assert result.exit_code == 0, result.output
    assert "[PHONE]" in out.read_text(encoding="utf-8")
    bad = CliRunner().invoke(app, ["redact", str(src), "-o", str(out), "--region", "Spain"])
    assert bad.exit_code != 0 and "unknown phone region" in bad.output


# --------------------------------------------------------------------------- national ids


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("DNI 54362315-K", "54362315-K"),
        ("NIE X2482300W", "X2482300W"),
        ("CIF de la empresa: B58378431", "B58378431"),
        ("NIR 2 95 10 99 126 111 93", "2 95 10 99 126 111 93"),
        ("NIR 253072B07300470", "253072B07300470"),
        ("Steuer-ID: 36574261809", "36574261809"),
        ("IdNr 36 574 261 809", "36 574 261 809"),
        ("Codice fiscale: RCCMNL83S18D969H", "RCCMNL83S18D969H"),
        ("CURP: BOXW310820HNERXN09", "BOXW310820HNERXN09"),
        ("CPF: 390.533.447-05", "390.533.447-05"),
        ("CPF 39053344705", "39053344705"),
        ("ITIN: 912-90-3456", "912-90-3456"),
        ("NINO AB 12 34 56 C", "AB 12 34 56 C"),
    ],
)
def test_national_ids_of_the_eu_uk_us_and_latam_are_found(text: str, value: str) -> None:
    assert found(text) == [("pii_national_id", value)]


@pytest.mark.parametrize(
    "text",
    [
        "DNI 54362315-A",  # wrong letter
        "CIF A11111118",  # wrong control digit
        "Steuer-ID 36574261890",  # wrong check digit
        "order 36574261809",  # an IdNr's digits, but bare and not announced
        "CURP PEGL890909MJCRMS09",  # wrong check digit
        "CPF 231.002.999-00",
        "NIR 253072C07300443",
        "NINO QQ 12 34 56 C",  # QQ is HMRC's example prefix, never issued
        "NINO AB 12 34 56 E",
        "ITIN 912-93-3456",  # group 93 is not an ITIN group
    ],
)
def test_ids_with_wrong_check_digits_or_formats_are_kept(text: str) -> None:
    assert found(text) == []


def test_nino_ok_follows_the_hmrc_prefix_rules() -> None:
    assert num.nino_ok("AB123456C")
    assert not num.nino_ok("GB123456C")
    assert not num.nino_ok("AO123456C")
    assert not num.nino_ok("DA123456C")


def test_ssns_known_to_be_misused_are_not_anyones() -> None:
    assert found("SSN 078-05-1120") == []  # the Woolworth wallet card
    assert found("SSN 536-90-4399") == [("pii_ssn", "536-90-4399")]


def test_pseudonyms_of_other_countries_ids_keep_the_shape_and_are_not_ids() -> None:
    red = Redactor("pseudonym", secret="s")
    fake = red.pseudonym("pii_national_id", "BOXW310820HNERXN09")
    assert len(fake) == 18 and fake.isalnum() and fake != "BOXW310820HNERXN09"
    assert scan_text(f"CURP {fake}") == []
    assert red.pseudonym("pii_national_id", "390.533.447-05").count(".") == 2


# --------------------------------------------------------------------------- IBAN and cards


@pytest.mark.parametrize(
    "value",
    [
        "ES91 2100 0418 4502 0005 1332",
        "ES9121000418450200051332",
        "ES91-2100-0418-4502-0005-1332",
        "ES 91 2100 0418 4502 0005 1332",
        "BE68 5390 0754 7034",  # a bank code python-stdnum's bank list lacks
    ],
)
def test_ibans_are_found_compact_grouped_or_dashed(value: str) -> None:
    assert found(f"IBAN: {value}.") == [("pii_iban", value)]


def test_ibans_with_wrong_national_check_digits_are_kept() -> None:
    assert num.iban_ok("ES9121000418450200051332")
    assert not num.iban_ok("ES2121000418450200051331")  # ISO checksum right, CCC wrong


@pytest.mark.parametrize(
    "value",
    [
        "4242424242424242",
        "4242 4242 4242 4242",
        "4242-4242-4242-4242",
        "3782 822463 10005",
        "3056 930902 5904",
        "6799 9901 0000 0000 019",
        "4222 2222 2222 2",
    ],
)
def test_cards_are_found_in_every_common_grouping(value: str) -> None:
    assert found(f"card {value} please") == [("pii_card", value)]


# --------------------------------------------------------------------------- IPv6


@pytest.mark.parametrize(
    "value",
    [
        "2a00:1450:4001:0829:0000:0000:0000:200e",
        "2a00:1450:4001:829::200e",
        "fd12:3456:789a:1::1",
        "fd00::4%eth0",
        "fd12:3456:789a:1::1%25wlan0",
        "::ffff:81.2.69.160",
        "2A02:6B8::2:242",
    ],
)
def test_ipv6_is_found_full_compressed_with_zones_and_ipv4_tails(value: str) -> None:
    assert found(f"client {value} connected") == [("pii_ip", value)]


@pytest.mark.parametrize(
    "value",
    [
        "2001:db8::1",
        "3fff:abc::1",
        "fe80::1%eth0",
        "fe80::a00:27ff:fe4e:66a1",
        "::1",
        "ff02::1",
        "2001:4860:4860::8888",
        "::ffff:127.0.0.1",
        "::ffff:192.0.2.1",
    ],
)
def test_ipv6_documentation_link_local_and_other_kept_ranges_are_kept(value: str) -> None:
    assert found(f"client {value} connected") == []


def test_ipv6_pseudonyms_drop_the_zone() -> None:
    red = Redactor("pseudonym", secret="s")
    assert red.pseudonym("pii_ip", "fd00::4%eth0") == red.pseudonym("pii_ip", "fd00::4")


# --------------------------------------------------------------------------- secrets and e-mail


@pytest.mark.parametrize(
    "value",
    [
        "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",
        "7213808860:AAH1bjqpKKW3maRSPAxzIU-0v6xNuq2-NjM",
        "glrt-8w1WLXhIRrhi84ri0UBh",
        "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",
        "dapia8fd2cda8edb41363df1377852ac7b81",
    ],
)
def test_provider_token_shapes_from_detect_secrets_are_found(value: str) -> None:
    assert found(f"use {value} here") == [("pii_secret", value)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("contraseña: M1Cl4v3$egura", "M1Cl4v3$egura"),
        ("la api key es Jk48sLq2Zm9Xb4Nc7Wt1Yp6Ud0Se5AfQ", "Jk48sLq2Zm9Xb4Nc7Wt1Yp6Ud0Se5AfQ"),
        ('{"apiKey": "a8F3kL9mQ2xZ7vB4nW1cR6tY5uP0sD3e"}', "a8F3kL9mQ2xZ7vB4nW1cR6tY5uP0sD3e"),
        (
            "AccountKey=lJzRc1YdHaAA2KCNJJ1tkYwF/+mKK6Ygw0NG==",
            "lJzRc1YdHaAA2KCNJJ1tkYwF/+mKK6Ygw0NG==",
        ),
    ],
)
def test_secrets_after_spanish_and_camel_case_keywords_are_found(text: str, value: str) -> None:
    assert found(text) == [("pii_secret", value)]


def test_spanish_look_alikes_of_secret_keywords_are_kept() -> None:
    assert found("la clave primaria es user_id") == []
    assert found("palabra clave: entrenamiento") == []


def test_internationalised_e_mail_addresses_are_found() -> None:
    assert found("escribe a info@bücher.de o a josé@correo.es") == [
        ("pii_email", "info@bücher.de"),
        ("pii_email", "josé@correo.es"),
    ]


def test_a_spanish_sample_is_fully_redacted() -> None:
    text = (
        "Hola, soy María García (maria.garcia@empresa.es). Mi móvil es +34 612 34 56 78 y el "
        "fijo 912 345 678. DNI 54362315K, NIE X2482300W. Pagad a ES91 2100 0418 4502 0005 1332."
    )
    clean, matches = redact_text(text, Redactor(region="ES"))
    assert clean == (
        "Hola, soy María García ([EMAIL]). Mi móvil es [PHONE] y el fijo [PHONE]. "
        "DNI [NATIONAL_ID], NIE [NATIONAL_ID]. Pagad a [IBAN]."
    )
    assert len(matches) == 6


# --------------------------------------------------------------------------- Presidio


def test_presidio_without_a_spacy_model_names_the_extra_and_the_model(monkeypatch: Any) -> None:
    import importlib.util

    from finetune_kit.privacy import redaction

    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        if name == "presidio_analyzer":
            return real("json")  # "installed"
        if name in redaction._SPACY_MODELS:
            return None
        return real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(ConfigError, match="needs a spaCy model") as info:
        Redactor(presidio=True)
    assert "finetune-kit[presidio]" in (info.value.hint or "")
    assert "spacy download en_core_web_lg" in (info.value.hint or "")
