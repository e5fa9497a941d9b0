"""Each learner's hyperparameters: the original keys keep their figures, `train.params` is validated by
the chosen learner when the config is read, and every mistake is one line naming the key."""

import json
from pathlib import Path

import pytest

from creditops.cli import main
from creditops.config.modelling import ModellingConfig, load_modelling_config
from creditops.data.contract import uci
from creditops.errors import ConfigError
from creditops.modelling.estimators import train_model

REPO_CONFIG = Path(__file__).resolve().parents[3] / "config" / "modelling.json"


def _config(tmp_path: Path, train: dict) -> Path:
    path = tmp_path / "modelling.json"
    path.write_text(json.dumps({"train": train}))
    return path


def test_the_defaults_and_the_projects_config_keep_the_historical_figures() -> None:
    for config in (ModellingConfig(), load_modelling_config(REPO_CONFIG)):
        lightgbm = config.train.learner_params().model_dump()
        assert {key: lightgbm[key] for key in ("n_estimators", "learning_rate", "num_leaves")} == {
            "n_estimators": 100,
            "learning_rate": 0.05,
            "num_leaves": 7,
        }
        assert (lightgbm["min_data_in_leaf"], lightgbm["feature_fraction"], lightgbm["lambda_l2"]) == (40, 0.9, 1.0)
    original = ModellingConfig.model_validate({"train": {"algorithm": "sklearn_gbm"}}).train.learner_params()
    assert original.model_dump() == {"n_estimators": 100, "learning_rate": 0.05, "max_depth": 3}


def test_the_original_keys_reach_the_learners_that_have_them(tmp_path: Path) -> None:
    train = {"algorithm": "xgboost", "n_estimators": 50, "max_depth": 4, "num_leaves": 31}
    chosen = load_modelling_config(_config(tmp_path, train)).train.learner_params().model_dump()
    assert (chosen["n_estimators"], chosen["max_depth"]) == (50, 4)
    assert "num_leaves" not in chosen  # a LightGBM key, ignored by XGBoost as before by the scikit-learn GBM


def test_params_are_the_learners_own(tmp_path: Path) -> None:
    train = {"algorithm": "scorecard", "params": {"pdo": 40, "max_bins": 4}}
    chosen = load_modelling_config(_config(tmp_path, train)).train.learner_params()
    assert (chosen.pdo, chosen.max_bins) == (40, 4)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("train", "said"),
    [
        (
            {"algorithm": "catboost"},
            r"train\.algorithm: 'catboost' is not a learner: use lightgbm, sklearn_gbm, xgboost",
        ),
        ({"algorithm": "xgboost", "params": {"max_dept": 4}}, r"train\.params: max_dept: unknown key \(xgboost takes "),
        ({"params": {"num_leaves": 1}}, r"train\.params: num_leaves: Input should be greater than or equal to 2$"),
        ({"algorithm": "scorecard", "params": {"n_estimators": 5}}, r"train\.params: n_estimators: unknown key"),
        ({"n_estimators": 5, "params": {"n_estimators": 6}}, r"train: n_estimators is set both as train\.n_estimators"),
        ({"params": ["n_estimators"]}, r"train\.params: Input should be a valid dictionary"),
    ],
)
def test_a_bad_learner_or_param_is_one_line_naming_it(tmp_path: Path, train: dict, said: str) -> None:
    with pytest.raises(ConfigError, match=said) as raised:
        load_modelling_config(_config(tmp_path, train))
    assert "\n" not in str(raised.value)
    assert raised.value.exit_code == 2


def test_training_with_a_bad_param_is_one_line(small_frame) -> None:
    with pytest.raises(ConfigError, match=r"^xgboost params: max_dept: unknown key$"):
        train_model(
            uci().feature_matrix(small_frame),
            uci().labels(small_frame),
            algorithm="xgboost",
            params={"max_dept": 3},
            seed=0,
            contract=uci(),
        )


def test_the_schema_command_lists_the_learners_and_their_params(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "schema"]) == 0
    train = json.loads(capsys.readouterr().out)["$defs"]["TrainSection"]["properties"]
    assert train["algorithm"]["enum"] == ["lightgbm", "sklearn_gbm", "xgboost", "scorecard"]
    assert [option["title"] for option in train["params"]["anyOf"]] == train["algorithm"]["enum"]
    assert "pdo" in train["params"]["anyOf"][3]["properties"]
