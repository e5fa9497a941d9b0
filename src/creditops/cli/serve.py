"""`creditops serve` and `creditops smoke-test`: one scoring server, and a smoke test of any endpoint."""

from pathlib import Path
from typing import Annotated

import typer

from creditops.cli.app import RequestFile, api_key, app, console, context_for, errors
from creditops.serving.protocol import OnInvalid


@app.command()
def serve(
    model: Annotated[str, typer.Option(help="models:/NAME@ALIAS, models:/NAME/VERSION or a model folder")],
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on")] = 5001,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes")] = 1,
    api_key_env: Annotated[
        str | None, typer.Option(help="Require 'Authorization: Bearer <key>' with the key from this variable")
    ] = None,
    deployment: Annotated[str, typer.Option(help="Deployment name reported in answers")] = "default",
    max_body_bytes: Annotated[int, typer.Option(min=1, help="Largest request body (413 above)")] = 1_048_576,
    max_rows: Annotated[int, typer.Option(min=1, help="Most rows per request (413 above)")] = 10_000,
    request_log: Annotated[
        Path | None, typer.Option(help="Folder for the rotating request log (for drift monitoring)")
    ] = None,
    log_sample_rate: Annotated[float, typer.Option(min=0, max=1, help="Share of requests logged")] = 1.0,
    request_log_max_mb: Annotated[
        int, typer.Option(min=1, help="Cap on the request log folder: all processes, all time (oldest go first)")
    ] = 200,
    on_invalid: Annotated[
        OnInvalid,
        typer.Option(
            help="reject: rows out of range or with unknown codes are a 422; flag: they are scored with warnings"
        ),
    ] = "reject",
) -> None:
    """Serve a model over HTTP: /score (Azure ML and MLflow formats), /invocations, /health, /metrics."""
    from creditops.serving.app import ServiceSettings, create_app
    from creditops.serving.loading import load_for_serving
    from creditops.serving.server import bind
    from creditops.serving.server import serve as run

    log_folder = None if request_log is None else str(request_log)
    key = api_key(api_key_env)
    settings = ServiceSettings(
        deployment,
        key,
        max_body_bytes,
        max_rows,
        log_folder,
        log_sample_rate,
        on_invalid,
        request_log_max_mb * 1_000_000,
    )
    loaded = load_for_serving(context_for().store_uri, model)
    sock = bind(host, port)
    errors.print(
        f"serving {loaded.name} version {loaded.version} as '{deployment}' on http://{host}:{port}"
        f" with {workers} worker(s)",
        highlight=False,
    )
    run(lambda: create_app(loaded, settings), sock, workers)


@app.command("smoke-test")
def smoke_test_command(
    url: Annotated[str, typer.Option(help="Endpoint or scoring URL, e.g. http://127.0.0.1:5001")],
    request_file: RequestFile = None,
    api_key_env: Annotated[str | None, typer.Option(help="Variable holding the API key")] = None,
    deployment: Annotated[str | None, typer.Option(help="Send to this deployment (header routing)")] = None,
    max_latency_ms: Annotated[float, typer.Option(min=0.001, help="Latency budget")] = 1_000.0,
    expected_version: Annotated[str | None, typer.Option(help="Model version the answer must report")] = None,
) -> None:
    """Smoke-test any scoring endpoint; exit 1 when a check fails."""
    from creditops.endpoints.smoke import read_request, smoke_test
    from creditops.views import smoke_report

    report = smoke_test(
        url,
        read_request(request_file),
        api_key=api_key(api_key_env),
        deployment=deployment,
        max_latency_ms=max_latency_ms,
        expected_version=expected_version,
    )
    console.print(smoke_report(report))
    if not report.passed:
        raise typer.Exit(1)
