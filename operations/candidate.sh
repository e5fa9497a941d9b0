#!/usr/bin/env bash
# The candidate job's commands in both CI systems: run a creditops command that retrains and gates
# (`ci release --env ENV`, or `ci monitor --env ENV`), then publish as the job's outputs
#   awaiting  true when a version awaits approval (exit 3), so the deploy job runs; false otherwise
#   version   the version that awaits approval (the deploy job deploys exactly this one)
#   gated     true when this run recorded a gate decision: its evidence is in gate-summary.md and gate-card/
# Usage: candidate.sh github|azure ENVIRONMENT CREDITOPS-ARGUMENTS...
# GitHub takes outputs from the file $GITHUB_OUTPUT names, Azure Pipelines from `##vso` lines.
# Exits as the command did, except 3 (awaiting approval), which is this job's success.
set -uo pipefail
system="$1"
environment="$2"
shift 2
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)

.venv/bin/creditops "$@"
code=$?

awaiting=false
version=""
if [ "$code" -eq 3 ]; then
  awaiting=true
  version=$(.venv/bin/creditops gate pending --env "$environment") || exit 1
fi
# The evidence of a gate decision this job recorded (awaiting, blocked or promoted), for the reviewers:
# gate-summary.md for the run's summary page and gate-card/ for its artifacts. Nothing when the job
# decided nothing (nothing to do, or it failed before the gate).
rm -rf gate-summary.md gate-card
.venv/bin/creditops gate summary --env "$environment" --since "$started" --out gate-summary.md --card-out gate-card ||
  echo "warning: the gate's evidence could not be summarized (above); the release's outcome stands" >&2
gated=false
if [ -f gate-summary.md ]; then gated=true; fi

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
