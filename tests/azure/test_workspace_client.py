"""The MLClient factory hook: a documented extension point that takes importable functions only."""

from collections.abc import Mapping

import pytest

from creditops.azure.workspace import CLIENT_FACTORY, client
from creditops.context import from_process
from creditops.errors import CreditopsError

WORKSPACE = {"AZURE_SUBSCRIPTION_ID": "0000", "AZURE_RESOURCE_GROUP": "rg", "AZUREML_WORKSPACE_NAME": "ws"}
MADE: list[Mapping[str, str]] = []


def made_here(variables: Mapping[str, str]) -> object:
    MADE.append(variables)
    return "a client"


def test_the_named_function_makes_the_client_with_the_workspace_variables() -> None:
    variables = {**WORKSPACE, CLIENT_FACTORY: f"{__name__}:made_here"}
    assert client(variables) == "a client"
    assert MADE[-1] == variables


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("os.system", "must name an importable function"),
        ("__import__('os'):system", "must name an importable function"),
        ("creditops.no_such_module:make", "ModuleNotFoundError"),
        ("creditops.azure.workspace:no_such_function", "AttributeError"),
        ("creditops.azure.workspace:WORKSPACE_VARIABLES", "is not callable"),
    ],
)
def test_anything_else_is_refused_in_one_line(name: str, why: str) -> None:
    with pytest.raises(CreditopsError) as raised:
        client({**WORKSPACE, CLIENT_FACTORY: name})
    assert why in str(raised.value)
    assert "\n" not in str(raised.value)


def test_the_factory_still_needs_the_workspace_variables() -> None:
    with pytest.raises(CreditopsError, match="set AZURE_SUBSCRIPTION_ID"):
        client({CLIENT_FACTORY: f"{__name__}:made_here"})


def test_the_context_carries_the_factory_from_the_process_environment() -> None:
    context = from_process("dev", {**WORKSPACE, CLIENT_FACTORY: f"{__name__}:made_here"})
    assert context.azure_workspace == {**WORKSPACE, CLIENT_FACTORY: f"{__name__}:made_here"}
