"""GitHub Actions' release.yml and staging.yml (calling release-flow.yml) replayed job by job (see replay.py)."""

import shutil
from pathlib import Path

import pytest
import yaml

from creditops.tracking import names, server, team_users
from creditops.tracking.registry import Registry

from .replay import (
    APPROVER,
    GATE_TABLE,
    MODEL,
    REPO,
    REPOSITORY,
    WORKFLOWS,
    GitHubRun,
    JobResult,
    _approvals_api,
    _champion_and_approver,
    _github_reviews,
    _github_variables,
    _prod_endpoint_answers,
    _production_data,
    _store_secrets,
)

pytestmark = pytest.mark.e2e


@pytest.mark.skipif(not server.available(), reason="PostgreSQL is not installed (apt-get install postgresql)")
def test_github_release_deploys_what_awaits_approved_by_the_reviewer_then_has_nothing_to_do(
    runners: Path, reachable: Path
) -> None:
    release = yaml.safe_load((WORKFLOWS / "release.yml").read_text())
    assert release["jobs"]["prod"]["with"] == {"environment": "prod"}
    flow = yaml.safe_load((WORKFLOWS / "release-flow.yml").read_text())["jobs"]
    assert [flow["candidate"]["needs"], flow["deploy"]["needs"]] == ["validate", "candidate"]
    assert flow["deploy"]["environment"] == "${{ inputs.environment }}"  # the reviewers' approval gates it
    store = server.start(runners / "team-store", data_dir=reachable / "postgres")
    try:
        admin = server.admin_credentials(runners / "team-store")
        team_users.add(store.tracking_uri, admin, "ci-trainer", "trainer-password-1", "trainer")
        team_users.add(store.tracking_uri, admin, "ci-approver", "approver-password-1", "approver")
        with _approvals_api(_github_reviews("4242", "prod", APPROVER)) as api:
            run = GitHubRun(
                runners,
                secrets=_store_secrets("prod", store.tracking_uri, accounts=True),
                github={"run_id": "4242", "token": "replay-token", "actor": "octocat"},
                variables=_github_variables(api, "4242"),
                data=_production_data(runners / "prod-data"),
                label="first",
            )
            first = run.workflow(WORKFLOWS / "release.yml")
            assert {job: result.status for job, result in first.items()} == {
                "prod": "success",
                "prod/validate": "success",
                "prod/candidate": "success",
                "prod/deploy": "success",
            }, first["prod/deploy"].log
            assert first["prod/candidate"].outputs == {"awaiting": "true", "version": "1"}
            # the gate's evidence where the reviewer approves: the run's summary page, and the card
            evidence = first["prod/candidate"].summary
            assert "## Gate decision: credit_default_model v1 in prod: awaiting-approval" in evidence, evidence
            assert GATE_TABLE in evidence
            assert list((first["prod/candidate"].runner or runners / "none").glob("gate-card/*.html"))
            assert api.asked == [f"/repos/{REPOSITORY}/actions/runs/4242/approvals"]
            # a second push with nothing new: the candidate publishes nothing awaiting, the deploy job is skipped
            run.label, run.github = "again", {**run.github, "run_id": "4243"}
            again = run.workflow(WORKFLOWS / "release.yml")
            assert again["prod/candidate"].status == "success", again["prod/candidate"].log
            assert again["prod/candidate"].outputs == {"awaiting": "false", "version": ""}
            assert again["prod/deploy"].status == "skipped"
            assert again["prod"].status == "success"
            assert again["prod/candidate"].summary == ""  # nothing was gated: no evidence shown
        with team_users.signed_in(store.tracking_uri, admin):
            # the store records its signed-in approver account; the reason names the reviewer GitHub names
            _champion_and_approver(store.tracking_uri, "ci-approver", via="authenticated store", reviewer=APPROVER)
            champion = Registry(store.tracking_uri).champion(MODEL)
            assert champion is not None
            assert "octocat" not in champion.tags.get(names.APPROVAL_REASON, "")
            assert "GitHub environment prod (run 4242)" in champion.tags.get(names.APPROVAL_REASON, "")
        _prod_endpoint_answers(runners / "first-deploy")
    finally:
        server.stop(runners / "team-store")
        shutil.rmtree(store.postgres_data or runners / "team-store", ignore_errors=True)


def test_github_staging_on_main_retrains_gates_and_deploys_without_asking_anyone(runners: Path) -> None:
    workflow = yaml.safe_load((WORKFLOWS / "staging.yml").read_text())
    assert workflow.get("on", workflow.get(True)) == {"push": {"branches": ["main"]}}
    staging = yaml.safe_load((REPO / "config" / "environments" / "staging.yaml").read_text())
    assert staging["approval_required"] is False  # so the candidate's release deploys and nobody is asked
    store, results, asked = _unreviewed(runners, "staging.yml", "staging", _production_data(runners / "staging-data"))
    assert asked == []
    candidate = results["staging/candidate"]
    assert candidate.status == "success", candidate.log
    assert candidate.outputs == {"awaiting": "false", "version": ""}
    assert results["staging/deploy"].status == "skipped"
    assert "## Gate decision: credit_default_model v1 in staging: promoted" in candidate.summary
    champion = Registry(store).champion(MODEL)
    assert champion is not None
    assert champion.version == "1"
    _prod_endpoint_answers(runners / "run-candidate", env="staging")


def test_github_prod_release_without_its_data_fails_in_one_line_and_invents_nothing(runners: Path) -> None:
    missing = runners / "prod-data" / "credit_default.parquet"
    store, results, _asked = _unreviewed(runners, "release.yml", "prod", missing)
    candidate = results["prod/candidate"]
    assert candidate.status == "failure"
    assert results["prod/deploy"].status == "skipped"
    assert candidate.summary == ""  # nothing was gated
    assert "is not there" in candidate.log
    assert "data.production" in candidate.log
    assert not missing.exists()
    assert not Registry(store).versions(MODEL)


def _unreviewed(runners: Path, workflow: str, env: str, data: Path) -> tuple[str, dict[str, JobResult], list[str]]:
    """`workflow` on a shared SQLite store with no reviews on record: the store, each job's result and the
    approvals API paths it asked."""
    store = f"sqlite:///{runners / 'shared-store' / 'mlflow.db'}"
    (runners / "shared-store").mkdir()
    with _approvals_api({}) as api:
        run = GitHubRun(
            runners,
            secrets=_store_secrets(env, store, accounts=False),
            github={"run_id": "5151", "token": "replay-token"},
            variables=_github_variables(api, "5151"),
            data=data,
        )
        return store, run.workflow(WORKFLOWS / workflow), api.asked
