#!/usr/bin/env bash
# Install the Debian packages the project needs, only those missing.
set -euo pipefail
need=()
# chromium: the verify report is rendered in a real headless browser (tests/report).
for pkg in docker.io iptables mmdebstrap rsync openssh-client shellcheck chromium; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "install-deps: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
