"""`creditops serve`, `creditops smoke-test` and `creditops endpoint`: serving and local online endpoints."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from creditops.cli.app import (
    CommandEnv,
    OutputOption,
    RequestFile,
    console,
    emit_json,
    errors,
    group,
    group_context,
)
from creditops.context import Context
from creditops.errors import CreditopsError
from creditops.serving.protocol import MAX_REASONS

_FROM_FILE = "the environment file's rollout"

if TYPE_CHECKING:
    from creditops.endpoints.targets import Target

endpoint_app = group(
    "endpoint",
    "Local online endpoints with blue/green deployments (like az ml online-endpoint).",
    environment_option=True,
)


def _target(ctx: typer.Context, env: str | None, name: str, workers: int | None = None) -> "tuple[Context, Target]":
    """The command's context, and endpoint `name` on the target its environment names (`endpoint.target`)."""
    from creditops.endpoints.targets import target_for

    context = group_context(ctx, env)
    return context, target_for(context, name, workers)


def _say(line: str) -> None:
    console.print(line, highlight=False, soft_wrap=True)


@endpoint_app.command("create")
def endpoint_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Endpoint name")],
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port; a free one when omitted")] = None,
    auth: Annotated[str, typer.Option(help="key (Bearer key required) or none")] = "key",
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes; each holds every deployment")] = 1,
    env: CommandEnv = None,
) -> None:
    """Create an endpoint: one address that routes to its deployments."""
    _context, target = _target(ctx, env, name)
    _say(target.create(port, auth, workers))


@endpoint_app.command("deploy")
def endpoint_deploy(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Endpoint name")],
    deployment: Annotated[str, typer.Option(help="Deployment name, e.g. blue")],
    model: Annotated[str, typer.Option(help="models:/NAME@ALIAS, models:/NAME/VERSION or a model folder")],
    workers: Annotated[
        int | None, typer.Option(min=1, max=64, help="Worker processes of the endpoint (each holds every deployment)")
    ] = None,
    env: CommandEnv = None,
) -> None:
    """Start (or replace) a deployment; a new one gets 0% traffic."""
    context, target = _target(ctx, env, name, workers)
    _guard(context, f"deploy of {model}", [model])
    started = target.deploy_by_hand(deployment, model)
    console.print(
        f"deployment {deployment} serves model version {started.model_version} on endpoint {name};"
        f" give it traffic with 'creditops endpoint traffic {name} {deployment}=100'"
    )


@endpoint_app.command("traffic")
def endpoint_traffic(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Endpoint name")],
    weights: Annotated[list[str], typer.Argument(help="DEP=PCT pairs summing to 100")],
    env: CommandEnv = None,
) -> None:
    """Set the traffic split."""
    from creditops.flow.custody import approval_required

    parsed = {}
    for pair in weights:
        deployment, _, percent = pair.partition("=")
        if not deployment or not percent.strip().isdigit():
            raise CreditopsError(f"traffic {pair!r} is not DEP=PCT (e.g. blue=90)")
        parsed[deployment] = int(percent)
    context, target = _target(ctx, env, name)
    if approval_required(context):
        deployments = target.deployments()
        given = [deployments[dep].model_uri for dep, pct in parsed.items() if pct > 0 and dep in deployments]
        _guard(context, "traffic change", given)
    traffic = target.set_traffic_by_hand(parsed)
    console.print(", ".join(f"{dep}={pct}%" for dep, pct in traffic.items()))


@endpoint_app.command("invoke")
def endpoint_invoke(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Endpoint name")],
    request_file: RequestFile = None,
    deployment: Annotated[str | None, typer.Option(help="Send to this deployment (header routing)")] = None,
    data: Annotated[
        Path | None, typer.Option(help="Send every row of this data file instead (batches of 500 rows)")
    ] = None,
    explain: Annotated[
        int, typer.Option(min=0, max=MAX_REASONS, help="Ask for each row's K principal reason codes (0: none)")
    ] = 0,
    env: CommandEnv = None,
) -> None:
    """Send a scoring request (or a whole data file) to the endpoint and print the answer."""
    from creditops.endpoints.smoke import read_request

    context, target = _target(ctx, env, name)
    if data is not None and explain:
        raise CreditopsError("--explain goes with a request file, not --data: use 'creditops score --explain K'")
    if data is not None:
        scored, mean = target.send_rows(data, deployment)
        console.print(f"{name} scored {scored:,} rows from {data}: mean probability of default {mean:.3f}")
        return
    body = read_request(request_file, context.modelling.contract())
    if explain:
        import orjson

        request = orjson.loads(body)
        if not isinstance(request, dict):
            raise CreditopsError(f"{request_file} holds no JSON object to add 'explain' to")
        body = orjson.dumps({**request, "explain": explain})
    answer = target.invoke(body, deployment)
    console.print_json(answer.text)
    if answer.status_code != 200:
        raise typer.Exit(1)


@endpoint_app.command("show")
def endpoint_show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Endpoint name")],
    env: CommandEnv = None,
    output: OutputOption = "table",
) -> None:
    """Show the endpoint, its deployments, traffic and health; exit 1 when a part of it is not healthy."""
    from creditops.views import endpoint_detail

    _context, target = _target(ctx, env, name)
    view = target.show()
    if output == "json":
        emit_json(view.record)
    elif view.state is not None:
        console.print(endpoint_detail(view.state, list(view.health)))
    else:
        console.print_json(data=view.record)
    if not view.healthy:
        raise typer.Exit(1)


@endpoint_app.command("logs")
def endpoint_logs(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Endpoint name")],
    tail: Annotated[int, typer.Option(min=1, max=100_000, help="Lines from the end")] = 50,
    deployment: Annotated[
        str | None, typer.Option(help="Only the lines of this deployment (on Azure ML: its own log)")
    ] = None,
    env: CommandEnv = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Then print lines as they are written, until Ctrl-C")
    ] = False,
) -> None:
    """The end of the endpoint's log: its workers, restarts, every deployment's errors and what rollouts
    did (like get-logs); with --follow, then each new line as it comes."""
    _context, target = _target(ctx, env, name)
    following = target.follow(deployment, lambda: False) if follow else None  # from before the tail is read
    found = target.logs(tail, deployment)
    if found.lines:
        console.print("\n".join(found.lines), markup=False, highlight=False, soft_wrap=True)
    elif following is None:
        _say(f"the log of endpoint {name} is empty ({found.source})")
        return
    if following is not None:
        try:
            for line in following:
                console.print(line, markup=False, highlight=False, soft_wrap=True)
        except KeyboardInterrupt:
            return


@endpoint_app.command("get-credentials")
def endpoint_credentials(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Endpoint name")],
    env: CommandEnv = None,
) -> None:
    """Print the endpoint's API key (send it as 'Authorization: Bearer <key>')."""
    _context, target = _target(ctx, env, name)
    _say(target.credentials())


@endpoint_app.command("list")
def endpoint_list(
    ctx: typer.Context,
    env: CommandEnv = None,
    output: OutputOption = "table",
) -> None:
    """List the endpoints in this workspace."""
    from dataclasses import asdict

    from creditops.endpoints import state
    from creditops.views import endpoints_table

    endpoints = group_context(ctx, env).endpoints_dir
    found = []
    for name in state.names(endpoints):
        try:
            found.append(state.load(endpoints, name))
        except CreditopsError as error:  # one endpoint's bad state file hides none of the others
            errors.print(f"note: {error}", markup=False, highlight=False, soft_wrap=True)
    if output == "json":
        emit_json([{**asdict(endpoint), "url": endpoint.url} for endpoint in found])
        return
    if not found:
        hint = f"{state.endpoint_command(endpoints)} create NAME"
        console.print(f"no endpoints in {endpoints}: create one with '{hint}'", soft_wrap=True)
        return
    console.print(endpoints_table(found))


@endpoint_app.command("start")
def endpoint_start(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Endpoint name")],
    env: CommandEnv = None,
) -> None:
    """Bring an endpoint back after a restart, with the same deployments and weights."""
    from creditops.endpoints.targets import target_for
    from creditops.flow.custody import admission

    context = group_context(ctx, env)

    def withheld(line: str) -> None:
        errors.print(line, markup=False, highlight=False, soft_wrap=True)

    console.print(target_for(context, name, admit=admission(context)).start(say=withheld))


@endpoint_app.command("delete")
def endpoint_delete(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Endpoint name")],
    keep_logs: Annotated[bool, typer.Option("--keep-logs", help="Keep the request log and process logs")] = False,
    env: CommandEnv = None,
) -> None:
    """Stop every process of the endpoint and free its port; its logs go too unless --keep-logs."""
    _context, target = _target(ctx, env, name)
    console.print(target.delete(keep_logs), highlight=False)


@endpoint_app.command("rollout")
def endpoint_rollout(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Endpoint name")],
    model: Annotated[str, typer.Option(help="models:/NAME@ALIAS, models:/NAME/VERSION or a model folder")],
    steps: Annotated[
        str | None, typer.Option(help="Traffic percentages for the new deployment", show_default=_FROM_FILE)
    ] = None,
    request_file: RequestFile = None,
    max_p99_ms: Annotated[
        float | None, typer.Option(min=1, help="Latency budget at each step", show_default=_FROM_FILE)
    ] = None,
    max_error_rate: Annotated[
        float | None, typer.Option(min=0, max=1, help="Error budget at each step", show_default=_FROM_FILE)
    ] = None,
    requests_per_step: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=1_000_000,
            help="Requests the rollout sends through the endpoint at each step",
            show_default=_FROM_FILE,
        ),
    ] = None,
    mirror: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=100,
            help="Before any live traffic, mirror this % of live requests to the new deployment",
            show_default=_FROM_FILE,
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, max=64, help="Worker processes of the endpoint (each holds every deployment)")
    ] = None,
    env: CommandEnv = None,
) -> None:
    """Blue/green rollout: smoke test, mirror traffic, stepwise traffic shift, automatic rollback. What no
    option sets, and the mirror's limits, come from the environment file's `rollout` (dev's without --env)."""
    from creditops.config.environments import LOCAL_ENVIRONMENT, load_environment
    from creditops.endpoints import blue_green
    from creditops.endpoints.smoke import read_request
    from creditops.endpoints.targets import target_for

    percentages = None
    if steps is not None:
        try:
            percentages = tuple(int(step) for step in steps.split(","))
        except ValueError as error:
            raise CreditopsError(f"--steps must be percentages like 10,50,100, not {steps!r}") from error
    context = group_context(ctx, env)
    settings = (context.environment or load_environment(LOCAL_ENVIRONMENT)).rollout
    _guard(context, f"rollout of {model}", [model])
    report = blue_green.rollout(
        target_for(context, name, workers),
        model,
        read_request(request_file, context.modelling.contract()),
        percentages or settings.steps,
        mirror_percent=settings.mirror if mirror is None else mirror,
        mirror_limits=settings.mirror_limits,
        requests_per_step=settings.requests_per_step if requests_per_step is None else requests_per_step,
        max_error_rate=settings.max_error_rate if max_error_rate is None else max_error_rate,
        max_p99_ms=settings.max_p99_ms if max_p99_ms is None else max_p99_ms,
        say=console.print,
    )
    deployed = report.deployment
    console.print(f"[green]rollout done[/green]: {deployed.name} serves model version {deployed.model_version}")


@endpoint_app.command("recover")
def endpoint_recover(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Endpoint name")],
    env: CommandEnv = None,
) -> None:
    """Undo a rollout whose process was killed: traffic as before it, its new deployment removed."""
    _context, target = _target(ctx, env, name)
    _say(target.recover())


@endpoint_app.command("rollback")
def endpoint_rollback(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Endpoint name")],
    request_file: RequestFile = None,
    env: CommandEnv = None,
) -> None:
    """Return to the previous deployment's model (smoke-tested, blue/green)."""
    from creditops.endpoints import blue_green
    from creditops.endpoints.smoke import read_request
    from creditops.endpoints.targets import target_for

    context = group_context(ctx, env)
    target = target_for(context, name)
    history = target.history()
    _guard(context, "endpoint rollback", [history[-1]["model_uri"]] if history else [])
    deployed = blue_green.rollback(target, read_request(request_file, context.modelling.contract()), say=console.print)
    console.print(f"rolled back: {deployed.name} serves model version {deployed.model_version}")


def _guard(context: Context, action: str, model_uris: list[str]) -> None:
    """Where approval is required: an approver's change, to approved versions only (see flow.custody)."""
    from creditops.flow.custody import guard

    guard(context, action, model_uris)
