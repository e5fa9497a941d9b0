"""Benchmark: `creditops serve` vs `mlflow models serve --env-manager local` vs a bare ASGI app.

Same registered model, same worker count, same request bodies, measured with wrk in one run:
requests/s and p50/p99 latency for 1-row and 100-row requests at 1 and 8 connections.
Needs `wrk` (Debian package). Run: `make bench-serving` or `python benchmarks/bench_serving.py`.
"""

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx

from creditops.config.modelling import ModellingConfig
from creditops.context import Context
from creditops.data.io import write_table
from creditops.data.schema import FEATURES
from creditops.data.synth import synthesize
from creditops.pipeline import run_pipeline
from creditops.processes import free_port

ROW = [20000, 2, 2, 1, 24, 2, 2, -1, -1, -2, -2, 3913, 3102, 689, 0, 0, 0, 0, 689, 0, 0, 0, 0]
BARE_APP = textwrap.dedent(
    """
    import sys
    from creditops.serving.server import bind, serve

    BODY = b'{"predictions": [{"class": 0, "probability": 0.1}]}'
    HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        more = True
        while more:
            more = (await receive()).get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        await send({"type": "http.response.body", "body": BODY})

    def fastapi_app():
        from fastapi import FastAPI
        from fastapi.responses import Response

        api = FastAPI()

        @api.post("/invocations")
        async def invocations() -> Response:
            return Response(BODY, media_type="application/json")

        return api

    target = fastapi_app() if sys.argv[3] == "fastapi" else app
    serve(lambda: target, bind("127.0.0.1", int(sys.argv[1])), int(sys.argv[2]))
    """
)


def request_body(rows: int) -> str:
    return json.dumps({"dataframe_split": {"columns": list(FEATURES), "data": [ROW] * rows}})


def wrk(url: str, body: str, connections: int, seconds: int, scratch: Path, key: str | None = None) -> dict:
    script = scratch / "post.lua"
    auth = f'wrk.headers["Authorization"] = "Bearer {key}"\n' if key else ""
    script.write_text(
        f'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n{auth}wrk.body = {json.dumps(body)}\n'
    )
    threads = min(connections, 2)
    done = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    )
    output = done.stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": _ms(re.search(r"\s50%\s+([\d.]+\w+)", output).group(1)),
        "p99": _ms(re.search(r"\s99%\s+([\d.]+\w+)", output).group(1)),
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
    }


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def start_endpoint(port: int, workers: int, model: str, env: dict, log: Path) -> tuple[list[str], str, str]:
    """A creditops endpoint with one deployment taking all traffic: the path a user calls. Its delete command,
    URL and key."""
    creditops = [sys.executable, "-m", "creditops", "endpoint"]
    name = "bench-endpoint"
    with log.open("w") as output:
        for command in (
            ["create", name, "--port", str(port), "--workers", str(workers)],
            ["deploy", name, "--deployment", "blue", "--model", model],
            ["traffic", name, "blue=100"],
        ):
            subprocess.run([*creditops, *command], env=env, check=True, stdout=output, stderr=subprocess.STDOUT)
    key = subprocess.run(
        [*creditops, "get-credentials", name], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    return [*creditops, "delete", name], f"http://127.0.0.1:{port}/invocations", key


def start(command: list[str], url: str, log: Path, env: dict) -> subprocess.Popen:
    process = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{' '.join(command)} exited:\n{log.read_text()[-2000:]}")
        try:
            if (
                httpx.post(url, content=request_body(1), headers={"content-type": "application/json"}).status_code
                == 200
            ):
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{' '.join(command)} did not answer within 120 s")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


async def _client(port: int, request: bytes, until: float, latencies: list[float]) -> None:
    """One keep-alive connection posting `request` until `until`; each answer's latency appended."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < until:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise SystemExit(f"not a 200: {head[:200]!r}")
            length = int(re.search(rb"content-length: (\d+)", head, re.IGNORECASE).group(1))
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
    finally:
        writer.close()


def python_load(port: int, path: str, body: bytes, content_type: str, connections: int, seconds: float) -> dict:
    """wrk's figures (requests/s, p50, p99) from an asyncio client: for machines without wrk. The client
    costs CPU too, so compare its figures with each other, not with wrk's."""
    request = (
        f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: {content_type}\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    ).encode() + body
    latencies: list[float] = []

    async def run() -> None:
        until = time.perf_counter() + seconds
        await asyncio.gather(*(_client(port, request, until, latencies) for _ in range(connections)))

    started = time.perf_counter()
    asyncio.run(run())
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "rps": len(ordered) / elapsed,
        "p50": 1000 * ordered[len(ordered) // 2],
        "p99": 1000 * ordered[int(len(ordered) * 0.99)],
        "errors": 0,
    }


def side_by_side(args: argparse.Namespace) -> None:
    """`creditops serve` of this tree against the same command run from `--baseline-src` (a copy of another
    tree's src/), both up at once and measured in alternation, so a noisy machine slows both alike. Medians
    of `--rounds` runs of each cell."""
    scratch = Path(tempfile.mkdtemp(prefix="creditops-bench-"))
    model_dir = scratch / "model"
    _small_model(model_dir)
    env = {**os.environ, "CREDITOPS_WORKSPACE": str(scratch / "workspace")}
    env.pop("MLFLOW_TRACKING_URI", None)
    trees = {"baseline": {**env, "PYTHONPATH": str(Path(args.baseline_src).resolve())}, "this tree": env}
    processes: dict[str, tuple[subprocess.Popen, int]] = {}
    try:
        for name, tree_env in trees.items():
            port = free_port()
            command = [sys.executable, "-m", "creditops", "serve", "--model", str(model_dir), "--port", str(port)]
            url = f"http://127.0.0.1:{port}/invocations"
            processes[name] = (start(command, url, scratch / f"{name.replace(' ', '-')}.log", tree_env), port)
        cells = [("/invocations", rows, connections) for rows in (1, 100) for connections in (1, 8)]
        results: dict[tuple[str, str, int, int], list[dict]] = {}
        for _round in range(args.rounds):
            for path, rows, connections in cells:
                for name, (_process, port) in processes.items():
                    body = request_body(rows).encode()
                    figures = python_load(port, path, body, "application/json", connections, args.seconds)
                    results.setdefault((name, path, rows, connections), []).append(figures)
        csv_body = (",".join(FEATURES) + "\n" + ",".join(map(str, ROW)) + "\n").encode()
        for connections in (1, 8):  # text/csv: new in this tree, shown beside the JSON figures
            port = processes["this tree"][1]
            for _round in range(args.rounds):
                figures = python_load(port, "/invocations", csv_body, "text/csv", connections, args.seconds)
                results.setdefault(("this tree, text/csv", "/invocations", 1, connections), []).append(figures)
    finally:
        for process, _port in processes.values():
            stop(process)
    print(f"medians of {args.rounds} runs of {args.seconds} s, asyncio client, 1 worker each, alternating\n")
    print("| server | route | rows | connections | requests/s | p50 ms | p99 ms |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for (name, path, rows, connections), runs in results.items():
        rps, p50, p99 = (statistics.median(run[key] for run in runs) for key in ("rps", "p50", "p99"))
        print(f"| {name} | {path} | {rows} | {connections} | {rps:,.0f} | {p50:.3f} | {p99:.3f} |")
    for path, rows, connections in cells:
        before = statistics.median(run["rps"] for run in results["baseline", path, rows, connections])
        after = statistics.median(run["rps"] for run in results["this tree", path, rows, connections])
        print(f"{path} {rows} row(s), {connections} connection(s): this tree / baseline = {after / before:.3f}")
    shutil.rmtree(scratch, ignore_errors=True)


def _small_model(target: Path) -> None:
    """A LightGBM model of the size the full benchmark trains, saved as a model folder (no store needed)."""
    from creditops.data.contract import uci
    from creditops.modelling.estimators import train_model
    from creditops.tracking.registry import save_model_dir

    frame = synthesize(30_000, 2005)
    contract = uci()
    params = {"n_estimators": 200, "learning_rate": 0.05, "num_leaves": 31}
    features, labels = contract.feature_matrix(frame), contract.labels(frame)
    model = train_model(features, labels, algorithm="lightgbm", params=params, seed=0, contract=contract)
    save_model_dir(model, target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=1, help="Worker processes of every server")
    parser.add_argument("--seconds", type=int, default=5, help="Duration of each wrk run")
    parser.add_argument(
        "--baseline-src",
        default=None,
        help="A copy of another tree's src/: measure its `creditops serve` beside this tree's (no wrk needed)",
    )
    parser.add_argument("--rounds", type=int, default=5, help="Alternating runs per cell with --baseline-src")
    args = parser.parse_args()
    if args.baseline_src:
        side_by_side(args)
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (or compare two trees with --baseline-src)")
    scratch = Path(tempfile.mkdtemp(prefix="creditops-bench-"))
    env = {**os.environ, "CREDITOPS_WORKSPACE": str(scratch / "workspace"), "MLFLOW_TRACKING_URI": ""}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    os.environ.update({"CREDITOPS_WORKSPACE": env["CREDITOPS_WORKSPACE"]})
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    data = write_table(synthesize(30_000, 2005), scratch / "data.parquet")
    run_pipeline(data, ModellingConfig(), Context.local(scratch / "workspace"))
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{scratch / 'workspace' / 'mlflow.db'}"
    (scratch / "bare_app.py").write_text(BARE_APP)

    model = "models:/credit_default_model/1"
    servers = {}
    port = free_port()
    servers["creditops serve"] = (
        [
            sys.executable,
            "-m",
            "creditops",
            "serve",
            "--model",
            model,
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ],
        f"http://127.0.0.1:{port}/invocations",
    )
    port = free_port()
    servers["creditops serve + request log"] = (
        [
            *(sys.executable, "-m", "creditops", "serve", "--model", model, "--port", str(port)),
            *("--workers", str(args.workers), "--request-log", str(scratch / "requests")),
        ],
        f"http://127.0.0.1:{port}/invocations",
    )
    port = free_port()
    servers["mlflow models serve"] = (
        ["mlflow", "models", "serve", "-m", model, "--env-manager", "local", "-p", str(port), "-w", str(args.workers)],
        f"http://127.0.0.1:{port}/invocations",
    )
    for kind, label in (("raw", "bare ASGI app (constant)"), ("fastapi", "FastAPI app (constant)")):
        port = free_port()
        servers[label] = (
            [sys.executable, str(scratch / "bare_app.py"), str(port), str(args.workers), kind],
            f"http://127.0.0.1:{port}/invocations",
        )
    results = {}
    delete, url, key = start_endpoint(free_port(), args.workers, model, env, scratch / "endpoint.log")
    try:
        for rows in (1, 100):
            for connections in (1, 8):
                results["creditops endpoint", rows, connections] = wrk(
                    url, request_body(rows), connections, args.seconds, scratch, key
                )
    finally:
        subprocess.run(delete, env=env, check=True, capture_output=True)
    for name, (command, url) in servers.items():
        process = start(command, url, scratch / f"{name.split()[0]}.log", env)
        try:
            for rows in (1, 100):
                for connections in (1, 8):
                    results[name, rows, connections] = wrk(url, request_body(rows), connections, args.seconds, scratch)
            if name == "creditops serve":  # the same server, asked for 3 reason codes per row
                for connections in (1, 8):
                    explained = wrk(f"{url}?explain=3", request_body(1), connections, args.seconds, scratch)
                    results["creditops serve ?explain=3", 1, connections] = explained
        finally:
            stop(process)

    print(f"workers: {args.workers}; wrk {args.seconds} s per cell; body: MLflow dataframe_split to /invocations\n")
    print("| server | rows | connections | requests/s | p50 ms | p99 ms | non-2xx |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for (name, rows, connections), r in results.items():
        print(
            f"| {name} | {rows} | {connections} | {r['rps']:,.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['errors']} |"
        )
    for connections in (1, 8):
        ours = results["creditops serve", 1, connections]["rps"]
        mlflow = results["mlflow models serve", 1, connections]["rps"]
        bare = results["bare ASGI app (constant)", 1, connections]["rps"]
        framework = results["FastAPI app (constant)", 1, connections]["rps"]
        print(
            f"\n1-row, {connections} connection(s): creditops / mlflow = {ours / mlflow:.1f}x (goal >= 10x); "
            f"bare ASGI / creditops = {bare / ours:.2f}, FastAPI constant / creditops = {framework / ours:.2f}"
            " (goal <= 2)"
        )
        logged = results["creditops serve + request log", 1, connections]["rps"]
        print(f"request log (every request logged) / no log = {logged / ours:.2f}")
    for connections in (1, 8):
        explained = results["creditops serve ?explain=3", 1, connections]["rps"]
        plain = results["creditops serve", 1, connections]["rps"]
        print(f"1-row, {connections} connection(s): with 3 reason codes / without = {explained / plain:.2f}")
    for rows in (1, 100):
        for connections in (1, 8):
            endpoint = results["creditops endpoint", rows, connections]
            logged = results["creditops serve + request log", rows, connections]
            plain = results["creditops serve", rows, connections]
            print(
                f"endpoint / creditops serve, {rows} row(s), {connections} connection(s):"
                f" {endpoint['rps'] / logged['rps']:.2f} (both logging requests; goal >= 0.7),"
                f" {endpoint['rps'] / plain['rps']:.2f} (serve without a log); endpoint p99 {endpoint['p99']:.2f} ms"
            )
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
