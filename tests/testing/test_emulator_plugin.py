"""The pytest fixture, the lazy package imports and the ``finetune-kit emulator`` command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import openai
import pytest
from typer.testing import CliRunner

from emulator_helpers import chat_jsonl
from finetune_kit.errors import ConfigError
from finetune_kit.testing import Emulator, Fault

PLUGIN = "finetune_kit.testing.pytest_plugin"


# -- fixture -------------------------------------------------------------------------------------


def test_fixture_gives_a_running_emulator_whose_jobs_finish_quickly(
    openai_emulator: Emulator,
) -> None:
    client = openai_emulator.client()
    file = client.files.create(file=("t.jsonl", chat_jsonl()), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(model="gpt-4.1-nano", training_file=file.id)
    openai_emulator.advance(10_000)

    assert client.fine_tuning.jobs.retrieve(job.id).status == "succeeded"
    assert [r.path for r in openai_emulator.requests][:2] == ["/v1/files", "/v1/fine_tuning/jobs"]
    assert openai_emulator.faults == []
    assert len(openai_emulator.state.list_jobs()) == 1


@pytest.mark.openai_emulator(manual_clock=True, faults=[Fault.error(503, path="/models")])
def test_marker_passes_options_to_the_fixture(openai_emulator: Emulator) -> None:
    with pytest.raises(openai.InternalServerError):
        openai_emulator.client(max_retries=0).models.list()

    before = openai_emulator.now()
    assert openai_emulator.now() == before  # manual clock: time stands still


def test_fixture_offers_an_async_client(openai_emulator: Emulator) -> None:
    import asyncio

    async def scenario() -> int:
        client = openai_emulator.async_client()
        try:
            return len((await client.models.list()).data)
        finally:
            await client.close()

    assert asyncio.run(scenario()) > 0


def test_plugin_is_registered_and_imports_without_loading_the_emulator() -> None:
    code = (
        "import sys, importlib.metadata as md;"
        f"import {PLUGIN};"
        "eps = {e.value for e in md.entry_points(group='pytest11')};"
        f"assert '{PLUGIN}' in eps, eps;"
        "heavy = [m for m in ('finetune_kit.testing.emulator', 'python_multipart')"
        " if m in sys.modules];"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_multipart_extra_explains_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "python_multipart", None)
    monkeypatch.setitem(sys.modules, "python_multipart.multipart", None)

    with pytest.raises(ConfigError) as info:
        Emulator().start()

    assert "pip install 'finetune-kit[emulator]'" in str(info.value)


def test_emulator_can_be_restarted_and_stopped_twice() -> None:
    emu = Emulator()
    emu.start()
    emu.stop()
    emu.stop()
    with pytest.raises(RuntimeError):
        _ = emu.base_url
    with emu:
        assert emu.client().models.list().data


def test_stop_closes_idle_keep_alive_connections() -> None:
    with Emulator() as emu:
        client = emu.client()
        client.models.list()
    alive = [t for t in threading.enumerate() if t.name.startswith("finetune-kit-emulator")]
    assert alive == []


def test_bad_settings_raise_config_errors() -> None:
    with pytest.raises(ConfigError):
        Emulator(speed=0)
    with pytest.raises(ConfigError):
        Emulator(job_creation_cutoff="next year")
    with pytest.raises(ConfigError):
        Emulator(shutdown_dates={"gpt-4o-2024-08-06": "soon"})
    with pytest.raises(ValueError, match="stage"):
        Emulator().fail_next_job(stage="queued")


# -- command line --------------------------------------------------------------------------------


def test_cli_serves_until_interrupted_and_prints_how_to_connect(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps([{"kind": "status", "status": 429, "path": "/models"}]))
    code = "from finetune_kit.cli import emulator\nfrom finetune_kit.cli import main\nmain()\n"
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    with subprocess.Popen(
        [sys.executable, "-c", code, "emulator", "--port", "0", "--faults", str(plan)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as process:
        assert process.stdout is not None
        lines = []
        while not (line := process.stdout.readline()).startswith("Press Ctrl-C"):
            assert line, process.stderr.read() if process.stderr else ""
            lines.append(line)
        base_url = next(x.split("=", 1)[1].strip() for x in lines if "OPENAI_BASE_URL=" in x)
        assert any("OPENAI_API_KEY=" in x for x in lines)

        client = openai.OpenAI(base_url=base_url, api_key="sk-test", max_retries=0)
        with pytest.raises(openai.RateLimitError):
            client.models.list()
        assert client.models.list().data
        client.close()

        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=10)

    assert process.returncode == 0
    assert "stopped" in rest


def test_cli_reports_an_invalid_fault_plan(tmp_path: Path) -> None:
    from finetune_kit.cli import (
        app,
        emulator,  # noqa: F401  (registers the command)
    )

    plan = tmp_path / "plan.json"
    plan.write_text('{"faults": [{"kind": "nope"}]}')

    result = CliRunner().invoke(app, ["emulator", "--faults", str(plan)])

    assert result.exit_code == 2
    assert "faults[0].kind" in result.output + (result.stderr or "")
