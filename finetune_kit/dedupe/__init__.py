"""Exact and near-duplicate examples, and training examples leaking into validation data.

Near-duplicates (the same ticket with a greeting added, a typo fixed, a sentence appended) are
found with MinHash signatures of each example's word shingles and LSH banding, then verified
on their estimated Jaccard similarity; exact duplicates with the validation engine's digest.
See the deduplication guide for the method, its settings and measured figures.

Examples:
    >>> from finetune_kit.dedupe import find_duplicates
    >>> rows = [{"messages": [{"role": "user", "content": "Hi"},
    ...                       {"role": "assistant", "content": "Hello!"}]}] * 2
    >>> find_duplicates(rows).groups[0].to_dict()
    {'lines': [1, 2], 'kept': 1, 'similarity': 1.0}
"""

from __future__ import annotations

from finetune_kit.dedupe import core as _core
from finetune_kit.dedupe import index as _index
from finetune_kit.dedupe import report as _report
from finetune_kit.dedupe import signature as _signature
from finetune_kit.dedupe.core import *  # noqa: F403  (re-exports its __all__)
from finetune_kit.dedupe.index import *  # noqa: F403  (re-exports its __all__)
from finetune_kit.dedupe.report import *  # noqa: F403  (re-exports its __all__)
from finetune_kit.dedupe.signature import *  # noqa: F403  (re-exports its __all__)

__all__: list[str] = []
__all__ += _core.__all__
__all__ += _index.__all__
__all__ += _report.__all__
__all__ += _signature.__all__
