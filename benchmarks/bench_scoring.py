"""Benchmark: batch scoring of a 1,000,000-row portfolio, file to file, against LightGBM's own limit.

In one run, on the same rows and the same model: `Booster.predict` on the matrix already in memory (the
limit), `creditops score` end to end from a Parquet file to a Parquet file as a user runs it (its own
process, peak memory measured), and MLflow's way (`mlflow.pyfunc.load_model(...).predict` on the
DataFrame read from the same file). Run: `python benchmarks/bench_scoring.py [--rows 1000000]`.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    from creditops.context import Context
    from creditops.data.contract import uci
    from creditops.data.io import write_table
    from creditops.data.synth import synthesize
    from creditops.modelling.estimators import train_model
    from creditops.tracking.registry import save_model_dir

    scratch = Path(tempfile.mkdtemp(prefix="creditops-bench-scoring-"))
    frame = synthesize(args.rows, 17)
    data = write_table(frame, scratch / "portfolio.parquet")
    model = train_model(
        uci().feature_matrix(frame.head(30_000)),
        uci().labels(frame.head(30_000)),
        algorithm="lightgbm",
        params={"n_estimators": 100, "learning_rate": 0.05, "num_leaves": 7},
        seed=42,
        contract=uci(),
    )
    folder = save_model_dir(model, scratch / "model")
    matrix = np.ascontiguousarray(uci().feature_matrix(frame))
    del frame
    Context.local(scratch / "workspace")

    raw = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        model.estimator.predict(matrix, num_threads=2)
        raw.append(time.perf_counter() - started)

    from creditops.scoring.batch import score_file
    from creditops.serving.model import LoadedModel

    loaded = LoadedModel(model, "credit_default_model", "bench", str(folder))
    inside = []
    for number in range(args.repeats):
        started = time.perf_counter()
        score_file(loaded, data, scratch / f"inside-{number}.parquet")
        inside.append(time.perf_counter() - started)

    ours, peaks = [], []
    env = {**os.environ, "CREDITOPS_WORKSPACE": str(scratch / "workspace")}
    env.pop("MLFLOW_TRACKING_URI", None)
    for number in range(args.repeats):
        out = scratch / f"scored-{number}.parquet"
        command = [sys.executable, "-m", "creditops", "score", "--model", str(folder), "--data", str(data)]
        command += ["--output", str(out)]
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        ours.append(time.perf_counter() - started)
        peaks.append(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)

    import mlflow
    import pandas as pd

    theirs = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        pyfunc = mlflow.pyfunc.load_model(str(folder))
        pyfunc.predict(pd.read_parquet(data, columns=list(pyfunc.metadata.get_input_schema().input_names())))
        theirs.append(time.perf_counter() - started)

    limit, within, mine, mlflows = (statistics.median(values) for values in (raw, inside, ours, theirs))
    rows = args.rows
    print(f"batch scoring, {rows:,} rows, medians of {args.repeats} (this 2-core machine)")
    print("| path | seconds | rows/s | vs Booster.predict |")
    print("|---|---:|---:|---:|")
    print(f"| Booster.predict, matrix in memory, 2 threads (the limit) | {limit:.2f} | {rows / limit:,.0f} | 1.00× |")
    label = "creditops score_file, Parquet → Parquet (read, check, score, write)"
    print(f"| {label} | {within:.2f} | {rows / within:,.0f} | {limit / within:.2f}× |")
    label = "creditops score, the command (+ start-up, model load, batch record)"
    print(f"| {label} | {mine:.2f} | {rows / mine:,.0f} | {limit / mine:.2f}× |")
    label = "mlflow.pyfunc load + predict on the DataFrame read from Parquet"
    print(f"| {label} | {mlflows:.2f} | {rows / mlflows:,.0f} | {limit / mlflows:.2f}× |")
    print(f"creditops score peak memory (largest child, RSS): {max(peaks):,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
