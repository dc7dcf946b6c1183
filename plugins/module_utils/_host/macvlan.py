# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""macvlan_net's request: options, the parent on the host, the network it becomes, promiscuous mode.

The network itself is a plain DesiredNetwork planned and applied through ``network_steps``
exactly like docker_net (same idempotence, diff and safe recreate); the host shim lives in
``macvlan_shim``. This file adds what only a macvlan network needs:

* the request checked before the engine is touched: options, the parent on the host (exists,
  up, not a macvlan itself; the 802.1q form ``base.vid`` with a valid VLAN ID, an existing base
  and kernel support), systemd for the shim;
* the DesiredNetwork: driver macvlan, parent and mode as driver options, the shim's address
  reserved as aux address ``host-shim``;
* other macvlan networks on the same parent, and the parent's promiscuous mode.
"""

from __future__ import annotations

import os
import re
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.netfleet.docker.plugins.module_utils._common.driver import UNCHANGED, Step
from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import HostError
from ansible_collections.netfleet.docker.plugins.module_utils._host import hostnet
from ansible_collections.netfleet.docker.plugins.module_utils._host.macvlan_shim import (
    IFNAME_MAX, SHIM_AUX_NAME, default_shim_name)
from ansible_collections.netfleet.docker.plugins.module_utils._network import ipam
from ansible_collections.netfleet.docker.plugins.module_utils._network.network_spec import (
    NETWORK_OPTION_SPEC, OPTION_DEFAULTS)

MODES = ('bridge', 'private', 'vepa', 'passthru')
VLAN_PROC = '/proc/net/vlan'


class MacvlanError(ValueError):
    """A macvlan request that cannot be right; the message names the object, the problem and the fix."""


def parse_parent(text: Optional[str], owner: str) -> Tuple[str, Optional[int]]:
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


def parent_problems(run: Callable, parent: str, owner: str, vlan_proc: str = VLAN_PROC) -> List[str]:
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


def gateway_problems(pools: Sequence[Mapping[str, Any]], owner: str) -> List[str]:
    """A macvlan gateway is the segment's router: it must not be inside ip_range, where containers get addresses."""
    problems = []
    for pool in pools:
        if pool.get('gateway') and pool.get('ip_range') and \
                ipam.netaddr.IPAddress(pool['gateway']) in ipam.netaddr.IPNetwork(pool['ip_range']):
            problems.append('%s subnet %s: gateway %s is inside ip_range %s; the gateway is the router of the segment, '
                            'so keep it outside the containers\' range (move ip_range or fix the gateway)'
                            % (owner, pool['subnet'], pool['gateway'], pool['ip_range']))
    return problems


# -- the request ------------------------------------------------------------------------------------

def validate_request(params: Mapping[str, Any], run, systemd_dir: str = '/run/systemd/system') -> List[str]:
    """Everything that can be checked without the engine: options, the parent on the host, systemd."""
    owner = "network '%s'" % params['name']
    if params['state'] != 'present':
        return []
    if params.get('config_from'):
        problems = _config_from_problems(params, owner)
    else:
        problems = _parent_request_problems(params, run, owner)
    shim = params.get('host_shim')
    if shim is not None:
        if not os.path.isdir(systemd_dir):
            problems.append('%s: host_shim is persisted as a systemd unit, but systemd is not running on this host; '
                            'create the shim with the host\'s network configuration instead' % owner)
        name = shim.get('name') or default_shim_name(params['name'])
        if len(name) > IFNAME_MAX or '/' in name or any(char.isspace() for char in name):
            problems.append("%s: host_shim name '%s' is not a valid interface name (1-15 characters)" % (owner, name))
    return problems


def _config_from_problems(params, owner):
    problems = []
    for key in ('parent', 'ipam', 'host_shim', 'promiscuous'):
        if params.get(key) is not None:
            problems.append('%s: with config_from the parent and addresses come from the config-only network; remove %s '
                            '(put it on each host\'s config-only network)' % (owner, key))
    if params.get('scope') not in (None, 'swarm'):
        problems.append('%s: a network with config_from is swarm-scoped; set scope: swarm' % owner)
    return problems


def _parent_request_problems(params, run, owner):
    problems = []
    try:
        parse_parent(params.get('parent'), owner)
        problems.extend(parent_problems(run, params['parent'], owner))
    except MacvlanError as exc:
        problems.append(str(exc))
    except hostnet.HostNetError as exc:
        problems.append('%s: %s' % (owner, exc))
    if not (params.get('ipam') or {}).get('config'):
        problems.append('%s: a macvlan network needs ipam.config with the subnet of the parent\'s L2 segment '
                        '(the engine would pick a private range that does not exist there)' % owner)
    return problems


def network_request(params: Mapping[str, Any], aux: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """The docker_net request for the macvlan network; ``aux`` reserves {subnet: shim address}."""
    request = dict((key, None) for key in NETWORK_OPTION_SPEC)
    request.update(OPTION_DEFAULTS)
    request.update(name=params['name'], state=params['state'], recreate=params['recreate'], force=params['force'])
    for key in ('enable_ipv6', 'enable_ipv4', 'labels', 'internal', 'scope', 'config_only', 'config_from'):
        request[key] = params.get(key)
    if params.get('config_from'):
        request['driver'] = 'macvlan'
        return request
    if not params.get('config_only'):
        request['driver'] = 'macvlan'   # a config-only network has driver "null" on the engine
    if params.get('parent'):
        request['driver_options'] = dict(parent=params['parent'], macvlan_mode=params['mode'])
    ipam_request = dict(params.get('ipam') or {})
    if aux:
        pools = []
        for pool in ipam_request.get('config') or []:
            pool = dict(pool)
            subnet = ipam.canonical_network(pool.get('subnet'))
            if subnet in aux:
                pool['aux_addresses'] = dict(pool.get('aux_addresses') or {}, **{SHIM_AUX_NAME: aux[subnet]})
            pools.append(pool)
        ipam_request['config'] = pools
    if ipam_request:
        request['ipam'] = ipam_request
    return request


def same_parent_problems(networks: Sequence[Mapping[str, Any]], desired, parent: str) -> List[str]:
    """Other macvlan networks on this parent whose subnets overlap the request's."""
    problems = []
    for network in networks:
        if network.get('Name') == desired.name or network.get('Driver') != 'macvlan' or network.get('ConfigOnly'):
            continue
        if (network.get('Options') or {}).get('parent') != parent:
            continue
        for config in (network.get('IPAM') or {}).get('Config') or []:
            other = ipam.canonical_network(config.get('Subnet'))
            for pool in desired.pools:
                if other and ipam.networks_overlap(pool['subnet'], other):
                    problems.append("%s: subnet %s overlaps subnet %s of macvlan network '%s' on the same parent %s; give "
                                    "each macvlan network on a parent its own subnet, or use one network with a per-host "
                                    "ip_range slice" % (desired.owner, pool['subnet'], other, network['Name'], parent))
    return problems


# -- the parent's promiscuous mode ------------------------------------------------------------------

def plan_promiscuous(run, parent: str, wanted: bool, network_name: str) -> Step:
    data = hostnet.link(run, parent)
    have = data is not None and 'PROMISC' in (data.get('flags') or [])
    action = UNCHANGED if data is not None and have == wanted else 'changed'
    return Step(name='parent %s' % parent, action=action, before=dict(promiscuous=have), after=dict(promiscuous=wanted),
                changes=('promiscuous',) if action != UNCHANGED else (),
                payload=dict(parent=parent, promiscuous=wanted, network=network_name))


def apply_promiscuous(run, change: Mapping[str, Any]) -> None:
    rc, out, err = run(['ip', 'link', 'set', 'dev', change['parent'], 'promisc', 'on' if change['promiscuous'] else 'off'])
    if rc != 0:
        raise HostError("network '%s' is in place but promiscuous mode on %s could not be set: %s"
                        % (change['network'], change['parent'], (err or out).strip()))
