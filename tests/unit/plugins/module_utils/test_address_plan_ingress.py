# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The swarm ingress network's subnet in the fleet plan: one for the fleet, disjoint from every pool the plan
hands out, kept from the fleet (read back) so a fresh controller moves nothing."""

from __future__ import annotations

import pytest

from ansible_collections.netfleet.docker.plugins.module_utils._plan import address_plan as ap
from ansible_collections.netfleet.docker.plugins.module_utils._plan import claims


def fleet(hosts, **extra):
    spec = dict(
        supernets={'fleet': '10.64.0.0/16', 'swarm': '10.66.0.0/16'},
        hosts=list(hosts),
        networks=[dict(name='web', prefix=26, supernet='fleet')],
        bip=dict(prefix=26, supernet='fleet'),
        swarm_pool=dict(prefix=20, size=24, supernet='swarm'),
        ingress=dict(prefix=24, supernet='swarm'),
    )
    spec.update(extra)
    return spec


def swarm(plan, ingress, hosts=('a',)):
    """A converged fleet's read-back, with the swarm's ingress subnet as docker_net_info shows it."""
    held = dict((host, dict(bip=entry['bip'], networks=dict((name, [cidr]) for name, cidr in entry['networks'].items())))
                for host, entry in plan['hosts'].items())
    return dict(claims=held, swarm_claims=[dict(cluster_id='c1', default_addr_pool=plan['swarm']['default_addr_pool'],
                                                subnet_size=24, hosts=list(hosts), ingress=[ingress])])


def _disjoint(cidrs):
    cidrs = list(cidrs)
    return all(not claims.overlap(one, other) for index, one in enumerate(cidrs) for other in cidrs[index + 1:])


def test_the_plan_gives_the_ingress_its_own_subnet_outside_the_swarm_pool():
    plan, state, report = ap.plan(fleet(['b', 'a']))
    assert plan['ingress'] == '10.66.16.0/24'   # the swarm pool is 10.66.0.0/20, allocated first
    assert not claims.overlap(plan['ingress'], plan['swarm']['default_addr_pool'][0])
    assert state['allocations']['fleet/ingress'] == plan['ingress'] and 'fleet/ingress' in report['new']
    assert _disjoint(state['allocations'].values())


def test_no_ingress_declared_no_ingress_planned():
    spec = fleet(['a'])
    del spec['ingress']
    plan, state, _report = ap.plan(spec)
    assert plan['ingress'] is None and 'fleet/ingress' not in state['allocations']


def test_stable_across_runs_with_the_cache_and_from_a_fresh_controller():
    first, state, _report = ap.plan(fleet(['a', 'b']))
    again, again_state, report = ap.plan(fleet(['b', 'a', 'c']), state)
    assert again['ingress'] == first['ingress'] and 'fleet/ingress' in report['kept']
    # No cache, hosts in another order, the fleet read back (ingress already moved there): nothing moves.
    fresh, fresh_state, report = ap.plan(fleet(['b', 'a'], **swarm(first, first['ingress'])), None)
    assert fresh == first and fresh_state == state
    assert report['moved'] == [] and report['new'] == [] and 'fleet/ingress' in report['claimed']
    assert again_state['allocations']['fleet/ingress'] == first['ingress']


def test_the_ingress_swarm_init_put_inside_the_pool_is_moved_out():
    first, _state, _report = ap.plan(fleet(['a']))
    inside_pool = '10.66.0.0/24'   # swarm init with default_addr_pool 10.66.0.0/20 puts the ingress there
    plan, state, report = ap.plan(fleet(['a'], **swarm(first, inside_pool)), None)
    assert report['moved'] == ['fleet/ingress']
    assert plan['ingress'] == first['ingress'] and not claims.overlap(plan['ingress'], inside_pool)
    assert _disjoint(state['allocations'].values())


def test_dockers_default_ingress_outside_the_supernets_is_moved_and_kept_out_of_allocations():
    first, _state, _report = ap.plan(fleet(['a']))
    plan, _state, report = ap.plan(fleet(['a'], **swarm(first, '10.0.0.0/24')), None)
    assert report['moved'] == ['fleet/ingress'] and plan['ingress'] == first['ingress']


def test_an_ingress_read_back_that_fits_is_kept_even_where_a_fresh_plan_would_put_another():
    first, _state, _report = ap.plan(fleet(['a']))
    plan, _state, report = ap.plan(fleet(['a'], **swarm(first, '10.66.200.0/24')), None)
    assert plan['ingress'] == '10.66.200.0/24' and report['claimed'].count('fleet/ingress') == 1


def test_an_ingress_of_another_size_is_moved():
    first, _state, _report = ap.plan(fleet(['a']))
    plan, _state, report = ap.plan(fleet(['a'], **swarm(first, '10.66.200.0/25')), None)
    assert report['moved'] == ['fleet/ingress'] and plan['ingress'] == first['ingress']


def test_an_ingress_holding_a_hosts_planned_subnet_is_refused_naming_both():
    first, _state, _report = ap.plan(fleet(['a']))
    with pytest.raises(ap.PlanError) as error:
        ap.plan(fleet(['a'], **swarm(first, first['hosts']['a']['networks']['web'])), None)
    message = str(error.value)
    assert 'ingress network of swarm c1 (read on a)' in message and "network 'web' of a" in message


def test_ingress_not_planned_the_read_back_is_only_kept_out_of_new_allocations():
    spec = fleet(['a'], **swarm(ap.plan(fleet(['a']))[0], '10.64.0.0/24'))
    del spec['ingress']
    spec['claims'] = {}
    plan, _state, _report = ap.plan(spec, None)
    assert plan['ingress'] is None
    assert not any(claims.overlap('10.64.0.0/24', cidr) for cidr in plan['hosts']['a']['networks'].values())
    assert not claims.overlap('10.64.0.0/24', plan['hosts']['a']['bip'])


def test_network_name_ingress_is_reserved_by_the_planner():
    with pytest.raises(ap.PlanError) as error:
        ap.plan(fleet(['a'], networks=[dict(name='ingress', prefix=24, supernet='fleet')]))
    assert "network name 'ingress' is reserved" in str(error.value)
