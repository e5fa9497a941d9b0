#!/usr/bin/env bash
# The deploy stage's commands, in one place for both ways it runs: inside AzureCLI@2 (signed in through
# the service connection, for `endpoint.target: azureml`) or as a plain script (a local endpoint).
# Usage: promote.sh ENVIRONMENT AZURE_DEVOPS_ENVIRONMENT; $REQUESTED_FOR names who approved.
set -euo pipefail
environment="$1"
approvals="$2"
if [ -z "${AZURE_SUBSCRIPTION_ID:-}" ] && command -v az >/dev/null 2>&1; then
  AZURE_SUBSCRIPTION_ID="$(az account show --query id --output tsv 2>/dev/null || true)"
  export AZURE_SUBSCRIPTION_ID
fi
version=$(.venv/bin/creditops gate pending --env "$environment")
.venv/bin/creditops approve --env "$environment" --version "$version" \
  --by "$REQUESTED_FOR" --reason "approved in Azure DevOps environment $approvals"
.venv/bin/creditops ci release --env "$environment"
