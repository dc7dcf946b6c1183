# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the fleet already has, as claims on the address plan.

The fleet is the source of truth: each host's ``bip`` and ``default-address-pools`` (its
daemon.json), the subnets of the networks the plan declares (read from its engine) and the
swarm's default address pool (read on a manager) are claimed for their owners before anything
is allocated. The state file is only a cache for what the fleet cannot tell (hosts that could
not be read, allocations not applied yet).

A claim that maps to a slot of the plan (the bip when the plan gives bips, a declared network,
...) must not overlap anything another owner has: two hosts holding one subnet, or a cache that
gives host A a subnet host B holds, are refused with both named, before anything is written.
Claims of things the plan does not manage (a pool every host shares, set by hand) are only kept
out of new allocations.
"""

from __future__ import annotations

import socket
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

# Docker's own swarm pool when none was given at init: most fleets plan inside it, so it is
# neither reserved nor compared (see address_plan.DOCKER_DEFAULT_RANGES).
DOCKER_DEFAULT_SWARM_POOL = '10.0.0.0/8'
INGRESS_KEY = 'fleet/ingress'


class Claim(NamedTuple):
    """One subnet an owner holds. key: the plan slot it fills ('host/bip', 'fleet/swarm_pool') or None."""

    owner: str
    what: str
    cidr: str
    key: Optional[str]
    prefix_size: Optional[int] = None   # the engine's split size, for pools


def interval(cidr: str) -> Tuple[int, int, int, int]:
    """(version, first, last, prefix) of a CIDR; host bits are dropped (a bip is given as its gateway)."""
    address, _sep, prefix_text = str(cidr).partition('/')
    if ':' in address:
        version, bits, packed = 6, 128, socket.inet_pton(socket.AF_INET6, address)
    else:
        version, bits, packed = 4, 32, socket.inet_pton(socket.AF_INET, address)
    prefix = int(prefix_text) if prefix_text else bits
    first = int.from_bytes(packed, 'big') & ~((1 << (bits - prefix)) - 1)
    return version, first, first + (1 << (bits - prefix)) - 1, prefix


def network_of(cidr: str) -> str:
    """The canonical network of an address/prefix (10.65.0.1/26 -> 10.65.0.0/26)."""
    version, first, _last, prefix = interval(cidr)
    family, length = (socket.AF_INET, 4) if version == 4 else (socket.AF_INET6, 16)
    return '%s/%d' % (socket.inet_ntop(family, first.to_bytes(length, 'big')), prefix)


def overlap(first: str, second: str) -> bool:
    a_version, a_first, a_last, _a = interval(first)
    b_version, b_first, b_last, _b = interval(second)
    return a_version == b_version and a_first <= b_last and b_first <= a_last


def host_claims(host: str, held: Mapping[str, Any], spec: Mapping[str, Any]) -> List[Claim]:
    """Claims of one host from its read-back: bip, address pools, declared networks' subnets."""
    claims = []
    if held.get('bip'):
        claims.append(Claim(host, 'bip in daemon.json', network_of(held['bip']),
                            '%s/bip' % host if spec.get('bip') else None))
    pool_key = '%s/address_pool' % host if spec.get('address_pools') else None
    for pool in held.get('address_pools') or []:
        claims.append(Claim(host, 'default-address-pools in daemon.json', network_of(pool['base']), pool_key,
                            pool.get('size')))
    declared = set(net['name'] for net in spec.get('networks') or [])
    for name, subnets in sorted((held.get('networks') or {}).items()):
        key = '%s/%s' % (host, name) if name in declared else None
        for subnet in subnets or []:
            claims.append(Claim(host, "network '%s'" % name, network_of(subnet), key))
    return claims


def two_swarms(swarms: Sequence[Mapping[str, Any]], spec: Mapping[str, Any]) -> Optional[str]:
    """One plan gives one swarm pool: hosts of two swarms cannot share it."""
    if not spec.get('swarm_pool') or len(swarms) < 2:
        return None
    return ('the fleet has hosts in %d swarms (%s); one plan gives one swarm pool: make every host a member of '
            'one swarm (or leave the others) first'
            % (len(swarms), '; '.join('cluster %s on %s' % (s.get('cluster_id'), ', '.join(s.get('hosts') or []))
                                      for s in swarms)))


def swarm_claims(swarms: Sequence[Mapping[str, Any]], spec: Mapping[str, Any]) -> List[Claim]:
    """Each swarm's pool, read on a manager (Docker's default 10.0.0.0/8 is left out), and its ingress network's
    subnets (``ingress``, read where the plan gives the ingress a subnet)."""
    planned = bool(spec.get('swarm_pool'))
    claims = []
    for swarm in swarms:
        owner = 'swarm %s (read on %s)' % (swarm.get('cluster_id'), ', '.join(swarm.get('hosts') or []) or '?')
        for pool in swarm.get('default_addr_pool') or []:
            if network_of(pool) == DOCKER_DEFAULT_SWARM_POOL:
                continue
            claims.append(Claim(owner, 'swarm default_addr_pool', network_of(pool),
                                'fleet/swarm_pool' if planned else None, swarm.get('subnet_size')))
        # Same owner as the pool: swarm init puts the ingress inside its pool, which is no conflict.
        for subnet in sorted(set(network_of(cidr) for cidr in swarm.get('ingress') or [])):
            claims.append(Claim(owner, 'ingress network', subnet, INGRESS_KEY if spec.get('ingress') else None))
    return claims


def fleet_claims(spec: Mapping[str, Any]) -> List[Claim]:
    """Every claim the spec carries (``claims`` per host, ``swarm_claims``), hosts sorted."""
    claims = []
    for host, held in sorted((spec.get('claims') or {}).items()):
        claims.extend(host_claims(host, held or {}, spec))
    claims.extend(swarm_claims(spec.get('swarm_claims') or [], spec))
    return claims


def describe(claim: Claim) -> str:
    return '%s (%s of %s)' % (claim.cidr, claim.what, claim.owner)


def conflicts(claims: Sequence[Claim]) -> List[str]:
    """Pairs of owners holding overlapping subnets, where at least one claim is the plan's."""
    found = []
    for index, claim in enumerate(claims):
        for other in claims[index + 1:]:
            if claim.owner == other.owner or (claim.key is None and other.key is None):
                continue
            if overlap(claim.cidr, other.cidr):
                found.append('%s overlaps %s' % (describe(claim), describe(other)))
    return found


def cache_conflicts(previous: Mapping[str, str], claims: Sequence[Claim], path: str) -> List[str]:
    """Cache entries that give one owner a subnet another owner holds on the fleet."""
    found = []
    for key, cidr in sorted(previous.items()):
        holder = key.split('/', 1)[0]
        for claim in claims:
            if claim.key == key or (holder != 'fleet' and claim.owner == holder):
                continue
            if holder == 'fleet' and claim.key in ('fleet/swarm_pool', INGRESS_KEY):
                continue
            if overlap(cidr, claim.cidr):
                found.append('the state file %s gives %s %s, but the fleet has %s'
                             % (path or '(cache)', key, cidr, describe(claim)))
    return found


def slot_claims(claims: Sequence[Claim]) -> Dict[str, List[Claim]]:
    """Claims per plan slot, in read order."""
    by_slot: Dict[str, List[Claim]] = {}
    for claim in claims:
        if claim.key:
            by_slot.setdefault(claim.key, []).append(claim)
    return by_slot
