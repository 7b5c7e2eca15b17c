"""What one example looks like to near-duplicate detection: its words, shingles and signature.

Everything here is a pure function of one example, so it runs the same in a worker process,
a Dask partition or a notebook. The text compared is the example's *conversation*: the role and
content of each non-system message (the system prompt is shared by most examples of a file and
would make unrelated ones look alike; ``NearConfig(system=True)`` keeps it). Case, whitespace
and punctuation are ignored; the words are cut into overlapping shingles of ``shingle`` words
and summarised by a MinHash signature (rensa's R-MinHash) whose slots agree, on average, in
the same share as the two shingle sets (their Jaccard similarity).

Examples:
    >>> from finetune_kit.dedupe import NearConfig, example_words
    >>> example_words({"messages": [{"role": "user", "content": "Hello,  WORLD!"}]}, NearConfig())
    ['<user>', 'hello', 'world']
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from finetune_kit.errors import ConfigError

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "DEFAULT_THRESHOLD",
    "KeepPolicy",
    "NearConfig",
    "example_shingles",
    "example_signature",
    "example_weight",
    "example_words",
    "signature_of_words",
]

DEFAULT_THRESHOLD = 0.8
"""Estimated Jaccard similarity of the shingle sets at or above which two examples are
near-duplicates."""

KeepPolicy = Literal["first", "longest", "weight"]
"""Which example of a group is kept: the first in the file, the longest conversation, or the
one with the most trained assistant messages (``weight``); ties go to the first."""

_WORD = re.compile(r"\w+")
# Scripts written without spaces: every character counts as a word there.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_SYSTEM_ROLES = frozenset({"system", "developer"})


@dataclass(frozen=True)
class NearConfig:
    """How near-duplicates are found.

    Attributes:
        threshold: Estimated Jaccard similarity (0 < t <= 1) at or above which two examples are
            near-duplicates; default 0.8.
        shingle: Words per shingle (default 3).
        num_perm: MinHash signature slots (default 128; the similarity estimate's standard
            error is about ``sqrt(j(1-j)/num_perm)``, 0.035 at 0.8).
        bands: LSH bands (``num_perm`` must be a multiple); a pair at the threshold shares at
            least one band with probability ``1-(1-t^r)^bands`` (``r = num_perm / bands``):
            0.95 at 0.8 with the defaults, 0.999 at 0.9.
        system: Include system (and developer) messages in the text compared.
        roles: Include each message's role as a word (so a user question is not the same as
            the same words said by the assistant).
        seed: Seed of the MinHash permutations (both sides of a comparison need the same).
    """

    threshold: float = DEFAULT_THRESHOLD
    shingle: int = 3
    num_perm: int = 128
    bands: int = 16
    system: bool = False
    roles: bool = True
    seed: int = 1

    def __post_init__(self) -> None:
        if not 0 < self.threshold <= 1:
            raise ConfigError(f"threshold must be in (0, 1], not {self.threshold}", hint="e.g. 0.8")
        if self.shingle < 1:
            raise ConfigError(f"shingle must be at least 1 word, not {self.shingle}")
        if self.num_perm < 8 or self.bands < 1 or self.num_perm % self.bands:
            raise ConfigError(
                f"num_perm ({self.num_perm}) must be >= 8 and a multiple of bands ({self.bands})",
                hint="e.g. num_perm=128, bands=16",
            )

    @property
    def rows(self) -> int:
        """Signature slots per band."""
        return self.num_perm // self.bands


def _words(text: str) -> list[str]:
    words = _WORD.findall(text.lower())
    if text.isascii():
        return words
    out: list[str] = []
    for word in words:
        if _CJK.search(word):
            out.extend(_split_cjk(word))
        else:
            out.append(word)
    return out


def _split_cjk(word: str) -> Iterator[str]:
    start = 0
    for m in _CJK.finditer(word):
        if m.start() > start:
            yield word[start : m.start()]
        yield m.group()
        start = m.end()
    if start < len(word):
        yield word[start:]


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        out = []
        for part in content:
            if not isinstance(part, Mapping):
                continue
            if isinstance(part.get("text"), str):
                out.append(part["text"])
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, Mapping) else None
            if isinstance(url, str):
                # an image is one word: the same picture matches, another one does not
                out.append(" image" + hashlib.blake2b(url.encode(), digest_size=8).hexdigest())
        return " ".join(out)
    return ""


def _message_words(msg: Mapping[str, Any], config: NearConfig) -> list[str]:
    role = msg.get("role")
    words = [f"<{role}>"] if config.roles and isinstance(role, str) else []
    words += _words(_content_text(msg.get("content")))
    for call in msg.get("tool_calls") or ():
        function = call.get("function") if isinstance(call, Mapping) else None
        if isinstance(function, Mapping):
            words += _words(f"{function.get('name', '')} {function.get('arguments', '')}")
    return words


def _messages(obj: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """The conversation: ``(label, message)`` for chat and preference examples alike."""
    if isinstance(obj.get("messages"), list):
        for msg in obj["messages"]:
            yield "", msg
        return
    inp = obj.get("input")
    if isinstance(inp, Mapping) and isinstance(inp.get("messages"), list):
        for msg in inp["messages"]:
            yield "", msg
    for key in ("preferred_output", "non_preferred_output"):
        for msg in obj.get(key) or ():
            yield key, msg


def example_words(obj: Mapping[str, Any], config: NearConfig) -> list[str]:
    """The words compared for one example (parsed JSON of a chat or preference example).

    Lower-cased word characters of each message in order, each message preceded by
    ``<role>`` (unless ``config.roles`` is off); system and developer messages are left out
    unless ``config.system``. Characters of scripts written without spaces (Chinese,
    Japanese, Korean) count as one word each; an image counts as one word derived from its URL.

    Args:
        obj: One parsed example.
        config: The settings.

    Returns:
        The words, possibly empty.
    """
    words: list[str] = []
    for label, msg in _messages(obj):
        if not isinstance(msg, Mapping):
            continue
        if not config.system and msg.get("role") in _SYSTEM_ROLES:
            continue
        if label and config.roles:
            words.append(f"<{label}>")
        words += _message_words(msg, config)
    return words


def example_shingles(obj: Mapping[str, Any], config: NearConfig) -> set[str]:
    """The set of word shingles of one example (``config.shingle`` consecutive words each).

    An example with fewer words than a shingle has one shingle of all its words; one without
    words has none.
    """
    return set(_shingles(example_words(obj, config), config.shingle))


def _shingles(words: list[str], k: int) -> list[str]:
    """Every run of ``k`` consecutive words (repeats included: a MinHash ignores them)."""
    if len(words) <= k:
        return [" ".join(words)] if words else []
    return [" ".join(words[i : i + k]) for i in range(len(words) - k + 1)]


@cache
def _rensa() -> Any:
    try:
        import rensa
    except ImportError as exc:
        raise ConfigError(
            "near-duplicate detection needs the optional dependency rensa",
            hint="pip install 'finetune-kit[dedupe]'",
        ) from exc
    return rensa


def example_signature(obj: Mapping[str, Any], config: NearConfig) -> NDArray[np.uint32] | None:
    """The MinHash signature of one example's shingles.

    ``config.num_perm`` unsigned 32-bit values, or ``None`` when the example has no words to
    compare. A pure function of the example and the settings (the same in every process), so
    it can run per partition of a distributed data frame.

    Args:
        obj: One parsed example.
        config: The settings (``num_perm``, ``shingle``, ``seed``, ...).

    Returns:
        The signature, or ``None``.

    Raises:
        ConfigError: rensa (the ``dedupe`` extra) is not installed.
    """
    return signature_of_words(example_words(obj, config), config)


def signature_of_words(words: list[str], config: NearConfig) -> NDArray[np.uint32] | None:
    """The MinHash signature of the shingles of ``words`` (``None`` without words)."""
    shingles = _shingles(words, config.shingle)
    if not shingles:
        return None
    minhash = _rensa().RMinHash(config.num_perm, config.seed)
    minhash.update(shingles)
    return np.asarray(minhash.digest(), dtype=np.uint32)


def example_weight(obj: Mapping[str, Any]) -> float:
    """How much of an example is trained on: the sum of its assistant messages' weights.

    A missing ``weight`` counts 1; a preference example counts 1.
    """
    msgs = obj.get("messages")
    if not isinstance(msgs, list):
        return 1.0
    total = 0.0
    for msg in msgs:
        if isinstance(msg, Mapping) and msg.get("role") == "assistant":
            w = msg.get("weight", 1)
            total += float(w) if isinstance(w, int | float) and not isinstance(w, bool) else 1.0
    return total
