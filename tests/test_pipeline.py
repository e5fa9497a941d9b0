"""The whole pipeline in one process, with a real MLflow store under tmp_path."""

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from creditops.config.modelling import ModellingConfig
from creditops.data.checks import DataCheckError
from creditops.data.io import write_table
from creditops.data.schema import FEATURES
from creditops.pipeline import STAGES, PipelineFolders, run_pipeline
from creditops.tracking import registry
from creditops.tracking.store import tracking_uri

pytestmark = pytest.mark.e2e
CONFIG = ModellingConfig.model_validate({"train": {"n_estimators": 30}})


def test_first_run_registers_and_promotes_then_rerun_registers_nothing(
    workspace: Path, data_file: Path, small_frame: pd.DataFrame
) -> None:
    seen: list[str] = []
    first = run_pipeline(data_file, CONFIG, on_stage=lambda stage, s: s is None and seen.append(stage))
    assert seen == list(STAGES)
    assert first.registration.registered
    assert first.registration.version == "1"
    assert first.champion_version == "1"
    assert first.evaluation.comparison.champion is None
    assert "no previous model" in first.evaluation.comparison.reason

    logged = mlflow.MlflowClient(tracking_uri()).get_run(first.run_id).data
    assert logged.metrics["test.roc_auc"] == pytest.approx(first.evaluation.metrics["roc_auc"])
    assert logged.params["train.n_estimators"] == "30"
    assert logged.tags["data_sha256"] == first.data_manifest["data_sha256"]

    version = registry.describe("credit_default_model", "1")
    assert {"git_commit", "data_sha256", "config_hash", "metric.roc_auc"} <= set(version.tags)
    assert version.tags["config_hash"] == CONFIG.digest()
    aliases = registry.versions(tracking_uri(), "credit_default_model")[0].aliases
    assert set(aliases) == {"champion", "challenger"}

    # Given nothing changed, when the pipeline runs again, then nothing new is registered
    second = run_pipeline(data_file, CONFIG)
    assert not second.registration.registered
    assert "nothing new registered" in second.registration.reason
    assert second.evaluation.champion_metrics["roc_auc"] == first.evaluation.metrics["roc_auc"]
    assert len(registry.versions(tracking_uri(), "credit_default_model")) == 1

    # The plain MLflow API loads the champion and predicts probabilities
    mlflow.set_tracking_uri(tracking_uri())
    model = mlflow.pyfunc.load_model("models:/credit_default_model@champion")
    predictions = np.asarray(model.predict(small_frame.loc[:9, list(FEATURES)]))
    assert predictions.shape == (10,)
    assert ((predictions >= 0) & (predictions <= 1)).all()


def test_better_model_becomes_a_new_champion(workspace: Path, data_file: Path) -> None:
    weak = ModellingConfig.model_validate({"train": {"n_estimators": 2, "learning_rate": 0.01}})
    run_pipeline(data_file, weak)
    result = run_pipeline(data_file, CONFIG)
    assert result.registration.version == "2"
    assert result.champion_version == "2"
    assert "better than champion v1" in result.evaluation.comparison.reason


def test_worse_model_is_not_registered(workspace: Path, data_file: Path) -> None:
    run_pipeline(data_file, CONFIG)
    weak = ModellingConfig.model_validate({"train": {"n_estimators": 2, "learning_rate": 0.01}})
    result = run_pipeline(data_file, weak)
    assert not result.registration.registered
    assert "not better than champion v1" in result.registration.reason
    assert result.champion_version == "1"


def test_a_run_killed_while_registering_leaves_no_version_and_no_moved_alias(
    workspace: Path, data_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weak = ModellingConfig.model_validate({"train": {"n_estimators": 2, "learning_rate": 0.01}})
    run_pipeline(data_file, weak)

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(registry, "register", killed)
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(data_file, CONFIG)
    found = registry.versions(tracking_uri(), "credit_default_model")
    assert [info.version for info in found] == ["1"]
    assert set(found[0].aliases) == {"champion", "challenger"}


def test_bad_data_stops_before_anything_is_written(workspace: Path, tmp_path: Path, small_frame) -> None:
    bad = small_frame.assign(EDUCATION=9)
    source = write_table(bad, tmp_path / "bad.csv")
    folders = PipelineFolders.under(tmp_path / "out")
    with pytest.raises(DataCheckError, match="allowed_codes on 'EDUCATION'"):
        run_pipeline(source, CONFIG, folders=folders)
    assert not (tmp_path / "out").exists()
    assert registry.versions(tracking_uri(), "credit_default_model") == []


def test_no_logging_still_registers_but_logs_no_pipeline_run(workspace: Path, data_file: Path) -> None:
    result = run_pipeline(data_file, CONFIG, tracking=False)
    assert result.run_id is None
    assert result.registration.registered
