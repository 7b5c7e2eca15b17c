"""``finetune-kit tokens``: one dataset's billed and trainable tokens under several models.

Any mix of OpenAI and open-weight models: each is counted in its own tokens after its own chat
format (tiktoken + the cookbook method, harmony for gpt-oss, a Hugging Face chat template).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from finetune_kit.cli._common import (
    FORMAT_OPTION,
    OutputFormat,
    app,
    console,
    errors_as_exit,
    print_json,
)
from finetune_kit.cli._options import MAX_LENGTH, TOKENIZER, file_argument, model_option

__all__ = ["tokens_command"]


@app.command("tokens")
def tokens_command(
    file: Annotated[Path, file_argument("The JSONL file to count (never modified).")],
    model: Annotated[
        list[str], model_option("A model; repeat for several (OpenAI and open-weight).")
    ],
    tokenizer: Annotated[str | None, TOKENIZER] = None,
    max_length: Annotated[int | None, MAX_LENGTH] = None,
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
) -> None:
    """Billed and trainable tokens per model, side by side: longest example, truncations.

    Exit code 2 on bad input (missing file, unknown model, tokenizer not available offline).
    """
    from finetune_kit.tokens import compare_tokens

    with errors_as_exit():
        table = compare_tokens(file, model, tokenizer=tokenizer, max_length=max_length)
    if output_format is OutputFormat.json:
        print_json(table.to_dict())
        return
    console.print(table)
    if table.n_skipped:
        console.print(
            f"{table.n_skipped:,} line(s) are not examples and were not counted "
            "(`finetune-kit validate FILE` says why)"
        )
