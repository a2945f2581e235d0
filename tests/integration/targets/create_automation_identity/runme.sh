#!/usr/bin/env bash
# playbooks/create_automation_identity.yml as an administrator runs it: check mode (reads only), the
# real run, a re-run (unchanged), a permission added behind its back removed by the next run; the
# identity it made signs in with its certificate and holds exactly the least-privilege permissions;
# the administrator's token never shows in the output. The app (st-sso-it-automation) is removed at the end.
set -euo pipefail
config=$(cd ../.. && pwd)/integration_config.yml
export ANSIBLE_ROLES_PATH=..
work=$(mktemp -d)
cleanup() {
  ansible-playbook cleanup.yml -e @"$config" -e @"$work/vars.yml" >"$work/cleanup.log" 2>&1 \
    || { tail -20 "$work/cleanup.log"; echo "cleanup failed: delete the apps and users named st-sso-it-automation* by hand"; }
  rm -rf "$work"
}
trap cleanup EXIT

ansible-playbook setup.yml -e @"$config" -e work="$work" "$@"

run() {  # run LOG [ARGS...]: the playbook under test; prints its PLAY RECAP changed count
  local log=$1; shift
  ansible-playbook smarttrace.sso.create_automation_identity -e @"$work/vars.yml" "$@" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
  grep -q ' failed=0 ' "$log" || { cat "$log" >&2; exit 1; }
  grep -o ' changed=[0-9]*' "$log" | tail -1 | cut -d= -f2
}
verify() { ansible-playbook verify.yml -e @"$config" -e @"$work/vars.yml" -e work="$work" -e phase="$1"; }

# changed tasks: the app and its service principal (entra_app), the grants (entra_app_permissions), the certificate
# (entra_app_credential); each must say changed, in check mode as in the real run
expect_changed() {  # expect_changed LOG: the three steps reported a change
  local log=$1 step
  for step in "Register the automation app" "Ask for and grant exactly these" "Register the certificate"; do
    grep -A1 "TASK \[$step" "$log" | grep -q '^changed:' || { cat "$log" >&2; echo "expected a change from the task $step"; exit 1; }
  done
}
changed=$(run "$work/check.log" --check -v)
[ "$changed" -ge 3 ] || { echo "check mode predicted $changed changes, expected the app, service principal, grants and certificate"; exit 1; }
expect_changed "$work/check.log"
verify check

changed=$(run "$work/real.log" -v)
[ "$changed" -ge 3 ] || { echo "the real run made $changed changes"; exit 1; }
expect_changed "$work/real.log"
verify real

changed=$(run "$work/again.log" -v)
[ "$changed" -eq 0 ] || { cat "$work/again.log"; echo "the re-run changed $changed things"; exit 1; }

verify add_extra
changed=$(run "$work/exclusive.log" -v)
[ "$changed" -eq 1 ] || { cat "$work/exclusive.log"; echo "expected one change (the extra permission removed), got $changed"; exit 1; }
verify real

# The whole guide as the new identity (its certificate, its permissions only), twice, then offboarded.
sso() { ansible-playbook as_automation.yml -e @"$config" -e work="$work" "$@"; }
sso >"$work/sso-1.log" 2>&1 || { cat "$work/sso-1.log"; exit 1; }
sso >"$work/sso-2.log" 2>&1 || { cat "$work/sso-2.log"; exit 1; }
grep -q ' changed=0 .* failed=0 ' "$work/sso-2.log" || { cat "$work/sso-2.log"; echo "the guide's re-run as the automation identity changed something"; exit 1; }
sso -e state=absent >"$work/sso-absent.log" 2>&1 || { cat "$work/sso-absent.log"; exit 1; }

token=$(sed -n 's/^smarttrace_sso_admin_token: //p' "$work/vars.yml")
if [ -z "$token" ] || grep -qF "$token" "$work"/*.log; then echo "the administrator's token shows in the output"; exit 1; fi
echo "create_automation_identity: check mode, real run, idempotent re-run, least privilege enforced, certificate sign-in,"
echo "the whole guide configured, re-run unchanged and offboarded as the new identity: all passed"
