#!/usr/bin/env bash
# Usage: base_image.sh IMAGE WORK_DIR   (as root)
# Makes a Debian bookworm base image for an execution environment without any container registry: debootstrap
# (minbase) from the Debian mirror apt already uses, plus python3, venv and pip (ansible-builder's steps need all
# three), then `podman import`. Authorities this machine added (/usr/local/share/ca-certificates) are trusted in it
# too. Skips everything if IMAGE exists already (delete it with `podman rmi IMAGE`).
set -euo pipefail
image=${1:?usage: base_image.sh IMAGE WORK_DIR}
work=${2:?usage: base_image.sh IMAGE WORK_DIR}
if podman image exists "$image"; then
  echo "ee base image: $image exists, kept (podman rmi $image to make it again)"
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "ee base image: debootstrap needs root (run make ee-image as root)" >&2; exit 1; }
for tool in podman debootstrap; do
  command -v "$tool" >/dev/null 2>&1 || { echo "ee base image: $tool is not installed (Debian: apt-get install podman runc debootstrap)" >&2; exit 1; }
done
# The mirror apt uses on this machine (deb822 or one-line sources), else Debian's own.
mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*debian\)\/*$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
[ -n "$mirror" ] || mirror=$(sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*debian\)\/*[[:space:]]\+bookworm[[:space:]].*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n1)
mirror=${mirror:-http://deb.debian.org/debian}
rootfs="$work/rootfs"
rm -rf "$rootfs" && mkdir -p "$rootfs"
start=$SECONDS
echo "ee base image: debootstrap bookworm (minbase) from $mirror"
debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
  bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
# A machine behind a TLS-inspecting proxy reaches PyPI only with the authorities it added locally: the image trusts
# the same ones (Debian's place for them), or the build's pip steps fail with CERTIFICATE_VERIFY_FAILED.
added=(/usr/local/share/ca-certificates/*.crt)
if [ -e "${added[0]}" ]; then
  cp "${added[@]}" "$rootfs/usr/local/share/ca-certificates/"
  chroot "$rootfs" update-ca-certificates >/dev/null 2>&1 || { echo "ee base image: update-ca-certificates failed in the image" >&2; exit 1; }
  echo "ee base image: trusts the ${#added[@]} authorities this machine added in /usr/local/share/ca-certificates"
fi
# Smaller: no package lists, caches, docs or locales (apt-get update brings the lists back when a build needs them).
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/* "$rootfs"/var/log/*.log
tar --numeric-owner -C "$rootfs" -cf - . | podman import --quiet --change 'CMD ["/bin/bash"]' - "$image" >/dev/null
rm -rf "$rootfs"
echo "ee base image: $image made in $((SECONDS - start)) s ($(podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%d MB", $1/1000000}'))"
