#!/usr/bin/env bash
# Usage: test_artifact.sh WORK_DIR
# The Galaxy artifact as a user gets it:
#  1. `ansible-galaxy collection build` from the repository root; the tarball holds what a user needs
#     and no tests output, sandbox state, caches or secrets (check_artifact.py tarball);
#  2. installed into an empty collections path and verified against its own checksums;
#  3. from an empty folder outside the checkout, with only that path: ansible-doc renders every
#     module and the role; the demo playbook (smarttrace.sso.configure with the installed
#     playbooks/demo_vars.yml) runs against a fresh sandbox, then runs again and changes nothing;
#     every task ran from the installed copy; the sandbox ends configured as Microsoft's guide says;
#     no secret shows in any output.
# Needs ansible-galaxy, ansible-doc, ansible-playbook on PATH and PYTHON with the sandbox's
# libraries (make test-artifact provides both from .venv).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:?usage: test_artifact.sh WORK_DIR}
python=${PYTHON:-python3}
check() { "$python" "$repo/tests/release/check_artifact.py" "$@"; }
rm -rf "$work"
mkdir -p "$work/collections" "$work/run" "$work/token-cache"
work=$(cd "$work" && pwd)
passed=0
fail() { echo "test-artifact: FAIL: $*" >&2; exit 1; }
pass() { echo "test-artifact: ok: $*"; passed=$((passed + 1)); }
prefixed() { while IFS= read -r line; do echo "test-artifact: $line"; done; }
counted() { local out; out=$("$@") || { echo "$out"; fail "$*"; }; prefixed <<<"$out"; passed=$((passed + $(grep -c '^ok: ' <<<"$out"))); }

# ---------------------------------------------------------------- 1. build and inspect
ansible-galaxy collection build --force --output-path "$work/dist" "$repo" >"$work/build.log" 2>&1 \
  || { cat "$work/build.log" >&2; fail "ansible-galaxy collection build"; }
tarball=$(ls "$work"/dist/smarttrace-sso-*.tar.gz)
pass "built $(basename "$tarball") ($(du -k "$tarball" | cut -f1) KiB)"
counted check tarball "$tarball" "$repo/galaxy.yml"

# ---------------------------------------------------------------- 2. install into an empty path
# Nothing of the checkout from here on: an empty folder, only the (empty) install path, no ansible.cfg.
cd "$work/run"
unset ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATHS ANSIBLE_ROLES_PATH ANSIBLE_PLAYBOOK_DIR
export ANSIBLE_COLLECTIONS_PATH="$work/collections" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false \
  ANSIBLE_ROLES_PATH="$work/run/roles" ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_RETRY_FILES_ENABLED=false \
  SMARTTRACE_SSO_TOKEN_CACHE_DIR="$work/token-cache" ANSIBLE_LOCAL_TEMP="$work/tmp" ANSIBLE_HOME="$work/ansible-home"
ansible-galaxy collection install -p "$work/collections" "$tarball" >"$work/install.log" 2>&1 \
  || { cat "$work/install.log" >&2; fail "ansible-galaxy collection install"; }
installed="$work/collections/ansible_collections/smarttrace/sso"
[ -f "$installed/MANIFEST.json" ] || { cat "$work/install.log" >&2; fail "the tarball was not installed into $work/collections"; }
ansible-galaxy collection verify --offline -p "$work/collections" smarttrace.sso >"$work/verify.log" 2>&1 || { cat "$work/verify.log" >&2; fail "ansible-galaxy collection verify"; }
ansible-galaxy collection list smarttrace.sso >"$work/list.log" 2>&1 || { cat "$work/list.log" >&2; fail "ansible-galaxy collection list"; }
grep -q "^# $work/collections/ansible_collections" "$work/list.log" && [ "$(grep -c '^smarttrace.sso ' "$work/list.log")" -eq 1 ] \
  || { cat "$work/list.log" >&2; fail "smarttrace.sso is not found exactly once, in $work/collections"; }
pass "installed into an empty collections path; its files match MANIFEST.json and FILES.json"

# ---------------------------------------------------------------- 3a. docs from the installed copy
modules=$(for file in "$installed"/plugins/modules/*.py; do basename "$file" .py; done)
[ -n "$modules" ] || fail "no modules in the artifact"
for module in $modules; do
  ansible-doc "smarttrace.sso.$module" >"$work/doc-$module.txt" 2>"$work/doc-$module.err" || { cat "$work/doc-$module.err" >&2; fail "ansible-doc smarttrace.sso.$module"; }
  ! grep -q '\[WARNING\]' "$work/doc-$module.err" || { cat "$work/doc-$module.err" >&2; fail "ansible-doc smarttrace.sso.$module warns"; }
  for section in 'OPTIONS' 'ATTRIBUTES' 'EXAMPLES' 'RETURN VALUES'; do
    grep -q "^$section" "$work/doc-$module.txt" || fail "ansible-doc smarttrace.sso.$module has no $section section"
  done
done
pass "ansible-doc renders $(echo "$modules" | wc -w) modules with options, attributes, examples and return values: $(echo "$modules" | paste -sd' ')"
roles=$(ls "$installed/roles")
for role in $roles; do
  ansible-doc -t role "smarttrace.sso.$role" >"$work/doc-role-$role.txt" 2>"$work/doc-role-$role.err" || { cat "$work/doc-role-$role.err" >&2; fail "ansible-doc -t role smarttrace.sso.$role"; }
  if ! grep -q '^ENTRY POINT: .*main' "$work/doc-role-$role.txt" || ! grep -qi '^options' "$work/doc-role-$role.txt"; then
    fail "ansible-doc -t role smarttrace.sso.$role shows no main entry point with options"
  fi
done
pass "ansible-doc renders the role(s) $(echo "$roles" | paste -sd' ') with their entry points and options"

# ---------------------------------------------------------------- 3b. the demo against a sandbox
demo() {
  local run=$1 log=$2
  local status=0
  # -vv prints the path of every task: it must be the installed copy's.
  ansible-playbook -vv smarttrace.sso.configure -e smarttrace_sso_instance=acme -e "@$installed/playbooks/demo_vars.yml" >"$log" 2>&1 || status=$?
  [ "$status" -eq 0 ] || { tail -60 "$log" >&2; fail "demo run $run exited $status"; }
}
export -f demo fail check
export installed python repo work
# shellcheck disable=SC2016  # the script is expanded by the inner bash, inside the sandbox's environment
PYTHON=$python "$repo/tests/tools/with_sandbox.sh" "$work/sandbox" -- bash -euo pipefail -c '
  eval "$("$python" "$repo/tests/tools/sandbox_env.py" "$SANDBOX_ENDPOINT")"
  check tarball "$(ls "$work"/dist/smarttrace-sso-*.tar.gz)" "$repo/galaxy.yml" "$SANDBOX_ENDPOINT" | grep "sandbox secret" >"$work/sandbox-secrets.ok"
  demo 1 "$work/demo-1.log"
  demo 2 "$work/demo-2.log"
  check recap "$work/demo-1.log" >"$work/recap-1"
  check recap "$work/demo-2.log" >"$work/recap-2"
  check state "$SANDBOX_ENDPOINT" acme B.Simon@contoso.onmicrosoft.com "SmartTrace Users" >"$work/state.ok"
  check leaks "$SANDBOX_ENDPOINT" "$work"/demo-*.log "$work"/doc-*.txt >"$work/leaks.ok"
' || fail "the demo against the sandbox (logs in $work)"
prefixed <"$work/sandbox-secrets.ok"
passed=$((passed + 1))
read -r ok1 changed1 failed1 unreachable1 <"$work/recap-1"
read -r ok2 changed2 failed2 unreachable2 <"$work/recap-2"
[ "$failed1$unreachable1" = "00" ] && [ "$changed1" -gt 0 ] || fail "first demo run: changed=$changed1 failed=$failed1 unreachable=$unreachable1"
pass "first demo run from the installed copy: ok=$ok1 changed=$changed1 failed=0"
[ "$failed2$unreachable2$changed2" = "000" ] || fail "second demo run: changed=$changed2 failed=$failed2 (expected nothing to change)"
pass "second demo run: ok=$ok2 changed=0 failed=0"
task_paths=$(grep -h '^task path: ' "$work"/demo-*.log | sed -e 's/^task path: //' -e 's/:[0-9]*$//' | sort -u)
[ -n "$task_paths" ] || fail "no task path in the -vv output"
outside=$(echo "$task_paths" | grep -v "^$installed/" || true)
[ -z "$outside" ] || fail "tasks ran from outside the installed copy: $outside"
pass "all $(echo "$task_paths" | wc -l) task files ran from $installed"
cat "$work/state.ok" "$work/leaks.ok" | prefixed
passed=$((passed + $(cat "$work/state.ok" "$work/leaks.ok" | grep -c '^ok: ')))

echo "test-artifact: $passed passed, 0 failed"
