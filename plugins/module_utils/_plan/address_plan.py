# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet address planning: stable, disjoint subnets for every host's networks, bip, local pools
and the swarm pool, carved out of declared supernets.

Stability comes from a state (a dict kept in a file on the controller): an allocation once
made is reused as long as it is still valid, so adding or removing hosts never renumbers
anyone. Hosts that leave keep their reservations until released explicitly, so a host that
comes back gets its old subnets.

Allocation is integer arithmetic over sorted intervals (no per-address objects), which keeps
10,000 hosts x 8 networks well under a second.
"""

from __future__ import annotations

import bisect
import json
import os
import socket
import tempfile

from ansible_collections.netfleet.docker.plugins.module_utils._network import ipam

try:
    import netaddr
except ImportError:  # pragma: no cover - ipam reports the missing library
    netaddr = None

# What Docker itself hands out unless told otherwise; a plan that overlaps these would
# collide with any engine still on defaults.
DOCKER_DEFAULT_RANGES = (
    ('docker default local pool', '172.17.0.0/16'),
    ('docker default local pool', '172.18.0.0/15'),
    ('docker default local pool', '172.20.0.0/14'),
    ('docker default local pool', '172.24.0.0/13'),
    ('docker default local pool', '192.168.0.0/16'),
)
# Swarm's default pool (10.0.0.0/8) is not excluded wholesale: most fleets plan inside 10/8.
# Declare swarm_pool so swarm allocates from the plan instead of its default.

STATE_VERSION = 1


class PlanError(ValueError):
    pass


class _Space:
    """Free-space allocator over one family: sorted, disjoint, merged used intervals of integers.

    Merging adjacent reservations keeps the list short (sequential allocations collapse into
    one interval), so lookups and inserts stay cheap for tens of thousands of subnets.
    """

    def __init__(self):
        self.starts = []
        self.ends = []

    def overlapping(self, first, last):
        """Index of a used interval that overlaps [first, last], or None."""
        index = bisect.bisect_right(self.starts, last) - 1
        if index >= 0 and self.ends[index] >= first:
            return index
        return None

    def reserve(self, first, last):
        index = bisect.bisect_left(self.starts, first)
        # Absorb every interval that overlaps or touches [first, last].
        low = index
        if low > 0 and self.ends[low - 1] >= first - 1:
            low -= 1
        high = index
        while high < len(self.starts) and self.starts[high] <= last + 1:
            high += 1
        if low < high:
            first = min(first, self.starts[low])
            last = max(last, *self.ends[low:high])
        self.starts[low:high] = [first]
        self.ends[low:high] = [last]

    def next_free(self, lower, upper, size, cursor):
        """First aligned block of `size` addresses in [lower, upper] at or after cursor that is free."""
        start = max(lower, cursor)
        if start % size:
            start += size - start % size
        while start + size - 1 <= upper:
            index = self.overlapping(start, start + size - 1)
            if index is None:
                return start
            start = self.ends[index] + 1
            if start % size:
                start += size - start % size
        return None


def _interval(cidr):
    """(version, first, last, prefix) of a canonical CIDR string; socket's C parser, since
    netaddr objects cost more than the whole allocation for large fleets."""
    address, _sep, prefix_text = cidr.partition('/')
    if ':' in address:
        version, bits, packed = 6, 128, socket.inet_pton(socket.AF_INET6, address)
    else:
        version, bits, packed = 4, 32, socket.inet_pton(socket.AF_INET, address)
    prefix = int(prefix_text) if prefix_text else bits
    first = int.from_bytes(packed, 'big') & ~((1 << (bits - prefix)) - 1)
    return version, first, first + (1 << (bits - prefix)) - 1, prefix


def _cidr(version, first, prefix):
    if version == 4:
        return '%s/%d' % (socket.inet_ntop(socket.AF_INET, first.to_bytes(4, 'big')), prefix)
    return '%s/%d' % (socket.inet_ntop(socket.AF_INET6, first.to_bytes(16, 'big')), prefix)


class Planner:
    def __init__(self, supernets, excludes=(), avoid_docker_defaults=True):
        if not supernets:
            raise PlanError('no supernets declared; give the fleet at least one, e.g. 10.64.0.0/12')
        self.spaces = {4: _Space(), 6: _Space()}
        self.supernets = []
        for name, cidr in supernets:
            network = ipam.parse_network(cidr, "supernet '%s'" % name)
            for other_name, other in self.supernets:
                if ipam.networks_overlap(str(network), str(other)):
                    raise PlanError("supernets '%s' (%s) and '%s' (%s) overlap; declare disjoint supernets"
                                    % (name, network, other_name, other))
            self.supernets.append((name, network))
        exclusions = list(excludes)
        if avoid_docker_defaults:
            exclusions.extend(DOCKER_DEFAULT_RANGES)
        for owner, cidr in exclusions:
            network = ipam.parse_network(cidr, "excluded range '%s'" % owner) if '/' in str(cidr) else \
                netaddr.IPNetwork(str(cidr))
            for name, supernet in self.supernets:
                if supernet.version == network.version and network.first <= supernet.first and network.last >= supernet.last:
                    raise PlanError("excluded range %s (%s) covers the whole supernet '%s' (%s); nothing can be "
                                    "allocated from it: narrow the exclusion or declare another supernet"
                                    % (network.cidr, owner, name, supernet))
            self.spaces[network.version].reserve(network.first, network.last)
        self.cursors = {}
        # Plain integers per supernet: the hot paths below must not touch netaddr objects.
        self.bounds = dict((name, (net.version, net.first, net.last, net.prefixlen)) for name, net in self.supernets)

    def supernet(self, name):
        for candidate, network in self.supernets:
            if candidate == name:
                return network
        raise PlanError("no supernet named '%s'; declared: %s" % (name, ', '.join(n for n, _net in self.supernets)))

    def claim(self, cidr, supernet_name):
        """Re-reserve a previous allocation; False when it is no longer valid (moved out or now excluded)."""
        version, first, last, _prefix = _interval(cidr)
        if supernet_name not in self.bounds:
            self.supernet(supernet_name)  # raises with the declared names
        s_version, s_first, s_last, _s_prefix = self.bounds[supernet_name]
        if s_version != version or first < s_first or last > s_last:
            return False
        space = self.spaces[version]
        if space.overlapping(first, last) is not None:
            return False
        space.reserve(first, last)
        return True

    def allocate(self, prefix, owner, supernet_name):
        if supernet_name not in self.bounds:
            self.supernet(supernet_name)
        version, s_first, s_last, s_prefix = self.bounds[supernet_name]
        bits = 32 if version == 4 else 128
        if prefix < s_prefix or prefix > bits:
            raise PlanError('%s: a /%d cannot come from supernet %s (%s)' % (owner, prefix, supernet_name, self.supernet(supernet_name)))
        size = 1 << (bits - prefix)
        key = (supernet_name, prefix)
        space = self.spaces[version]
        cursor = self.cursors.get(key, s_first)
        start = space.next_free(s_first, s_last, size, cursor)
        if start is None and cursor != s_first:
            start = space.next_free(s_first, s_last, size, s_first)
        if start is None:
            raise _Exhausted(supernet_name, prefix)
        space.reserve(start, start + size - 1)
        self.cursors[key] = start + size
        return _cidr(version, start, prefix)


class _Exhausted(Exception):
    def __init__(self, supernet_name, prefix):
        self.supernet_name = supernet_name
        self.prefix = prefix
        super().__init__(supernet_name)


def _free_blocks(planner, supernet_name, prefix):
    supernet = planner.supernet(supernet_name)
    size = 1 << ((32 if supernet.version == 4 else 128) - prefix)
    count, start = 0, supernet.first
    space = planner.spaces[supernet.version]
    while True:
        start = space.next_free(supernet.first, supernet.last, size, start)
        if start is None:
            return count
        count += 1
        start += size


def plan(spec, state=None):
    """Compute the fleet plan.

    spec keys: supernets {name: cidr}; exclude [{cidr, reason}]; hosts [name];
    host_exclude {host: [cidr]}; networks [{name, prefix, supernet}]; bip {prefix, supernet} or None;
    address_pools {prefix, size, supernet} or None; swarm_pool {prefix, size, supernet} or None;
    avoid_docker_defaults bool; release [host] (drop reservations of hosts that left).
    Returns (plan, new_state, report).
    """
    state = dict(state or {})
    previous = dict(state.get('allocations') or {})
    supernets = list((spec.get('supernets') or {}).items())
    excludes = [(item.get('reason') or item['cidr'], item['cidr']) for item in spec.get('exclude') or []]
    planner = Planner(supernets, excludes, spec.get('avoid_docker_defaults', True))

    hosts = list(spec.get('hosts') or [])
    if len(set(hosts)) != len(hosts):
        duplicates = sorted(set(h for h in hosts if hosts.count(h) > 1))
        raise PlanError('hosts listed twice: %s; list each host once' % ', '.join(duplicates))
    networks = list(spec.get('networks') or [])
    names = [net['name'] for net in networks]
    if len(set(names)) != len(names):
        duplicates = sorted(set(n for n in names if names.count(n) > 1))
        raise PlanError("network %s declared twice; declare each network once" % ', '.join("'%s'" % d for d in duplicates))
    for reserved in ('bip', 'address_pool', 'swarm_pool'):
        if reserved in names:
            raise PlanError("network name '%s' is reserved by the planner; rename the network" % reserved)

    # What each slot needs: (key, owner, prefix, supernet_name).
    wants = []
    if spec.get('swarm_pool'):
        pool = spec['swarm_pool']
        wants.append(('fleet/swarm_pool', 'swarm pool', pool['prefix'], pool['supernet']))
    for host in hosts:
        if spec.get('bip'):
            wants.append(('%s/bip' % host, 'bip of %s' % host, spec['bip']['prefix'], spec['bip']['supernet']))
        if spec.get('address_pools'):
            pool = spec['address_pools']
            wants.append(('%s/address_pool' % host, 'address pool of %s' % host, pool['prefix'], pool['supernet']))
        for net in networks:
            wants.append(('%s/%s' % (host, net['name']), "network '%s' on %s" % (net['name'], host), net['prefix'], net['supernet']))

    released = set(spec.get('release') or [])
    kept_foreign = {}
    # Host routes/addresses: a host's own networks must avoid them; other hosts may reuse the
    # space, but a fleet plan is simpler and safer when nobody uses it.
    for host, cidrs in sorted((spec.get('host_exclude') or {}).items()):
        for cidr in cidrs:
            network = netaddr.IPNetwork(str(cidr))
            planner.spaces[network.version].reserve(network.first, network.last)

    wanted_keys = set(key for key, _owner, _prefix, _supernet in wants)
    # 1. Keep previous allocations that are still valid (stability), 2. keep reservations of
    # hosts that left (unless released), 3. allocate the rest.
    result = {}
    moved = []
    for key, owner, prefix, supernet_name in wants:
        cidr = previous.get(key)
        if cidr and _interval(cidr)[3] == prefix and planner.claim(cidr, supernet_name):
            result[key] = cidr
        elif cidr:
            moved.append(key)
    for key, cidr in sorted(previous.items()):
        if key in wanted_keys or key.split('/', 1)[0] in released:
            continue
        version, first, last, _prefix = _interval(cidr)
        if planner.spaces[version].overlapping(first, last) is None:
            planner.spaces[version].reserve(first, last)
            kept_foreign[key] = cidr
    shortages = {}
    for key, owner, prefix, supernet_name in wants:
        if key in result:
            continue
        try:
            result[key] = planner.allocate(prefix, owner, supernet_name)
        except _Exhausted as exc:
            shortages.setdefault((exc.supernet_name, exc.prefix), 0)
            shortages[(exc.supernet_name, exc.prefix)] += 1
    if shortages:
        details = []
        for (supernet_name, prefix), missing in sorted(shortages.items()):
            needed = sum(1 for _key, _owner, p, s in wants if p == prefix and s == supernet_name)
            available = needed - missing
            details.append('supernet %s (%s) needs %d more /%d (wanted %d, %d fit; free now: %d)'
                           % (supernet_name, planner.supernet(supernet_name), missing, prefix, needed, available,
                              _free_blocks(planner, supernet_name, prefix)))
        raise PlanError('address space exhausted: %s; declare a larger or another supernet, use smaller prefixes, '
                        'or release hosts that left' % '; '.join(details))

    fleet_plan = dict(hosts={}, swarm=None)
    if spec.get('swarm_pool'):
        fleet_plan['swarm'] = dict(default_addr_pool=[result['fleet/swarm_pool']], subnet_size=spec['swarm_pool']['size'])
    for host in hosts:
        entry = dict(networks=dict((net['name'], result['%s/%s' % (host, net['name'])]) for net in networks))
        if spec.get('bip'):
            version, first, _last, prefix = _interval(result['%s/bip' % host])
            entry['bip'] = _cidr(version, first + 1, prefix)
        if spec.get('address_pools'):
            entry['default_address_pools'] = [dict(base=result['%s/address_pool' % host], size=spec['address_pools']['size'])]
        fleet_plan['hosts'][host] = entry

    allocations = dict(kept_foreign)
    allocations.update(result)
    new_state = dict(version=STATE_VERSION, allocations=dict(sorted(allocations.items())))
    report = dict(
        new=sorted(key for key in result if key not in previous),
        kept=sorted(key for key in result if key in previous and previous[key] == result[key]),
        moved=sorted(moved),
        reserved_for_absent_hosts=sorted(kept_foreign),
        released=sorted(key for key in previous if key.split('/', 1)[0] in released and key not in wanted_keys),
    )
    return fleet_plan, new_state, report


def load_state(path, fail):
    """The saved allocations, {} when the file does not exist yet."""
    if not os.path.exists(path):
        return {}
    try:
        with open(path) as handle:
            state = json.load(handle)
    except (OSError, ValueError) as exc:
        fail(msg='cannot read the address plan state %s: %s; fix or restore the file (it holds every '
                 'allocation made so far, deleting it renumbers the fleet)' % (path, exc))
    if not isinstance(state, dict) or state.get('version') != STATE_VERSION:
        fail(msg='%s is not an address plan state of version %d; restore it from a backup' % (path, STATE_VERSION))
    return state


def write_state(path, state):
    """Atomic write, so an interrupted run never leaves half a plan."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        os.makedirs(directory)
    handle, temp_path = tempfile.mkstemp(dir=directory, prefix='.address_plan.')
    with os.fdopen(handle, 'w') as stream:
        json.dump(state, stream, indent=1, sort_keys=True)
        stream.write('\n')
    os.rename(temp_path, path)
