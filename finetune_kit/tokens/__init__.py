"""Tokenizers and token counting: tiktoken and OpenAI's published method for chat data."""

from __future__ import annotations

from finetune_kit.tokens import counting as _counting
from finetune_kit.tokens.counting import *  # noqa: F403  (re-exports its __all__)

__all__: list[str] = []
__all__ += _counting.__all__
