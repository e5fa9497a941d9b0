from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from creditops.context import Context
from creditops.data.contract import uci
from creditops.errors import CreditopsError
from creditops.modelling.estimators import TrainedModel
from creditops.tracking import registry
from creditops.tracking.registry import Registry


@pytest.mark.parametrize("fixture", ["small_model", "small_sklearn_model"])
def test_model_directory_round_trip_is_safe_and_exact(
    tmp_path: Path, small_frame: pd.DataFrame, fixture: str, request: pytest.FixtureRequest
) -> None:
    features = uci().feature_matrix(small_frame)
    model = request.getfixturevalue(fixture)
    target = registry.save_model_dir(model, tmp_path / "registry" / "m")
    loaded = Registry("sqlite:///unused.db").load(str(target))
    assert loaded.algorithm == model.algorithm
    np.testing.assert_allclose(loaded.predict_proba(features), model.predict_proba(features))
    # saving again replaces the directory whole
    registry.save_model_dir(model, target)
    assert sorted(p.name for p in target.parent.iterdir()) == ["m"]


def test_loading_a_folder_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CreditopsError, match="no MLmodel file"):
        Registry("sqlite:///unused.db").load(str(tmp_path))


def test_unknown_references_are_named(context: Context) -> None:
    store = Registry(context.store_uri)
    for reference in ("nope", "models:/nope@champion", "models:/nope/99"):
        with pytest.raises(CreditopsError, match=r"no registered model named 'nope' in .*: it has no registered"):
            store.resolve(reference)
    assert store.champion("nope") is None
    for reference in ("", " ", "@champion", "/1", "models:/"):
        with pytest.raises(CreditopsError, match=r"^no model name in .*: give NAME, NAME@ALIAS, NAME/VERSION or"):
            store.resolve(reference, "credit_default_model")


def test_a_misspelt_model_is_refused_as_unknown_with_the_registered_names_closest_first(context: Context) -> None:
    # Given a store with three registered models
    client = mlflow.MlflowClient(context.store_uri, context.store_uri)
    for name in ("zeta", "churn_model", "credit_default_model"):
        client.create_registered_model(name)
    store = Registry(context.store_uri)
    # When a version of a misspelt name is asked for, by alias, number or name
    for reference in ("models:/credit_defualt_model@champion", "credit_defualt_model/1", "credit_defualt_model"):
        with pytest.raises(CreditopsError) as refused:
            store.resolve(reference)
        # Then the model is said not to exist, and the registered ones are listed, the closest first
        message = str(refused.value)
        assert message.startswith("no registered model named 'credit_defualt_model' in sqlite:///")
        assert message.endswith(": the registered models are credit_default_model, churn_model, zeta")
    with pytest.raises(CreditopsError, match="the registered models are credit_default_model"):
        store.require("credit_defualt_model")
    store.require("zeta")  # a registered name passes
    # A registered model without any version is named as such, not as unknown
    with pytest.raises(CreditopsError, match=r"^model 'zeta' has no version with alias 'champion': it has no"):
        store.resolve("models:/zeta@champion")


def _registered(context: Context, model, name: str, versions: int) -> Registry:
    """A store where `name` has `versions` versions of one logged model."""
    from creditops.tracking.runs import Tracker

    store = Registry(context.store_uri)
    with Tracker(enabled=True, uri=context.store_uri).run("registered"):
        logged = registry.log_model(model)
    for _ in range(versions):
        store.register(logged, name, {})
    return store


def test_a_missing_version_lists_the_versions_and_aliases_that_exist(context: Context, small_model) -> None:
    store = _registered(context, small_model, "listed", 12)
    store.set_alias("listed", "champion", "3")
    with pytest.raises(CreditopsError, match=r"has no version 99: its versions end with 3, 4, .*, 11, 12$"):
        store.resolve("models:/listed/99")
    with pytest.raises(CreditopsError, match=r"has no version with alias 'nope': its aliases are champion$"):
        store.resolve("listed@nope")


@pytest.mark.parametrize("target", ["../../../../etc/passwd", "/etc/passwd", "missing.txt", ""])
def test_a_model_folder_cannot_point_outside_itself(tmp_path: Path, small_model, target: str) -> None:
    folder = registry.save_model_dir(small_model, tmp_path / "m")
    mlmodel = folder / "MLmodel"
    text = mlmodel.read_text()
    data = next(line for line in text.splitlines() if line.strip().startswith("data:"))
    mlmodel.write_text(text.replace(data, data.split(":")[0] + f": '{target}'"))
    with pytest.raises(CreditopsError, match=r"outside its folder|not a file in the model folder|names no model"):
        registry.load_model_dir(folder)


def test_a_registry_without_aliases_keeps_them_as_tags(
    context: Context, small_model, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Azure ML's MLflow registry refuses aliases: they are kept as registered-model tags and read back."""
    import mlflow
    from mlflow.exceptions import MlflowException

    def refuse(self, name: str, alias: str, version: str) -> None:
        raise MlflowException("Model aliases are not supported in Azure Machine Learning")

    monkeypatch.setattr(mlflow.MlflowClient, "set_registered_model_alias", refuse)
    store = _registered(context, small_model, "tagged", 2)
    store.set_alias("tagged", "champion", "1")
    store.set_alias("tagged", "champion", "2")
    store.set_alias("tagged", "challenger", "2")
    assert store.resolve("models:/tagged@champion").version == "2"
    assert store.champion("tagged").version == "2"
    assert set(store.describe("tagged", "2").aliases) == {"champion", "challenger"}
    assert store.describe("tagged", "1").aliases == ()
    model = mlflow.MlflowClient(context.store_uri).get_registered_model("tagged")
    assert model.tags["creditops.alias.champion"] == "2"


def test_other_alias_errors_are_not_hidden(context: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    import mlflow
    from mlflow.exceptions import MlflowException

    def broken(self, name: str, alias: str, version: str) -> None:
        raise MlflowException("Registered model version 9 does not exist")

    monkeypatch.setattr(mlflow.MlflowClient, "set_registered_model_alias", broken)
    with pytest.raises(MlflowException, match="does not exist"):
        Registry(context.store_uri).set_alias("nope", "champion", "9")


def test_a_hand_edited_contract_in_a_model_folder_is_refused(small_model: TrainedModel, tmp_path: Path) -> None:
    import json

    from creditops.tracking.registry import CONTRACT_FILE, load_model_dir, save_model_dir

    folder = save_model_dir(small_model, tmp_path / "model")
    assert load_model_dir(folder).contract == small_model.contract
    contract_file = folder / CONTRACT_FILE
    payload = json.loads(contract_file.read_text())
    payload["columns"]["SEX"]["role"] = "feature"  # a protected column slipped back in
    contract_file.write_text(json.dumps(payload))
    with pytest.raises(CreditopsError, match="the model's 20 features are not the 21 of its data contract"):
        load_model_dir(folder)
    contract_file.write_text(contract_file.read_text()[:40])
    with pytest.raises(CreditopsError, match=r"schema\.json in .* is not JSON"):
        load_model_dir(folder)


class _RacedClient:
    """An MLflow client whose first alias insert loses to another process's (the store's unique constraint)."""

    def __init__(self, error: str) -> None:
        self.error, self.calls = error, []

    def set_registered_model_alias(self, name: str, alias: str, version: str) -> None:
        self.calls.append((name, alias, version))
        if len(self.calls) == 1:
            raise mlflow.exceptions.MlflowException(self.error)


@pytest.mark.parametrize(
    "error",
    [
        "(sqlite3.IntegrityError) UNIQUE constraint failed: registered_model_aliases.name",
        '(psycopg2.errors.UniqueViolation) duplicate key value violates unique constraint "registered_model_alias_pk"',
    ],
)
def test_an_alias_another_process_created_first_is_set_again(monkeypatch: pytest.MonkeyPatch, error: str) -> None:
    client = _RacedClient(error)
    store = registry.Registry("sqlite:///unused.db")
    monkeypatch.setattr(store, "_client", lambda: client)
    store.set_alias("m", "champion", "2")
    assert client.calls == [("m", "champion", "2")] * 2


def test_any_other_alias_error_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    client = _RacedClient("RESOURCE_DOES_NOT_EXIST: version 9")
    store = registry.Registry("sqlite:///unused.db")
    monkeypatch.setattr(store, "_client", lambda: client)
    with pytest.raises(mlflow.exceptions.MlflowException, match="version 9"):
        store.set_alias("m", "champion", "9")
    assert len(client.calls) == 1
