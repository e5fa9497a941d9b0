"""A data file sent through an endpoint in batches, as `creditops endpoint invoke --data` does."""

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np
import orjson
import pandas as pd

from creditops.data.io import read_table
from creditops.errors import CreditopsError
from creditops.serving.validation import ValueRules

if TYPE_CHECKING:
    from creditops.data.contract import Contract


def send_rows(
    contract: "Contract", data: Path, invoke: Callable[[bytes], httpx.Response], batch: int = 500
) -> tuple[int, float]:
    """Score every row of a data file through `invoke` (one request body each call); the row count and
    mean probability.

    The project's data contract says which columns go: its features and the protected columns the file
    has (logged beside the predictions to measure fairness, never scored). A file with an ID column sends
    it as each batch's index, so the request log keeps the IDs that outcomes are joined on later
    (`creditops monitor performance`)."""
    frame = read_table(data, contract)
    missing = [name for name in contract.features if name not in frame]
    if missing:
        raise CreditopsError(f"{data} lacks the feature column(s) {', '.join(missing)}")
    columns = tuple(name for name in contract.request_columns if name in frame)
    values = np.ascontiguousarray(contract.encoded(frame, columns))
    refuse_bad_cells(data, values, ValueRules(contract, columns))
    sent: Any = values if not contract.text_columns else _as_sent(frame, columns)
    id_column = contract.id_column
    ids = frame[id_column].tolist() if id_column is not None and id_column in frame else None
    probabilities: list[float] = []
    for start in range(0, len(values), batch):
        split: dict[str, Any] = {"columns": list(columns), "data": sent[start : start + batch]}
        if ids is not None:
            split["index"] = ids[start : start + batch]
        body = {"dataframe_split": split}
        answer = invoke(orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY))
        if answer.status_code != 200:
            raise CreditopsError(f"rows {start}..{start + batch - 1} of {data}: {answer.text[:300]}")
        probabilities.extend(row["probability"] for row in answer.json()["predictions"])
    return len(probabilities), float(sum(probabilities) / max(1, len(probabilities)))


def _as_sent(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[list[Any]]:
    """The rows as JSON takes them: text categories as text, numbers as numbers, an empty cell as null."""
    kept = frame.loc[:, list(columns)].astype(object)
    rows: list[list[Any]] = kept.where(kept.notna(), None).to_numpy().tolist()
    return rows


def refuse_bad_cells(data: Path, values: np.ndarray, rules: ValueRules) -> None:
    """Every bad column of the file named at once (its first bad data row each), before anything is sent."""
    names = rules.columns
    finite = np.isfinite(values) | (np.isnan(values) & rules.may_miss)
    found = [(int(row), names[int(column)], "empty or not a number") for row, column in np.argwhere(~finite)]
    for row, reasons in rules.row_problems(np.where(finite, values, 0.0)).items():
        for reason in reasons:
            name, _, why = reason.partition(": ")
            if finite[row, names.index(name)]:
                found.append((row, name, why))
    first: dict[str, str] = {}
    for row, name, why in sorted(found):
        first.setdefault(name, f"row {row + 1}: {why}")
    if first:
        listed = "; ".join(f"{name} {first[name]}" for name in names if name in first)
        raise CreditopsError(f"{data} has bad values in {len(first)} column(s), the first of each: {listed}")
