"""The value checks of a scoring batch: ranges and allowed codes, refused (reject) or reported per row (flag).

Vectorised: one bounds check over the whole batch; rows are looked at one by one only when one fails.
"""

from typing import Final

import numpy as np

from creditops.data.schema import CATEGORICAL_CODES, FEATURES, feature_bounds
from creditops.serving.errors import RequestError

_LOW: Final = np.array([feature_bounds(name)[0] for name in FEATURES], dtype=np.float64)
_HIGH: Final = np.array([feature_bounds(name)[1] for name in FEATURES], dtype=np.float64)
_CODE_COLUMNS: Final = np.array([p for p, name in enumerate(FEATURES) if name in CATEGORICAL_CODES])


def _invalid_cells(features: np.ndarray) -> np.ndarray | None:
    """A mask of the cells out of range, not finite or not a whole code; None when every cell is valid."""
    if len(features) >= _LARGE_BATCH and _all_valid_by_column(features):
        return None
    within = (features >= _LOW) & (features <= _HIGH)  # False for NaN and ±inf too
    codes = features[:, _CODE_COLUMNS]
    if within.all() and (codes == np.floor(codes)).all():
        return None
    with np.errstate(invalid="ignore"):  # pragma: no mutate  (NaN comparisons: silences a warning only)
        bad = ~within
        bad[:, _CODE_COLUMNS] |= codes != np.floor(codes)
    return bad


_LARGE_BATCH: Final = 4096
"""From this many rows, reductions per column beat boolean matrices the size of the batch (batch scoring);
below it, one vectorised pass is cheaper (a 1-row request is checked in a few µs)."""


def _all_valid_by_column(features: np.ndarray) -> bool:
    """Every value in range (a NaN fails its column's min or max) and every code whole, column by column."""
    if not ((features.min(axis=0) >= _LOW).all() and (features.max(axis=0) <= _HIGH).all()):
        return False
    return all(bool((features[:, p] == np.floor(features[:, p])).all()) for p in _CODE_COLUMNS)


def _reason(name: str, value: float) -> str:
    low, high = feature_bounds(name)
    if not np.isfinite(value):
        return f"{value} is not a finite number"
    if name in CATEGORICAL_CODES:
        return f"{value:g} is not an allowed code ({low}..{high})"
    return f"{value:g} is outside {low}..{high}"


def check_values(features: np.ndarray) -> None:
    """Refuse NaN/inf, values out of range and codes that are not whole allowed codes."""
    bad = _invalid_cells(features)
    if bad is None:
        return
    row, column = (int(i) for i in np.argwhere(bad)[0])
    name = FEATURES[column]
    raise RequestError(422, f"column '{name}' row {row}: {_reason(name, float(features[row, column]))}")


def row_problems(features: np.ndarray) -> dict[int, list[str]]:
    """Per row that fails a check, one reason per bad value ("SEX: 9 is not an allowed code (1..2)")."""
    bad = _invalid_cells(features)
    if bad is None:
        return {}
    problems: dict[int, list[str]] = {}
    for row, column in np.argwhere(bad):
        name = FEATURES[int(column)]
        problems.setdefault(int(row), []).append(f"{name}: {_reason(name, float(features[row, column]))}")
    return problems


def flag_values(features: np.ndarray) -> dict[int, list[str]] | None:
    """Per row, a warning for each value out of range or not an allowed code; NaN and ±inf are refused."""
    finite = np.isfinite(features)
    if not finite.all():
        row, column = (int(i) for i in np.argwhere(~finite)[0])
        raise RequestError(
            422, f"column '{FEATURES[column]}' row {row}: {features[row, column]} is not a finite number"
        )
    return row_problems(features) or None
