"""Plant the bugs a test audit found uncaught, one at a time, and check that tests now fail.

Each bug is a one-line change to a copy of the package (the working tree is never touched);
the tests named with it are run against the copy and must fail::

    python scripts/planted_bugs.py           # every bug; exit code 1 if one goes unnoticed
    python scripts/planted_bugs.py luhn_mod_5

Prints, per bug, whether it was caught and by which test.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Bug:
    """Replace ``old`` (found exactly once) by ``new`` in ``path``; ``tests`` must then fail."""

    path: str
    old: str
    new: str
    tests: tuple[str, ...]


CLIENT = "tests/jobs/test_client.py"
AZURE = "tests/providers/test_azure.py"
PRIVACY = "tests/privacy/test_privacy.py"
DISABLE = (
    'self._own[code] = Rule(code, _no_findings, Severity.WARNING, "", "disabled", frozenset())'
)
BUGS: dict[str, Bug] = {
    "retry_after_ignored": Bug(
        "finetune_kit/jobs/_core.py",
        "        if after is not None:\n            return min(after, self.max_retry_after)",
        "        if False:\n            return min(after, self.max_retry_after)",
        (f"{CLIENT}::test_retry_after_is_honoured_and_recorded_instead_of_slept",),
    ),
    "insufficient_quota_retried": Bug(
        "finetune_kit/jobs/_core.py",
        'if info.status_code == 429 and info.code == "insufficient_quota":',
        "if False:",
        (f"{CLIENT}::test_errors_no_retry_can_fix_are_raised_at_once",),
    ),
    "backoff_without_jitter": Bug(
        "finetune_kit/jobs/_core.py",
        "random.uniform(0, JITTER)",
        "0.0",
        (f"{CLIENT}::test_backoff_doubles_with_jitter_inside_its_bounds",),
    ),
    "backoff_not_growing": Bug(
        "finetune_kit/jobs/_core.py",
        "self.initial * 2.0 ** (state.attempt_number - 1)",
        "self.initial",
        (f"{CLIENT}::test_backoff_doubles_with_jitter_inside_its_bounds",),
    ),
    "events_read_on_every_poll": Bug(
        "finetune_kit/jobs/_core.py",
        'if chosen.facts.has("events") and (on_event is not None or job.is_terminal):',
        'if chosen.facts.has("events"):',
        (
            f"{CLIENT}::test_polls_wait_the_poll_interval_and_are_recorded",
            "tests/jobs/test_core.py::test_wait_polls_at_the_interval_and_reads_events_once_at_the_end",
        ),
    ),
    "one_retry_too_many": Bug(
        "finetune_kit/jobs/_core.py",
        "stop=stop_after_attempt(self.attempts)",
        "stop=stop_after_attempt(self.attempts + 1)",
        (f"{CLIENT}::test_retries_stop_after_the_last_attempt",),
    ),
    "epochs_over_all_examples": Bug(
        "finetune_kit/cost/estimator.py",
        "else self.terms.default_epochs(n, default_epochs)",
        "else self.terms.default_epochs(result.state.n_examples, default_epochs)",
        (
            "tests/cost/test_estimator.py::test_default_epochs_count_only_the_examples_that_are_counted",
        ),
    ),
    "training_price_per_1k_as_per_1m": Bug(
        "finetune_kit/cost/estimator.py",
        "cost = Decimal(training_tokens) * per_1m / _MILLION",
        "cost = Decimal(training_tokens) * per_1m / 1000",
        ("tests/cost/test_estimator.py::test_tutorial_training_figure_is_cents_not_hundreds",),
    ),
    "luhn_mod_5": Bug(
        "finetune_kit/privacy/_numbers.py",
        "    return bool(luhn.is_valid(digits))",
        # Luhn is python-stdnum's now: plant a hand-written Luhn whose last step is % 5
        "    return sum(\n"
        "        (2 * d - 9 if 2 * d > 9 else 2 * d) if i % 2 else d\n"
        "        for i, d in enumerate(map(int, reversed(digits)))\n"
        "    ) % 5 == 0",
        (f"{PRIVACY}::test_luhn_accepts_public_test_numbers_and_catches_every_single_digit_error",),
    ),
    "iban_letters_as_digits": Bug(
        "finetune_kit/privacy/_numbers.py",
        # mod-97 is python-stdnum's now: plant letters read as one digit, and no second check
        "        if not mod_97_10.is_valid(compact[4:] + compact[:4]):\n            return False",
        "        moved = compact[4:] + compact[:4]\n"
        "        if int(''.join(str(int(ch, 36) % 10) for ch in moved)) % 97 != 1:\n"
        "            return False\n"
        "        return True",
        (
            f"{PRIVACY}::test_iban_accepts_registry_examples_and_catches_every_single_character_error",
        ),
    ),
    "typed_models_never_built": Bug(
        "finetune_kit/validation/engine.py",
        "if typed_rules[fmt]:",
        "if False:",
        ("tests/validation/test_engine.py::test_generated_clean_examples_are_clean",),
    ),
    "remove_rule_disables_every_builtin": Bug(
        "finetune_kit/validation/engine.py",
        DISABLE,
        DISABLE + "\n        self._builtin = False",
        ("tests/validation/test_engine.py::test_remove_rule_disables_a_builtin_rule",),
    ),
    "png_formatter_on_any_shell": Bug(
        "finetune_kit/plots.py",
        'png = formatters.get("image/png") if isinstance(formatters, dict) else None',
        "png = next(iter(formatters.values()), None) if isinstance(formatters, dict) else None",
        ("tests/test_plots.py::test_outside_ipython_nothing_is_registered",),
    ),
    "ask_answers_the_wrong_text": Bug(
        "finetune_kit/providers/_sdk.py",
        'content = completion.choices[0].message.content if completion.choices else ""',
        'content = completion.choices[0].message.role if completion.choices else ""',
        (f"{CLIENT}::test_events_checkpoints_metrics_and_ask",),
    ),
    "cli_prints_a_wrong_cost": Bug(
        "finetune_kit/cli/jobs.py",
        "float(round(estimate.training_cost, 6)) if estimate.training_cost is not None",
        "float(round(estimate.training_cost * 2, 6)) if estimate.training_cost is not None",
        ("tests/cli/test_cli_jobs.py::test_train_wait_json_prints_succeeded_and_an_ft_model",),
    ),
}


def _copy(dest: Path) -> None:
    for name in ("finetune_kit", "tests", "docs", "pyproject.toml", "mkdocs.yml", "README.md"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.exists():
            shutil.copy2(src, dest / name)


def check(name: str, bug: Bug) -> tuple[bool, str]:
    """Plant ``bug`` in a copy and run its tests: (caught, the first failing test or why not)."""
    with tempfile.TemporaryDirectory(prefix="ftk-planted-") as tmp:
        copy = Path(tmp)
        _copy(copy)
        target = copy / bug.path
        text = target.read_text(encoding="utf-8")
        if text.count(bug.old) != 1:
            return False, f"cannot plant: {bug.old!r} found {text.count(bug.old)} times"
        target.write_text(text.replace(bug.old, bug.new), encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(copy)}
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *bug.tests],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        failed = re.findall(r"^FAILED (\S+)", run.stdout, flags=re.MULTILINE)
        if run.returncode == 1 and failed:
            return True, failed[0]
        if run.returncode == 0:
            return False, "every test passed"
        return False, f"pytest exit code {run.returncode}: {run.stdout[-300:]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bugs", nargs="*", help=f"some of {', '.join(BUGS)} (default: all)")
    names = parser.parse_args().bugs or list(BUGS)
    missed = 0
    for name in names:
        caught, detail = check(name, BUGS[name])
        missed += not caught
        print(f"{'caught' if caught else 'MISSED'}  {name:36} {detail}", flush=True)
    print(f"{len(names) - missed} of {len(names)} planted bugs caught")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
