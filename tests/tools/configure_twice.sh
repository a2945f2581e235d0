#!/usr/bin/env bash
# Usage: configure_twice.sh BIN_DIR LOG_DIR, run by tests/tools/with_sandbox.sh (SANDBOX_ENDPOINT names the sandbox).
# The demo's smarttrace.sso.configure for instance acme, twice, with the ansible-playbook of BIN_DIR and the collection of
# ANSIBLE_COLLECTIONS_PATH: the first run must change something and fail nothing, and run the collection's modules in
# Ansible's worker processes (plugins/plugin_utils/module_in_worker.py, which relies on that ansible-core's internals);
# the second must change nothing. make test-matrix runs it on the oldest ansible-core the collection supports.
set -euo pipefail
bin=$1 logs=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$logs"
eval "$("$bin/python" "$here/sandbox_env.py" "$SANDBOX_ENDPOINT")"
export SMARTTRACE_SSO_TOKEN_CACHE_DIR="$logs/token-cache"
run() {  # run NAME [ARGS...]: one configure run, its output in LOG_DIR/NAME.log, its recap line printed
  local name=$1; shift
  "$bin/ansible-playbook" -i localhost, smarttrace.sso.configure -e smarttrace_sso_instance=acme \
    -e @"$here/../../playbooks/demo_vars.yml" "$@" >"$logs/$name.log" 2>&1 || { tail -40 "$logs/$name.log" >&2; exit 1; }
  grep -E '^localhost +:' "$logs/$name.log" | tail -1 | sed 's/ *$//'
}
first=$(run first -vvv)
second=$(run second)
version=$("$bin/python" -c 'import ansible.release as r; print(r.__version__)')
fail() { echo "configure_twice ($version): $*" >&2; exit 1; }
case "$first" in *" failed=0 "*) ;; *) fail "the first run failed: $first";; esac
case "$first" in *" changed=0 "*) fail "the first run changed nothing: $first";; esac
case "$second" in *" changed=0 "*" failed=0 "*) ;; *) fail "the second run changed something or failed: $second";; esac
grep -q 'Running smarttrace.sso.entra_sso_plan in this worker process' "$logs/first.log" || fail "the plan did not run in the worker ($logs/first.log)"
if grep -q 'AnsiballZ_entra\|AnsiballZ_smarttrace' "$logs/first.log"; then fail "a module of the collection ran as a process ($logs/first.log)"; fi
echo "configure_twice: ansible-core $version: first run ${first#*: }, second run ${second#*: }; the modules ran in the worker processes"
