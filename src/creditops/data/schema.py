"""The one feature list and allowed codes of the UCI "default of credit card clients" data."""

from typing import Final

ID_COLUMN: Final = "ID"
LABEL: Final = "default payment next month"
OBSERVED_ON: Final = "observation_date"
"""The outcomes table: ID, LABEL and the date the outcome was observed (YYYY-MM-DD)."""

PAY_STATUS: Final = ("PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6")
BILL_AMOUNTS: Final = tuple(f"BILL_AMT{month}" for month in range(1, 7))
PAY_AMOUNTS: Final = tuple(f"PAY_AMT{month}" for month in range(1, 7))

FEATURES: Final[tuple[str, ...]] = (
    "LIMIT_BAL",
    "SEX",
    "EDUCATION",
    "MARRIAGE",
    "AGE",
    *PAY_STATUS,
    *BILL_AMOUNTS,
    *PAY_AMOUNTS,
)
COLUMNS: Final[tuple[str, ...]] = (ID_COLUMN, *FEATURES, LABEL)

CATEGORICAL_CODES: Final[dict[str, tuple[int, ...]]] = {
    "SEX": (1, 2),
    "EDUCATION": (0, 1, 2, 3, 4, 5, 6),
    "MARRIAGE": (0, 1, 2, 3),
    **{column: tuple(range(-2, 10)) for column in PAY_STATUS},
}
"""Codes as found in the published data (EDUCATION 0/5/6 and MARRIAGE 0 are undocumented but occur)."""

NUMERIC_RANGES: Final[dict[str, tuple[int, int]]] = {
    "LIMIT_BAL": (1, 10_000_000),
    "AGE": (18, 120),
    **dict.fromkeys(BILL_AMOUNTS, (-10000000, 10000000)),
    **dict.fromkeys(PAY_AMOUNTS, (0, 10000000)),
}
"""Inclusive bounds for the amounts (NT dollars) and age; wide enough for any real customer."""

LABEL_VALUES: Final = (0, 1)


def feature_bounds(column: str) -> tuple[int, int]:
    """The inclusive lowest and highest value a feature may take."""
    if column in CATEGORICAL_CODES:
        codes = CATEGORICAL_CODES[column]
        return min(codes), max(codes)
    return NUMERIC_RANGES[column]
