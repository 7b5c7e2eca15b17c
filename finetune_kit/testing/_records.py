"""What the emulator remembers about traffic: every request and every injected fault."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from finetune_kit.testing.faults import Fault

__all__ = ["InjectedFault", "RecordedRequest", "Recorder"]


@dataclass(frozen=True)
class RecordedRequest:
    """One request the emulator received.

    Attributes:
        index: 0-based position in arrival order of completion.
        method: HTTP method.
        path: URL path (``/v1/files``).
        query: Query parameters (last value of a repeated key).
        status: Status code sent back; ``None`` when the connection was dropped.
        fault: Kind of the fault that decided the outcome (``status``, ``drop_before``,
            ``drop_after``, or ``latency`` when only a delay was added); ``None`` if none.
    """

    index: int
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    status: int | None = None
    fault: str | None = None


@dataclass(frozen=True)
class InjectedFault:
    """A fault the emulator applied.

    Attributes:
        kind: The fault's kind.
        method: Method of the request it hit.
        path: Path of the request it hit.
        request_index: [`RecordedRequest.index`][finetune_kit.testing.RecordedRequest] of it.
        fault: The rule that fired.
    """

    kind: str
    method: str
    path: str
    request_index: int
    fault: Fault


class Recorder:
    """Thread-safe logs of requests and injected faults."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._faults: list[InjectedFault] = []

    def record(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        status: int | None,
        fired: list[Fault],
    ) -> RecordedRequest:
        """Log one finished request and the faults that fired on it."""
        actions = [f.kind for f in fired if f.kind != "latency"]
        kind = actions[0] if actions else ("latency" if fired else None)
        with self._lock:
            entry = RecordedRequest(len(self._requests), method, path, dict(query), status, kind)
            self._requests.append(entry)
            for fault in fired:
                self._faults.append(InjectedFault(fault.kind, method, path, entry.index, fault))
        return entry

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the request log."""
        with self._lock:
            return list(self._requests)

    @property
    def faults(self) -> list[InjectedFault]:
        """A copy of the fault log."""
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        """Forget everything logged so far."""
        with self._lock:
            self._requests.clear()
            self._faults.clear()
