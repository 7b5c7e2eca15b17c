"""``python -m finetune_kit.cli``: the same as the ``finetune-kit`` command."""

from finetune_kit.cli import main

main()
