"""Benchmark: `finetune-kit estimate` against the cookbook's data-prep method on a big file.

Generates a chat dataset (default about 200 MB, ~60,000 examples of 1-3 turns mixing ASCII,
accented and CJK text, drawn from a pool of system prompts) into ``benchmarks/_data/``, then
times, each in its own subprocess so that their peak memory is measured separately:

(a) a re-implementation of the method of OpenAI's cookbook notebook "Data preparation and
    analysis for chat model fine-tuning": load every line into memory, run its format checks,
    count tokens with ``encoding.encode`` on every value (and again on assistant contents),
    print the distributions, compute billed tokens and the default epochs;
(b) ``finetune-kit estimate FILE --model gpt-3.5-turbo --format json`` (validation + counting
    in one streaming pass, a process per core; ``--pii off`` to time it without the
    personal-data scan).

It prints both wall times, the speed ratio, both peak RSS figures (largest single process as
``/usr/bin/time -f %M`` reports it, and the sum over the process tree sampled from /proc), and
checks that the token totals are identical.

Usage:
    python benchmarks/bench_estimate.py                  # ~200 MB
    python benchmarks/bench_estimate.py --size-mb 1024   # ~1 GB
    python benchmarks/bench_estimate.py --size-mb 1024 --skip-cookbook
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
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


def generate(path: Path, size_mb: float, system_pool: int) -> None:
    target = int(size_mb * 1024 * 1024)
    gen = Generator(system_pool=system_pool)
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


def run_measured(cmd: list[str]) -> Measure:
    """Run ``cmd`` and measure wall time, CPU time and peak memory."""
    time_bin = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    with tempfile.TemporaryDirectory() as tmp:
        rss_file = Path(tmp) / "rss"
        full = [time_bin, "-f", "%M %U %S", "-o", str(rss_file), *cmd] if time_bin else cmd
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
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


def wait_idle(limit: float = 900.0) -> None:
    """On a shared machine, wait (up to ``limit`` s) until other work leaves the CPUs idle."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            if _cpu_busy() < 0.10:
                return
        except OSError:
            return
    print("   (machine still busy; measuring anyway)")


WAIT_IDLE = False


def best_of(cmd: list[str], repeat: int) -> Measure:
    """The fastest of ``repeat`` runs (the least disturbed by other load on the machine)."""
    runs = []
    for _ in range(max(1, repeat)):
        if WAIT_IDLE:
            wait_idle()
        runs.append(run_measured(cmd))
    best = min(runs, key=lambda m: m.wall)
    best.peak_kib = max(m.peak_kib for m in runs)
    best.tree_kib = max(m.tree_kib for m in runs)
    return best


def _load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mb", type=float, default=200, help="dataset size in MiB")
    ap.add_argument("--system-pool", type=int, default=8, help="distinct system prompts (0=unique)")
    ap.add_argument("--jobs", type=int, default=None, help="estimate worker processes")
    ap.add_argument(
        "--pii", choices=["warn", "off"], default="off", help="estimate's personal-data scan"
    )
    ap.add_argument("--repeat", type=int, default=1, help="runs of each; the fastest counts")
    ap.add_argument("--skip-cookbook", action="store_true", help="only run finetune-kit")
    ap.add_argument(
        "--wait-idle",
        action="store_true",
        help="before each run, wait for idle CPUs (shared hosts)",
    )
    ap.add_argument("--regenerate", action="store_true", help="rebuild the dataset")
    ap.add_argument("--_cookbook", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args._cookbook:  # child process of (a)
        print(json.dumps(cookbook(args._cookbook)))
        return
    global WAIT_IDLE  # noqa: PLW0603 - a command-line switch for this script only
    WAIT_IDLE = args.wait_idle

    name = f"chat-{args.size_mb:g}mb-pool{args.system_pool}.jsonl"
    path = DATA_DIR / name
    if args.regenerate or not path.exists():
        generate(path, args.size_mb, args.system_pool)
    size = path.stat().st_size
    print(f"dataset: {path} ({size / 2**20:,.0f} MiB), {os.cpu_count()} CPUs, load {_load()}")

    est_cmd = [sys.executable, "-m", "finetune_kit.cli.cost", "estimate", str(path)]
    est_cmd += ["--model", MODEL, "--format", "json"]
    if args.jobs:
        est_cmd += ["--jobs", str(args.jobs)]
    est_cmd += ["--pii", args.pii]
    e = best_of(est_cmd, args.repeat)
    est = json.loads(e.out)
    print(
        f"finetune-kit estimate: {e.wall:7.2f} s wall, {e.cpu:7.2f} s CPU; peak RSS "
        f"{e.peak_kib / 1024:5.0f} MiB (largest process), {e.tree_kib / 1024:5.0f} MiB "
        f"(all processes, PSS)"
    )
    print(
        f"   {est['n_examples']:,} examples, {est['total_tokens_per_epoch']:,} tokens, "
        f"{est['billed_tokens_per_epoch']:,} billed/epoch, {len(est['errors'])} errors, "
        f"{len(est['warnings'])} warnings"
    )
    if args.skip_cookbook:
        print(f"load after: {_load()}")
        return

    cb_cmd = [sys.executable, str(Path(__file__).resolve()), "--_cookbook", str(path)]
    c = best_of(cb_cmd, args.repeat)
    cb = json.loads(c.out)
    print(
        f"cookbook method:       {c.wall:7.2f} s wall, {c.cpu:7.2f} s CPU; peak RSS "
        f"{c.peak_kib / 1024:5.0f} MiB"
    )
    print(f"   {cb['n_examples']:,} examples, {cb['total_tokens']:,} tokens")
    ratio = c.wall / e.wall
    same = (
        cb["total_tokens"] == est["total_tokens_per_epoch"]
        and cb["billed_tokens_per_epoch"] == est["billed_tokens_per_epoch"]
        and cb["n_epochs"] == est["n_epochs"]
    )
    print(
        f"speed ratio: {ratio:.2f}x wall ({c.cpu / e.cpu:.2f}x in CPU time); "
        f"token totals identical: {same}; load after: {_load()}"
    )
    rss_ok = max(e.peak_kib, e.tree_kib) < 256 * 1024
    print(
        f"targets: ratio >= 2.5x {'met' if ratio >= 2.5 else 'NOT met'}; "
        f"estimate memory < 256 MiB {'met' if rss_ok else 'NOT met'}"
    )
    if not same:
        raise SystemExit("token totals differ")


if __name__ == "__main__":
    main()
