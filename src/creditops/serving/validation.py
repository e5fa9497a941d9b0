"""The value checks of a scoring batch against the model's data contract: ranges, allowed codes and missing
values, refused (reject) or reported per row (flag).

Vectorised: one bounds check over the whole batch; rows are looked at one by one only when one fails.
Text categories arrive here as their codes (requests.py refuses an unknown text before), so their bounds
check is the same as any code's.
"""

from functools import cached_property
from typing import Final

import numpy as np

from creditops.data.contract import Contract
from creditops.serving.errors import RequestError


class ValueRules:
    """The checks of `columns` (some of the contract's request columns, in matrix order)."""

    def __init__(self, contract: Contract, columns: tuple[str, ...]) -> None:
        self.contract = contract
        self.columns = columns
        bounds = [contract.bounds(name) for name in columns]
        self.low = np.array([low for low, _ in bounds], dtype=np.float64)
        self.high = np.array([high for _, high in bounds], dtype=np.float64)
        self.whole = np.array([p for p, name in enumerate(columns) if contract.whole(name)], dtype=np.intp)
        self.may_miss = np.array([contract.columns[name].missing for name in columns], dtype=bool)
        self.gaps = {
            p: np.array(codes)
            for p, name in enumerate(columns)
            if contract.columns[name].type == "category"
            and len(codes := contract.codes(name)) != max(codes) - min(codes) + 1
        }

    @cached_property
    def open_ended(self) -> bool:
        """Some column has no low or no high bound: there ±inf is within its range and is refused apart."""
        return bool(np.isinf(self.low).any() or np.isinf(self.high).any())

    @cached_property
    def any_may_miss(self) -> bool:
        return bool(self.may_miss.any())

    def invalid_cells(self, values: np.ndarray) -> np.ndarray | None:
        """A mask of the cells out of range, not finite, not whole or not an allowed code (an empty cell only
        where its column may be missing passes); None when every cell is valid."""
        if len(values) >= _LARGE_BATCH and self._all_valid_by_column(values):
            return None
        within = (values >= self.low) & (values <= self.high)  # False for NaN, and ±inf where bounded
        if self.open_ended:
            within &= ~np.isinf(values)
        if self.any_may_miss:
            within |= np.isnan(values) & self.may_miss
        codes = values[:, self.whole]
        with np.errstate(invalid="ignore"):  # pragma: no mutate  (NaN comparisons: silences a warning only)
            fractional = (codes != np.floor(codes)) & ~np.isnan(codes)
        if within.all() and not fractional.any() and not self.gaps:
            return None
        bad = ~within
        bad[:, self.whole] |= fractional
        for position, allowed in self.gaps.items():
            column = values[:, position]
            bad[:, position] |= ~np.isin(column, allowed) & ~np.isnan(column)
        return bad if bad.any() else None

    def _all_valid_by_column(self, values: np.ndarray) -> bool:
        """Every value in range (a NaN fails its column's min or max) and every code whole, column by
        column: for large batches, reductions beat boolean matrices the size of the batch."""
        if self.any_may_miss or self.gaps or self.open_ended:
            return False
        if not ((values.min(axis=0) >= self.low).all() and (values.max(axis=0) <= self.high).all()):
            return False
        return all(bool((values[:, p] == np.floor(values[:, p])).all()) for p in self.whole)

    def reason(self, position: int, value: float) -> str:
        """Why one value fails: "9 is not an allowed code (1..2)"."""
        name = self.columns[position]
        low, high = self.contract.bounds(name)
        if np.isnan(value):
            return "empty or not a number"
        if not np.isfinite(value):
            return f"{value} is not a finite number"
        column = self.contract.columns[name]
        if column.text_categories:
            shown = ", ".join(str(value) for value in (column.categories or [])[:12])
            return f"not one of the allowed categories ({shown}{' …' if len(column.categories or []) > 12 else ''})"
        if column.type == "category":
            listed = ", ".join(str(code) for code in column.categories or ())
            allowed = listed if position in self.gaps else f"{_number(low)}..{_number(high)}"
            return f"{_number(value)} is not an allowed code ({allowed})"
        if column.type in ("integer", "boolean") and value != np.floor(value):
            return f"{_number(value)} is not a whole number"
        return f"{_number(value)} is outside {_bound(low)}..{_bound(high)}"

    def check(self, values: np.ndarray) -> None:
        """Refuse the first bad value (reject mode), naming its column and row."""
        bad = self.invalid_cells(values)
        if bad is None:
            return
        row, position = (int(i) for i in np.argwhere(bad)[0])
        raise RequestError(
            422, f"column '{self.columns[position]}' row {row}: {self.reason(position, values[row, position])}"
        )

    def row_problems(self, values: np.ndarray) -> dict[int, list[str]]:
        """Per row that fails a check, one reason per bad value ("SEX: 9 is not an allowed code (1..2)")."""
        bad = self.invalid_cells(values)
        if bad is None:
            return {}
        problems: dict[int, list[str]] = {}
        for row, position in np.argwhere(bad):
            name = self.columns[int(position)]
            problems.setdefault(int(row), []).append(
                f"{name}: {self.reason(int(position), float(values[row, position]))}"
            )
        return problems

    def flag(self, values: np.ndarray) -> dict[int, list[str]] | None:
        """Per row, a warning for each value out of range or not an allowed code; a value that is not a number
        (NaN where the column may not be missing, ±inf) is refused: no model can score it."""
        finite = np.isfinite(values) | (np.isnan(values) & self.may_miss)
        if not finite.all():
            row, position = (int(i) for i in np.argwhere(~finite)[0])
            raise RequestError(
                422, f"column '{self.columns[position]}' row {row}: {self.reason(position, values[row, position])}"
            )
        return self.row_problems(values) or None


def _bound(value: float) -> str:
    return "" if not np.isfinite(value) else _number(value)


def _number(value: float) -> str:
    """A value as people write it: 10000000 (not 1e+07), 1.5."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


_LARGE_BATCH: Final = 4096
"""From this many rows, reductions per column beat boolean matrices the size of the batch (batch scoring);
below it, one vectorised pass is cheaper (a 1-row request is checked in a few µs)."""
