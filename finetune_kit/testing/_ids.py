"""Object ids shaped like OpenAI's (``file-…``, ``ftjob-…``), from a seeded generator."""

from __future__ import annotations

import random
import string

__all__ = ["IdMaker"]

_ALPHABET = string.ascii_letters + string.digits


class IdMaker:
    """Makes ids such as ``file-3Xq…``; the same seed and call order give the same ids.

    Args:
        seed: Seed of the generator.
    """

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)

    def token(self, length: int) -> str:
        """A random alphanumeric string of ``length`` characters."""
        return "".join(self._rng.choice(_ALPHABET) for _ in range(length))

    def make(self, prefix: str, length: int = 24) -> str:
        """``prefix`` followed by a random token (the prefix carries its own separator)."""
        return prefix + self.token(length)

    def seed(self) -> int:
        """A random job seed, as the API picks one when none is given."""
        return self._rng.randrange(1, 2**31 - 1)
