#!/bin/sh
# mmdebstrap customize hook of the lab images (lab/netfleet_lab/images.py runs it as
#   sh customize.sh ROOTFS IMAGE_FILES_DIR SDK_DIR...
# ROOTFS: the image being built; IMAGE_FILES_DIR: lab/image/ (this file's directory);
# SDK_DIR...: the Docker SDK for Python of the project venv, package and dist-info).
# Everything in lab/image/ is hashed into the image tag: change a file, the image is rebuilt.
set -eu
R=$1
FILES=$2
shift 2

install -d -m 0755 "$R/usr/local/sbin" "$R/etc/systemd/system/ssh.service.d"
install -m 0755 "$FILES/netfleet-lab-init.sh" "$R/usr/local/sbin/netfleet-lab-init"
install -m 0644 "$FILES/ssh-keygen.conf" "$R/etc/systemd/system/ssh.service.d/netfleet-lab-keygen.conf"
rm -f "$R"/etc/ssh/ssh_host_*

# The Docker SDK for Python from the project venv (Debian ships 5.0; the collection needs
# >= 7.1), into the dist-packages of the image's default python3.
py=$(readlink "$R/usr/bin/python3")
py=${py##*/}
case $py in
  python3.[0-9]*) ;;
  *) echo "customize: cannot tell the python3 version of the image (/usr/bin/python3 -> $py)" >&2; exit 1 ;;
esac
site="$R/usr/local/lib/$py/dist-packages"
install -d -m 0755 "$site"
for d in "$@"; do cp -r "$d" "$site/"; done
find "$site" -name __pycache__ -prune -exec rm -rf {} +

install -d -m 0700 "$R/root/.ssh"
: > "$R/etc/machine-id"
# Units that make no sense in a lab container.
for u in systemd-remount-fs.service systemd-firstboot.service getty.target \
         console-getty.service systemd-logind.service systemd-timesyncd.service \
         apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
         fstrim.timer systemd-tmpfiles-clean.timer dpkg-db-backup.timer \
         sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount \
         sys-fs-fuse-connections.mount dev-hugepages.mount dev-mqueue.mount \
         systemd-journald-audit.socket systemd-pcrphase.service \
         systemd-pcrphase-sysinit.service systemd-hwdb-update.service; do
  ln -sf /dev/null "$R/etc/systemd/system/$u"
done
# etcd is installed for roles/kv_store, which configures and starts it
rm -f "$R/etc/systemd/system/multi-user.target.wants/etcd.service"
# no mirror is reachable from inside the lab: drop the package lists
rm -rf "$R"/var/lib/apt/lists/* "$R"/var/cache/apt/*.bin "$R"/var/cache/apt/archives/*.deb
echo "netfleet lab host" > "$R/etc/motd"
