#!/usr/bin/env bash
# Workload identity federation end to end, and Entra ID's proof of a new secret:
# - playbooks/create_automation_identity.yml makes an identity with a federated identity credential for a CI job (issuer
#   and subject of the sandbox's test OIDC issuer) and no secret: check mode, real run, unchanged re-run;
# - modules sign in as it from AZURE_FEDERATED_TOKEN_FILE alone (auth_method auto): a rotated token file is read again,
#   wrong issuer / subject / audience, an expired or foreign-signed token and no credential at all give their AADSTS cause;
# - entra_secret verify waits out a new secret's replication at the token endpoint, and a secret that never works is
#   removed again with AADSTS7000215 named;
# - the role entra_sso configures single sign-on as the federated identity (every minted secret verified) and offboards.
# The OIDC issuer exists only in the sandbox: against a real tenant the target is skipped.
set -euo pipefail
config=$(cd ../.. && pwd)/integration_config.yml
if ! grep -Eq '^ *"?sandbox"?: *true' "$config"; then echo "entra_federated: needs the sandbox's OIDC issuer, skipped"; exit 0; fi
export ANSIBLE_ROLES_PATH=..
work=$(mktemp -d)
cleanup() {
  ansible-playbook cleanup.yml -e @"$config" -e @"$work/vars.yml" >"$work/cleanup.log" 2>&1 \
    || { tail -20 "$work/cleanup.log"; echo "cleanup failed: delete the apps named st-sso-it-federated* by hand"; }
  rm -rf "$work"
}
trap cleanup EXIT

ansible-playbook setup.yml -e @"$config" -e work="$work" "$@"

run() {  # run LOG [ARGS...]: create_automation_identity; prints its PLAY RECAP changed count
  local log=$1; shift
  ansible-playbook smarttrace.sso.create_automation_identity -e @"$work/vars.yml" "$@" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
  grep -q ' failed=0 ' "$log" || { cat "$log" >&2; exit 1; }
  grep -o ' changed=[0-9]*' "$log" | tail -1 | cut -d= -f2
}
changed=$(run "$work/check.log" --check)
[ "$changed" -ge 3 ] || { cat "$work/check.log"; echo "check mode predicted $changed changes, expected the app, service principal, grants, credential"; exit 1; }
changed=$(run "$work/real.log")
[ "$changed" -ge 3 ] || { cat "$work/real.log"; echo "the real run made $changed changes"; exit 1; }
grep -q 'federated identity credentials ci-prod' "$work/real.log" || { cat "$work/real.log"; echo "the summary does not name the credential"; exit 1; }
changed=$(run "$work/again.log")
[ "$changed" -eq 0 ] || { cat "$work/again.log"; echo "the re-run changed $changed things"; exit 1; }

# A bad entry is refused before any request, naming the variable.
if ansible-playbook smarttrace.sso.create_automation_identity -e @"$work/vars.yml" \
    -e '{"smarttrace_sso_automation_federated": [{"name": "x", "issuer": "http://insecure", "subject": "s"}]}' >"$work/bad.log" 2>&1; then
  cat "$work/bad.log"; echo "a bad federated credential was accepted"; exit 1
fi
grep -q 'smarttrace_sso_automation_federated\[0\] is not usable' "$work/bad.log" || { cat "$work/bad.log"; exit 1; }

ansible-playbook federated.yml -e @"$config" -e work="$work" "$@"
ansible-playbook role.yml -e @"$config" -e work="$work" "$@"
ansible-playbook role.yml -e @"$config" -e work="$work" -e state=absent "$@"

token=$(sed -n 's/^smarttrace_sso_admin_token: //p' "$work/vars.yml")
if [ -z "$token" ] || grep -qF "$token" "$work"/*.log; then echo "the administrator's token shows in the output"; exit 1; fi
echo "entra_federated: federated credential created idempotently, federated sign-in and its refusals, secret verification, role: all passed"
