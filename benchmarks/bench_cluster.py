"""Benchmark: training and scoring on a 2-worker Dask cluster beside the single-process commands, one run.

For each size (default 1 M and 10 M rows), in a fresh scratch folder: `creditops data synth` writes one
Parquet file, which is also rewritten as a folder of parts (1 M rows a file, 200,000-row row groups, the
layout the README recommends for a cluster). Then, each command its own process (waited for with wait4, so
its peak memory is the largest of it and the worker processes it started):

- `creditops run` on the file, and `creditops run --cluster local:2` on the folder (each its own store);
- `creditops score` of the file, and `creditops score --cluster local:2` of the folder, with the version the
  single-process run registered.

At the largest size, a scoring job whose data is larger than one worker's memory limit: a `dask scheduler`
and two `dask worker --memory-limit` processes started here, `creditops score --cluster ADDRESS` on the
folder, and each worker's own peak memory (wait4) against its limit.

Between sizes, the growth exponent log(t2/t1)/log(n2/n1); from the largest size, 100 M and 1 B rows on
paper. Run: `python benchmarks/bench_cluster.py [--rows 1000000,10000000] [--worker-limit-mb 600]`.
"""

import argparse
import itertools
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from bench_scaling import exponent, measure

ROW_BYTES = 25 * 8
"""One UCI row in memory: 25 numeric columns of 8 bytes."""
FILE_ROWS = 1_000_000
ROW_GROUP = 200_000


def write_parts(source: Path, folder: Path) -> int:
    """`source` as a folder of Parquet files of FILE_ROWS rows in ROW_GROUP-row groups; how many files."""
    folder.mkdir()
    reader = pq.ParquetFile(source)
    count = 0
    for count, batch in enumerate(reader.iter_batches(batch_size=FILE_ROWS), start=1):
        pq.write_table(
            pa.Table.from_batches([batch]),
            folder / f"part-{count:04d}.parquet",
            row_group_size=ROW_GROUP,
        )
    return count


def one_size(rows: int, scratch: Path) -> dict[str, float]:
    creditops = [sys.executable, "-m", "creditops"]
    data, parts = scratch / "portfolio.parquet", scratch / "parts"
    single, cluster = scratch / "single", scratch / "cluster"
    single.mkdir()
    cluster.mkdir()
    figures: dict[str, float] = {}
    synth = [*creditops, "data", "synth", "--rows", str(rows), "--seed", "29", "--output", str(data)]
    measure(synth, scratch)
    # in a process of its own: a process forked from a large one starts with its peak memory, so this one
    # stays small for the commands it starts to report their own
    split = [sys.executable, __file__, "--split", str(data), str(parts)]
    measure(split, scratch)
    figures["files"] = len(list(parts.glob("*.parquet")))
    run = [*creditops, "run", "--data", str(data), "--summary-json", str(single / "summary.json"), "--quiet"]
    figures["run_s"], figures["run_mb"], _ = measure(run, single)
    clustered = [*creditops, "run", "--data", str(parts), "--cluster", "local:2", "--quiet"]
    clustered += ["--summary-json", str(cluster / "summary.json")]
    figures["cluster_run_s"], figures["cluster_run_mb"], _ = measure(clustered, cluster)
    alone = json.loads((single / "summary.json").read_text())
    spread = json.loads((cluster / "summary.json").read_text())
    figures["auc"], figures["cluster_auc"] = alone["metrics"]["roc_auc"], spread["metrics"]["roc_auc"]
    uri = f"models:/credit_default_model/{alone['registration']['version']}"  # in the single run's store
    score = [*creditops, "score", "--model", uri, "--data", str(data), "--output", str(scratch / "scored.parquet")]
    figures["score_s"], figures["score_mb"], _ = measure([*score, "--no-logging"], single)
    spread_score = [*creditops, "score", "--model", uri, "--data", str(parts), "--output", str(scratch / "scored")]
    spread_score += ["--cluster", "local:2", "--no-logging"]
    figures["cluster_score_s"], figures["cluster_score_mb"], _ = measure(spread_score, single)
    return figures


def memory_bound_job(rows: int, scratch: Path, limit_mb: int) -> dict[str, float]:
    """Score `one_size`'s folder of parts in `scratch` on a scheduler and two workers of `limit_mb` each,
    started here as `dask scheduler` and `dask worker` processes: the time, and each worker's own peak (its
    worker process's own peak, asked of it before it stops) against its limit."""
    from creditops.processes import free_port

    address = f"tcp://127.0.0.1:{free_port()}"
    dask = str(Path(sys.executable).parent / "dask")
    port = address.rsplit(":", 1)[1]
    scheduler = _start([dask, "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard"])
    worker = [dask, "worker", address, "--nthreads", "1", "--memory-limit", f"{limit_mb}MiB", "--host", "127.0.0.1"]
    workers = [_start([*worker, "--no-dashboard"]) for _ in range(2)]
    figures: dict[str, float] = {"limit_mb": limit_mb, "data_mb": rows * ROW_BYTES / 2**20}
    try:
        from distributed import Client

        with Client(address, timeout=60) as client:  # type: ignore[no-untyped-call]
            client.wait_for_workers(2, timeout=60)
            score = [sys.executable, "-m", "creditops", "score", "--model", "models:/credit_default_model/1"]
            score += ["--data", str(scratch / "parts"), "--output", str(scratch / "bounded"), "--cluster", address]
            figures["seconds"], figures["command_mb"], _ = measure([*score, "--no-logging"], scratch / "single")
            peaks = sorted(client.run(_peak_mb).values())
    finally:
        for process in [*workers, scheduler]:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    figures["worker_1_mb"], figures["worker_2_mb"] = peaks
    return figures


def _peak_mb() -> float:
    """This process's peak resident memory in MB (run on each worker)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _start(command: list[str]) -> "subprocess.Popen[bytes]":
    """A process of its own group, its output dropped."""
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def on_paper(results: dict[int, dict[str, float]]) -> list[str]:
    """100 M and 1 B rows from the largest measured size and the last growth exponents (2 workers), and the
    workers that keep each one's share of the data, persisted for training, to about 4 GB."""
    sizes = sorted(results)
    if len(sizes) < 2:
        return ["(on paper needs two sizes)"]
    small, large = sizes[-2], sizes[-1]
    lines = []
    for target in (100_000_000, 1_000_000_000):
        row = [f"{target:,} rows"]
        for key in ("cluster_run_s", "cluster_score_s"):
            grow = exponent((small, results[small][key]), (large, results[large][key]))
            seconds = results[large][key] * (target / large) ** max(grow, 1.0)
            workers = max(2, math.ceil(target * ROW_BYTES * 2.5 / 4 / 2**30))
            row.append(
                f"{key.removeprefix('cluster_').removesuffix('_s')}: {seconds / 60:,.0f} min on 2 workers"
                f" (exponent {max(grow, 1.0):.2f}), ~{seconds / 60 * 2 / workers:,.1f} min on {workers} workers"
            )
        lines.append("; ".join(row))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", default="1000000,10000000", help="Sizes, comma-separated")
    parser.add_argument("--worker-limit-mb", type=int, default=600, help="Memory limit of each bounded worker")
    parser.add_argument("--split", nargs=2, metavar=("FILE", "FOLDER"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.split:
        write_parts(Path(arguments.split[0]), Path(arguments.split[1]))
        return
    sizes = [int(size) for size in arguments.rows.split(",")]
    results: dict[int, dict[str, float]] = {}
    largest = max(sizes)
    for rows in sizes:
        with tempfile.TemporaryDirectory(prefix=f"creditops-cluster-{rows}-") as scratch:
            results[rows] = one_size(rows, Path(scratch))
            print(f"{rows:>11,} rows measured", flush=True)
            if rows == largest:
                bounded = memory_bound_job(rows, Path(scratch), arguments.worker_limit_mb)
    print()
    print(
        "| rows | run s (1 process) | run --cluster local:2 s | ratio | run MB / cluster MB | ROC AUC 1 / cluster"
        " | score s | score --cluster s | ratio |"
    )
    print("|---:|---:|---:|---:|---|---|---:|---:|---:|")
    for rows, f in results.items():
        print(
            f"| {rows:,} | {f['run_s']:.1f} | {f['cluster_run_s']:.1f} | {f['cluster_run_s'] / f['run_s']:.2f} |"
            f" {f['run_mb']:,.0f} / {f['cluster_run_mb']:,.0f} | {f['auc']:.4f} / {f['cluster_auc']:.4f} |"
            f" {f['score_s']:.1f} | {f['cluster_score_s']:.1f} | {f['cluster_score_s'] / f['score_s']:.2f} |"
        )
    print()
    for small, large in itertools.pairwise(sorted(results)):
        keys = ("run_s", "cluster_run_s", "score_s", "cluster_score_s")
        parts = [f"{key} {exponent((small, results[small][key]), (large, results[large][key])):.2f}" for key in keys]
        print(f"growth exponent {small:,} → {large:,} rows: {', '.join(parts)}")
    print()
    print(
        f"scoring {largest:,} rows ({bounded['data_mb']:,.0f} MB in memory) on 2 workers limited to"
        f" {bounded['limit_mb']:,.0f} MB each: {bounded['seconds']:.1f} s; worker peaks"
        f" {bounded['worker_1_mb']:,.0f} MB and {bounded['worker_2_mb']:,.0f} MB;"
        f" the command {bounded['command_mb']:,.0f} MB"
    )
    print()
    for line in on_paper(results):
        print(f"on paper: {line}")


if __name__ == "__main__":
    main()
