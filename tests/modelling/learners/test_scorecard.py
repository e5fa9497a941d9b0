"""The points scorecard: the JSON points table is the model, scores exactly like the regression it came
from, keeps the declared directions, and a damaged table is one line."""

import json
import math
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
from creditops.modelling.learners.scorecard import FORMAT, ScorecardParams, compiled, fitted
from creditops.modelling.reasons import contributions
from creditops.modelling.serialization import load_model, save_model

from . import checks


@pytest.fixture(scope="module")
def model(shop_frame: pd.DataFrame, shop_contract: Contract) -> TrainedModel:
    return checks.fit("scorecard", shop_frame, shop_contract, {})


@pytest.fixture(scope="module")
def table(model: TrainedModel) -> dict:
    return model.estimator.table.model_dump(mode="json", exclude_none=True)


def test_it_fits_and_predicts_probabilities(model: TrainedModel, shop_frame: pd.DataFrame) -> None:
    checks.probabilities_in_unit_interval(model, shop_frame)


def test_it_is_deterministic_and_the_seed_changes_nothing(shop_frame: pd.DataFrame, shop_contract: Contract) -> None:
    checks.deterministic("scorecard", shop_frame, shop_contract, {})
    one = checks.fit("scorecard", shop_frame, shop_contract, {}, seed=1).estimator.table
    two = checks.fit("scorecard", shop_frame, shop_contract, {}, seed=2).estimator.table
    assert one == two


def test_the_points_table_scores_exactly_like_the_fitted_regression(
    shop_frame: pd.DataFrame, shop_contract: Contract
) -> None:
    features, labels = shop_contract.feature_matrix(shop_frame), shop_contract.labels(shop_frame)
    fit = fitted(features, labels, shop_contract, ScorecardParams())
    from_table = compiled(fit.table, shop_contract)
    regression = fit.regression.predict_proba(fit.woe)[:, 1]
    log_odds = from_table.log_odds(shop_contract.feature_matrix(shop_frame))
    np.testing.assert_allclose(1 / (1 + np.exp(-log_odds)), regression, rtol=1e-10, atol=1e-13)


def test_a_row_scored_by_hand_from_the_json_table_gives_the_models_probability(
    model: TrainedModel, table: dict, shop_frame: pd.DataFrame, tmp_path: Path
) -> None:
    # Given the table as a validator reads it (the saved file)
    saved = json.loads(save_model(model, tmp_path / "model.pkl").read_text())
    assert saved == table
    row = shop_frame.iloc[7]
    # When each characteristic's points are looked up by hand
    score = saved["base_points"]
    for characteristic in saved["characteristics"]:
        value = row[characteristic["feature"]]
        if pd.isna(value):
            score += characteristic["missing"]
            continue
        for bin_ in characteristic["bins"]:
            inside = (
                value in bin_["categories"]
                if "categories" in bin_
                else bin_.get("low", -math.inf) <= value < bin_.get("high", math.inf)
            )
            if inside:
                score += bin_["points"]
    scaling = saved["scaling"]
    factor = scaling["pdo"] / math.log(2)
    log_odds = (scaling["score"] - factor * math.log(scaling["odds"]) - score) / factor
    # Then the model's probability is the one the table gives
    assert model.predict_proba(shop_frame.iloc[[7]])[0] == pytest.approx(1 / (1 + math.exp(-log_odds)), rel=1e-12)


def test_the_table_is_what_validators_read(table: dict, shop_contract: Contract) -> None:
    assert table["format"] == FORMAT
    assert table["scaling"] == {"pdo": 20.0, "score": 600.0, "odds": 50.0}
    assert table["features"] == list(shop_contract.features)
    by_feature = {item["feature"]: item for item in table["characteristics"]}
    purpose = by_feature["purpose"]["bins"]
    assert sorted(value for bin_ in purpose for value in bin_["categories"]) == ["boat", "car", "house", "travel"]
    utilisation = by_feature["utilisation"]["bins"]
    assert "low" not in utilisation[0]  # from -inf
    assert "high" not in utilisation[-1]  # to +inf
    assert [bin_["high"] for bin_ in utilisation[:-1]] == [bin_["low"] for bin_ in utilisation[1:]]


def test_directions_hold_in_the_table_points(table: dict) -> None:
    by_feature = {item["feature"]: item for item in table["characteristics"]}
    utilisation = [bin_["points"] for bin_ in by_feature["utilisation"]["bins"]]
    tenure = [bin_["points"] for bin_ in by_feature["tenure"]["bins"]]
    assert utilisation == sorted(utilisation, reverse=True)  # more used: fewer points, more risk
    assert tenure == sorted(tenure)  # held longer: more points, less risk


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
    assert more_used >= base
    assert longer_held <= base


def test_the_gates_directional_check_passes_it(model: TrainedModel, shop_frame: pd.DataFrame) -> None:
    assert directional_check(shop_frame, model).verdict == "pass"


def test_reasons_are_the_points_lost_against_the_best_bins(model: TrainedModel, shop_frame: pd.DataFrame) -> None:
    parts = checks.contributions_sum_to_the_log_odds(model, shop_frame, atol=1e-12)
    assert (parts[:, :-1] >= 0).all()  # a row can only lose points against the best bin
    scorer = model.estimator
    lost = (scorer.best - scorer.row_points(model.contract.feature_matrix(shop_frame))) / scorer.table.scaling.factor
    np.testing.assert_allclose(parts[:, list(scorer.columns)], lost)


def test_a_row_in_every_best_bin_has_no_reason(model: TrainedModel, shop_contract: Contract) -> None:
    scorer = model.estimator
    row = np.full((1, len(shop_contract.features)), np.nan)
    for position, (column, edges, points) in enumerate(zip(scorer.columns, scorer.edges, scorer.points, strict=True)):
        if scorer.missing[position] == scorer.best[position]:
            continue
        at = int(np.argmax(points))
        row[0, column] = at if edges is None else (edges[at - 1] if at else edges[0] - 1)
    parts = contributions(model, row)
    np.testing.assert_allclose(parts[0, :-1], 0, atol=1e-12)


def test_the_file_is_the_json_table_and_reads_back_the_same(
    model: TrainedModel, shop_frame: pd.DataFrame, tmp_path: Path
) -> None:
    assert json.loads(checks.round_trip(model, shop_frame, tmp_path))["format"] == FORMAT


def _tampered(table: dict, change) -> str:
    payload = json.loads(json.dumps(table))
    change(payload)
    return json.dumps(payload)


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda t: t.pop("scaling"), r"is not a scorecard: scaling: required key is missing"),
        (lambda t: t["scaling"].update(pdo=-20), r"is not a scorecard: scaling\.pdo: Input should be greater than 0"),
        (lambda t: t["characteristics"][1]["bins"][0].update(high=-1), r"each bin must start where the one before"),
        (lambda t: t["characteristics"][1]["bins"][-1].update(high=5), r"must run from -inf to \+inf"),
        (lambda t: t["characteristics"][0]["bins"][0]["categories"].append("car"), r"a category is in two bins"),
        (lambda t: t["characteristics"][0]["bins"][0]["categories"].append("yacht"), r"do not hold exactly its"),
        (lambda t: t["characteristics"].append(t["characteristics"][0]), r"listed twice"),
        (lambda t: t["characteristics"][0].update(feature="colour"), r"'colour' is not one of the features"),
        (lambda t: t["features"].reverse(), r"does not fit its data contract: its features are not the contract's"),
        (lambda t: t["characteristics"][0]["bins"][0].update(points="many"), r"points: Input should be a valid number"),
        (lambda t: t.update(format="creditops-scorecard/9"), r"format: Input should be 'creditops-scorecard/1'"),
    ],
)
def test_a_tampered_table_is_one_line(model: TrainedModel, table: dict, tmp_path: Path, change, said: str) -> None:
    path = tmp_path / "model.pkl"
    path.write_text(_tampered(table, change))
    with pytest.raises(CreditopsError, match=said) as refused:
        load_model(path, model.contract)
    assert "\n" not in str(refused.value)


def test_a_table_that_is_not_json_is_one_line(model: TrainedModel, tmp_path: Path) -> None:
    path = save_model(model, tmp_path / "model.pkl")
    path.write_text(path.read_text()[:200])
    with pytest.raises(CreditopsError, match=r"points table .* cannot be read: .*; register or save it") as refused:
        load_model(path, model.contract)
    assert "\n" not in str(refused.value)
