# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet address planner: disjoint, stable, exhaustion reported, bad input refused."""

from __future__ import annotations

import itertools

import netaddr
import pytest

from ansible_collections.netfleet.docker.plugins.module_utils._plan import address_plan as ap


def fleet(hosts, **extra):
    spec = dict(
        supernets={'fleet': '10.64.0.0/16', 'pools': '100.64.0.0/16'},
        exclude=[dict(cidr='10.64.0.0/20', reason='corporate')],
        hosts=list(hosts),
        networks=[dict(name='web', prefix=26, supernet='fleet'), dict(name='db', prefix=27, supernet='fleet')],
        bip=dict(prefix=26, supernet='fleet'),
        address_pools=dict(prefix=24, size=28, supernet='pools'),
        swarm_pool=dict(prefix=20, size=24, supernet='fleet'),
    )
    spec.update(extra)
    return spec


def all_subnets(state):
    return [netaddr.IPNetwork(cidr) for cidr in state['allocations'].values()]


def assert_disjoint(state, excluded=()):
    subnets = all_subnets(state) + [netaddr.IPNetwork(c) for c in excluded]
    for first, second in itertools.combinations(subnets, 2):
        assert first.last < second.first or second.last < first.first, (first, second)


def test_every_slot_allocated_disjoint_and_outside_exclusions():
    plan, state, report = ap.plan(fleet(['a', 'b', 'c']))
    assert set(plan['hosts']) == {'a', 'b', 'c'}
    assert len(state['allocations']) == 3 * 4 + 1
    assert_disjoint(state, excluded=['10.64.0.0/20'])
    for host in plan['hosts'].values():
        assert netaddr.IPNetwork(host['networks']['web']).prefixlen == 26
        assert netaddr.IPNetwork(host['networks']['db']).prefixlen == 27
        bip = netaddr.IPNetwork(host['bip'])
        assert bip.ip == bip.network + 1, 'bip is the gateway address of its subnet'
        assert host['default_address_pools'][0]['size'] == 28
        assert netaddr.IPAddress(host['default_address_pools'][0]['base'].split('/')[0]) in netaddr.IPNetwork('100.64.0.0/16')
    assert plan['swarm'] == dict(default_addr_pool=[state['allocations']['fleet/swarm_pool']], subnet_size=24)
    assert report['new'] and not report['moved']


def test_adding_and_removing_hosts_never_moves_an_allocation():
    first_plan, state, _report = ap.plan(fleet(['a', 'b', 'c']))
    second_plan, state2, report = ap.plan(fleet(['new1', 'a', 'b', 'new2', 'c']), state)
    for host in ('a', 'b', 'c'):
        assert second_plan['hosts'][host] == first_plan['hosts'][host]
    assert report['moved'] == [] and len(report['new']) == 8
    assert_disjoint(state2, excluded=['10.64.0.0/20'])
    third_plan, state3, report3 = ap.plan(fleet(['c', 'new2']), state2)
    assert third_plan['hosts']['c'] == first_plan['hosts']['c']
    assert third_plan['hosts']['new2'] == second_plan['hosts']['new2']
    assert 'a/web' in report3['reserved_for_absent_hosts']
    # A host that comes back gets its old subnets.
    fourth_plan, _state4, _report4 = ap.plan(fleet(['a', 'c', 'new2']), state3)
    assert fourth_plan['hosts']['a'] == first_plan['hosts']['a']


def test_released_hosts_free_their_space():
    _plan, state, _report = ap.plan(fleet(['a', 'b']))
    _plan2, state2, report = ap.plan(fleet(['b'], release=['a']), state)
    assert not any(key.startswith('a/') for key in state2['allocations'])
    assert 'a/web' in report['released']


def test_an_allocation_now_excluded_moves_and_is_reported():
    plan, state, _report = ap.plan(fleet(['a']))
    web = plan['hosts']['a']['networks']['web']
    spec = fleet(['a'])
    spec['exclude'] = spec['exclude'] + [dict(cidr=web, reason='new VPN route')]
    plan2, _state2, report = ap.plan(spec, state)
    assert plan2['hosts']['a']['networks']['web'] != web
    assert report['moved'] == ['a/web']


def test_host_routes_are_avoided():
    spec = fleet(['a'], exclude=[], host_exclude={'a': ['10.64.0.0/17']}, swarm_pool=None)
    plan, _state, _report = ap.plan(spec)
    for cidr in plan['hosts']['a']['networks'].values():
        assert netaddr.IPNetwork(cidr) not in netaddr.IPNetwork('10.64.0.0/17')


def test_docker_defaults_avoided_unless_disabled():
    spec = dict(supernets={'wide': '172.16.0.0/12'}, hosts=['a'], networks=[dict(name='n', prefix=16, supernet='wide')])
    plan, _state, _report = ap.plan(spec)
    assert plan['hosts']['a']['networks']['n'] == '172.16.0.0/16'
    spec['hosts'] = ['a', 'b']
    with pytest.raises(ap.PlanError, match='exhausted'):
        ap.plan(spec)
    spec['avoid_docker_defaults'] = False
    plan, _state, _report = ap.plan(spec)
    assert plan['hosts']['b']['networks']['n'] == '172.17.0.0/16'


def test_exhaustion_names_supernet_needed_and_available():
    spec = fleet(['h%d' % i for i in range(400)])
    with pytest.raises(ap.PlanError) as error:
        ap.plan(spec)
    message = str(error.value)
    assert 'supernet fleet (10.64.0.0/16)' in message and '/26' in message and 'wanted' in message and 'fit' in message


@pytest.mark.parametrize('change, words', [
    (dict(supernets={'a': '10.0.0.0/16', 'b': '10.0.128.0/17'}), 'overlap'),
    (dict(exclude=[dict(cidr='10.64.0.0/15', reason='vpn')]), 'covers the whole supernet'),
    (dict(networks=[dict(name='web', prefix=26, supernet='fleet'), dict(name='web', prefix=27, supernet='fleet')]), "network 'web' declared twice"),
    (dict(hosts=['a', 'a']), 'hosts listed twice: a'),
    (dict(supernets={}), 'no supernets'),
    (dict(networks=[dict(name='web', prefix=26, supernet='nope')]), "no supernet named 'nope'"),
    (dict(networks=[dict(name='web', prefix=8, supernet='fleet')]), 'cannot come from supernet'),
    (dict(networks=[dict(name='bip', prefix=26, supernet='fleet')]), 'reserved by the planner'),
])
def test_bad_input_is_refused(change, words):
    spec = fleet(['a'])
    spec.update(change)
    with pytest.raises((ap.PlanError, ValueError), match=words):
        ap.plan(spec)


def test_ipv6_supernet():
    spec = dict(supernets={'v6': 'fd00:64::/48'}, hosts=['a', 'b'], networks=[dict(name='n', prefix=64, supernet='v6')])
    plan, state, _report = ap.plan(spec)
    assert plan['hosts']['a']['networks']['n'] == 'fd00:64::/64'
    assert plan['hosts']['b']['networks']['n'] == 'fd00:64:0:1::/64'
    assert_disjoint(state)


def test_space_allocator_merges_and_finds_gaps():
    space = ap._Space()
    space.reserve(0, 9)
    space.reserve(20, 29)
    space.reserve(10, 19)
    assert space.starts == [0] and space.ends == [29]
    space.reserve(100, 199)
    assert space.next_free(0, 1000, 16, 0) == 32
    assert space.next_free(0, 120, 16, 90) is None
    assert space.overlapping(150, 150) == 1 and space.overlapping(40, 90) is None


def test_state_file_round_trip(tmp_path):
    path = str(tmp_path / 'sub' / 'plan.json')
    assert ap.load_state(path) == {}
    _plan, state, _report = ap.plan(fleet(['a']))
    ap.write_state(path, state)
    assert ap.load_state(path) == state
    with open(path, 'w') as handle:
        handle.write('{"version": 99}')
    with pytest.raises(ap.StateError, match='not an address plan state of version 1'):
        ap.load_state(path)
    with open(path, 'w') as handle:
        handle.write('{"vers')
    with pytest.raises(ap.StateError, match='cannot read the address plan state'):
        ap.load_state(path)
