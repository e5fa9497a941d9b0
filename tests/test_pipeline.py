"""The whole pipeline in one process, with a real MLflow store under tmp_path."""

import re
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from creditops.config.modelling import ModellingConfig
from creditops.context import Context
from creditops.data.checks import DataCheckError
from creditops.data.io import write_table
from creditops.data.schema import FEATURES
from creditops.pipeline import STAGES, run_pipeline
from creditops.tracking.registry import Registry

pytestmark = pytest.mark.e2e
CONFIG = ModellingConfig.model_validate({"train": {"n_estimators": 30}})


def test_first_run_registers_and_promotes_then_rerun_registers_nothing(
    context: Context, data_file: Path, small_frame: pd.DataFrame
) -> None:
    seen: list[str] = []
    first = run_pipeline(data_file, CONFIG, context, on_stage=lambda stage, s: s is None and seen.append(stage))
    assert seen == list(STAGES)
    assert first.registration.registered
    assert first.registration.version == "1"
    assert first.champion_version == "1"
    assert first.evaluation.comparison.champion is None
    assert "no previous model" in first.evaluation.comparison.reason

    run = mlflow.MlflowClient(context.store_uri).get_run(first.run_id)
    assert re.fullmatch(r"run \d{4}-\d\d-\d\d lightgbm \w{1,7}(-dirty)?", run.info.run_name)
    logged = run.data
    assert logged.metrics["test.roc_auc"] == pytest.approx(first.evaluation.metrics["roc_auc"])
    assert logged.params["train.n_estimators"] == "30"
    assert logged.tags["data_sha256"] == first.data_manifest["data_sha256"]

    version = Registry(context.store_uri).describe("credit_default_model", "1")
    assert {"git_commit", "data_sha256", "config_hash", "metric.roc_auc"} <= set(version.tags)
    assert version.tags["config_hash"] == CONFIG.digest()
    aliases = Registry(context.store_uri).versions("credit_default_model")[0].aliases
    assert set(aliases) == {"champion", "challenger"}

    # Given nothing changed, when the pipeline runs again, then nothing new is registered
    second = run_pipeline(data_file, CONFIG, context)
    assert not second.registration.registered
    assert "nothing new registered" in second.registration.reason
    assert second.evaluation.champion_metrics["roc_auc"] == first.evaluation.metrics["roc_auc"]
    assert len(Registry(context.store_uri).versions("credit_default_model")) == 1

    # The plain MLflow API loads the champion and predicts probabilities
    mlflow.set_tracking_uri(context.store_uri)
    model = mlflow.pyfunc.load_model("models:/credit_default_model@champion")
    predictions = np.asarray(model.predict(small_frame.loc[:9, list(FEATURES)]))
    assert predictions.shape == (10,)
    assert ((predictions >= 0) & (predictions <= 1)).all()


def test_better_model_becomes_a_new_champion(context: Context, data_file: Path) -> None:
    weak = ModellingConfig.model_validate({"train": {"n_estimators": 2, "learning_rate": 0.01}})
    run_pipeline(data_file, weak, context)
    result = run_pipeline(data_file, CONFIG, context)
    assert result.registration.version == "2"
    assert result.champion_version == "2"
    assert "better than champion v1" in result.evaluation.comparison.reason


def test_worse_model_is_not_registered(context: Context, data_file: Path) -> None:
    run_pipeline(data_file, CONFIG, context)
    weak = ModellingConfig.model_validate({"train": {"n_estimators": 2, "learning_rate": 0.01}})
    result = run_pipeline(data_file, weak, context)
    assert not result.registration.registered
    assert "not better than champion v1" in result.registration.reason
    assert result.champion_version == "1"


def test_a_run_killed_while_registering_leaves_no_version_and_no_moved_alias(
    context: Context, data_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weak = ModellingConfig.model_validate({"train": {"n_estimators": 2, "learning_rate": 0.01}})
    run_pipeline(data_file, weak, context)

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Registry, "register", killed)
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(data_file, CONFIG, context)
    found = Registry(context.store_uri).versions("credit_default_model")
    assert [info.version for info in found] == ["1"]
    assert set(found[0].aliases) == {"champion", "challenger"}


def test_bad_data_stops_before_anything_is_written(tmp_path: Path, small_frame) -> None:
    bad = small_frame.assign(EDUCATION=9)
    source = write_table(bad, tmp_path / "bad.csv")
    context = Context.local(tmp_path / "out")
    with pytest.raises(DataCheckError, match="allowed_codes on 'EDUCATION'"):
        run_pipeline(source, CONFIG, context)
    assert not (tmp_path / "out").exists()
    assert Registry(context.store_uri).versions("credit_default_model") == []


def test_no_logging_trains_and_evaluates_only_and_leaves_no_store(context: Context, data_file: Path) -> None:
    result = run_pipeline(data_file, CONFIG, context, tracking=False)
    assert result.run_id is None
    assert result.evaluation is not None
    assert not result.registration.registered
    assert "--no-logging trains and evaluates only" in result.registration.reason
    assert result.champion_version is None
    assert not (context.workspace / "mlflow.db").exists()


def test_a_run_needs_nothing_from_the_prefetch(
    context: Context, data_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import creditops.pipeline

    def broken(store_uri: str | None) -> None:
        raise RuntimeError("the prefetch failed")

    monkeypatch.setattr(creditops.pipeline, "_prepare_later_stages", broken)
    result = run_pipeline(data_file, CONFIG, context)
    assert result.registration.registered
    assert result.report is not None
    assert result.report.is_file()
