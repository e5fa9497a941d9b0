"""The release side of deploy-code: retrain on an environment's data, gate, approve, promote, roll back.

Every function works in the context of one environment (its own MLflow store, data and endpoint),
built by the caller with `creditops.context.from_process(ENV)`.
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from creditops.config.environments import environment_lock_hash
from creditops.context import Context
from creditops.data.contract import uci
from creditops.data.io import read_table, write_table
from creditops.data.location import DataLocation, as_location, exists, sha256
from creditops.data.split import split
from creditops.data.synth import synthesize
from creditops.endpoints import blue_green
from creditops.endpoints.targets import target_for
from creditops.errors import CreditopsError
from creditops.flow import custody
from creditops.gate import evidence
from creditops.gate.evidence import EvidenceRecord
from creditops.say import Say, silent
from creditops.serving.samples import sample_request
from creditops.tracking import names
from creditops.tracking.lineage import fingerprint, git_commit
from creditops.tracking.registry import Registry, VersionInfo

if TYPE_CHECKING:  # the gate (scikit-learn, SciPy) is imported when a gate runs, not by every command
    from creditops.gate.checks import GateResult
    from creditops.steps.register import Registration

AWAITING_APPROVAL_EXIT = 3


class AwaitingApprovalError(CreditopsError):
    """The candidate passed the gate but the environment needs a person's approval first."""

    exit_code = AWAITING_APPROVAL_EXIT


def ensure_data(context: Context, say: Say = print) -> DataLocation:
    """The environment's data, a local path or a URI. Production data (data.production) is never invented: a
    missing file fails in one line. Elsewhere (dev) the UCI demo's data is synthesized from the environment's
    own seed on first use; rows of any other portfolio are never invented."""
    settings = context.env.data
    location = as_location(settings.path)
    if exists(location):
        return location
    env = context.env.name
    if settings.production:
        contract = context.modelling.contract()
        demo = (
            f"for a demo, 'creditops env data {env} --synthetic' writes synthetic rows there on purpose"
            if contract.request_columns == uci().request_columns
            else "creditops never invents rows of a portfolio"
        )
        raise CreditopsError(
            f"the {env} data {location} is not there and {env}'s data is production data (data.production in"
            f" config/environments/{env}.yaml): copy the production extract there; {demo}"
        )
    return _write_synthetic(context, location, say)


def synthesize_data(context: Context, say: Say = print) -> Path:
    """Write the environment's synthetic UCI rows (its data.rows and data.seed) where its data belongs, on
    purpose, production or not; an existing file is never overwritten."""
    location = as_location(context.env.data.path)
    if exists(location):
        raise CreditopsError(
            f"{location} is there already: creditops does not overwrite {context.env.name}'s data; move it away"
            " first to write synthetic rows"
        )
    return _write_synthetic(context, location, say)


def _write_synthetic(context: Context, location: DataLocation, say: Say) -> Path:
    settings, env = context.env.data, context.env.name
    contract = context.modelling.contract()
    if contract.request_columns != uci().request_columns:
        raise CreditopsError(
            f"the {env} data file {location} is not there: put the {contract.name} portfolio there"
            f" (data.path in config/environments/{env}.yaml names it); creditops synthesizes"
            " only the UCI demo's data"
        )
    if not isinstance(location, Path):
        raise CreditopsError(
            f"the {env} data {location} is not there: creditops writes synthetic rows to a local path only;"
            " copy the data there, or name a local path in data.path"
        )
    write_table(synthesize(settings.rows, settings.seed), location)
    say(f"synthesized {settings.rows:,} rows (seed {settings.seed}) for {env}: {location}")
    return location


def approve(context: Context, version: str, by: str | None, reason: str) -> VersionInfo:
    """Record who approved which version, when and why: in the approvals ledger (with the SHA-256 of the
    model's files), and as registry tags that promote adds to the evidence.

    Against an authenticated store the approver is the signed-in account, which must hold the approver
    role; elsewhere it is `by` (or this system's user). With `four_eyes`, whoever registered the
    version may not approve it."""
    if not reason.strip():
        raise CreditopsError("approval needs --reason TEXT")
    if not context.env.approval_required:
        env = context.env.name
        raise CreditopsError(
            f"{env} needs no approval (approval_required: false in config/environments/{env}.yaml):"
            f" 'creditops ci release --env {env}' promotes without one"
        )
    approver, via = custody.decider(context, by, "approval")
    registry = Registry(context.store_uri)
    info = registry.resolve(f"{context.model_name}/{version}")
    when = evidence.now()
    registrant = custody.registrant(context, registry, info)
    if context.env.four_eyes and registrant == approver:
        raise CreditopsError(
            f"four eyes in {context.env.name}: {approver} registered version {version} and may not approve it;"
            " another approver must"
        )
    custody.record(registry, context, info, custody.APPROVED, (approver, via), reason, when)
    approval = {
        names.APPROVAL_BY: approver,
        names.APPROVAL_VIA: via,
        names.APPROVAL_REASON: reason,
        names.APPROVAL_AT: when,
        names.APPROVAL_ENV: context.env.name,
    }
    registry.set_tags(info.name, info.version, approval)
    return registry.describe(info.name, info.version)


def promote(
    context: Context, version: str, *, say: Say = print, port: int | None = None, allow_dirty: bool = False
) -> EvidenceRecord:
    """Gate → blue/green rollout on the environment's endpoint → `champion` moves. Returns the evidence."""
    env, registry = context.env.name, Registry(context.store_uri)
    started = evidence.now()
    candidate = registry.resolve(f"{context.model_name}/{version}")
    champion = custody.champion_in_custody(context, registry)
    if champion is not None and champion.version == candidate.version:
        raise CreditopsError(f"version {version} is already the champion in {env}: nothing to promote")
    entries = custody.ledger(registry, env, context.model_name) if context.env.approval_required else {}
    withdrawn = custody.withdrawal(candidate, env, entries.get(candidate.version))
    if withdrawn is not None:
        raise CreditopsError(withdrawn)
    commit = candidate.tags.get(names.GIT_COMMIT, "")
    if commit.endswith("-dirty"):
        say(f"version {version} was trained from uncommitted changes (commit {commit})")
        _refuse_dirty(context, f"version {version} was trained from uncommitted changes ({commit})", allow_dirty)
        registry.set_tags(candidate.name, candidate.version, {names.DIRTY_ALLOWED: "true"})
        candidate = registry.describe(candidate.name, candidate.version)
    result = _gate(context, candidate, champion, entries)
    _stop_unless_clear(context, candidate, result, started, say)
    promoter = custody.decider(context, None, "promotion") if context.env.approval_required else None
    refused = custody.serving_refusal(context, candidate, entries)
    if refused is not None:
        raise CreditopsError(refused)
    endpoint = context.env.endpoint
    target = target_for(context, endpoint.name, endpoint.workers, custody.admission(context))
    target.ensure(port)
    settings = context.env.rollout
    try:
        rolled = blue_green.rollout(
            target,
            candidate.uri,
            sample_request(context.modelling.contract()),
            settings.steps,
            mirror_percent=settings.mirror,
            mirror_limits=settings.mirror_limits,
            requests_per_step=settings.requests_per_step,
            max_error_rate=settings.max_error_rate,
            max_p99_ms=settings.max_p99_ms,
            say=say,
        )
    except CreditopsError as failure:
        result = result.with_smoke("fail")
        _record(context, candidate, result, "blocked", f"rollout failed: {failure}", started)
        raise
    result = result.with_smoke("pass")
    say(f"deployed to {target.describe()}")
    if promoter is not None:
        approval = entries[candidate.version]
        custody.record(registry, context, candidate, custody.PROMOTED, promoter, approval.reason, evidence.now())
    if champion is not None:
        registry.set_alias(context.model_name, names.PREVIOUS_CHAMPION, champion.version)
    registry.set_alias(context.model_name, names.CHAMPION, candidate.version)
    say(f"{context.model_name} version {candidate.version} is the champion in {env}")
    reason = "every check passed; rollout succeeded"
    return _record(context, candidate, result, "promoted", reason, started, rolled.as_dict())


def release(
    context: Context,
    *,
    say: Say = print,
    port: int | None = None,
    allow_dirty: bool = False,
    attachments: Sequence[Path] = (),
) -> EvidenceRecord | None:
    """Retrain with this code on the environment's data, gate against its champion, promote when
    approved. Returns the evidence, or None when nothing changed. `attachments` (e.g. the monitoring
    pages that called for this release) go to the candidate's run, under `monitoring/`."""
    env = context.env.name
    tree = git_commit(Path.cwd(), context.commit_override)
    if tree.endswith("-dirty"):
        say(f"the working tree has uncommitted changes: this release is marked dirty (commit {tree})")
        _refuse_dirty(context, "the working tree has uncommitted changes", allow_dirty)
    data = ensure_data(context, say)
    known = _registered_already(context, data)
    if known is not None:
        say(f"not retraining: the same data, config and code made version {known.version}")
        version: str | None = known.version
    elif context.env.endpoint.target == "azureml":  # the pipeline trains in the workspace
        from creditops.azure.release import train_in_workspace

        version = train_in_workspace(context, data, say=say)
    else:
        registration = _retrain(context, data, say)
        if registration is None:
            raise CreditopsError(f"the pipeline registered nothing and gave no reason on {data}")
        say(f"retrained on {data}: {registration.reason}")
        version = registration.version
    if version is None:
        waiting = _pending_or_none(context)
        if waiting is None:
            say(f"no candidate to promote in {env}")
            return None
        say(f"continuing with version {waiting}, which awaits approval in {env}")
        version = waiting
    registry = Registry(context.store_uri)
    candidate = registry.describe(context.model_name, version)
    for path in attachments:
        registry.attach_artifact(candidate.run_id or "", path, "monitoring")
    if attachments:
        say(f"attached {len(attachments)} monitoring file(s) to the run of version {version}")
    entries = custody.ledger(registry, env, context.model_name) if context.env.approval_required else {}
    withdrawn = custody.withdrawal(candidate, env, entries.get(version))
    current = custody.champion_in_custody(context, registry)
    if withdrawn is not None:
        if current is not None:
            _keep_serving(context, current, say, port)
        say(f"nothing to do: {withdrawn}")
        return None
    if current is not None and current.version == version:
        _keep_serving(context, current, say, port)
        say(f"nothing to do: version {version} is already the champion in {env}")
        return None
    record = promote(context, version, say=say, port=port, allow_dirty=allow_dirty)
    if context.env.endpoint.target == "azureml":  # the same version on the batch endpoint too
        from creditops.azure.release import release_batch

        return release_batch(context, record, say=say)
    return record


def _refuse_dirty(context: Context, what: str, allow_dirty: bool) -> None:
    """In an environment that refuses dirty releases (prod), uncommitted code needs --allow-dirty."""
    if context.env.refuse_dirty and not allow_dirty:
        env = context.env.name
        raise CreditopsError(
            f"{what}: {env} takes committed code only; commit and release again, or pass --allow-dirty"
            " (recorded in the evidence)"
        )


def _retrain(context: Context, data: DataLocation, say: Say) -> "Registration | None":
    """The pipeline on the environment's data: in this process, or on the Dask cluster its file names
    (`compute.dask_scheduler`), which checks, splits and trains there as `creditops run --cluster` does."""
    from creditops.pipeline import run_pipeline  # on use: training imports LightGBM and scikit-learn

    cluster = context.env.compute.dask_scheduler
    if cluster is None:
        return run_pipeline(data, context.modelling, context, promote=False).registration
    from creditops.compute.training import cluster_stages

    say(f"training on the Dask cluster {cluster} (the environment's compute.dask_scheduler)")
    with cluster_stages(cluster, data, context.modelling) as stages:
        return run_pipeline(data, context.modelling, context, promote=False, stages=stages).registration


def _registered_already(context: Context, data: DataLocation) -> VersionInfo | None:
    """The version trained from this data, config and code, found by its fingerprint before training:
    a release with nothing changed needs no retraining to say so."""
    commit = git_commit(override=context.commit_override)
    expected = fingerprint(data_sha256=sha256(data), config_hash=context.modelling.digest(), commit=commit)
    return Registry(context.store_uri).find_by_fingerprint(context.model_name, expected)


@dataclass(frozen=True)
class Pending:
    """The version awaiting approval in an environment: who registered it (whom four eyes keeps from
    approving it) and when its gate decided it awaits approval, as its tags hold them."""

    version: str
    environment: str
    registered_by: str | None
    awaiting_since: str | None

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


def pending_candidate(context: Context) -> Pending:
    """The newest version whose gate decision in the environment is awaiting approval."""
    env = context.env.name
    registry = Registry(context.store_uri)
    waiting = _pending_info(context, registry)
    if waiting is None:
        raise CreditopsError(f"no version awaits approval in {env}: run 'creditops ci release --env {env}' first")
    by = custody.registrant(context, registry, waiting)
    return Pending(waiting.version, env, by, waiting.tags.get(names.GATE_DECIDED_AT))


def _pending_or_none(context: Context) -> str | None:
    waiting = _pending_info(context, Registry(context.store_uri))
    return None if waiting is None else waiting.version


def _pending_info(context: Context, registry: Registry) -> VersionInfo | None:
    env = context.env.name
    for info in registry.versions(context.model_name):
        if (
            info.tags.get(names.GATE_DECISION) == names.AWAITING_APPROVAL
            and info.tags.get(names.GATE_ENVIRONMENT) == env
        ):
            return info
    return None


def gate_report(context: Context, version: str) -> EvidenceRecord:
    registry = Registry(context.store_uri)
    return evidence.latest(registry, registry.resolve(f"{context.model_name}/{version}"))


def _gate(
    context: Context, candidate: VersionInfo, champion: VersionInfo | None, entries: dict[str, custody.LedgerEntry]
) -> "GateResult":
    """Score both models on the frozen holdout once and judge; the smoke check stays pending. The approval
    is the ledger's, where one is required: a tag a trainer wrote approves nothing."""
    from creditops.gate.checks import run_gate

    registry = Registry(context.store_uri)
    holdout = environment_split(context)[1]
    candidate_model = registry.load(candidate)
    labels = candidate_model.contract.labels(holdout)
    candidate_scores = candidate_model.predict_proba(holdout)
    champion_scores = None
    if champion is not None:
        champion_scores = registry.load(champion).predict_proba(holdout)
    return run_gate(
        holdout,
        labels,
        candidate_scores,
        champion_scores,
        context.env.gate,
        contract=candidate_model.contract,
        threshold=float(candidate.tags.get(names.THRESHOLD, context.modelling.eval.threshold)),
        champion_version=None if champion is None else champion.version,
        approval_required=context.env.approval_required,
        approver=_approver_of(context, registry.describe(candidate.name, candidate.version), entries),
        candidate_model=candidate_model,
    )


def _approver_of(context: Context, version: VersionInfo, entries: dict[str, custody.LedgerEntry]) -> str | None:
    if not context.env.approval_required:
        return version.tags.get(names.APPROVAL_BY)
    entry = entries.get(version.version)
    return entry.by if entry is not None and custody.serving_refusal(context, version, entries) is None else None


def environment_split(context: Context) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The environment data's seeded train/test split: the test part is the gate's frozen holdout
    (the same rows for every candidate and champion), the train part the drift reference."""
    contract = context.modelling.contract()
    frame = read_table(ensure_data(context, say=silent), contract)
    data = context.modelling.data
    return split(frame, contract.labels(frame), test_ratio=data.test_train_ratio, seed=data.random_seed)


def _stop_unless_clear(context: Context, candidate: VersionInfo, result: "GateResult", started: str, say: Say) -> None:
    env = context.env.name
    for check in result.checks:
        say(f"  {check.verdict:>7}  {check.name}: {check.detail}")
    if result.blocks:
        reason = "; ".join(f"{check.name}: {check.detail}" for check in result.failed)
        _record(context, candidate, result, "blocked", reason, started)
        raise CreditopsError(f"gate blocked version {candidate.version} in {env}: {reason}")
    if result.mode == "dry-run" and result.failed:
        say(f"dry-run: {len(result.failed)} check(s) failed but do not block in {env}")
    approval = next(check for check in result.checks if check.name == "approval")
    if approval.verdict == "pending":
        approve_command = f"creditops approve --env {env} --version {candidate.version} --by <your name> --reason <why>"
        promote_command = f"creditops ci release --env {env}"
        _record(context, candidate, result, names.AWAITING_APPROVAL, "the environment requires an approval", started)
        raise AwaitingApprovalError(
            f"awaiting approval: run '{approve_command}', then '{promote_command}' (it continues with this version)"
        )


def _record(
    context: Context,
    candidate: VersionInfo,
    result: "GateResult",
    decision: str,
    reason: str,
    started: str,
    rollout: dict[str, object] | None = None,
) -> EvidenceRecord:
    registry = Registry(context.store_uri)
    fresh = registry.describe(candidate.name, candidate.version)
    record = evidence.build(
        environment=context.env.name,
        version=fresh,
        result=result,
        decision=decision,
        reason=reason,
        lock_hash=environment_lock_hash(),
        started_at=started,
        rollout=rollout,
    )
    evidence.record(registry, context.evidence_dir, fresh, record)
    refresh_card(context, fresh)
    return record


def refresh_card(context: Context, version: VersionInfo, note: str = "") -> None:
    """Write the version's model card again, now carrying the latest decision (and `note`), and attach it
    to its run. A card that cannot be written (its data gone, no right to attach) does not undo the decision."""
    from creditops.report.build import card_for_version

    try:
        path = card_for_version(context, f"{version.name}/{version.version}", None, None, note)
        if version.run_id:
            Registry(context.store_uri, context.authenticated_user).attach_artifact(version.run_id, path, "report")
    except CreditopsError:
        return


def _keep_serving(context: Context, champion: VersionInfo, say: Say, port: int | None = None) -> None:
    """After a restart, a deleted endpoint or a rollback made on another runner, bring the endpoint back
    serving the champion (smoke-tested, blue/green)."""
    endpoint = context.env.endpoint
    target = target_for(context, endpoint.name, endpoint.workers, custody.admission(context))
    target.ensure(port)
    live = target.live()
    if live is not None and live.model_version == champion.version:
        return
    served = "no champion" if live is None else f"version {live.model_version}, not the champion"
    say(f"endpoint {endpoint.name} served {served}: deploying version {champion.version}")
    blue_green.rollout(target, champion.uri, sample_request(context.modelling.contract()), (100,), say=say)
