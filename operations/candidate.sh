#!/usr/bin/env bash
# The candidate job's commands in both CI systems: run a creditops command that retrains and gates
# (`ci release --env ENV`, or `ci monitor --env ENV`), then publish as the job's outputs
#   awaiting  true when a version awaits approval (exit 3), so the deploy job runs; false otherwise
#   version   the version that awaits approval (the deploy job deploys exactly this one)
#   gated     true when this run recorded a gate decision, so its evidence goes where reviewers look
# Usage: candidate.sh github|azure ENVIRONMENT CREDITOPS-ARGUMENTS...
# GitHub takes outputs from the file $GITHUB_OUTPUT names, Azure Pipelines from `##vso` lines.
# Exits as the command did, except 3 (awaiting approval), which is this job's success.
set -uo pipefail
system="$1"
environment="$2"
shift 2
log=$(mktemp)
trap 'rm -f "$log"' EXIT

.venv/bin/creditops "$@" 2>&1 | tee "$log"
code=${PIPESTATUS[0]}

awaiting=false
version=""
gated=true
if [ "$code" -eq 3 ]; then
  awaiting=true
  version=$(.venv/bin/creditops gate pending --env "$environment") || exit 1
elif [ "$code" -eq 0 ]; then
  # the two ways a release ends green without a gate decision (flow/release.py), and monitoring's
  if grep -qE '^(nothing to do|no candidate to promote|nothing calls for retraining)' "$log"; then gated=false; fi
elif ! grep -q 'gate blocked version' "$log"; then
  gated=false # failed before the gate decided (data, config, store): there is no evidence of this run
fi

publish() {
  case "$system" in
    github) echo "$1=$2" >>"$GITHUB_OUTPUT" ;;
    azure) echo "##vso[task.setvariable variable=$1;isOutput=true]$2" ;;
    *) echo "error: unknown CI system $system: use github or azure" >&2 && exit 2 ;;
  esac
}
publish awaiting "$awaiting"
publish version "$version"
publish gated "$gated"
echo "awaiting approval: $awaiting${version:+ (version $version)}; gate decision recorded: $gated"
if [ "$code" -ne 0 ] && [ "$code" -ne 3 ]; then exit "$code"; fi
exit 0
