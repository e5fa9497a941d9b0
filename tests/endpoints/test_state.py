"""Endpoint and deployment names: Azure ML's rule, one-line errors, safe folders."""

from pathlib import Path

import pytest

from creditops.endpoints import state
from creditops.errors import CreditopsError


@pytest.mark.parametrize("name", ["-x", "ab", "x" * 33, "a" * 300, "blue_green", "ends-", "9lives", "../up", "é-ok"])
def test_names_follow_azure_ml_rules_with_one_line(tmp_path: Path, name: str) -> None:
    with pytest.raises(CreditopsError, match=r"^invalid endpoint name .*Azure ML's rule\)$") as raised:
        state.folder(tmp_path, name)
    assert "\n" not in str(raised.value)
    assert len(str(raised.value)) < 200


@pytest.mark.parametrize("name", ["abc", "creditops-prod", "a" * 32, "pr-1234"])
def test_valid_names_are_folders_under_the_root(tmp_path: Path, name: str) -> None:
    assert state.folder(tmp_path, name) == tmp_path / name
