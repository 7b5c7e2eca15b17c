"""One runner for every client test: the same `JobClient` calls, sync or async.

A test written once against ``run("train", ...)`` runs through `JobClient` and through
`AsyncJobClient` (on a private event loop), whichever provider's SDK client it is given.
The ``instant_waits`` fixture (use it with ``pytest.mark.usefixtures``) turns the engine's
testing mode on (waits are recorded, not slept) and closes what the runners opened; ``kind``
parametrises a test over ``sync`` and ``async``.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from finetune_kit import AsyncJobClient, JobClient, set_testing

_OPEN: list[Runner] = []


class Runner:
    """Runs the same calls through the sync or the async client.

    Args:
        kind: ``"sync"`` or ``"async"``.
        sync_sdk: Makes the SDK client for `JobClient`.
        async_sdk: Makes the SDK client for `AsyncJobClient` (closed by `close()`).
        **options: More `JobClient` options.
    """

    def __init__(
        self,
        kind: str,
        sync_sdk: Callable[[], Any],
        async_sdk: Callable[[], Any],
        **options: Any,
    ) -> None:
        self.kind = kind
        self.loop = asyncio.new_event_loop()
        options.setdefault("poll_interval", 0.01)
        if kind == "sync":
            self.client: Any = JobClient(sync_sdk(), **options)
        else:
            self.client = AsyncJobClient(async_sdk(), **options)
        _OPEN.append(self)

    def close(self) -> None:
        if self.kind == "async":
            self.loop.run_until_complete(self.client.sdk.close())
        self.loop.close()

    def __call__(self, name: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.client, name)(*args, **kwargs)
        if self.kind == "async":
            if inspect.isasyncgen(result):

                async def collect() -> list[Any]:
                    return [x async for x in result]

                return self.loop.run_until_complete(collect())
            return self.loop.run_until_complete(result)
        return list(result) if inspect.isgenerator(result) or name == "events" else result


def close_runners() -> None:
    """Close every runner made since the last call, newest first."""
    while _OPEN:
        _OPEN.pop().close()


@pytest.fixture
def instant_waits() -> Iterator[None]:
    """Testing mode on (no real sleeps) for the test; the runners it made closed after it."""
    set_testing(True)
    yield
    set_testing(False)
    close_runners()


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    """``sync`` or ``async``: which client a `Runner` drives."""
    return str(request.param)
