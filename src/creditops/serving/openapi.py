"""The OpenAPI description of the two scoring routes: each accepted request format and the answer.

The routes themselves stay raw ASGI (no pydantic on the hot path); these schemas are written for the
docs and checked against the shipped sample request by the tests.
"""

from typing import Any, Final

import orjson

from creditops.data.schema import CATEGORICAL_CODES, FEATURES, ID_COLUMN
from creditops.serving.protocol import MAX_REASONS, SAMPLE_REQUEST

JSON: Final = "application/json"

_CELL: Final = {"type": ["number", "null"], "description": "A feature value; null is a missing value (422)"}
_ID: Final = {"type": "integer", "description": "The row's ID, logged so outcomes can be joined to it later"}
_COLUMN: Final = {
    "oneOf": [
        {"type": "string", "enum": [*FEATURES, ID_COLUMN], "description": f"A feature, or {ID_COLUMN}"},
        {"type": "integer", "minimum": 0, "maximum": len(FEATURES) - 1, "description": "0-based position"},
    ]
}
_ROW_OBJECT: Final = {
    "type": "object",
    "properties": {**dict.fromkeys(FEATURES, _CELL), ID_COLUMN: _ID},
    "required": list(FEATURES),
    "description": "One row by feature name",
}
_ROW_ARRAY: Final = {
    "type": "array",
    "items": _CELL,
    "minItems": len(FEATURES),
    "maxItems": len(FEATURES),
    "description": f"One row in training column order: {', '.join(FEATURES)}",
}


_ROWS_OBJECTS: Final = {"type": "array", "items": _ROW_OBJECT}
_ROWS_ARRAYS: Final = {"type": "array", "items": _ROW_ARRAY}


def _split(description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["columns", "data"],
        "properties": {
            "columns": {"type": "array", "items": _COLUMN, "description": "Every feature, in any order"},
            "index": {
                "type": "array",
                "description": "Row labels (IDs) echoed back as each prediction's index and kept in the request log",
            },
            "data": {"type": "array", "items": {"type": "array", "items": _CELL}},
        },
        "description": description,
    }


REQUEST_FORMATS: Final[dict[str, dict[str, Any]]] = {
    "input_data": _split("Azure ML's format (the original smoke-test request)"),
    "dataframe_split": _split("MLflow's pandas split orientation"),
    "dataframe_records": {"type": "array", "items": _ROW_OBJECT, "description": "MLflow's records orientation"},
    "instances": {"oneOf": [_ROWS_OBJECTS, _ROWS_ARRAYS], "description": "TF-serving style: rows, all of one kind"},
    "inputs": {
        "oneOf": [_ROWS_OBJECTS, _ROWS_ARRAYS, {"type": "object"}],
        "description": "TF-serving style: rows all of one kind, or columns of values by feature",
    },
}

_EXPLAIN: Final = {
    "type": "integer",
    "minimum": 1,
    "maximum": MAX_REASONS,
    "description": "Add each row's K principal reason codes (as ?explain=K does)",
}

REQUEST_SCHEMA: Final = {
    "oneOf": [
        {
            "title": key,
            "type": "object",
            "required": [key],
            "additionalProperties": False,
            "properties": {key: schema, "explain": _EXPLAIN},
        }
        for key, schema in REQUEST_FORMATS.items()
    ],
    "description": "Exactly one of the formats. Codes: "
    + "; ".join(f"{name} in {list(codes)}" for name, codes in CATEGORICAL_CODES.items()),
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


def scoring_paths() -> dict[str, Any]:
    """The OpenAPI path items of /score and /invocations."""
    sample = orjson.loads(SAMPLE_REQUEST.read_bytes())
    split = {"dataframe_split": {k: v for k, v in sample["input_data"].items() if k != "index"}}
    body = {
        "required": True,
        "content": {
            JSON: {
                "schema": REQUEST_SCHEMA,
                "examples": {
                    "azureml": {"summary": "Azure ML input_data (the shipped sample request)", "value": sample},
                    "mlflow": {"summary": "MLflow dataframe_split", "value": split},
                },
            }
        },
    }
    errors = {
        str(status): {"description": text, "content": {JSON: {"schema": ERROR}}}
        for status, text in (
            (400, "malformed JSON, or a bad ?explain"),
            (401, "missing or wrong API key"),
            (413, "body or batch too large"),
            (415, "content type is not application/json"),
            (422, "invalid rows: the message names the column and row"),
        )
    }
    explain = {
        "name": "explain",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_REASONS},
        "description": "Add each row's K principal reasons (code, sentence, log-odds raised; exact TreeSHAP)",
    }
    answer = {"200": {"description": "one prediction per row", "content": {JSON: {"schema": ANSWER}}}, **errors}
    return {
        "/score": {
            "post": {
                "operationId": "score",
                "summary": "Score rows: class and probability of default per row, with model and deployment",
                "parameters": [explain],
                "requestBody": body,
                "responses": answer,
            }
        },
        "/invocations": {
            "post": {
                "operationId": "invocations",
                "summary": 'MLflow scoring protocol: answers {"predictions": [...]}',
                "parameters": [explain],
                "requestBody": body,
                "responses": answer,
            }
        },
    }
