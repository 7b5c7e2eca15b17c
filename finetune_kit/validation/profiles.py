"""Validation profiles: what each fine-tuning provider checks differently from OpenAI.

A profile changes the engine's file-level and line-level checks; findings keep their codes
and hints, so a report reads the same whichever provider it was made for.

- ``openai``: at least 10 examples, 512 MB per file, a byte-order mark is flagged (``bom``),
  per-example tokens limited by the bundled price table.
- ``azure``: as OpenAI, but the file must be UTF-8 **with** a byte-order mark
  (``bom_missing``).
- ``together``: at least 1 example, 50.1 GB per file; after an optional system message the
  user speaks first and user and assistant turns alternate (``turns_not_alternating``);
  per-example tokens limited by the model's SFT or DPO context length.

```py
from finetune_kit import Validator

report = Validator(profile="together").validate("train.jsonl", model="openai/gpt-oss-20b")
```
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from finetune_kit.errors import ConfigError

__all__ = ["PROFILES", "ValidationProfile", "get_profile", "turn_order_problems"]


@dataclass(frozen=True)
class ValidationProfile:
    """What one provider checks.

    Attributes:
        name: ``openai``, ``azure`` or ``together``.
        title: The provider's name for people (used in messages).
        min_examples: Fewest training examples a file must have.
        max_file_bytes: Largest file the provider takes.
        bom: ``forbidden``: a byte-order mark is flagged; ``required``: the file must start
            with one (Azure OpenAI); ``optional``: one at the start is accepted, none too.
        alternating_turns: After an optional system message, user and assistant turns must
            alternate, starting with the user (tool messages may follow an assistant's calls).
        limits_from: The provider whose bundled data gives per-example token limits.
    """

    name: str
    title: str
    min_examples: int
    max_file_bytes: int
    bom: Literal["forbidden", "required", "optional"]
    alternating_turns: bool
    limits_from: str


PROFILES: Mapping[str, ValidationProfile] = {
    "openai": ValidationProfile(
        "openai", "OpenAI", 10, 512 * 1024**2, "forbidden", False, "openai"
    ),
    "azure": ValidationProfile(
        "azure", "Azure OpenAI", 10, 512 * 1024**2, "required", False, "azure"
    ),
    "together": ValidationProfile(
        "together", "Together AI", 1, int(50.1 * 1024**3), "forbidden", True, "together"
    ),
    # Fireworks takes OpenAI chat JSONL "with no conversion"; its limits are unconfirmed
    "fireworks": ValidationProfile(
        "fireworks", "Fireworks AI", 1, 8 * 1024**3, "forbidden", False, "fireworks"
    ),
}
"""Every provider's profile by name."""


def get_profile(name: str | ValidationProfile) -> ValidationProfile:
    """A profile by name (or the profile itself).

    Raises:
        ConfigError: An unknown name.
    """
    if isinstance(name, ValidationProfile):
        return name
    found = PROFILES.get(name)
    if found is None:
        raise ConfigError(
            f"unknown validation profile {name!r}", hint=f"use one of {', '.join(PROFILES)}"
        )
    return found


def turn_order_problems(messages: Any, where: str = "messages") -> Iterator[tuple[str, str]]:
    """``(field, message)`` for each turn that breaks strict user/assistant alternation.

    System messages may only come first; the first other turn is the user's; a user turn is
    followed by an assistant turn; an assistant turn is followed by a user turn, or by tool
    results when it called tools; tool results are followed by more results or the assistant.
    """
    if not isinstance(messages, list):
        return
    previous: str | None = None
    called = False
    for i, message in enumerate(messages):
        role = message.get("role") if isinstance(message, Mapping) else None
        if not isinstance(role, str):
            continue
        if role in ("system", "developer"):
            if previous is not None:
                yield f"{where}[{i}].role", f"a {role} message after the conversation started"
            continue
        allowed = {
            None: {"user"},
            "user": {"assistant"},
            "assistant": {"user", "tool"} if called else {"user"},
            "tool": {"tool", "assistant"},
        }.get(previous, {"user", "assistant"})
        if role not in allowed:
            after = f"after a {previous} message" if previous else "as the first turn"
            want = " or ".join(sorted(allowed))
            yield f"{where}[{i}].role", f"a {role} message {after}: expected {want}"
        if role == "assistant":
            called = bool(message.get("tool_calls"))
        previous = role
