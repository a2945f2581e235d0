#!/usr/bin/env bash
# Usage: with_sandbox.sh STATE -- in_sandbox.sh WORK_DIR IMAGE REPO   (ee_image.sh runs it; SANDBOX_ENDPOINT is set)
# The role in the image against the sandbox on this host: twice with ansible-playbook (changed, then unchanged), then as
# AWX runs a job (ansible-runner transmit here | worker in the image | process here).
set -euo pipefail
work=$1 image=$2 repo=$3
fail() { echo "ee-image: FAIL: $*" >&2; exit 1; }
# The sandbox's settings (the collection's documented environment variables), passed to the container by name.
exports=$(python "$repo/tests/tools/sandbox_env.py" "$SANDBOX_ENDPOINT")
eval "$exports"
env_args=()
while read -r variable; do env_args+=(-e "$variable"); done < <(sed -n 's/^export \([A-Z_][A-Z0-9_]*\)=.*/\1/p' <<<"$exports")
ca=$(python -c 'import json, sys; print(json.load(open(sys.argv[1]))["ca"])' "$SANDBOX_ENDPOINT")
ca=$(cd "$(dirname "$ca")" && pwd)/$(basename "$ca")
export REQUESTS_CA_BUNDLE=$ca
run_args=(--rm --network host "${env_args[@]}" -v "$ca:$ca:ro" -v "$repo/playbooks/demo_vars.yml:/tmp/demo_vars.yml:ro")

recap() {  # prints "changed failed" of the localhost line of a PLAY RECAP (colours or not)
  sed -e 's/\x1b\[[0-9;]*m//g' "$1" | sed -n 's/^localhost *: .*changed=\([0-9]*\) .*failed=\([0-9]*\) .*/\1 \2/p' | tail -n 1
}
for run in 1 2; do
  podman run "${run_args[@]}" "$image" ansible-playbook smarttrace.sso.configure \
    -e smarttrace_sso_instance=acme -e @/tmp/demo_vars.yml >"$work/run-$run.log" 2>&1 \
    || { cat "$work/run-$run.log" >&2; fail "run $run of smarttrace.sso.configure in the image failed"; }
  read -r changed failed <<<"$(recap "$work/run-$run.log")"
  [ -n "${changed:-}" ] || { cat "$work/run-$run.log" >&2; fail "run $run: no PLAY RECAP line for localhost"; }
  [ "$failed" = 0 ] || { cat "$work/run-$run.log" >&2; fail "run $run: failed=$failed"; }
  if [ "$run" = 1 ]; then
    [ "$changed" -gt 0 ] || { cat "$work/run-$run.log" >&2; fail "run 1 changed nothing on a fresh sandbox"; }
  else
    [ "$changed" = 0 ] || { cat "$work/run-$run.log" >&2; fail "run 2 changed $changed task(s): not idempotent in the image"; }
  fi
  echo "ee-image: ok: run $run of smarttrace.sso.configure in the image against the sandbox: changed=$changed failed=0"
done

# As AWX runs a job: the private data directory is streamed to a worker in the image, events stream back.
pdd="$work/runner"
mkdir -p "$pdd/project" "$pdd/env" "$pdd/inventory"
printf -- '---\n- name: SmartTrace single sign-on, as an AWX job\n  ansible.builtin.import_playbook: smarttrace.sso.configure\n' >"$pdd/project/site.yml"
printf 'localhost ansible_connection=local\n' >"$pdd/inventory/hosts"
# What make demo passes (-e smarttrace_sso_instance=acme -e @playbooks/demo_vars.yml), as the job's extra vars.
python - "$repo/playbooks/demo_vars.yml" "$pdd/env/extravars" <<'PY'
import sys
import yaml
with open(sys.argv[1], encoding="utf-8") as handle:
    extravars = yaml.safe_load(handle)
extravars["smarttrace_sso_instance"] = "acme"
with open(sys.argv[2], "w", encoding="utf-8") as handle:
    yaml.safe_dump(extravars, handle)
PY
ansible-runner transmit "$pdd" -p site.yml --ident awx-job \
  | podman run -i "${run_args[@]}" "$image" ansible-runner worker --private-data-dir=/runner/job \
  | ansible-runner process "$pdd" --ident awx-job >"$work/runner.log" 2>&1 \
  || { cat "$work/runner.log" >&2; fail "ansible-runner transmit | worker (in the image) | process"; }
artifacts="$pdd/artifacts/awx-job"
status=$(cat "$artifacts/status" 2>/dev/null || echo missing)
[ "$status" = successful ] || { cat "$work/runner.log" >&2; fail "the runner job's status is $status, not successful"; }
read -r changed failed <<<"$(recap "$artifacts/stdout")"
[ "${changed:-}" = 0 ] && [ "$failed" = 0 ] || { cat "$artifacts/stdout" >&2; fail "the runner job: changed=${changed:-?} failed=${failed:-?} (expected 0 and 0)"; }
events=$(find "$artifacts/job_events" -name '*.json' | wc -l)
[ "$events" -gt 0 ] || fail "no job events came back from the worker"
echo "ee-image: ok: ansible-runner transmit | worker (in the image) | process: successful, changed=0, $events events back on the host"

# No secret in what a person or AWX shows: the runs' output, the job's stdout and its events (the connection secrets,
# and the test user's password, which the job only has as an extra var).
password=$(python -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["smarttrace_sso_test_users"][0]["password"])' \
  "$repo/playbooks/demo_vars.yml")
for secret in "$AZURE_CLIENT_SECRET" "$SMARTTRACE_API_TOKEN" "$password"; do
  [ ${#secret} -ge 8 ] || fail "a sandbox secret is empty or too short to look for"
  if grep -rlF -- "$secret" "$work/run-1.log" "$work/run-2.log" "$artifacts/stdout" "$artifacts/job_events" >&2; then
    fail "a secret shows in the files above"
  fi
done
echo "ee-image: ok: no connection secret or password in the runs' output or the runner job's stdout and events"
