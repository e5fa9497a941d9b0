"""Chain of custody on a prod store: the approvals ledger, not an alias or a tag anyone can write, decides
what serves; a model file changed after registration or approval is refused by name."""

import json
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import mlflow
import pytest

from creditops import processes
from creditops.cli import main
from creditops.context import from_process
from creditops.endpoints import state
from creditops.endpoints.targets.local import LocalTarget
from creditops.errors import CreditopsError
from creditops.flow import custody, release
from creditops.flow.rollback import rollback
from creditops.flow.status import environment_status
from creditops.serving.protocol import SAMPLE_REQUEST
from creditops.tracking import integrity, names
from creditops.tracking.registry import Registry

pytestmark = pytest.mark.e2e
MODEL = "credit_default_model"


def _registry() -> Registry:
    return Registry(from_process("prod").store_uri)


def _served(endpoint: str) -> str:
    return str(LocalTarget(from_process("prod"), endpoint).invoke(SAMPLE_REQUEST.read_bytes()).json()["model_version"])


def _model_folder(version: str) -> Path:
    """Where the store keeps the version's files (an embedded store: a local folder)."""
    uri = mlflow.MlflowClient(_registry().uri, _registry().uri).get_model_version_download_uri(MODEL, version)
    return Path(url2pathname(urlsplit(uri).path))


def _new_candidate(project: Path, n_estimators: int) -> None:
    path = project / "config" / "modelling.json"
    settings = json.loads(path.read_text())
    settings["train"]["n_estimators"], settings["eval"]["tolerance"] = n_estimators, 0.2
    path.write_text(json.dumps(settings))
    with pytest.raises(release.AwaitingApprovalError):
        release.release(from_process("prod"), say=lambda message: None)


def test_tags_and_aliases_written_outside_creditops_serve_nothing_in_prod(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    quiet = lambda message: None  # noqa: E731
    with pytest.raises(release.AwaitingApprovalError):
        release.release(from_process("prod"), say=quiet)
    # Approval tags written straight to the version (what a trainer's EDIT allows) approve nothing
    forged = {names.APPROVAL_BY: "ana", names.APPROVAL_ENV: "prod", names.APPROVAL_AT: "2999-01-01T00:00:00+00:00"}
    _registry().set_tags(MODEL, "1", forged)
    with pytest.raises(release.AwaitingApprovalError, match="--version 1"):
        release.release(from_process("prod"), say=quiet)

    approved = release.approve(from_process("prod"), "1", "ana", "first production model")
    entry = custody.ledger(_registry(), "prod", MODEL)["1"]
    assert (entry.decision, entry.by, entry.via) == ("approved", "ana", "local name")
    recorded = integrity.decode(approved.tags[names.MODEL_FILES], "tag")
    assert entry.model_sha256 == integrity.combined(recorded)
    assert set(recorded) >= {"MLmodel", "model.lgb"}
    assert release.release(from_process("prod"), say=quiet)["decision"] == "promoted"
    assert custody.ledger(_registry(), "prod", MODEL)["1"].decision == "promoted"
    endpoint = from_process("prod").env.endpoint.name
    assert _served(endpoint) == "1"

    # The champion alias moved to an unapproved version through the registry's API: refused, and said
    code = (project / "config" / "modelling.json").read_text()
    _new_candidate(project, n_estimators=150)
    _registry().set_alias(MODEL, names.CHAMPION, "2")
    with pytest.raises(CreditopsError, match=r"champion alias in prod names version 2: .*no approval for prod"):
        release.release(from_process("prod"), say=quiet)
    problems = environment_status(from_process("prod")).problems
    assert any(problem.startswith("custody: the champion alias in prod names version 2") for problem in problems)
    assert any("serves version 1" in problem and "names version 2" in problem for problem in problems)
    assert main(["status", "--env", "prod"]) == 1
    assert _served(endpoint) == "1"
    # An approver restores the approved champion; the version the alias was moved to is withdrawn
    rollback(from_process("prod"), by="ana", reason="alias moved outside creditops", say=quiet)
    assert names.CHAMPION in _registry().describe(MODEL, "1").aliases
    assert custody.ledger(_registry(), "prod", MODEL)["2"].decision == "withdrawn"
    assert main(["status", "--env", "prod"]) == 0
    capsys.readouterr()
    # Nor can the endpoint commands put it, or an unregistered model folder, into prod's traffic
    for model in (f"models:/{MODEL}/2", str(_model_folder("1"))):
        assert main(["endpoint", "deploy", endpoint, "--deployment", "green", "--model", model, "--env", "prod"]) == 1
        assert main(["endpoint", "rollout", endpoint, "--model", model, "--env", "prod"]) == 1
    refusals = capsys.readouterr().err
    assert "deploy of models:/credit_default_model/2 refused in prod: version 2 was rolled back in prod" in refusals
    assert "is not a registered version: prod serves approved registered versions only" in refusals
    assert _served(endpoint) == "1"
    # An endpoint stopped while it served version 2 (withdrawn since, say on another runner) starts again
    # without giving it traffic; the next release brings the champion back
    prod = from_process("prod")
    LocalTarget(prod, endpoint).deploy_by_hand("green", f"models:/{MODEL}/2")
    LocalTarget(prod, endpoint).set_traffic_by_hand({"green": 100})
    processes.stop(state.load(prod.endpoints_dir, endpoint).pid)
    assert main(["endpoint", "start", endpoint, "--env", "prod"]) == 0
    assert "green starts with no traffic: version 2 was rolled back in prod" in capsys.readouterr().err
    assert LocalTarget(prod, endpoint).invoke(SAMPLE_REQUEST.read_bytes()).status_code == 503
    assert release.release(from_process("prod"), say=quiet) is None
    assert _served(endpoint) == "1"

    # A model file replaced after registration is refused by name, wherever it is loaded
    (project / "config" / "modelling.json").write_text(code)  # the code of version 1: its release again
    folder = _model_folder("1")
    original = (folder / "model.lgb").read_bytes()
    replacement = _model_folder("2") / "model.lgb"
    (folder / "model.lgb").write_bytes(replacement.read_bytes())
    LocalTarget(from_process("prod"), endpoint).delete()
    with pytest.raises(CreditopsError, match=r"model file model.lgb of models:/credit_default_model/1 does not match"):
        release.release(from_process("prod"), say=quiet)
    data = from_process("prod").env.data.path
    scoring = ["score", "--model", f"models:/{MODEL}/1", "--env", "prod", "--data", str(data), "--no-logging"]
    assert main([*scoring, "--output", str(project / "scored.csv")]) == 1
    assert "model file model.lgb of models:/credit_default_model/1 does not match" in capsys.readouterr().err
    assert not (project / "scored.csv").exists()
    # … and so is one whose recorded digests were rewritten to match it: the ledger holds the approved ones
    _registry().set_tags(MODEL, "1", {names.MODEL_FILES: integrity.encode(integrity.file_digests(folder))})
    with pytest.raises(CreditopsError, match=r"does not have the model files ana approved"):
        release.release(from_process("prod"), say=quiet)
    (folder / "model.lgb").write_bytes(original)
    _registry().set_tags(MODEL, "1", {names.MODEL_FILES: approved.tags[names.MODEL_FILES]})
    assert release.release(from_process("prod"), say=quiet) is None  # the champion serves again
    assert _served(endpoint) == "1"
