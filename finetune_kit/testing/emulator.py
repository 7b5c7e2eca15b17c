"""The loopback OpenAI emulator: a real HTTP server on 127.0.0.1 for the real ``openai`` SDK."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from finetune_kit.errors import ConfigError
from finetune_kit.testing._clock import Clock, ManualClock, ScaledClock
from finetune_kit.testing._injector import FaultInjector
from finetune_kit.testing._jobs import Refusal
from finetune_kit.testing._lifecycle import Failure
from finetune_kit.testing._multipart import require_multipart
from finetune_kit.testing._records import InjectedFault, RecordedRequest, Recorder
from finetune_kit.testing._server import EmulatorHTTPServer, ServerCore
from finetune_kit.testing._state import EmulatorState
from finetune_kit.testing.faults import Fault, FaultPlan

if TYPE_CHECKING:
    import openai

__all__ = ["DEFAULT_SPEED", "Emulator", "LoopbackServer"]

#: Emulated seconds per real second: a 50-example demo job finishes in about two seconds.
DEFAULT_SPEED = 100.0

FaultsLike = FaultPlan | Iterable[Fault] | str | os.PathLike[str] | None


def _as_plan(faults: FaultsLike) -> FaultPlan:
    if faults is None:
        return FaultPlan()
    if isinstance(faults, FaultPlan):
        return faults
    if isinstance(faults, (str, os.PathLike)):
        return FaultPlan.load(Path(faults))
    return FaultPlan(faults=list(faults))


def _as_date(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"job_creation_cutoff must be YYYY-MM-DD, got {value!r}", field="job_creation_cutoff"
        ) from None


def make_clock(speed: float, manual_clock: bool, start_time: float | datetime | None) -> Clock:
    """The emulated clock every emulator takes: frozen (``manual_clock``) or scaled by ``speed``.

    Raises:
        ConfigError: For a speed that is not positive.
    """
    if speed <= 0:
        raise ConfigError(f"speed must be positive, got {speed}", field="speed")
    return ManualClock(start_time) if manual_clock else ScaledClock(speed, start_time)


_S = TypeVar("_S", bound="LoopbackServer")
_C = TypeVar("_C")


class LoopbackServer:
    """What every provider's emulator shares: the server thread, the clock, faults and logs.

    A provider's emulator builds its state and route set into a ``ServerCore`` and passes it
    here; starting, stopping, time, request logs and fault plans work the same for all.

    Attributes:
        clock: The emulated clock (see `advance()`).
    """

    def __init__(self, core: ServerCore, clock: Clock, *, host: str, port: int) -> None:
        self.clock = clock
        self._core = core
        self._host, self._port = host, port
        self._api_key = core.api_key
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._clients: list[Any] = []

    def start(self: _S) -> _S:
        """Start serving in a background thread (idempotent).

        Raises:
            ConfigError: When ``python-multipart`` is missing or the port cannot be bound.
        """
        if self._server is not None:
            return self
        require_multipart()
        try:
            server = EmulatorHTTPServer((self._host, self._port), self._core)
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {self._host}:{self._port}: {exc.strerror}",
                hint="pick another --port, or 0 for any free port",
            ) from exc
        self._core.stopping.clear()
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="finetune-kit-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; close every connection and the clients that `client()` made."""
        server, self._server = self._server, None
        if server is None:
            return
        self._core.stopping.set()
        for client in self._clients:
            client.close()
        self._clients.clear()
        server.shutdown()
        server.close_all()
        server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def serve_forever(self) -> None:
        """Start (if needed) and block until Ctrl-C, then stop."""
        self.start()
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self: _S) -> _S:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port it listens on (only known once started)."""
        if self._server is None:
            raise RuntimeError("the emulator is not running; call start() or use `with`")
        return int(self._server.server_address[1])

    @property
    def api_key(self) -> str:
        """A key the emulator accepts."""
        return self._api_key or "sk-test"

    @property
    def base_url(self) -> str:
        """What the provider's SDK takes as ``base_url``."""
        return f"http://{self._host}:{self.port}"

    def _sdk_client(self, factory: Callable[..., _C], options: dict[str, Any], *, keep: bool) -> _C:
        """An SDK client from ``factory`` pointed at the emulator with a key it accepts.

        With ``keep`` the client is closed by `stop()` (sync clients; async ones are closed by
        whoever made them, inside their event loop).
        """
        options.setdefault("api_key", self.api_key)
        client = factory(base_url=self.base_url, **options)
        if keep:
            self._clients.append(client)
        return client

    def now(self) -> float:
        """Current emulated Unix time."""
        return self.clock.now()

    def advance(self, seconds: float) -> None:
        """Move emulated time forward (works with either clock)."""
        self.clock.advance(seconds)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in order."""
        return self._core.recorder.requests

    @property
    def faults(self) -> list[InjectedFault]:
        """Every fault injected so far, in order."""
        return self._core.recorder.faults

    def clear_records(self) -> None:
        """Forget the request and fault logs (the state is kept)."""
        self._core.recorder.clear()

    @property
    def fault_plan(self) -> FaultPlan:
        """The current fault plan."""
        return self._core.injector.plan

    def set_fault_plan(self, faults: FaultsLike) -> None:
        """Replace the fault plan (counters start again; ``None`` clears it)."""
        self._core.injector.replace(_as_plan(faults))

    def add_faults(self, *faults: Fault) -> None:
        """Append faults to the plan."""
        self._core.injector.extend(faults)


class Emulator(LoopbackServer):
    """A loopback emulator of the OpenAI files, uploads, fine-tuning, models and chat API.

    ```python
    with Emulator(manual_clock=True) as emu:
        client = emu.client()
        job = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=file.id)
        emu.advance(3600)
        assert client.fine_tuning.jobs.retrieve(job.id).status == "succeeded"
    ```

    Args:
        host: Interface to listen on.
        port: Port (0: the OS picks a free one).
        speed: Emulated seconds per real second (ignored with ``manual_clock``).
        manual_clock: Freeze time; it then moves only through
            `advance()`.
        start_time: Emulated start time (Unix seconds or datetime; default: now).
        faults: A fault plan, a list of faults, or the path of a JSON plan.
        seed: Seed for ids, job seeds and loss curves.
        api_key: Accept only this key (default: any non-empty Bearer key).
        organization: Organization name in ``ft:`` model names.
        shutdown_dates: Model shutdown dates merged over the defaults (``YYYY-MM-DD`` or None);
            served by ``GET /v1/models``.
        enforce_shutdowns: Refuse jobs and chat on models past their shutdown date, as the API
            will (off by default so that your tests do not start failing on a calendar date;
            turn it on, with ``start_time``, to test what happens after a shutdown).
        job_creation_cutoff: Refuse job creation from this emulated date on (OpenAI's
            wind-down: ``"2027-01-06"``).
        results_base64: Serve result files base64-encoded, as some API versions did.

    Attributes:
        clock: The emulated clock (see `advance()`).

    Raises:
        ConfigError: For an unreadable fault plan or a bad date.
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
        organization: str = "emulator",
        shutdown_dates: Mapping[str, str | None] | None = None,
        enforce_shutdowns: bool = False,
        job_creation_cutoff: date | str | None = None,
        results_base64: bool = False,
    ) -> None:
        clock = make_clock(speed, manual_clock, start_time)
        try:
            state = EmulatorState(
                clock=clock,
                seed=seed,
                organization=organization,
                shutdown_dates=shutdown_dates,
                enforce_shutdowns=enforce_shutdowns,
                results_base64=results_base64,
            )
        except ValueError as exc:
            raise ConfigError(str(exc), field="shutdown_dates") from exc
        state.set_job_creation_cutoff(_as_date(job_creation_cutoff))
        core = ServerCore(state, FaultInjector(_as_plan(faults)), Recorder(), api_key)
        super().__init__(core, clock, host=host, port=port)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: pass it as the SDK's ``base_url``."""
        return f"http://{self._host}:{self.port}/v1"

    def client(self, **options: Any) -> openai.OpenAI:
        """An ``openai.OpenAI`` pointed at the emulator (closed by `stop()`).

        Args:
            **options: Passed to ``openai.OpenAI`` (``max_retries``, ``timeout``, ...).
        """
        import openai

        # Plain HTTP on loopback: skip loading the CA bundle (5x faster client creation).
        options.setdefault("http_client", openai.DefaultHttpxClient(verify=False))
        return self._sdk_client(openai.OpenAI, options, keep=True)

    def async_client(self, **options: Any) -> openai.AsyncOpenAI:
        """An ``openai.AsyncOpenAI`` pointed at the emulator (close it yourself).

        Args:
            **options: Passed to ``openai.AsyncOpenAI``.
        """
        import openai

        options.setdefault("http_client", openai.DefaultAsyncHttpxClient(verify=False))
        return self._sdk_client(openai.AsyncOpenAI, options, keep=False)

    @property
    def state(self) -> EmulatorState:
        """Files, uploads, jobs and models held by the emulator (for assertions)."""
        state: EmulatorState = self._core.state
        return state

    def fail_next_job(
        self,
        code: str = "internal_error",
        message: str = "The job failed due to an internal error.",
        *,
        param: str | None = None,
        stage: str = "running",
    ) -> None:
        """Make the next job created fail with this ``error``.

        Args:
            code: ``error.code``.
            message: ``error.message``.
            param: ``error.param``.
            stage: ``running`` (fail half-way through training) or ``validating_files``.

        Raises:
            ValueError: For an unknown stage.
        """
        if stage not in ("running", "validating_files"):
            raise ValueError(f"stage must be 'running' or 'validating_files', got {stage!r}")
        with self.state.lock:
            self.state.jobs.pending_failures.append(Failure(code, message, param, stage))

    def refuse_job_creation(
        self,
        refuse: bool = True,
        *,
        status: int = 403,
        message: str | None = None,
        code: str = "fine_tuning_unavailable",
    ) -> None:
        """Refuse (or allow again) ``POST /fine_tuning/jobs``, as after OpenAI's wind-down.

        Args:
            refuse: ``False`` lifts the refusal.
            status: HTTP status of the refusal.
            message: ``error.message`` (a wind-down notice by default).
            code: ``error.code``.
        """
        refusal = None
        if refuse:
            refusal = Refusal(status, message or Refusal.message, code)
        with self.state.lock:
            self.state.jobs.refusal = refusal
