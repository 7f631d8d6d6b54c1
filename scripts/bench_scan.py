#!/usr/bin/env python
"""Benchmark `linker scan`: a generated project of --files Python files (default 2,000, ~110 lines each, in
nested packages), scanned in a fresh process (`python -m linker scan`), best of --repeat.

By default every file calls loaders (from_pretrained, pipeline, hf_hub_download, load_dataset, SentenceTransformer
with constants and default arguments), so every file is parsed: the worst case. `--loader-share 0.1` makes only
one file in ten call a loader (closer to a real project: the others are read but never parsed).

Goal: under 1 s per 1,000 files on this machine, so that the pre-commit hook is never the slow one.

    .venv/bin/python scripts/bench_scan.py [--files 2000] [--loader-share 1.0] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_PER_1000 = 1.0  # seconds

LOADERS = """
MODEL_ID = "acme/model-{i}"
REVISION = "main"


def load_model(name: str = MODEL_ID, revision: str = REVISION):
    tokenizer = AutoTokenizer.from_pretrained(name, revision=revision)
    model = AutoModel.from_pretrained(name, revision=revision)
    return tokenizer, model


def load_data():
    ds = load_dataset("acme/data-{j}", split="train")
    path = hf_hub_download(repo_id="acme/assets", filename="labels.json", repo_type="dataset")
    return ds, path


def build(cfg):
    encoder = SentenceTransformer("all-MiniLM-L6-v2")
    clf = pipeline("text-classification", model=cfg.model_name)
    return encoder, clf
"""

BODY = '''

class Processor{i}:
    """A made-up processing step, to give the parser ordinary code to read."""

    def __init__(self, size: int = 8, scale: float = 0.5) -> None:
        self.size = size
        self.scale = scale
        self.items: list[dict[str, float]] = []

    def add(self, key: str, value: float) -> None:
        if value < 0:
            raise ValueError(f"{{key}}: negative value {{value}}")
        self.items.append({{"key": key, "value": value * self.scale}})

    def total(self) -> float:
        return sum(item["value"] for item in self.items if item["value"] > 0)

    def top(self, n: int = 3) -> list[str]:
        ranked = sorted(self.items, key=lambda item: item["value"], reverse=True)
        return [item["key"] for item in ranked[:n]]


def summarize(values: list[float]) -> dict[str, float]:
    if not values:
        return {{"min": 0.0, "max": 0.0, "mean": 0.0}}
    lo, hi = min(values), max(values)
    mean = sum(values) / len(values)
    return {{"min": lo, "max": hi, "mean": mean}}


def batches(items: list[str], size: int = 16):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def main() -> None:
    proc = Processor{i}()
    for n, word in enumerate(["alpha", "beta", "gamma", "delta"]):
        proc.add(word, float(n))
    print(summarize([item["value"] for item in proc.items]), proc.top())


if __name__ == "__main__":
    main()
'''

HEADER = '''"""Module {i} of the generated benchmark project."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from datasets import load_dataset
from huggingface_hub import hf_hub_download
from sentence_transformers import SentenceTransformer
from transformers import AutoModel, AutoTokenizer, pipeline
'''


def build_project(root: Path, files: int, share: float) -> int:
    """Write the project; returns how many files call loaders."""
    with_loaders = 0
    for i in range(files):
        folder = root / "src" / f"pkg{i // 100:02d}" / f"sub{(i // 10) % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        calls = int((i + 1) * share) > int(i * share)  # an even spread of `share`
        header = HEADER if calls else HEADER.split("from datasets")[0]
        text = header.format(i=i) + (LOADERS.format(i=i % 50, j=i % 7) if calls else "") + BODY.format(i=i)
        (folder / f"module_{i:05d}.py").write_text(text)
        with_loaders += calls
    shas = [hashlib.sha1(b"model %d" % k).hexdigest() for k in range(50)]
    models = "\n".join(f"  - id: acme/model-{k}\n    revision: '{shas[k]}'" for k in range(0, 50, 2))
    (root / "project_cache.yaml").write_text(f"version: 1\nmodels:\n{models}\n")
    return with_loaders


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall and CPU (user + system) seconds of one fresh process, and its last output line (the summary)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    summary = next(ln for ln in reversed(proc.stdout.splitlines()) if " file(s), " in ln)
    return elapsed, cpu, summary


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--loader-share", type=float, default=1.0, help="share of files that call loaders (0..1)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-scan-") as tmp:
        root = Path(tmp) / "project"
        root.mkdir()
        parsed = build_project(root, args.files, args.loader_share)
        lines = sum(p.read_text().count("\n") for p in root.rglob("*.py"))
        cmd = [sys.executable, "-m", "linker", "scan"]  # text output, as the pre-commit hook runs it
        runs = [timed(cmd, root) for _ in range(max(1, args.repeat))]
        best = min(t for t, _, _ in runs)
        cpu = min(c for _, c, _ in runs)
        summary = runs[0][2]
        assert summary.startswith(f"{args.files} file(s)"), summary
        per_1000 = best / args.files * 1000
        print(f"{args.files} files ({lines} lines; {parsed} call loaders): {summary}")
        print(f"linker scan, fresh process, best of {len(runs)}: {best:.2f} s = {args.files / best:.0f} files/s")
        load = os.getloadavg()[0]
        print(f"  CPU time (user + system): {cpu:.2f} s = {cpu / args.files * 1000:.2f} s per 1,000 files")
        print(f"  load average {load:.1f} on {os.cpu_count()} core(s): wall time includes waiting for a core")
        verdict = "OK" if per_1000 < GOAL_PER_1000 else "MISSED"
        print(f"{per_1000:.2f} s per 1,000 files, wall (goal: under {GOAL_PER_1000:.0f} s): {verdict}")
        return 0 if per_1000 < GOAL_PER_1000 else 1


if __name__ == "__main__":
    sys.exit(main())
