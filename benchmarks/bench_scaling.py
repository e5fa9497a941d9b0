"""Benchmark: the same commands on 30 k, 300 k, 1 M and 10 M rows, with time, peak memory and growth.

For each size, in a fresh scratch folder: `creditops data synth` (Parquet, drawn in chunks above 1 M
rows), `creditops run` on it (a new embedded store, so every size pays the same migrations), and
`creditops score` of the whole file with the version it registered. Each command is its own process,
waited for with wait4, so its peak memory (ru_maxrss) is its own. Between consecutive sizes the growth
exponent is log(t2/t1)/log(n2/n1): 1 is linear, below 1 means fixed costs still dominate.
Run: `python benchmarks/bench_scaling.py [--rows 30000,300000,1000000,10000000]`; the goals of
issue 18 are printed beside the figures.
"""

import argparse
import itertools
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOALS = {
    1_000_000: {"run": (12.0, 1_536)},
    10_000_000: {"run": (120.0, 8_192)},
}
"""Seconds and MB each command may take at a size (issue 18)."""


def measure(command: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB and stdout of one process."""
    environ = {**os.environ, "CREDITOPS_HOME": str(cwd / ".creditops"), "COLUMNS": "160"}
    environ.pop("MLFLOW_TRACKING_URI", None)
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, cwd=cwd, env=environ, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        text = out.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{text[-3000:]}")
    return seconds, usage.ru_maxrss / 1024, text


def one_size(rows: int, scratch: Path) -> dict[str, float]:
    creditops = [sys.executable, "-m", "creditops"]
    data, summary, scored = scratch / "portfolio.parquet", scratch / "summary.json", scratch / "scored.parquet"
    figures: dict[str, float] = {}
    synth = [*creditops, "data", "synth", "--rows", str(rows), "--seed", "18", "--output", str(data)]
    figures["synth_s"], figures["synth_mb"], _ = measure(synth, scratch)
    run = [*creditops, "run", "--data", str(data), "--summary-json", str(summary), "--quiet"]
    figures["run_s"], figures["run_mb"], _ = measure(run, scratch)
    result = json.loads(summary.read_text())
    figures.update({f"stage_{name}": seconds for name, seconds in result["seconds"].items()})
    model = f"models:/credit_default_model/{result['registration']['version']}"
    score = [*creditops, "score", "--model", model, "--data", str(data), "--output", str(scored), "--no-logging"]
    figures["score_s"], figures["score_mb"], _ = measure(score, scratch)
    return figures


def exponent(small: tuple[int, float], large: tuple[int, float]) -> float:
    return math.log(large[1] / small[1]) / math.log(large[0] / small[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", default="30000,300000,1000000,10000000", help="Sizes, comma-separated")
    parser.add_argument("--keep", action="store_true", help="Keep the scratch folders")
    arguments = parser.parse_args()
    sizes = [int(size) for size in arguments.rows.split(",")]
    results: dict[int, dict[str, float]] = {}
    for rows in sizes:
        scratch = Path(tempfile.mkdtemp(prefix=f"creditops-scaling-{rows}-"))
        try:
            results[rows] = one_size(rows, scratch)
        finally:
            if not arguments.keep:
                shutil.rmtree(scratch, ignore_errors=True)
        figures = results[rows]
        print(f"{rows:>11,} rows measured: run {figures['run_s']:.1f} s / {figures['run_mb']:,.0f} MB", flush=True)
    print()
    print("| rows | synth s | synth MB | `creditops run` s | run MB | goal | score s | score MB | stages (s) |")
    print("|---:|---:|---:|---:|---:|---|---:|---:|---|")
    for rows, figures in results.items():
        goal = GOALS.get(rows, {}).get("run")
        verdict = ""
        if goal is not None:
            met = figures["run_s"] <= goal[0] and figures["run_mb"] <= goal[1]
            verdict = f"≤ {goal[0]:g} s, ≤ {goal[1]:,} MB: {'met' if met else 'missed'}"
        stages = ", ".join(f"{name[6:]} {value:.1f}" for name, value in figures.items() if name.startswith("stage_"))
        cells = [f"{rows:,}", *(f"{figures[key]:,.1f}" for key in ("synth_s", "synth_mb", "run_s", "run_mb"))]
        cells += [verdict, f"{figures['score_s']:.1f}", f"{figures['score_mb']:,.0f}", stages]
        print(f"| {' | '.join(cells)} |")
    print()
    ordered = sorted(results)
    for small, large in itertools.pairwise(ordered):
        parts = []
        for key in ("run_s", "run_mb", "score_s", "score_mb"):
            parts.append(f"{key} {exponent((small, results[small][key]), (large, results[large][key])):.2f}")
        print(f"growth exponent {small:,} → {large:,} rows: {', '.join(parts)}")


if __name__ == "__main__":
    main()
