#!/usr/bin/env bash
# Make sure a Docker engine answers on the default socket; start dockerd if none does.
# Installs nothing itself (see scripts/install-deps.sh). Waits at most 60 s.
set -euo pipefail
DOCKER=${DOCKER:-/usr/bin/docker}
if "$DOCKER" info >/dev/null 2>&1; then exit 0; fi
if [ -d /run/systemd/system ] && systemctl start docker 2>/dev/null; then :; else
  echo "ensure-engine: no engine answers; starting dockerd (log: /var/log/netfleet-dockerd.log)"
  # its own session: the engine outlives the shell (and process group) that started it
  setsid nohup dockerd >/var/log/netfleet-dockerd.log 2>&1 < /dev/null &
fi
for _ in $(seq 1 60); do
  "$DOCKER" info >/dev/null 2>&1 && { echo "ensure-engine: engine $("$DOCKER" version -f '{{.Server.Version}}') answers"; exit 0; }
  sleep 1
done
echo "ensure-engine: dockerd did not answer within 60 s; last log lines:" >&2
tail -20 /var/log/netfleet-dockerd.log >&2 || true
exit 1
