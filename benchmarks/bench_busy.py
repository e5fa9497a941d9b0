"""Benchmark: LightGBM training and batch prediction on a quiet machine and beside two busy processes.

A shared CI runner has other work on its cores. OpenMP threads that spin-wait for each other collapse
when a core is taken away (measured here: 0.10 s quiet, 26 s busy with two threads). This script starts
the busy processes itself and prints, for each threading choice, the quiet and busy times (medians) and
their ratio, with the choice creditops makes marked. Run: `python benchmarks/bench_busy.py`.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

CHOICES = {
    "num_threads=2": {"threads": 2, "env": {}},
    "num_threads=2, OMP_WAIT_POLICY=PASSIVE": {"threads": 2, "env": {"OMP_WAIT_POLICY": "PASSIVE"}},
    "num_threads=1": {"threads": 1, "env": {}},
    "creditops (as shipped)": {"threads": None, "env": {"OMP_WAIT_POLICY": "PASSIVE"}},
}

MEASURE = """
import json, sys, time
import numpy as np
from creditops.data.contract import uci
from creditops.data.synth import synthesize
from creditops.modelling.estimators import train_model
from creditops.modelling.learners import base
threads = json.loads(sys.argv[1])
frame = synthesize(30_000, 5)
features, labels = uci().feature_matrix(frame), uci().labels(frame)
if threads is not None:
    base.TRAINING_THREADS = threads
train_model(features[:2000], labels[:2000], algorithm="lightgbm", params={"n_estimators": 5, "learning_rate": 0.1},
            seed=0, contract=uci())  # warm-up: OpenMP and LightGBM start
started = time.perf_counter()
model = train_model(features, labels, algorithm="lightgbm", params={"n_estimators": 100, "learning_rate": 0.05},
                    seed=42, contract=uci())
trained = time.perf_counter() - started
many = np.tile(features, (10, 1))
started = time.perf_counter()
model.predict_proba(many)
predicted = time.perf_counter() - started
print(json.dumps({"train": trained, "predict_300k": predicted}))
"""


def measure(threads: int | None, env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, json.dumps(threads)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


BUSY_KINDS = {
    "python": "while time.time() < end:\n    pass\n",
    "lightgbm": (
        "import lightgbm as lgb, numpy as np\n"
        "x = np.random.default_rng(0).normal(size=(30000, 23)); y = (x[:, 0] > 0).astype(int)\n"
        "while time.time() < end:\n"
        "    lgb.train({'objective': 'binary', 'num_threads': 2, 'verbosity': -1}, lgb.Dataset(x, y), 100)\n"
    ),
}
"""What keeps the cores busy: a pure Python loop (one core each), or another LightGBM training with two
spinning OpenMP threads (as two CI jobs on one runner)."""


def busy(count: int, seconds: float, kind: str) -> list[subprocess.Popen[bytes]]:
    """`count` processes that keep the cores busy for at most `seconds` (they stop by themselves)."""
    loop = f"import time\nend = time.time() + {seconds}\n" + BUSY_KINDS[kind]
    return [subprocess.Popen([sys.executable, "-c", loop]) for _ in range(count)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--busy", type=int, default=2, help="Busy processes beside the measured one")
    parser.add_argument("--kind", choices=sorted(BUSY_KINDS), default="lightgbm", help="What the busy processes run")
    args = parser.parse_args(argv)
    rows = []
    for label, choice in CHOICES.items():
        quiet = [measure(choice["threads"], choice["env"]) for _ in range(args.repeats)]
        noisy = []
        for _ in range(args.repeats):
            hogs = busy(args.busy, 120, args.kind)
            time.sleep(1.5)
            try:
                noisy.append(measure(choice["threads"], choice["env"]))
            finally:
                for hog in hogs:
                    hog.kill()
                    hog.wait()
        row = {"choice": label}
        for key in ("train", "predict_300k"):
            row[f"{key} quiet"] = statistics.median(item[key] for item in quiet)
            row[f"{key} busy"] = statistics.median(item[key] for item in noisy)
        rows.append(row)
    print(
        f"LightGBM, 30,000 rows, 100 trees; predict 300,000 rows; {args.busy} busy processes ({args.kind});"
        f" medians of {args.repeats}"
    )
    print("| choice | train quiet s | train busy s | ratio | predict quiet s | predict busy s | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['choice']} | {row['train quiet']:.2f} | {row['train busy']:.2f} | "
            f"{row['train busy'] / row['train quiet']:.1f}× | {row['predict_300k quiet']:.2f} | "
            f"{row['predict_300k busy']:.2f} | {row['predict_300k busy'] / row['predict_300k quiet']:.1f}× |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
