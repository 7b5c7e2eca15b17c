"""The loopback Fireworks AI emulator: a real HTTP server for the real ``fireworks-ai`` SDK.

```python
from finetune_kit.testing import Fault, FireworksEmulator

faults = [Fault.error(503, path="/v1/accounts/*/supervisedFineTuningJobs")]
with FireworksEmulator(manual_clock=True, faults=faults) as emu:
    client = emu.client()  # a real fireworks.Fireworks pointed at http://127.0.0.1:PORT
    ...
```

It speaks the part of Fireworks' API that supervised fine-tuning uses: account-scoped datasets
(create with a chosen id, ``:upload``, ``:getUploadEndpoint`` with a signed URL,
``:validateUpload``, get, list, delete), supervised fine-tuning jobs (create with a chosen id,
get, list, ``:cancel``, ``:resume``, delete), each job's metrics file and chat completions
answering from the training data. Fault plans, the clock and the request log work exactly as
for the OpenAI [`Emulator`][finetune_kit.testing.Emulator].
"""

from __future__ import annotations

import json
from datetime import datetime
from importlib import resources
from typing import TYPE_CHECKING, Any

from finetune_kit.errors import ConfigError
from finetune_kit.testing._fireworks import FireworksState, route
from finetune_kit.testing._injector import FaultInjector
from finetune_kit.testing._records import Recorder
from finetune_kit.testing._server import ServerCore
from finetune_kit.testing.emulator import (
    DEFAULT_SPEED,
    FaultsLike,
    LoopbackServer,
    _as_plan,
    make_clock,
)

if TYPE_CHECKING:
    import fireworks

__all__ = ["FireworksEmulator"]

ACCOUNT_ID = "emulator"
"""The account the emulator's clients use (``FIREWORKS_ACCOUNT_ID``)."""


def _bundled_models() -> frozenset[str]:
    text = resources.files("finetune_kit").joinpath("data/fireworks.json").read_text("utf-8")
    return frozenset(json.loads(text)["models"])


class FireworksEmulator(LoopbackServer):
    """A loopback emulator of Fireworks AI's datasets, supervised fine-tuning and chat API.

    ```python
    with FireworksEmulator(manual_clock=True) as emu:
        client = emu.client()
        emu.advance(3600)
    ```

    Args:
        host: Interface to listen on.
        port: Port (0: the OS picks a free one).
        speed: Emulated seconds per real second (ignored with ``manual_clock``).
        manual_clock: Freeze time; it then moves only through ``advance``.
        start_time: Emulated start time (Unix seconds or datetime; default: now).
        faults: A fault plan, a list of faults, or the path of a JSON plan (paths as in
            Fireworks' API: ``/v1/accounts/*/datasets``, ``/v1/accounts/*/datasets/*:upload``,
            ``/v1/accounts/*/supervisedFineTuningJobs``).
        seed: Seed for ids.
        api_key: Accept only this key (default: any non-empty Bearer key).
        duplicate_ids: What a create with an id that exists answers: ``conflict`` (409
            ``ALREADY_EXISTS``) or ``return`` (200 with the existing resource). Which one the
            real API does is unconfirmed; finetune-kit is tested against both.

    Raises:
        ConfigError: For a bad speed, ``duplicate_ids`` or an unreadable fault plan.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        speed: float = DEFAULT_SPEED,
        manual_clock: bool = False,
        start_time: float | datetime | None = None,
        faults: FaultsLike = None,
        seed: int = 0,
        api_key: str | None = None,
        duplicate_ids: str = "conflict",
    ) -> None:
        if duplicate_ids not in ("conflict", "return"):
            raise ConfigError(
                f"duplicate_ids must be 'conflict' or 'return', got {duplicate_ids!r}",
                field="duplicate_ids",
            )
        clock = make_clock(speed, manual_clock, start_time)
        state = FireworksState(
            clock=clock, seed=seed, duplicate_ids=duplicate_ids, models=_bundled_models()
        )
        core = ServerCore(state, FaultInjector(_as_plan(faults)), Recorder(), api_key, route)
        super().__init__(core, clock, host=host, port=port)

    def start(self) -> FireworksEmulator:
        """Start serving (idempotent); signed URLs point at this server."""
        super().start()
        self.state.base_url = self.base_url
        return self

    @property
    def account_id(self) -> str:
        """The account id the emulator's clients use."""
        return ACCOUNT_ID

    @property
    def api_key(self) -> str:
        """A key the emulator accepts."""
        return self._api_key or "fw_emulator-test-key"

    @property
    def state(self) -> FireworksState:
        """Datasets and jobs held by the emulator (for assertions)."""
        state: FireworksState = self._core.state
        return state

    def client(self, **options: Any) -> fireworks.Fireworks:
        """A ``fireworks.Fireworks`` pointed at the emulator (closed by ``stop()``).

        Args:
            **options: Passed to ``fireworks.Fireworks`` (``max_retries``, ``timeout``, ...).
        """
        import fireworks

        options.setdefault("account_id", ACCOUNT_ID)
        return self._sdk_client(fireworks.Fireworks, options, keep=True)

    def async_client(self, **options: Any) -> fireworks.AsyncFireworks:
        """A ``fireworks.AsyncFireworks`` pointed at the emulator (close it yourself).

        Args:
            **options: Passed to ``fireworks.AsyncFireworks``.
        """
        import fireworks

        options.setdefault("account_id", ACCOUNT_ID)
        return self._sdk_client(fireworks.AsyncFireworks, options, keep=False)

    def fail_next_job(self) -> None:
        """Make the next job created fail half-way through training (``JOB_STATE_FAILED``)."""
        with self.state.lock:
            self.state.pending_failures += 1

    def pause(self, job_name: str) -> None:
        """Pause a job the way Fireworks does on its side (``JOB_STATE_PAUSED``)."""
        self.state.pause(job_name)
