"""Emulated time: a clock that runs faster than real time, or one that only moves when told.

Every timestamp the emulator hands out (``created_at``, ``finished_at``, event times) and every
state change of a job is computed from one of these clocks, lazily, when a request arrives.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

__all__ = ["Clock", "ManualClock", "ScaledClock", "to_epoch"]


def to_epoch(value: float | datetime | None) -> float:
    """Turn a start time into Unix seconds (``None`` means now; naive datetimes are UTC)."""
    if value is None:
        return time.time()
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.timestamp()
    return float(value)


class Clock:
    """Base class of the emulator's clocks: ``now()`` in emulated Unix seconds.

    Both clocks accept [`advance`][finetune_kit.testing.Clock.advance], which jumps emulated time
    forward; a [`ManualClock`][finetune_kit.testing.ManualClock] moves only that way.
    """

    def __init__(self, start: float) -> None:
        self._start = start
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """The current emulated time in Unix seconds."""
        with self._lock:
            return self._start + self._offset + self._elapsed()

    def advance(self, seconds: float) -> None:
        """Move emulated time forward by ``seconds`` (must not be negative).

        Raises:
            ValueError: If ``seconds`` is negative.
        """
        if seconds < 0:
            raise ValueError(f"cannot move the clock backwards ({seconds} s)")
        with self._lock:
            self._offset += seconds

    def _elapsed(self) -> float:
        return 0.0


class ManualClock(Clock):
    """A clock that stands still until [`advance`][finetune_kit.testing.Clock.advance] is called.

    Args:
        start: Emulated start time (Unix seconds or datetime); default: the real time now.
    """

    def __init__(self, start: float | datetime | None = None) -> None:
        super().__init__(to_epoch(start))


class ScaledClock(Clock):
    """A clock that runs ``speed`` emulated seconds per real second.

    Args:
        speed: Emulated seconds per real second (``1.0`` is real time).
        start: Emulated start time (Unix seconds or datetime); default: the real time now.

    Raises:
        ValueError: If ``speed`` is not positive.
    """

    def __init__(self, speed: float = 1.0, start: float | datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        super().__init__(to_epoch(start))
        self.speed = speed
        self._t0 = time.monotonic()

    def _elapsed(self) -> float:
        return (time.monotonic() - self._t0) * self.speed
