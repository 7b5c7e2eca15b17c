"""Tokenizers and token counting, per model and chat format.

* ``counting``: tiktoken and OpenAI's published method for chat data (the estimate's counter);
* ``chat``: the chat-format-aware interface (billed and trainable tokens, truncation);
* ``registry``: which model uses which tokenizer (``data/tokenizers.json``);
* ``harmony``: gpt-oss through ``openai-harmony`` (exact); ``hf``: Hugging Face tokenizers and
  chat templates; ``compare``: one dataset under several models, side by side.
"""

from __future__ import annotations

from finetune_kit.tokens import chat as _chat
from finetune_kit.tokens import compare as _compare
from finetune_kit.tokens import counting as _counting
from finetune_kit.tokens import harmony as _harmony
from finetune_kit.tokens import hf as _hf
from finetune_kit.tokens import registry as _registry
from finetune_kit.tokens.chat import *  # noqa: F403  (re-exports its __all__)
from finetune_kit.tokens.compare import *  # noqa: F403  (re-exports its __all__)
from finetune_kit.tokens.counting import *  # noqa: F403  (re-exports its __all__)
from finetune_kit.tokens.harmony import *  # noqa: F403  (re-exports its __all__)
from finetune_kit.tokens.hf import *  # noqa: F403  (re-exports its __all__)
from finetune_kit.tokens.registry import *  # noqa: F403  (re-exports its __all__)

__all__: list[str] = []
__all__ += _counting.__all__
__all__ += _chat.__all__
__all__ += _harmony.__all__
__all__ += _hf.__all__
__all__ += _registry.__all__
__all__ += _compare.__all__
