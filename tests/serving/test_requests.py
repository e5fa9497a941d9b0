import numpy as np
import orjson
import pytest

from creditops.data.contract import uci
from creditops.data.schema import FEATURES
from creditops.serving.errors import RequestError
from creditops.serving.requests import parse_request

from ..sample_requests import VALID_ROW
from .conftest import records

SECOND = [
    120000,
    1,
    1,
    2,
    34,
    0,
    0,
    0,
    0,
    0,
    0,
    52310,
    50488,
    48922,
    47011,
    45290,
    43650,
    2100,
    2000,
    1800,
    1750,
    1700,
    1650,
]
EXPECTED = np.array([VALID_ROW, SECOND], dtype=float)


def _parse(payload: object, max_rows: int = 100):
    return parse_request(orjson.dumps(payload), uci(), max_rows=max_rows)


def _fails(payload: object, status: int, message: str, max_rows: int = 100) -> None:
    body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    with pytest.raises(RequestError) as raised:
        parse_request(body, uci(), max_rows=max_rows)
    assert raised.value.status == status
    assert message in raised.value.message


@pytest.mark.parametrize(
    "payload",
    [
        {"input_data": {"columns": list(range(23)), "index": [5, 6], "data": [VALID_ROW, SECOND]}},
        {"input_data": [VALID_ROW, SECOND]},
        {"dataframe_split": {"columns": list(FEATURES), "data": [VALID_ROW, SECOND]}},
        {"dataframe_records": records([VALID_ROW, SECOND])},
        {"instances": [VALID_ROW, SECOND]},
        {"instances": records([VALID_ROW, SECOND])},
        {"inputs": [VALID_ROW, SECOND]},
        {"inputs": {name: [a, b] for name, a, b in zip(FEATURES, VALID_ROW, SECOND, strict=True)}},
    ],
    ids=["azureml", "azureml-list", "split", "records", "instances", "instances-records", "inputs", "inputs-columns"],
)
def test_every_format_gives_the_same_matrix(payload: dict) -> None:
    np.testing.assert_array_equal(_parse(payload).columns, EXPECTED)


def test_columns_in_any_order_are_put_in_training_order() -> None:
    order = list(reversed(range(23)))
    payload = {"dataframe_split": {"columns": [FEATURES[i] for i in order], "data": [[VALID_ROW[i] for i in order]]}}
    np.testing.assert_array_equal(_parse(payload).columns, EXPECTED[:1])


def test_the_index_is_kept() -> None:
    payload = {"input_data": {"columns": list(range(23)), "index": ["a", "b"], "data": [VALID_ROW, SECOND]}}
    assert _parse(payload).index == ["a", "b"]


def test_malformed_json_is_400() -> None:
    _fails(b'{"input_data": ', 400, "malformed JSON")


def test_nan_names_column_and_row() -> None:
    row = ", ".join(map(str, VALID_ROW[:6])) + ", NaN, " + ", ".join(map(str, VALID_ROW[7:]))
    _fails(f'{{"instances": [[{row}]]}}'.encode(), 422, "column 'PAY_2' row 0: empty or not a number")


def test_unknown_format_is_400_as_mlflow_answers() -> None:
    _fails({"rows": []}, 400, "expected exactly one of input_data")


def test_missing_column_is_named() -> None:
    _fails(
        {"dataframe_split": {"columns": list(FEATURES[:-1]), "data": [VALID_ROW[:-1]]}},
        422,
        "missing column(s): PAY_AMT6",
    )


def test_unknown_column_is_named() -> None:
    _fails(
        {"dataframe_split": {"columns": [*FEATURES[:-1], "WAGE"], "data": [VALID_ROW]}}, 422, "unknown column 'WAGE'"
    )


def test_position_out_of_range_is_named() -> None:
    _fails({"input_data": {"columns": [*range(22), 23], "data": [VALID_ROW]}}, 422, "unknown column position 23")


def test_duplicated_column_is_named() -> None:
    _fails({"input_data": {"columns": [*range(22), 5], "data": [VALID_ROW]}}, 422, "duplicated column 5 (PAY_0)")


def test_wrong_row_width_names_the_row() -> None:
    _fails({"instances": [VALID_ROW[:19]]}, 422, "row 0: 19 values, expected 23")


def test_ragged_rows_are_not_a_table() -> None:
    _fails({"instances": [VALID_ROW, VALID_ROW[:20]]}, 400, "row 1: 20 values, where row 0 has 23 values")
    _fails({"dataframe_split": {"columns": list(FEATURES), "data": [VALID_ROW[:20]]}}, 400, "20 values for 23 columns")


def test_non_numeric_value_names_column_and_row() -> None:
    row = list(VALID_ROW)
    row[4] = "twenty"
    _fails({"instances": [VALID_ROW, row]}, 422, "column 'AGE' row 1: non-numeric 'twenty' value")


def test_numeric_string_is_refused() -> None:
    row = list(VALID_ROW)
    row[0] = "20000"
    _fails({"instances": [row]}, 422, "column 'LIMIT_BAL' row 0: non-numeric")


def test_null_names_column_and_row() -> None:
    row = list(VALID_ROW)
    row[3] = None
    _fails({"instances": [row]}, 422, "column 'MARRIAGE' row 0: null value")


def test_infinite_number_names_column_and_row() -> None:
    row = "1e999, " + ", ".join(map(str, VALID_ROW[1:]))
    _fails(f'{{"instances": [[{row}]]}}'.encode(), 422, "column 'LIMIT_BAL' row 0: inf is not a finite number")


def test_code_out_of_range_names_column_and_row() -> None:
    row = list(VALID_ROW)
    row[2] = 9
    _fails({"instances": [VALID_ROW, row]}, 422, "column 'EDUCATION' row 1: 9 is not an allowed code (0..6)")


def test_fractional_code_is_refused() -> None:
    row = list(VALID_ROW)
    row[5] = 1.5
    _fails({"instances": [row]}, 422, "column 'PAY_0' row 0: 1.5 is not an allowed code")


def test_amount_out_of_range_is_refused() -> None:
    row = list(VALID_ROW)
    row[17] = -5
    _fails({"instances": [row]}, 422, "column 'PAY_AMT1' row 0: -5 is outside 0..10000000")


def test_empty_batch_is_422() -> None:
    _fails({"instances": []}, 422, "empty batch")


def test_too_many_rows_is_413() -> None:
    _fails({"instances": [VALID_ROW] * 4}, 413, "4 rows is more than the maximum of 3", max_rows=3)


def test_records_with_other_columns_are_refused() -> None:
    rows = records([VALID_ROW, SECOND])
    rows[1] = {**rows[1], "EXTRA": 1}
    _fails({"dataframe_records": rows}, 400, "row 1: its columns differ from row 0's")


def test_index_length_must_match() -> None:
    _fails({"input_data": {"columns": list(range(23)), "index": [0], "data": [VALID_ROW, SECOND]}}, 400, "index has 1")


def test_the_original_smoke_request_is_refused_for_its_invalid_second_row(original_request_bytes: bytes) -> None:
    # The seed's request sends (10, 9, 8, 7, …) as a customer: SEX 9 is no code.
    _fails(original_request_bytes, 422, "column 'SEX' row 1: 9 is not an allowed code")


@pytest.mark.parametrize("value", [True, False])
def test_a_boolean_is_not_a_number(value: bool) -> None:
    row: list[object] = list(VALID_ROW)
    row[1] = value
    _fails({"instances": [VALID_ROW, row]}, 422, f"column 'SEX' row 1: {str(value).lower()} is a boolean")


def test_the_word_true_elsewhere_in_the_body_does_not_refuse_numeric_rows() -> None:
    body = {"input_data": {"columns": list(range(23)), "index": ["true", "false"], "data": [VALID_ROW, VALID_ROW]}}
    parsed = parse_request(orjson.dumps(body), uci(), max_rows=5)
    assert parsed.index == ["true", "false"]


def test_nesting_deeper_than_any_parser_allows_is_malformed_json() -> None:
    _fails(b"[" * 100_000, 400, "malformed JSON")
    _fails(b'{"instances": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400, "malformed JSON")


def test_nesting_that_parses_is_refused_as_rows_not_numbers() -> None:
    deep: object = 1
    for _ in range(200):
        deep = [deep]
    _fails({"instances": [deep]}, 422, "row 0")


def test_a_hundred_thousand_keys_give_a_short_message() -> None:
    payload = {f"k{i}": i for i in range(100_000)}
    with pytest.raises(RequestError) as raised:
        parse_request(orjson.dumps(payload), uci(), max_rows=5)
    assert raised.value.status == 400
    assert "and 99995 more" in raised.value.message
    assert len(raised.value.message) < 400


def test_a_huge_column_name_is_quoted_short() -> None:
    with pytest.raises(RequestError) as raised:
        parse_request(orjson.dumps({"dataframe_split": {"columns": ["x" * 100_000], "data": [[1]]}}), uci(), max_rows=5)
    assert raised.value.status == 422
    assert len(raised.value.message) < 300


def test_flag_mode_scores_invalid_codes_and_names_them_per_row() -> None:
    impossible = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 10, 9, 8]
    body = orjson.dumps({"input_data": {"columns": list(range(23)), "index": [0, 1], "data": [VALID_ROW, impossible]}})
    parsed = parse_request(body, uci(), max_rows=5, on_invalid="flag")
    assert parsed.columns.shape == (2, 23)
    assert parsed.warnings is not None
    assert set(parsed.warnings) == {1}
    assert "SEX: 9 is not an allowed code (1..2)" in parsed.warnings[1]
    assert "EDUCATION: 8 is not an allowed code (0..6)" in parsed.warnings[1]
    assert (
        parse_request(orjson.dumps({"instances": [VALID_ROW]}), uci(), max_rows=5, on_invalid="flag").warnings is None
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"instances": [[NaN' + b", 1" * 22 + b"]]}", "column 'LIMIT_BAL' row 0: empty or not a number"),
        (orjson.dumps({"instances": [VALID_ROW[:5]]}), "row 0: 5 values"),
        (orjson.dumps({"instances": [[None] * 23]}), "null value"),
        (orjson.dumps({"dataframe_split": {"columns": list(FEATURES[:-1]), "data": [VALID_ROW[:-1]]}}), "missing"),
    ],
)
def test_flag_mode_still_refuses_structural_errors(body: bytes, message: str) -> None:
    with pytest.raises(RequestError) as raised:
        parse_request(body, uci(), max_rows=5, on_invalid="flag")
    assert raised.value.status == 422
    assert message in raised.value.message


def test_an_id_column_anywhere_is_taken_as_the_rows_ids_and_index() -> None:
    columns = ["ID", *reversed(FEATURES)]
    data = [[71, *reversed(VALID_ROW)], [72, *reversed(SECOND)]]
    parsed = _parse({"dataframe_split": {"columns": columns, "data": data}})
    np.testing.assert_array_equal(parsed.columns, EXPECTED)
    assert parsed.ids == [71, 72]
    assert parsed.index == [71, 72]
    records_ = [{"ID": 9, **row} for row in records([VALID_ROW])]
    assert _parse({"dataframe_records": records_}).ids == [9]


def test_ids_come_from_an_index_and_are_none_without_one() -> None:
    payload = {"input_data": {"columns": list(range(23)), "index": ["a", "b"], "data": [VALID_ROW, SECOND]}}
    assert _parse(payload).ids == ["a", "b"]
    assert _parse({"instances": [VALID_ROW]}).ids is None
    assert _parse({"instances": [VALID_ROW]}).index == [0]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            {"input_data": {"columns": ["ID", *FEATURES], "index": [1], "data": [[1, *VALID_ROW]]}},
            "the rows' IDs came twice: send either an index or an ID column",
        ),
        ({"dataframe_split": {"columns": ["ID", *FEATURES], "data": [[1.5, *VALID_ROW]]}}, "column ID row 0: 1.5"),
        ({"dataframe_split": {"columns": ["ID", *FEATURES], "data": [[2**60, *VALID_ROW]]}}, "up to 2**53"),
        ({"dataframe_split": {"columns": ["ID", *FEATURES], "data": [["x7", *VALID_ROW]]}}, "column 'ID' row 0"),
        ({"dataframe_split": {"columns": ["ID", "ID", *FEATURES], "data": [[1, 1, *VALID_ROW]]}}, "duplicated column"),
    ],
    ids=["twice", "fraction", "too-large", "text", "duplicated"],
)
def test_bad_ids_are_422_naming_what_to_send(payload: dict, message: str) -> None:
    _fails(payload, 422, message)


def test_the_body_may_ask_for_reasons() -> None:
    assert _parse({"instances": [VALID_ROW], "explain": 3}).explain == 3
    assert _parse({"instances": [VALID_ROW]}).explain == 0


@pytest.mark.parametrize("asked", [0, 11, -1, "3", True, 2.5, None])
def test_a_bad_explain_in_the_body_is_a_422_naming_the_range(asked: object) -> None:
    if asked is None:
        assert _parse({"instances": [VALID_ROW], "explain": None}).explain == 0  # null asks for nothing
        return
    _fails({"instances": [VALID_ROW], "explain": asked}, 422, "explain must be a whole number of reasons from 1 to 10")


def test_protected_columns_may_be_left_out_and_are_never_scored() -> None:
    contract = uci()
    features = list(contract.features)
    row = dict(zip(FEATURES, VALID_ROW, strict=True))
    without = {name: row[name] for name in features}
    parsed = _parse({"dataframe_records": [without]})
    np.testing.assert_array_equal(parsed.features[0], [row[name] for name in features])
    assert np.isnan(parsed.columns[0, [FEATURES.index(name) for name in ("SEX", "MARRIAGE", "AGE")]]).all()
    full = _parse({"dataframe_records": [row]})
    np.testing.assert_array_equal(full.features, parsed.features)  # the same score with or without them
    np.testing.assert_array_equal(full.columns[0], VALID_ROW)  # and kept for the request log when sent
    positional = _parse({"instances": [[row[name] for name in features]]})
    np.testing.assert_array_equal(positional.features, parsed.features)
    _fails({"instances": [[row[name] for name in features[:-1]]]}, 422, "row 0: 19 values, expected 23")


def test_a_protected_column_sent_is_still_validated() -> None:
    row = dict(zip(FEATURES, VALID_ROW, strict=True))
    _fails({"dataframe_records": [{**row, "SEX": 9}]}, 422, "column 'SEX' row 0: 9 is not an allowed code (1..2)")


def _portfolio():
    from creditops.data.contract import Contract

    return Contract.model_validate(
        {
            "name": "german",
            "label": {"column": "risk", "positive": "bad"},
            "columns": {
                "account": {"role": "id", "type": "integer"},
                "purpose": {"type": "category", "categories": ["car (new)", "education", "business"]},
                "amount": {"type": "number", "range": [0, 100000]},
                "savings": {"type": "number", "missing": True},
                "sex": {"role": "protected", "type": "category", "categories": ["male", "female"]},
                "risk": {"role": "label", "type": "category", "categories": ["good", "bad"]},
            },
        }
    )


def test_text_categories_are_read_as_their_codes_and_an_unknown_one_is_a_422() -> None:
    contract = _portfolio()
    record = {"purpose": "education", "amount": 1200.5, "savings": None, "sex": "female", "account": 17}
    parsed = parse_request(orjson.dumps({"dataframe_records": [record]}), contract, max_rows=5)
    np.testing.assert_array_equal(parsed.features, [[1.0, 1200.5, np.nan]])
    np.testing.assert_array_equal(parsed.columns, [[1.0, 1200.5, np.nan, 1.0]])
    assert parsed.ids == [17]
    for bad, message in (
        (
            {**record, "purpose": "yacht"},
            "column 'purpose' row 0: 'yacht' is not an allowed category (car (new), education, business)",
        ),
        ({**record, "purpose": 1}, "column 'purpose' row 0: 1 is not an allowed category"),
        ({**record, "purpose": None}, "column 'purpose' row 0: null is not an allowed category"),
        ({**record, "amount": "12"}, "column 'amount' row 0: non-numeric '12' value"),
        ({**record, "amount": None}, "column 'amount' row 0: null value"),
        ({**record, "sex": "x"}, "column 'sex' row 0: 'x' is not an allowed category (male, female)"),
    ):
        with pytest.raises(RequestError) as raised:
            parse_request(orjson.dumps({"dataframe_records": [bad]}), contract, max_rows=5)
        assert raised.value.status == 422
        assert raised.value.message.startswith(message)


def test_unknown_columns_are_named_with_the_contracts_columns() -> None:
    with pytest.raises(RequestError, match=r"unknown column 'x': use the column names \(purpose … sex\) or positions"):
        parse_request(orjson.dumps({"dataframe_split": {"columns": ["x"], "data": [[1]]}}), _portfolio(), max_rows=5)


def test_positional_rows_of_another_width_are_named_even_beside_text_categories() -> None:
    contract = _portfolio()
    good = ["education", 10.0, None, "male"]
    with pytest.raises(RequestError, match=r"^row 0: 2 values, expected 4$"):
        parse_request(orjson.dumps({"instances": [good[:2], good[:2]]}), contract, max_rows=5)
    with pytest.raises(RequestError, match=r"^row 1: 3 values, where row 0 has 4 values$"):
        parse_request(orjson.dumps({"instances": [good, good[:3]]}), contract, max_rows=5)
    with pytest.raises(RequestError, match=r"^row 1: a string, where row 0 has 4 values$"):
        parse_request(orjson.dumps({"instances": [good, "x"]}), contract, max_rows=5)


def test_a_boolean_column_takes_true_and_false_and_a_number_column_refuses_them() -> None:
    from creditops.data.contract import Contract

    contract = Contract.model_validate(
        {
            "name": "flags",
            "label": {"column": "bad", "positive": 1},
            "columns": {
                "owner": {"type": "boolean"},
                "kind": {"type": "category", "categories": ["a", "b"]},
                "amount": {"type": "number"},
                "bad": {"role": "label", "type": "category", "categories": [0, 1]},
            },
        }
    )
    parsed = parse_request(orjson.dumps({"instances": [[True, "a", 1.5], [False, "b", 2]]}), contract, max_rows=5)
    np.testing.assert_array_equal(parsed.features, [[1.0, 0.0, 1.5], [0.0, 1.0, 2.0]])
    numeric = parse_request(orjson.dumps({"instances": [[True, 0, 1.5]]}), _numbers_and_flags(), max_rows=5)
    np.testing.assert_array_equal(numeric.features, [[1.0, 0.0, 1.5]])
    with pytest.raises(RequestError, match="column 'amount' row 0: true is a boolean, not a number"):
        parse_request(orjson.dumps({"instances": [[True, "a", True]]}), contract, max_rows=5)
    with pytest.raises(RequestError, match="column 'amount' row 0: true is a boolean, not a number"):
        parse_request(orjson.dumps({"instances": [[True, 0, True]]}), _numbers_and_flags(), max_rows=5)


def _numbers_and_flags():  # type: ignore[no-untyped-def]
    from creditops.data.contract import Contract

    return Contract.model_validate(
        {
            "name": "numbers",
            "label": {"column": "bad", "positive": 1},
            "columns": {
                "owner": {"type": "boolean"},
                "grade": {"type": "integer"},
                "amount": {"type": "number"},
                "bad": {"role": "label", "type": "category", "categories": [0, 1]},
            },
        }
    )
