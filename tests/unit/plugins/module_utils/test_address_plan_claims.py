# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet is the source of truth of the address plan: claims read back first, the state file a cache."""

from __future__ import annotations

import pytest

from ansible_collections.netfleet.docker.plugins.module_utils._plan import address_plan as ap
from ansible_collections.netfleet.docker.plugins.module_utils._plan import claims


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


def read_back(plan, swarm_hosts=('a',)):
    """What a converged fleet reports: daemon.json keys, the declared networks' subnets, the swarm pool."""
    held = {}
    for host, entry in plan['hosts'].items():
        held[host] = dict(bip=entry['bip'], address_pools=entry['default_address_pools'],
                          networks=dict((name, [cidr]) for name, cidr in entry['networks'].items()))
    swarm = plan['swarm']
    return dict(claims=held, swarm_claims=[dict(cluster_id='c1', default_addr_pool=swarm['default_addr_pool'],
                                                subnet_size=swarm['subnet_size'], hosts=list(swarm_hosts))])


def test_fresh_controller_reversed_hosts_no_state_moves_nothing():
    first_plan, state, _report = ap.plan(fleet(['a', 'b', 'c']))
    again, new_state, report = ap.plan(fleet(['c', 'b', 'a'], **read_back(first_plan)), state=None)
    assert again == first_plan
    assert new_state == state
    assert report['new'] == [] and report['moved'] == [] and len(report['claimed']) == len(state['allocations'])


def test_hosts_in_any_order_give_the_same_new_plan():
    assert ap.plan(fleet(['a', 'b', 'c']))[0] == ap.plan(fleet(['c', 'a', 'b']))[0]


def test_a_new_host_gets_new_subnets_and_nobody_moves():
    first_plan, state, _report = ap.plan(fleet(['a', 'b']))
    plan, new_state, report = ap.plan(fleet(['b', 'new', 'a'], **read_back(first_plan)))
    for host in ('a', 'b'):
        assert plan['hosts'][host] == first_plan['hosts'][host]
    assert sorted(report['new']) == ['new/address_pool', 'new/bip', 'new/db', 'new/web']
    taken = set(state['allocations'].values())
    assert not taken & set(new_state['allocations'][key] for key in report['new'])


def test_removing_a_host_moves_nobody():
    first_plan, _state, _report = ap.plan(fleet(['a', 'b', 'c']))
    back = read_back(first_plan)
    del back['claims']['b']
    plan, _new_state, report = ap.plan(fleet(['a', 'c'], **back))
    assert plan['hosts']['a'] == first_plan['hosts']['a'] and plan['hosts']['c'] == first_plan['hosts']['c']
    assert report['new'] == [] and report['moved'] == []


def test_the_fleet_overrides_a_stale_cache_of_the_same_host():
    first_plan, state, _report = ap.plan(fleet(['a']))
    back = read_back(first_plan)
    stale = dict(state, allocations=dict(state['allocations'], **{'a/web': '10.64.200.0/26'}))
    plan, new_state, report = ap.plan(fleet(['a'], **back), stale)
    assert plan['hosts']['a']['networks']['web'] == first_plan['hosts']['a']['networks']['web']
    assert report['corrected'] == ['a/web'] and new_state == state


def test_things_the_plan_does_not_manage_are_kept_out_of_new_allocations():
    spec = fleet(['a', 'b'], bip=None, claims={'a': dict(bip='10.64.16.1/24'), 'b': dict(bip='10.64.16.1/24')})
    plan, state, _report = ap.plan(spec)
    assert all(not claims.overlap(cidr, '10.64.16.0/24') for cidr in state['allocations'].values())
    assert 'bip' not in plan['hosts']['a']


@pytest.mark.parametrize('back, words', [
    (dict(claims={'a': dict(bip='10.64.16.1/26'), 'b': dict(bip='10.64.16.1/26')}),
     ['10.64.16.0/26 (bip in daemon.json of a) overlaps 10.64.16.0/26 (bip in daemon.json of b)',
      'nothing was planned or changed']),
    (dict(claims={'a': dict(networks={'web': ['10.64.32.0/26']}), 'b': dict(bip='10.64.32.1/24')}),
     ["network 'web' of a", 'bip in daemon.json of b']),
])
def test_two_hosts_holding_one_subnet_are_refused_naming_both(back, words):
    with pytest.raises(ap.PlanError) as error:
        ap.plan(fleet(['a', 'b'], **back))
    for word in words:
        assert word in str(error.value)


def test_a_state_file_contradicting_the_fleet_is_refused_naming_both_hosts():
    first_plan, state, _report = ap.plan(fleet(['a', 'b']))
    back = read_back(first_plan)
    # b now holds, on the fleet, the web subnet the state file gives a
    back['claims']['b']['networks']['web'] = [state['allocations']['a/web']]
    del back['claims']['a']
    with pytest.raises(ap.PlanError) as error:
        ap.plan(fleet(['a', 'b'], state_file='/ctl/plan.json', **back), state)
    message = str(error.value)
    assert 'the state file /ctl/plan.json gives a/web %s' % state['allocations']['a/web'] in message
    assert "network 'web' of b" in message and 'delete the stale state file' in message


def test_the_swarm_pool_read_back_cannot_move():
    back = dict(swarm_claims=[dict(cluster_id='c1', default_addr_pool=['10.64.64.0/18'], subnet_size=24, hosts=['a'])])
    with pytest.raises(ap.PlanError) as error:
        ap.plan(fleet(['a'], **back))
    assert 'swarm c1 (read on a) has default_addr_pool 10.64.64.0/18 with subnet size 24, fixed at swarm init' in str(error.value)


def test_docker_default_swarm_pool_is_neither_reserved_nor_compared():
    back = dict(swarm_claims=[dict(cluster_id='c1', default_addr_pool=['10.0.0.0/8'], subnet_size=24, hosts=['a'])])
    plan, _state, report = ap.plan(fleet(['a'], **back))
    assert plan['swarm']['default_addr_pool'] and 'fleet/swarm_pool' in report['new']


def test_hosts_of_two_swarms_cannot_share_one_planned_pool():
    back = dict(swarm_claims=[dict(cluster_id='c1', default_addr_pool=['10.64.64.0/20'], subnet_size=24, hosts=['a']),
                              dict(cluster_id='c2', default_addr_pool=['10.64.80.0/20'], subnet_size=24, hosts=['b'])])
    with pytest.raises(ap.PlanError) as error:
        ap.plan(fleet(['a', 'b'], **back))
    assert 'cluster c1 on a; cluster c2 on b' in str(error.value)


def test_unread_hosts_without_cache_block_new_allocations_only():
    first_plan, state, _report = ap.plan(fleet(['a', 'b']))
    back = read_back(first_plan)
    del back['claims']['b']
    with pytest.raises(ap.PlanError) as error:
        ap.plan(fleet(['a', 'b'], unread={'b': 'engine: cannot connect'}, **back))
    assert 'b: engine: cannot connect' in str(error.value) and 'fleet_plan_release' in str(error.value)
    plan, _new_state, report = ap.plan(fleet(['a', 'b'], unread={'b': 'engine: cannot connect'}, **back), state)
    assert plan == first_plan and report['unread'] == {'b': 'engine: cannot connect'} and report['new'] == []


def test_allocate_false_claims_only_and_names_what_is_missing():
    first_plan, _state, _report = ap.plan(fleet(['a']))
    plan, _new_state, _report = ap.plan(fleet(['a'], allocate=False, **read_back(first_plan)))
    assert plan == first_plan
    with pytest.raises(ap.PlanError) as error:
        ap.plan(fleet(['a', 'new'], allocate=False, **read_back(first_plan)))
    assert '(new/bip, new/address_pool, new/web, new/db)' in str(error.value) and 'fleet_plan_allocate' in str(error.value)


def test_releasing_a_host_still_in_the_run_is_refused():
    with pytest.raises(ap.PlanError) as error:
        ap.plan(fleet(['a', 'b'], release=['b']))
    assert 'still in the run: b' in str(error.value)


def test_a_claim_of_another_size_moves_and_is_reported():
    back = dict(claims={'a': dict(bip='10.64.16.1/24')})
    plan, _state, report = ap.plan(fleet(['a'], **back))
    assert report['moved'] == ['a/bip'] and not claims.overlap(plan['hosts']['a']['bip'], '10.64.16.0/24')
