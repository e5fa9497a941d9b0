"""Benchmark: `creditops run` end to end vs the original way (four processes, sklearn GBM, MLflow logging).

Both sides run on the same 30,000-row data in the same run, alternating, and report medians, twice:
with a new MLflow store (the first run of a project pays ~2 s of schema migrations, on both sides) and
with an existing, empty store (every later run). Run with `make bench` or
`python benchmarks/bench_pipeline.py --data PATH`.
"""

import argparse
import json
import os
import shutil
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


def empty_store(scratch: Path) -> Path:
    """An initialised MLflow SQLite store with no runs or models, to copy into each workspace."""
    database = scratch / "template" / "mlflow.db"
    database.parent.mkdir(parents=True)
    code = "import mlflow, sys; mlflow.MlflowClient(sys.argv[1]).search_experiments()"
    subprocess.run([sys.executable, "-c", code, f"sqlite:///{database}"], check=True, capture_output=True)
    return database


def _workspace(scratch: Path, store: Path | None) -> None:
    if store is not None:
        (scratch / "workspace").mkdir(parents=True, exist_ok=True)
        shutil.copy(store, scratch / "workspace" / "mlflow.db")


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
    with tempfile.TemporaryDirectory() as holder:
        template = empty_store(Path(holder))
        for label, store in (("new MLflow store per run", None), ("existing empty MLflow store", template)):
            ours, original = [], []
            for _ in range(args.repeats):
                for side, results in ((run_creditops, ours), (run_original, original)):
                    with tempfile.TemporaryDirectory() as scratch:
                        _workspace(Path(scratch), store)
                        results.append(side(data, Path(scratch)))
            _report(label, data, args.repeats, ours, original)


def _report(label: str, data: Path, repeats: int, ours: list[dict], original: list[dict]) -> None:
    ours_wall = statistics.median(r["wall"] for r in ours)
    original_wall = statistics.median(r["wall"] for r in original)
    print(f"## {label}: {data} ({repeats} runs each, medians)\n")
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
    print(f"test ROC AUC: creditops {ours[0]['roc_auc']:.4f} vs original {original[0]['roc_auc']:.4f}\n")


if __name__ == "__main__":
    main()
