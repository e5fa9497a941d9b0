"""Azure Pipelines' cicd.yml replayed stage by stage (see replay.py)."""

from pathlib import Path

import pytest
import yaml

from creditops.tracking import names
from creditops.tracking.registry import Registry

from .replay import (
    ADO_APPROVER,
    GATE_TABLE,
    MODEL,
    PIPELINES,
    AzureRun,
    _ado_approvals,
    _approvals_api,
    _azure_variables_for,
    _champion_and_approver,
    _prod_endpoint_answers,
    _production_data,
)

pytestmark = pytest.mark.e2e


def test_azure_pipelines_deploy_what_awaits_approved_by_the_approver_then_skip_the_deploy_stage(
    runners: Path,
) -> None:
    cicd = yaml.safe_load((PIPELINES / "cicd.yml").read_text())
    stages = {stage["stage"]: stage for stage in cicd["stages"]}
    assert [stages["candidate"]["dependsOn"], stages["deploy"]["dependsOn"]] == ["validate", "candidate"]
    assert _azure_variables_for("refs/heads/releases/1.0").name == "variables-prod.yml"
    assert _azure_variables_for("refs/heads/main").name == "variables-staging.yml"
    shared = f"sqlite:///{runners / 'shared-store' / 'mlflow.db'}"
    (runners / "shared-store").mkdir()
    group = {  # the variable group creditops-prod: a store without accounts
        "mlflowTrackingUri": shared,
        "System.AccessToken": "replay-access-token",
    }
    with _approvals_api(_ado_approvals("77", ADO_APPROVER)) as api:
        agent = {
            "SYSTEM_COLLECTIONURI": f"{api.url}/org/",
            "SYSTEM_TEAMPROJECT": "creditops",
            "BUILD_BUILDID": "77",
        }
        run = AzureRun(
            runners,
            "refs/heads/releases/1.0",
            group,
            agent,
            data=_production_data(runners / "prod-data"),
            label="first",
        )
        first = run.run()
        assert first["candidate"].status == "success", first["candidate"].log
        assert first["candidate"].outputs == {"awaiting": "true", "version": "1", "gated": "true"}
        assert "## Gate decision: credit_default_model v1 in prod: awaiting-approval" in first["candidate"].summary
        assert GATE_TABLE in first["candidate"].summary
        assert first["deploy"].status == "success", first["deploy"].log
        # nothing new: the deploy stage's condition is false, nobody is asked
        run.label, run.variables = "again", {**agent, "BUILD_BUILDID": "78"}
        asked = len(api.asked)
        again = run.run()
        assert again["candidate"].status == "success", again["candidate"].log
        assert again["candidate"].outputs == {"awaiting": "false", "version": "", "gated": "false"}
        assert again["deploy"].status == "skipped"
        assert again["candidate"].summary == ""
        assert len(api.asked) == asked
    _champion_and_approver(shared, ADO_APPROVER, reviewer=ADO_APPROVER)
    champion = Registry(shared).champion(MODEL)
    assert champion is not None
    assert "Azure DevOps environment creditops-prod (run 77)" in champion.tags.get(names.APPROVAL_REASON, "")
    _prod_endpoint_answers(runners / "first-deploy")
