#!/usr/bin/env bash
# Usage: run_integration.sh TREE SANDBOX_DIR [TARGET...]
# Runs ansible-test integration in the collection copy TREE against a sandbox of its own (state and request log in
# SANDBOX_DIR): starts it, writes TREE/tests/integration/integration_config.yml from its endpoint, runs the targets
# (all of them when none is named; ansible-test options such as --exclude pass through), stops it.
# Needs BIN (the venv's bin folder) in the environment.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ "${1:-}" = "--in-sandbox" ]; then  # second stage: the sandbox runs, SANDBOX_ENDPOINT names it
  tree=$2; shift 2
  "$BIN/python" "$here/integration_config.py" "$SANDBOX_ENDPOINT" "$tree/tests/integration/integration_config.yml"
  cd "$tree"
  version=$("$BIN/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  PATH="$BIN:$PATH" exec "$BIN/ansible-test" integration --python "$version" --color no "$@"
fi
tree=$1 sandbox=$2; shift 2
rm -rf "$sandbox"
PYTHON="$BIN/python" exec "$here/with_sandbox.sh" "$sandbox" -- "$here/run_integration.sh" --in-sandbox "$tree" "$@"
