"""The creditops command line: parses options, calls one function, prints with rich."""

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from creditops import __version__
from creditops.errors import CreditopsError

app = typer.Typer(
    name="creditops",
    help="Train, evaluate, register, serve and promote the credit-default model.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
EnvOption = Annotated[str, typer.Option("--env", help="dev, staging or prod")]


def _use_environment(
    env: Annotated[
        str | None, typer.Option("--env", help="Work in the store and workspace of dev, staging or prod")
    ] = None,
) -> None:
    """Act on the local workspace, or on an environment's store and endpoints with --env."""
    if env is not None:
        from creditops.config.environments import activate, load_environment

        activate(load_environment(env))


def _group(name: str, help_text: str, *, environment_option: bool = False) -> typer.Typer:
    group = typer.Typer(help=help_text, no_args_is_help=True)
    app.add_typer(group, name=name, callback=_use_environment if environment_option else None)
    return group


data_app = _group("data", "Synthesize and check data sets.")
models_app = _group("models", "Registered model versions, aliases and lineage.", environment_option=True)
config_app = _group("config", "The modelling config.")
endpoint_app = _group(
    "endpoint",
    "Local online endpoints with blue/green deployments (like az ml online-endpoint).",
    environment_option=True,
)
env_app = _group("env", "The dev, staging and prod environments.")
gate_app = _group("gate", "The promotion gate and its evidence.")
ci_app = _group("ci", "The pipelines CI runs, run the same way by a person.")
azure_app = _group("azure", "Azure ML as the scale-out target.")
monitor_app = _group("monitor", "Watch live traffic for drift.")

console = Console()
errors = Console(stderr=True)

SAMPLE_REQUEST = Path(__file__).parent / "serving" / "sample_request.json"
RequestFile = Annotated[Path, typer.Option("--request-file", help="JSON scoring request")]


@app.command()
def version() -> None:
    """Print the creditops version."""
    console.print(__version__)


@app.command()
def run(
    config: Annotated[
        Path | None, typer.Option(help="Modelling config JSON; the embedded defaults when omitted")
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(help="Input data (.csv/.parquet/.xlsx/.xls); default <workspace>/data/<data_file>"),
    ] = None,
    no_logging: Annotated[bool, typer.Option("--no-logging", help="Do not log to MLflow")] = False,
    summary_json: Annotated[
        Path | None, typer.Option(help="Also write the run summary (stages, metrics, version) as JSON")
    ] = None,
) -> None:
    """Run the training pipeline: check data, prep, train, evaluate vs champion, register."""
    from creditops.config.modelling import load_modelling_config
    from creditops.files import write_json
    from creditops.pipeline import STAGES, run_pipeline
    from creditops.views import pipeline_summary
    from creditops.workspace import workspace_root

    settings = load_modelling_config(config)
    source = data or workspace_root() / "data" / settings.data.data_file
    if not source.is_file():
        raise CreditopsError(
            f"data file not found: {source}; create it with "
            f"'creditops data synth --rows 30000 --seed 2005 --output {source}' or pass --data"
        )
    with console.status("starting") as status:

        def show(stage: str, seconds: float | None) -> None:
            if seconds is None:
                position = STAGES.index(stage) + 1
                status.update(f"[{position}/{len(STAGES)}] {stage}")
            else:
                console.print(f"[green]✓[/green] {stage} [dim]{seconds:.2f}s[/dim]")

        result = run_pipeline(source, settings, tracking=not no_logging, on_stage=show)
    console.print(pipeline_summary(result))
    if summary_json is not None:
        write_json(summary_json, result.as_dict())


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
) -> None:
    """Serve a model over HTTP: /score (Azure ML and MLflow formats), /invocations, /health, /metrics."""
    from creditops.serving.app import ServiceSettings, create_app
    from creditops.serving.loading import load_for_serving
    from creditops.serving.server import bind
    from creditops.serving.server import serve as run
    from creditops.tracking.store import tracking_uri

    log_folder = None if request_log is None else str(request_log)
    settings = ServiceSettings(deployment, _api_key(api_key_env), max_body_bytes, max_rows, log_folder, log_sample_rate)
    loaded = load_for_serving(tracking_uri(), model)
    sock = bind(host, port)
    errors.print(
        f"serving {loaded.name} version {loaded.version} as '{deployment}' on http://{host}:{port}"
        f" with {workers} worker(s)",
        highlight=False,
    )
    run(lambda: create_app(loaded, settings), sock, workers)


@app.command()
def report(
    model: Annotated[str, typer.Argument(help="models:/NAME/VERSION or models:/NAME@ALIAS")],
    out: Annotated[Path | None, typer.Option(help="HTML file; default <workspace>/reports/NAME-vN.html")] = None,
    data: Annotated[
        Path | None, typer.Option(help="Data to judge it on; default the test split of its training data")
    ] = None,
) -> None:
    """Write the model card: one self-contained HTML file."""
    from creditops.report.build import card_for_version
    from creditops.tracking.store import tracking_uri

    console.print(f"wrote {card_for_version(tracking_uri(), model, data, out)}")


@app.command("smoke-test")
def smoke_test_command(
    url: Annotated[str, typer.Option(help="Endpoint or scoring URL, e.g. http://127.0.0.1:5001")],
    request_file: RequestFile = SAMPLE_REQUEST,
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
        api_key=_api_key(api_key_env),
        deployment=deployment,
        max_latency_ms=max_latency_ms,
        expected_version=expected_version,
    )
    console.print(smoke_report(report))
    if not report.passed:
        raise typer.Exit(1)


@endpoint_app.command("create")
def endpoint_create(
    name: Annotated[str, typer.Argument(help="Endpoint name")],
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port; a free one when omitted")] = None,
    auth: Annotated[str, typer.Option(help="key (Bearer key required) or none")] = "key",
) -> None:
    """Create an endpoint: one address that routes to its deployments."""
    from creditops.endpoints import manager

    endpoint = manager.create(name, port, auth)
    console.print(f"endpoint {name} listening on {endpoint.url} (auth: {auth})")


@endpoint_app.command("deploy")
def endpoint_deploy(
    name: Annotated[str, typer.Argument(help="Endpoint name")],
    deployment: Annotated[str, typer.Option(help="Deployment name, e.g. blue")],
    model: Annotated[str, typer.Option(help="models:/NAME@ALIAS, models:/NAME/VERSION or a model folder")],
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes")] = 1,
) -> None:
    """Start (or replace) a deployment; a new one gets 0% traffic."""
    from creditops.endpoints import manager

    started = manager.deploy(name, deployment, model, workers)
    console.print(
        f"deployment {deployment} serves model version {started.model_version} on port {started.port};"
        f" give it traffic with 'creditops endpoint traffic {name} {deployment}=100'"
    )


@endpoint_app.command("traffic")
def endpoint_traffic(
    name: Annotated[str, typer.Argument(help="Endpoint name")],
    weights: Annotated[list[str], typer.Argument(help="DEP=PCT pairs summing to 100")],
) -> None:
    """Set the traffic split."""
    from creditops.endpoints import manager

    parsed = {}
    for pair in weights:
        deployment, _, percent = pair.partition("=")
        if not deployment or not percent.strip().isdigit():
            raise CreditopsError(f"traffic {pair!r} is not DEP=PCT (e.g. blue=90)")
        parsed[deployment] = int(percent)
    endpoint = manager.set_traffic(name, parsed)
    console.print(", ".join(f"{dep}={pct}%" for dep, pct in endpoint.traffic.items()))


@endpoint_app.command("invoke")
def endpoint_invoke(
    name: Annotated[str, typer.Argument(help="Endpoint name")],
    request_file: RequestFile = SAMPLE_REQUEST,
    deployment: Annotated[str | None, typer.Option(help="Send to this deployment (header routing)")] = None,
    data: Annotated[
        Path | None, typer.Option(help="Send every row of this data file instead (batches of 500 rows)")
    ] = None,
) -> None:
    """Send a scoring request (or a whole data file) to the endpoint and print the answer."""
    from creditops.endpoints import manager
    from creditops.endpoints.smoke import read_request

    if data is not None:
        scored, mean = manager.send_rows(name, data, deployment)
        console.print(f"{name} scored {scored:,} rows from {data}: mean probability of default {mean:.3f}")
        return
    answer = manager.invoke(name, read_request(request_file), deployment)
    console.print_json(answer.text)
    if answer.status_code != 200:
        raise typer.Exit(1)


@endpoint_app.command("show")
def endpoint_show(name: Annotated[str, typer.Argument(help="Endpoint name")]) -> None:
    """Show the endpoint, its deployments, traffic and health."""
    from creditops.endpoints import manager
    from creditops.views import endpoint_detail

    endpoint, report = manager.health(name)
    console.print(endpoint_detail(endpoint, report))


@endpoint_app.command("get-credentials")
def endpoint_credentials(name: Annotated[str, typer.Argument(help="Endpoint name")]) -> None:
    """Print the endpoint's API key (send it as 'Authorization: Bearer <key>')."""
    from creditops.endpoints import state

    state.load(name)
    key = state.read_key(name)
    if key is None:
        raise CreditopsError(f"endpoint {name} uses no key (auth none)")
    console.print(key, highlight=False, soft_wrap=True)


@endpoint_app.command("list")
def endpoint_list() -> None:
    """List the endpoints in this workspace."""
    from creditops.endpoints import state
    from creditops.views import endpoints_table

    console.print(endpoints_table([state.load(name) for name in state.names()]))


@endpoint_app.command("start")
def endpoint_start(name: Annotated[str, typer.Argument(help="Endpoint name")]) -> None:
    """Bring an endpoint back after a restart, with the same deployments and weights."""
    from creditops.endpoints import manager

    endpoint = manager.start(name)
    console.print(f"endpoint {name} on {endpoint.url}: " + ", ".join(f"{d}={p}%" for d, p in endpoint.traffic.items()))


@endpoint_app.command("delete")
def endpoint_delete(name: Annotated[str, typer.Argument(help="Endpoint name")]) -> None:
    """Stop every process of the endpoint and free its port."""
    from creditops.endpoints import manager

    manager.delete(name)
    console.print(f"endpoint {name} deleted")


@endpoint_app.command("rollout")
def endpoint_rollout(
    name: Annotated[str, typer.Argument(help="Endpoint name")],
    model: Annotated[str, typer.Option(help="models:/NAME@ALIAS, models:/NAME/VERSION or a model folder")],
    steps: Annotated[str, typer.Option(help="Traffic percentages for the new deployment")] = "10,50,100",
    request_file: RequestFile = SAMPLE_REQUEST,
    max_p99_ms: Annotated[float, typer.Option(help="Latency budget at each step")] = 250.0,
    max_error_rate: Annotated[float, typer.Option(min=0, max=1, help="Error budget at each step")] = 0.01,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes")] = 1,
) -> None:
    """Blue/green rollout with smoke test, stepwise traffic shift and automatic rollback."""
    from creditops.endpoints import manager
    from creditops.endpoints.smoke import read_request

    try:
        percentages = tuple(int(step) for step in steps.split(","))
    except ValueError as error:
        raise CreditopsError(f"--steps must be percentages like 10,50,100, not {steps!r}") from error
    deployed = manager.rollout(
        name,
        model,
        read_request(request_file),
        percentages,
        max_error_rate=max_error_rate,
        max_p99_ms=max_p99_ms,
        workers=workers,
        say=console.print,
    )
    console.print(f"[green]rollout done[/green]: {deployed.name} serves model version {deployed.model_version}")


@endpoint_app.command("rollback")
def endpoint_rollback(
    name: Annotated[str, typer.Argument(help="Endpoint name")],
    request_file: RequestFile = SAMPLE_REQUEST,
) -> None:
    """Return to the previous deployment's model (smoke-tested, blue/green)."""
    from creditops.endpoints import manager
    from creditops.endpoints.smoke import read_request

    deployed = manager.rollback(name, read_request(request_file), say=console.print)
    console.print(f"rolled back: {deployed.name} serves model version {deployed.model_version}")


@env_app.command("show")
def env_show(name: Annotated[str, typer.Argument(help="dev, staging or prod")]) -> None:
    """Print an environment's resolved settings."""
    from creditops.config.environments import activate, load_environment
    from creditops.tracking.store import tracking_uri

    environment = load_environment(name)
    workspace = activate(environment)
    resolved = {**environment.model_dump(mode="json"), "workspace": str(workspace), "tracking_uri": tracking_uri()}
    console.print_json(json.dumps(resolved))


@env_app.command("data")
def env_data(name: Annotated[str, typer.Argument(help="dev, staging or prod")]) -> None:
    """Create the environment's data set (its own rows and seed) if it is absent."""
    from creditops.flow.release import ensure_data, open_environment

    path = ensure_data(open_environment(name), say=console.print)
    console.print(f"{name} data: {path}")


@gate_app.command("report")
def gate_report(
    version: Annotated[str, typer.Argument(help="Model version")],
    env: EnvOption = "prod",
) -> None:
    """Print the newest evidence record of a version's gate decision."""
    from creditops.flow.release import gate_report as report
    from creditops.views import evidence_table

    record = report(env, version)
    console.print(evidence_table(record))


@gate_app.command("pending")
def gate_pending(env: EnvOption = "prod") -> None:
    """Print the version awaiting approval in an environment (exit 1 when none)."""
    from creditops.flow.release import pending_candidate

    console.print(pending_candidate(env), highlight=False)


@app.command()
def approve(
    env: EnvOption,
    version: Annotated[str, typer.Option(help="Model version to approve")],
    by: Annotated[str, typer.Option(help="Who approves")],
    reason: Annotated[str, typer.Option(help="Why")],
) -> None:
    """Record a person's approval of a version for an environment."""
    from creditops.flow.release import approve as record

    info = record(env, version, by, reason)
    console.print(f"approved {info.name} version {info.version} for {env} by {by} at {info.tags['approval.at']}")


@app.command()
def promote(
    env: EnvOption,
    version: Annotated[str, typer.Option(help="Model version to promote")],
) -> None:
    """Run the gate, roll the version out blue/green on the environment's endpoint, move `champion`."""
    from creditops.flow.release import promote as run

    run(env, version, say=console.print)


@app.command()
def rollback(env: EnvOption) -> None:
    """Restore the previous champion and its traffic, smoke-tested."""
    from creditops.flow.release import rollback as run

    run(env, say=console.print)


@ci_app.command("pr-validation")
def ci_pr_validation(
    reports: Annotated[Path, typer.Option(help="Folder for JUnit and coverage XML")] = Path("reports"),
    skip: Annotated[str, typer.Option(help="Comma-separated stages to skip")] = "",
) -> None:
    """Lint, security scan, unit tests, integration test and a smoke test on an ephemeral endpoint."""
    from creditops.flow.pr_validation import run_pr_validation
    from creditops.views import stages_table

    skipped = tuple(stage.strip() for stage in skip.split(",") if stage.strip())
    results = run_pr_validation(Path.cwd(), reports, skip=skipped, say=console.print)
    console.print(stages_table(results))
    if not all(result.passed for result in results):
        raise typer.Exit(1)


@ci_app.command("release")
def ci_release(env: EnvOption = "prod") -> None:
    """Retrain with this code on the environment's data, gate, and promote once approved.

    Exit 3 means: awaiting approval (the message names the command that approves).
    """
    from creditops.flow.release import release

    release(env, say=console.print)


@azure_app.command("render")
def azure_render(
    env: EnvOption,
    out: Annotated[Path, typer.Option(help="Folder for the Azure ML specs")] = Path("azureml"),
) -> None:
    """Write Azure ML CLI v2 specs (compute, environment, data, pipeline, endpoints) for an environment."""
    from creditops.azure.render import render
    from creditops.config.environments import load_environment
    from creditops.config.modelling import load_modelling_config

    environment = load_environment(env)
    modelling = load_modelling_config(Path(environment.modelling_config) if environment.modelling_config else None)
    for path in render(environment, modelling, Path.cwd(), out):
        console.print(f"wrote {path}")


@azure_app.command("submit")
def azure_submit(
    specs: Annotated[Path, typer.Option(help="Folder written by 'creditops azure render'")] = Path("azureml"),
) -> None:
    """Submit the rendered training pipeline to the Azure ML workspace named by the environment."""
    from creditops.azure.submit import submit

    console.print(f"submitted: {submit(specs)}")


@monitor_app.command("drift")
def monitor_drift(
    env: EnvOption,
    since: Annotated[str, typer.Option(help="How far back to look: 30m, 6h, 2d")] = "24h",
) -> None:
    """Compare recent traffic with the training reference; exit 4 when drift exceeds the thresholds."""
    from creditops.flow.monitoring import DRIFT_EXIT, check_drift
    from creditops.views import drift_table

    result = check_drift(env, _seconds(since))
    console.print(drift_table(result.report))
    console.print(f"drift page: {result.page}")
    if result.report.drifted:
        raise typer.Exit(DRIFT_EXIT)


def _seconds(duration: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = duration[:-1], duration[-1:]
    if unit not in units or not number.replace(".", "", 1).isdigit():
        raise CreditopsError(f"--since {duration!r} is not a duration like 30m, 6h or 2d")
    return float(number) * units[unit]


def _api_key(variable: str | None) -> str | None:
    if variable is None:
        return None
    import os

    key = os.environ.get(variable, "")
    if not key:
        raise CreditopsError(f"environment variable {variable} is empty or not set: export the API key there")
    return key


@data_app.command("synth")
def data_synth(
    output: Annotated[Path, typer.Option(help="Output file: .csv, .parquet or .xlsx")],
    rows: Annotated[int, typer.Option(min=1, help="Number of customers")] = 30_000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data)")] = 2005,
    drift: Annotated[str, typer.Option(help="none, delinquency (more late payers) or limits (lower limits)")] = "none",
) -> None:
    """Write a synthetic data set with the UCI credit-default schema."""
    from creditops.data.io import write_table
    from creditops.data.synth import DRIFT_KINDS, synthesize

    if drift not in DRIFT_KINDS:
        raise typer.BadParameter(f"unknown drift {drift!r}: use {', '.join(DRIFT_KINDS)}", param_hint="--drift")
    frame = synthesize(rows, seed, drift)  # type: ignore[arg-type]
    write_table(frame, output)
    rate = 100 * frame["default payment next month"].mean()
    console.print(f"wrote {output}: {rows:,} rows, default rate {rate:.2f}%, seed {seed}, drift {drift}")


@data_app.command("check")
def data_check(
    path: Annotated[Path, typer.Argument(help="Data file to check")],
) -> None:
    """Run the data checks on a file; exit 1 with a report when any fails."""
    from creditops.data.checks import check_data
    from creditops.data.io import read_table
    from creditops.views import check_failures

    frame = read_table(path)
    failures = check_data(frame)
    if failures:
        console.print(check_failures(failures))
        raise typer.Exit(1)
    console.print(f"{path}: {len(frame):,} rows pass every data check")


@models_app.command("list")
def models_list(
    name: Annotated[str | None, typer.Argument(help="Registered model name; all when omitted")] = None,
) -> None:
    """List registered versions with aliases, metrics and lineage."""
    from creditops.tracking import registry
    from creditops.tracking.store import tracking_uri
    from creditops.views import versions_table

    uri = tracking_uri()
    names = [name] if name else registry.registered_names(uri)
    if not names:
        console.print(f"no registered models in {uri}")
        return
    for each in names:
        console.print(versions_table(each, registry.versions(uri, each)))


@models_app.command("show")
def models_show(
    reference: Annotated[str, typer.Argument(help="NAME, NAME@ALIAS or NAME/VERSION")],
) -> None:
    """Show one version: aliases, metrics and lineage tags."""
    from creditops.tracking import registry
    from creditops.tracking.store import tracking_uri
    from creditops.views import version_detail

    console.print(version_detail(registry.resolve(tracking_uri(), reference)))


@config_app.command("schema")
def config_schema() -> None:
    """Print the JSON Schema of the modelling config."""
    from creditops.config.modelling import ModellingConfig

    console.print_json(json.dumps(ModellingConfig.model_json_schema()))


@config_app.command("show")
def config_show(
    path: Annotated[Path | None, typer.Argument(help="Config file; the defaults when omitted")] = None,
) -> None:
    """Print the resolved config, defaults filled in."""
    from creditops.config.modelling import load_modelling_config

    console.print_json(load_modelling_config(path).model_dump_json())


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors print one line and return their exit code, never a traceback."""
    try:
        outcome = app(args=argv, prog_name="creditops", standalone_mode=False)
    except typer.Exit as done:
        return done.exit_code
    except typer.Abort:
        errors.print("aborted")
        return 130
    except typer.TyperException as usage:
        show = getattr(usage, "show", None)
        if show is not None:
            show(file=sys.stderr)
        else:
            errors.print(f"error: {usage.format_message()}", markup=False)
        return usage.exit_code
    except CreditopsError as error:
        _print_error(error)
        return error.exit_code
    return outcome if isinstance(outcome, int) else 0


def _print_error(error: CreditopsError) -> None:
    from creditops.data.checks import DataCheckError

    if isinstance(error, DataCheckError):
        from creditops.views import check_failures

        errors.print(check_failures(error.failures))
    if error.exit_code == 3:  # awaiting approval: a stop, not a failure
        errors.print(f"[yellow]{error}[/yellow]", markup=True, highlight=False, soft_wrap=True)
        return
    errors.print(f"[red]error:[/red] {error}", markup=True, highlight=False, soft_wrap=True)


if __name__ == "__main__":
    raise SystemExit(main())
