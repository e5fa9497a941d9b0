"""The scoring service's contract with its callers, in a module light enough for any command to import:
the shipped sample request, the deployment header and how invalid rows are treated."""

from pathlib import Path
from typing import Final, Literal

SAMPLE_REQUEST: Final = Path(__file__).parent / "sample_request.json"
"""The smoke request creditops ships: the original's shape and first row, with a valid second row."""
DEPLOYMENT_HEADER: Final = "azureml-model-deployment"
PROBE_HEADER: Final = "x-creditops-probe"
"""Sent by smoke tests and rollout checks: their requests are answered but not logged as live traffic."""
"""Names the deployment that must answer (a request) or that answered (a response), as on Azure ML."""
OnInvalid = Literal["reject", "flag"]
"""reject: a row out of range or with an unknown code is a 422; flag: it is scored and carries warnings."""
MAX_REASONS: Final = 10
"""The most reason codes a row may be given, wherever they are asked for: a scoring request (`?explain=K`,
`"explain": K`), `creditops endpoint invoke --explain` and `creditops score --explain`."""
