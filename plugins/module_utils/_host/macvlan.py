# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""macvlan specifics: the parent interface, the host shim, and their validation.

The network itself is a plain DesiredNetwork planned and applied by NetworkManager (see
network_task); this file adds what only a macvlan network needs on the host:

* the parent checked on the host before the engine is touched (exists, up, not a macvlan
  itself; the 802.1q form ``base.vid`` with a valid VLAN ID, an existing base and kernel
  support);
* the host shim: a macvlan interface in bridge mode on the same parent, with an address
  reserved in the network's IPAM (aux address ``host-shim``) and a route to the containers'
  ``ip_range``, persisted as a systemd unit. Without it the host cannot reach its own
  macvlan containers (the kernel does not pass traffic between a parent and its macvlans).
"""

from __future__ import annotations

import hashlib
import os
import re

from ansible_collections.netfleet.docker.plugins.module_utils._host import hostnet
from ansible_collections.netfleet.docker.plugins.module_utils._network import ipam

MODES = ('bridge', 'private', 'vepa', 'passthru')
SHIM_AUX_NAME = 'host-shim'
UNIT_DIR = '/etc/systemd/system'
VLAN_PROC = '/proc/net/vlan'
IFNAME_MAX = 15


class MacvlanError(ValueError):
    """A macvlan request that cannot be right; the message names the object, the problem and the fix."""


def parse_parent(text, owner):
    """'eth1' -> ('eth1', None); 'eth1.10' -> ('eth1', 10). Validates names and the VLAN ID."""
    parent = str(text or '').strip()
    if not parent:
        raise MacvlanError('%s: parent is required for a macvlan network (the host interface its containers share), '
                           'e.g. parent: eth1' % owner)
    if len(parent) > IFNAME_MAX or '/' in parent or any(char.isspace() for char in parent):
        raise MacvlanError("%s: parent '%s' is not a valid interface name (1-15 characters, no '/' or spaces)" % (owner, parent))
    match = re.match(r'^(.+)\.([^.]+)$', parent)
    if not match:
        return parent, None
    base, vid = match.group(1), match.group(2)
    if not vid.isdigit() or not 1 <= int(vid) <= 4094:
        raise MacvlanError("%s: parent '%s' is in the 802.1q form base.vid but '%s' is not a VLAN ID; use 1..4094, e.g. %s.10"
                           % (owner, parent, vid, base))
    return base, int(vid)


def default_shim_name(network_name):
    """A stable interface name for a network's shim, unique per network name.

    'nfs-' and the name when it fits (11 characters), else 'nfs-', 6 characters and a
    4-character hash of the whole name, so that 'lan_office' and 'lan_office2' never share one.
    """
    cleaned = re.sub(r'[^A-Za-z0-9_-]', '', network_name)
    if cleaned == network_name and 0 < len(cleaned) <= IFNAME_MAX - 4:
        return 'nfs-' + cleaned
    digest = hashlib.sha1(network_name.encode('utf-8')).hexdigest()[:4]
    return 'nfs-%s-%s' % (cleaned[:6] or 'net', digest)


def unit_marker(network_name):
    """The line that says which network a shim unit belongs to (absent removes only its own)."""
    return '# Managed by netfleet.docker.macvlan_net: host shim for the macvlan network %s.' % network_name


def unit_name(shim_name):
    return 'netfleet-shim-%s.service' % shim_name


def parent_problems(run, parent, owner, vlan_proc=VLAN_PROC):
    """What is wrong with the parent on this host (empty when nothing is). Reads only."""
    base, vid = parse_parent(parent, owner)
    data = hostnet.link(run, parent)
    if data is None and vid is not None:
        base_data = hostnet.link(run, base)
        if base_data is None:
            return ["%s: parent '%s' is VLAN %d on '%s', which does not exist on this host (it has: %s); fix the name"
                    % (owner, parent, vid, base, ', '.join(sorted(hostnet.links(run))))]
        if not os.path.exists(vlan_proc):
            return ["%s: parent '%s' needs an 802.1q VLAN link, but this kernel has no 802.1q support (no %s); "
                    "load it (modprobe 8021q) or use an untagged parent" % (owner, parent, vlan_proc)]
        data = base_data
        parent = base
    elif data is None:
        return ["%s: parent '%s' does not exist on this host (it has: %s); fix the name or create the interface first"
                % (owner, parent, ', '.join(sorted(hostnet.links(run))))]
    problems = []
    if hostnet.link_kind(data) == 'macvlan':
        problems.append("%s: parent '%s' is itself a macvlan interface (on %s); a macvlan network needs a real NIC, a bond "
                        "or a VLAN link as parent: use %s" % (owner, parent, hostnet.link_parent(data), hostnet.link_parent(data)))
    if not hostnet.link_is_up(data):
        problems.append("%s: parent '%s' is down; bring it up first (ip link set %s up, and in the host's network "
                        "configuration)" % (owner, parent, parent))
    if parent == 'lo' or data.get('link_type') == 'loopback':
        problems.append("%s: parent '%s' is the loopback interface; use an Ethernet interface" % (owner, parent))
    return problems


def ipv4_pool(pools):
    found = [pool for pool in pools if not ipam.pool_is_ipv6(pool)]
    return found[0] if len(found) == 1 else None


def shim_address_problems(address, pool, owner):
    """An explicitly requested shim address must be a usable address of the subnet, outside ip_range."""
    net = ipam.netaddr.IPNetwork(pool['subnet'])
    where = '%s host_shim address %s' % (owner, address)
    ip = ipam.netaddr.IPAddress(address)
    if ip.version != 4 or ip not in net:
        return ['%s is outside the subnet %s; use an address inside it and outside ip_range' % (where, net)]
    if ip in (net.network, net.broadcast):
        return ['%s is the %s address of %s; pick a host address' % (where, 'network' if ip == net.network else 'broadcast', net)]
    if pool.get('ip_range') and ip in ipam.netaddr.IPNetwork(pool['ip_range']):
        return ['%s is inside ip_range %s, from which the engine hands out container addresses; pick one outside it '
                '(or omit the address to have one chosen)' % (where, pool['ip_range'])]
    if pool.get('gateway') and ip == ipam.netaddr.IPAddress(pool['gateway']):
        return ['%s is the gateway; pick another address' % where]
    for name, value in sorted((pool.get('aux_addresses') or {}).items()):
        if name != SHIM_AUX_NAME and ip == ipam.netaddr.IPAddress(value):
            return ["%s is aux address '%s' already; pick another address" % (where, name)]
    return []


def gateway_problems(pools, owner):
    """A macvlan gateway is the segment's router: it must not be inside ip_range, where containers get addresses."""
    problems = []
    for pool in pools:
        if pool.get('gateway') and pool.get('ip_range') and \
                ipam.netaddr.IPAddress(pool['gateway']) in ipam.netaddr.IPNetwork(pool['ip_range']):
            problems.append('%s subnet %s: gateway %s is inside ip_range %s; the gateway is the router of the segment, '
                            'so keep it outside the containers\' range (move ip_range or fix the gateway)'
                            % (owner, pool['subnet'], pool['gateway'], pool['ip_range']))
    return problems


def choose_shim_address(pool, taken=()):
    """The highest usable address of the subnet outside ip_range, the gateway, aux addresses and ``taken``."""
    net = ipam.netaddr.IPNetwork(pool['subnet'])
    ip_range = ipam.netaddr.IPNetwork(pool['ip_range']) if pool.get('ip_range') else None
    excluded = set(str(value) for value in (pool.get('aux_addresses') or {}).values())
    excluded.update(str(value) for value in taken if value)
    if pool.get('gateway'):
        excluded.add(pool['gateway'])
    last = net.last - 1 if net.prefixlen < 31 else net.last
    first = net.first + 1 if net.prefixlen < 31 else net.first
    for value in range(last, max(first, last - 65536) - 1, -1):
        ip = ipam.netaddr.IPAddress(value)
        if ip_range is not None and ip in ip_range:
            continue
        if str(ip) in excluded:
            continue
        return str(ip)
    return None


class ShimSpec:
    """The host shim wanted for one network: interface, parent, address, routes."""

    def __init__(self, name, parent, address, routes, promiscuous=False):
        self.name = name
        self.parent = parent
        self.address = address
        self.routes = list(routes)
        self.promiscuous = promiscuous

    def view(self):
        return dict(interface=self.name, parent=self.parent, mode='bridge', address='%s/32' % self.address,
                    routes=list(self.routes), unit=unit_name(self.name))

    def unit_text(self, ip_binary, network_name):
        lines = [
            unit_marker(network_name),
            '# The host reaches its own macvlan containers through this interface.',
            '[Unit]',
            'Description=netfleet macvlan host shim %s for Docker network %s' % (self.name, network_name),
            'After=network.target',
            'Before=docker.service',
            '',
            '[Service]',
            'Type=oneshot',
            'RemainAfterExit=yes',
            'ExecStartPre=-%s link del %s' % (ip_binary, self.name),
        ]
        if self.promiscuous:
            lines.append('ExecStartPre=%s link set dev %s promisc on' % (ip_binary, self.parent))
        lines += [
            'ExecStart=%s link add %s link %s type macvlan mode bridge' % (ip_binary, self.name, self.parent),
            'ExecStart=%s addr add %s/32 dev %s' % (ip_binary, self.address, self.name),
            'ExecStart=%s link set dev %s up' % (ip_binary, self.name),
        ]
        for route in self.routes:
            lines.append('ExecStart=%s route replace %s dev %s' % (ip_binary, route, self.name))
        lines += [
            'ExecStop=%s link del %s' % (ip_binary, self.name),
            '',
            '[Install]',
            'WantedBy=multi-user.target',
        ]
        return '\n'.join(lines) + '\n'


def shim_runtime(run, name):
    """What exists of a shim now: dict(interface, parent, mode, address, routes) or None."""
    data = hostnet.link(run, name)
    if data is None:
        return None
    info = (data.get('linkinfo') or {}).get('info_data') or {}
    addresses = ['%s/%s' % (address, prefix) for address, prefix, dummy in hostnet.addresses(run, name, 4)]
    routes = []
    try:
        for route in hostnet.routes(run, 4, dev=name):
            if route.get('dst') and route.get('dst') != 'default' and route.get('protocol') != 'kernel':
                routes.append(ipam.canonical_network(route['dst'] if '/' in route['dst'] else route['dst'] + '/32'))
    except hostnet.HostNetError:
        pass
    return dict(interface=name, parent=hostnet.link_parent(data), mode=info.get('mode'),
                address=addresses[0] if len(addresses) == 1 else addresses, routes=sorted(routes),
                up=hostnet.link_is_up(data), kind=hostnet.link_kind(data))
