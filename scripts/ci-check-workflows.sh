#!/usr/bin/env bash
# Hook for .ci/run (which runs every scripts/ci-*.sh): validate the GitHub workflows
# and action.yml against their schemas.
exec bash "$(dirname "$0")/check-workflows.sh"
