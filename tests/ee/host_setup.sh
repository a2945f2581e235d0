#!/usr/bin/env bash
# Usage: host_setup.sh   (as root or with sudo; CI only: .ci/run calls it when CI=true, a user's make never does)
# What `make ee-image` needs from the machine and cannot install itself: podman and runc to build and run images,
# debootstrap to make the base image from Debian's packages (no container registry needed). Also the podman settings
# this kind of host needs: runc instead of crun (crun refuses hosts with hybrid cgroups) and explicit ulimits.
# An existing /etc/containers/containers.conf is left as it is.
set -euo pipefail
sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
missing=()
for tool in podman runc debootstrap; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "ee host setup: installing ${missing[*]} with apt-get"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap >/dev/null
fi
if [ ! -f /etc/containers/containers.conf ]; then
  echo "ee host setup: writing /etc/containers/containers.conf (runtime runc, explicit ulimits)"
  "${sudo[@]}" mkdir -p /etc/containers
  "${sudo[@]}" tee /etc/containers/containers.conf >/dev/null <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
CONF
fi
podman --version
