"""The examples run offline against the emulator: the tutorial notebook and the service."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
NOTEBOOK = EXAMPLES / "tutorial.ipynb"
SERVICE = EXAMPLES / "service.py"
KERNEL = "finetune-kit-examples"


def _kernel_for_this_interpreter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Write a kernelspec that runs ``sys.executable`` and make Jupyter find it first.

    The ``python3`` spec a machine has may belong to another interpreter (a user-wide install);
    this one is certain to be the test's own, with finetune-kit importable.
    """
    from ipykernel.kernelspec import install

    prefix = tmp_path / "jupyter"
    install(prefix=str(prefix), kernel_name=KERNEL)
    monkeypatch.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )
    return KERNEL


def _text(cell: dict) -> str:
    """Everything a cell printed or displayed as text."""
    parts = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            parts.append(output["text"])
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
    return "".join(parts)


def _tagged(notebook: dict, tag: str) -> dict:
    return next(c for c in notebook["cells"] if tag in c.get("metadata", {}).get("tags", []))


def test_committed_notebook_has_no_outputs() -> None:
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert code
    assert all(not c["outputs"] and c["execution_count"] is None for c in code)


@pytest.mark.timeout(180)
def test_tutorial_notebook_runs_against_the_emulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    work = tmp_path / "work"
    work.mkdir()
    client = NotebookClient(
        notebook,
        timeout=120,
        kernel_name=_kernel_for_this_interpreter(tmp_path, monkeypatch),
        resources={"metadata": {"path": str(work)}},
    )
    client.execute()

    train = _text(_tagged(notebook, "train"))
    assert "The job has successfully completed" in train
    assert "succeeded" in train
    plot = _tagged(notebook, "plot")
    assert any("image/png" in o.get("data", {}) for o in plot["outputs"])
    ask = _text(_tagged(notebook, "ask"))
    assert "status: succeeded" in ask
    assert "model:  ft:gpt-4o-mini-2024-07-18:" in ask
    assert "A: Overfitting, sirrah" in ask  # the trained answer, apostrophes and all
    assert (work / "metrics.png").stat().st_size > 1_000
    assert (work / "train.jsonl").read_text(encoding="utf-8").count("\n") == 50


def test_service_runs_jobs_concurrently_and_reports_a_failed_job(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SERVICE), "--inject-failure"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    summary = result.stdout.split("\n\n")[-1].splitlines()
    statuses = sorted(line.split()[1] for line in summary)
    assert statuses == ["failed", "succeeded", "succeeded"], result.stdout
    assert "server_error: The job failed due to an internal error." in result.stdout
    assert result.stdout.count("The job has successfully completed") == 2
    assert "Traceback" not in result.stderr


def _service(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import examples/service.py (not a package) as a module."""
    spec = importlib.util.spec_from_file_location("finetune_kit_service_example", SERVICE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_service_rejects_bad_data_and_reuses_a_job_for_the_same_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from finetune_kit import AsyncJobClient
    from finetune_kit.testing import Emulator

    service = _service(monkeypatch)
    good = service.sample_parts(tmp_path, parts=2)[0]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "Hi"}]}\n', encoding="utf-8")

    async def scenario() -> list:
        with Emulator(speed=2000) as emulator:
            async with emulator.async_client() as sdk:
                jobs = AsyncJobClient(sdk, poll_interval=0.05)
                worker = service.TrainingService(jobs, service.DEFAULT_MODEL, concurrency=2)
                first = await worker.run([good, bad])
                again = await worker.run([good])
                return [*first, *again]

    trained, rejected, again = asyncio.run(scenario())
    assert trained.status == "succeeded" and trained.fine_tuned_model.startswith("ft:")
    assert rejected.status == "rejected" and "missing_assistant_message" in rejected.detail
    assert rejected.job_id is None
    assert (again.status, again.job_id) == ("succeeded", trained.job_id)
