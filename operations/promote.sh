#!/usr/bin/env bash
# The deploy job's commands in both CI systems, after the environment's reviewers approved the job:
# check that the version the candidate job published is the one awaiting approval, ask the CI system who
# approved this run's deployment, record that reviewer's approval, and promote.
# Usage: promote.sh github|azure-devops ENVIRONMENT VERSION [release|monitoring]
#   what the reviewer approved, for the recorded reason: a release (default), or the retraining monitoring
#   called for.
# GitHub: GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID, GITHUB_TOKEN (the job needs `actions: read`).
# Azure DevOps: SYSTEM_COLLECTIONURI, SYSTEM_TEAMPROJECT, BUILD_BUILDID, SYSTEM_ACCESSTOKEN,
# and AZURE_DEVOPS_ENVIRONMENT (the Azure DevOps environment whose approval gated the job).
set -euo pipefail
system="$1"
environment="$2"
version="$3"
case "${4:-release}" in
  release) what="the release" ;;
  monitoring) what="the retraining monitoring called for" ;;
  *) echo "error: approved what? $4: use release or monitoring" >&2 && exit 2 ;;
esac
case "$system" in
  github) where="GitHub environment $environment (run $GITHUB_RUN_ID)" ;;
  azure-devops) where="Azure DevOps environment ${AZURE_DEVOPS_ENVIRONMENT:-$environment} (run $BUILD_BUILDID)" ;;
  *) echo "error: unknown CI system $system: use github or azure-devops" >&2 && exit 2 ;;
esac

pending=$(.venv/bin/creditops gate pending --env "$environment")
if [ "$pending" != "$version" ]; then
  echo "error: the candidate job published version ${version:-(none)} but version $pending awaits approval in $environment: deploy nothing, release again" >&2
  exit 1
fi
reviewer=$(.venv/bin/creditops ci approver --from "$system" --env "$environment")
# An authenticated team store records its signed-in account (the approver account) and refuses a --by
# naming anyone else: the reviewer is then named in the reason only.
by=()
if [ -z "${MLFLOW_TRACKING_USERNAME:-}" ]; then by=(--by "$reviewer"); fi
.venv/bin/creditops approve --env "$environment" --version "$version" "${by[@]}" \
  --reason "reviewer $reviewer approved $what in $where"
.venv/bin/creditops ci release --env "$environment"
