#!/usr/bin/env bash
# The container test (tests/containers/check_compose_stack.py): images built, the compose stack
# up with podman-compose, the seller flow through it, its emails and JSON logs checked, the stack
# down. Run by .ci/run after the README's test command; about 10 minutes on 2 cores, less when the
# images are cached. Fails saying what is missing when podman cannot run.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/ensure-tools.sh
scripts/ensure-podman.sh
exec uv run --frozen pytest -q -s tests/containers/check_compose_stack.py "$@"
