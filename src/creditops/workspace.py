"""The workspace folder: the embedded MLflow store, pipeline outputs and endpoint state live here."""

import os
from pathlib import Path

WORKSPACE_ENV = "CREDITOPS_WORKSPACE"
DEFAULT_WORKSPACE = ".creditops"


def workspace_root() -> Path:
    """The workspace folder: $CREDITOPS_WORKSPACE, else `.creditops` in the current directory."""
    return Path(os.environ.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE).resolve()
