# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The macvlan host shim, its whole lifecycle in one place: name, address, unit, plan, install, remove.

Without a shim the host cannot reach its own macvlan containers (the kernel does not pass traffic
between a parent and its macvlans). The shim is a macvlan interface in bridge mode on the same
parent, with an address reserved in the network's IPAM (aux address ``host-shim``) and a route to
the containers' ``ip_range``, persisted as a systemd unit whose first line names its network (so
a removal takes away only its own shim).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.netfleet.docker.plugins.module_utils._common import files
from ansible_collections.netfleet.docker.plugins.module_utils._common.driver import UNCHANGED, Step
from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import HostError, PlanningError
from ansible_collections.netfleet.docker.plugins.module_utils._host import hostnet
from ansible_collections.netfleet.docker.plugins.module_utils._network import ipam

SHIM_AUX_NAME = 'host-shim'
UNIT_DIR = '/etc/systemd/system'
IFNAME_MAX = 15
RUNTIME_KEYS = ('interface', 'parent', 'mode', 'address', 'routes')

Runner = Callable[[List[str]], Tuple[int, str, str]]


def default_shim_name(network_name: str) -> str:
    """A stable interface name for a network's shim, unique per network name.

    'nfs-' and the name when it fits (11 characters), else 'nfs-', 6 characters and a
    4-character hash of the whole name, so that 'lan_office' and 'lan_office2' never share one.
    """
    cleaned = re.sub(r'[^A-Za-z0-9_-]', '', network_name)
    if cleaned == network_name and 0 < len(cleaned) <= IFNAME_MAX - 4:
        return 'nfs-' + cleaned
    digest = hashlib.sha1(network_name.encode('utf-8')).hexdigest()[:4]
    return 'nfs-%s-%s' % (cleaned[:6] or 'net', digest)


def unit_marker(network_name: str) -> str:
    """The line that says which network a shim unit belongs to (absent removes only its own)."""
    return '# Managed by netfleet.docker.macvlan_net: host shim for the macvlan network %s.' % network_name


def unit_name(shim_name: str) -> str:
    return 'netfleet-shim-%s.service' % shim_name


def ipv4_pool(pools: Sequence[Mapping[str, Any]]) -> Optional[Mapping[str, Any]]:
    found = [pool for pool in pools if not ipam.pool_is_ipv6(pool)]
    return found[0] if len(found) == 1 else None


def shim_address_problems(address: str, pool: Mapping[str, Any], owner: str) -> List[str]:
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


def choose_shim_address(pool: Mapping[str, Any], taken: Sequence[Optional[str]] = ()) -> Optional[str]:
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

    def view(self) -> Dict[str, Any]:
        return dict(interface=self.name, parent=self.parent, mode='bridge', address='%s/32' % self.address,
                    routes=list(self.routes), unit=unit_name(self.name))

    def unit_text(self, ip_binary: str, network_name: str) -> str:
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


def shim_runtime(run: Runner, name: str) -> Optional[Dict[str, Any]]:
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


# -- planning: the address, the spec, the step ------------------------------------------------------

def plan_shim_spec(params: Mapping[str, Any], pools: Sequence[Mapping[str, Any]], owner: str,
                   existing: Optional[Mapping[str, Any]],
                   taken: Callable[[], List[str]]) -> Tuple['ShimSpec', Dict[str, str]]:
    """The ShimSpec and the aux reservation {subnet: address} for it; PlanningError when impossible.

    ``taken`` lists the addresses of the network's endpoints (read only when an address is chosen).
    """
    pool = ipv4_pool(pools)
    if pool is None:
        raise PlanningError('%s: host_shim needs exactly one IPv4 subnet in ipam.config; add one' % owner)
    if not pool.get('ip_range'):
        raise PlanningError('%s: host_shim routes the containers\' ip_range through the shim, and subnet %s has none; '
                            'give ip_range (this host\'s slice of the subnet, e.g. %s)'
                            % (owner, pool['subnet'], _example_slice(pool['subnet'])))
    shim = params['host_shim']
    if shim.get('address'):
        address = _requested_address(shim['address'], pool, owner)
    else:
        address = _chosen_address(pool, owner, existing, taken)
    name = shim.get('name') or default_shim_name(params['name'])
    spec = ShimSpec(name, params['parent'], address, [pool['ip_range']], bool(params.get('promiscuous')))
    return spec, {pool['subnet']: address}


def _requested_address(text: str, pool: Mapping[str, Any], owner: str) -> str:
    try:
        address = str(ipam.parse_address(text, owner, 'host_shim.address'))
    except ipam.IpamError as exc:
        raise PlanningError(str(exc))
    problems = shim_address_problems(address, pool, owner)
    given_aux = (pool.get('aux_addresses') or {}).get(SHIM_AUX_NAME)
    if given_aux and given_aux != address:
        problems.append("%s: aux_addresses['%s'] is %s but host_shim.address is %s; drop the aux address, the module "
                        "reserves the shim's address itself" % (owner, SHIM_AUX_NAME, given_aux, address))
    if problems:
        raise PlanningError(problems)
    return address


def _chosen_address(pool, owner, existing, taken) -> str:
    """Keep the address the network already reserves for the shim, else the highest free one."""
    given_aux = (pool.get('aux_addresses') or {}).get(SHIM_AUX_NAME)
    address = given_aux or _existing_shim_address(existing, pool)
    used = taken() if existing is not None else []
    if address is None or address in used or shim_address_problems(address, pool, owner):
        address = choose_shim_address(pool, used)
    if address is None:
        raise PlanningError('%s: no address is left in subnet %s outside ip_range %s for the host shim; shrink ip_range'
                            % (owner, pool['subnet'], pool['ip_range']))
    return address


def _example_slice(subnet):
    net = ipam.netaddr.IPNetwork(subnet)
    prefix = min(net.prefixlen + 4, 30 if net.version == 4 else 126)
    return str(next(net.subnet(prefix), net).cidr)


def _existing_shim_address(existing, pool):
    if existing is None:
        return None
    for config in (existing.get('IPAM') or {}).get('Config') or []:
        if ipam.canonical_network(config.get('Subnet')) == pool['subnet']:
            value = (config.get('AuxiliaryAddresses') or {}).get(SHIM_AUX_NAME)
            return ipam.canonical_address(value) if value else None
    return None


@dataclass(frozen=True)
class ShimChange:
    """What applying a shim step does: install (unit_text given) or remove the shim."""

    name: str
    unit_path: str
    unit_text: Optional[str] = None
    old_text: Optional[str] = None


def unit_path_for(shim_name: str, unit_dir: str = UNIT_DIR) -> str:
    return os.path.join(unit_dir, unit_name(shim_name))


def read_shim_state(run: Runner, name: str, unit_path: str) -> Dict[str, Any]:
    """What exists of a shim: the interface (runtime), the unit file and whether it is enabled."""
    enabled = _systemctl(run, 'is-enabled', os.path.basename(unit_path))[1].strip()
    return dict(runtime=shim_runtime(run, name), unit_text=files.read_text(unit_path), enabled=enabled == 'enabled')


def shim_view(state: Mapping[str, Any]) -> Dict[str, Any]:
    runtime = state['runtime'] or {}
    view = dict((key, runtime.get(key)) for key in RUNTIME_KEYS)
    view['unit'] = 'enabled' if state['enabled'] else ('present' if state['unit_text'] is not None else None)
    return view


def plan_shim_install(state: Mapping[str, Any], spec: 'ShimSpec', unit_path: str, unit_text: str, owner: str) -> Step:
    """The shim step of a present network: created, changed or unchanged, with what differs."""
    runtime = state['runtime']
    if runtime is not None and runtime.get('kind') != 'macvlan':
        raise PlanningError("%s: host_shim name '%s' is an existing %s interface that this module did not create; "
                            "choose another name" % (owner, spec.name, runtime.get('kind') or 'physical'))
    before = shim_view(state)
    after = spec.view()
    after['unit'] = 'enabled'
    differs = [key for key in RUNTIME_KEYS if before.get(key) != after[key]]
    if runtime is not None and not runtime.get('up'):
        differs.append('up')
    if state['unit_text'] != unit_text:
        differs.append('unit_file')
    if not state['enabled']:
        differs.append('unit_enabled')
    action = UNCHANGED if not differs else ('created' if runtime is None and state['unit_text'] is None else 'changed')
    return Step(name='shim %s' % spec.name, action=action, before=before, after=after, changes=tuple(differs),
                details=dict(interface=spec.name, address=spec.address, routes=spec.routes, unit=unit_path),
                payload=ShimChange(spec.name, unit_path, unit_text, state['unit_text']))


def plan_shim_removal(state: Mapping[str, Any], network_name: str, shim_name: str, unit_path: str,
                      named_by_task: bool) -> Optional[Step]:
    """The shim step of an absent network: removed when the shim is this network's, else none."""
    if not _owned(state, network_name, named_by_task):
        return None
    return Step(name='shim %s' % shim_name, action='removed', before=shim_view(state), after={}, changes=('removed',),
                details=dict(interface=shim_name, unit=unit_path), payload=ShimChange(shim_name, unit_path))


def _owned(state, network_name, named_by_task):
    """Whether absent may remove this shim: its unit names this network, or the task names the shim itself."""
    if state['unit_text'] is not None:
        return unit_marker(network_name) in state['unit_text'].splitlines()
    runtime = state['runtime']
    return runtime is not None and runtime.get('kind') == 'macvlan' and named_by_task


# -- applying ---------------------------------------------------------------------------------------

def install_shim(run: Runner, change: ShimChange) -> None:
    """Write the unit (when it differs), enable it and restart it: the unit rebuilds the shim exactly."""
    unit = os.path.basename(change.unit_path)
    if change.unit_text != change.old_text:
        files.write_atomic(change.unit_path, change.unit_text, mode=0o644)
        _check(run, ['daemon-reload'])
    _check(run, ['enable', unit])
    # restart: ExecStartPre removes a stale interface, so the shim is rebuilt exactly from the unit
    _check(run, ['restart', unit])


def remove_shim(run: Runner, change: ShimChange) -> None:
    unit = os.path.basename(change.unit_path)
    if os.path.exists(change.unit_path):
        _systemctl(run, 'disable', '--now', unit)
        files.remove_durably(change.unit_path)
        _check(run, ['daemon-reload'])
    if hostnet.link(run, change.name) is not None:
        rc, out, err = run(['ip', 'link', 'del', change.name])
        if rc != 0:
            raise HostError('cannot remove the host shim %s: %s' % (change.name, (err or out).strip()))


def _systemctl(run, *args):
    return run(['systemctl'] + list(args))


def _check(run, args):
    rc, out, err = _systemctl(run, *args)
    if rc != 0:
        raise HostError('systemctl %s failed: %s' % (' '.join(args), (err or out).strip()))


# -- the shim of a network that another module removes (docker_net) --------------------------------

UNIT_PREFIX = 'netfleet-shim-'
UNIT_SUFFIX = '.service'


def reserved_shim_address(network: Optional[Mapping[str, Any]]) -> Optional[str]:
    """The address an inspected macvlan network reserves for a netfleet shim (aux ``host-shim``), or None."""
    if not network or network.get('Driver') != 'macvlan':
        return None
    for config in (network.get('IPAM') or {}).get('Config') or []:
        value = (config.get('AuxiliaryAddresses') or {}).get(SHIM_AUX_NAME)
        if value:
            return ipam.canonical_address(value)
    return None


def shims_of_network(network: Mapping[str, Any], unit_dir: str = UNIT_DIR) -> List[Tuple[str, str]]:
    """(interface, unit path) of each shim unit this host has for an inspected network.

    A unit is the network's when its first line names the network and it gives the shim the
    address the network reserves for it: a network of the same name on another engine
    (docker_host) reserves another address or none, so its removal leaves this host's shim alone.
    """
    address = reserved_shim_address(network)
    if address is None or not os.path.isdir(unit_dir):
        return []
    found = []
    for entry in sorted(os.listdir(unit_dir)):
        if not (entry.startswith(UNIT_PREFIX) and entry.endswith(UNIT_SUFFIX)):
            continue
        path = os.path.join(unit_dir, entry)
        text = files.read_text(path) or ''
        if unit_marker(network['Name']) in text.splitlines() and ' addr add %s/32 dev ' % address in text:
            found.append((entry[len(UNIT_PREFIX):-len(UNIT_SUFFIX)], path))
    return found


def removals_with_network(run: Runner, network: Optional[Mapping[str, Any]],
                          unit_dir: str = UNIT_DIR) -> Tuple[List[ShimChange], List[Dict[str, Any]]]:
    """The shim removals that go with removing this network, and how to report each one.

    The shim belongs to its network whichever module removes the network: without this, the
    interface, its route and the enabled unit outlive the network and a later macvlan_net
    removal finds only the shim.
    """
    changes, reports = [], []
    for name, path in shims_of_network(network or {}, unit_dir):
        state = read_shim_state(run, name, path)
        changes.append(ShimChange(name, path))
        reports.append(dict(interface=name, unit=path, action='removed', before=shim_view(state)))
    return changes, reports
