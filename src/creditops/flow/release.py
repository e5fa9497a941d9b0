"""The release side of deploy-code: retrain on an environment's data, gate, approve, promote, roll back.

Every command activates its environment first: its own MLflow store, data and endpoint.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from creditops.config.environments import EnvironmentConfig, activate, environment_lock_hash, load_environment
from creditops.config.modelling import ModellingConfig, load_modelling_config
from creditops.data.io import read_table, write_table
from creditops.data.schema import LABEL
from creditops.data.synth import synthesize
from creditops.endpoints import manager, state
from creditops.errors import CreditopsError
from creditops.gate import evidence
from creditops.gate.checks import GateResult, Thresholds, run_gate
from creditops.modelling.estimators import feature_matrix
from creditops.pipeline import run_pipeline
from creditops.steps.data_prep import split
from creditops.tracking import registry
from creditops.tracking.store import tracking_uri

Say = Callable[[str], None]
SAMPLE_REQUEST = Path(__file__).resolve().parents[1] / "serving" / "sample_request.json"
AWAITING_APPROVAL_EXIT = 3


class AwaitingApprovalError(CreditopsError):
    """The candidate passed the gate but the environment needs a person's approval first."""

    exit_code = AWAITING_APPROVAL_EXIT


@dataclass(frozen=True)
class Context:
    """An activated environment: its settings, modelling config and store."""

    environment: EnvironmentConfig
    modelling: ModellingConfig
    store_uri: str

    @property
    def model_name(self) -> str:
        return self.modelling.registry.model_name


def open_environment(name: str) -> Context:
    environment = load_environment(name)
    activate(environment)
    modelling = load_modelling_config(Path(environment.modelling_config) if environment.modelling_config else None)
    return Context(environment, modelling, tracking_uri())


def ensure_data(context: Context, say: Say = print) -> Path:
    """The environment's data file, synthesized from its own seed when absent."""
    settings = context.environment.data
    path = Path(settings.path)
    if not path.is_file():
        write_table(synthesize(settings.rows, settings.seed), path)
        say(f"synthesized {settings.rows:,} rows (seed {settings.seed}) for {context.environment.name}: {path}")
    return path


def approve(env: str, version: str, by: str, reason: str) -> registry.VersionInfo:
    """Record who approved which version, when and why (registry tags; promote adds it to evidence)."""
    context = open_environment(env)
    if not by.strip() or not reason.strip():
        raise CreditopsError("approval needs --by NAME and --reason TEXT")
    info = registry.resolve(context.store_uri, f"{context.model_name}/{version}")
    registry.set_tags(
        info.name,
        info.version,
        {"approval.by": by, "approval.reason": reason, "approval.at": evidence.now(), "approval.env": env},
    )
    return registry.describe(info.name, info.version)


def promote(env: str, version: str, *, say: Say = print) -> dict:
    """Gate → blue/green rollout on the environment's endpoint → `champion` moves. Returns the evidence."""
    context = open_environment(env)
    started = evidence.now()
    candidate = registry.resolve(context.store_uri, f"{context.model_name}/{version}")
    champion = registry.champion(context.store_uri, context.model_name)
    if champion is not None and registry.CHAMPION not in champion.aliases:
        champion = None  # a registered version without the alias is no production model
    if champion is not None and champion.version == candidate.version:
        raise CreditopsError(f"version {version} is already the champion in {env}: nothing to promote")
    result = _gate(context, candidate, champion)
    _stop_unless_clear(context, candidate, result, started, say)

    request = SAMPLE_REQUEST.read_bytes()
    _ensure_endpoint(context)
    endpoint = context.environment.endpoint
    try:
        manager.rollout(endpoint.name, candidate.uri, request, workers=endpoint.workers, say=say)
    except CreditopsError as failure:
        result = result.with_smoke("fail")
        _record(context, candidate, result, "blocked", f"rollout failed: {failure}", started)
        raise
    result = result.with_smoke("pass")
    if champion is not None:
        registry.set_alias(context.model_name, registry.PREVIOUS_CHAMPION, champion.version)
    registry.set_alias(context.model_name, registry.CHAMPION, candidate.version)
    say(f"{context.model_name} version {candidate.version} is the champion in {env}")
    return _record(context, candidate, result, "promoted", "every check passed; rollout succeeded", started)


def rollback(env: str, *, say: Say = print) -> registry.VersionInfo:
    """Restore the previous champion and its traffic, smoke-tested, in one command."""
    context = open_environment(env)
    versions = registry.versions(context.store_uri, context.model_name)
    previous = next((info for info in versions if registry.PREVIOUS_CHAMPION in info.aliases), None)
    current = next((info for info in versions if registry.CHAMPION in info.aliases), None)
    if previous is None:
        raise CreditopsError(f"no previous champion in {env} to roll back to")
    endpoint = context.environment.endpoint.name
    if not state.exists(endpoint):
        raise CreditopsError(f"endpoint {endpoint} of {env} does not exist: nothing serves a champion to roll back")
    manager.start(endpoint)
    manager.rollout(endpoint, previous.uri, SAMPLE_REQUEST.read_bytes(), (100,), say=say, remember=False)
    registry.set_alias(context.model_name, registry.CHAMPION, previous.version)
    if current is not None:
        registry.set_alias(context.model_name, registry.PREVIOUS_CHAMPION, current.version)
    say(f"rolled back {env}: version {previous.version} is the champion again")
    return registry.describe(context.model_name, previous.version)


def release(env: str, *, say: Say = print) -> dict | None:
    """Retrain with this code on the environment's data, gate against its champion, promote when
    approved. Returns the evidence, or None when nothing changed."""
    context = open_environment(env)
    data = ensure_data(context, say)
    result = run_pipeline(data, context.modelling, promote=False)
    registration = result.registration
    say(f"retrained on {data}: {registration.reason}")
    version = registration.version
    if version is None:
        waiting = _pending_or_none(context)
        if waiting is None:
            say(f"no candidate to promote in {env}")
            return None
        say(f"continuing with version {waiting}, which awaits approval in {env}")
        version = waiting
    current = registry.champion(context.store_uri, context.model_name)
    if current is not None and registry.CHAMPION in current.aliases and current.version == version:
        _keep_serving(context, current, say)
        say(f"nothing to do: version {version} is already the champion in {env}")
        return None
    return promote(env, version, say=say)


def pending_candidate(env: str) -> str:
    """The newest version whose gate decision in `env` is awaiting approval."""
    waiting = _pending_or_none(open_environment(env))
    if waiting is None:
        raise CreditopsError(f"no version awaits approval in {env}: run 'creditops ci release --env {env}' first")
    return waiting


def _pending_or_none(context: Context) -> str | None:
    env = context.environment.name
    for info in registry.versions(context.store_uri, context.model_name):
        if info.tags.get("gate.decision") == "awaiting-approval" and info.tags.get("gate.environment") == env:
            return info.version
    return None


def gate_report(env: str, version: str) -> dict:
    context = open_environment(env)
    return evidence.latest(context.store_uri, registry.resolve(context.store_uri, f"{context.model_name}/{version}"))


def _gate(context: Context, candidate: registry.VersionInfo, champion: registry.VersionInfo | None) -> GateResult:
    """Score both models on the frozen holdout once and judge; the smoke check stays pending."""
    holdout = environment_split(context)[1]
    features, labels = feature_matrix(holdout), holdout[LABEL].to_numpy()
    candidate_scores = registry.load(context.store_uri, candidate.uri).predict_proba(features)
    champion_scores = None
    if champion is not None:
        champion_scores = registry.load(context.store_uri, champion.uri).predict_proba(features)
    settings = context.environment.gate
    return run_gate(
        holdout,
        labels,
        candidate_scores,
        champion_scores,
        Thresholds(**settings.model_dump()),
        champion_version=None if champion is None else champion.version,
        approval_required=context.environment.approval_required,
        approver=registry.describe(candidate.name, candidate.version).tags.get("approval.by"),
    )


def environment_split(context: Context) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The environment data's seeded train/test split: the test part is the gate's frozen holdout
    (the same rows for every candidate and champion), the train part the drift reference."""
    frame = read_table(ensure_data(context, say=lambda message: None))
    data = context.modelling.data
    return split(frame, test_ratio=data.test_train_ratio, seed=data.random_seed)


def _stop_unless_clear(
    context: Context, candidate: registry.VersionInfo, result: GateResult, started: str, say: Say
) -> None:
    env = context.environment.name
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
        promote_command = f"creditops promote --env {env} --version {candidate.version}"
        _record(context, candidate, result, "awaiting-approval", "the environment requires an approval", started)
        raise AwaitingApprovalError(f"awaiting approval: run '{approve_command}', then '{promote_command}'")


def _record(
    context: Context,
    candidate: registry.VersionInfo,
    result: GateResult,
    decision: str,
    reason: str,
    started: str,
) -> dict:
    fresh = registry.describe(candidate.name, candidate.version)
    record = evidence.build(
        environment=context.environment.name,
        version=fresh,
        result=result,
        decision=decision,
        reason=reason,
        lock_hash=environment_lock_hash(),
        started_at=started,
    )
    evidence.record(context.store_uri, fresh, record)
    return record


def _keep_serving(context: Context, champion: registry.VersionInfo, say: Say) -> None:
    """After a restart or a deleted endpoint, bring the endpoint back serving the champion."""
    endpoint = context.environment.endpoint
    if state.exists(endpoint.name) and state.load(endpoint.name).live() is not None:
        manager.start(endpoint.name)
        return
    _ensure_endpoint(context)
    say(f"endpoint {endpoint.name} served no champion: deploying version {champion.version}")
    manager.rollout(endpoint.name, champion.uri, SAMPLE_REQUEST.read_bytes(), (100,), workers=endpoint.workers, say=say)


def _ensure_endpoint(context: Context) -> None:
    endpoint = context.environment.endpoint
    if state.exists(endpoint.name):
        manager.start(endpoint.name)
    else:
        manager.create(endpoint.name, endpoint.port, endpoint.auth)
