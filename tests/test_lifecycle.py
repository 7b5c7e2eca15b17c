"""Lifecycle data and warnings: each code just before and just after each date."""

from __future__ import annotations

import json
import warnings
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import httpx2
import pytest

from finetune_kit import ConfigError, Severity
from finetune_kit.catalog.prices import PriceTable
from finetune_kit.jobs.shutdown import fetch_shutdown_date
from finetune_kit.lifecycle import (
    LIFECYCLE_CODES,
    LIFECYCLE_PAGE,
    NEAR_DAYS,
    LifecycleWarning,
    ModelLifecycle,
    lifecycle_findings,
    warn_lifecycle,
)
from finetune_kit.testing import DEFAULT_SHUTDOWN_DATES, Emulator

MINI = "gpt-4o-mini-2024-07-18"
FT_MINI = f"ft:{MINI}:my-org:bard:7p4lURel"
NANO = "gpt-4.1-nano-2025-04-14"
CUTOFF = date(2027, 1, 6)
SHUTDOWN = date(2027, 1, 14)
DAY = timedelta(days=1)


def codes(model: str, today: date, **kwargs: object) -> list[str]:
    return [f.code for f in lifecycle_findings(model, today=today, **kwargs)]  # type: ignore[arg-type]


def only(model: str, today: date, code: str, **kwargs: object) -> str:
    found = [f for f in lifecycle_findings(model, today=today, **kwargs) if f.code == code]  # type: ignore[arg-type]
    assert len(found) == 1, codes(model, today, **kwargs)
    return found[0].message


# -- the table ------------------------------------------------------------------------------


def test_bundled_table_has_the_wind_down_dates_with_sources() -> None:
    table = ModelLifecycle.load()
    assert [(c.date.isoformat(), c.scope) for c in table.cutoffs] == [
        ("2026-05-07", "never_fine_tuned"),
        ("2026-07-02", "no_recent_inference"),
        ("2027-01-06", "all"),
    ]
    assert table.final_cutoff is not None and table.final_cutoff.date == CUTOFF
    for model in (
        "gpt-4o-2024-08-06",
        "gpt-4o-2024-11-20",
        MINI,
        "gpt-4.1-2025-04-14",
        "gpt-4.1-mini-2025-04-14",
    ):
        entry = table.get(model)
        assert entry is not None and entry.shutdown_date == SHUTDOWN
        assert entry.announced == date(2026, 10, 14) and entry.replacement
        assert "deprecations" in entry.source.url and entry.source.published <= entry.as_of
    assert table.get(NANO) is not None and table.shutdown_date(NANO) is None


@pytest.mark.parametrize(
    ("name", "base"),
    [
        ("gpt-4o-mini", MINI),
        (FT_MINI, MINI),
        (f"{FT_MINI}:ckpt-step-10", MINI),
        ("gpt-4.1", "gpt-4.1-2025-04-14"),
        ("some-new-model", "some-new-model"),
    ],
)
def test_aliases_and_ft_names_resolve_to_the_base(name: str, base: str) -> None:
    assert ModelLifecycle.load().resolve(name) == base


def test_dates_agree_with_the_price_table_and_the_emulator() -> None:
    table = ModelLifecycle.load()
    prices = PriceTable.load(as_of="2026-11-01")
    for model in table.models():
        entry = table.get(model)
        assert entry is not None
        if model in prices.models():
            price = prices.get(model)
            assert price.shutdown_date == entry.shutdown_date, model
            assert price.training_available_until == entry.training_available_until, model
    for model, when in DEFAULT_SHUTDOWN_DATES.items():
        assert table.shutdown_date(model) == (date.fromisoformat(when) if when else None)


def test_a_table_of_your_own_and_malformed_tables(tmp_path: Path) -> None:
    bundled = Path(__file__).parent.parent / "finetune_kit" / "data" / "models.json"
    data = json.loads(bundled.read_text("utf-8"))
    data["models"][NANO]["shutdown_date"] = "2026-10-23"
    data["models"][NANO]["announced"] = "2026-04-22"
    own = tmp_path / "models.json"
    own.write_text(json.dumps(data), "utf-8")
    table = ModelLifecycle.load(own)
    assert table.shutdown_date(NANO) == date(2026, 10, 23)
    assert "model_shut_down" in [f.code for f in table.findings(NANO, today=date(2026, 11, 1))]

    del data["platform"]
    own.write_text(json.dumps(data), "utf-8")
    with pytest.raises(ConfigError, match="malformed"):
        ModelLifecycle.load(own)
    own.write_text("{", "utf-8")
    with pytest.raises(ConfigError, match="not valid JSON"):
        ModelLifecycle.load(own)
    with pytest.raises(ConfigError, match="cannot read"):
        ModelLifecycle.load(tmp_path / "absent.json")


def test_table_renders_and_dumps() -> None:
    from rich.console import Console

    table = ModelLifecycle.load()
    console = Console(record=True, width=120)
    console.print(table)
    text = console.export_text()
    assert "2027-01-06" in text and "2027-01-14" in text and MINI in text
    dumped = table.to_dict()
    json.dumps(dumped)
    assert dumped["job_creation_cutoffs"][-1]["date"] == "2027-01-06"


# -- the warnings, day by day ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        # nothing was announced before the wind-down notice
        (date(2026, 5, 6), []),
        # stage 1: organisations that never fine-tuned
        (date(2026, 5, 7), ["training_access_restricted"]),
        # the shutdown notice of 2026-10-14
        (date(2026, 10, 13), ["training_access_restricted"]),
        (date(2026, 10, 14), ["training_access_restricted", "model_shutdown_scheduled"]),
        # the near window opens NEAR_DAYS before the last cutoff
        (
            CUTOFF - (NEAR_DAYS + 1) * DAY,
            ["training_access_restricted", "model_shutdown_scheduled"],
        ),
        (CUTOFF - NEAR_DAYS * DAY, ["training_cutoff_near", "model_shutdown_scheduled"]),
        # the final cutoff
        (CUTOFF - DAY, ["training_cutoff_near", "model_shutdown_scheduled"]),
        (CUTOFF, ["training_cutoff_passed", "model_shutdown_scheduled"]),
        # the shutdown
        (SHUTDOWN - DAY, ["training_cutoff_passed", "model_shutdown_scheduled"]),
        (SHUTDOWN, ["training_cutoff_passed", "model_shut_down"]),
    ],
)
def test_training_on_a_retiring_model_day_by_day(today: date, expected: list[str]) -> None:
    assert codes(MINI, today) == expected
    assert codes(FT_MINI, today) == expected


def test_stage_two_is_named_from_its_day_on() -> None:
    before = only(NANO, date(2026, 7, 1), "training_access_restricted")
    after = only(NANO, date(2026, 7, 2), "training_access_restricted")
    assert "60 days" not in before and "2026-05-07" in before
    assert "60 days" in after and "2026-07-02" in after and "2027-01-06" in after


def test_severities_and_shape() -> None:
    for today in (date(2026, 12, 20), CUTOFF, SHUTDOWN):
        for f in lifecycle_findings(FT_MINI, today=today):
            assert f.code in LIFECYCLE_CODES and f.hint and f.line is None
            error = f.code in ("training_cutoff_passed", "model_shut_down")
            assert f.severity is (Severity.ERROR if error else Severity.WARNING)


def test_messages_say_the_dates_and_the_replacement() -> None:
    passed = only(MINI, CUTOFF, "training_cutoff_passed")
    assert "2027-01-06" in passed and "every organisation" in passed
    near = only(MINI, CUTOFF - 3 * DAY, "training_cutoff_near")
    assert "3 days" in near
    scheduled = lifecycle_findings(FT_MINI, today=date(2026, 12, 1))[-1]
    assert scheduled.code == "model_shutdown_scheduled"
    assert "2027-01-14" in scheduled.message and "fine-tune of" in scheduled.message
    assert "gpt-6-luna" in scheduled.hint
    gone = lifecycle_findings(FT_MINI, today=SHUTDOWN, purpose="inference")
    assert [f.code for f in gone] == ["model_shut_down"]
    assert "no longer answer" in gone[0].message and "gpt-6-luna" in gone[0].hint


def test_a_long_job_is_near_the_cutoff_earlier() -> None:
    today = CUTOFF - (NEAR_DAYS + 10) * DAY
    assert codes(MINI, today)[0] == "training_access_restricted"
    assert (
        codes(MINI, today, expected_duration=timedelta(days=9))[0] == "training_access_restricted"
    )
    message = only(MINI, today, "training_cutoff_near", expected_duration=timedelta(days=45))
    assert "45 days" in message and "past that day" in message


def test_a_model_trained_now_would_serve_only_until_the_shutdown() -> None:
    message = only(MINI, SHUTDOWN - 20 * DAY, "model_shutdown_scheduled")
    assert "at most 20 days" in message
    later = only(
        MINI, SHUTDOWN - 20 * DAY, "model_shutdown_scheduled", expected_duration=timedelta(days=5)
    )
    assert "at most 15 days" in later


def test_inference_only_reports_the_shutdown() -> None:
    assert codes(FT_MINI, date(2026, 12, 20), purpose="inference") == ["model_shutdown_scheduled"]
    assert codes(NANO, date(2026, 12, 20), purpose="inference") == []


def test_unknown_models_still_meet_the_platform_cutoff() -> None:
    assert codes("gpt-9-turbo", CUTOFF) == ["training_cutoff_passed"]
    assert codes("gpt-9-turbo", CUTOFF, purpose="inference") == []


def test_override_wins_over_the_table() -> None:
    sooner = date(2026, 12, 1)
    assert codes(MINI, date(2026, 12, 2), shutdown_date_override=sooner)[-1] == "model_shut_down"
    assert codes(NANO, date(2026, 11, 1), shutdown_date_override=sooner)[-1] == (
        "model_shutdown_scheduled"
    )


def test_datetime_is_accepted_as_the_day() -> None:
    moment = datetime(2027, 1, 6, 23, 59, tzinfo=timezone.utc)
    assert codes(MINI, moment)[0] == "training_cutoff_passed"


def test_warn_lifecycle_emits_lifecycle_warnings_carrying_the_finding() -> None:
    with pytest.warns(LifecycleWarning) as caught:
        found = warn_lifecycle(MINI, today=CUTOFF - DAY)
    assert [w.message.finding for w in caught.list] == found  # type: ignore[union-attr]
    assert caught.list[0].filename == __file__
    assert "training_cutoff_near" in str(caught.list[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LifecycleWarning)
        assert warn_lifecycle(NANO, today=date(2026, 1, 1)) == []


def test_lifecycle_warning_is_one_short_line_naming_the_lifecycle_page() -> None:
    with pytest.warns(LifecycleWarning) as caught:
        warn_lifecycle(MINI, today=CUTOFF - DAY)
    for item in caught.list:
        text = str(item.message)
        assert "\n" not in text and len(text) < 160
        assert text.startswith(item.message.finding.code + ": ")  # type: ignore[union-attr]
        assert LIFECYCLE_PAGE in text and "finetune-kit lifecycle" in text


def test_each_code_warns_once_per_process_under_the_default_filters() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()  # Python's defaults: "default" for UserWarning subclasses
        for _ in range(3):
            found = warn_lifecycle(MINI, today=CUTOFF - DAY)
    assert len(found) == 2
    assert sorted(w.message.finding.code for w in caught) == sorted(f.code for f in found)  # type: ignore[union-attr]


def test_always_and_error_filters_see_every_lifecycle_warning() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", LifecycleWarning)
        warn_lifecycle(MINI, today=CUTOFF - DAY)
        warn_lifecycle(MINI, today=CUTOFF - DAY)
    assert len(caught) == 4
    with warnings.catch_warnings():
        warnings.simplefilter("error", LifecycleWarning)
        for _ in range(2):  # a service that refuses jobs near the cutoff refuses every time
            with pytest.raises(LifecycleWarning):
                warn_lifecycle(MINI, today=CUTOFF - DAY)


# -- the live date from GET /v1/models/{id} --------------------------------------------------


def test_fetch_shutdown_date_from_the_emulator() -> None:
    start = datetime(2026, 11, 2, tzinfo=timezone.utc)
    with Emulator(manual_clock=True, start_time=start, shutdown_dates={NANO: "2026-12-24"}) as emu:
        client = emu.client(max_retries=0)
        assert fetch_shutdown_date(client, MINI) == SHUTDOWN
        assert fetch_shutdown_date(client, "gpt-4o-mini") == SHUTDOWN  # alias -> snapshot
        assert fetch_shutdown_date(client, NANO) == date(2026, 12, 24)
        assert fetch_shutdown_date(client, "gpt-3.5-turbo-0125") is None
        assert fetch_shutdown_date(client, "no-such-model") is None
        live = fetch_shutdown_date(client, NANO)
        found = lifecycle_findings(NANO, today=date(2026, 12, 1), shutdown_date_override=live)
        assert found[-1].code == "model_shutdown_scheduled" and "2026-12-24" in found[-1].message


def test_fetch_shutdown_date_reads_model_extra_and_translates_errors() -> None:
    import openai

    from finetune_kit import APIError

    class Model:
        def __init__(self) -> None:
            self.model_extra = {"shutdown_date": "2027-01-14"}

    class Models:
        def __init__(self, error: Exception | None = None) -> None:
            self.error = error

        def retrieve(self, name: str) -> Model:
            if self.error is not None:
                raise self.error
            return Model()

    class Client:
        def __init__(self, error: Exception | None = None) -> None:
            self.models = Models(error)

    assert fetch_shutdown_date(Client(), MINI) == SHUTDOWN
    with pytest.raises(APIError):
        fetch_shutdown_date(Client(openai.APIConnectionError(request=_request())), MINI)


def _request() -> httpx2.Request:
    return httpx2.Request("GET", "http://127.0.0.1/v1/models/x")
