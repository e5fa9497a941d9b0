#!/usr/bin/env bash
# Check out the newest releases/* branch (by version order), so scheduled retraining runs the release
# code rather than main's. Needs a checkout with every branch (fetch depth 0). No release branch: stay.
set -euo pipefail
newest=$(git for-each-ref --sort=-version:refname --format='%(refname:lstrip=3)' 'refs/remotes/origin/releases/*' | head -n 1)
if [ -n "$newest" ]; then
  git checkout -q "origin/$newest"
  echo "release code: $newest ($(git rev-parse --short HEAD))"
else
  echo "no releases/* branch: the default branch's code"
fi
