"""Benchmark: `creditops run` end to end vs the original way (four processes, sklearn GBM, MLflow logging).

Both sides start from a fresh MLflow store and the same 30,000-row data, in the same run, alternating,
and report medians. Run with `make bench` or `python benchmarks/bench_pipeline.py --data PATH`.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ORIGINAL_STEPS = ("data_prep", "train", "evaluate", "register")


def run_creditops(data: Path, scratch: Path) -> dict:
    """One `creditops run` in its own process; returns wall seconds, stage seconds and ROC AUC."""
    summary = scratch / "summary.json"
    started = time.perf_counter()
    _call(
        [sys.executable, "-m", "creditops", "run", "--data", str(data), "--summary-json", str(summary)],
        scratch,
    )
    wall = time.perf_counter() - started
    result = json.loads(summary.read_text())
    return {"wall": wall, "stages": result["seconds"], "roc_auc": result["metrics"]["roc_auc"]}


def run_original(data: Path, scratch: Path) -> dict:
    """The four step modules as four processes with the original flags and the original learner."""
    config = scratch / "modelling.json"
    config.write_text(
        json.dumps(
            {
                "data": {"data_file": data.name},
                "train": {"algorithm": "sklearn_gbm", "n_estimators": 100, "learning_rate": 0.05},
            }
        )
    )
    flags = {
        "data_prep": ["--data_input_dir", str(data.parent), "--data_output_dir", "prepared"],
        "train": ["--data_dir", "prepared", "--model_dir", "model"],
        "evaluate": ["--data_dir", "prepared", "--model_dir", "model", "--eval_dir", "eval"],
        "register": ["--model_dir", "model", "--eval_dir", "eval", "--registry_dir", "registry"],
    }
    stages = {}
    for step in ORIGINAL_STEPS:
        started = time.perf_counter()
        _call(
            [sys.executable, "-m", f"creditops.steps.{step}", *flags[step], "--config_file", str(config)],
            scratch,
        )
        stages[step] = time.perf_counter() - started
    metrics = json.loads((scratch / "eval" / "credit_default_eval.json").read_text())
    return {"wall": sum(stages.values()), "stages": stages, "roc_auc": metrics["roc_auc"]}


def _call(command: list[str], scratch: Path) -> None:
    env = {**os.environ, "CREDITOPS_WORKSPACE": str(scratch / "workspace")}
    env.pop("MLFLOW_TRACKING_URI", None)
    done = subprocess.run(command, cwd=scratch, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")


def _median_stages(results: list[dict]) -> dict[str, float]:
    return {stage: statistics.median(r["stages"][stage] for r in results) for stage in results[0]["stages"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="The 30,000-row data set")
    parser.add_argument("--repeats", type=int, default=3, help="Runs of each side (median reported)")
    args = parser.parse_args()
    data = args.data.resolve()
    ours, original = [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as scratch:
            ours.append(run_creditops(data, Path(scratch)))
        with tempfile.TemporaryDirectory() as scratch:
            original.append(run_original(data, Path(scratch)))

    ours_wall = statistics.median(r["wall"] for r in ours)
    original_wall = statistics.median(r["wall"] for r in original)
    print(f"data: {data} ({args.repeats} runs each, medians, fresh MLflow store per run)\n")
    print("| creditops run stage | seconds |")
    print("|---|---:|")
    for stage, seconds in _median_stages(ours).items():
        print(f"| {stage} | {seconds:.2f} |")
    print(f"| **end to end (one process, incl. start-up and imports)** | **{ours_wall:.2f}** |\n")
    print("| original way (4 processes, sklearn GBM 100 trees) | seconds |")
    print("|---|---:|")
    for stage, seconds in _median_stages(original).items():
        print(f"| {stage} | {seconds:.2f} |")
    print(f"| **end to end** | **{original_wall:.2f}** |\n")
    print(f"ratio creditops / original: {ours_wall / original_wall:.3f} (goal <= 0.25)")
    print(f"test ROC AUC: creditops {ours[0]['roc_auc']:.4f} vs original {original[0]['roc_auc']:.4f}")


if __name__ == "__main__":
    main()
