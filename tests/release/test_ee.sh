#!/usr/bin/env bash
# Usage: test_ee.sh WORK_DIR
# The execution-environment path, without a container engine:
#  1. `ansible-builder create` on docs/execution-environment.yml (PATH holds no podman/docker) writes a
#     build context whose _build/ lists our Python requirements, our system packages and the
#     collection, and whose Containerfile runs ansible-builder's introspection;
#  2. that introspection, run here on the built artifact installed into an empty collections path
#     (what the image build does after `ansible-galaxy collection install`), finds msal, requests
#     and jmespath and ca-certificates through the collection's meta/execution-environment.yml;
#  3. `ansible-builder create` on the air-gapped definition docs/execution-environment.md gives (make ee-image builds
#     and runs that one with podman): the tarball lands in _build/collections/ and is installed from there.
# Needs ansible-builder and ansible-galaxy on PATH (make test-ee provides them from .venv).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:?usage: test_ee.sh WORK_DIR}
rm -rf "$work"
mkdir -p "$work/bin"
work=$(cd "$work" && pwd)
builder=$(command -v ansible-builder)
galaxy=$(command -v ansible-galaxy)
fail() { echo "test-ee: FAIL: $*" >&2; exit 1; }
pass() { echo "test-ee: ok: $*"; passed=$((passed + 1)); }
passed=0

# Our requirement lines, without comments and blank lines.
requirements() { sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$1" | grep -v '^$' || true; }

# ---------------------------------------------------------------- 1. ansible-builder create
# Only ansible-builder's own interpreter is reachable: no container engine can be found or used.
ln -s "$builder" "$work/bin/ansible-builder"
for engine in podman docker; do
  if PATH="$work/bin" command -v "$engine" >/dev/null 2>&1; then fail "$engine is reachable in the restricted PATH"; fi
done
(cd "$repo/docs" && PATH="$work/bin" ansible-builder create -f execution-environment.yml -c "$work/context" \
  --output-filename Containerfile) >"$work/create.log" 2>&1 || { cat "$work/create.log" >&2; fail "ansible-builder create"; }
[ -f "$work/context/Containerfile" ] || fail "no Containerfile in the build context"
pass "ansible-builder create wrote a build context without a container engine"

while IFS= read -r line; do
  grep -qxF "$line" "$work/context/_build/requirements.txt" || fail "_build/requirements.txt lacks '$line' (docs/execution-environment.yml and requirements.txt differ)"
done < <(requirements "$repo/requirements.txt")
[ "$(requirements "$work/context/_build/requirements.txt" | wc -l)" -eq "$(requirements "$repo/requirements.txt" | wc -l)" ] \
  || fail "_build/requirements.txt lists more than requirements.txt"
pass "_build/requirements.txt lists exactly our Python requirements: $(requirements "$repo/requirements.txt" | paste -sd' ')"

while IFS= read -r line; do
  grep -qxF "$line" "$work/context/_build/bindep.txt" || fail "_build/bindep.txt lacks '$line'"
done < <(requirements "$repo/bindep.txt")
pass "_build/bindep.txt lists our system packages"

grep -q 'name: smarttrace.sso' "$work/context/_build/requirements.yml" || fail "_build/requirements.yml does not install smarttrace.sso"
grep -q 'ansible-galaxy collection install .*-r requirements.yml' "$work/context/Containerfile" || fail "the Containerfile does not install the collections"
grep -q 'introspect.py introspect' "$work/context/Containerfile" || fail "the Containerfile does not introspect the installed collections"
pass "the Containerfile installs smarttrace.sso and introspects it"

# ---------------------------------------------------------------- 2. introspection of the artifact
"$galaxy" collection build --force --output-path "$work/dist" "$repo" >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; fail "ansible-galaxy collection build"; }
tarball=$(ls "$work"/dist/smarttrace-sso-*.tar.gz)
"$galaxy" collection install --force -p "$work/collections" "$tarball" >"$work/install.log" 2>&1 \
  || { cat "$work/install.log" >&2; fail "ansible-galaxy collection install"; }
installed="$work/collections/ansible_collections/smarttrace/sso"
for file in meta/execution-environment.yml requirements.txt bindep.txt; do
  [ -f "$installed/$file" ] || fail "the artifact has no $file"
done
ansible-builder introspect "$work/collections" --write-pip "$work/introspect-pip.txt" --write-bindep "$work/introspect-bindep.txt" \
  >"$work/introspect.log" 2>&1 || { cat "$work/introspect.log" >&2; fail "ansible-builder introspect"; }
while IFS= read -r line; do
  grep -qxF "$line  # from collection smarttrace.sso" "$work/introspect-pip.txt" || { cat "$work/introspect-pip.txt" >&2; fail "introspection lacks '$line'"; }
done < <(requirements "$repo/requirements.txt")
while IFS= read -r line; do
  grep -qxF "$line  # from collection smarttrace.sso" "$work/introspect-bindep.txt" || { cat "$work/introspect-bindep.txt" >&2; fail "introspection lacks system package '$line'"; }
done < <(requirements "$repo/bindep.txt")
pass "introspection of the installed artifact finds $(requirements "$repo/requirements.txt" | paste -sd' ') and $(requirements "$repo/bindep.txt" | paste -sd' ')"

# ---------------------------------------------------------------- 3. the documented air-gapped definition
# docs/execution-environment.md's definition for a locally made base image and the collection as a file (what make
# ee-image builds and runs with podman): here only ansible-builder create, so make test checks it without an engine.
name=$(basename "$tarball")
mkdir -p "$work/airgapped"
"$repo/tests/ee/documented_definition.sh" "$name" >"$work/airgapped/execution-environment.yml" || fail "the documented air-gapped definition"
cp "$tarball" "$work/airgapped/"
(cd "$work/airgapped" && PATH="$work/bin" ansible-builder create -f execution-environment.yml -c "$work/airgapped/context" \
  --output-filename Containerfile) >"$work/airgapped/create.log" 2>&1 || { cat "$work/airgapped/create.log" >&2; fail "ansible-builder create on the air-gapped definition"; }
context="$work/airgapped/context"
[ -f "$context/_build/collections/$name" ] || fail "the build context has no _build/collections/$name"
grep -q "name: collections/$name" "$context/_build/requirements.yml" || fail "_build/requirements.yml does not install collections/$name"
grep -q 'ansible-galaxy collection install .*-r requirements.yml' "$context/Containerfile" || fail "the Containerfile does not install the collections"
grep -q '^WORKDIR /build' "$context/Containerfile" || fail "the Containerfile's galaxy stage does not run in /build (where _build/ is copied)"
grep -q 'pip_install' "$context/Containerfile" && fail "the Containerfile runs ensurepip (Debian's Python has none; skip_pip_install: true)"
grep -q '^ARG PKGMGR="/usr/bin/apt-get"' "$context/Containerfile" || fail "the Containerfile's package manager is not apt-get"
while IFS= read -r line; do
  grep -qxF "$line" "$context/_build/requirements.txt" || fail "the air-gapped definition's python list lacks '$line' (requirements.txt)"
done < <(requirements "$repo/requirements.txt")
while IFS= read -r line; do
  grep -qxF "$line" "$context/_build/bindep.txt" || fail "the air-gapped definition's system list lacks '$line' (bindep.txt)"
done < <(requirements "$repo/bindep.txt")
pass "the air-gapped definition in docs/execution-environment.md: ansible-builder create installs collections/$name from the build context, with apt-get and without ensurepip"

echo "test-ee: $passed passed, 0 failed"
