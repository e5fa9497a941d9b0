"""Rollback as a decision that stays: the previous champion and its traffic come back, and the version rolled
back is withdrawn from the environment until someone approves it again (recorded in the evidence and tags)."""

from creditops.context import Context
from creditops.endpoints import blue_green
from creditops.endpoints.targets import target_for
from creditops.errors import CreditopsError
from creditops.gate import evidence
from creditops.say import Say
from creditops.serving.protocol import SAMPLE_REQUEST
from creditops.tracking import names
from creditops.tracking.registry import Registry, VersionInfo


def withdrawal(version: VersionInfo, env: str) -> str | None:
    """Why `version` may not be (re-)released in `env`: rolled back there and not approved since; else None."""
    at = version.tags.get(names.rollback_tag(env, "at"))
    if at is None:
        return None
    approved = version.tags.get(names.APPROVAL_AT)
    if approved is not None and version.tags.get(names.APPROVAL_ENV) == env and approved >= at:
        return None
    by = version.tags.get(names.rollback_tag(env, "by"), "someone")
    return (
        f"version {version.version} was rolled back in {env} on {at} by {by}; approve it again to re-release"
        f" ('creditops approve --env {env} --version {version.version} --by NAME --reason TEXT')"
    )


def rollback(context: Context, *, by: str, reason: str, say: Say = print) -> VersionInfo:
    """Restore the previous champion and its traffic, smoke-tested, and withdraw the version rolled back."""
    if not by.strip() or not reason.strip():
        raise CreditopsError("a rollback needs --by NAME and --reason TEXT: they are recorded with the decision")
    env, registry = context.env.name, Registry(context.store_uri)
    versions = registry.versions(context.model_name)
    previous = next((info for info in versions if names.PREVIOUS_CHAMPION in info.aliases), None)
    current = next((info for info in versions if names.CHAMPION in info.aliases), None)
    if previous is None:
        raise CreditopsError(f"no previous champion in {env} to roll back to")
    endpoint = context.env.endpoint
    target = target_for(context, endpoint.name, endpoint.workers)
    if not target.exists():
        raise CreditopsError(
            f"endpoint {endpoint.name} of {env} does not exist: nothing serves a champion to roll back"
        )
    target.ensure()
    blue_green.rollout(target, previous.uri, SAMPLE_REQUEST.read_bytes(), (100,), say=say, remember=False)
    registry.set_alias(context.model_name, names.CHAMPION, previous.version)
    if current is not None:
        registry.set_alias(context.model_name, names.PREVIOUS_CHAMPION, current.version)
        _withdraw(context, registry, current, previous, by, reason)
    say(f"rolled back {env}: version {previous.version} is the champion again")
    return registry.describe(context.model_name, previous.version)


def _withdraw(
    context: Context, registry: Registry, withdrawn: VersionInfo, restored: VersionInfo, by: str, reason: str
) -> None:
    env, at = context.env.name, evidence.now()
    tags = {"at": at, "by": by, "reason": reason}
    registry.set_tags(withdrawn.name, withdrawn.version, {names.rollback_tag(env, k): v for k, v in tags.items()})
    decision = {
        "model_name": withdrawn.name,
        "model_version": withdrawn.version,
        "environment": env,
        "decision": names.ROLLED_BACK,
        "reason": reason,
        "by": by,
        "restored_version": restored.version,
        "decided_at": at,
    }
    evidence.attach(registry, context.evidence_dir, withdrawn, decision)
