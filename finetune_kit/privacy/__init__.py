"""Personal data: detectors users can extend, scanning and redaction."""

from __future__ import annotations

from finetune_kit.privacy import redaction as _redaction
from finetune_kit.privacy.redaction import *  # noqa: F403  (re-exports its __all__)

__all__: list[str] = []
__all__ += _redaction.__all__
