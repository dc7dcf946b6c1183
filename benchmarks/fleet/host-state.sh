#!/bin/sh
# `make bench-fleet`: one lab host's state, run on the host over ssh (sh -s ACTION < host-state.sh).
#   baseline  save what either stack changes, as the lab brought it up (once per lab)
#   reset     back to that baseline: leave the swarm, remove every network but Docker's own, restore the
#             saved files, drop netfleet's host state, restart the engine (rate limit reset first: both
#             stacks restart it too, and docker.service allows 3 starts a minute), wait until it answers
#   state     what the fleet declaration touches, one `key value` a line (compared between the stacks)
set -eu
SAVE=/var/lib/netfleet-bench
PATHS="etc/docker etc/sysctl.d etc/sysctl.conf etc/modules-load.d etc/systemd/system/docker.service.d"

baseline() {
    mkdir -p "$SAVE"
    present=""
    for p in $PATHS; do [ -e "/$p" ] && present="$present $p"; done
    # shellcheck disable=SC2086  # a list of paths
    tar -C / -cf "$SAVE/baseline.tar" $present
    sysctl -n net.ipv4.ip_forward > "$SAVE/ip_forward"
}

reset() {
    [ -f "$SAVE/baseline.tar" ] || { echo "no baseline on $(hostname)" >&2; exit 3; }
    # Containers first (a probe that verify could not start keeps an endpoint on docker_gwbridge), then the swarm.
    ids=$(docker ps -aq)
    # shellcheck disable=SC2086  # a list of IDs
    [ -z "$ids" ] || docker rm -f $ids >/dev/null
    docker swarm leave --force >/dev/null 2>&1 || true
    remove_networks || true
    for p in $PATHS; do rm -rf "/${p:?}"; done
    tar -C / -xf "$SAVE/baseline.tar"
    rm -rf /var/lib/netfleet /etc/netfleet
    sysctl -qw net.ipv4.ip_forward="$(cat "$SAVE/ip_forward")"
    systemctl daemon-reload
    systemctl reset-failed docker.service docker.socket >/dev/null 2>&1 || true
    systemctl restart docker.service
    i=0
    until docker info >/dev/null 2>&1; do
        i=$((i + 1)); [ "$i" -lt 60 ] || { echo "engine not up after 60 s on $(hostname)" >&2; exit 4; }
        sleep 1
    done
    systemctl reset-failed docker.service >/dev/null 2>&1 || true
    # an endpoint the engine still held before the restart is gone after it
    remove_networks
    state
}

remove_networks() {
    nets=$(docker network ls --format '{{.Name}}' | grep -vxE 'bridge|host|none' || true)
    # shellcheck disable=SC2086  # a list of names
    [ -z "$nets" ] || docker network rm $nets >/dev/null
}

state() {
    echo "swarm $(docker info --format '{{.Swarm.LocalNodeState}} manager={{.Swarm.ControlAvailable}} nodes={{.Swarm.Nodes}}')"
    docker network ls --format '{{.Name}}' | grep -vxE 'bridge|host|none|ingress|docker_gwbridge' | sort | while read -r n; do
        echo "network $n $(docker network inspect "$n" --format '{{.Driver}} {{.Scope}} internal={{.Internal}} attachable={{.Attachable}} {{range .IPAM.Config}}{{.Subnet}} {{end}}')"
    done
    echo "docker0 $(ip -4 -o addr show docker0 | awk '{print $4}')"
    echo "ip_forward $(sysctl -n net.ipv4.ip_forward)"
    echo "ip_forward_persisted $(cat /etc/sysctl.conf /etc/sysctl.d/*.conf 2>/dev/null | tr -d ' ' | grep -c '^net.ipv4.ip_forward=1$' || true)"
    python3 -c 'import json,sys
try:
    d = json.load(open("/etc/docker/daemon.json"))
except (OSError, ValueError):
    d = {}
print("daemon.json", json.dumps({k: d.get(k) for k in ("bip", "default-address-pools")}, sort_keys=True))'
}

case "${1:-}" in
    baseline) baseline ;;
    reset) reset ;;
    state) state ;;
    *) echo "usage: $0 baseline|reset|state" >&2; exit 2 ;;
esac
