"""Tokenizers and token counting: tiktoken and OpenAI's published method for chat data."""

from __future__ import annotations

from finetune_kit.tokens.counting import (
    IMAGE_LOW_DETAIL_TOKENS,
    IMAGE_TILE_TOKENS,
    REPLY_PRIMING_TOKENS,
    TOKENS_PER_MESSAGE,
    TOKENS_PER_NAME,
    Tokenizer,
    encoding_name_for_model,
    image_tokens,
    load_encoding,
)

__all__ = [
    "IMAGE_LOW_DETAIL_TOKENS",
    "IMAGE_TILE_TOKENS",
    "REPLY_PRIMING_TOKENS",
    "TOKENS_PER_MESSAGE",
    "TOKENS_PER_NAME",
    "Tokenizer",
    "encoding_name_for_model",
    "image_tokens",
    "load_encoding",
]
