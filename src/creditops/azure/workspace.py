"""The Azure ML workspace a command talks to: named by three variables, signed in as `az login` is."""

from collections.abc import Mapping
from typing import Any, Final

from creditops.errors import CreditopsError

WORKSPACE_VARIABLES: Final = ("AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP", "AZUREML_WORKSPACE_NAME")


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
    """An MLClient on the workspace the variables name, with the credential `az login` (or CI) provides."""
    require_workspace(variables, "this command")
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
