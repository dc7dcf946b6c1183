# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bridge gateway modes (nat, routed, nat-unprotected, isolated) in verify's expectations."""

from __future__ import annotations

import pytest

from ansible_collections.netfleet.docker.plugins.filter.reachability import (
    reach_matrix, reach_plan, verify_probes, verify_routes, verify_targets)
from ansible_collections.netfleet.docker.plugins.plugin_utils.reach_gateway import gateway_mode, route_kind

OPTION = 'com.docker.network.bridge.gateway_mode_ipv4'


def probe(host, network, ip, mode='nat', driver='bridge', internal=False, number=1):
    return dict(id='%s:%s/%d' % (host, network, number), host=host, network=network, ip=ip,
                name='nfprobe-%s-%s-%d' % (host, network, number), driver=driver,
                multi_host=driver != 'bridge', fleet_dns=driver == 'overlay', internal=internal,
                gateway_mode=mode if driver == 'bridge' else None)


def pairs(plan):
    return dict(('%s>%s' % (p['source'], p['target']), p) for p in plan)


ROUTES = {
    'h1': ['default via 172.20.0.1 dev eth0', '172.20.0.0/16 dev eth0 proto kernel scope link src 172.20.0.11',
           '10.1.1.0/24 dev br-1 proto kernel scope link src 10.1.1.1', '10.1.2.0/24 via 172.20.0.12 dev eth0'],
    'h2': ['default via 172.20.0.1 dev eth0', '10.1.2.0/24 dev br-1 proto kernel scope link src 10.1.2.1'],
}


def test_gateway_mode_from_the_network_facts():
    assert gateway_mode(dict(driver='bridge')) == 'nat'
    assert gateway_mode(dict(driver='bridge', driver_options={OPTION: 'routed'})) == 'routed'
    assert gateway_mode(dict(driver='bridge', gateway_mode_ipv4='isolated', driver_options={})) == 'isolated'
    assert gateway_mode(dict(driver='overlay', driver_options={OPTION: 'routed'})) is None


@pytest.mark.parametrize('address,kind', [('10.1.2.9', 'via'), ('10.1.1.9', 'link'), ('8.8.8.8', 'default'),
                                          ('10.9.0.1', 'reject'), ('10.9.1.1', 'via')])
def test_route_kind_takes_the_most_specific_route(address, kind):
    lines = ROUTES['h1'] + ['blackhole 10.9.0.0/16', '10.9.1.0/24 via 172.20.0.13 dev eth0', '', 'garbage here']
    assert route_kind(lines, address) == kind
    assert route_kind([], address) == 'none'


def test_routed_bridge_across_hosts_depends_on_the_route():
    probes = [probe('h1', 'web', '10.1.1.2', 'routed'), probe('h2', 'web', '10.1.2.2', 'routed')]
    plan = pairs(reach_plan(probes, routes=ROUTES))
    there = plan['h1:web/1>h2:web/1']
    assert (there['expect'], there['check']) == ('unknown', ''), 'the way back from h2 is its default router'
    assert 'back' in there['why']
    back = plan['h2:web/1>h1:web/1']
    assert back['expect'] == 'unknown' and back['check'] == '' and 'default router' in back['why']
    both_ways = dict(ROUTES, h2=ROUTES['h2'] + ['10.1.1.0/24 via 172.20.0.11 dev eth0'])
    plan = pairs(reach_plan(probes, routes=both_ways))
    assert [(p['expect'], p['check']) for p in plan.values()] == [('reach', 'ping'), ('reach', 'ping')]
    no_way_back = dict(ROUTES, h2=ROUTES['h2'][1:])
    there = pairs(reach_plan(probes, routes=no_way_back))['h1:web/1>h2:web/1']
    assert (there['expect'], there['check']) == ('isolated', 'ping+dns') and 'no route' in there['why']


def test_routed_target_from_a_nat_source_reaches_with_a_route_read_from_ping():
    probes = [probe('h1', 'web', '10.1.1.2', 'nat'), probe('h2', 'web', '10.1.2.2', 'routed')]
    plan = pairs(reach_plan(probes, routes=ROUTES))
    pair = plan['h1:web/1>h2:web/1']
    assert (pair['expect'], pair['check']) == ('reach', 'ping') and 'gateway mode routed' in pair['why']
    assert plan['h2:web/1>h1:web/1']['expect'] == 'isolated', 'nat drops direct routing (Docker 28)'
    result = reach_matrix(list(plan.values()), {'h1:web/1>h2:web/1': dict(ping=True, dns=False),
                                                'h2:web/1>h1:web/1': dict(ping=False, dns=False)})
    assert result['ok'], result['mismatches']


def test_nat_unprotected_like_routed_across_hosts_but_not_from_other_networks_of_the_host():
    probes = [probe('h1', 'web', '10.1.1.2'), probe('h1', 'db', '10.5.0.2'),
              probe('h2', 'web', '10.1.2.2', 'nat-unprotected')]
    plan = pairs(reach_plan(probes, routes=ROUTES))
    assert plan['h1:web/1>h2:web/1']['expect'] == 'reach'
    assert plan['h1:db/1>h2:web/1']['expect'] == 'reach', 'another network of h1 routes there too'
    probes.append(probe('h2', 'db', '10.6.0.2'))
    assert pairs(reach_plan(probes, routes=ROUTES))['h2:db/1>h2:web/1']['expect'] == 'isolated'


def test_routed_target_is_pinged_from_other_networks_of_its_host():
    probes = [probe('h1', 'web', '10.1.1.2', 'routed'), probe('h1', 'db', '10.5.0.2'),
              probe('h1', 'sealed', '10.7.0.2', 'isolated', internal=True), probe('h1', 'int', '10.8.0.2', internal=True)]
    plan = pairs(reach_plan(probes))
    assert (plan['h1:db/1>h1:web/1']['expect'], plan['h1:db/1>h1:web/1']['check']) == ('reach', 'ping')
    assert plan['h1:sealed/1>h1:web/1']['expect'] == 'isolated' and 'no gateway' in plan['h1:sealed/1>h1:web/1']['why']
    assert plan['h1:int/1>h1:web/1']['expect'] == 'isolated'
    assert plan['h1:web/1>h1:db/1']['expect'] == 'isolated', 'the nat network is not routed to'


def test_isolated_and_nat_keep_todays_rule_even_with_routes():
    for mode in ('isolated', 'nat'):
        internal = mode == 'isolated'
        probes = [probe('h1', 'web', '10.1.1.2', mode, internal=internal),
                  probe('h2', 'web', '10.1.2.2', mode, internal=internal),
                  probe('h1', 'web', '10.1.1.3', mode, number=2)]
        plan = pairs(reach_plan(probes, routes=ROUTES))
        assert plan['h1:web/1>h2:web/1']['expect'] == 'isolated' and plan['h1:web/1>h2:web/1']['why'] == 'derived'
        assert plan['h1:web/1>h1:web/2']['expect'] == 'reach'


def test_routes_not_read_make_the_pair_not_checkable_unless_declared():
    probes = [probe('h1', 'web', '10.1.1.2'), probe('h2', 'web', '10.1.2.2', 'routed')]
    pair = pairs(reach_plan(probes))['h1:web/1>h2:web/1']
    assert pair['expect'] == 'unknown' and pair['check'] == '' and 'not read' in pair['why']
    result = reach_matrix(reach_plan(probes), {})
    assert 'not checkable' in result['table'][-1]
    declared = pairs(reach_plan(probes, [{'from': 'h1:*', 'to': 'h2:web', 'expect': 'reach'}]))['h1:web/1>h2:web/1']
    assert (declared['expect'], declared['check'], declared['why']) == ('reach', 'ping', 'declared')


def test_sources_on_macvlan_cannot_be_told_by_host_routes():
    probes = [probe('h1', 'mv', '172.16.86.2', driver='macvlan'), probe('h2', 'web', '10.1.2.2', 'routed')]
    pair = pairs(reach_plan(probes, routes=ROUTES))['h1:mv/1>h2:web/1']
    assert pair['check'] == '' and 'parent' in pair['why']


def test_a_shadowed_routed_target_is_not_checkable():
    # h1's db holds 10.1.2.2 too: a ping from h1:db to h2:web would answer locally.
    probes = [probe('h1', 'db', '10.1.2.2'), probe('h2', 'web', '10.1.2.2', 'routed'), probe('h1', 'db', '10.1.2.3', number=2)]
    routes = {'h1': ['10.1.2.0/24 via 172.20.0.12 dev eth0']}
    plan = pairs(reach_plan(probes, routes=routes))
    assert plan['h1:db/2>h2:web/1']['check'] == ''


def test_targets_and_probes_carry_mode_internal_and_subnet():
    nets = [dict(name='web', driver='bridge', scope='local', internal=False, labels={'netfleet.managed': 'true'},
                 driver_options={OPTION: 'routed'}, ipam=dict(config=[dict(subnet='10.1.1.0/24'), dict(subnet='fd00::/64')]))]
    targets = verify_targets(nets, nets)
    assert targets[0]['gateway_mode'] == 'routed' and targets[0]['subnets'] == ['10.1.1.0/24']
    probes = verify_probes(['/nfprobe-h1-web-1 web 10.1.1.2', '/nfprobe-h1-web-2 web 192.0.2.9'], 'h1', targets)
    wanted = [('routed', '10.1.1.0/24', False), ('routed', None, False)]
    assert [(p['gateway_mode'], p['subnet'], p['internal']) for p in probes] == wanted


def test_route_tables_from_every_host_that_read_one():
    hostvars = dict(h1=dict(verify_route_table=dict(stdout_lines=['default via 1.2.3.4 dev eth0'])),
                    h2=dict(verify_route_table=dict(skipped=True, stdout_lines=[])), h3={})
    assert verify_routes(['h1', 'h2', 'h3', 'h4'], hostvars) == {'h1': ['default via 1.2.3.4 dev eth0']}
