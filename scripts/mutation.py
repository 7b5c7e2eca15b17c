"""Mutation testing of the modules whose bugs cost users money or data (``make mutation``).

mutmut copies the package into ``mutants/``, plants one small bug (a *mutant*) at a time and
runs the tests that reach it: a mutant no test catches has *survived*. This script runs mutmut
one group of functions at a time and prints each group's score::

    python scripts/mutation.py            # every group (an hour or more on two cores)
    python scripts/mutation.py io pii     # some groups
    python scripts/mutation.py --report   # scores of what has run, without running anything

Surviving mutants judged equivalent (no behaviour can tell them from the original) are listed in
``EQUIVALENT`` with the reason; the score is given with and without them. The figures and the
list are recorded in docs/testing.md (contributors' section). Not part of CI: too slow.
"""

from __future__ import annotations

import argparse
import fnmatch
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTMUT = [sys.executable, "-m", "mutmut"]

# group -> mutant name globs (mutmut names functions x_<name>, methods xǁClassǁ<name>)
GROUPS: dict[str, list[str]] = {
    "io": ["finetune_kit._io.*"],
    "pii": [
        *(
            f"finetune_kit.privacy._numbers.{name}__mutmut_*"
            for name in ("x_luhn_ok", "x_card_brand_ok", "x_iban_ok", "x_ssn_ok")
        ),
        *(
            f"finetune_kit.privacy.detectors.{name}__mutmut_*"
            for name in ("x__luhn_digit", "x_dni_ok")
        ),
    ],
    "cost": [
        f"finetune_kit.cost.estimator.{name}__mutmut_*"
        for name in (
            "x_default_epochs",
            "x__pick",
            "x__money",
            "x__merge",
            "xǁCostEstimatorǁ_price",
            "xǁCostEstimatorǁestimate_training",
            "xǁCostEstimatorǁestimate_usage",
        )
    ],
    "tokens": ["finetune_kit.tokens.counting.*"],
    "jobs": ["finetune_kit.jobs._core.*"],
}

# mutant -> why no test can tell it from the original (judged by reading the diff)
EQUIVALENT: dict[str, str] = {
    # -- io (the dead `if str(dest.parent) else Path()` branch was removed: a parent is never "")
    "finetune_kit._io.x__atomic_write__mutmut_27": (
        "`os.umask(1)` instead of `os.umask(0)`: only the returned previous mask is used and it "
        "is restored on the next line"
    ),
    "finetune_kit._io.x__atomic_write__mutmut_42": (
        "text mode without encoding/newline: on POSIX with a UTF-8 locale (CI, this machine) "
        "the defaults are UTF-8 and '\\n'"
    ),
    "finetune_kit._io.x__atomic_write__mutmut_46": "'UTF-8' and 'utf-8' name the same codec",
    "finetune_kit._io.x__atomic_write__mutmut_54": "same as mutant 42 (no keyword arguments)",
    "finetune_kit._io.x__atomic_write__mutmut_57": (
        "`missing_ok=None`: the temporary file always exists when the error branch removes it"
    ),
    "finetune_kit._io.x__atomic_write__mutmut_58": "`missing_ok=False`: same as mutant 57",
    # -- cost
    "finetune_kit.cost.estimator.x_default_epochs__mutmut_4": (
        "`n * 3 <= 100` for `< 100`: n * 3 is never exactly 100"
    ),
    "finetune_kit.cost.estimator.x_default_epochs__mutmut_11": (
        "`n * 3 >= 25000` for `> 25000`: n * 3 is never exactly 25,000"
    ),
    "finetune_kit.cost.estimator.x__merge__mutmut_13": (
        "the branch for findings without a line: a range scan only makes line-numbered "
        "findings (file-level ones come from Validator.finish, after the merge)"
    ),
    "finetune_kit.cost.estimator.x__merge__mutmut_33": (
        "`replace(f, line=f.line + 0)` equals `f` (a frozen dataclass compared by value)"
    ),
    "finetune_kit.cost.estimator.x__merge__mutmut_57": (
        "sort key without the None case: no merged finding lacks a line (see mutant 13)"
    ),
    "finetune_kit.cost.estimator.x__merge__mutmut_62": (
        "the merged result's dup_digests: read only by _merge itself, never after it"
    ),
    "finetune_kit.cost.estimator.xǁCostEstimatorǁ_price__mutmut_7": (
        "`overridden=None`: no caller of _price reads the flag (the source text says it)"
    ),
    "finetune_kit.cost.estimator.xǁCostEstimatorǁ_price__mutmut_11": "same as mutant 7",
    "finetune_kit.cost.estimator.xǁCostEstimatorǁ_price__mutmut_14": "same as mutant 7",
    "finetune_kit.cost.estimator.xǁCostEstimatorǁestimate_training__mutmut_42": (
        "Tokenizer(model=None): the counter's model only appears in its repr, never shown"
    ),
    "finetune_kit.cost.estimator.xǁCostEstimatorǁestimate_training__mutmut_45": (
        "same as mutant 42"
    ),
    "finetune_kit.cost.estimator.xǁCostEstimatorǁestimate_training__mutmut_51": (
        "_open_price(method=None): no open model is in the bundled price table, so _price "
        "raises UnknownModelError before the method is looked at"
    ),
    "finetune_kit.cost.estimator.xǁCostEstimatorǁestimate_training__mutmut_90": (
        "track_duplicates=None is falsy like False"
    ),
    "finetune_kit.cost.estimator.xǁCostEstimatorǁestimate_training__mutmut_97": (
        "track_duplicates=True for in-memory data: the digests it collects are read only by "
        "_merge, which in-memory data never reach"
    ),
    "finetune_kit.cost.estimator.xǁCostEstimatorǁestimate_training__mutmut_111": (
        "`c < limit` for `c <= limit`: at c == limit both bill `limit` tokens"
    ),
    "finetune_kit.cost.estimator.xǁCostEstimatorǁestimate_usage__mutmut_107": (
        "a row's currency is the table's (prices.json has one currency)"
    ),
    "finetune_kit.cost.estimator.xǁCostEstimatorǁestimate_usage__mutmut_117": "same as 107",
    # -- jobs
    "finetune_kit.jobs._core.xǁRetryPolicyǁ_wait__mutmut_3": (
        "tenacity sets the outcome before it asks for the wait: the test is always true"
    ),
    "finetune_kit.jobs._core.x_retry_after__mutmut_19": (
        "header names in capitals: the SDKs' response headers (httpx) are case-insensitive"
    ),
    "finetune_kit.jobs._core.x_retry_after__mutmut_22": "same as mutant 19",
    "finetune_kit.jobs._core.x_retried__mutmut_2": (
        "the first cause: a Sleep is only made after a failure has set it"
    ),
    "finetune_kit.jobs._core.x_retried__mutmut_21": (
        "the text of the unreachable AssertionError (tenacity re-raises the last error)"
    ),
    "finetune_kit.jobs._core.x_retried__mutmut_22": "same as mutant 21",
    "finetune_kit.jobs._core.x_retried__mutmut_23": "same as mutant 21",
    "finetune_kit.jobs._core.x_scrub__mutmut_22": (
        "default 'XXXX' for an unset key variable: shorter than 8 characters, never masked"
    ),
    "finetune_kit.jobs._core.x_translate__mutmut_7": (
        "ErrorInfo(kind=None) for an undescribed error: kind is only compared with "
        "'connection' and 'status', as 'other' is"
    ),
    "finetune_kit.jobs._core.x_translate__mutmut_11": "same as mutant 7",
    "finetune_kit.jobs._core.x_translate__mutmut_12": "same as mutant 7",
    "finetune_kit.jobs._core.x_translate__mutmut_8": (
        "message=None for an undescribed error: `info.message or str(exc)` gives str(exc)"
    ),
    "finetune_kit.jobs._core.x_translate__mutmut_10": "same as mutant 8 (message='')",
    "finetune_kit.jobs._core.x__looks_like_refusal__mutmut_4": (
        "'xxxx' for a missing code adds none of the refusal words"
    ),
    # -- tokens
    "finetune_kit.tokens.counting.x_image_tokens__mutmut_1": (
        "another default detail than 'auto': every detail but 'low' is counted as high"
    ),
    "finetune_kit.tokens.counting.x_image_tokens__mutmut_2": "same as mutant 1",
    "finetune_kit.tokens.counting.x_image_tokens__mutmut_11": (
        "`width < 0` for `<= 0`: a zero width is already caught by `not width`"
    ),
    "finetune_kit.tokens.counting.x_image_tokens__mutmut_13": "same as mutant 11, for the height",
    "finetune_kit.tokens.counting.x_image_tokens__mutmut_23": (
        "`>= 2048` for `> 2048`: at exactly 2048 the scale is 1"
    ),
    "finetune_kit.tokens.counting.x_image_tokens__mutmut_39": (
        "`>= 768` for `> 768`: at exactly 768 the scale is 1"
    ),
    "finetune_kit.tokens.counting.xǁTokenizerǁcount_raw__mutmut_1": (
        "another default format than 'chat': count_raw only tests for 'preference'"
    ),
    "finetune_kit.tokens.counting.xǁTokenizerǁcount_raw__mutmut_2": "same as mutant 1",
    "finetune_kit.tokens.counting.xǁTokenizerǁcount__mutmut_24": (
        "count_raw(obj, None / default / another word): only 'preference' is told apart"
    ),
    "finetune_kit.tokens.counting.xǁTokenizerǁcount__mutmut_26": "same as mutant 24",
    "finetune_kit.tokens.counting.xǁTokenizerǁcount__mutmut_27": "same as mutant 24",
    "finetune_kit.tokens.counting.xǁTokenizerǁcount__mutmut_28": "same as mutant 24",
    "finetune_kit.tokens.counting.xǁTokenizerǁ_json_tokens__mutmut_3": (
        "ensure_ascii=None is falsy like False"
    ),
    "finetune_kit.tokens.counting.xǁTokenizerǁ_json_tokens__mutmut_5": (
        "sort_keys=None is falsy like False"
    ),
    "finetune_kit.tokens.counting.xǁTokenizerǁ_json_tokens__mutmut_9": (
        "sort_keys left out: its default is False"
    ),
    **{
        f"finetune_kit.tokens.counting.{name}": (
            "the string cache (its bounds, its bookkeeping, a lookup that always misses): it "
            "changes speed and memory, never a count, since a cached count is the count"
        )
        for name in (
            "xǁTokenizerǁ__init____mutmut_20",
            "xǁTokenizerǁ__init____mutmut_26",
            "xǁTokenizerǁ__init____mutmut_28",
            "xǁTokenizerǁcount_text__mutmut_1",
            "xǁTokenizerǁcount_text__mutmut_2",
            *(
                f"xǁTokenizerǁ_count_uncached__mutmut_{n}"
                for n in (8, 9, 10, 11, 12, 14, 15, 16, 17)
            ),
        )
    },
    "finetune_kit.tokens.counting.x__bpe_openai__mutmut_19": (
        "`spec is None and spec.loader is None`: for an existing file named with an extension "
        "suffix spec_from_file_location always gives a spec with an ExtensionFileLoader, so "
        "both tests are false either way (they are there for the type checker)"
    ),
    "finetune_kit.tokens.counting.x__bpe_openai__mutmut_27": (
        "exec_module(None): bpe-openai's module is single-phase init, built whole by "
        "module_from_spec; ExtensionFileLoader.exec_module does nothing for it (and for None)"
    ),
    "finetune_kit.tokens.counting.xǁTokenizerǁ_messages__mutmut_11": (
        "the string cache lookup always misses (see the string cache): counted afresh, same count"
    ),
    "finetune_kit.tokens.counting.xǁTokenizerǁ_messages__mutmut_12": (
        "get(None): no cached key is None, so the lookup always misses (see mutant 11)"
    ),
    "finetune_kit.tokens.counting.xǁTokenizerǁ_messages__mutmut_23": (
        "`value is None and key == 'weight'`: the skip is only a shortcut; a None content, "
        "tool_calls or function_call counts 0 on its own branch and a non-text weight matches "
        "no branch"
    ),
    "finetune_kit.tokens.counting.xǁTokenizerǁ_messages__mutmut_26": (
        "another key than 'weight' skipped: a non-text weight matches no branch anyway (see 23)"
    ),
    "finetune_kit.tokens.counting.xǁTokenizerǁ_messages__mutmut_27": "same as mutant 26",
    "finetune_kit.tokens.counting.xǁTokenizerǁ_parts__mutmut_36": (
        "a non-string image detail passed as it is: image_tokens counts every detail but "
        "'low' as high, as it counts 'auto'"
    ),
    "finetune_kit.tokens.counting.xǁTokenizerǁ_parts__mutmut_37": (
        "another default detail than 'auto' for images: see mutant 36"
    ),
    "finetune_kit.tokens.counting.xǁTokenizerǁ_parts__mutmut_38": "same as mutant 37",
}

_LINE = re.compile(r"^\s*(?P<name>\S+__mutmut_\d+): (?P<status>.+?)\s*$")
KILLED = {"killed", "timeout", "caught by type check", "segfault"}


def statuses() -> dict[str, str]:
    """Every mutant mutmut knows about and its status (``mutmut results --all true``)."""
    out = subprocess.run(
        [*MUTMUT, "results", "--all", "true"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found: dict[str, str] = {}
    for line in out.splitlines():
        m = _LINE.match(line)
        if m:
            found[m["name"]] = m["status"]
    return found


def report(groups: list[str]) -> int:
    """Print each group's score; return the number of groups below 90 % (equivalents out)."""
    known = statuses()
    below = 0
    for group in groups:
        names = [n for n in known if any(fnmatch.fnmatchcase(n, g) for g in GROUPS[group])]
        tally = Counter(known[n] for n in names)
        done = [n for n in names if known[n] != "not checked"]
        killed = sum(1 for n in done if known[n] in KILLED)
        survived = [n for n in done if known[n] not in KILLED]
        equivalent = [n for n in survived if n in EQUIVALENT]
        if not done:
            print(f"{group:7} not run yet ({len(names)} mutants)")
            continue
        raw = killed / len(done)
        judged = killed / (len(done) - len(equivalent)) if len(done) > len(equivalent) else 1.0
        below += judged < 0.9
        print(
            f"{group:7} {len(done):4} mutants run of {len(names):4}: {killed} killed, "
            f"{len(survived)} survived ({len(equivalent)} equivalent) -> score {raw:.1%}, "
            f"{judged:.1%} without the equivalent ones  {dict(tally)}"
        )
        for name in survived:
            why = EQUIVALENT.get(name)
            print(f"    {'=' if why else '!'} {name}: {known[name]}" + (f" ({why})" if why else ""))
    return below


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("groups", nargs="*", help=f"some of {', '.join(GROUPS)} (default: all)")
    parser.add_argument("--report", action="store_true", help="only print the scores")
    parser.add_argument("--max-children", type=int, default=2, help="parallel test processes")
    args = parser.parse_args()
    groups = args.groups or list(GROUPS)
    unknown = sorted(set(groups) - set(GROUPS))
    if unknown:
        parser.error(f"unknown group(s) {', '.join(unknown)}; choose from {', '.join(GROUPS)}")
    if not args.report:
        for group in groups:
            print(f"== mutating {group}", flush=True)
            subprocess.run(
                [*MUTMUT, "run", "--max-children", str(args.max_children), *GROUPS[group]],
                cwd=ROOT,
                check=False,
            )
    return 1 if report(groups) else 0


if __name__ == "__main__":
    sys.exit(main())
