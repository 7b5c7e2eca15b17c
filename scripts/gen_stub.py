"""Generate ``finetune_kit/__init__.pyi`` from the one table of public names.

The package root imports its public names lazily (``finetune_kit.PUBLIC`` maps each to the
module that defines it), which type checkers cannot follow; the stub gives them the same names
as plain imports. Run ``python scripts/gen_stub.py`` after changing the table; ``--check`` exits 1
when the committed stub is stale (the test suite runs it).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STUB = ROOT / "finetune_kit" / "__init__.pyi"


def render() -> str:
    """The stub's text, from ``finetune_kit.PUBLIC``."""
    sys.path.insert(0, str(ROOT))
    import finetune_kit

    by_module: dict[str, list[str]] = defaultdict(list)
    for name, module in finetune_kit.PUBLIC.items():
        by_module[module].append(name)
    out = [
        '"""Type stub of the package root: generated from ``PUBLIC`` by scripts/gen_stub.py."""',
        "",
    ]
    for module in sorted(by_module):
        names = sorted(by_module[module])
        out.append(f"from {module} import (")
        out.extend(f"    {name} as {name}," for name in names)
        out.append(")")
    out += ["", "__version__: str", "PUBLIC: dict[str, str]", "__all__: list[str]", ""]
    return "\n".join(out)


def main() -> int:
    """Write the stub, or with ``--check`` report whether it is stale."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the stub is stale")
    args = parser.parse_args()
    text = render()
    if args.check:
        if STUB.read_text(encoding="utf-8") != text:
            print(f"{STUB.relative_to(ROOT)} is stale: run python scripts/gen_stub.py")
            return 1
        return 0
    STUB.write_text(text, encoding="utf-8")
    print(f"wrote {STUB.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
