"""pytest plugin: the ``openai_emulator`` fixture (registered as the ``finetune_kit`` plugin).

```python
def test_my_pipeline(openai_emulator):
    client = openai_emulator.client()
    ...

@pytest.mark.openai_emulator(manual_clock=True, faults="tests/faults.json")
def test_with_options(openai_emulator): ...
```

This module imports nothing heavy: the emulator (and its optional ``python-multipart``
dependency) is only imported when a test asks for the fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from finetune_kit.testing.emulator import Emulator

__all__ = ["FIXTURE_SPEED", "openai_emulator"]

#: Emulated seconds per real second in the fixture: a small job finishes in well under a second.
FIXTURE_SPEED = 1000.0


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``openai_emulator`` marker."""
    config.addinivalue_line(
        "markers",
        "openai_emulator(**options): keyword arguments for the openai_emulator fixture's"
        " Emulator (speed, manual_clock, faults, shutdown_dates, job_creation_cutoff, ...)",
    )


@pytest.fixture
def openai_emulator(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """A running [`Emulator`][finetune_kit.testing.Emulator], stopped after the test.

    Use ``.client()`` / ``.async_client()`` for SDK clients pointed at it, and ``.requests``,
    ``.faults`` and ``.state`` to assert on what happened. Options come from the
    ``@pytest.mark.openai_emulator(...)`` marker; the clock runs at ``FIXTURE_SPEED`` unless told
    otherwise.
    """
    from finetune_kit.testing.emulator import Emulator

    options: dict[str, Any] = {"speed": FIXTURE_SPEED}
    marker = request.node.get_closest_marker("openai_emulator")
    if marker is not None:
        options.update(marker.kwargs)
    with Emulator(**options) as emulator:
        yield emulator
