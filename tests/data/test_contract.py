"""The data contract: what it refuses (one line naming the key), and the views every part reads from it."""

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from creditops.data.contract import (
    UNKNOWN_CATEGORY,
    Contract,
    contract_for_features,
    contract_from_json,
    legacy_uci,
    load_contract,
    parse_contract,
    uci,
)
from creditops.errors import ConfigError


def _payload(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": "shop",
        "label": {"column": "risk", "positive": "bad"},
        "columns": {
            "account": {"role": "id", "type": "integer", "range": [1, None]},
            "purpose": {"type": "category", "categories": ["car", "boat"]},
            "amount": {"type": "number", "range": [0, 1000], "monotone": "increasing"},
            "age": {"role": "protected", "type": "integer", "range": [18, 99]},
            "sex": {"role": "protected", "type": "category", "categories": ["f", "m"]},
            "opened": {"role": "date", "type": "date"},
            "note": {"role": "ignore", "type": "category", "categories": ["x"]},
            "risk": {"role": "label", "type": "category", "categories": ["good", "bad"]},
        },
        "reasons": [{"code": "A", "columns": ["amount"], "text": "Amount {amount:,.0f}"}],
        "slices": {"age": {"young": {"min": 18, "max": 39}, "older": {"min": 40, "max": 99}}},
    }
    payload.update(changes)
    return payload


def _contract(**changes: Any) -> Contract:
    return Contract.model_validate(_payload(**changes))


def test_the_views_follow_the_roles_and_the_column_order() -> None:
    contract = _contract()
    assert contract.features == ("purpose", "amount")
    assert contract.protected == ("age", "sex")
    assert contract.request_columns == ("purpose", "amount", "age", "sex")
    assert contract.feature_positions.tolist() == [0, 1]
    assert (contract.id_column, contract.label_column) == ("account", "risk")
    assert contract.categorical_features == ("purpose",)
    assert contract.coded_columns == frozenset({"purpose", "sex"})
    assert contract.monotone_constraints() == [0, 1]
    assert contract.bounds("purpose") == (0.0, 1.0)
    assert contract.bounds("amount") == (0.0, 1000.0)
    assert contract.bounds("account") == (1.0, np.inf)
    assert contract.decoded("purpose", 1.0) == "boat"
    assert contract.decoded("purpose", 7.0) == 7.0


def test_frames_are_encoded_labels_are_binary_and_groups_are_named() -> None:
    contract = _contract()
    frame = pd.DataFrame(
        {
            "purpose": ["boat", "yacht", None],
            "amount": [10, 20, 30],
            "age": [25, 45, 70],
            "sex": ["f", "m", "m"],
            "risk": ["bad", "good", "bad"],
        }
    )
    matrix = contract.feature_matrix(frame)
    assert matrix[0].tolist() == [1.0, 10.0]
    assert matrix[1, 0] == UNKNOWN_CATEGORY  # never scored as if it were missing
    assert np.isnan(matrix[2, 0])
    assert contract.labels(frame).tolist() == [1, 0, 1]
    assert contract.groups(frame, "age").tolist() == ["young", "older", "older"]
    assert contract.groups(frame, "sex").tolist() == ["f", "m", "m"]
    masks = contract.slice_masks(frame)
    assert masks["age=young"].tolist() == [True, False, False]


def test_uci_keeps_its_layout_and_leaves_the_protected_columns_out() -> None:
    contract = uci()
    assert len(contract.request_columns) == 23
    assert len(contract.features) == 20
    assert contract.protected == ("SEX", "MARRIAGE", "AGE")
    assert not {"SEX", "MARRIAGE", "AGE"} & {name for group in contract.reasons for name in group.columns}
    legacy = legacy_uci()
    assert legacy.features == contract.request_columns  # the 23 of models registered before the contract
    assert contract_for_features(list(contract.features), 20, "m") == contract
    assert contract_for_features(None, 23, "m") == legacy
    with pytest.raises(ConfigError, match=r"m carries no schema\.json and its 5 features are not UCI's"):
        contract_for_features(None, 5, "m")


def test_the_digest_ignores_formatting_but_not_the_column_order(tmp_path: Path) -> None:
    contract = _contract()
    assert contract_from_json(contract.canonical(), "m") == contract
    (tmp_path / "a.yaml").write_text(
        "name: shop\nlabel: {column: risk, positive: bad}\ncolumns:\n  x: {type: number}\n"
        "  risk: {role: label, type: category, categories: [good, bad]}\n"
    )
    (tmp_path / "b.yaml").write_text(
        '{"name": "shop", "label": {"positive": "bad", "column": "risk"}, "columns": {"x": {"type": "number"},'
        ' "risk": {"type": "category", "role": "label", "categories": ["good", "bad"]}}}'
    )
    assert load_contract(tmp_path / "a.yaml").digest() == load_contract(tmp_path / "b.yaml").digest()
    columns = _payload()["columns"]
    swapped = {"amount": columns["amount"], **{k: v for k, v in columns.items() if k != "amount"}}
    assert _contract(columns=swapped).digest() != contract.digest()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"label": {"column": "nope", "positive": "bad"}}, "label.column 'nope' must be a column with role label"),
        ({"label": {"column": "risk", "positive": "awful"}}, "label.positive 'awful' is not one of"),
        ({"reasons": [{"code": "A", "columns": ["age"], "text": "Age"}]}, "reason A names 'age', a protected column"),
        ({"reasons": [{"code": "A", "columns": ["amount"], "text": "{age}"}]}, "shows {age}, which is not a feature"),
        ({"reasons": [{"code": "A", "columns": ["amount"], "text": "{amount.real}"}]}, "reads as an attribute"),
        ({"reasons": [{"code": "A", "columns": ["amount"], "text": "{0}"}]}, "reads as an attribute, an index"),
        (
            {"reasons": [{"code": "A", "columns": ["amount"], "text": "x"}] * 2},
            "reason codes are listed twice",
        ),
        ({"slices": {}}, "protected number column 'age' needs bands under slices"),
        ({"slices": {**_payload()["slices"], "sex": {"x": ["z"]}}}, "slice sex=x: ['z'] not categories of sex"),
        ({"slices": {**_payload()["slices"], "opened": {"x": ["z"]}}}, "must be a feature or protected column"),
        ({"reasons": [{"code": "A", "columns": ["amount"], "text": "{} {amount}"}]}, "text has an empty {}"),
        (
            {"reasons": [{"code": "A", "columns": ["amount"], "text": "{amount:{purpose}}"}]},
            "formats {amount} with '{purpose}': use a short format",
        ),
        ({"reasons": [{"code": "A", "columns": ["amount"], "text": "{amount:>999999999}"}]}, "use a short format"),
        (
            {"columns": {**_payload()["columns"], "risk": {**_payload()["columns"]["risk"], "missing": True}}},
            "the label 'risk' may not be missing: drop the rows without an outcome",
        ),
        (
            {"columns": {"a:b": {"type": "number"}, "risk": _payload()["columns"]["risk"]}},
            "feature 'a:b' has a character learners refuse in feature names",
        ),
    ],
)
def test_what_a_contract_refuses(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        _contract(**changes)


@pytest.mark.parametrize(
    ("column", "message"),
    [
        ({"type": "category"}, "a category column needs its list of categories"),
        ({"type": "category", "categories": [1, 1]}, "categories are listed twice"),
        ({"type": "category", "categories": [1, "2"]}, "categories mix numbers and text: quote them all"),
        ({"type": "category", "categories": ["yes", True]}, "categories read as booleans: YAML reads unquoted"),
        ({"type": "number", "range": [float("nan"), 5]}, "a range bound is NaN"),
        ({"type": "date", "range": [0, 5]}, "only integer or number columns have a range, not date ones"),
        ({"type": "number", "categories": [1]}, "only category columns have categories"),
        ({"type": "number", "range": [5, 1]}, "range low 5.0 is above high 1.0"),
        ({"type": "category", "categories": [1], "monotone": "increasing"}, "only integer or number features"),
    ],
)
def test_what_a_column_refuses(column: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        _contract(columns={**_payload()["columns"], "bad_one": column})


def test_a_contract_file_problem_is_one_line_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="schema file not found"):
        load_contract(tmp_path / "none.yaml")
    with pytest.raises(ConfigError, match=r"schema x\.yaml is not valid YAML at line 1"):
        parse_contract("name: [", Path("x.yaml"))
    with pytest.raises(ConfigError, match=r"schema x\.yaml: columns\.a\.type: Input should be"):
        parse_contract("name: x\nlabel: {column: y}\ncolumns:\n  a: {type: text}\n", Path("x.yaml"))
    with pytest.raises(ConfigError, match=r"the model's schema\.json in m is not JSON"):
        contract_from_json("{", "m")


def test_a_key_given_twice_or_nesting_too_deep_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"schema x\.yaml is not valid YAML at line 2: 'name' is listed twice"):
        parse_contract("name: a\nname: b\n", Path("x.yaml"))
    with pytest.raises(ConfigError, match="'purpose' is listed twice"):
        parse_contract('{"columns": {"purpose": {}, "purpose": {}}}', Path("x.json"))
    with pytest.raises(ConfigError, match="is nested too deeply to be a contract"):
        parse_contract("name: " + "[" * 100_000, Path("x.yaml"))


def test_a_mapping_given_as_a_key_is_one_line() -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        parse_contract("? {a: 1}\n: 2\n", Path("odd.yaml"))
