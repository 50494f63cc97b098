#!/usr/bin/env bash
# Builds the default Docker sandbox image without any registry: debootstrap a minimal Debian
# bookworm root filesystem, add the tools agents expect, and `docker import` it.
# Cached: does nothing when the image already exists (pass --force to rebuild).
#
#   scripts/build-sandbox-image.sh [--force] [IMAGE]   (default IMAGE: pincer-sandbox:bookworm)
set -euo pipefail

force=0
if [ "${1:-}" = "--force" ]; then force=1; shift; fi
image="${1:-pincer-sandbox:bookworm}"

if [ $force -eq 0 ] && docker image inspect "$image" >/dev/null 2>&1; then
  echo "build-sandbox-image: $image already exists"
  exit 0
fi

mirror="${DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  # Reuse the machine's own Debian mirror (no other registry may be reachable).
  mirror=$( (grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}';
             grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}') |
           grep -E '/debian/?$' | head -n1 || true)
  mirror="${mirror:-http://deb.debian.org/debian}"
fi

work=$(mktemp -d /tmp/pincer-rootfs.XXXXXX)
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"

echo "build-sandbox-image: debootstrap bookworm from $mirror"
debootstrap --variant=minbase \
  --include=python3,git,curl,ca-certificates,ripgrep,jq,procps,bash \
  bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 40 "$work/debootstrap.log" >&2
    exit 1
  }

# The unprivileged user tools run as, and the mount points the runtime uses.
chroot "$rootfs" /usr/sbin/groupadd -g 1000 pincer
chroot "$rootfs" /usr/sbin/useradd -u 1000 -g 1000 -d /workspace -s /bin/bash pincer
mkdir -p "$rootfs/workspace" "$rootfs/run/pincer"
chown 1000:1000 "$rootfs/workspace"
# Keep the image small: package caches and docs are not needed at run time.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
       "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*

echo "build-sandbox-image: importing $image"
tar -C "$rootfs" -c . | docker import \
  --change 'WORKDIR /workspace' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'USER 1000:1000' \
  - "$image" >/dev/null
docker image inspect "$image" --format 'build-sandbox-image: {{.Id}} {{.Size}} bytes'
