"""The sample request of a model's data contract: what smoke tests send and the API docs show.

The UCI contract has the shipped request (the original's shape and first row, with a valid second row);
any other contract gets one valid row built from its columns, in the same Azure ML `input_data` form."""

import orjson

from creditops.data.contract import Contract, uci
from creditops.serving.protocol import SAMPLE_REQUEST


def sample_request(contract: Contract) -> bytes:
    """A request every model of `contract` must answer with one prediction per row."""
    if contract.request_columns == uci().request_columns:
        return SAMPLE_REQUEST.read_bytes()
    row = [_sample_value(contract, name) for name in contract.request_columns]
    return orjson.dumps({"input_data": {"columns": list(contract.request_columns), "index": [0], "data": [row]}})


def _sample_value(contract: Contract, name: str) -> object:
    """A valid value of a column: its first category, else the lowest value of its range (0 where unbounded)."""
    column = contract.columns[name]
    if column.type == "category":
        return (column.categories or [0])[0]
    if column.type == "boolean":
        return False
    low, high = contract.bounds(name)
    value = low if low > float("-inf") else min(0.0, high)
    return int(value) if column.type == "integer" else value
