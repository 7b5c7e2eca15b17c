"""Redraw the picture of docs/tokens.md and print its table (both from the bundled sample).

Usage:
    python scripts/gen_tokens_docs.py    # writes docs/img/tokens-gpt-oss-example.png

Needs the harmony and plot extras, and tiktoken/harmony vocabularies (offline:
TIKTOKEN_CACHE_DIR and TIKTOKEN_ENCODINGS_BASE, see docs/tokens.md).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from finetune_kit import Dataset, HarmonyTokenizer, compare_tokens
from finetune_kit.plots import save_figure, trainable_tokens_plot

ROOT = Path(__file__).resolve().parent.parent
PICTURE = ROOT / "docs" / "img" / "tokens-gpt-oss-example.png"
MODELS = ["gpt-4o-mini-2024-07-18", "openai/gpt-oss-20b"]


def main() -> None:
    sample = Dataset.sample()
    with tempfile.TemporaryDirectory() as tmp:
        path = sample.to_jsonl(Path(tmp) / "sample.jsonl")
        print(compare_tokens(path, MODELS).to_markdown())
    first = next(iter(sample)).to_dict()
    rendered = HarmonyTokenizer("openai/gpt-oss-20b").render(first)
    fig = trainable_tokens_plot(
        rendered,
        title=f"openai/gpt-oss-20b, sample example 1: {len(rendered.tokens)} tokens billed, "
        f"{sum(rendered.trainable)} trained (filled)",
    )
    save_figure(fig, PICTURE, dpi=110)
    print(f"wrote {PICTURE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
