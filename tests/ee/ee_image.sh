#!/usr/bin/env bash
# Usage: ee_image.sh WORK_DIR TARBALL BASE_IMAGE IMAGE
# The execution environment, built and run for real (make ee-image; needs podman, runs as root):
#  1. the definition is the one docs/execution-environment.md gives (the block between its "ee-image definition"
#     markers), with only the tarball's version replaced; ansible-builder builds it on BASE_IMAGE (made locally by
#     base_image.sh) with the collection from TARBALL (make build), no registry and no Galaxy;
#  2. inside the image, smarttrace.sso.configure runs against a sandbox on this host (--network host; its CA is
#     mounted read-only): the first run changes things, the second changes nothing (read from the PLAY RECAP);
#  3. once more as AWX runs a job: ansible-runner transmit (here) | ansible-runner worker (in the image) |
#     ansible-runner process (here): the job succeeds and changes nothing, and its events reach this host.
#  4. no connection secret or password shows in any of those runs' output or the job's events.
# Needs ansible-builder, ansible-runner and python (the venv's) on PATH.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:?usage: ee_image.sh WORK_DIR TARBALL BASE_IMAGE IMAGE}
tarball=${2:?usage: ee_image.sh WORK_DIR TARBALL BASE_IMAGE IMAGE}
base_image=${3:?usage: ee_image.sh WORK_DIR TARBALL BASE_IMAGE IMAGE}
image=${4:?usage: ee_image.sh WORK_DIR TARBALL BASE_IMAGE IMAGE}
fail() { echo "ee-image: FAIL: $*" >&2; exit 1; }
pass() { echo "ee-image: ok: $*"; passed=$((passed + 1)); }
passed=0
rm -rf "$work"
mkdir -p "$work/definition"
work=$(cd "$work" && pwd)
tarball=$(cd "$(dirname "$tarball")" && pwd)/$(basename "$tarball")
[ -f "$tarball" ] || fail "no collection tarball $tarball (make build)"
for tool in podman ansible-builder ansible-runner python; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is not on PATH"
done

# ---------------------------------------------------------------- 1. build from the documented definition
name=$(basename "$tarball")
version=${name#smarttrace-sso-}; version=${version%.tar.gz}
"$repo/tests/ee/documented_definition.sh" "$name" >"$work/definition/execution-environment.yml" \
  || fail "docs/execution-environment.md gives no definition make ee-image can build"
grep -q "name: $base_image\$" "$work/definition/execution-environment.yml" \
  || fail "the documented definition's base image is not $base_image (make ee-image's EE_BASE_IMAGE)"
cp "$tarball" "$work/definition/"
# The images this build leaves untagged (its intermediate stages, the previous $image) are removed after it; images
# that were there before, other than our previous $image, are left alone.
images_before=$(podman images -q --no-trunc)
previous=$(podman image inspect --format 'sha256:{{.Id}}' "$image" 2>/dev/null || true)
start=$SECONDS
(cd "$work/definition" && ansible-builder build -f execution-environment.yml -c "$work/context" -t "$image" \
  --extra-build-cli-args=--network=host -v 2) >"$work/build.log" 2>&1 \
  || { tail -n 60 "$work/build.log" >&2; fail "ansible-builder build (whole log $work/build.log)"; }
while read -r id; do
  if [ "$id" = "$previous" ] || ! grep -qxF "$id" <<<"$images_before"; then podman rmi "$id" >/dev/null 2>&1 || true; fi
done < <(podman images -q --no-trunc --filter dangling=true)
size=$(podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%d MB", $1/1000000}')
pass "ansible-builder built $image from docs/execution-environment.md's definition and $name in $((SECONDS - start)) s ($size)"

in_image() { podman run --rm --network host "$image" "$@"; }
in_image ansible-galaxy collection list smarttrace.sso >"$work/collections.txt" 2>&1 || { cat "$work/collections.txt" >&2; fail "ansible-galaxy collection list in the image"; }
grep -Eq "^smarttrace\.sso +$version *\$" "$work/collections.txt" || { cat "$work/collections.txt" >&2; fail "the image does not hold smarttrace.sso $version"; }
in_image python3 -c 'import msal, requests, jmespath' || fail "the image lacks msal, requests or jmespath"
pass "the image holds smarttrace.sso $version, msal, requests and jmespath"

# ---------------------------------------------------------------- 2 and 3: against a sandbox on this host (in_sandbox.sh)
start=$SECONDS
PYTHON=$(command -v python) "$repo/tests/tools/with_sandbox.sh" "$work/sandbox" -- "$repo/tests/ee/in_sandbox.sh" "$work" "$image" "$repo" \
  | tee "$work/in_sandbox.log"
passed=$((passed + $(grep -c '^ee-image: ok:' "$work/in_sandbox.log")))
[ "$(grep -c '^ee-image: ok:' "$work/in_sandbox.log")" = 4 ] || fail "the runs against the sandbox did not all pass"
echo "ee-image: $passed passed, 0 failed (the runs took $((SECONDS - start)) s)"
