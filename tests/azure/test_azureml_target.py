"""The Azure ML target against the in-memory MLClient stand-in: blue/green as locally, batch, errors.

The models are real registry versions; each stand-in deployment runs creditops' own scoring script on
the model the target uploaded, behind an HTTP front with Azure ML's routing rules.
"""

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from creditops.azure.online import AzureMLTarget
from creditops.cli import main
from creditops.config.modelling import ModellingConfig
from creditops.context import from_process
from creditops.data.contract import uci
from creditops.data.io import write_table
from creditops.data.synth import synthesize
from creditops.endpoints import blue_green
from creditops.endpoints.decisions import MirrorLimits
from creditops.endpoints.targets import target_for
from creditops.errors import CreditopsError
from creditops.pipeline import run_pipeline
from creditops.serving.loading import load_for_serving
from creditops.serving.protocol import SAMPLE_REQUEST
from creditops.serving.requests import parse_request

from .project import MODEL, WORKSPACE, inside, write_azure_project
from .standin import StandInML

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A project whose prod endpoint is on Azure ML, and a prod registry holding versions 1 and 2."""
    root = tmp_path_factory.mktemp("azure-project")
    write_azure_project(root, rollout={"requests_per_step": 20})
    with inside(root):
        data = write_table(synthesize(1_500, 3), root / "data.csv")
        for trees in (5, 40):
            config = ModellingConfig.model_validate({"train": {"n_estimators": trees}, "eval": {"tolerance": 1.0}})
            run_pipeline(data, config, from_process("prod"))
        yield root


@pytest.fixture
def ws(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandInML]:
    monkeypatch.chdir(project)
    standin = StandInML(tmp_path / "workspace", store_uri=from_process("staging").store_uri)
    monkeypatch.setattr("creditops.azure.online.workspace_client", lambda variables: standin)
    monkeypatch.setattr("creditops.azure.workspace.client", lambda variables: standin)
    yield standin
    standin.close()


def _target(ws: StandInML) -> AzureMLTarget:
    target = target_for(from_process("prod"), "creditops-prod")
    assert isinstance(target, AzureMLTarget)
    assert target.ml is ws
    target.ensure()
    return target


def _roll(target: AzureMLTarget, version: str, **options: object) -> blue_green.RolloutReport:
    return blue_green.rollout(
        target, f"models:/{MODEL}/{version}", SAMPLE_REQUEST.read_bytes(), say=lambda _: None, **options
    )


def test_blue_green_on_azure_ml_ends_with_the_new_model_live_and_the_old_one_remembered(ws: StandInML) -> None:
    target = _roll_first(ws)
    report = _roll(
        target, "2", steps=(10, 50, 100), mirror_percent=20, mirror_limits=MirrorLimits(0.5, 0.25, 1.0, 0, 250.0)
    )
    assert report.deployment.name == "green"
    assert report.mirror is not None
    assert report.mirror.rows > 0
    assert target.traffic() == {"green": 100}
    assert set(target.deployments()) == {"green"}
    assert target.history() == [{"model_uri": f"models:/{MODEL}/1", "model_version": "1"}]
    assert f"model create {MODEL}:2" in ws.calls
    assert ws.endpoints["creditops-prod"].tags.get("creditops.rollout") is None
    traffic_steps = [call for call in ws.calls if call == "endpoint update creditops-prod"]
    assert len(traffic_steps) >= 5  # plan, mirror on and off, three traffic steps, plan cleared


def _roll_first(ws: StandInML) -> AzureMLTarget:
    target = _target(ws)
    _roll(target, "1")
    assert target.traffic() == {"blue": 100}
    return target


def test_azure_answers_are_the_local_service_answers(ws: StandInML) -> None:
    target = _roll_first(ws)
    answer = target.invoke(SAMPLE_REQUEST.read_bytes())
    assert answer.status_code == 200
    assert answer.headers["azureml-model-deployment"] == "blue"
    loaded = load_for_serving(from_process("prod").store_uri, f"models:/{MODEL}/1")
    expected = loaded.model.predict_proba(parse_request(SAMPLE_REQUEST.read_bytes(), uci(), max_rows=100).features)
    got = [row["probability"] for row in orjson.loads(answer.content)["predictions"]]
    assert got == pytest.approx(expected.tolist(), abs=1e-12)
    refused = target.invoke(b'{"input_data": {"columns": ["LIMIT_BAL"], "data": [[1]]}}')
    assert refused.status_code == 422
    assert "PAY_0" in refused.json()["error"] or "column" in refused.json()["error"]


def test_a_failed_smoke_test_leaves_the_traffic_as_it_was(ws: StandInML) -> None:
    target = _roll_first(ws)
    ws.failing.add("green")
    with pytest.raises(CreditopsError, match="rolled back: smoke test of green failed: HTTP 200: got 500"):
        _roll(target, "2")
    assert target.traffic() == {"blue": 100}
    assert set(target.deployments()) == {"blue"}
    assert ws.endpoints["creditops-prod"].tags.get("creditops.rollout") is None


def test_a_deployment_that_fails_to_start_is_removed_and_traffic_kept(ws: StandInML) -> None:
    target = _roll_first(ws)
    ws.fail_init.add("green")
    with pytest.raises(CreditopsError, match=r"deployment green of .* failed: deployment green: container crashed"):
        _roll(target, "2")
    assert target.traffic() == {"blue": 100}
    assert set(target.deployments()) == {"blue"}


def test_rollback_returns_to_the_previous_model(ws: StandInML) -> None:
    target = _roll_first(ws)
    _roll(target, "2", steps=(100,))
    back = blue_green.rollback(target, SAMPLE_REQUEST.read_bytes(), say=lambda _: None)
    assert (back.name, back.model_version) == ("blue", "1")
    assert target.traffic() == {"blue": 100}
    assert target.history() == []


def test_more_mirror_than_azure_allows_is_refused_and_restored(ws: StandInML) -> None:
    target = _roll_first(ws)
    with pytest.raises(CreditopsError, match="at most 50% of live traffic"):
        _roll(target, "2", mirror_percent=60)
    assert target.traffic() == {"blue": 100}
    assert set(target.deployments()) == {"blue"}


def test_an_unfinished_rollout_is_named_and_recovered(ws: StandInML) -> None:
    target = _roll_first(ws)
    from creditops.endpoints.state import RolloutPlan

    target.record_plan(RolloutPlan(4242, "green", f"models:/{MODEL}/2", {"blue": 100}, "blue", "2026-11-30T00:00:00"))
    with pytest.raises(CreditopsError, match=r"rollout of models:/credit_default_model/2 in progress .* recover"):
        _roll(target, "2")
    assert "traffic restored to blue=100%" in target.recover()
    assert "nothing to recover" in target.recover()


def test_missing_workspace_variables_are_named_with_az_login(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    for name in WORKSPACE:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_RESOURCE_GROUP", "rg")
    with pytest.raises(CreditopsError) as raised:
        target_for(from_process("prod"), "creditops-prod")
    message = str(raised.value)
    assert "AZURE_SUBSCRIPTION_ID, AZUREML_WORKSPACE_NAME" in message
    assert "AZURE_RESOURCE_GROUP" not in message.split("set ")[1].split(" and")[0]
    assert "az login" in message
    assert "\n" not in message


def test_the_command_line_rolls_out_shows_invokes_and_deletes_on_azure_ml(
    ws: StandInML, capsys: pytest.CaptureFixture[str]
) -> None:
    model = f"models:/{MODEL}/1"
    assert main(["endpoint", "--env", "prod", "rollout", "creditops-prod", "--model", model]) == 1
    assert "refused in prod: version 1 of credit_default_model has no approval" in capsys.readouterr().err
    for version in ("1", "2"):  # prod serves approved versions only, on Azure ML too
        assert main(["approve", "--env", "prod", "--version", version, "--by", "ana", "--reason", "ok"]) == 0
    assert main(["endpoint", "--env", "prod", "rollout", "creditops-prod", "--model", model]) == 1
    assert "create it with 'creditops endpoint --env prod create creditops-prod'" in capsys.readouterr().err
    assert main(["endpoint", "--env", "prod", "create", "creditops-prod"]) == 0
    assert main(["endpoint", "--env", "prod", "rollout", "creditops-prod", "--model", model]) == 0
    assert main(["endpoint", "--env", "prod", "rollout", "creditops-prod", "--model", f"models:/{MODEL}/2"]) == 0
    capsys.readouterr()
    assert main(["endpoint", "--env", "prod", "show", "creditops-prod", "--output", "json"]) == 0
    shown = orjson.loads(capsys.readouterr().out)
    assert shown["traffic"] == {"green": 100}
    assert shown["deployments"]["green"]["model_version"] == "2"
    assert main(["endpoint", "--env", "prod", "invoke", "creditops-prod"]) == 0
    assert '"model_version": "2"' in capsys.readouterr().out
    assert main(["endpoint", "--env", "prod", "logs", "creditops-prod", "--tail", "5"]) == 0
    assert "init() done" in capsys.readouterr().out
    assert main(["endpoint", "--env", "prod", "rollback", "creditops-prod"]) == 0
    assert main(["endpoint", "--env", "prod", "delete", "creditops-prod"]) == 0
    assert "creditops-prod" not in ws.endpoints


def test_batch_endpoint_scores_a_folder_and_a_failed_job_fails(ws: StandInML, tmp_path: Path) -> None:
    from creditops.azure.batch import batch_smoke, deploy_batch

    context = from_process("prod")
    target = _target(ws)
    assert target.exists()
    assert deploy_batch(ws, context, f"models:/{MODEL}/2", say=lambda _: None) == "2"
    good = tmp_path / "good"
    write_table(synthesize(50, 9), good / "part-1.csv")
    write_table(synthesize(30, 10), good / "part-2.parquet")
    assert batch_smoke(ws, context, good, say=lambda _: None) == "Completed"
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.csv").write_text("LIMIT_BAL\n1\n")
    with pytest.raises(CreditopsError, match=r"batch smoke test failed: job .* ended Failed"):
        batch_smoke(ws, context, bad, say=lambda _: None)
    with pytest.raises(CreditopsError, match="not a folder of data files"):
        batch_smoke(ws, context, tmp_path / "nothing", say=lambda _: None)


def test_ci_release_lands_on_azure_ml_and_records_it(ws: StandInML, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ci", "release", "--env", "staging"]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "trained on Azure ML: credit_default_model version 1" in said  # the pipeline ran in the workspace
    assert "deployed to the Azure ML endpoint creditops-staging at http://127.0.0.1:" in said
    assert "batch smoke test passed" in said
    endpoint = ws.endpoints["creditops-staging"]
    assert endpoint.traffic == {"blue": 100}
    assert ws.running[("creditops-staging", "blue")].module is not None
    assert main(["ci", "release", "--env", "staging"]) == 0  # nothing new: the champion keeps serving
    assert "already the champion" in capsys.readouterr().out
    assert ws.endpoints["creditops-staging"].traffic == {"blue": 100}


def test_pr_validation_smoke_tests_on_an_ephemeral_azure_ml_endpoint_and_deletes_it(
    ws: StandInML, tmp_path: Path
) -> None:
    from creditops.flow import pr_validation

    pr_validation._integration(tmp_path)
    said = pr_validation.azure_smoke(tmp_path, WORKSPACE, ml=ws)
    assert said.startswith("ephemeral Azure ML endpoint pr-")
    assert ws.endpoints == {}
    assert any(call.startswith("endpoint delete pr-") for call in ws.calls)
    ws.failing.add("blue")
    with pytest.raises(CreditopsError, match="smoke test of blue failed"):
        pr_validation.azure_smoke(tmp_path, WORKSPACE, ml=ws)
    assert ws.endpoints == {}
    with pytest.raises(CreditopsError, match="set AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP"):
        pr_validation.azure_smoke(tmp_path, {}, ml=ws)


def test_what_azure_ml_cannot_deploy_is_refused_with_the_way_out(ws: StandInML, project: Path, capsys) -> None:
    from creditops.azure.models import workspace_model

    store = from_process("prod").store_uri
    with pytest.raises(CreditopsError, match="is a model folder: Azure ML deploys registered versions"):
        workspace_model(ws, store, str(project))
    workspace_model(ws, store, f"models:/{MODEL}/1")
    (ws.model_files[(MODEL, "1")] / ".tags.json").write_text('{"creditops.fingerprint": "another"}')
    with pytest.raises(CreditopsError, match=r"workspace's model credit_default_model:1 is not this registry's"):
        workspace_model(ws, store, f"models:/{MODEL}/1")
    _target(ws)
    assert main(["endpoint", "--env", "prod", "invoke", "creditops-prod", "--data", "rows.csv"]) == 1
    assert (
        "--data sends a file to a local endpoint; on Azure ML use 'creditops azure batch-smoke'"
        in capsys.readouterr().err
    )


def test_the_scoring_script_names_what_its_container_lacks(tmp_path: Path) -> None:
    from creditops.serving.azureml_score import AzureScorer

    with pytest.raises(FileNotFoundError, match="no MLflow model"):
        AzureScorer(tmp_path, {})
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "MLmodel").write_text("flavors: {}\n")
    with pytest.raises(KeyError, match="CREDITOPS_DEPLOYMENT, CREDITOPS_MODEL_NAME, CREDITOPS_MODEL_VERSION"):
        AzureScorer(tmp_path, {})
