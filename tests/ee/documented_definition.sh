#!/usr/bin/env bash
# Usage: documented_definition.sh TARBALL_NAME > execution-environment.yml
# Prints the execution environment definition docs/execution-environment.md gives (the YAML block between its
# "ee-image definition" markers) with only the collection tarball's name and the image tag's version replaced by
# TARBALL_NAME's (e.g. smarttrace-sso-0.2.0.tar.gz). make ee-image builds it; make test-ee runs ansible-builder create on it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
name=${1:?usage: documented_definition.sh TARBALL_NAME}
version=${name#smarttrace-sso-}; version=${version%.tar.gz}
definition=$(sed -n '/<!-- ee-image definition: begin/,/<!-- ee-image definition: end/p' "$repo/docs/execution-environment.md" \
  | sed -e '/^<!--/d' -e '/^```/d' \
  | sed -E -e "s/smarttrace-sso-[0-9][^ ]*\.tar\.gz/$name/" -e "s/smarttrace-sso-ee:[0-9][^ ]*/smarttrace-sso-ee:$version/")
grep -q "^      - name: collections/$name\$" <<<"$definition" \
  || { echo "docs/execution-environment.md: no ee-image definition block whose galaxy entry is collections/<tarball>" >&2; exit 1; }
printf '%s\n' "$definition"
