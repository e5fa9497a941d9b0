"""Inferring a data contract from data: what it proposes, that it holds the data it came from, its errors."""

import datetime
import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creditops.data.contract import Band, Contract, parse_contract, uci
from creditops.data.infer import CATEGORY_MAX_VALUES, TEXT_MAX_VALUES, contract_yaml, infer_contract
from creditops.data.schema import BILL_AMOUNTS, ID_COLUMN, LABEL, PAY_AMOUNTS, PAY_STATUS
from creditops.data.synth import synthesize
from creditops.errors import ConfigError, DataError

# What every row of the data the contract came from must satisfy.


def _number(value: object) -> float | None:
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | float | np.number):
        return float(value)
    return None


def _same_category(value: object, categories: list[int | str]) -> bool:
    number = _number(value)
    if number is not None and any(isinstance(category, int) for category in categories):
        return number in {float(category) for category in categories if isinstance(category, int)}
    text = str(bool(value)) if isinstance(value, bool | np.bool_) else str(value)
    return text in {str(category) for category in categories}


def assert_holds(contract: Contract, frame: pd.DataFrame) -> None:
    """Every value of every column the contract names lies within it: categories, ranges, missing, bands."""
    for name, column in contract.columns.items():
        values = frame[name]
        filled = values.dropna()
        if len(filled) < len(values):
            assert column.missing, f"{name} has empty cells but missing is false"
        if column.type == "category":
            outside = [value for value in filled if not _same_category(value, column.categories or [])]
            assert not outside, f"{name}: {outside[:3]} not among {column.categories}"
        if column.range is not None:
            low, high = column.range
            numbers = filled.astype("float64")
            assert low is None or (numbers >= low).all(), f"{name}: below {low}"
            assert high is None or (numbers <= high).all(), f"{name}: above {high}"
            if column.role != "id" and not numbers.empty and np.isfinite(numbers).all():
                assert low is not None
                assert high is not None
        if column.type == "boolean":
            assert pd.api.types.is_bool_dtype(values.dtype)
    for name, groups in contract.slices.items():
        column = contract.columns[name]
        if column.type in ("integer", "number"):
            covered = np.zeros(len(frame), dtype=bool)
            for members in groups.values():
                assert isinstance(members, Band)
                covered |= frame[name].astype("float64").between(members.min, members.max).to_numpy()
            finite = np.isfinite(frame[name].astype("float64")).to_numpy()
            assert covered[finite].all(), f"{name}: a value in no band"
            low = column.range[0] if column.range else None
            assert low is None or min(b.min for b in groups.values() if isinstance(b, Band)) == low


def assert_round_trips(contract: Contract) -> str:
    text = contract_yaml(contract, source="data.csv", on=datetime.date(2026, 1, 31))
    again = parse_contract(text, Path("inferred.yaml"))
    assert again == contract
    assert again.digest() == contract.digest()
    return text


# Frames of any small shape with a binary label.

_LEARNER_UNSAFE = '",:[]{}'
"""What learners refuse in a feature's name (label and ID columns may hold it)."""
_ODD_NAMES = ["age", "a.b", "x{y}", "1", "c:d", "amount [NT$]", "späť", "two words", "- dash", "null", "#"]
_TEXTS = ["a", "b", "c d", "1", "é", "True", "null", " padded ", "x: y", "[z]"]
_LABELS = {
    "zero_one": ([0, 1], "1"),
    "good_bad": (["good", "bad"], "bad"),
    "yes_no": (["no", "Yes"], "Yes"),
    "booleans": ([False, True], "True"),
}


@st.composite
def column_values(draw: st.DrawFn, rows: int) -> tuple[pd.Series, bool]:
    """A column of `rows` values of one kind, at least one filled; and whether it may be protected."""
    kind = draw(st.sampled_from(["small_int", "int", "float", "whole_float", "text", "bool"]))
    maybe_missing = draw(st.booleans()) and kind != "bool"

    def cells(values: st.SearchStrategy[object]) -> list[object]:
        drawn: list[object] = draw(st.lists(values, min_size=rows, max_size=rows))
        if maybe_missing:
            holes = draw(st.lists(st.booleans(), min_size=rows, max_size=rows))
            drawn = [
                None if hole and position else value
                for position, (value, hole) in enumerate(zip(drawn, holes, strict=True))
            ]
        return drawn

    if kind == "small_int":
        return pd.Series(cells(st.integers(-2, 3)), dtype="float64" if maybe_missing else "int64"), True
    if kind == "int":
        return pd.Series(cells(st.integers(-(2**40), 2**40)), dtype="float64" if maybe_missing else "int64"), True
    if kind == "whole_float":
        return pd.Series(cells(st.integers(0, 120).map(float)), dtype="float64"), True
    if kind == "float":
        finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)
        extreme = st.sampled_from([math.inf, -math.inf, 1e300, -1e300, 5e-324])
        drawn = cells(finite | extreme)
        drawn[0] = draw(finite)  # a protected column needs a finite number to cut into bands
        return pd.Series(drawn, dtype="float64"), True
    if kind == "text":
        return pd.Series(cells(st.sampled_from(_TEXTS)), dtype=object), True
    return pd.Series(cells(st.booleans()), dtype=bool), False


@st.composite
def frames(draw: st.DrawFn) -> tuple[pd.DataFrame, dict[str, object]]:
    rows = draw(st.integers(2, 40))
    width = draw(st.integers(1, 4))
    name = st.sampled_from(_ODD_NAMES) | st.text(min_size=1, max_size=6)
    feature_name = name.filter(lambda found: not any(mark in found for mark in _LEARNER_UNSAFE))
    names = draw(
        st.tuples(name, name, st.lists(feature_name, min_size=width, max_size=width)).filter(
            lambda found: len({found[0], found[1], *found[2]}) == width + 2
        )
    )
    label, id_name, features = names[0], names[1], names[2]
    kind = draw(st.sampled_from(sorted(_LABELS)))
    pair, positive = _LABELS[kind]
    labels = draw(st.lists(st.sampled_from(pair), min_size=rows, max_size=rows))
    labels[:2] = pair  # both values occur
    columns: dict[str, pd.Series] = {label: pd.Series(labels, dtype=bool if kind == "booleans" else None)}
    protectable = []
    for name in features:
        columns[name], may_protect = draw(column_values(rows))
        if may_protect:
            protectable.append(name)
    with_id = draw(st.booleans())
    if with_id:
        columns[id_name] = pd.Series(np.arange(1, rows + 1), dtype="int64")
    frame = pd.DataFrame(columns)
    protected = (
        draw(st.lists(st.sampled_from(protectable), unique=True, max_size=len(features) - 1)) if protectable else []
    )
    options = {
        "label": label,
        "positive": draw(st.sampled_from([None, positive])),
        "id_column": id_name if with_id else None,
        "protected": protected,
    }
    return frame, options


@settings(max_examples=150, deadline=None)
@given(frames())
def test_an_inferred_contract_validates_round_trips_and_holds_its_own_data(
    drawn: tuple[pd.DataFrame, dict[str, object]],
) -> None:
    frame, options = drawn
    contract = infer_contract(frame, name="drawn", **options)  # type: ignore[arg-type]
    assert list(contract.columns) == list(frame.columns)  # every column, in data order
    assert_holds(contract, frame)
    assert_round_trips(contract)
    label = frame[options["label"]]
    positives = label.map(lambda value: str(bool(value)) if isinstance(value, bool | np.bool_) else str(value))
    assert contract.labels(frame).sum() == (positives == str(contract.label.positive)).sum()
    assert [group.code for group in contract.reasons] == [f"R{n:02d}" for n in range(1, len(contract.features) + 1)]
    assert [group.columns[0] for group in contract.reasons] == list(contract.features)
    for name, column in contract.columns.items():
        assert column.description.startswith("inferred: "), name
    matrix = contract.encoded(frame, contract.request_columns)
    filled = frame.loc[:, list(contract.request_columns)].notna().to_numpy()
    assert not np.isnan(matrix[filled]).any(), "a value the contract allows encodes as unknown"


# The UCI data.


def test_the_uci_data_get_the_roles_and_types_of_the_built_in_contract() -> None:
    frame = synthesize(2_000, 11)
    contract = infer_contract(
        frame, label=LABEL, id_column=ID_COLUMN, protected=["SEX", "MARRIAGE", "AGE"], name="uci-credit-default"
    )
    built_in = uci()
    assert list(contract.columns) == list(built_in.columns)
    for name, column in contract.columns.items():
        assert column.role == built_in.columns[name].role, name
        assert column.type == built_in.columns[name].type, name
        if column.type == "category":
            assert set(column.categories or ()) <= set(built_in.columns[name].categories or ()), name
    assert contract.features == built_in.features
    assert contract.label.positive == 1
    assert contract.columns[LABEL].categories == [0, 1]
    assert contract.columns[ID_COLUMN].range == (1, None)
    for name in (*PAY_STATUS, "EDUCATION"):
        assert contract.columns[name].type == "category"
    for name in (*BILL_AMOUNTS, *PAY_AMOUNTS, "LIMIT_BAL"):
        assert contract.columns[name].type == "integer"
    assert contract.columns["PAY_AMT1"].range[0] == 0  # type: ignore[index]  # never below 0 when no value is
    assert contract.columns["BILL_AMT1"].range[0] < frame["BILL_AMT1"].min()  # type: ignore[index]
    assert list(contract.slices) == ["AGE"]
    assert next(iter(contract.slices["AGE"])).startswith(f"{frame['AGE'].min()}-")
    assert_holds(contract, frame)
    text = assert_round_trips(contract)
    assert "# Data contract inferred from data.csv on 2026-01-31" in text
    assert text.index("LIMIT_BAL:") < text.index("SEX:") < text.index("PAY_AMT6:") < text.index(f"{LABEL}:")
    assert "  SEX: {role: protected, type: category, categories: [1, 2]" in text


# Types and cut-offs.


def _contract(frame: pd.DataFrame, **options: object) -> Contract:
    frame = frame.assign(target=[0, 1] * (len(frame) // 2) + [0] * (len(frame) % 2))
    return infer_contract(frame, label="target", **options)  # type: ignore[arg-type]


def test_whole_numbers_with_few_values_are_categories_and_with_many_are_integers() -> None:
    codes = np.arange(400) % CATEGORY_MAX_VALUES
    contract = _contract(pd.DataFrame({"codes": codes, "more_codes": np.arange(400) % (CATEGORY_MAX_VALUES + 1)}))
    assert contract.columns["codes"].type == "category"
    assert contract.columns["codes"].categories == list(range(CATEGORY_MAX_VALUES))
    assert contract.columns["more_codes"].type == "integer"
    sparse = _contract(pd.DataFrame({"codes": np.arange(399) % CATEGORY_MAX_VALUES}))
    assert sparse.columns["codes"].type == "integer"  # 20 codes need 400 rows (5%) to be read as categories


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0, 100], (0, 110)),
        ([10, 20], (9, 21)),
        ([-50, 50], (-60, 60)),
        ([3, 3], (2, 4)),
        ([1000, 1000], (900, 1100)),
        ([0.5, 1.5], (0.4, 1.6)),
        ([0.0, 0.123], (0.0, 0.14)),
        ([-0.02, 0.5], (-0.08, 0.56)),
    ],
)
def test_ranges_are_widened_by_a_tenth_of_the_span_and_rounded_outward(
    values: list[float], expected: tuple[float, float]
) -> None:
    frame = pd.DataFrame({"x": values * 5})  # 10 rows: too few for even one category (5%)
    column = _contract(frame).columns["x"]
    assert column.type == ("integer" if isinstance(values[0], int) else "number")
    assert column.range == pytest.approx(expected)


def test_columns_with_empty_cells_may_be_missing_and_whole_decimals_are_numbers() -> None:
    frame = pd.DataFrame({"months": [1.0, None, 3.0, 48.0] * 10, "rate": [0.1, 0.2, None, 0.4] * 10})
    contract = _contract(frame)
    months, rate = contract.columns["months"], contract.columns["rate"]
    assert months.type == "number"  # an integer column with holes is stored as decimals: not int64
    assert months.missing
    assert months.range == (0, 53)
    assert months.description == "inferred: whole numbers 1..48, 10 missing (25.0%)"
    assert rate.missing
    assert rate.description == "inferred: 0.1..0.4, 10 missing (25.0%)"


def test_text_booleans_and_dates() -> None:
    frame = pd.DataFrame(
        {
            "purpose": ["car", "tv", "car", "education"] * 5,
            "owner": [True, False] * 10,
            "opened": ["2024-01-31", "2023-12-01"] * 10,
            "flag": [True, None] * 10,
        }
    )
    contract = _contract(frame)
    assert contract.columns["purpose"].categories == ["car", "education", "tv"]
    assert contract.columns["owner"].type == "boolean"
    assert contract.columns["opened"].type == "date"
    assert contract.columns["opened"].role == "date"
    assert contract.columns["opened"].description == "inferred: dates 2023-12-01..2024-01-31, none missing"
    assert contract.columns["flag"].categories == ["True"]  # booleans with holes: the checks want bool dtype
    assert contract.columns["flag"].missing
    assert contract.features == ("purpose", "owner", "flag")


def test_the_id_is_open_upwards_and_notes_repeats() -> None:
    frame = pd.DataFrame({"account": [5, 6, 6, 7] * 5, "x": range(20)})
    column = _contract(frame, id_column="account").columns["account"]
    assert column.role == "id"
    assert column.type == "integer"
    assert column.range == (1, None)
    assert "17 repeated" in column.description  # 20 rows, 3 distinct ids


def test_protected_number_columns_get_readable_bands_covering_their_range() -> None:
    ages = pd.Series(np.random.default_rng(3).integers(19, 76, 500))
    contract = _contract(pd.DataFrame({"age": ages, "x": np.arange(500)}), protected=["age"])
    bands = contract.slices["age"]
    assert next(iter(bands)).startswith("19-")
    assert all(isinstance(band, Band) for band in bands.values())
    edges = [(band.min, band.max) for band in bands.values() if isinstance(band, Band)]
    assert edges[0][0] == contract.columns["age"].range[0]  # type: ignore[index]
    assert edges[-1][1] == contract.columns["age"].range[1]  # type: ignore[index]
    assert all(later[0] == earlier[1] + 1 for earlier, later in itertools.pairwise(edges))  # no gap, no overlap
    assert all(band_min % 5 == 0 for band_min, _ in edges[1:])  # cut at round numbers


def test_protected_categories_need_no_bands() -> None:
    contract = _contract(pd.DataFrame({"sex": ["f", "m"] * 10, "x": range(20)}), protected=["sex"])
    assert contract.columns["sex"].role == "protected"
    assert contract.slices == {}


def test_reasons_name_their_column_and_show_its_value() -> None:
    frame = pd.DataFrame({"amount": range(40), "purpose": ["car", "tv"] * 20, "a.b": range(40), "7": range(40)})
    reasons = {group.columns[0]: group.text for group in _contract(frame).reasons}
    assert reasons["amount"].format(amount=1234.0) == "amount (1,234)"
    assert reasons["purpose"].format(purpose="car") == "purpose (car)"
    assert reasons["a.b"] == "a.b"  # str.format cannot take a dotted name as a field
    assert reasons["7"] == "7"  # nor digits


def test_labels_take_their_positive_value_by_text_or_by_name() -> None:
    frame = pd.DataFrame({"x": range(20), "target": ["good", "bad"] * 10})
    assert infer_contract(frame, label="target").label.positive == "bad"
    assert infer_contract(frame, label="target", positive="good").label.positive == "good"
    assert infer_contract(frame, label="target", positive="BAD").label.positive == "bad"
    coded = pd.DataFrame({"x": range(20), "target": [1, 2] * 10})
    assert infer_contract(coded, label="target", positive="2").label.positive == 2


# Errors: one line each.


def test_unknown_names_suggest_close_ones() -> None:
    frame = pd.DataFrame({"default": [0, 1] * 10, "amount": range(20), "age": range(20)})
    with pytest.raises(ConfigError, match=r"label column 'defualt' is not in the data; did you mean 'default'\?"):
        infer_contract(frame, label="defualt")
    with pytest.raises(ConfigError, match=r"id column 'zzz' is not in the data; its columns are 'default', 'amount'"):
        infer_contract(frame, label="default", id_column="zzz")
    with pytest.raises(ConfigError, match=r"protected column 'ages'.*did you mean 'age'"):
        infer_contract(frame, label="default", protected=["ages"])


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ([0, 1, 2] * 5, r"the label 'target' must have exactly two values; it has 3: 0, 1, 2$"),
        ([1] * 15, r"it has 1: 1$"),
        ([0.5, 1.5] * 5 + [0.5] * 5, r"holds decimals"),
    ],
)
def test_a_label_without_two_values_is_refused(labels: list[object], message: str) -> None:
    with pytest.raises(DataError, match=message):
        infer_contract(pd.DataFrame({"x": range(15), "target": labels}), label="target")


def test_a_label_whose_default_value_cannot_be_told_asks_for_positive() -> None:
    for pair in ([1, 2], ["approved", "declined"]):
        frame = pd.DataFrame({"x": range(20), "target": pair * 10})
        with pytest.raises(ConfigError, match=r"means default\? Its values are .*: give it with --positive"):
            infer_contract(frame, label="target")


def test_a_positive_value_not_in_the_label_names_its_values() -> None:
    frame = pd.DataFrame({"x": range(20), "target": ["good", "bad"] * 10})
    with pytest.raises(ConfigError, match=r"--positive 'yes' is not a value of the label 'target': its values are bad"):
        infer_contract(frame, label="target", positive="yes")


def test_free_text_is_refused_unless_ignored() -> None:
    rows = TEXT_MAX_VALUES + 1
    frame = pd.DataFrame({"x": range(rows), "name": [f"client {n}" for n in range(rows)], "target": [0, 1] * 25 + [0]})
    with pytest.raises(DataError, match=r"column 'name' holds 51 distinct texts.*--ignore name"):
        infer_contract(frame, label="target")
    assert "name" not in infer_contract(frame, label="target", ignore=["name"]).columns


@pytest.mark.parametrize(
    ("frame", "options", "error", "message"),
    [
        (pd.DataFrame({"x": range(4), "e": [None] * 4, "t": [0, 1] * 2}), {}, DataError, "'e' is empty in every row"),
        (
            pd.DataFrame({"x": range(4), "key": list("abcd"), "t": [0, 1] * 2}),
            {"id_column": "key"},
            ConfigError,
            "id column 'key' holds text",
        ),
        (pd.DataFrame({"x": range(4), "t": [0, 1] * 2}), {"protected": ["t"]}, ConfigError, "given as label and"),
        (pd.DataFrame({"x": range(4), "t": [0, 1] * 2}), {"protected": ["x"]}, DataError, "no column is left"),
        (pd.DataFrame({"x": [], "t": []}), {}, DataError, "no rows"),
        (pd.DataFrame([[1, 2, 0]], columns=["x", "x", "t"]), {}, DataError, "columns named twice: 'x'"),
    ],
)
def test_data_or_options_that_cannot_make_a_contract_are_one_line_errors(
    frame: pd.DataFrame, options: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message) as raised:
        infer_contract(frame, label="t", **options)  # type: ignore[arg-type]
    assert "\n" not in str(raised.value)


def test_names_learners_refuse_and_an_empty_label_are_one_line() -> None:
    frame = pd.DataFrame({"a{b}": [1, 2, 3, 4], "bad": [0, 1, 0, 1]})
    with pytest.raises(DataError, match=r"feature 'a\{b\}' has a character learners refuse"):
        infer_contract(frame, label="bad")
    gaps = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "bad": [0, 1, None, 1]})
    with pytest.raises(DataError, match="the label 'bad' is empty in 1 row"):
        infer_contract(gaps, label="bad")
