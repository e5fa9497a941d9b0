"""Benchmark: the promotion gate on large holdouts (time and peak memory), beside the classic bootstrap.

Each size runs in its own process, so its peak memory (ru_maxrss) is its own: the gate (every check, the
Poisson bootstrap with 300 resamples) on a synthetic holdout with a candidate and a champion score, and,
where it fits in memory, the classic bootstrap (rows drawn with replacement, 300 × n indices) it replaced.
Run: `python benchmarks/bench_gate.py [--rows 30000,100000,1000000]`.
"""

import argparse
import json
import resource
import subprocess
import sys
import time

CLASSIC_LIMIT = 100_000
"""Above this, the classic bootstrap needs several GB (~21 MB per 1,000 rows): it is not run."""


def measure(rows: int, kind: str) -> dict[str, float]:
    import numpy as np

    from creditops.config.environments import GateSettings
    from creditops.data.contract import uci
    from creditops.data.synth import synthesize

    holdout = synthesize(rows, 11)
    labels = uci().labels(holdout)
    rng = np.random.default_rng(0)
    candidate = np.clip(0.3 * labels + rng.normal(0.3, 0.2, rows), 0, 1)
    champion = np.clip(0.28 * labels + rng.normal(0.3, 0.2, rows), 0, 1)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    if kind == "gate":
        from creditops.gate.checks import run_gate

        run_gate(
            holdout,
            labels,
            candidate,
            champion,
            GateSettings(),
            contract=uci(),
            threshold=0.5,
            champion_version="1",
            approval_required=False,
            approver=None,
        )
    else:
        from creditops.modelling.metrics import auc_by_row

        drawn = rng.integers(0, rows, size=(300, rows))
        auc_by_row(labels[drawn], candidate[drawn]) - auc_by_row(labels[drawn], champion[drawn])
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": seconds, "peak_mb": peak / 1024, "added_mb": (peak - before) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", default="30000,100000,1000000", help="Holdout sizes, comma-separated")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(int(args.child[0]), args.child[1])))
        return
    print("| holdout rows | what | seconds | peak MB (process) | MB added by it |")
    print("|---:|---|---:|---:|---:|")
    for rows in (int(size) for size in args.rows.split(",")):
        for kind in ("gate", "classic bootstrap"):
            if kind != "gate" and rows > CLASSIC_LIMIT:
                print(f"| {rows:,} | {kind} | not run (~{rows * 21 / 1000:,.0f} MB) | | |")
                continue
            done = subprocess.run(
                [sys.executable, __file__, "--child", str(rows), kind], capture_output=True, text=True, check=True
            )
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"| {rows:,} | {kind} | {figures['seconds']:.2f} | {figures['peak_mb']:,.0f} |"
                f" {figures['added_mb']:,.0f} |"
            )


if __name__ == "__main__":
    main()
