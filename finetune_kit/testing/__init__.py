"""Loopback emulators of the OpenAI and Together AI fine-tuning APIs, fault plans, a fixture.

```python
from finetune_kit.testing import Emulator, Fault

with Emulator(manual_clock=True, faults=[Fault.error(429, path="/files", retry_after=0.01)]) as emu:
    client = emu.client()  # a real openai.OpenAI pointed at http://127.0.0.1:PORT/v1
    ...
```

Names are imported lazily so that ``import finetune_kit.testing`` (and the pytest plugin) stay
cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from finetune_kit.testing._clock import Clock, ManualClock, ScaledClock
    from finetune_kit.testing._models import DEFAULT_SHUTDOWN_DATES
    from finetune_kit.testing._records import InjectedFault, RecordedRequest
    from finetune_kit.testing._state import EmulatorState
    from finetune_kit.testing.emulator import DEFAULT_SPEED, Emulator
    from finetune_kit.testing.faults import Fault, FaultKind, FaultPlan
    from finetune_kit.testing.fireworks import FireworksEmulator
    from finetune_kit.testing.together import TogetherEmulator

__all__ = [
    "DEFAULT_SHUTDOWN_DATES",
    "DEFAULT_SPEED",
    "Clock",
    "Emulator",
    "EmulatorState",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "FireworksEmulator",
    "InjectedFault",
    "ManualClock",
    "RecordedRequest",
    "ScaledClock",
    "TogetherEmulator",
]

_WHERE = {
    "Clock": "_clock",
    "ManualClock": "_clock",
    "ScaledClock": "_clock",
    "DEFAULT_SHUTDOWN_DATES": "_models",
    "InjectedFault": "_records",
    "RecordedRequest": "_records",
    "EmulatorState": "_state",
    "DEFAULT_SPEED": "emulator",
    "Emulator": "emulator",
    "Fault": "faults",
    "FaultKind": "faults",
    "FaultPlan": "faults",
    "TogetherEmulator": "together",
    "FireworksEmulator": "fireworks",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
