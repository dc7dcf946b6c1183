# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fingerprint of what a host has of the fleet's network, and the record of the last complete converge.

site.yml's daily run with nothing to change is mostly proof that nothing changed: every role reads the
host, plans, and finds every step ``unchanged``. The fingerprint is that proof in one read: a digest of
everything the roles read and would act on (forwarding sysctls, the files they write, the engine's
swarm state and the declared networks, on managers the swarm's nodes, and with an address plan the
host's own routes and addresses). site.yml records it on each host, with the digest of the fleet's
declaration, after a converge in which every play succeeded. A later run whose declaration and every
host's fingerprint equal the records has nothing to do (docs/concepts.md, "The fast path").

Everything volatile stays out: container endpoints, timestamps, version indexes, address lifetimes,
the swarm leader, Docker's own interfaces and routes (which the address plan leaves out as well).
"""

from __future__ import annotations

import hashlib
import json
import os
import re

RECORD_PATH = '/var/lib/netfleet/state-fingerprint.json'
RECORD_FORMAT = 1

NETWORK_KEYS = ('Name', 'Id', 'Driver', 'Scope', 'EnableIPv4', 'EnableIPv6', 'IPAM', 'Internal', 'Attachable',
                'Ingress', 'ConfigFrom', 'ConfigOnly', 'Options', 'Labels')
CLUSTER_KEYS = ('ID', 'Spec', 'DefaultAddrPool', 'SubnetSize', 'DataPathPort')
# Interfaces Docker creates (bridges, veths, VXLAN and overlay namespaces' links) and loopback: neither the
# fingerprint nor the address plan's host claims (plugins/filter/fleet.py) count them.
DOCKER_OWNED_DEVICE = re.compile(r'^(docker|br-|veth|vx-|ov-|nfs-|lo$)')


def digest(value) -> str:
    """sha256 of the canonical JSON of ``value`` (sorted keys, no whitespace)."""
    text = json.dumps(value, sort_keys=True, separators=(',', ':'), default=str)
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def _sorted_entries(path):
    """The names in a directory, sorted; none when it cannot be listed."""
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def directory_state(path):
    """{file name: digest of its content} of the regular files in ``path`` ({} when it does not exist)."""
    state = {}
    for name in _sorted_entries(path):
        full = os.path.join(path, name)
        if not os.path.isfile(full):
            continue
        state[name] = file_digest(full)
    return state


# On a swarm worker a swarm-scoped network (an overlay, ingress) is a copy that appears when a task or container
# attaches there and goes some time after; it is managed, and read, on the managers.
NOT_READ_ON_A_WORKER = 'absent, or swarm-scoped (read on the managers)'


def swarm_scoped(inspected):
    return (inspected or {}).get('Scope') == 'swarm'


def network_state(inspected, manager=True):
    """The parts of a network the roles manage; endpoints and timestamps left out."""
    if not manager and (inspected is None or swarm_scoped(inspected)):
        return NOT_READ_ON_A_WORKER
    if inspected is None:
        return None
    kept = dict((key, inspected.get(key)) for key in NETWORK_KEYS)
    if kept['Labels'] is None:
        kept['Labels'] = {}
    return kept


def engine_state(info):
    """The engine's identity and this node's place in a swarm (no counters, no leader)."""
    swarm = info.get('Swarm') or {}
    cluster = swarm.get('Cluster') or {}
    spec = dict(cluster.get('Spec') or {})
    return dict(
        id=info.get('ID'),
        version=info.get('ServerVersion'),
        swarm=dict(
            state=swarm.get('LocalNodeState'),
            node_id=swarm.get('NodeID'),
            node_addr=swarm.get('NodeAddr'),
            manager=bool(swarm.get('ControlAvailable')),
            cluster=dict((key, spec if key == 'Spec' else cluster.get(key)) for key in CLUSTER_KEYS) if cluster else None,
            remote_managers=sorted((item.get('NodeID'), item.get('Addr')) for item in swarm.get('RemoteManagers') or []),
        ),
    )


def node_state(node):
    """A swarm node as the overlay role reads it: role, availability, labels, readiness, reachability."""
    spec = node.get('Spec') or {}
    status = node.get('Status') or {}
    manager = node.get('ManagerStatus') or {}
    return dict(id=node.get('ID'), hostname=(node.get('Description') or {}).get('Hostname'),
                role=spec.get('Role'), availability=spec.get('Availability'), labels=spec.get('Labels') or {},
                name=spec.get('Name'), state=status.get('State'), addr=status.get('Addr'),
                reachability=manager.get('Reachability'))


def nodes_state(nodes):
    return sorted((node_state(node) for node in nodes or []), key=lambda item: item['id'] or '')


# What the address plan reads of a route and an address; the rest (flags such as linkdown, operstate, ifindex,
# lifetimes, counters) moves with container churn on a bridge or with a reboot, not with the plan's inputs.
ROUTE_KEYS = ('type', 'dst', 'gateway', 'dev', 'table', 'protocol', 'scope', 'prefsrc', 'metric')
ADDRESS_KEYS = ('family', 'local', 'prefixlen', 'broadcast', 'scope', 'label')


def _route(route):
    return dict((key, route.get(key)) for key in ROUTE_KEYS if key in route)


def _link_addresses(link):
    return dict(ifname=link.get('ifname'), mtu=link.get('mtu'),
                addresses=sorted((dict((key, item.get(key)) for key in ADDRESS_KEYS if key in item)
                                  for item in link.get('addr_info') or []), key=digest))


def routes_state(routes, addresses, docker_devices=()):
    """``ip -j -4 route show table all`` and ``ip -j -4 addr show`` without Docker's own interfaces (its default
    names, and ``docker_devices``: bridges a network named with com.docker.network.bridge.name)."""
    def docker_owned(device):
        return bool(DOCKER_OWNED_DEVICE.match(device or '')) or device in docker_devices
    kept_routes = sorted((_route(route) for route in routes or [] if not docker_owned(route.get('dev'))), key=digest)
    kept_addresses = sorted((_link_addresses(link) for link in addresses or [] if not docker_owned(link.get('ifname'))),
                            key=lambda link: link['ifname'] or '')
    return dict(routes=kept_routes, addresses=kept_addresses)


def links_state(sys_class_net='/sys/class/net', docker_devices=()):
    """{interface: MTU} of the host's own interfaces: the overlay role sizes overlay networks from the underlay's."""
    links = {}
    for name in _sorted_entries(sys_class_net):
        if DOCKER_OWNED_DEVICE.match(name) or name in docker_devices:
            continue
        try:
            with open(os.path.join(sys_class_net, name, 'mtu')) as handle:
                links[name] = handle.read().strip()
        except OSError:
            continue
    return links


def bridge_devices(networks):
    """The host interfaces of inspected bridge networks that were given their own name."""
    return sorted(set(((network or {}).get('Options') or {}).get('com.docker.network.bridge.name')
                      for network in networks) - {None, ''})


def file_digest(path):
    """sha256 of a file's bytes (any encoding), None when it does not exist."""
    try:
        with open(path, 'rb') as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return 'unreadable: %s' % exc.strerror


def host_fingerprint(parts):
    """``parts``: {name: state}; returns the digest of the whole and one digest per part (to name what moved)."""
    return digest(parts), dict((name, digest(value)) for name, value in sorted(parts.items()))


def record(fingerprint, parts, declaration, recorded_at):
    return dict(format=RECORD_FORMAT, fingerprint=fingerprint, parts=parts, declaration=declaration,
                recorded_at=recorded_at)


def parse_record(text):
    """The record file's content, or None when it is missing, unreadable or of another format."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, dict) or value.get('format') != RECORD_FORMAT:
        return None
    return value


def moved_parts(current_parts, recorded):
    """The names of the parts whose digest differs from the record (all of them without a record)."""
    if not recorded:
        return sorted(current_parts)
    before = recorded.get('parts') or {}
    names = set(current_parts) | set(before)
    return sorted(name for name in names if current_parts.get(name) != before.get(name))
