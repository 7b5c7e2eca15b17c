"""An acceptance corpus for near-duplicate detection: support tickets with planted copies.

Near-copies of an original: case and whitespace changed; two transposed-letter typos; a
sentence appended to the answer; a greeting added to the question and to the answer. Hard
negatives: the same question with a different answer; the same question and first answer
sentence with a different rest. A validation file holds near-copies of training examples
(leaks), hard negatives of training examples and unrelated examples. Every example shares
one of two long system prompts, as real files do.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from typing import Any

_FUNCTION = [
    "the",
    "a",
    "to",
    "of",
    "and",
    "in",
    "is",
    "for",
    "on",
    "with",
    "your",
    "you",
    "we",
    "it",
    "this",
    "that",
    "be",
    "can",
    "please",
    "our",
    "not",
    "have",
    "are",
    "will",
    "from",
    "at",
    "or",
    "as",
    "if",
    "by",
    "when",
    "my",
    "i",
]
_SYSTEMS = (
    (
        "You are the support assistant of Acme Cloud. Answer politely, precisely and briefly; "
        "never promise refunds; link to the help centre when it helps; ask for the order "
        "number when the question is about an order."
    ),
    (
        "You are a helpful agent of the Acme billing desk. Keep answers under five sentences, "
        "explain the steps in order and end with an offer to help further."
    ),
)
VARIANTS = ("case_whitespace", "typos", "appended_sentence", "greeting")
GREETINGS = (
    ("Hi there,", "Hello! Thanks for reaching out."),
    ("Good morning team,", "Good morning, and thank you for writing to us."),
    ("Hey,", "Hi, happy to help with this."),
)


@dataclass
class Corpus:
    """A training file, a validation file and what was planted in them (1-based lines)."""

    train: list[dict[str, Any]]
    validation: list[dict[str, Any]]
    families: list[list[int]] = field(default_factory=list)
    negatives: list[tuple[int, int]] = field(default_factory=list)
    leaks: set[tuple[int, int]] = field(default_factory=set)
    validation_negatives: set[tuple[int, int]] = field(default_factory=set)
    variants: dict[int, str] = field(default_factory=dict)

    def planted_pairs(self) -> set[tuple[int, int]]:
        """Every pair of lines in the same planted family."""
        return {p for fam in self.families for p in itertools.combinations(sorted(fam), 2)}


class _Text:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        letters = "abcdefghijklmnopqrstuvwxyz"
        self.vocab = sorted(
            {"".join(rng.choice(letters) for _ in range(rng.randint(3, 10))) for _ in range(4000)}
        )

    def word(self) -> str:
        if self.rng.random() < 0.35:
            return self.rng.choice(_FUNCTION)
        # a few hundred words are much more common, as in real text
        pool = self.vocab[:300] if self.rng.random() < 0.4 else self.vocab
        return self.rng.choice(pool)

    def sentence(self, lo: int = 8, hi: int = 16) -> str:
        words = [self.word() for _ in range(self.rng.randint(lo, hi))]
        return " ".join(words).capitalize() + self.rng.choice(".!?.")

    def paragraph(self, lo: int, hi: int) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(lo, hi)))


def _example(system: str, question: str, answer: str) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer},
        ]
    }


def _typo(text: str, rng: random.Random, n: int = 2) -> str:
    words = text.split(" ")
    choices = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    for i in rng.sample(choices, min(n, len(choices))):
        w = words[i]
        j = rng.randrange(1, len(w) - 2)
        words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


def _case_whitespace(text: str, rng: random.Random) -> str:
    out = []
    for w in text.split(" "):
        r = rng.random()
        out.append(w.upper() if r < 0.1 else w.capitalize() if r < 0.25 else w)
        out.append("  " if rng.random() < 0.15 else "\n" if rng.random() < 0.03 else " ")
    return "".join(out).strip() + rng.choice(["", " ", "\n"])


def near_copy(example: dict[str, Any], variant: str, text: _Text) -> dict[str, Any]:
    """A planted near-copy of ``example``."""
    rng = text.rng
    system, q, a = (m["content"] for m in example["messages"])
    if variant == "case_whitespace":
        q, a = _case_whitespace(q, rng), _case_whitespace(a, rng)
    elif variant == "typos":
        if rng.random() < 0.5:
            q, a = _typo(q, rng, 1), _typo(a, rng, 1)
        else:
            a = _typo(a, rng, 2)
    elif variant == "appended_sentence":
        a = a + " " + text.sentence(8, 14)
    elif variant == "greeting":
        hq, ha = rng.choice(GREETINGS)
        q, a = f"{hq} {q}", f"{ha} {a}"
    else:  # pragma: no cover - a typo in a test
        raise ValueError(variant)
    return _example(system, q, a)


def make_corpus(n_originals: int = 600, seed: int = 0) -> Corpus:
    """Build the corpus: about a third of the originals get near-copies, a sixth hard negatives,
    and the validation file leaks a tenth of them."""
    rng = random.Random(seed)
    text = _Text(rng)
    originals = []
    for _ in range(n_originals):
        system = rng.choice(_SYSTEMS)
        question = text.paragraph(2, 4)
        first = text.sentence(10, 16)
        answer = first + " " + text.paragraph(4, 7)
        originals.append((system, question, first, _example(system, question, answer)))

    # (key, example, kind): key = index of the original it relates to
    items: list[tuple[int, dict[str, Any], str]] = []
    for i, (system, question, first, ex) in enumerate(originals):
        items.append((i, ex, "original"))
        r = rng.random()
        if r < 0.33:
            for variant in rng.sample(VARIANTS, 2 if rng.random() < 0.25 else 1):
                items.append((i, near_copy(ex, variant, text), variant))
        elif r < 0.5:
            if rng.random() < 0.5:
                neg = _example(system, question, text.paragraph(5, 8))
                items.append((i, neg, "negative_answer"))
            else:
                neg = _example(system, question, first + " " + text.paragraph(4, 7))
                items.append((i, neg, "negative_rest"))
    rng.shuffle(items)
    corpus = Corpus(train=[ex for _, ex, _ in items], validation=[])
    by_key: dict[int, list[int]] = {}
    originals_line: dict[int, int] = {}
    negatives_of: dict[int, list[int]] = {}
    for line, (key, _, kind) in enumerate(items, 1):
        corpus.variants[line] = kind
        if kind == "original":
            originals_line[key] = line
            by_key.setdefault(key, []).append(line)
        elif kind.startswith("negative"):
            negatives_of.setdefault(key, []).append(line)
        else:
            by_key.setdefault(key, []).append(line)
    corpus.families = [sorted(v) for v in by_key.values() if len(v) > 1]
    for key, negs in negatives_of.items():
        for neg in negs:
            corpus.negatives.append((originals_line[key], neg))

    # validation: leaks (near-copies of training originals), hard negatives, unrelated
    keys = list(originals_line)
    rng.shuffle(keys)
    n_leak = max(1, n_originals // 10)
    val_items: list[tuple[str, dict[str, Any], int | None]] = []
    for key in keys[:n_leak]:
        _, _, _, ex = originals[key]
        val_items.append(("leak", near_copy(ex, rng.choice(VARIANTS), text), key))
    for key in keys[n_leak : 2 * n_leak]:
        system, question, _, _ = originals[key]
        val_items.append(("negative", _example(system, question, text.paragraph(5, 8)), key))
    for _ in range(n_leak):
        system = rng.choice(_SYSTEMS)
        ex = _example(system, text.paragraph(2, 4), text.paragraph(5, 8))
        val_items.append(("unrelated", ex, None))
    rng.shuffle(val_items)
    corpus.validation = [ex for _, ex, _ in val_items]
    for v_line, (kind, _, key) in enumerate(val_items, 1):
        if key is None:
            continue
        family = set(by_key[key])
        for t_line in family:
            if kind == "leak":
                corpus.leaks.add((t_line, v_line))
            else:
                corpus.validation_negatives.add((t_line, v_line))
    return corpus
