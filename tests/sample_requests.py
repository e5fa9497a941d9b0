"""Scoring requests the tests send: the shipped sample and the seed's original smoke request."""

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE_REQUEST = REPO / "src" / "creditops" / "serving" / "sample_request.json"
SAMPLE = SAMPLE_REQUEST.read_bytes()
SHARED_ORIGINAL = REPO.parent / "shared" / "data" / "azureml_sample_request.json"
VALID_ROW = [20000, 2, 2, 1, 24, 2, 2, -1, -1, -2, -2, 3913, 3102, 689, 0, 0, 0, 0, 689, 0, 0, 0, 0]
ORIGINAL_CONTENT = {
    "input_data": {
        "columns": list(range(23)),
        "index": [0, 1],
        "data": [VALID_ROW, [10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 10, 9, 8]],
    }
}


def original_request() -> dict:
    """The seed's Azure ML smoke-test request: the shared copy when present, else the same content."""
    if SHARED_ORIGINAL.is_file():
        return json.loads(SHARED_ORIGINAL.read_text())
    return ORIGINAL_CONTENT
