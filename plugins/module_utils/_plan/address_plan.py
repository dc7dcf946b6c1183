# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet address planning: stable, disjoint subnets for every host's networks, bip, local pools
and the swarm pool, carved out of declared supernets.

The fleet is the source of truth: what each host already has (claims read back from it, see
claims.py) is kept first; a state (a dict kept in a file on the controller) is only a cache for
what the fleet cannot tell: hosts that could not be read, allocations not applied yet, hosts
that left (they keep their reservations until released, so a host that comes back gets its old
subnets). Hosts are planned in sorted order, so new allocations never depend on inventory order,
and an allocation once made is reused as long as it is valid: adding or removing hosts never
renumbers anyone.

Allocation is integer arithmetic over sorted intervals (no per-address objects), which keeps
10,000 hosts x 8 networks well under a second.
"""

from __future__ import annotations

import bisect
import json
import os
import socket
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence, Set, Tuple

from ansible_collections.netfleet.docker.plugins.module_utils._common import files
from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import HostError, PlanningError
from ansible_collections.netfleet.docker.plugins.module_utils._network import ipam
from ansible_collections.netfleet.docker.plugins.module_utils._plan import claims as fleet

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
# The plan slot of the swarm's ingress network (one per fleet, like the swarm pool).
INGRESS_KEY = fleet.INGRESS_KEY


class PlanError(PlanningError):
    """The declared fleet cannot be planned (bad declarations, or the address space is exhausted)."""


class _Space:
    """Free-space allocator over one family: sorted, disjoint, merged used intervals of integers.

    Merging adjacent reservations keeps the list short (sequential allocations collapse into
    one interval), so lookups and inserts stay cheap for tens of thousands of subnets.
    """

    def __init__(self):
        self.starts = []
        self.ends = []

    def overlapping(self, first: int, last: int) -> Optional[int]:
        """Index of a used interval that overlaps [first, last], or None."""
        index = bisect.bisect_right(self.starts, last) - 1
        if index >= 0 and self.ends[index] >= first:
            return index
        return None

    def reserve(self, first: int, last: int) -> None:
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

    def next_free(self, lower: int, upper: int, size: int, cursor: int) -> Optional[int]:
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


def _cidr(version, first, prefix):
    if version == 4:
        return '%s/%d' % (socket.inet_ntop(socket.AF_INET, first.to_bytes(4, 'big')), prefix)
    return '%s/%d' % (socket.inet_ntop(socket.AF_INET6, first.to_bytes(16, 'big')), prefix)


class Planner:
    def __init__(self, supernets: List[Tuple[str, str]], excludes: Sequence[Tuple[str, str]] = (),
                 avoid_docker_defaults: bool = True) -> None:
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

    def supernet(self, name: str) -> Any:
        for candidate, network in self.supernets:
            if candidate == name:
                return network
        raise PlanError("no supernet named '%s'; declared: %s. Name one of those, or declare '%s' under supernets"
                        % (name, ', '.join(n for n, _net in self.supernets), name))

    def claim(self, cidr: str, supernet_name: str) -> bool:
        """Re-reserve a previous allocation; False when it is no longer valid (moved out or now excluded)."""
        version, first, last, _prefix = fleet.interval(cidr)
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

    def allocate(self, prefix: int, owner: str, supernet_name: str) -> str:
        if supernet_name not in self.bounds:
            self.supernet(supernet_name)
        version, s_first, s_last, s_prefix = self.bounds[supernet_name]
        bits = 32 if version == 4 else 128
        if prefix < s_prefix or prefix > bits:
            raise PlanError('%s: a /%d cannot come from supernet %s (%s); give a prefix from /%d to /%d, or a larger '
                            'supernet' % (owner, prefix, supernet_name, self.supernet(supernet_name), s_prefix, bits))
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


class _Exhausted(PlanningError):
    """No free block of this size is left in a supernet (collected into one PlanError by the caller)."""

    def __init__(self, supernet_name, prefix):
        self.supernet_name = supernet_name
        self.prefix = prefix
        super().__init__('supernet %s has no free /%d left' % (supernet_name, prefix))


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


class Slot(NamedTuple):
    """One subnet the plan needs: state key ('host/network'), who it is for (messages), its size and source."""

    key: str
    owner: str
    prefix: int
    supernet: str
    size: Optional[int] = None   # pools: the prefix the engine cuts from them


def plan(spec: Mapping[str, Any], state: Optional[Mapping[str, Any]] = None) -> Tuple[dict, dict, dict]:
    """Compute the fleet plan.

    spec keys: supernets {name: cidr}; exclude [{cidr, reason}]; hosts [name];
    host_exclude {host: [cidr]}; networks [{name, prefix, supernet}]; bip {prefix, supernet} or None;
    address_pools {prefix, size, supernet} or None; swarm_pool {prefix, size, supernet} or None;
    ingress {prefix, supernet} or None (the swarm's ingress network, one for the fleet);
    avoid_docker_defaults bool; release [host] (drop reservations of hosts that left);
    claims {host: {bip, address_pools, networks}} and swarm_claims [{cluster_id, default_addr_pool,
    subnet_size, hosts}] read back from the fleet; unread {host: reason}; allocate bool (False: claim only);
    state_file (named in messages).
    Returns (plan, new_state, report).
    """
    previous = dict((state or {}).get('allocations') or {})
    planner = Planner(list((spec.get('supernets') or {}).items()),
                      [(item.get('reason') or item['cidr'], item['cidr']) for item in spec.get('exclude') or []],
                      spec.get('avoid_docker_defaults', True))
    hosts = sorted(spec.get('hosts') or [])   # inventory order decides nothing
    networks = list(spec.get('networks') or [])
    released = set(spec.get('release') or [])
    _check_declarations(hosts, networks, released)
    slots = _slots(spec, hosts, networks)
    held = _check_claims(spec, previous)
    _reserve_host_ranges(planner, spec.get('host_exclude') or {})

    # 1. Keep what the fleet has, 2. then the cache's still valid allocations, 3. keep reservations of
    # hosts that left (unless released), 4. allocate the rest (when allowed and safe).
    result, moved = _claim_fleet(planner, slots, held)
    from_fleet = dict(result)
    cached, cache_moved = _claim_previous(planner, [slot for slot in slots if slot.key not in result], previous)
    result.update(cached)
    wanted_keys = set(slot.key for slot in slots)
    kept_foreign = _keep_absent_hosts(planner, previous, wanted_keys, released)
    _check_allocation_allowed(spec, slots, result, previous)
    _allocate_rest(planner, slots, result)

    allocations = dict(kept_foreign)
    allocations.update(result)
    new_state = dict(version=STATE_VERSION, allocations=dict(sorted(allocations.items())))
    report = dict(
        new=sorted(key for key in result if key not in previous and key not in from_fleet),
        kept=sorted(key for key in result if key in previous and previous[key] == result[key]),
        moved=sorted(set(moved) | set(cache_moved)),
        claimed=sorted(from_fleet),
        corrected=sorted(key for key in from_fleet if key in previous and previous[key] != from_fleet[key]),
        unread=dict(sorted((spec.get('unread') or {}).items())),
        reserved_for_absent_hosts=sorted(kept_foreign),
        released=sorted(key for key in previous if key.split('/', 1)[0] in released and key not in wanted_keys),
    )
    return _fleet_plan(spec, hosts, networks, result), new_state, report


def _check_claims(spec: Mapping[str, Any], previous: Mapping[str, str]) -> List[fleet.Claim]:
    """The fleet's claims, refused when two owners hold one subnet or the cache contradicts the fleet."""
    held = fleet.fleet_claims(spec)
    stale = fleet.cache_conflicts(previous, held, spec.get('state_file'))
    problems = [problem for problem in [fleet.two_swarms(spec.get('swarm_claims') or [], spec)] + fleet.conflicts(held)
                if problem]
    if problems or stale:
        fixes = ['move one of them by hand (daemon.json, the network)'] if problems else []
        if stale:
            fixes.append('delete the stale state file (the fleet is the source of truth, the file only a cache)')
        raise PlanError('the fleet contradicts itself, nothing was planned or changed: %s. Each subnet must have one '
                        'holder: %s' % ('; '.join(problems + stale), ', or '.join(fixes)), conflicts=problems + stale)
    return held


def _fits(planner: Planner, slot: Slot, claim: fleet.Claim) -> bool:
    """A claim fills its slot when it has the slot's size (and pool split), lies in the slot's supernet
    and nothing excluded overlaps it."""
    version, first, last, prefix = fleet.interval(claim.cidr)
    s_version, s_first, s_last, _s_prefix = planner.bounds[slot.supernet]
    if prefix != slot.prefix or (slot.size is not None and claim.prefix_size not in (None, slot.size)):
        return False
    if version != s_version or first < s_first or last > s_last:
        return False
    return planner.spaces[version].overlapping(first, last) is None


def _claim_fleet(planner: Planner, slots: List[Slot], held: Sequence[fleet.Claim]) -> Tuple[Dict[str, str], List[str]]:
    """Slots the fleet already fills; every held subnet is then kept out of new allocations."""
    by_slot = fleet.slot_claims(held)
    result, moved = {}, []
    for slot in slots:
        planner.supernet(slot.supernet)   # an undeclared supernet is named before anything else
        candidates = by_slot.get(slot.key) or []
        fitting = [claim for claim in candidates if _fits(planner, slot, claim)
                   and not (slot.key == INGRESS_KEY and _inside_another_slot(claim, held))]
        if fitting:
            result[slot.key] = fitting[0].cidr
        elif candidates:
            moved.append(slot.key)
            if slot.key == 'fleet/swarm_pool':
                raise _swarm_pool_fixed(planner, slot, candidates[0])
    for claim in held:
        version, first, last, _prefix = fleet.interval(claim.cidr)
        planner.spaces[version].reserve(first, last)
    return result, moved


def _inside_another_slot(claim: fleet.Claim, held: Sequence[fleet.Claim]) -> bool:
    """Swarm init puts the ingress network in the first subnet of its pool: an ingress held there overlaps a pool
    the plan hands out, so it does not fill the ingress slot (the overlay role moves it to its own subnet)."""
    return any(other.key not in (None, claim.key) and fleet.overlap(claim.cidr, other.cidr) for other in held)


def _swarm_pool_fixed(planner: Planner, slot: Slot, claim: fleet.Claim) -> PlanError:
    return PlanError('%s has default_addr_pool %s with subnet size %s, fixed at swarm init; the plan asks for a /%d '
                     'with subnet size %d from supernet %s (%s). Nothing was changed: declare fleet_plan_swarm_pool '
                     'to match the swarm (prefix %d, size %s, a supernet holding it), or drop it'
                     % (claim.owner, claim.cidr, claim.prefix_size, slot.prefix, slot.size, slot.supernet,
                        planner.supernet(slot.supernet), fleet.interval(claim.cidr)[3], claim.prefix_size))


def _check_allocation_allowed(spec: Mapping[str, Any], slots: List[Slot], result: Mapping[str, str],
                              previous: Mapping[str, str]) -> None:
    """New subnets only when nobody the run should know about is unknown: hosts that could not be read
    back and have nothing in the cache may hold any subnet. With allocate=false (sliced runs) nothing new."""
    missing = [slot.key for slot in slots if slot.key not in result]
    if not missing:
        return
    if not spec.get('allocate', True):
        raise PlanError('%d subnet(s) have no holder on the fleet and no cached allocation (%s), and allocation is '
                        'off (fleet_plan_allocate: false, for sliced or limited runs that do not see the whole '
                        'fleet). Nothing was changed: run the plan once over the whole fleet to allocate them'
                        % (len(missing), ', '.join(missing[:10]) + (' ...' if len(missing) > 10 else '')))
    cached_hosts = set(key.split('/', 1)[0] for key in previous)
    blind = dict((host, reason) for host, reason in (spec.get('unread') or {}).items() if host not in cached_hosts)
    if blind:
        raise PlanError('cannot allocate %d new subnet(s) (%s): what %s hold(s) could not be read back (%s) and the '
                        'state file has nothing for them, so a new subnet could be one they already use. Nothing was '
                        'changed: bring them back, or release them (fleet_plan_release) if they left for good'
                        % (len(missing), ', '.join(missing[:10]), ', '.join(sorted(blind)),
                           '; '.join('%s: %s' % item for item in sorted(blind.items()))))


def _check_declarations(hosts: List[str], networks: List[Mapping[str, Any]], released: Set[str]) -> None:
    if len(set(hosts)) != len(hosts):
        duplicates = sorted(set(h for h in hosts if hosts.count(h) > 1))
        raise PlanError('hosts listed twice: %s; list each host once' % ', '.join(duplicates))
    if released & set(hosts):
        raise PlanError('release (fleet_plan_release) names hosts still in the run: %s; a host is released once it '
                        'has left the fleet: remove it from the inventory first' % ', '.join(sorted(released & set(hosts))))
    names = [net['name'] for net in networks]
    if len(set(names)) != len(names):
        duplicates = sorted(set(n for n in names if names.count(n) > 1))
        raise PlanError("network %s declared twice; declare each network once" % ', '.join("'%s'" % d for d in duplicates))
    for reserved in ('bip', 'address_pool', 'swarm_pool', 'ingress'):
        if reserved in names:
            raise PlanError("network name '%s' is reserved by the planner; rename the network" % reserved)


def _slots(spec: Mapping[str, Any], hosts: List[str], networks: List[Mapping[str, Any]]) -> List[Slot]:
    """Every subnet the plan needs, in allocation order (the swarm pool, then host by host)."""
    slots = []
    if spec.get('swarm_pool'):
        pool = spec['swarm_pool']
        slots.append(Slot('fleet/swarm_pool', 'swarm pool', pool['prefix'], pool['supernet'], pool['size']))
    if spec.get('ingress'):
        slots.append(Slot(INGRESS_KEY, 'swarm ingress network', spec['ingress']['prefix'], spec['ingress']['supernet']))
    for host in hosts:
        if spec.get('bip'):
            slots.append(Slot('%s/bip' % host, 'bip of %s' % host, spec['bip']['prefix'], spec['bip']['supernet']))
        if spec.get('address_pools'):
            pool = spec['address_pools']
            slots.append(Slot('%s/address_pool' % host, 'address pool of %s' % host, pool['prefix'], pool['supernet'],
                              pool['size']))
        for net in networks:
            slots.append(Slot('%s/%s' % (host, net['name']), "network '%s' on %s" % (net['name'], host),
                              net['prefix'], net['supernet']))
    return slots


def _reserve_host_ranges(planner: Planner, host_exclude: Mapping[str, List[str]]) -> None:
    """Host routes/addresses: a host's own networks must avoid them; other hosts may reuse the
    space, but a fleet plan is simpler and safer when nobody uses it."""
    for _host, cidrs in sorted(host_exclude.items()):
        for cidr in cidrs:
            network = netaddr.IPNetwork(str(cidr))
            planner.spaces[network.version].reserve(network.first, network.last)


def _claim_previous(planner: Planner, slots: List[Slot], previous: Mapping[str, str]) -> Tuple[Dict[str, str], List[str]]:
    """Previous allocations still valid for their slot (same size, inside the supernet, free): kept."""
    result, moved = {}, []
    for slot in slots:
        cidr = previous.get(slot.key)
        if cidr and fleet.interval(cidr)[3] == slot.prefix and planner.claim(cidr, slot.supernet):
            result[slot.key] = cidr
        elif cidr:
            moved.append(slot.key)
    return result, moved


def _keep_absent_hosts(planner: Planner, previous: Mapping[str, str], wanted_keys: Set[str],
                       released: Set[str]) -> Dict[str, str]:
    """Reservations of hosts not in this run stay reserved, so a host that comes back keeps its subnets."""
    kept = {}
    for key, cidr in sorted(previous.items()):
        if key in wanted_keys or key.split('/', 1)[0] in released:
            continue
        version, first, last, _prefix = fleet.interval(cidr)
        if planner.spaces[version].overlapping(first, last) is None:
            planner.spaces[version].reserve(first, last)
            kept[key] = cidr
    return kept


def _allocate_rest(planner: Planner, slots: List[Slot], result: Dict[str, str]) -> None:
    """Allocate every slot not kept; on shortage, one error that sizes every missing block."""
    shortages: Dict[Tuple[str, int], int] = {}
    for slot in slots:
        if slot.key in result:
            continue
        try:
            result[slot.key] = planner.allocate(slot.prefix, slot.owner, slot.supernet)
        except _Exhausted as exc:
            shortages[(exc.supernet_name, exc.prefix)] = shortages.get((exc.supernet_name, exc.prefix), 0) + 1
    if shortages:
        raise _shortage_error(planner, slots, shortages)


def _shortage_error(planner: Planner, slots: List[Slot], shortages: Mapping[Tuple[str, int], int]) -> PlanError:
    details = []
    for (supernet_name, prefix), missing in sorted(shortages.items()):
        needed = sum(1 for slot in slots if slot.prefix == prefix and slot.supernet == supernet_name)
        details.append('supernet %s (%s) needs %d more /%d (wanted %d, %d fit; free now: %d)'
                       % (supernet_name, planner.supernet(supernet_name), missing, prefix, needed, needed - missing,
                          _free_blocks(planner, supernet_name, prefix)))
    return PlanError('address space exhausted: %s; declare a larger or another supernet, use smaller prefixes, '
                     'or release hosts that left' % '; '.join(details))


def _fleet_plan(spec: Mapping[str, Any], hosts: List[str], networks: List[Mapping[str, Any]],
                result: Mapping[str, str]) -> dict:
    """What hosts are given: per host its networks, bip (the first address) and local pool; the swarm pool and
    the ingress network's subnet (None when not planned)."""
    fleet_plan = dict(hosts={}, swarm=None, ingress=result.get(INGRESS_KEY))
    if spec.get('swarm_pool'):
        fleet_plan['swarm'] = dict(default_addr_pool=[result['fleet/swarm_pool']], subnet_size=spec['swarm_pool']['size'])
    for host in hosts:
        entry = dict(networks=dict((net['name'], result['%s/%s' % (host, net['name'])]) for net in networks))
        if spec.get('bip'):
            version, first, _last, prefix = fleet.interval(result['%s/bip' % host])
            entry['bip'] = _cidr(version, first + 1, prefix)
        if spec.get('address_pools'):
            entry['default_address_pools'] = [dict(base=result['%s/address_pool' % host], size=spec['address_pools']['size'])]
        fleet_plan['hosts'][host] = entry
    return fleet_plan


class StateError(HostError):
    """The state file cannot be read as an address plan state; deleting it would renumber the fleet."""


def load_state(path: str) -> dict:
    """The saved allocations, {} when the file does not exist yet."""
    if not os.path.exists(path):
        return {}
    try:
        with open(path) as handle:
            state = json.load(handle)
    except (OSError, ValueError) as exc:
        raise StateError('cannot read the address plan state %s: %s; fix or restore the file (it holds every '
                         'allocation made so far, deleting it renumbers the fleet)' % (path, exc))
    if not isinstance(state, dict) or state.get('version') != STATE_VERSION:
        raise StateError('%s is not an address plan state of version %d; restore it from a backup' % (path, STATE_VERSION))
    return state


def render_state(state: Mapping[str, Any]) -> str:
    return json.dumps(state, indent=1, sort_keys=True) + '\n'


def write_state(path: str, state: Mapping[str, Any]) -> None:
    """Durable atomic write, so an interrupted run never leaves half a plan. Kept private to its
    owner (0600), as before: it maps every host of the fleet."""
    files.write_atomic(path, render_state(state), mode=0o600, make_dirs=True)
