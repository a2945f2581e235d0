#!/usr/bin/env bash
# Usage: run_integration.sh TREE SANDBOX_DIR [TARGET...]
# Runs ansible-test integration in the collection copy TREE against a sandbox of its own (state and request log in
# SANDBOX_DIR): starts it, writes TREE/tests/integration/integration_config.yml from its endpoint, runs the targets
# (all of them when none is named), stops it. Needs BIN (the venv's bin folder) in the environment.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tree=$1 sandbox=$2; shift 2
rm -rf "$sandbox"
PYTHON="$BIN/python" "$here/with_sandbox.sh" "$sandbox" -- bash -c '
	set -euo pipefail
	"$BIN/python" "$0" "$SANDBOX_ENDPOINT" "$1/tests/integration/integration_config.yml"
	tree=$1; shift
	cd "$tree" && PATH="$BIN:$PATH" "$BIN/ansible-test" integration --python 3.11 --color no "$@"
' "$here/integration_config.py" "$tree" "$@"
