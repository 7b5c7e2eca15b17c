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

from finetune_kit.dedupe.core import (
    dedupe_file,
    find_duplicates,
    near_findings,
    with_near_findings,
)
from finetune_kit.dedupe.index import MAX_BUCKET, ExactIndex, NearIndex, group_exact, group_near
from finetune_kit.dedupe.report import DedupeReport, DedupeSavings, DuplicateGroup, ValidationLeak
from finetune_kit.dedupe.signature import (
    DEFAULT_THRESHOLD,
    KeepPolicy,
    NearConfig,
    example_shingles,
    example_signature,
    example_weight,
    example_words,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "MAX_BUCKET",
    "DedupeReport",
    "DedupeSavings",
    "DuplicateGroup",
    "ExactIndex",
    "KeepPolicy",
    "NearConfig",
    "NearIndex",
    "ValidationLeak",
    "dedupe_file",
    "example_shingles",
    "example_signature",
    "example_weight",
    "example_words",
    "find_duplicates",
    "group_exact",
    "group_near",
    "near_findings",
    "with_near_findings",
]
