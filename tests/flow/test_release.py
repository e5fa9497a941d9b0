"""The release flow end to end on a throwaway project: gate, approval, promotion, no-op, rollback."""

import json
import re
from pathlib import Path

import mlflow
import pytest
import yaml

from creditops import processes
from creditops.context import from_process
from creditops.endpoints import state
from creditops.endpoints.targets.local import LocalTarget
from creditops.errors import CreditopsError
from creditops.flow import release
from creditops.flow.custody import withdrawn_in
from creditops.flow.rollback import rollback
from creditops.pipeline import run_pipeline
from creditops.report.build import report_path
from creditops.serving.protocol import SAMPLE_REQUEST
from creditops.tracking import names
from creditops.tracking.registry import Registry, VersionInfo

pytestmark = pytest.mark.e2e


def _change_modelling(project: Path, n_estimators: int) -> None:
    """New code: other trees, and a tolerance so that the retrained model becomes a candidate."""
    path = project / "config" / "modelling.json"
    settings = json.loads(path.read_text())
    settings["train"]["n_estimators"] = n_estimators
    settings["eval"]["tolerance"] = 0.2
    path.write_text(json.dumps(settings))


def _champion(env: str) -> str | None:
    context = from_process(env)
    found = Registry(context.store_uri).versions(context.model_name)
    return next((info.version for info in found if names.CHAMPION in info.aliases), None)


def _aliases(env: str, version: str) -> tuple[str, ...]:
    context = from_process(env)
    return Registry(context.store_uri).describe(context.model_name, version).aliases


def _version(env: str, version: str) -> VersionInfo:
    context = from_process(env)
    return Registry(context.store_uri).describe(context.model_name, version)


def _card(env: str, version: str) -> str:
    context = from_process(env)
    return report_path(context.reports_dir, context.model_name, version).read_text(encoding="utf-8")


def test_release_waits_for_approval_then_promotes_and_rolls_back(project: Path) -> None:
    said: list[str] = []
    # The first release retrains on prod data and stops: prod needs a person's approval
    with pytest.raises(release.AwaitingApprovalError) as waiting:
        release.release(from_process("prod"), say=said.append)
    assert waiting.value.exit_code == 3
    assert "creditops approve --env prod --version 1" in str(waiting.value)
    assert _champion("prod") is None
    assert release.gate_report(from_process("prod"), "1")["decision"] == "awaiting-approval"

    release.approve(from_process("prod"), "1", "ana", "first production model")
    record = release.release(from_process("prod"), say=said.append)
    assert record["decision"] == "promoted"
    assert record["approver"] == "ana"
    assert {check["name"]: check["verdict"] for check in record["checks"]}["smoke_test"] == "pass"
    assert record["data_sha256"]
    assert record["environment_lock_hash"]
    assert _champion("prod") == "1"

    # Nothing changed: the release is a no-op that says so
    assert release.release(from_process("prod"), say=said.append) is None
    assert "already the champion" in said[-1]
    # …and after the endpoint was deleted, the same no-op release brings it back serving the champion
    endpoint = from_process("prod").env.endpoint.name
    LocalTarget(from_process("prod"), endpoint).delete()
    assert release.release(from_process("prod"), say=said.append) is None
    assert (
        LocalTarget(from_process("prod"), endpoint).invoke(SAMPLE_REQUEST.read_bytes()).json()["model_version"] == "1"
    )

    # New code config → a new candidate, approved and promoted; then a one-command rollback
    _change_modelling(project, n_estimators=150)
    with pytest.raises(release.AwaitingApprovalError, match="--version 2"):
        release.release(from_process("prod"), say=said.append)
    release.approve(from_process("prod"), "2", "ana", "more trees")
    promoted = release.promote(from_process("prod"), "2", say=said.append)
    assert _champion("prod") == "2"
    # The stored card compares with the champion the gate compared with (v1), not the moved alias
    card = _card("prod", "2")
    assert "No other champion to compare with" not in card
    assert "champion v1" in card
    assert "Champion in prod." in card
    mirror = promoted["rollout"]["mirror"]  # prod mirrors 20 % of live requests before any live traffic
    assert mirror["rows"] > 0
    assert mirror["errors"] == 0
    assert any(message.startswith("green mirrored") for message in said)
    assert (
        LocalTarget(from_process("prod"), endpoint).invoke(SAMPLE_REQUEST.read_bytes()).json()["model_version"] == "2"
    )

    rollback(from_process("prod"), by="bo", reason="complaints", say=said.append)
    assert _champion("prod") == "1"
    assert (
        LocalTarget(from_process("prod"), endpoint).invoke(SAMPLE_REQUEST.read_bytes()).json()["model_version"] == "1"
    )
    assert names.PREVIOUS_CHAMPION not in _aliases("prod", "2")  # it never names a withdrawn version
    assert withdrawn_in(_version("prod", "2")) == ["prod"]
    # Both stored cards say what the rollback did: v2 withdrawn, v1 the champion again
    assert "Rolled back / withdrawn in prod: version 2 was rolled back in prod" in _card("prod", "2")
    assert "Reason: complaints." in _card("prod", "2")
    assert "Restored as the champion in prod since version 2 was rolled back" in _card("prod", "1")
    # A second rollback does not bring back what the first withdrew: nothing earlier may serve, nothing moves
    with pytest.raises(CreditopsError, match="no earlier champion in prod that is approved and not withdrawn"):
        rollback(from_process("prod"), by="bo", reason="again", say=said.append)
    assert _champion("prod") == "1"
    assert (
        LocalTarget(from_process("prod"), endpoint).invoke(SAMPLE_REQUEST.read_bytes()).json()["model_version"] == "1"
    )

    # The rollback stays: a release with nothing changed does not bring version 2 back …
    assert release.release(from_process("prod"), say=said.append) is None
    assert "version 2 was rolled back in prod" in said[-1]
    assert "by bo" in said[-1]
    assert _champion("prod") == "1"
    with pytest.raises(CreditopsError, match="approve it again to re-release"):
        release.promote(from_process("prod"), "2", say=said.append)
    assert release.gate_report(from_process("prod"), "2")["decision"] == "rolled-back"
    # … until someone approves it again
    release.approve(from_process("prod"), "2", "ana", "fixed upstream")
    assert withdrawn_in(_version("prod", "2")) == []
    assert release.release(from_process("prod"), say=said.append)["decision"] == "promoted"
    assert _champion("prod") == "2"


def test_dev_needs_no_approval_and_a_blocked_gate_records_why(project: Path) -> None:
    record = release.release(from_process("dev"), say=lambda message: None)
    assert record["decision"] == "promoted"
    assert {check["name"]: check["verdict"] for check in record["checks"]}["approval"] == "pass"
    # a weak candidate is blocked by the minimum, with evidence
    environments = project / "config" / "environments"
    settings = yaml.safe_load((environments / "dev.yaml").read_text())
    settings["gate"]["min_roc_auc"] = 0.99
    (environments / "dev.yaml").write_text(yaml.safe_dump(settings))
    _change_modelling(project, n_estimators=20)
    context = from_process("dev")
    result = run_pipeline(release.ensure_data(context), context.modelling, context, promote=False)
    candidate = result.registration.version or "2"
    with pytest.raises(CreditopsError, match=r"gate blocked version \d+ in dev: minimum_roc_auc"):
        release.promote(from_process("dev"), candidate, say=lambda message: None)
    assert _champion("dev") == "1"
    assert release.gate_report(from_process("dev"), candidate)["decision"] == "blocked"


def test_a_release_trains_on_the_dask_cluster_its_environment_names(project: Path) -> None:
    pytest.importorskip("distributed")
    environments = project / "config" / "environments"
    settings = yaml.safe_load((environments / "dev.yaml").read_text())
    settings["compute"] = {**settings.get("compute", {}), "dask_scheduler": "local:2"}
    (environments / "dev.yaml").write_text(yaml.safe_dump(settings))
    said: list[str] = []
    record = release.release(from_process("dev"), say=said.append)
    assert record["decision"] == "promoted"
    assert "training on the Dask cluster local:2 (the environment's compute.dask_scheduler)" in said
    params = mlflow.MlflowClient(from_process("dev").store_uri).get_run(_version("dev", "1").run_id).data.params
    assert params["cluster.scheduler"].startswith("tcp://127.0.0.1:")  # the command's own LocalCluster
    assert re.fullmatch(r"all \d{3} rows of the test split, collected from the cluster", params["evaluation.rows"])


def test_unknown_environment_and_version_are_clear(project: Path) -> None:
    with pytest.raises(CreditopsError, match="unknown environment 'qa'"):
        release.release(from_process("qa"))
    with pytest.raises(CreditopsError, match=r"no registered model named 'credit_default_model' in .*prod"):
        release.approve(from_process("prod"), "7", "ana", "why")
    with pytest.raises(CreditopsError, match="no earlier champion in staging that is approved and not withdrawn"):
        rollback(from_process("staging"), by="ana", reason="why")


def test_a_busy_port_names_the_endpoint_holding_it_and_port_chooses_another(project: Path) -> None:
    dev = from_process("dev")
    LocalTarget(dev, "holder-ep").create(processes.free_port(), auth="none")
    held = state.load(dev.endpoints_dir, "holder-ep")
    settings = yaml.safe_load((project / "config" / "environments" / "prod.yaml").read_text())
    settings["endpoint"]["port"] = held.port
    (project / "config" / "environments" / "prod.yaml").write_text(yaml.safe_dump(settings))
    with pytest.raises(
        CreditopsError,
        match=rf"port {held.port} for endpoint creditops-prod is in use by endpoint holder-ep"
        rf" \(workspace {re.escape(str(dev.workspace))}\): pass --port with a free one, or set endpoint.port to null",
    ):
        LocalTarget(from_process("prod"), "creditops-prod").ensure()
    chosen = processes.free_port()
    LocalTarget(from_process("prod"), "creditops-prod").ensure(chosen)
    assert state.load(from_process("prod").endpoints_dir, "creditops-prod").port == chosen
    LocalTarget(dev, "holder-ep").delete()


def test_prod_refuses_uncommitted_code_unless_allowed_and_records_it(project: Path, capsys) -> None:
    import subprocess

    from creditops.cli import main

    identity = ["-c", "user.name=ana", "-c", "user.email=ana@example.invalid"]
    (project / "notes.txt").write_text("release notes\n")
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run(["git", "add", "notes.txt", "config"], cwd=project, check=True)
    subprocess.run(["git", *identity, "commit", "-qm", "release"], cwd=project, check=True)
    (project / "notes.txt").write_text("an edit not yet committed\n")

    assert main(["ci", "release", "--env", "prod"]) == 1
    error = capsys.readouterr().err
    assert "the working tree has uncommitted changes: prod takes committed code only" in error
    assert "--allow-dirty" in error
    assert Registry(from_process("prod").store_uri).versions("credit_default_model") == []  # nothing trained

    assert main(["ci", "release", "--env", "prod", "--allow-dirty"]) == 3  # trained, gated, awaiting approval
    assert "this release is marked dirty" in capsys.readouterr().out
    version = Registry(from_process("prod").store_uri).describe("credit_default_model", "1")
    assert version.tags["git_commit"].endswith("-dirty")
    assert version.tags[names.DIRTY_ALLOWED] == "true"
    assert main(["gate", "report", "1", "--env", "prod", "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["dirty_allowed"] is True

    assert main(["approve", "--env", "prod", "--version", "1", "--by", "ana", "--reason", "hotfix"]) == 0
    assert main(["promote", "--env", "prod", "--version", "1"]) == 1  # the version itself is dirty
    assert "version 1 was trained from uncommitted changes" in capsys.readouterr().err
