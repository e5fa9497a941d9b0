"""Who approved this CI run's deployment: read from the CI system's own record of the review, not from
who pushed (`github.actor`) or who queued (`Build.RequestedFor`).

The choice of review is a pure function of the parsed API answers; the HTTP requests live in `fetch_json`
and the two `*_approval` functions, which read the pipeline's variables from the mapping they are given.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Final, Literal
from urllib.parse import quote

import httpx

from creditops.errors import CreditopsError

Source = Literal["github", "azure-devops"]
SOURCES: Final = ("github", "azure-devops")
TIMEOUT_SECONDS: Final = 15.0
GITHUB_API: Final = "https://api.github.com"
ADO_API_VERSION: Final = "7.1"
ADO_APPROVAL_RECORD: Final = "Checkpoint.Approval"
"""The type of a build timeline record that stands for an approval; its id is the approval's id."""

_NEEDS: Final[dict[str, str]] = {
    "github": "a GITHUB_TOKEN with 'permissions: actions: read' in the workflow job",
    "azure-devops": (
        "SYSTEM_ACCESSTOKEN mapped into the step ('env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)'; classic"
        " pipelines: 'Allow scripts to access the OAuth token') and the build service allowed to read the pipeline"
    ),
}
_NAMES: Final[dict[str, str]] = {"github": "GitHub", "azure-devops": "Azure DevOps"}


@dataclass(frozen=True)
class Approval:
    """One person's approval of a run's deployment: who, with which comment, when (None: not recorded)."""

    approver: str
    comment: str
    at: str | None
    source: str

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _name(value: object) -> str:
    """A name on one line (what `$(creditops ci approver)` captures), whitespace runs made one space."""
    return " ".join(_text(value).split())


def _items(answer: object, what: str) -> list[dict[str, Any]]:
    """The objects of a JSON list (or of an Azure DevOps `{"count", "value"}` page); anything else refused."""
    if isinstance(answer, dict) and isinstance(answer.get("value"), list):
        answer = answer["value"]
    if not isinstance(answer, list):
        raise CreditopsError(f"malformed answer: {what} is not a JSON list (got {type(answer).__name__})")
    return [item for item in answer if isinstance(item, dict)]


def github_approver(reviews: object, environment: str, run_id: str) -> Approval:
    """The approval of `environment` in a run's review history ("Get the review history for a workflow run").

    GitHub lists the reviews oldest first and gives them no time of their own, so `at` is None and the
    newest review is the last one naming the environment. A rejection newer than the approval wins: the
    deployment a rejected review stopped was not approved, whoever approved before."""
    decided = [
        review
        for review in _items(reviews, "the review history")
        if review.get("state") in ("approved", "rejected")
        and any(
            isinstance(named, dict) and named.get("name") == environment for named in _list(review.get("environments"))
        )
    ]
    if not decided:
        raise CreditopsError(
            f"nobody approved environment {environment} in run {run_id}: the job that deploys needs"
            f" 'environment: {environment}' with required reviewers, and a reviewer must approve it"
        )
    newest = decided[-1]
    user = newest.get("user")
    login = _name(user.get("login")) if isinstance(user, dict) else ""
    if newest["state"] == "rejected":
        raise CreditopsError(
            f"{login or 'a reviewer'} rejected environment {environment} in run {run_id} after any approval:"
            " nothing to record as approved"
        )
    if not login:
        raise CreditopsError(f"malformed answer: the approval of {environment} in run {run_id} names no user.login")
    return Approval(approver=login, comment=_text(newest.get("comment")), at=None, source="github")


def _identity(step: Mapping[str, Any]) -> str:
    """The approver's `uniqueName` (the sign-in name, e.g. jane@contoso.com): unique in the organization and
    unchanged when a person renames themselves, unlike `displayName`, which is used only when no unique
    name is given (a service identity)."""
    person = step.get("actualApprover")
    if not isinstance(person, dict):
        return ""
    return _name(person.get("uniqueName")) or _name(person.get("displayName"))


def _owner_id(approval: Mapping[str, Any]) -> str:
    pipeline = approval.get("pipeline")
    owner = pipeline.get("owner") if isinstance(pipeline, dict) else None
    return str(owner.get("id")) if isinstance(owner, dict) and owner.get("id") is not None else ""


def azure_devops_approval_ids(timeline: object) -> list[str]:
    """The ids of the approvals of a build: its timeline's `Checkpoint.Approval` records."""
    records = timeline.get("records") if isinstance(timeline, dict) else None
    if not isinstance(records, list):
        raise CreditopsError("malformed answer: the build timeline has no 'records' list")
    return [
        record["id"]
        for record in records
        if isinstance(record, dict) and record.get("type") == ADO_APPROVAL_RECORD and isinstance(record.get("id"), str)
    ]


def azure_devops_approver(approvals: object, build_id: str) -> Approval:
    """The newest decided step among the approvals of build `build_id` (Approvals - Query with
    `$expand=steps`): an approved step gives the approver; a rejected step newer than it is refused.

    The approvals of an Azure DevOps run do not name the environment they guard (their check does), so
    every approval of this build counts: one approval per pipeline, for the environment it deploys to."""
    steps = [
        step
        for approval in _items(approvals, "the approvals")
        if _owner_id(approval) == str(build_id)
        for step in _list(approval.get("steps"))
        if isinstance(step, dict) and step.get("status") in ("approved", "rejected")
    ]
    if not steps:
        raise CreditopsError(
            f"nobody approved the deployment of build {build_id}: its stage needs an environment with an"
            " 'Approvals' check, and an approver must approve it"
        )
    newest = max(steps, key=lambda step: _text(step.get("lastModifiedOn")))
    who = _identity(newest)
    if newest["status"] == "rejected":
        raise CreditopsError(f"{who or 'an approver'} rejected the deployment of build {build_id} after any approval")
    if not who:
        raise CreditopsError(f"malformed answer: the approval of build {build_id} names no actualApprover")
    at = _text(newest.get("lastModifiedOn")) or None
    return Approval(approver=who, comment=_text(newest.get("comment")), at=at, source="azure-devops")


def fetch_json(url: str, token: str, source: Source, params: Mapping[str, str] | None = None) -> object:
    """GET `url` with a bearer `token`; every failure is one CreditopsError naming what to fix."""
    system = _NAMES[source]
    try:
        answer = httpx.get(
            url,
            params=params,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as failure:
        raise CreditopsError(f"cannot reach {system} at {url}: {failure or type(failure).__name__}") from None
    status = answer.status_code
    # Azure DevOps answers a token it does not accept with 203 and a sign-in page
    if status in (401, 403) or (source == "azure-devops" and status == 203):
        raise CreditopsError(f"{system} refused the token ({status}) for {url}: it needs {_NEEDS[source]}")
    if status == 404:
        raise CreditopsError(f"{system} has no {url} (404): check the run, repository or project variables")
    if status >= 500:
        raise CreditopsError(f"{system} failed ({status}) on {url}: try again later")
    if status != 200:
        raise CreditopsError(f"{system} answered {status} on {url}: {answer.text[:200]!r}")
    try:
        return answer.json()
    except ValueError:
        raise CreditopsError(f"malformed answer: {system} sent no JSON for {url}") from None


def _required(variables: Mapping[str, str], *names: str) -> list[str]:
    missing = [name for name in names if not variables.get(name, "").strip()]
    if missing:
        raise CreditopsError(
            f"environment variable{'s' if len(missing) > 1 else ''} {', '.join(missing)} not set: run this in"
            " the CI job (or export them)"
        )
    return [variables[name].strip() for name in names]


def github_approval(variables: Mapping[str, str], environment: str) -> Approval:
    """Who approved `environment` in this GitHub Actions run (GITHUB_REPOSITORY, GITHUB_RUN_ID, GITHUB_TOKEN;
    GITHUB_API_URL defaults to api.github.com)."""
    repository, run_id, token = _required(variables, "GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_TOKEN")
    api = (variables.get("GITHUB_API_URL", "").strip() or GITHUB_API).rstrip("/")
    reviews = fetch_json(f"{api}/repos/{repository}/actions/runs/{quote(run_id)}/approvals", token, "github")
    return github_approver(reviews, environment, run_id)


def azure_devops_approval(variables: Mapping[str, str]) -> Approval:
    """Who approved this Azure Pipelines run (SYSTEM_COLLECTIONURI, SYSTEM_TEAMPROJECTID or
    SYSTEM_TEAMPROJECT, BUILD_BUILDID, SYSTEM_ACCESSTOKEN): the approvals named by the build's timeline,
    read with their steps."""
    collection, build_id, token = _required(variables, "SYSTEM_COLLECTIONURI", "BUILD_BUILDID", "SYSTEM_ACCESSTOKEN")
    project = variables.get("SYSTEM_TEAMPROJECTID", "").strip() or variables.get("SYSTEM_TEAMPROJECT", "").strip()
    if not project:
        raise CreditopsError(
            "environment variables SYSTEM_TEAMPROJECTID and SYSTEM_TEAMPROJECT not set: run this in the"
            " pipeline's job (or export one of them)"
        )
    base = f"{collection.rstrip('/')}/{quote(project)}/_apis"
    timeline = fetch_json(
        f"{base}/build/builds/{quote(build_id)}/timeline", token, "azure-devops", {"api-version": ADO_API_VERSION}
    )
    ids = azure_devops_approval_ids(timeline)
    if not ids:
        raise CreditopsError(
            f"nobody approved the deployment of build {build_id}: its timeline has no approval (is the stage's"
            " environment protected by an 'Approvals' check, and does this step run after it?)"
        )
    approvals = fetch_json(
        f"{base}/pipelines/approvals",
        token,
        "azure-devops",
        {"approvalIds": ",".join(ids), "$expand": "steps", "api-version": ADO_API_VERSION},
    )
    return azure_devops_approver(approvals, build_id)


def approval(source: str, variables: Mapping[str, str], environment: str) -> Approval:
    """Who approved this run's deployment to `environment`, asked of `source` (github or azure-devops)."""
    if source == "github":
        return github_approval(variables, environment)
    if source == "azure-devops":
        return azure_devops_approval(variables)
    raise CreditopsError(f"--from must be github or azure-devops, not {source!r}")
