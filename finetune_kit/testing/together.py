"""The loopback Together AI emulator: a real HTTP server on 127.0.0.1 for the real ``together`` SDK.

```python
from finetune_kit.testing import Fault, TogetherEmulator

with TogetherEmulator(manual_clock=True, faults=[Fault.error(503, path="/fine-tunes")]) as emu:
    client = emu.client()  # a real together.Together pointed at http://127.0.0.1:PORT
    ...
```

It speaks the part of Together's API that fine-tuning uses: files (with the presigned upload
the SDK performs), fine-tunes (model limits, price estimate, create, list, retrieve, cancel,
events, checkpoints, metrics) and chat completions answering from the training data. Fault
plans, the clock and the request log work exactly as for the OpenAI
[`Emulator`][finetune_kit.testing.Emulator].
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from finetune_kit.testing._injector import FaultInjector
from finetune_kit.testing._records import Recorder
from finetune_kit.testing._server import ServerCore
from finetune_kit.testing._together import TogetherState, route
from finetune_kit.testing.emulator import (
    DEFAULT_SPEED,
    FaultsLike,
    LoopbackServer,
    _as_plan,
    make_clock,
)

if TYPE_CHECKING:
    import together

__all__ = ["TogetherEmulator"]


class TogetherEmulator(LoopbackServer):
    """A loopback emulator of Together AI's files, fine-tuning and chat API.

    ```python
    with TogetherEmulator(manual_clock=True) as emu:
        client = emu.client()
        job = client.fine_tuning.create(model="openai/gpt-oss-20b", training_file=file.id)
        emu.advance(3600)
        assert client.fine_tuning.retrieve(job.id).status == "completed"
    ```

    Args:
        host: Interface to listen on.
        port: Port (0: the OS picks a free one).
        speed: Emulated seconds per real second (ignored with ``manual_clock``).
        manual_clock: Freeze time; it then moves only through ``advance``.
        start_time: Emulated start time (Unix seconds or datetime; default: now).
        faults: A fault plan, a list of faults, or the path of a JSON plan (paths as in
            Together's API: ``/v1/files``, ``/v1/files/*/preprocess``, ``/v1/fine-tunes``).
        seed: Seed for ids.
        api_key: Accept only this key (default: any non-empty Bearer key).

    Raises:
        ConfigError: For a bad speed or an unreadable fault plan.
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
    ) -> None:
        clock = make_clock(speed, manual_clock, start_time)
        state = TogetherState(clock=clock, seed=seed)
        core = ServerCore(state, FaultInjector(_as_plan(faults)), Recorder(), api_key, route)
        super().__init__(core, clock, host=host, port=port)

    def start(self) -> TogetherEmulator:
        """Start serving (idempotent); presigned upload URLs point at this server."""
        super().start()
        self.state.base_url = self.base_url
        return self

    @property
    def api_key(self) -> str:
        """A key the emulator accepts."""
        return self._api_key or "tgp_v1_emulator-test-key"

    @property
    def state(self) -> TogetherState:
        """Files and jobs held by the emulator (for assertions)."""
        state: TogetherState = self._core.state
        return state

    def client(self, **options: Any) -> together.Together:
        """A ``together.Together`` pointed at the emulator (closed by ``stop()``).

        Args:
            **options: Passed to ``together.Together`` (``max_retries``, ``timeout``, ...).
        """
        import together

        return self._sdk_client(together.Together, options, keep=True)

    def async_client(self, **options: Any) -> together.AsyncTogether:
        """A ``together.AsyncTogether`` pointed at the emulator (close it yourself).

        Args:
            **options: Passed to ``together.AsyncTogether``.
        """
        import together

        return self._sdk_client(together.AsyncTogether, options, keep=False)

    def fail_next_job(self) -> None:
        """Make the next job created fail half-way through training (status ``error``)."""
        with self.state.lock:
            self.state.pending_failures += 1
