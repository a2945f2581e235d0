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
run() {  # run NAME [ARGS...]: one configure run, its output in LOG_DIR/NAME.log
  local name=$1; shift
  "$bin/ansible-playbook" -i localhost, smarttrace.sso.configure -e smarttrace_sso_instance=acme \
    -e @"$here/../../playbooks/demo_vars.yml" "$@" >"$logs/$name.log" 2>&1 || { tail -40 "$logs/$name.log" >&2; exit 1; }
}
run first -vvv
run second
version=$("$bin/python" -c 'import ansible.release as r; print(r.__version__)')
fail() { echo "configure_twice ($version): $*" >&2; exit 1; }
# the PLAY RECAP, summed as tests/release/test_artifact.sh reads the demo's: ok changed failed unreachable
read -r ok1 changed1 failed1 unreachable1 < <("$bin/python" "$here/../release/check_artifact.py" recap "$logs/first.log")
read -r ok2 changed2 failed2 unreachable2 < <("$bin/python" "$here/../release/check_artifact.py" recap "$logs/second.log")
[ "$failed1$unreachable1" = "00" ] && [ "$changed1" -gt 0 ] || fail "first run: changed=$changed1 failed=$failed1 unreachable=$unreachable1"
[ "$failed2$unreachable2$changed2" = "000" ] || fail "second run: changed=$changed2 failed=$failed2 unreachable=$unreachable2 (expected nothing to change)"
grep -q 'Running smarttrace.sso.entra_sso_plan in this worker process' "$logs/first.log" || fail "the plan did not run in the worker ($logs/first.log)"
if grep -q 'AnsiballZ_entra\|AnsiballZ_smarttrace' "$logs/first.log"; then fail "a module of the collection ran as a process ($logs/first.log)"; fi
echo "configure_twice: ansible-core $version: first run ok=$ok1 changed=$changed1 failed=0, second run ok=$ok2 changed=0 failed=0;" \
  "the modules ran in the worker processes"
