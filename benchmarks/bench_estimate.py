"""Benchmark: `finetune-kit estimate` against the cookbook's data-prep method on a big file.

Generates a chat dataset (default about 200 MiB) into ``benchmarks/_data/`` in one of two
shapes, seeded, so every run of a size sees the same bytes:

``pooled`` (the default)
    ~60,000 examples of 1-3 turns made of whole sentences (ASCII, accented and CJK) with a
    system prompt drawn from a pool of 8 long ones: a third of the bytes repeat.
``words``
    ~60,000 examples of 1-3 turns, 5-300 words per message drawn one by one from a large
    vocabulary (English, made-up, accented and CJK words), one short shared system prompt and
    nothing else repeated.

Then it times, each in its own subprocess so that their peak memory is measured separately:

(a) a re-implementation of the method of OpenAI's cookbook notebook "Data preparation and
    analysis for chat model fine-tuning": load every line into memory, run its format checks,
    count tokens with ``encoding.encode`` on every value (and again on assistant contents),
    print the distributions, compute billed tokens and the default epochs;
(b) the floor: parse every line and encode every string of every message once
    (``encode_ordinary``), nothing else; in one process and in two (the file cut in halves);
(c) ``finetune-kit estimate FILE --model gpt-3.5-turbo --format json`` (validation + counting
    in one streaming pass, a process per core; ``--pii off`` by default).

With ``--repeat N`` it runs N rounds of (a), (b), (c) one after the other and prints the
median of each figure and of the per-round ratios, so every ratio compares runs made side by
side. It checks that all three give the same token total.

Usage:
    python benchmarks/bench_estimate.py                          # pooled shape, ~200 MiB
    python benchmarks/bench_estimate.py --shape words --repeat 3 --wait-idle
    python benchmarks/bench_estimate.py --size-mb 1024           # ~1 GiB
    python benchmarks/bench_estimate.py --size-mb 1024 --skip-cookbook
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "_data"
MODEL = "gpt-3.5-turbo"  # cl100k_base, the encoding the notebook uses
NOTEBOOK_LIMIT = 16_385  # the notebook's MAX_TOKENS_PER_EXAMPLE

# -- data generation ------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


_ENGLISH = _words(
    "model training data answer question learn value token epoch batch weight gradient loss "
    "accuracy network layer output input prompt reply reason because therefore however indeed "
    "customer order invoice refund shipping account password policy support ticket escalate "
    "summary report quarter revenue forecast budget meeting schedule deadline project review "
    "the a an of to in on for with from by about into over under after before while and or "
    "is are was were be been has have had will would can could should may might must not "
    "please thank you we they it this that these those here there when where which what who"
)
_ACCENTED = _words(
    "café naïve résumé über straße año señor fiancée garçon crème déjà façade mañana piñata "
    "jalapeño Zürich Köln élève préférée réponse données modèle entraînement précision "
    "vérifié équipe numéro téléphone adresse dirección información público económico "
    "análisis después también más rápido Größe Gebühr Rückerstattung bestätigt Käufer"
)
_CJK = (
    "模型训练数据回答问题学习价值令牌批量权重梯度损失准确网络输出输入提示回复原因因此然而客户订单"
    "发票退款运输账户密码政策支持工单摘要报告季度收入预测预算会议日程截止项目审查顾客注文請求書返金"
    "配送口座暗証番号方針支援要約報告四半期収益予測予算会議日程締切計画確認ありがとうございますお願い"
    "しますこんにちは申し訳ございません確認いたします"
)


def _sentence(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.72:  # English, now and then an accented word
        words = [
            rng.choice(_ACCENTED) if rng.random() < 0.04 else rng.choice(_ENGLISH)
            for _ in range(rng.randint(6, 18))
        ]
        return " ".join(words).capitalize() + rng.choice(".!?.")
    if kind < 0.86:  # French/Spanish/German-like
        words = [
            rng.choice(_ACCENTED) if rng.random() < 0.45 else rng.choice(_ENGLISH)
            for _ in range(rng.randint(6, 16))
        ]
        return " ".join(words).capitalize() + "."
    n = rng.randint(8, 30)  # CJK
    start = rng.randrange(0, len(_CJK) - n)
    return _CJK[start : start + n] + "。"


class Generator:
    """Deterministic chat examples built from a pool of sentences and system prompts."""

    def __init__(self, seed: int = 7, system_pool: int = 8) -> None:
        self.rng = random.Random(seed)
        self.sentences = [_sentence(self.rng) for _ in range(20_000)]
        self.system_pool = system_pool
        self.systems = [self._text(900, 1700) for _ in range(max(1, system_pool))]

    def _text(self, lo: int, hi: int) -> str:
        target = self.rng.randint(lo, hi)
        parts: list[str] = []
        size = 0
        while size < target:
            s = self.rng.choice(self.sentences)
            parts.append(s)
            size += len(s.encode("utf-8")) + 1
        return " ".join(parts)

    def example(self) -> dict[str, Any]:
        # With system_pool=0 every system prompt is unique (nothing repeats).
        pool = self.system_pool > 0
        system = self.rng.choice(self.systems) if pool else self._text(900, 1700)
        messages = [{"role": "system", "content": system}]
        for _ in range(self.rng.randint(1, 3)):
            messages.append({"role": "user", "content": self._text(80, 400)})
            messages.append({"role": "assistant", "content": self._text(220, 1080)})
        return {"messages": messages}


_SYLLABLES = _words(
    "ka ri to mu se na lo vi pe du ra ne shi ko ta be mi so ga lu fe zo ha ni wu "
    "bar tel mon dra ven kor lin sta pol mer fin gor tra"
)
_SHORT_SYSTEM = "You are a helpful assistant. Answer briefly and politely."


class WordGenerator:
    """Deterministic examples whose messages are words drawn one by one: nothing repeats.

    The vocabulary mixes common English words, made-up words of 2-4 syllables (several tokens
    each), accented words and CJK words of 1-3 characters, so that tokenizing costs about
    what real mixed-language chat data costs. Every message is a fresh draw of 5-300 words;
    only the role names and one short system prompt repeat.
    """

    def __init__(self, seed: int = 11) -> None:
        self.rng = random.Random(seed)
        rng = self.rng
        syll = _SYLLABLES
        made_up = sorted(
            {"".join(rng.choice(syll) for _ in range(rng.randint(2, 4))) for _ in range(6000)}
        )
        accents = "éèêàâçñöüßåøíóú"
        accented = sorted(
            {
                "".join(
                    rng.choice(accents) if rng.random() < 0.25 else c for c in rng.choice(made_up)
                )
                for _ in range(1500)
            }
            | set(_ACCENTED)
        )
        cjk = sorted({_CJK[i : i + n] for n in (1, 2, 3) for i in range(0, len(_CJK) - n, 1)})
        self.vocab: list[str] = [*_ENGLISH, *made_up, *accented, *cjk]
        # cumulative weights: English 78%, made-up 8%, accented 8%, CJK 6%
        groups = [(_ENGLISH, 0.78), (made_up, 0.08), (accented, 0.08), (cjk, 0.06)]
        weights: list[float] = []
        for words, share in groups:
            weights.extend([share / len(words)] * len(words))
        self.cum = list(itertools.accumulate(weights))

    def _message(self) -> str:
        rng = self.rng
        n = rng.randint(5, 300)
        words = rng.choices(self.vocab, cum_weights=self.cum, k=n)
        i = rng.randint(6, 16)
        while i < n:  # a full stop or comma every 6-16 words
            words[i - 1] += rng.choice(".,.,!?")
            i += rng.randint(6, 16)
        words[0] = words[0].capitalize()
        return " ".join(words) + "."

    def example(self) -> dict[str, Any]:
        messages = [{"role": "system", "content": _SHORT_SYSTEM}]
        for _ in range(self.rng.randint(1, 3)):
            messages.append({"role": "user", "content": self._message()})
            messages.append({"role": "assistant", "content": self._message()})
        return {"messages": messages}


def generate(path: Path, size_mb: float, shape: str, system_pool: int) -> None:
    target = int(size_mb * 1024 * 1024)
    gen = WordGenerator() if shape == "words" else Generator(system_pool=system_pool)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    written = 0
    n = 0
    t0 = time.perf_counter()
    with tmp.open("w", encoding="utf-8", newline="\n") as fh:
        while written < target:
            line = json.dumps(gen.example(), ensure_ascii=False) + "\n"
            fh.write(line)
            written += len(line.encode("utf-8"))
            n += 1
    tmp.replace(path)
    print(
        f"generated {path.name}: {n:,} examples, {written / 2**20:,.0f} MiB "
        f"in {time.perf_counter() - t0:.0f} s"
    )


# -- (a) the cookbook notebook's method ---------------------------------------------------------


def cookbook(path: str) -> dict[str, Any]:
    """The data-prep notebook's steps, as it runs them (whole file in memory)."""
    import numpy as np
    import tiktoken

    with open(path, encoding="utf-8") as f:  # noqa: PTH123 - the notebook's own code
        dataset = [json.loads(line) for line in f]

    format_errors: dict[str, int] = defaultdict(int)
    for ex in dataset:
        if not isinstance(ex, dict):
            format_errors["data_type"] += 1
            continue
        messages = ex.get("messages", None)
        if not messages:
            format_errors["missing_messages_list"] += 1
            continue
        for message in messages:
            if "role" not in message or "content" not in message:
                format_errors["message_missing_key"] += 1
            if any(
                k not in ("role", "content", "name", "function_call", "weight") for k in message
            ):
                format_errors["message_unrecognized_key"] += 1
            if message.get("role", None) not in ("system", "user", "assistant", "function"):
                format_errors["unrecognized_role"] += 1
            content = message.get("content", None)
            function_call = message.get("function_call", None)
            if (not content and not function_call) or not isinstance(content, str):
                format_errors["missing_content"] += 1
        if not any(message.get("role", None) == "assistant" for message in messages):
            format_errors["example_missing_assistant_message"] += 1

    encoding = tiktoken.get_encoding("cl100k_base")

    def num_tokens_from_messages(
        messages: list[dict[str, Any]], tokens_per_message: int = 3, tokens_per_name: int = 1
    ) -> int:
        num_tokens = 0
        for message in messages:
            num_tokens += tokens_per_message
            for key, value in message.items():
                num_tokens += len(encoding.encode(value))
                if key == "name":
                    num_tokens += tokens_per_name
        num_tokens += 3
        return num_tokens

    def num_assistant_tokens_from_messages(messages: list[dict[str, Any]]) -> int:
        num_tokens = 0
        for message in messages:
            if message["role"] == "assistant":
                num_tokens += len(encoding.encode(message["content"]))
        return num_tokens

    def print_distribution(values: list[int], name: str) -> None:
        print(f"\n#### Distribution of {name}:", file=sys.stderr)
        print(f"min / max: {min(values)}, {max(values)}", file=sys.stderr)
        print(f"mean / median: {np.mean(values)}, {np.median(values)}", file=sys.stderr)
        print(f"p5 / p95: {np.quantile(values, 0.1)}, {np.quantile(values, 0.9)}", file=sys.stderr)

    n_missing_system = 0
    n_missing_user = 0
    n_messages = []
    convo_lens = []
    assistant_message_lens = []
    for ex in dataset:
        messages = ex["messages"]
        if not any(message["role"] == "system" for message in messages):
            n_missing_system += 1
        if not any(message["role"] == "user" for message in messages):
            n_missing_user += 1
        n_messages.append(len(messages))
        convo_lens.append(num_tokens_from_messages(messages))
        assistant_message_lens.append(num_assistant_tokens_from_messages(messages))
    print_distribution(n_messages, "num_messages_per_example")
    print_distribution(convo_lens, "num_total_tokens_per_example")
    print_distribution(assistant_message_lens, "num_assistant_tokens_per_example")
    n_too_long = sum(length > NOTEBOOK_LIMIT for length in convo_lens)

    target_epochs, min_target, max_target, min_default, max_default = 3, 100, 25_000, 1, 25
    n_epochs = target_epochs
    n_train = len(dataset)
    if n_train * target_epochs < min_target:
        n_epochs = min(max_default, min_target // n_train)
    elif n_train * target_epochs > max_target:
        n_epochs = max(min_default, max_target // n_train)
    n_billing = sum(min(NOTEBOOK_LIMIT, length) for length in convo_lens)
    return {
        "n_examples": n_train,
        "format_errors": dict(format_errors),
        "total_tokens": sum(convo_lens),
        "billed_tokens_per_epoch": n_billing,
        "n_epochs": n_epochs,
        "n_too_long": n_too_long,
    }


# -- (b) the floor: parse every line, encode every string once ----------------------------------


def _line_ranges(path: str, parts: int) -> list[tuple[int, int]]:
    size = Path(path).stat().st_size
    bounds = [0]
    with Path(path).open("rb") as fh:
        for i in range(1, parts):
            fh.seek(max(bounds[-1], size * i // parts))
            fh.readline()
            bounds.append(min(size, fh.tell()))
    bounds.append(size)
    return list(itertools.pairwise(bounds))


def _floor_range(path: str, start: int, end: int) -> tuple[int, int]:
    """Parse every line of a byte range and encode every string of every message once."""
    import tiktoken

    encode = tiktoken.get_encoding("cl100k_base").encode_ordinary
    n = tokens = 0
    with Path(path).open("rb") as fh:
        fh.seek(start)
        pos = start
        for raw in fh:
            if pos >= end:
                break
            pos += len(raw)
            messages = json.loads(raw)["messages"]
            n += 1
            tokens += 3  # as the notebook counts: 3 per example, 3 per message, + the values
            for message in messages:
                tokens += 3
                for value in message.values():
                    tokens += len(encode(value))
    return n, tokens


def floor(path: str, processes: int) -> dict[str, Any]:
    """The floor of any exact count: parsing plus one encoding of every string, nothing else."""
    if processes <= 1:
        n, tokens = _floor_range(path, 0, Path(path).stat().st_size)
    else:
        import multiprocessing

        ranges = _line_ranges(path, processes)
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            parts = pool.starmap(_floor_range, [(path, s, e) for s, e in ranges])
        n, tokens = sum(p[0] for p in parts), sum(p[1] for p in parts)
    return {"n_examples": n, "total_tokens": tokens}


# -- measuring ------------------------------------------------------------------------------------


def _memory_kib(pid: int) -> int:
    """Proportional set size of one process (shared pages split between their users), in KiB;
    its RSS where smaps_rollup is not available."""
    for name, key in (("smaps_rollup", "Pss:"), ("status", "VmRSS:")):
        try:
            with Path(f"/proc/{pid}/{name}").open(encoding="ascii") as fh:
                for line in fh:
                    if line.startswith(key):
                        return int(line.split()[1])
        except OSError:
            continue
    return 0


def _tree_rss_kib(pid: int, *, include_root: bool = True) -> int:
    """Memory of ``pid`` and all its descendants (summed PSS), in KiB (Linux /proc).

    Forked workers share the parent's pages (tiktoken's tables, imported modules); PSS counts
    each shared page once overall, so the sum is what the tree really occupies.
    """
    total = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            if p != pid or include_root:
                total += _memory_kib(p)
            with Path(f"/proc/{p}/task/{p}/children").open(encoding="ascii") as fh:
                todo.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            continue
    return total


@dataclass
class Measure:
    wall: float  # seconds
    cpu: float  # user + system seconds, the process and its children
    peak_kib: int  # peak RSS of the largest single process
    tree_kib: int  # peak of the summed PSS of the process tree (sampled every 250 ms)
    out: str


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> Measure:
    """Run ``cmd`` and measure wall time, CPU time and peak memory."""
    time_bin = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    with tempfile.TemporaryDirectory() as tmp:
        rss_file = Path(tmp) / "rss"
        full = [time_bin, "-f", "%M %U %S", "-o", str(rss_file), *cmd] if time_bin else cmd
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        # Run from the data folder: `python -c` puts the working directory first on sys.path,
        # and a checkout there would shadow the package asked for (--baseline).
        proc = subprocess.Popen(
            full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=DATA_DIR
        )
        peak_tree = 0
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak_tree
            while not stop.is_set():
                # /usr/bin/time is the root of the tree when used: leave it out.
                rss = _tree_rss_kib(proc.pid, include_root=not time_bin)
                peak_tree = max(peak_tree, rss)
                # Reading smaps_rollup costs CPU; sampling often would slow the run measured.
                stop.wait(0.25)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        out, err = proc.communicate()
        elapsed = time.perf_counter() - t0
        stop.set()
        sampler.join()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        peak = after.ru_maxrss  # fallback: largest child so far
        if time_bin:
            fields = rss_file.read_text().split()
            if len(fields) >= 3:
                peak = int(fields[-3])
                cpu = float(fields[-2]) + float(fields[-1])
    if proc.returncode not in (0, 1):
        sys.stderr.write(err.decode("utf-8", "replace"))
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}")
    return Measure(elapsed, cpu, peak, peak_tree, out.decode("utf-8"))


def _cpu_busy(seconds: float = 3.0) -> float:
    """Share of all CPUs busy over ``seconds`` (Linux /proc/stat), 0..1."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        return sum(fields), fields[3] + fields[4]  # total, idle + iowait

    total1, idle1 = sample()
    time.sleep(seconds)
    total2, idle2 = sample()
    return 1 - (idle2 - idle1) / max(1, total2 - total1)


def wait_idle(limit: float) -> None:
    """On a shared machine, wait (up to ``limit`` s) until other work leaves the CPUs idle."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            if _cpu_busy() < 0.10:
                return
        except OSError:
            return
    print(f"   (machine still busy after {limit:.0f} s; measuring anyway, load {_load()})")


def _load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


_LABELS = {
    "cookbook": "cookbook method",
    "floor1": "floor, 1 process",
    "floor2": "floor, 2 processes",
    "estimate": "finetune-kit estimate",
    "baseline": "estimate, --baseline code",
}


def _report(rounds: list[dict[str, Measure]]) -> dict[str, float]:
    """Print the median of every figure over the rounds; return the median ratios."""
    names = [k for k in _LABELS if k in rounds[0]]
    print(f"\nmedian of {len(rounds)} round(s):")
    print(
        f"  {'':24} {'wall s':>8} {'CPU s':>8} {'peak RSS MiB':>13} {'all procs MiB':>14}"
        f" {'cookbook / this':>16}"
    )
    ratios: dict[str, float] = {}
    for name in names:
        runs = [r[name] for r in rounds]
        wall = statistics.median(m.wall for m in runs)
        cpu = statistics.median(m.cpu for m in runs)
        peak = max(m.peak_kib for m in runs) / 1024
        tree = max(m.tree_kib for m in runs) / 1024
        ratio = ""
        if "cookbook" in rounds[0]:
            ratios[name] = statistics.median(r["cookbook"].wall / r[name].wall for r in rounds)
            ratio = f"{ratios[name]:15.2f}x"
        print(f"  {_LABELS[name]:24} {wall:8.2f} {cpu:8.2f} {peak:13.0f} {tree:14.0f} {ratio}")
    if "floor2" in rounds[0]:
        share = statistics.median(r["floor2"].wall / r["estimate"].wall for r in rounds)
        one = statistics.median(r["floor1"].wall / r["estimate"].wall for r in rounds)
        print(
            f"  estimate runs at {share:.0%} of the two-process floor's speed "
            f"({one:.2f}x the one-process floor)"
        )
    if "baseline" in rounds[0]:
        speedup = statistics.median(r["baseline"].wall / r["estimate"].wall for r in rounds)
        cpu = statistics.median(r["baseline"].cpu / r["estimate"].cpu for r in rounds)
        print(f"  estimate is {speedup:.2f}x as fast as the baseline ({cpu:.2f}x in CPU time)")
    return ratios


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shape", choices=["pooled", "words"], default="pooled", help="dataset shape")
    ap.add_argument("--size-mb", type=float, default=200, help="dataset size in MiB")
    ap.add_argument(
        "--system-pool",
        type=int,
        default=8,
        help="pooled shape: distinct system prompts (0 = every one unique)",
    )
    ap.add_argument("--jobs", type=int, default=None, help="estimate worker processes")
    ap.add_argument(
        "--pii", choices=["warn", "off"], default="off", help="estimate's personal-data scan"
    )
    ap.add_argument("--repeat", type=int, default=1, help="rounds; the median counts")
    ap.add_argument("--skip-cookbook", action="store_true", help="only run finetune-kit")
    ap.add_argument("--skip-floor", action="store_true", help="do not time the floor")
    ap.add_argument(
        "--wait-idle",
        action="store_true",
        help="before each run, wait for idle CPUs (shared hosts)",
    )
    ap.add_argument(
        "--idle-timeout", type=float, default=300, help="most seconds --wait-idle waits"
    )
    ap.add_argument(
        "--baseline",
        type=Path,
        help="also time `estimate` with the package found in this folder (e.g. an older "
        "checkout: `git archive main | tar -x -C /tmp/before`)",
    )
    ap.add_argument("--regenerate", action="store_true", help="rebuild the dataset")
    ap.add_argument("--_cookbook", help=argparse.SUPPRESS)
    ap.add_argument("--_floor", help=argparse.SUPPRESS)
    ap.add_argument("--_processes", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args._cookbook:  # child process of (a)
        print(json.dumps(cookbook(args._cookbook)))
        return
    if args._floor:  # child process of (b)
        print(json.dumps(floor(args._floor, args._processes)))
        return

    if args.shape == "words":
        name = f"chat-{args.size_mb:g}mb-words.jsonl"
    else:
        name = f"chat-{args.size_mb:g}mb-pool{args.system_pool}.jsonl"
    path = DATA_DIR / name
    if args.regenerate or not path.exists():
        generate(path, args.size_mb, args.shape, args.system_pool)
    size = path.stat().st_size
    print(
        f"dataset: {path.name} ({args.shape} shape, {size / 2**20:,.0f} MiB), "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, load {_load()}"
    )

    me = [sys.executable, str(Path(__file__).resolve())]
    commands: dict[str, list[str]] = {}
    if not args.skip_cookbook:
        commands["cookbook"] = [*me, "--_cookbook", str(path)]
    if not args.skip_floor:
        commands["floor1"] = [*me, "--_floor", str(path), "--_processes", "1"]
        commands["floor2"] = [*me, "--_floor", str(path), "--_processes", "2"]
    est_cmd = [sys.executable, "-c", "from finetune_kit.cli import main; main()"]
    est_cmd += ["estimate", str(path), "--model", MODEL, "--format", "json", "--pii", args.pii]
    if args.jobs:
        est_cmd += ["--jobs", str(args.jobs)]
    commands["estimate"] = est_cmd
    env: dict[str, dict[str, str]] = {}
    if args.baseline:
        commands["baseline"] = est_cmd
        env["baseline"] = {**os.environ, "PYTHONPATH": str(args.baseline.resolve())}

    rounds: list[dict[str, Measure]] = []
    outputs: dict[str, dict[str, Any]] = {}
    for i in range(max(1, args.repeat)):
        measured: dict[str, Measure] = {}
        for key, cmd in commands.items():
            if args.wait_idle:
                wait_idle(args.idle_timeout)
            load = _load()
            m = run_measured(cmd, env.get(key))
            measured[key] = m
            outputs[key] = json.loads(m.out)
            print(
                f"round {i + 1}: {_LABELS[key]:24} {m.wall:7.2f} s wall, {m.cpu:7.2f} s CPU, "
                f"peak RSS {m.peak_kib / 1024:5.0f} MiB (all processes {m.tree_kib / 1024:4.0f}"
                f" MiB); load before {load}",
                flush=True,
            )
        rounds.append(measured)

    est = outputs["estimate"]
    print(
        f"estimate: {est['n_examples']:,} examples, {est['total_tokens_per_epoch']:,} tokens, "
        f"{est['billed_tokens_per_epoch']:,} billed/epoch, {est['n_epochs']} epochs, "
        f"{len(est['errors'])} errors, {len(est['warnings'])} warnings"
    )
    ratios = _report(rounds)
    same = True
    for key in ("cookbook", "floor1", "floor2"):
        if key in outputs:
            same &= outputs[key]["total_tokens"] == est["total_tokens_per_epoch"]
    if "baseline" in outputs:  # the same report, finding for finding
        same &= outputs["baseline"] == est
    if "cookbook" in outputs:
        cb = outputs["cookbook"]
        same &= cb["billed_tokens_per_epoch"] == est["billed_tokens_per_epoch"]
        same &= cb["n_epochs"] == est["n_epochs"]
    print(f"token totals identical: {same}; load after: {_load()}")
    rss_ok = all(max(r["estimate"].peak_kib, r["estimate"].tree_kib) < 256 * 1024 for r in rounds)
    if "estimate" in ratios:
        ratio = ratios["estimate"]
        print(
            f"targets: estimate >= 2.5x the cookbook {'met' if ratio >= 2.5 else 'NOT met'} "
            f"({ratio:.2f}x); estimate memory < 256 MiB {'met' if rss_ok else 'NOT met'}"
        )
    if not same:
        raise SystemExit("token totals differ")


if __name__ == "__main__":
    main()
