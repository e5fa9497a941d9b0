"""A data file sent through an endpoint is checked first: every bad column named, its first bad row each."""

from pathlib import Path

import numpy as np
import pytest

from creditops.data.contract import uci
from creditops.data.schema import FEATURES
from creditops.endpoints.rows import refuse_bad_cells
from creditops.errors import CreditopsError
from creditops.serving.validation import ValueRules

from ..sample_requests import VALID_ROW

RULES = ValueRules(uci(), uci().request_columns)


def test_every_bad_column_is_named_with_its_first_bad_row() -> None:
    values = np.array([VALID_ROW] * 5, dtype=float)
    values[1, FEATURES.index("PAY_0")] = 12
    values[3, FEATURES.index("PAY_0")] = 15
    values[2, FEATURES.index("SEX")] = 9
    values[4, FEATURES.index("AGE")] = np.nan
    with pytest.raises(CreditopsError) as raised:
        refuse_bad_cells(Path("bad.csv"), values, RULES)
    message = str(raised.value)
    assert message.startswith("bad.csv has bad values in 3 column(s), the first of each: SEX row 3: 9")
    assert "AGE row 5: empty or not a number" in message
    assert "PAY_0 row 2: 12" in message
    assert "row 4" not in message
    assert message.index("SEX") < message.index("AGE") < message.index("PAY_0")  # in feature order


def test_a_clean_file_passes() -> None:
    refuse_bad_cells(Path("good.csv"), np.array([VALID_ROW] * 3, dtype=float), RULES)
