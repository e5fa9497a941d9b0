"""Rich renderings of results for the command line."""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.table import Table

from creditops.data.checks import CheckFailure
from creditops.endpoints.smoke import SmokeReport
from creditops.endpoints.state import Endpoint
from creditops.endpoints.targets.base import Health
from creditops.modelling.metrics import SCALAR_METRICS
from creditops.monitoring.drift import DriftReport
from creditops.pipeline import PipelineResult
from creditops.tracking import names
from creditops.tracking.registry import VersionInfo

if TYPE_CHECKING:
    from creditops.flow.monitoring import Findings
    from creditops.flow.pr_validation import StageResult
    from creditops.monitoring.history import History
    from creditops.monitoring.performance import Joined, PerformanceReport
    from creditops.tracking.compare import VersionDiff
    from creditops.tracking.run_history import RunSummary


def _table(title: str, headers: tuple[str, ...]) -> Table:
    table = Table(title=title, title_justify="left")
    for header in headers:
        table.add_column(header, overflow="fold")  # a narrow terminal wraps a long cell; it never cuts it
    return table


def _key_value_table(title: str) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("key", style="bold", overflow="fold")
    table.add_column("value", overflow="fold")
    return table


def pipeline_summary(result: PipelineResult) -> Table:
    """Data stats, metrics, champion comparison, registration and stage times of one run."""
    table = _key_value_table("creditops run")
    data = result.data_manifest
    table.add_row("data", f"{data['data_file']} (sha256 {data['data_sha256'][:12]}…)")
    table.add_row(
        "rows",
        f"{data['rows']:,} (train {data['train_rows']:,} / test {data['test_rows']:,}),"
        f" default rate {100 * data['default_rate']:.2f}%",
    )
    if result.evaluation is not None:
        metrics = result.evaluation.metrics
        champion = result.evaluation.champion_metrics
        for name in SCALAR_METRICS:
            value = f"{metrics[name]:.4f}"
            if champion is not None:
                value += f"  (champion v{champion['model_version']}: {champion[name]:.4f})"
            table.add_row(name, value)
        table.add_row("comparison", result.evaluation.comparison.reason)
    if result.registration is not None:
        table.add_row("registry", result.registration.reason)
    table.add_row("champion", f"version {result.champion_version}" if result.champion_version else "none")
    if result.report is not None:
        table.add_row("report", str(result.report))
    if result.run_id:
        table.add_row("mlflow run", result.run_id)
    timings = ", ".join(f"{stage} {seconds:.2f}s" for stage, seconds in result.seconds.items())
    table.add_row("stage times", timings)
    return table


def check_failures(failures: tuple[CheckFailure, ...]) -> Table:
    table = _table("data checks failed", ("check", "column", "rows", "examples (row = value)"))
    for failure in failures:
        rows = "-" if failure.check == "required_column" else f"{failure.rows:,}"
        table.add_row(failure.check, failure.column, rows, failure.shown_examples or "-")
    return table


def versions_table(name: str, found: list[VersionInfo]) -> Table:
    from creditops.flow.custody import withdrawn_in

    table = _table(name, ("version", "aliases", "created", "roc_auc", "data sha256", "git commit"))
    for info in found:
        withdrawn = withdrawn_in(info)
        table.add_row(
            info.version,
            (", ".join(info.aliases) or "-") + (f" (withdrawn in {', '.join(withdrawn)})" if withdrawn else ""),
            _when(info.created_ms),
            info.tags.get(names.metric_tag("roc_auc"), "-"),
            info.tags.get(names.DATA_SHA256, "-")[:12],
            info.tags.get(names.GIT_COMMIT, "-")[:12],
        )
    return table


def version_detail(info: VersionInfo) -> Table:
    table = _key_value_table(f"{info.name} version {info.version}")
    from creditops.flow.custody import withdrawn_in

    table.add_row("aliases", ", ".join(info.aliases) or "-")
    table.add_row("withdrawn in", ", ".join(withdrawn_in(info)) or "-")
    table.add_row("created", _when(info.created_ms))
    table.add_row("run", info.run_id or "-")
    for key in sorted(info.tags):
        table.add_row(key, info.tags[key])
    return table


def _when(milliseconds: int) -> str:
    return datetime.fromtimestamp(milliseconds / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def smoke_report(report: SmokeReport) -> Table:
    table = _table(f"smoke test {report.url}", ("check", "result", "detail"))
    for check in report.checks:
        verdict = "[green]pass[/green]" if check.passed else "[red]FAIL[/red]"
        table.add_row(check.name, verdict, check.detail)
    return table


def endpoint_detail(endpoint: Endpoint, report: list[Health]) -> Table:
    table = _table(
        f"endpoint {endpoint.name} {endpoint.url} (auth: {endpoint.auth})",
        ("part", "traffic", "model", "healthy", "detail"),
    )
    for item in report:
        deployment = endpoint.deployments.get(item.name)
        traffic = f"{endpoint.traffic.get(item.name, 0)}%" if deployment else "-"
        model = f"{deployment.model_uri}" if deployment else "-"
        healthy = "[green]yes[/green]" if item.healthy else "[red]no[/red]"
        table.add_row(item.name, traffic, model, healthy, item.detail)
    return table


def endpoints_table(endpoints: list[Any]) -> Table:
    table = _table("endpoints", ("name", "url", "auth", "traffic"))
    for endpoint in endpoints:
        traffic = ", ".join(f"{dep}={pct}%" for dep, pct in endpoint.traffic.items()) or "-"
        table.add_row(endpoint.name, endpoint.url, endpoint.auth, traffic)
    return table


def evidence_table(record: Mapping[str, Any]) -> Table:
    title = (
        f"gate evidence: {record['model_name']} v{record['model_version']} in {record['environment']}"
        f" — {record['decision']} ({record.get('mode', 'no gate')})"
    )
    table = _table(title, ("check", "verdict", "detail"))
    for check in record.get("checks", []):
        table.add_row(check["name"], check["verdict"], check["detail"])
    mirror = (record.get("rollout") or {}).get("mirror")
    if mirror:
        table.add_row(
            "mirror traffic",
            "pass",
            f"{mirror['requests']} requests, {mirror['rows']} rows: class agreement {mirror['agreement']:.1%},"
            f" mean |Δp| {mirror['mean_abs_delta']:.3f}, max |Δp| ≤ {mirror['max_abs_delta']:g},"
            f" {mirror['errors']} errors, p99 ≤ {mirror['p99_ms']:g} ms",
        )
    for key in (
        "reason",
        "by",
        "restored_version",
        "approver",
        "approver_via",
        "approval_reason",
        "git_commit",
        "dirty_allowed",
        "data_sha256",
        "config_hash",
        "environment_lock_hash",
        "started_at",
        "decided_at",
    ):
        if key in record:
            table.add_row(key, "", str(record[key]))
    return table


def stages_table(results: "Sequence[StageResult]") -> Table:
    """One row per stage, in order; a stage left out with --skip is a "skipped" row, not a missing one."""
    table = _table("PR validation", ("stage", "result", "seconds", "detail"))
    for result in results:
        if result.skipped:
            table.add_row(result.name, "[yellow]skipped[/yellow]", "—", result.detail)
            continue
        verdict = "[green]pass[/green]" if result.passed else "[red]FAIL[/red]"
        table.add_row(result.name, verdict, f"{result.seconds:.1f}", result.detail)
    return table


def drift_table(report: DriftReport) -> Table:
    verdict = "[red]drift[/red]" if report.drifted else "[green]no drift[/green]"
    table = _table(f"{verdict}: {report.summary()}", ("feature", "PSI", "test", "p-value", "level"))
    colours = {"drift": "[red]drift[/red]", "watch": "[yellow]watch[/yellow]", "stable": "stable"}
    for item in sorted(report.features, key=lambda item: -item.psi):
        p_value = "< 0.001" if item.p_value < 0.001 else f"{item.p_value:.3f}"
        table.add_row(item.feature, f"{item.psi:.3f}", item.test, p_value, colours[item.level(report.thresholds)])
    return table


def performance_table(report: "PerformanceReport", joined: "Joined") -> Table:
    verdict = "[red]below the minimum[/red]" if report.degraded else "[green]holding[/green]"
    table = _table(f"{verdict}: {report.summary()}", ("figure", "on outcomes", "95% interval", "at test time"))
    for figure in report.figures:
        at_test = "—" if figure.at_test is None else f"{figure.at_test:.4f}"
        table.add_row(figure.name, f"{figure.value:.4f}", f"{figure.low:.4f} – {figure.high:.4f}", at_test)
    others = sum(joined.other_versions.values())
    table.caption = (
        f"{joined.outcomes:,} outcomes; {report.rows:,} joined to version {joined.model_version};"
        f" {joined.unmatched:,} without a logged prediction" + (f"; {others:,} of other versions" if others else "")
    )
    return table


def findings_table(findings: "Findings") -> Table:
    """`ci monitor`: each check's verdict, page, or why it did not judge."""
    table = _key_value_table("monitoring")
    if findings.drift is not None:
        verdict = "DRIFT" if findings.drift.report.drifted else "no drift"
        table.add_row("drift", f"{verdict}: {findings.drift.report.summary()} ({findings.drift.page})")
    if findings.performance is not None:
        verdict = "BELOW MINIMUM" if findings.performance.report.degraded else "holding"
        table.add_row("outcomes", f"{verdict}: {findings.performance.report.summary()} ({findings.performance.page})")
    for note in findings.not_judged:
        table.add_row("not judged", note)
    return table


def status_tables(statuses: list[Any]) -> list[Table]:
    """`creditops status`: one small table per environment."""
    tables = []
    for item in statuses:
        table = _key_value_table(item.environment)
        table.add_row("store", item.store)
        for label, version in (
            ("champion", item.champion),
            ("challenger", item.challenger),
            ("awaiting approval", item.awaiting_approval),
        ):
            table.add_row(label, f"version {version}" if version else "—")
        table.add_row("endpoint", _served(item.endpoint))
        drift = item.drift
        if drift is None:
            table.add_row("last drift check", "never run")
        else:
            verdict = "DRIFT" if drift["drifted"] else "no drift"
            rates = (
                f"mean predicted probability of default {drift['reference_default_rate']:.1%}"
                f" → {drift['live_default_rate']:.1%}"
            )
            table.add_row("last drift check", f"{verdict} at {drift['at']} ({drift['rows']:,} rows; {rates})")
        outcomes = item.outcomes
        if outcomes is None:
            table.add_row("last outcomes check", "never run")
        else:
            verdict = "BELOW MINIMUM" if outcomes["degraded"] else "holding"
            table.add_row(
                "last outcomes check",
                f"{verdict} at {outcomes['at']}: ROC AUC {outcomes['roc_auc']:.3f} on {outcomes['rows']:,} outcomes"
                f" (minimum {outcomes['min_auc']:g})",
            )
        for problem in item.problems:
            table.add_row("note", problem)
        tables.append(table)
    return tables


def _served(endpoint: Any) -> str:
    if endpoint is None:
        return "none"
    if endpoint.target == "azureml":
        return f"{endpoint.name} on Azure ML ({endpoint.detail})"
    split = ", ".join(f"{dep} (v{endpoint.deployments.get(dep, '?')}) {pct}%" for dep, pct in endpoint.traffic.items())
    return f"{endpoint.name} at {endpoint.url}: {split or 'no traffic'}; {endpoint.detail}"


def drift_history_table(history: "History") -> Table:
    """`monitor history`: one row per kept drift check, newest last."""
    from rich.markup import escape

    checks = history.checks
    table = _table(
        f"drift history of {history.environment}: {len(checks)} check{'s' if len(checks) != 1 else ''}",
        (
            "checked at (UTC)",
            "model version",
            "rows",
            "verdict",
            "drifted features",
            "mean predicted probability of default",
            "top PSI",
        ),
    )
    for position, check in enumerate(checks):
        top = check.top
        version = escape(check.model_version) + (" [blue](new)[/blue]" if history.new_version(position) else "")
        drifted = escape(", ".join(check.drifted_features)) or "—"
        table.add_row(
            check.when,
            version,
            f"{check.rows:,}",
            "[red]drift[/red]" if check.drifted else "no drift",
            f"[red]{drifted}[/red]" if check.drifted_features else drifted,
            f"{check.live_default_rate:.1%} (reference {check.reference_default_rate:.1%})",
            "—" if top is None else f"{escape(top.feature)} {top.psi:.3f}",
        )
    return table


def version_diff(found: "VersionDiff") -> Table:
    """`models diff`: both versions side by side, section by section; the lines that differ are bold, ≠."""
    from rich.markup import escape

    a, b, count = found.a, found.b, len(found.differences)
    verdict = "no differences" if count == 0 else f"{count} difference{'s' if count != 1 else ''}"
    headings = (f"{facts.name} v{facts.version}\n{_when(facts.created_ms)}" for facts in (a, b))
    table = _table(f"{a.name} v{a.version} ↔ {b.name} v{b.version}: {verdict}", ("section", "", *headings, "≠"))
    section = None
    for row in found.rows:
        if section is not None and row.section != section:
            table.add_section()
        shown = "" if row.section == section else row.section
        section = row.section
        table.add_row(
            shown,
            escape(row.key),
            escape(row.a if row.a is not None else "—"),
            escape(row.b if row.b is not None else "—"),
            "≠" if row.differs else "",
            style="bold" if row.differs else None,
        )
    return table


def runs_table(runs: "Sequence[RunSummary]") -> Table:
    """`runs list`: one row per run, newest first; "recorded" is `RunSummary.seconds` (a batch's own scoring
    time, else how long the MLflow run was open)."""
    from rich.markup import escape

    table = _table(
        f"runs, newest first ({len(runs)})",
        ("started", "run", "status", "what it did", "commit", "recorded", "roc_auc"),
    )
    colours = {"FINISHED": "green", "FAILED": "red", "KILLED": "red", "RUNNING": "yellow"}
    for run in runs:
        colour = colours.get(run.status.split(" ", 1)[0], "default")  # "KILLED (its process is gone)" too
        table.add_row(
            _when(run.started_ms),
            escape(run.name),
            f"[{colour}]{escape(run.status)}[/{colour}]",
            escape(run.did),
            (run.git_commit or "-")[:12],
            _duration(run.seconds),
            "-" if run.roc_auc is None else f"{run.roc_auc:.4f}",
        )
    return table


def _duration(seconds: float | None) -> str:
    """'4.2s', '3m 07s', '1h 02m'; '-' for a run still running."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m {rest:02d}s" if minutes < 60 else f"{minutes // 60}h {minutes % 60:02d}m"
