#!/bin/sh
# netfleet lab host entrypoint, installed as /usr/local/sbin/netfleet-lab-init.
#
# Docker mounts /sys, the cgroup hierarchies and /proc/sys read-only in a non-privileged
# container; the inner dockerd and systemd need them writable.  Remount the superblock
# (where it is ro) and the mount itself (bind remount: the per-mount ro flag), then systemd
# becomes PID 1.
#
# systemd 258 and later (Debian forky) refuse a cgroup v1 hierarchy ("Detected unsupported
# legacy cgroup hierarchy, refusing execution"), and an outer engine on cgroup v1 gives the
# container a v1 tmpfs on /sys/fs/cgroup.  For such a systemd only, the v1 mounts are
# replaced by cgroup2 (the kernel has it); older systemd (bookworm 252, trixie 257) keeps
# the hierarchy the outer engine gave.

FIRST_SYSTEMD_WITHOUT_V1=258
# Fixed in a lab host; tests/lab/test_lab_package.py points them at fakes.
CGROUP=${NETFLEET_LAB_CGROUP:-/sys/fs/cgroup}
MOUNTS=${NETFLEET_LAB_MOUNTS:-/proc/self/mounts}
SYSTEMD=${NETFLEET_LAB_SYSTEMD:-/lib/systemd/systemd}
INIT=${NETFLEET_LAB_INIT:-/sbin/init}

rw() {
  mount -o remount,rw "$1" 2>/dev/null
  mount -o remount,bind,rw "$1" 2>/dev/null || echo "lab-init: cannot remount $1 read-write" >&2
}

# The mount points at and under /sys/fs/cgroup, in mount order (mount points never contain
# blanks in /proc/self/mounts: the kernel escapes them as octal).
cgroup_mounts() {
  awk -v root="$CGROUP" '$2 == root || index($2, root "/") == 1 { print $2 }' "$MOUNTS"
}

# The same, deepest first: the order they can be unmounted in.
cgroup_mounts_deepest_first() {
  cgroup_mounts | awk '{ print gsub("/", "/"), $0 }' | sort -rn | cut -d' ' -f2
}

systemd_major() {
  "$SYSTEMD" --version 2>/dev/null | sed -n '1s/^systemd \([0-9][0-9]*\).*/\1/p'
}

needs_cgroup2() {
  [ "$(stat -fc %T "$CGROUP" 2>/dev/null)" != cgroup2fs ] || return 1
  major=$(systemd_major)
  [ "${major:-0}" -ge "$FIRST_SYSTEMD_WITHOUT_V1" ]
}

switch_to_cgroup2() {
  for m in $(cgroup_mounts_deepest_first); do
    umount "$m" || { echo "lab-init: cannot unmount $m (cgroup v1)" >&2; return 1; }
  done
  mount -t cgroup2 -o rw,nosuid,nodev,noexec cgroup2 "$CGROUP" ||
    { echo "lab-init: cannot mount cgroup2 on $CGROUP" >&2; return 1; }
  echo "lab-init: systemd $(systemd_major) needs cgroup v2: mounted cgroup2 on $CGROUP" >&2
}

rw /sys
if needs_cgroup2; then
  switch_to_cgroup2
else
  for m in $(cgroup_mounts); do rw "$m"; done
fi
rw /proc/sys
exec "$INIT" "$@"
