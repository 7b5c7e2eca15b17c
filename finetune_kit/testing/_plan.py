"""A job's training plan: resolved hyperparameters, step counts and a seeded loss curve.

Pure functions only: the same request, file and seed always give the same plan.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Plan", "StepMetrics", "make_plan", "resolve_hyperparameters"]

_AUTO_LEARNING_RATE_MULTIPLIER = 1.8
_AUTO_BETA = 0.1
_TARGET_EPOCHS = 3
_MIN_TARGET_EXAMPLES = 100
_MAX_TARGET_EXAMPLES = 25_000
_MAX_AUTO_EPOCHS = 25
_VALID_EVERY = 10


@dataclass(frozen=True)
class StepMetrics:
    """Metrics of one training step.

    Attributes:
        step: 1-based step number.
        train_loss: Training loss.
        train_accuracy: Training mean token accuracy.
        valid_loss: Validation loss (only on some steps, with a validation file).
        valid_accuracy: Validation mean token accuracy (same steps as ``valid_loss``).
    """

    step: int
    train_loss: float
    train_accuracy: float
    valid_loss: float | None = None
    valid_accuracy: float | None = None

    def event_data(self, total_steps: int) -> dict[str, Any]:
        """The ``data`` of the step's ``metrics`` event."""
        data: dict[str, Any] = {
            "step": self.step,
            "train_loss": self.train_loss,
            "train_mean_token_accuracy": self.train_accuracy,
            "total_steps": total_steps,
        }
        if self.valid_loss is not None:
            data["valid_loss"] = self.valid_loss
            data["valid_mean_token_accuracy"] = self.valid_accuracy
        return data


@dataclass(frozen=True)
class Plan:
    """What a job will do, fixed once its files are validated.

    Attributes:
        method: ``supervised`` or ``dpo``.
        hyperparameters: Resolved values (no ``"auto"`` left).
        steps_per_epoch: Steps in one epoch.
        total_steps: Steps in the whole job.
        trained_tokens: Billable tokens (training tokens x epochs).
        curve: Metrics of every step, in order.
    """

    method: str
    hyperparameters: Mapping[str, Any]
    steps_per_epoch: int
    total_steps: int
    trained_tokens: int
    curve: tuple[StepMetrics, ...]

    @property
    def n_epochs(self) -> int:
        """Number of epochs."""
        return int(self.hyperparameters["n_epochs"])

    def result_csv(self) -> bytes:
        """The result file: one row per step, validation columns only where measured."""
        rows = ["step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"]
        for m in self.curve:
            valid = (
                f"{m.valid_loss:.5f},{m.valid_accuracy:.5f}"
                if m.valid_loss is not None and m.valid_accuracy is not None
                else ","
            )
            rows.append(f"{m.step},{m.train_loss:.5f},{m.train_accuracy:.5f},{valid}")
        return ("\n".join(rows) + "\n").encode()


def _auto_epochs(examples: int) -> int:
    if examples * _TARGET_EPOCHS < _MIN_TARGET_EXAMPLES:
        return min(_MAX_AUTO_EPOCHS, _MIN_TARGET_EXAMPLES // max(examples, 1))
    if examples * _TARGET_EPOCHS > _MAX_TARGET_EXAMPLES:
        return max(1, _MAX_TARGET_EXAMPLES // examples)
    return _TARGET_EPOCHS


def resolve_hyperparameters(requested: Mapping[str, Any], examples: int) -> dict[str, Any]:
    """Replace every ``"auto"`` by the value the emulator picks for ``examples`` examples.

    Epochs follow the cookbook heuristic (target 3, 100..25,000 example window); batch size is
    about 0.2 % of the examples (1..256); the learning-rate multiplier is 1.8; DPO beta is 0.1.
    """
    auto = {
        "n_epochs": _auto_epochs(examples),
        "batch_size": max(1, min(256, round(examples * 0.002))),
        "learning_rate_multiplier": _AUTO_LEARNING_RATE_MULTIPLIER,
        "beta": _AUTO_BETA,
    }
    return {name: auto[name] if value == "auto" else value for name, value in requested.items()}


def _curve(total_steps: int, seed: int, validation: bool) -> tuple[StepMetrics, ...]:
    rng = random.Random(seed)
    start = 2.0 + rng.random()
    floor = 0.15 + 0.2 * rng.random()
    steps: list[StepMetrics] = []
    for step in range(1, total_steps + 1):
        progress = step / total_steps
        loss = floor + (start - floor) * math.exp(-4.0 * progress) + rng.gauss(0.0, 0.05)
        loss = round(max(loss, 0.01), 5)
        accuracy = round(min(max(1.0 - loss / 3.0 + rng.gauss(0.0, 0.02), 0.0), 1.0), 5)
        valid_loss = valid_accuracy = None
        if validation and (step % _VALID_EVERY == 0 or step == total_steps):
            valid_loss = round(loss + 0.05 + abs(rng.gauss(0.0, 0.05)), 5)
            valid_accuracy = round(min(max(1.0 - valid_loss / 3.0, 0.0), 1.0), 5)
        steps.append(StepMetrics(step, loss, accuracy, valid_loss, valid_accuracy))
    return tuple(steps)


def make_plan(
    *,
    method: str,
    requested: Mapping[str, Any],
    examples: int,
    tokens: int,
    seed: int,
    validation: bool,
) -> Plan:
    """The plan of a job whose training file holds ``examples`` examples and ``tokens`` tokens."""
    hyperparameters = resolve_hyperparameters(requested, examples)
    steps_per_epoch = max(1, math.ceil(examples / int(hyperparameters["batch_size"])))
    total_steps = steps_per_epoch * int(hyperparameters["n_epochs"])
    return Plan(
        method=method,
        hyperparameters=hyperparameters,
        steps_per_epoch=steps_per_epoch,
        total_steps=total_steps,
        trained_tokens=tokens * int(hyperparameters["n_epochs"]),
        curve=_curve(total_steps, seed, validation),
    )
