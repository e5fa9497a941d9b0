"""Rollback as a decision that stays: the newest earlier champion that may still serve comes back with its
traffic, and the version rolled back is withdrawn from the environment until someone approves it again
(recorded in the approvals ledger, the evidence and tags). `previous-champion` then names the next
version a rollback would return to, or the champion itself when there is none: never a withdrawn one.

The decider is checked first: where approval is required, only an approver rolls back, as the account
signed in to the store. A second rollback never brings back what the first withdrew: it returns to an
earlier approved champion, or is refused with nothing changed.
"""

from creditops.context import Context
from creditops.endpoints import blue_green
from creditops.endpoints.targets import target_for
from creditops.errors import CreditopsError
from creditops.flow import custody
from creditops.flow.custody import LedgerEntry
from creditops.flow.release import refresh_card
from creditops.gate import evidence
from creditops.say import Say
from creditops.serving.samples import sample_request
from creditops.tracking import names
from creditops.tracking.registry import Registry, VersionInfo


def rollback(context: Context, *, by: str | None, reason: str, say: Say = print) -> VersionInfo:
    """Restore the newest earlier champion that may serve, smoke-tested, and withdraw the version rolled back."""
    if not reason.strip():
        raise CreditopsError("a rollback needs --reason TEXT: it is recorded with the decision")
    who = custody.decider(context, by, "rollback")
    env, registry = context.env.name, Registry(context.store_uri)
    versions = registry.versions(context.model_name)
    entries = custody.ledger(registry, env, context.model_name) if context.env.approval_required else {}
    current = next((info for info in versions if names.CHAMPION in info.aliases), None)
    earlier = _earlier_champions(context, versions, current, entries)
    if not earlier:
        why = f"; version {current.version} serves" if current is not None else ""
        raise CreditopsError(
            f"no earlier champion in {env} that is approved and not withdrawn to roll back to{why}: nothing was changed"
        )
    restored = earlier[0]
    endpoint = context.env.endpoint
    target = target_for(context, endpoint.name, endpoint.workers, custody.admission(context))
    if not target.exists():
        raise CreditopsError(
            f"endpoint {endpoint.name} of {env} does not exist: nothing serves a champion to roll back"
        )
    target.ensure()
    at = evidence.now()
    if current is not None:  # withdrawn first: whatever fails after this, the version does not serve again
        custody.record(registry, context, current, custody.WITHDRAWN, who, reason, at)
    blue_green.rollout(
        target, restored.uri, sample_request(context.modelling.contract()), (100,), say=say, remember=False
    )
    registry.set_alias(context.model_name, names.CHAMPION, restored.version)
    fallback = earlier[1] if len(earlier) > 1 else restored
    registry.set_alias(context.model_name, names.PREVIOUS_CHAMPION, fallback.version)
    if current is not None:
        _withdraw(context, registry, current, restored, who, reason, at)
        refresh_card(context, current)
    since = f" since version {current.version} was rolled back on {at} by {who[0]}" if current is not None else ""
    refresh_card(context, restored, f"Restored as the champion in {env}{since}: {reason}.")
    say(f"rolled back {env}: version {restored.version} is the champion again")
    return registry.describe(context.model_name, restored.version)


def _earlier_champions(
    context: Context, versions: list[VersionInfo], current: VersionInfo | None, entries: dict[str, LedgerEntry]
) -> list[VersionInfo]:
    """The versions promoted in the environment before, other than the current one, that may serve there
    now, newest first. Where approval is required the ledger says which were promoted; elsewhere the
    gate's tags."""
    env = context.env.name
    found: list[VersionInfo] = []
    for info in versions:
        if current is not None and info.version == current.version:
            continue
        if context.env.approval_required:
            entry = entries.get(info.version)
            promoted = entry is not None and entry.decision == custody.PROMOTED
        else:
            promoted = info.tags.get(names.GATE_DECISION) == "promoted" and info.tags.get(names.GATE_ENVIRONMENT) == env
        if promoted and custody.serving_refusal(context, info, entries) is None:
            found.append(info)
    return found


def _withdraw(
    context: Context,
    registry: Registry,
    withdrawn: VersionInfo,
    restored: VersionInfo,
    who: tuple[str, str],
    reason: str,
    at: str,
) -> None:
    env = context.env.name
    tags = {"at": at, "by": who[0], "reason": reason}
    registry.set_tags(withdrawn.name, withdrawn.version, {names.rollback_tag(env, k): v for k, v in tags.items()})
    decision = {
        "model_name": withdrawn.name,
        "model_version": withdrawn.version,
        "environment": env,
        "decision": names.ROLLED_BACK,
        "reason": reason,
        "by": who[0],
        "by_via": who[1],
        "restored_version": restored.version,
        "decided_at": at,
    }
    evidence.attach(registry, context.evidence_dir, withdrawn, decision)
