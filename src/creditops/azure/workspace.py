"""The Azure ML workspace a command talks to: named by three variables, signed in as `az login` is.

One extension point: `CREDITOPS_AZUREML_CLIENT=package.module:function` names a function that is called with
the workspace variables and returns the MLClient every command uses (e.g. one built with a credential of
your own). It must be importable as written; anything else is refused before any call to Azure.
"""

import importlib
import re
from collections.abc import Mapping
from typing import Any, Final

from creditops.context import CLIENT_FACTORY, WORKSPACE_VARIABLES
from creditops.errors import CreditopsError

__all__ = ["CLIENT_FACTORY", "WORKSPACE_VARIABLES", "client", "missing_variables", "require_workspace"]
_FACTORY: Final = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")


def missing_variables(variables: Mapping[str, str]) -> list[str]:
    return [name for name in WORKSPACE_VARIABLES if not variables.get(name)]


def require_workspace(variables: Mapping[str, str], what: str) -> None:
    """One line naming every unset workspace variable, before anything is created."""
    missing = missing_variables(variables)
    if missing:
        raise CreditopsError(
            f"{what} needs an Azure ML workspace: set {', '.join(missing)} and sign in with 'az login'"
            " (in CI: AzureCLI@2 with a service connection, or azure/login with OIDC)"
        )


def client(variables: Mapping[str, str]) -> Any:
    """An MLClient on the workspace the variables name, with the credential `az login` (or CI) provides, or
    the one the function `variables[CLIENT_FACTORY]` names returns."""
    require_workspace(variables, "this command")
    factory = variables.get(CLIENT_FACTORY)
    if factory:
        return _factory(factory)(variables)
    try:
        from azure.ai.ml import MLClient
        from azure.identity import DefaultAzureCredential
    except ImportError as error:
        raise CreditopsError("Azure ML support is not installed: pip install 'creditops[azure]'") from error
    return MLClient(
        DefaultAzureCredential(),
        variables["AZURE_SUBSCRIPTION_ID"],
        variables["AZURE_RESOURCE_GROUP"],
        variables["AZUREML_WORKSPACE_NAME"],
    )


def _factory(name: str) -> Any:
    """The function `module:function` names, or one line saying why not."""
    refused = f"{CLIENT_FACTORY}={name!r} must name an importable function as package.module:function"
    if not _FACTORY.match(name):
        raise CreditopsError(refused)
    module, _, function = name.partition(":")
    try:
        found = getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError) as error:
        raise CreditopsError(f"{refused} ({type(error).__name__}: {error})") from error
    if not callable(found):
        raise CreditopsError(f"{refused} ({function} is not callable)")
    return found
