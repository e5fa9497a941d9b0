"""What the command-line tests share."""

import pytest

from creditops.cli.app import console
from creditops.context import Context


@pytest.fixture
def in_two_versions(two_versions: Context, monkeypatch: pytest.MonkeyPatch) -> Context:
    """The two versions' workspace as the one the command line works in."""
    monkeypatch.setenv("CREDITOPS_WORKSPACE", str(two_versions.workspace))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setattr(console, "width", 200)  # pytest gives 80 columns: table rows would wrap
    return two_versions
