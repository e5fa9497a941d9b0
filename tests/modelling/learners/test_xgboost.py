"""XGBoost: native text categories, the contract's directions, TreeSHAP, its own JSON file read safely."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creditops.data.contract import Contract
from creditops.errors import CreditopsError
from creditops.gate.checks import directional_check
from creditops.modelling.estimators import TrainedModel
from creditops.modelling.serialization import load_model, save_model

from . import checks

PARAMS = {"n_estimators": 30, "learning_rate": 0.2, "max_depth": 3}


@pytest.fixture(scope="module")
def model(shop_frame: pd.DataFrame, shop_contract: Contract) -> TrainedModel:
    return checks.fit("xgboost", shop_frame, shop_contract, PARAMS)


def test_it_fits_and_predicts_probabilities(model: TrainedModel, shop_frame: pd.DataFrame) -> None:
    checks.probabilities_in_unit_interval(model, shop_frame)


def test_it_is_deterministic_for_a_seed(shop_frame: pd.DataFrame, shop_contract: Contract) -> None:
    checks.deterministic("xgboost", shop_frame, shop_contract, PARAMS)


def test_treeshap_contributions_sum_to_the_raw_score(model: TrainedModel, shop_frame: pd.DataFrame) -> None:
    # XGBoost computes in float32: the sum holds to its precision
    parts = checks.contributions_sum_to_the_log_odds(model, shop_frame.head(300), atol=1e-5)
    raw = model.estimator.inplace_predict(model.contract.feature_matrix(shop_frame.head(300)), predict_type="margin")
    np.testing.assert_allclose(parts.sum(axis=1), raw, atol=1e-5)


def test_the_file_is_xgboost_json_and_reads_back_the_same(
    model: TrainedModel, shop_frame: pd.DataFrame, tmp_path: Path
) -> None:
    saved = json.loads(checks.round_trip(model, shop_frame, tmp_path))
    assert saved["learner"]["feature_names"] == list(model.contract.features)
    assert saved["learner"]["feature_types"] == ["c", "q", "q", "q"]  # purpose split as a category


def test_text_categories_are_split_natively(model: TrainedModel) -> None:
    trees = json.loads(bytes(model.estimator.save_raw("json")))["learner"]["gradient_booster"]["model"]["trees"]
    assert any(1 in tree["split_type"] for tree in trees)  # 1: a categorical split


@settings(max_examples=60, deadline=None)
@given(
    purpose=st.sampled_from(["car", "boat", "house", "travel"]),
    utilisation=st.floats(0, 1.5),
    tenure=st.integers(0, 240),
    income=st.floats(5_000, 200_000),
    rise=st.floats(0.001, 0.5),
    longer=st.integers(1, 120),
)
def test_the_declared_directions_hold_for_any_row(
    model: TrainedModel, purpose: str, utilisation: float, tenure: int, income: float, rise: float, longer: int
) -> None:
    row = {"purpose": purpose, "utilisation": utilisation, "tenure": tenure, "income": income}
    rows = pd.DataFrame([row, {**row, "utilisation": utilisation + rise}, {**row, "tenure": tenure + longer}])
    base, more_used, longer_held = model.predict_proba(rows)
    assert more_used >= base  # utilisation: increasing
    assert longer_held <= base  # tenure: decreasing


def test_the_gates_directional_check_passes_it(model: TrainedModel, shop_frame: pd.DataFrame) -> None:
    check = directional_check(shop_frame, model)
    assert check.verdict == "pass"
    assert {name: entry["wrong"] for name, entry in check.data.items()} == {"utilisation": 0, "tenure": 0}


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (lambda text: b"", "not a model file of any learner"),
        (lambda text: text[: len(text) // 2], "it is not JSON"),
        (lambda text: b'{"learner": {}}', "not an XGBoost tree model"),
        (lambda text: _edited(text, "left_children", 10_000), "links its nodes into something other than a tree"),
        (lambda text: _edited(text, "left_children", 0), "links its nodes into something other than a tree"),
        (lambda text: _edited(text, "split_indices", 99), "splits on a feature the model does not have"),
        (lambda text: _edited(text, "num_trees", "31"), "Check failed"),
    ],
)
def test_a_damaged_file_is_one_line_and_never_reaches_xgboost_whole(
    model: TrainedModel, tmp_path: Path, damage, said: str
) -> None:
    path = save_model(model, tmp_path / "model.json")
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(CreditopsError, match=said) as refused:
        load_model(path, model.contract)
    assert "\n" not in str(refused.value)


def _edited(text: bytes, key: str, value: object) -> bytes:
    payload = json.loads(text)
    booster = payload["learner"]["gradient_booster"]["model"]
    if key == "num_trees":
        booster["gbtree_model_param"]["num_trees"] = value
    else:
        booster["trees"][0][key][0] = value
    return json.dumps(payload).encode()
