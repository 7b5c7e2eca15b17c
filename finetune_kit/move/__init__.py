"""Move fine-tunes between providers: re-train archived jobs elsewhere (``migrate``)."""

from __future__ import annotations

from finetune_kit.move import migrate as _migrate
from finetune_kit.move.migrate import *  # noqa: F403  (re-exports its __all__)

__all__: list[str] = []
__all__ += _migrate.__all__
