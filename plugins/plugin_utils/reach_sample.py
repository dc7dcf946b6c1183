# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which probe pairs verify.yml checks: every pair (full) or a sample that grows as hosts x networks.

The sample keeps every kind of claim the full matrix makes, on every host:

1. same host, same network (reach): each probe of a network on a host pings the next one there
   (a ring of the host's probes of that network: K pairs for K >= 2 probes, none for one);
2. across hosts, same network (reach on overlays, isolated on bridges): the first probe of a network on
   each host pings the first probe of that network on the next host that has it (a ring of the
   network's hosts, sorted by name: one pair per host when two or more hosts have it);
3. different networks (isolation), for every ordered pair of networks (A, B) on every host that has
   A: A's first probe pings B's first probe on the same host, and B's first probe on the next host
   (after this one) that has B.

With H hosts that all have the same N networks and K probes per network and host (K >= 2, H >= 2),
the sample has exactly ``H * N * (K + 1 + 2 * (N - 1))`` pairs: H*N*(2N+1) with the default K = 2.
The full matrix has P * (P - 1) pairs for P = H*N*K probes: at 100 hosts and 3 networks, 2,100
pairs instead of 359,400.
"""

from __future__ import annotations

FULL = 'full'
SAMPLE = 'sample'
MODES = (FULL, SAMPLE)


def sample_pair_count(hosts, networks, probes_per_network=2):
    """The number of pairs the sample has for a uniform fleet (see the module docstring)."""
    if hosts < 1 or networks < 1 or probes_per_network < 1:
        return 0
    same_host = probes_per_network if probes_per_network >= 2 else 0
    across = 1 if hosts >= 2 else 0
    other_networks = 2 * (networks - 1) if hosts >= 2 else networks - 1
    return hosts * networks * (same_host + across + other_networks)


def full_pair_count(hosts, networks, probes_per_network=2):
    probes = hosts * networks * probes_per_network
    return probes * (probes - 1)


def _layout(probes):
    """(host, network) -> probes sorted by id; network -> sorted hosts; sorted hosts."""
    by_place = {}
    for probe in sorted(probes, key=lambda probe: probe['id']):
        by_place.setdefault((probe['host'], probe['network']), []).append(probe)
    hosts_of = {}
    for host, network in sorted(by_place):
        hosts_of.setdefault(network, []).append(host)
    return by_place, hosts_of, sorted(set(place[0] for place in by_place))


def _next_host(hosts, host, order):
    """The first host of ``hosts`` after ``host`` in the fleet's ``order`` (wrapping), not ``host`` itself."""
    position = order.index(host)
    for step in range(1, len(order)):
        candidate = order[(position + step) % len(order)]
        if candidate in hosts:
            return candidate
    return None


def _same_network(by_place, hosts_of):
    pairs = []
    for network, hosts in sorted(hosts_of.items()):
        for index, host in enumerate(hosts):
            local = by_place[(host, network)]
            if len(local) >= 2:
                pairs += [(probe, local[(number + 1) % len(local)]) for number, probe in enumerate(local)]
            if len(hosts) >= 2:
                pairs.append((local[0], by_place[(hosts[(index + 1) % len(hosts)], network)][0]))
    return pairs


def _other_networks(by_place, hosts_of, order):
    pairs = []
    for host in order:
        networks = sorted(network for place_host, network in by_place if place_host == host)
        for source_network in networks:
            source = by_place[(host, source_network)][0]
            for network, hosts in sorted(hosts_of.items()):
                if network == source_network:
                    continue
                if host in hosts:
                    pairs.append((source, by_place[(host, network)][0]))
                remote = _next_host(hosts, host, order)
                if remote is not None:
                    pairs.append((source, by_place[(remote, network)][0]))
    return pairs


def sample_pairs(probes):
    """The sampled (source, target) probe pairs, without duplicates, in a stable order."""
    by_place, hosts_of, order = _layout(probes)
    pairs = {}
    for source, target in _same_network(by_place, hosts_of) + _other_networks(by_place, hosts_of, order):
        if source['id'] != target['id']:
            pairs.setdefault((source['id'], target['id']), (source, target))
    return list(pairs.values())


def all_pairs(probes):
    ordered = sorted(probes, key=lambda probe: probe['id'])
    return [(source, target) for source in ordered for target in ordered if source is not target]
