# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""verify.yml's sample: pairs grow as hosts x networks, and it gives the full matrix's verdict."""

from __future__ import annotations

import time

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.netfleet.docker.plugins.filter.reachability import reach_matrix, reach_plan
from ansible_collections.netfleet.docker.plugins.plugin_utils.reach_sample import (
    full_pair_count, sample_pair_count, sample_pairs)

BRIDGES = ('demo_backend', 'demo_frontend', 'extra_bridge')


def fleet(hosts, networks=('demo_backend', 'demo_frontend', 'demo_overlay'), per_network=2, shared_subnet=False):
    """Probes as verify_probes makes them: bridges with a subnet per host (or one for all), overlays fleet-wide."""
    probes = []
    for host_number in range(1, hosts + 1):
        host = 'h%03d' % host_number
        for net_number, network in enumerate(networks, 1):
            overlay = network not in BRIDGES
            for number in range(1, per_network + 1):
                if overlay:
                    ip = '10.%d.%d.%d' % (200 + net_number, host_number // 100, (host_number % 100) * 2 + number)
                else:
                    ip = '10.%d.%d.%d' % (net_number, 0 if shared_subnet else host_number, number + 1)
                probes.append(dict(id='%s:%s/%d' % (host, network, number), host=host, network=network, ip=ip,
                                   name='nfprobe-%s-%s-%d' % (host, network, number), multi_host=overlay,
                                   fleet_dns=overlay, driver='overlay' if overlay else 'bridge',
                                   gateway_mode=None if overlay else 'nat', internal=False))
    return probes


def key(pair):
    return '%s>%s' % (pair['source'], pair['target'])


def healthy(plan, probes):
    """What a correct network shows: bridges reach within a host, overlays across hosts, names resolve with reach."""
    by_id = dict((probe['id'], probe) for probe in probes)
    seen = {}
    for pair in plan:
        source, target = by_id[pair['source']], by_id[pair['target']]
        reach = source['network'] == target['network'] and (source['host'] == target['host'] or target['multi_host'])
        shadow = any(p['host'] == source['host'] and p['network'] == source['network'] and p['ip'] == target['ip']
                     and p['id'] != target['id'] for p in probes)
        seen[key(pair)] = dict(ping=reach or shadow, dns=reach)
    return seen


@pytest.mark.parametrize('hosts,networks,per_network', [(1, 1, 2), (1, 3, 2), (2, 1, 2), (2, 2, 1), (3, 3, 2),
                                                        (8, 3, 2), (9, 3, 2), (5, 4, 3), (16, 2, 2)])
def test_the_sample_has_exactly_the_documented_number_of_pairs(hosts, networks, per_network):
    names = ('demo_backend', 'demo_frontend', 'demo_overlay', 'ov2')[:networks]
    pairs = sample_pairs(fleet(hosts, names, per_network))
    assert len(pairs) == sample_pair_count(hosts, networks, per_network)
    assert len(set((s['id'], t['id']) for s, t in pairs)) == len(pairs)
    if hosts >= 2 and per_network >= 2:
        assert len(pairs) == hosts * networks * (per_network + 1 + 2 * (networks - 1))


def test_linear_in_hosts_and_far_below_the_full_matrix():
    assert sample_pair_count(3, 3) == 63 and full_pair_count(3, 3) == 306
    assert sample_pair_count(9, 3) == 3 * sample_pair_count(3, 3)
    assert sample_pair_count(100, 3) == 2100 and full_pair_count(100, 3) == 359400
    assert full_pair_count(100, 3) / sample_pair_count(100, 3) > 100


def test_a_fleet_of_100_hosts_is_planned_quickly():
    probes = fleet(100)
    started = time.time()
    plan = reach_plan(probes, mode='sample')
    assert len(plan) == 2100
    assert time.time() - started < 5
    assert reach_matrix(plan, healthy(plan, probes), table=False)['ok']


def test_every_host_and_network_and_pair_of_networks_is_covered():
    probes = fleet(5)
    pairs = sample_pairs(probes)
    hosts = sorted(set(p['host'] for p in probes))
    networks = sorted(set(p['network'] for p in probes))
    for host in hosts:
        for network in networks:
            assert any(s['host'] == t['host'] == host and s['network'] == t['network'] == network for s, t in pairs)
            assert any(s['host'] == host and t['host'] != host and s['network'] == t['network'] == network
                       for s, t in pairs)
            assert any(t['host'] == host and s['host'] != host and s['network'] == t['network'] == network
                       for s, t in pairs)
            for other in networks:
                if other != network:
                    assert any(s['host'] == t['host'] == host and (s['network'], t['network']) == (network, other)
                               for s, t in pairs)
                    assert any(s['host'] == host and t['host'] != host and (s['network'], t['network']) == (network, other)
                               for s, t in pairs)


@pytest.mark.parametrize('shared_subnet', [False, True])
def test_the_labs_networks_pass_in_both_modes(shared_subnet):
    probes = fleet(3, shared_subnet=shared_subnet)
    for mode in ('full', 'sample'):
        plan = reach_plan(probes, mode=mode)
        result = reach_matrix(plan, healthy(plan, probes))
        assert result['ok'], (mode, result['mismatches'][:3])
    sample = dict((key(p), p) for p in reach_plan(probes, mode='sample'))
    full = dict((key(p), p) for p in reach_plan(probes))
    assert set(sample) < set(full)
    assert all(sample[k] == full[k] for k in sample), 'a sampled pair is planned exactly as in the full matrix'


def broken(seen, plan, wrong):
    """The healthy observations with ``wrong(pair)`` pairs flipped (a fault)."""
    seen = dict(seen)
    for pair in plan:
        if wrong(pair):
            before = seen[key(pair)]
            seen[key(pair)] = dict(ping=not before['ping'], dns=not before['dns'])
    return seen


FAULTS = {
    'overlay down on one host': lambda p: p['target_network'] == 'demo_overlay' and p['target_host'] == 'h003'
    and p['source_host'] != 'h003' and p['source_network'] == 'demo_overlay',
    'bridges leak on one host': lambda p: p['source_host'] == p['target_host'] == 'h002'
    and {p['source_network'], p['target_network']} == {'demo_backend', 'demo_frontend'},
    'a bridge leaks to other hosts': lambda p: p['target_network'] == 'demo_frontend' and p['target_host'] == 'h001'
    and p['source_host'] != 'h001',
    'same-host reach lost on one bridge': lambda p: p['source_host'] == p['target_host'] == 'h003'
    and p['source_network'] == p['target_network'] == 'demo_backend',
}


@pytest.mark.parametrize('fault', sorted(FAULTS))
def test_a_fault_of_one_host_fails_the_sample_as_it_fails_the_full_matrix(fault):
    probes = fleet(4)
    for mode in ('full', 'sample'):
        plan = reach_plan(probes, mode=mode)
        result = reach_matrix(plan, broken(healthy(plan, probes), plan, FAULTS[fault]))
        assert not result['ok'], mode


def test_unknown_mode_refused():
    with pytest.raises(AnsibleFilterError, match="choose one of full, sample"):
        reach_plan(fleet(1), mode='some')
