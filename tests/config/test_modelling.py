import json
from pathlib import Path

import pytest

from creditops.config.modelling import ModellingConfig, load_modelling_config
from creditops.errors import ConfigError

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config" / "modelling.json"


def _write(tmp_path: Path, payload: object) -> Path:
    path = tmp_path / "modelling.json"
    path.write_text(json.dumps(payload))
    return path


def test_the_original_config_loads_unchanged() -> None:
    config = load_modelling_config(REPO_CONFIG)
    assert config.data.data_file == "credit_default.xls"
    assert config.train.n_estimators == 100
    assert config.eval.better_than_last_file == "better_than_last.txt"
    assert config.train.algorithm == "lightgbm"


def test_no_file_means_the_projects_config_else_the_embedded_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_modelling_config(None) == ModellingConfig()
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "modelling.json").write_text('{"train": {"n_estimators": 7}}', encoding="utf-8")
    assert load_modelling_config(None).train.n_estimators == 7  # an edit of the project's file is never ignored


def test_new_keys_are_optional_and_validated(tmp_path: Path) -> None:
    path = _write(tmp_path, {"train": {"algorithm": "sklearn_gbm"}, "eval": {"tolerance": 0.01}})
    config = load_modelling_config(path)
    assert config.train.algorithm == "sklearn_gbm"
    assert config.eval.tolerance == 0.01


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"train": {"n_estimatorz": 5}}, r"train\.n_estimatorz: unknown key"),
        ({"train": {"n_estimators": "many"}}, r"train\.n_estimators: Input should be a valid integer"),
        ({"data": {"test_train_ratio": 1.5}}, r"data\.test_train_ratio: Input should be less than 1"),
        (
            {"train": {"algorithm": "catboost"}},
            r"train\.algorithm: 'catboost' is not a learner: use lightgbm, sklearn_gbm, xgboost or scorecard",
        ),
        ({"extra": {}}, r"extra: unknown key"),
        ([1, 2], r"must hold an object of settings"),
    ],
)
def test_invalid_config_is_a_one_line_error_naming_the_key(tmp_path: Path, payload: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        load_modelling_config(_write(tmp_path, payload))
    assert "\n" not in str(raised.value)
    assert raised.value.exit_code == 2


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config file not found: .*absent\.json"):
        load_modelling_config(tmp_path / "absent.json")


def test_invalid_json_is_named(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="is not valid JSON"):
        load_modelling_config(path)


def test_digest_ignores_key_order_and_changes_with_values() -> None:
    one = ModellingConfig.model_validate({"train": {"n_estimators": 10, "learning_rate": 0.1}})
    same = ModellingConfig.model_validate({"train": {"learning_rate": 0.1, "n_estimators": 10}})
    other = ModellingConfig.model_validate({"train": {"n_estimators": 11, "learning_rate": 0.1}})
    assert one.digest() == same.digest() != other.digest()


def test_a_config_that_is_not_utf8_is_one_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "modelling.json"
    path.write_bytes('{"registry": {"model_name": "crédit"}}'.encode("latin-1"))
    with pytest.raises(
        ConfigError, match=r"config .*modelling\.json is not UTF-8 text \(byte 0xe9 at offset 31\)"
    ) as raised:
        load_modelling_config(path)
    assert str(raised.value).endswith("save it as UTF-8")


def test_a_config_nested_too_deeply_or_a_contract_that_is_a_folder_is_one_line(tmp_path: Path) -> None:
    from creditops.errors import ConfigError

    deep = tmp_path / "deep.json"
    deep.write_text('{"data": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(ConfigError, match="is nested too deeply to be a modelling config"):
        load_modelling_config(deep)
    folder = tmp_path / "modelling.json"
    folder.write_text('{"data": {"schema_file": "."}}')
    with pytest.raises(ConfigError, match=r"schema file .* is a folder: name the contract's YAML file"):
        load_modelling_config(folder).contract()
