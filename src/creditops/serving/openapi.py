"""The OpenAPI description of the two scoring routes: each accepted request format and the answer.

The routes themselves stay raw ASGI (no pydantic on the hot path); these schemas are written for the
docs and checked against the shipped sample request by the tests.
"""

from typing import Any, Final

import orjson

from creditops.data.contract import Contract
from creditops.serving.protocol import MAX_REASONS
from creditops.serving.samples import sample_request

JSON: Final = "application/json"

_CELL: Final = {"type": ["number", "string", "null"], "description": "A column's value (see its schema)"}


def request_formats(contract: Contract) -> dict[str, dict[str, Any]]:
    """The JSON Schema of each request format, for the columns of `contract`."""
    names = contract.request_columns
    id_column = contract.id_column
    cells = {name: _cell(contract, name) for name in names}
    column = {
        "oneOf": [
            {
                "type": "string",
                "enum": [*names, *([id_column] if id_column else [])],
                "description": "A column name" + (f", or {id_column}" if id_column else ""),
            },
            {"type": "integer", "minimum": 0, "maximum": len(names) - 1, "description": "0-based position"},
        ]
    }
    properties = dict(cells)
    if id_column:
        properties[id_column] = {"type": "integer", "description": "The row's ID, logged so outcomes can be joined"}
    row_object = {
        "type": "object",
        "properties": properties,
        "required": list(contract.features),
        "description": f"One row by column name; the protected columns ({', '.join(contract.protected) or 'none'})"
        " may be left out: they are logged to measure fairness, never scored",
    }
    row_array = {
        "type": "array",
        "items": _CELL,
        "minItems": len(contract.features),
        "maxItems": len(names),
        "description": f"One row in column order: {', '.join(names)} (or the features alone)",
    }
    objects, arrays = {"type": "array", "items": row_object}, {"type": "array", "items": row_array}
    return {
        "input_data": _split("Azure ML's format (the original smoke-test request)", column),
        "dataframe_split": _split("MLflow's pandas split orientation", column),
        "dataframe_records": {"type": "array", "items": row_object, "description": "MLflow's records orientation"},
        "instances": {
            "oneOf": [objects, arrays, {"type": "object"}],
            "description": "TF-serving style: rows all of one kind, or columns of values by name",
        },
        "inputs": {
            "oneOf": [objects, arrays, {"type": "object"}],
            "description": "TF-serving style: rows all of one kind, or columns of values by name",
        },
    }


def _cell(contract: Contract, name: str) -> dict[str, Any]:
    column = contract.columns[name]
    described = {"description": column.description or name}
    nullable = ["null"] if column.missing else []
    if column.type == "category":
        kind = ["string"] if column.text_categories else ["integer"]
        return {
            "type": kind + nullable,
            "enum": [*(column.categories or []), *([None] if column.missing else [])],
            **described,
        }
    if column.type == "boolean":
        return {"type": ["boolean", "integer", *nullable], **described}
    low, high = contract.bounds(name)
    bounds = {
        **({"minimum": low} if low > float("-inf") else {}),
        **({"maximum": high} if high < float("inf") else {}),
    }
    return {"type": ["integer" if column.type == "integer" else "number", *nullable], **bounds, **described}


def _split(description: str, column: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["data"],
        "additionalProperties": False,
        "properties": {
            "columns": {
                "type": "array",
                "items": column,
                "description": "Every feature, in any order (without columns: rows in column order)",
            },
            "index": {
                "type": "array",
                "description": "Row labels (IDs) echoed back as each prediction's index and kept in the request log",
            },
            "data": {"type": "array", "items": {"type": "array", "items": _CELL}},
        },
        "description": description,
    }


_EXPLAIN: Final = {
    "type": "integer",
    "minimum": 1,
    "maximum": MAX_REASONS,
    "description": "Add each row's K principal reason codes (as ?explain=K does)",
}


def request_schema(contract: Contract) -> dict[str, Any]:
    """Exactly one of the formats, and optionally `explain`."""
    return {
        "oneOf": [
            {
                "title": key,
                "type": "object",
                "required": [key],
                "additionalProperties": False,
                "properties": {key: schema, "explain": _EXPLAIN},
            }
            for key, schema in request_formats(contract).items()
        ],
        "description": f"Exactly one of the formats, with the columns of the {contract.name} data contract",
    }


PREDICTION: Final = {
    "type": "object",
    "required": ["class", "probability"],
    "properties": {
        "index": {"description": "The request's row label (/score only)"},
        "class": {"type": "integer", "enum": [0, 1], "description": "1: default predicted (probability ≥ threshold)"},
        "probability": {"type": "number", "minimum": 0, "maximum": 1},
        "reasons": {
            "type": "array",
            "description": 'With ?explain=K or "explain": K: the K principal reasons that raised the risk',
            "items": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "text": {"type": "string"},
                    "contribution": {"type": "number", "description": "log-odds raised (the model's contributions)"},
                },
            },
        },
        "warnings": {"type": "array", "items": {"type": "string"}, "description": "on_invalid: flag only"},
    },
}

ANSWER: Final = {
    "type": "object",
    "required": ["predictions", "model_name", "model_version", "deployment"],
    "properties": {
        "predictions": {"type": "array", "items": PREDICTION, "description": "One per row, in request order"},
        "model_name": {"type": "string"},
        "model_version": {"type": "string"},
        "deployment": {"type": "string"},
        "threshold": {"type": "number"},
    },
}

ERROR: Final = {"type": "object", "properties": {"error": {"type": "string", "description": "one line: what and how"}}}
MLFLOW_ERROR: Final = {
    "type": "object",
    "required": ["error_code", "message"],
    "properties": {
        "error_code": {
            "type": "string",
            "enum": ["BAD_REQUEST", "UNAUTHENTICATED", "INVALID_PARAMETER_VALUE"],
            "description": "MLflow's error code: INVALID_PARAMETER_VALUE for a 422, UNAUTHENTICATED for a 401",
        },
        "message": {"type": "string", "description": "one line: what and how"},
    },
}
CSV: Final = "text/csv"


def scoring_paths(contract: Contract) -> dict[str, Any]:
    """The OpenAPI path items of /score and /invocations, for the model's contract."""
    sample = orjson.loads(sample_request(contract))
    split = {"dataframe_split": {k: v for k, v in sample["input_data"].items() if k != "index"}}
    json_body = {
        JSON: {
            "schema": request_schema(contract),
            "examples": {
                "azureml": {"summary": "Azure ML input_data (the sample request)", "value": sample},
                "mlflow": {"summary": "MLflow dataframe_split", "value": split},
            },
        }
    }
    body = {"required": True, "content": json_body}
    statuses = (
        (400, "malformed JSON or CSV, a body that is not a table in one format, or a bad ?explain"),
        (401, "missing or wrong API key"),
        (413, "body or batch too large"),
        (415, "content type is not application/json (or text/csv on /invocations), or not UTF-8"),
        (422, "invalid rows: the message names the column and row"),
    )
    errors = {str(status): {"description": text, "content": {JSON: {"schema": ERROR}}} for status, text in statuses}
    mlflow_errors = {
        str(status): {"description": text, "content": {JSON: {"schema": MLFLOW_ERROR}}} for status, text in statuses
    }
    names = contract.request_columns
    header = [names[column] if isinstance(column, int) else column for column in split["dataframe_split"]["columns"]]
    first_row = split["dataframe_split"]["data"][0]
    csv = {"schema": {"type": "string"}, "example": f"{','.join(header)}\n{','.join(map(str, first_row))}\n"}
    mlflow_body = {"required": True, "content": {**json_body, CSV: csv}}
    explain = {
        "name": "explain",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_REASONS},
        "description": "Add each row's K principal reasons (code, sentence, log-odds raised; exact TreeSHAP)",
    }
    scored = {"200": {"description": "one prediction per row", "content": {JSON: {"schema": ANSWER}}}}
    return {
        "/score": {
            "post": {
                "operationId": "score",
                "summary": "Score rows: class and probability of default per row, with model and deployment",
                "parameters": [explain],
                "requestBody": body,
                "responses": {**scored, **errors},
            }
        },
        "/invocations": {
            "post": {
                "operationId": "invocations",
                "summary": 'MLflow scoring protocol (JSON or CSV with a header row): answers {"predictions": [...]}',
                "parameters": [explain],
                "requestBody": mlflow_body,
                "responses": {**scored, **mlflow_errors},
            }
        },
    }
