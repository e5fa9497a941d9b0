"""`creditops ci`, `approve`, `promote`, `rollback` and `gate`: the deploy-code flow."""

import time
from pathlib import Path
from typing import Annotated

import typer

from creditops.cli.app import EnvOption, OutputOption, Verbose, app, console, context_for, emit_json, errors, group
from creditops.tracking import names

gate_app = group("gate", "The promotion gate and its evidence.")
ci_app = group("ci", "The pipelines CI runs, run the same way by a person.")


PortOption = Annotated[
    int | None,
    typer.Option(
        min=1, max=65535, help="Port of the environment's local endpoint when it is created (default: its file's)"
    ),
]
AllowDirty = Annotated[
    bool,
    typer.Option(
        "--allow-dirty", help="Let a version trained from uncommitted changes through (recorded in the evidence)"
    ),
]


@gate_app.command("report")
def gate_report(
    version: Annotated[str, typer.Argument(help="Model version")],
    env: EnvOption = "dev",
    output: OutputOption = "table",
) -> None:
    """Print the newest evidence record of a version's gate decision."""
    from creditops.flow.release import gate_report as report
    from creditops.views import evidence_table

    record = report(context_for(env), version)
    if output == "json":
        emit_json(record)
        return
    console.print(evidence_table(record))


@gate_app.command("pending")
def gate_pending(env: EnvOption = "dev", output: OutputOption = "table") -> None:
    """Print the version awaiting approval in an environment (exit 1 when none): on a terminal a sentence
    naming the command that approves it; otherwise the bare version (`version=$(creditops gate pending)`);
    json: version, environment, registered_by, awaiting_since."""
    from creditops.cli.app import stdout_is_terminal
    from creditops.flow.release import pending_candidate

    pending = pending_candidate(context_for(env))
    if output == "json":
        emit_json(pending.as_dict())
        return
    if not stdout_is_terminal():  # scripts read the bare version: what operations/*.sh and CI depend on
        typer.echo(pending.version)
        return
    known = [f"registered by {pending.registered_by}"] if pending.registered_by else []
    known += [f"waiting since {pending.awaiting_since}"] if pending.awaiting_since else []
    details = f" ({', '.join(known)})" if known else ""
    console.print(
        f"version {pending.version} awaits approval in {env}{details}:"
        f' creditops approve --env {env} --version {pending.version} --reason "…"',
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


@app.command()
def approve(
    version: Annotated[str, typer.Option(help="Model version to approve")],
    reason: Annotated[str, typer.Option(help="Why")],
    by: Annotated[
        str | None,
        typer.Option(help="Who approves (a local store); an authenticated store records its signed-in account"),
    ] = None,
    env: EnvOption = "dev",
) -> None:
    """Record a person's approval of a version for an environment."""
    from creditops.flow.release import approve as record

    info = record(context_for(env), version, by, reason)
    who, via, at = (info.tags[name] for name in (names.APPROVAL_BY, names.APPROVAL_VIA, names.APPROVAL_AT))
    console.print(f"approved {info.name} version {info.version} for {env} by {who} ({via}) at {at}", highlight=False)


@app.command()
def promote(
    version: Annotated[str, typer.Option(help="Model version to promote")],
    port: PortOption = None,
    allow_dirty: AllowDirty = False,
    env: EnvOption = "dev",
) -> None:
    """Run the gate, roll the version out blue/green on the environment's endpoint, move `champion`."""
    from creditops.flow.release import promote as run

    context = context_for(env)
    if context.authenticated_user is not None:  # promoting is an approver's act: refused before anything runs
        from creditops.tracking.team_users import prove_approver

        prove_approver(context.store_uri, context.authenticated_user, "promote")
    run(context, version, say=console.print, port=port, allow_dirty=allow_dirty)


@app.command()
def rollback(
    by: Annotated[
        str | None,
        typer.Option(
            help="Who rolls back (a local store; default: this system user); an authenticated store records its"
            " signed-in account, which must be an approver where approval is required"
        ),
    ] = None,
    reason: Annotated[str, typer.Option(help="Why (recorded with the decision)")] = "no reason given",
    env: EnvOption = "dev",
) -> None:
    """Restore the newest earlier champion that is approved and not withdrawn, with its traffic,
    smoke-tested; the version rolled back stays withdrawn from the environment until it is approved again."""
    from creditops.flow.rollback import rollback as run

    run(context_for(env), by=by, reason=reason, say=console.print)


@ci_app.command("pr-validation")
def ci_pr_validation(
    reports: Annotated[Path, typer.Option(help="Folder for JUnit and coverage XML")] = Path("reports"),
    skip: Annotated[
        str,
        typer.Option(
            help="Comma-separated stages to leave out (listed as skipped): lint, security, unit, e2e, mutation,"
            " integration, smoke; e2e and mutation take most of the time"
        ),
    ] = "",
    smoke_on: Annotated[
        str,
        typer.Option(
            help="local, or azureml: the ephemeral endpoint in the workspace of AZURE_SUBSCRIPTION_ID,"
            " AZURE_RESOURCE_GROUP and AZUREML_WORKSPACE_NAME"
        ),
    ] = "local",
) -> None:
    """The checks of `make test` (lint, security, unit, e2e, mutation), then the pipeline in a throwaway store
    and a smoke test on an ephemeral endpoint: about 14 minutes on a 2-core machine; --skip shortens it."""
    import os

    from creditops.azure.workspace import WORKSPACE_VARIABLES, require_workspace
    from creditops.errors import CreditopsError
    from creditops.flow.pr_validation import run_pr_validation
    from creditops.views import stages_table

    if smoke_on not in ("local", "azureml"):
        raise CreditopsError(f"--smoke-on must be local or azureml, not {smoke_on!r}")
    workspace = None
    if smoke_on == "azureml":
        workspace = {name: os.environ.get(name, "") for name in WORKSPACE_VARIABLES}
        require_workspace(workspace, "--smoke-on azureml")
    skipped = tuple(stage.strip() for stage in skip.split(",") if stage.strip())
    results = run_pr_validation(Path.cwd(), reports, skip=skipped, say=console.print, azure_workspace=workspace)
    console.print(stages_table(results))
    if any(result.failed for result in results):
        raise typer.Exit(1)


@ci_app.command("release")
def ci_release(
    env: EnvOption = "dev", port: PortOption = None, allow_dirty: AllowDirty = False, verbose: Verbose = False
) -> None:
    """Retrain with this code on the environment's data, gate, and promote once approved.

    Exit 3 means: awaiting approval (the message names the command that approves).
    """
    from creditops.cli.app import mlflow_messages
    from creditops.flow.release import release

    context = context_for(env)
    with mlflow_messages(shown=verbose):
        release(context, say=console.print, port=port, allow_dirty=allow_dirty)


@ci_app.command("monitor")
def ci_monitor(
    env: EnvOption = "dev",
    outcomes: Annotated[
        Path | None, typer.Option(help="Observed outcomes to judge (default: the environment's monitoring.outcomes)")
    ] = None,
    port: PortOption = None,
    allow_dirty: AllowDirty = False,
    verbose: Verbose = False,
) -> None:
    """What the scheduled monitoring job does: check drift and outcomes; when either calls for it, run the
    release (retrain with this code on the environment's data, gate, approval), with the pages attached.

    Exit 0: nothing calls for retraining, or the release went through; 3: the retrained version awaits
    approval; 4: retraining was called for but made nothing to promote (the message says why).
    """
    from creditops.cli.app import mlflow_messages
    from creditops.flow.monitoring import DRIFT_EXIT, monitor
    from creditops.flow.release import release
    from creditops.views import findings_table

    context = context_for(env)
    findings = monitor(context, outcomes)
    console.print(findings_table(findings))
    reasons = findings.reasons_to_retrain
    if not reasons:
        console.print("nothing calls for retraining", highlight=False)
        return
    console.print(f"retraining in {env}: {'; '.join(reasons)}", highlight=False, soft_wrap=True)
    with mlflow_messages(shown=verbose):
        record = release(context, say=console.print, port=port, allow_dirty=allow_dirty, attachments=findings.pages)
    if record is None:
        data = context.env.data.path
        console.print(
            f"monitoring called for retraining in {env}, but the release made nothing to promote: retraining"
            f" needs fresh data in {data} (the outcomes observed since) or a code change",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(DRIFT_EXIT)


@ci_app.command("stage")
def ci_stage(
    stages: Annotated[list[str], typer.Argument(help="Stages to run in order: lint, security, unit, e2e")],
    reports: Annotated[Path | None, typer.Option(help="Folder for JUnit and coverage XML")] = None,
) -> None:
    """Run CI stages with their output shown: the one list of checks that make, .ci/run and CI share."""
    from creditops.flow.stages import commands, run_stage

    for stage in stages:
        commands(stage)  # an unknown stage is refused before anything runs
    if reports is not None:
        reports.mkdir(parents=True, exist_ok=True)
    for stage in stages:
        console.print(f"[bold]stage {stage}[/bold]", highlight=False)
        started = time.monotonic()
        run_stage(stage, Path.cwd(), reports, capture=False)
        console.print(f"[bold]stage {stage} passed[/bold] in {time.monotonic() - started:.0f} s", highlight=False)


@ci_app.command("approver")
def ci_approver(
    source: Annotated[
        str, typer.Option("--from", help="github (the run's review history) or azure-devops (the run's approvals)")
    ],
    env: EnvOption = "dev",
    environment: Annotated[
        str | None,
        typer.Option(help="The CI environment whose approval counts (GitHub only; default: the --env name)"),
    ] = None,
    output: OutputOption = "table",
) -> None:
    """Print the login of the person who approved this run's deployment: one line, nothing else
    (`reviewer=$(creditops ci approver --from github --env prod)`); json: approver, comment, at, source."""
    import os

    from creditops.flow.approvals import approval

    found = approval(source, os.environ, environment or env)
    if output == "json":
        emit_json(found.as_dict())
        return
    typer.echo(found.approver)


@gate_app.command("summary")
def gate_summary(
    env: EnvOption = "dev",
    version: Annotated[
        str | None,
        typer.Option(help="Model version (default: the one awaiting approval, else the newest gated in --env)"),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the Markdown here (atomically) and print the path")] = None,
    card_out: Annotated[Path | None, typer.Option(help="Copy the version's model card (HTML) into this folder")] = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="Only a decision recorded at or after this ISO 8601 time (a CI job's start); none: write nothing"
        ),
    ] = None,
) -> None:
    """Markdown summary of a version's newest gate decision in an environment, for the reviewer: checks,
    ROC AUC against the champion with intervals, slices, fairness and where the model card is."""
    from creditops.errors import CreditopsError
    from creditops.files import write_text
    from creditops.flow.gate_summary import copy_card, decided_since, decision, parse_since
    from creditops.gate.summary import render

    context = context_for(env)
    if since is not None and version is not None:
        raise CreditopsError("--since and --version choose the decision two ways: give one")
    found = decision(context, version) if since is None else decided_since(context, parse_since(since))
    if found is None:
        errors.print(f"no gate decision in {env} since {since}: nothing to summarize", highlight=False)
        return
    markdown = render(found.record, found.card)
    if card_out is not None:
        card = copy_card(context, found, card_out)
        errors.print(f"model card: {card}", markup=False, highlight=False, soft_wrap=True)
    if out is None:
        typer.echo(markdown, nl=False)
        return
    console.print(str(write_text(out, markdown)), markup=False, highlight=False, soft_wrap=True)
