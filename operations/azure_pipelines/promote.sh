#!/usr/bin/env bash
# The deploy stage's commands, for both ways it runs: inside AzureCLI@2 (signed in through the service
# connection, for `endpoint.target: azureml`) or as a plain script (a local endpoint). The approval and
# the promotion are operations/promote.sh's, shared with GitHub Actions: the approver is the one Azure
# DevOps recorded for this run's environment approval (read with SYSTEM_ACCESSTOKEN).
# Usage: promote.sh ENVIRONMENT AZURE_DEVOPS_ENVIRONMENT VERSION [release|monitoring]
set -euo pipefail
environment="$1"
AZURE_DEVOPS_ENVIRONMENT="$2"
export AZURE_DEVOPS_ENVIRONMENT
version="$3"
if [ -z "${AZURE_SUBSCRIPTION_ID:-}" ] && command -v az >/dev/null 2>&1; then
  AZURE_SUBSCRIPTION_ID="$(az account show --query id --output tsv 2>/dev/null || true)"
  export AZURE_SUBSCRIPTION_ID
fi
exec bash operations/promote.sh azure-devops "$environment" "$version" "${4:-release}"
