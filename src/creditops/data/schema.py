"""The UCI "default of credit card clients" layout, for the demo data generator (`data synth`) and tests.

What each column is, and which may score, is the data contract's to say (`config/schema.yaml`).
"""

from typing import Final

ID_COLUMN: Final = "ID"
LABEL: Final = "default payment next month"
OBSERVED_ON: Final = "observation_date"
"""The outcomes table: ID, LABEL and the date the outcome was observed (YYYY-MM-DD)."""

PAY_STATUS: Final = ("PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6")
BILL_AMOUNTS: Final = tuple(f"BILL_AMT{month}" for month in range(1, 7))
PAY_AMOUNTS: Final = tuple(f"PAY_AMT{month}" for month in range(1, 7))

FEATURES: Final[tuple[str, ...]] = (  # the 23 columns a UCI request carries: 20 features and 3 protected
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
