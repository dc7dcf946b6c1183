#!/usr/bin/env bash
# Build the tiny test image netfleet/busybox:latest without any registry:
# Debian's busybox-static package, unpacked and streamed into `docker import`.
# Usage: scripts/test-image.sh [--save FILE]   (idempotent; a no-op when the image exists)
set -euo pipefail
DOCKER=${DOCKER:-/usr/bin/docker}
IMAGE=${TEST_IMAGE:-netfleet/busybox:latest}
CACHE=${NETFLEET_CACHE:-$(cd "$(dirname "$0")/.." && pwd)/.cache}
mkdir -p "$CACHE"

if ! "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
  debs=("$CACHE"/busybox-static_*.deb)
  deb=${debs[0]}
  if [ ! -e "$deb" ]; then
    (cd "$CACHE" && apt-get download -q busybox-static >/dev/null) || {
      echo "test-image: cannot download busybox-static; is a Debian mirror reachable (apt-get update)?" >&2; exit 1; }
    debs=("$CACHE"/busybox-static_*.deb)
    deb=${debs[0]}
  fi
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  dpkg-deb -x "$deb" "$root/pkg"
  mkdir -p "$root/rootfs/bin" "$root/rootfs/etc" "$root/rootfs/tmp" "$root/rootfs/root"
  cp "$root/pkg/bin/busybox" "$root/rootfs/bin/busybox"
  for applet in sh ash ping ping6 nslookup ip ifconfig route sleep cat ls echo wget nc hostname \
                true false grep awk sed ps kill mkdir rm env arping traceroute udhcpc httpd timeout top; do
    ln -sf busybox "$root/rootfs/bin/$applet"
  done
  echo "root:x:0:0:root:/root:/bin/sh" > "$root/rootfs/etc/passwd"
  echo "root:x:0:" > "$root/rootfs/etc/group"
  tar -C "$root/rootfs" -c . | "$DOCKER" import \
      -c 'CMD ["/bin/sleep", "86400"]' -c 'ENV PATH=/bin' - "$IMAGE" >/dev/null
  echo "test-image: built $IMAGE"
fi

if [ "${1:-}" = "--save" ]; then
  "$DOCKER" save "$IMAGE" > "$2"
fi
