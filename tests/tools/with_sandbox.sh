#!/usr/bin/env bash
# Usage: with_sandbox.sh STATE_DIR [SANDBOX FLAGS...] -- COMMAND [ARGS...]
# Starts the sandbox (tests/sandbox) on a free port with its state in STATE_DIR, waits until it
# listens, exports SANDBOX_ENDPOINT (path of endpoint.json) and SANDBOX_STATE, runs COMMAND, and
# stops the sandbox whatever COMMAND did. Exits with COMMAND's status.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
python=${PYTHON:-python3}
state=$1; shift
flags=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do flags+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
mkdir -p "$state"
rm -f "$state/endpoint.json"
PYTHONPATH="$repo/tests${PYTHONPATH:+:$PYTHONPATH}" "$python" -m sandbox --state "$state" --port 0 "${flags[@]}" \
  >"$state/sandbox.out" 2>"$state/sandbox.err" &
pid=$!
# shellcheck disable=SC2329  # invoked by the trap
stop() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
trap stop EXIT
for _ in $(seq 1 300); do
  [ -s "$state/endpoint.json" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then echo "sandbox did not start:" >&2; cat "$state/sandbox.err" >&2; exit 1; fi
  sleep 0.1
done
[ -s "$state/endpoint.json" ] || { echo "sandbox did not write endpoint.json in 30 s" >&2; exit 1; }
SANDBOX_STATE="$(cd "$state" && pwd)"
SANDBOX_ENDPOINT="$SANDBOX_STATE/endpoint.json"
export SANDBOX_ENDPOINT SANDBOX_STATE
set +e
"$@"
status=$?
set -e
exit $status
