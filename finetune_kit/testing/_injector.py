"""Deciding, per request, which faults of the plan fire."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from finetune_kit.testing.faults import Fault, FaultPlan

__all__ = ["Decision", "FaultInjector"]


@dataclass
class _Rule:
    fault: Fault
    matched: int = 0
    fired: int = 0

    def fires(self) -> bool:
        """Count a match and tell whether the rule fires on it."""
        self.matched += 1
        if self.matched < self.fault.nth:
            return False
        return self.fault.times is None or self.fired < self.fault.times


@dataclass
class Decision:
    """What happens to one request.

    Attributes:
        latency: Seconds to wait before handling it.
        action: The fault that decides the outcome (``status`` / ``drop_*``), if any.
        fired: Every fault that fired, latency ones included.
    """

    latency: float = 0.0
    action: Fault | None = None
    fired: list[Fault] = field(default_factory=list)


class FaultInjector:
    """Holds a plan and the per-rule counters, thread-safely.

    Args:
        plan: The initial plan.
    """

    def __init__(self, plan: FaultPlan | None = None) -> None:
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        if plan is not None:
            self.extend(plan.faults)

    def replace(self, plan: FaultPlan) -> None:
        """Use ``plan`` from now on (counters start again)."""
        with self._lock:
            self._rules = [_Rule(f) for f in plan.faults]

    def extend(self, faults: Iterable[Fault]) -> None:
        """Append rules to the plan."""
        with self._lock:
            self._rules.extend(_Rule(f) for f in faults)

    @property
    def plan(self) -> FaultPlan:
        """The current rules as a plan."""
        with self._lock:
            return FaultPlan(faults=[r.fault for r in self._rules])

    def decide(self, method: str, path: str) -> Decision:
        """Count the request against every matching rule and say what fires."""
        decision = Decision()
        with self._lock:
            for rule in self._rules:
                if not rule.fault.matches(method, path):
                    continue
                if not rule.fires():
                    continue
                is_latency = rule.fault.kind == "latency"
                if not is_latency and decision.action is not None:
                    continue  # shadowed by an earlier rule: it keeps its budget
                rule.fired += 1
                decision.fired.append(rule.fault)
                if is_latency:
                    decision.latency += rule.fault.seconds
                else:
                    decision.action = rule.fault
        return decision
