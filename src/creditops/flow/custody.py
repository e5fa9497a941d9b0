"""Chain of custody: who may decide, and which model may serve in an environment.

Every decision that moves a model (approve, promote, rollback, a traffic change or deploy where approval
is required) is made by an identity: on an authenticated store the signed-in account, which must hold the
approver role; elsewhere the name given with --by. Each approval, promotion and withdrawal is written to
the approvals ledger: tags on the marker model `creditops-approvers`, which only approvers may edit (a
trainer reads it), naming the version, the environment, the SHA-256 of the model's files, who and when.

Where approval is required, a version serves only with a ledger entry that approves it for the files it
has now and that no rollback has withdrawn since. An alias or a tag a trainer moved through MLflow's API
is not such an entry, so it is refused in one line before anything changes.
"""

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Final

from creditops.context import Context
from creditops.errors import CreditopsError
from creditops.tracking import integrity, names
from creditops.tracking.registry import Registry, VersionInfo
from creditops.tracking.team_users import APPROVERS

LEDGER_MODEL: Final = APPROVERS
APPROVED: Final = "approved"
PROMOTED: Final = "promoted"
WITHDRAWN: Final = "withdrawn"
SERVING_DECISIONS: Final = (APPROVED, PROMOTED)
AUTHENTICATED: Final = "authenticated store"
LOCAL_NAME: Final = "local name"


@dataclass(frozen=True)
class LedgerEntry:
    """The latest decision on one version in one environment (who made it, when and why), and the approval
    it rests on: the model files' SHA-256, who approved them and when."""

    decision: str
    model: str
    version: str
    environment: str
    model_sha256: str
    approved_by: str
    approved_at: str
    by: str
    via: str
    at: str
    reason: str


def ledger_key(environment: str, model: str, version: str) -> str:
    """`ledger.ENV.MODEL.VERSION`, in the characters MLflow allows in a tag key."""
    safe = re.sub(r"[^A-Za-z0-9_.\-]", "_", model)
    return f"ledger.{environment}.{safe}.{version}"


def ledger(registry: Registry, environment: str, model: str) -> dict[str, LedgerEntry]:
    """Every version's latest decision in `environment`, by version; an entry that is not one is skipped."""
    prefix = ledger_key(environment, model, "")
    found: dict[str, LedgerEntry] = {}
    for key, value in registry.model_tags(LEDGER_MODEL).items():
        if not key.startswith(prefix):
            continue
        try:
            entry = LedgerEntry(**json.loads(value))
        except (ValueError, TypeError):
            continue
        if entry.environment == environment and entry.model == model and key == ledger_key(*_where(entry)):
            found[entry.version] = entry
    return found


def _where(entry: LedgerEntry) -> tuple[str, str, str]:
    return entry.environment, entry.model, entry.version


def write(registry: Registry, entry: LedgerEntry) -> None:
    """Record `entry` as the version's latest decision (approvers only, on an authenticated store)."""
    registry.set_model_tag(
        LEDGER_MODEL,
        ledger_key(*_where(entry)),
        json.dumps(asdict(entry), sort_keys=True),
        f"write the approvals ledger ({entry.decision} {entry.model} version {entry.version})",
        "approver",
    )


def decider(context: Context, by: str | None, action: str) -> tuple[str, str]:
    """Who makes this decision and how that is known, checked before anything moves.

    On an authenticated store: the signed-in account (a --by naming anyone else is refused), which must
    hold the approver role where the environment requires approval. Elsewhere: --by, or this system's user."""
    signed_in = context.authenticated_user
    if signed_in is not None:
        if by and by != signed_in:
            raise CreditopsError(
                f"--by {by} is not the store's signed-in account {signed_in}: against an authenticated store the"
                f" {action} is recorded as the account that makes it; leave --by out"
            )
        if context.env.approval_required:
            from creditops.tracking.team_users import prove_approver

            prove_approver(context.store_uri, signed_in, f"{action} in {context.env.name}")
        return signed_in, AUTHENTICATED
    if by is not None and not by.strip():
        raise CreditopsError("--by must name who decides")
    import getpass

    return (by or getpass.getuser()), LOCAL_NAME


def registrant(context: Context, registry: Registry, version: VersionInfo) -> str | None:
    """Who registered `version`: on creditops' team store, the account its server recorded when the version
    was created (which the trainer cannot rewrite); elsewhere the version's `registered.by` tag."""
    if context.authenticated_user is not None:
        from creditops.tracking.auth_app import REGISTRANTS, registrant_key

        recorded = registry.model_tags(REGISTRANTS).get(registrant_key(version.name, version.version))
        if recorded:
            return recorded
    return version.tags.get(names.REGISTERED_BY)


def model_sha256(registry: Registry, version: VersionInfo) -> str:
    """The SHA-256 of the version's files as registered; for a version registered before digests were
    recorded, of its files as they are now (then recorded on the version)."""
    recorded = version.tags.get(names.MODEL_FILES)
    if recorded is not None:
        return integrity.combined(integrity.decode(recorded, f"tag {names.MODEL_FILES} of {version.uri}"))
    with registry.verified_files(version) as folder:
        digests = integrity.file_digests(folder)
    registry.set_tags(version.name, version.version, {names.MODEL_FILES: integrity.encode(digests)})
    return integrity.combined(digests)


def serving_refusal(context: Context, version: VersionInfo, entries: dict[str, LedgerEntry]) -> str | None:
    """Why `version` may not serve in the context's environment, or None when it may."""
    env = context.env.name
    withdrawn = withdrawal(version, env, entries.get(version.version))
    if withdrawn is not None or not context.env.approval_required:
        return withdrawn
    entry = entries.get(version.version)
    approve = f"'creditops approve --env {env} --version {version.version} --reason TEXT'"
    if entry is None or entry.decision not in SERVING_DECISIONS:
        return (
            f"version {version.version} of {version.name} has no approval for {env} in the approvals ledger"
            f" (an alias or tag set outside creditops is not one): an approver runs {approve}"
        )
    recorded = version.tags.get(names.MODEL_FILES)
    now = integrity.combined(integrity.decode(recorded, version.uri)) if recorded else None
    if now != entry.model_sha256:
        return (
            f"version {version.version} of {version.name} does not have the model files {entry.approved_by} approved"
            f" on {entry.approved_at} (SHA-256 {entry.model_sha256[:12]}…, now {(now or 'unrecorded')[:12]}…):"
            f" register it again and approve the new version"
        )
    return None


def withdrawal(version: VersionInfo, env: str, entry: LedgerEntry | None = None) -> str | None:
    """Why `version` may not be (re-)released in `env`: rolled back there and not approved since; else None.

    The ledger says so where it has the version; the version's own tags where it has none (an environment
    without approvals, or a store from before the ledger)."""
    approve = (
        f"approve it again to re-release ('creditops approve --env {env} --version {version.version}"
        " --by NAME --reason TEXT')"
    )
    if entry is not None:
        if entry.decision != WITHDRAWN:
            return None
        return f"version {version.version} was rolled back in {env} on {entry.at} by {entry.by}; {approve}"
    at = version.tags.get(names.rollback_tag(env, "at"))
    if at is None:
        return None
    approved = version.tags.get(names.APPROVAL_AT)
    if approved is not None and version.tags.get(names.APPROVAL_ENV) == env and approved >= at:
        return None
    by = version.tags.get(names.rollback_tag(env, "by"), "someone")
    return f"version {version.version} was rolled back in {env} on {at} by {by}; {approve}"


def withdrawn_in(version: VersionInfo) -> list[str]:
    """The environments where the version's tags say it was rolled back and not approved since."""
    environments = sorted(
        {key.split(".")[1] for key in version.tags if key.startswith("rollback.") and key.endswith(".at")}
    )
    return [env for env in environments if withdrawal(version, env) is not None]


def champion_in_custody(context: Context, registry: Registry) -> VersionInfo | None:
    """The version the `champion` alias names, refused in one line when it may not serve (moved
    outside creditops, withdrawn, or its files changed since approval); None where there is none."""
    versions = registry.versions(context.model_name)
    champion = next((info for info in versions if names.CHAMPION in info.aliases), None)
    if champion is None:
        return None
    refused = serving_refusal(context, champion, ledger(registry, context.env.name, context.model_name))
    if refused is not None:
        raise CreditopsError(f"the champion alias in {context.env.name} names version {champion.version}: {refused}")
    return champion


def record(
    registry: Registry,
    context: Context,
    version: VersionInfo,
    decision: str,
    who: tuple[str, str],
    reason: str,
    at: str,
) -> LedgerEntry | None:
    """Write the decision on `version` to the ledger where the environment requires approval; an approval
    binds the files the version has now. Decisions on one model are serialised on an embedded store (a
    file lock); on a server, which offers no compare-and-set, a decision overwritten at once by another
    (an approval racing a rollback) is read back and refused, never lost in silence."""
    if not context.env.approval_required:
        return None
    env = context.env.name
    with registry.registration_lock(f"ledger-{version.name}"):
        previous = ledger(registry, env, context.model_name).get(version.version)
        if decision == APPROVED or previous is None:
            approval = (model_sha256(registry, version), who[0] if decision == APPROVED else "", at)
        else:
            approval = (previous.model_sha256, previous.approved_by, previous.approved_at)
        entry = LedgerEntry(decision, version.name, version.version, env, *approval, who[0], who[1], at, reason[:500])
        write(registry, entry)
        now = ledger(registry, env, context.model_name).get(version.version)
    if now != entry:
        other = "nothing" if now is None else f"{now.decision} by {now.by} at {now.at}"
        raise CreditopsError(
            f"the {decision} of version {version.version} in {env} was overwritten at once by a concurrent decision"
            f" ({other}): see 'creditops status --env {env}', then decide again"
        )
    return entry


def approval_required(context: Context) -> bool:
    """Whether the context's environment (if it has one) requires approval: prod does."""
    return context.environment is not None and context.environment.approval_required


def guard(context: Context, action: str, model_uris: Iterable[str]) -> None:
    """Where approval is required: the decider must be an approver, and every model about to get traffic
    a registered version that may serve there. Refused in one line before anything changes."""
    if not approval_required(context):
        return
    decider(context, None, action)
    admit = admission(context)
    for uri in model_uris:
        refused = admit(uri) if admit is not None else None
        if refused is not None:
            raise CreditopsError(f"{action} refused in {context.env.name}: {refused}")


def admission(context: Context) -> Callable[[str], str | None] | None:
    """Where approval is required, why a model URI may not get traffic (None when it may); else None."""
    if not approval_required(context):
        return None
    registry = Registry(context.store_uri)
    entries = ledger(registry, context.env.name, context.model_name)
    env = context.env.name

    def refusal(uri: str) -> str | None:
        if not uri.startswith("models:/"):
            return f"{uri} is not a registered version: {env} serves approved registered versions only"
        return serving_refusal(context, registry.resolve(uri), entries)

    return refusal
