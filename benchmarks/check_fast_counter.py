"""Check that the fast counter gives tiktoken's count on every string of benchmark files.

For each file, every distinct string value of every message is counted with tiktoken's
``encode_ordinary`` (the reference) and with ``Tokenizer(fast=True)``; the script prints how
many strings and tokens it compared and exits non-zero on the first difference.

Usage:
    python benchmarks/check_fast_counter.py benchmarks/_data/chat-200mb-words.jsonl \
        benchmarks/_data/chat-200mb-pool8.jsonl
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main() -> None:
    from finetune_kit.tokens import Tokenizer

    paths = [Path(p) for p in sys.argv[1:]]
    if not paths:
        raise SystemExit(__doc__)
    for encoding in ("cl100k_base", "o200k_base"):
        fast = Tokenizer(encoding, fast=True, cache_entries=0)
        if fast.backend != "bpe-openai":
            raise SystemExit("bpe-openai is not installed (pip install 'finetune-kit[fast]')")
        reference = fast.encoding.encode_ordinary
        for path in paths:
            start = time.process_time()
            seen: set[str] = set()
            tokens = 0
            with path.open("rb") as fh:
                for number, raw in enumerate(fh, 1):
                    for message in json.loads(raw)["messages"]:
                        for value in message.values():
                            if not isinstance(value, str) or value in seen:
                                continue
                            seen.add(value)
                            want = len(reference(value))
                            got = fast.count_text(value)
                            if got != want:
                                raise SystemExit(
                                    f"{path.name} line {number} ({encoding}): bpe-openai "
                                    f"counts {got}, tiktoken {want}: {value[:80]!r}"
                                )
                            tokens += want
                    if len(seen) > 200_000:
                        seen.clear()  # bound the memory; a repeat is just counted twice
            print(
                f"{path.name} ({encoding}): every string counted the same, {tokens:,} tokens "
                f"in distinct strings ({time.process_time() - start:.0f} s CPU)",
                flush=True,
            )


if __name__ == "__main__":
    main()
