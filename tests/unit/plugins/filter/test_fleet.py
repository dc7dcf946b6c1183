# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What site.yml hands the address planner: host claims, planned networks, daemon options."""

from __future__ import annotations

import json

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.netfleet.docker.plugins.filter.fleet import (
    host_claims, parse_host_claims, planned_daemon_options, planned_networks)

ROUTES = [
    dict(dst='default', gateway='192.0.2.1', dev='eth0'),
    dict(dst='192.0.2.0/24', dev='eth0', protocol='kernel'),
    dict(dst='10.8.0.0/16', dev='tun0'),
    dict(dst='172.17.0.0/16', dev='docker0'),
    dict(dst='10.96.1.0/26', dev='br-1234'),
    dict(dst='127.0.0.0/8', dev='lo', type='local'),
    dict(dst='192.0.2.255', dev='eth0', type='broadcast'),
    dict(dst='10.9.0.0/16', type='unreachable'),
]
ADDRS = [
    dict(ifname='lo', addr_info=[dict(local='127.0.0.1')]),
    dict(ifname='eth0', addr_info=[dict(local='192.0.2.10'), dict(local='192.0.2.11')]),
    dict(ifname='docker0', addr_info=[dict(local='172.17.0.1')]),
    dict(ifname='vx-001001-abcde', addr_info=[]),
    dict(ifname='eth1'),
]
OUTPUT = json.dumps(ROUTES) + '\n@@\n' + json.dumps(ADDRS)


def test_claims_leave_out_docker_default_and_non_unicast():
    assert parse_host_claims(OUTPUT) == ['192.0.2.0/24', '10.8.0.0/16', '192.0.2.10/32', '192.0.2.11/32']


def test_claims_without_duplicates_and_empty_outputs():
    doubled = json.dumps(ROUTES[1:2] * 2) + '@@' + json.dumps([])
    assert parse_host_claims(doubled) == ['192.0.2.0/24']
    assert parse_host_claims('@@') == []


@pytest.mark.parametrize('output, match', [('[]', 'expected'), ('not json@@[]', 'cannot read')])
def test_claims_refuse_unexpected_output(output, match):
    with pytest.raises(AnsibleFilterError, match=match):
        parse_host_claims(output, 'h1')


def test_host_claims_skip_hosts_without_output():
    hostvars = dict(h1=dict(fleet_host_routes=dict(stdout=OUTPUT)), h2=dict(fleet_host_routes=dict(skipped=True)),
                    h3=dict())
    assert host_claims(['h1', 'h2', 'h3'], hostvars) == dict(h1=parse_host_claims(OUTPUT))


def test_planned_networks_once_with_default_supernet():
    by_group = dict(web=[dict(name='front', prefix=26), dict(name='plain')],
                    db=[dict(name='back', prefix=27, supernet='other'), dict(name='front', prefix=26)])
    assert planned_networks(by_group) == [dict(name='front', prefix=26, supernet='fleet'),
                                          dict(name='back', prefix=27, supernet='other')]
    assert planned_networks(by_group, 'pools')[0]['supernet'] == 'pools'
    assert planned_networks(None) == []
    with pytest.raises(AnsibleFilterError, match='must be a list'):
        planned_networks(dict(web=dict(name='x')))


def test_planned_daemon_options():
    plan = dict(hosts=dict(h1=dict(bip='10.96.0.65/26', default_address_pools=[dict(base='10.97.0.0/22', size=26)]),
                           h2=dict(bip='10.96.0.129/26')))
    assert planned_daemon_options(plan, 'h1') == {'bip': '10.96.0.65/26',
                                                  'default-address-pools': [dict(base='10.97.0.0/22', size=26)]}
    assert planned_daemon_options(plan, 'h2') == {'bip': '10.96.0.129/26'}
    assert planned_daemon_options(plan, 'h9') == {} and planned_daemon_options({}, 'h1') == {}


# -- fleet_claims / planned_swarm_settings --------------------------------------------------

import base64  # noqa: E402

from ansible_collections.netfleet.docker.plugins.filter.fleet import fleet_claims, planned_swarm_settings  # noqa: E402


def slurped(config):
    return dict(content=base64.b64encode(json.dumps(config).encode()).decode(), encoding='base64')


def engine(networks=(), swarm=None):
    return dict(networks=[dict(name=name, ipam=dict(config=[dict(subnet=s) for s in subnets])) for name, subnets in networks],
                missing=[], engine=dict(swarm=swarm or dict(state='inactive')))


MANAGER = dict(state='active', cluster_id='c1', control_available=True, default_addr_pool=['10.66.0.0/16'], subnet_size=24)


def test_fleet_claims_reads_daemon_json_networks_and_the_swarm_pool():
    hostvars = {
        'b': dict(fleet_daemon_json=slurped({'bip': '10.65.0.1/26', 'mtu': 1400,
                                             'default-address-pools': [{'base': '100.64.0.0/22', 'size': 26}]}),
                  fleet_engine_facts=engine([('web', ['10.65.0.64/26', 'fd00::/64'])], MANAGER)),
        'a': dict(fleet_daemon_json=dict(failed=True, msg='file not found: /etc/docker/daemon.json'),
                  fleet_engine_facts=engine(swarm=dict(state='active', cluster_id=None))),
    }
    found = fleet_claims(['b', 'a'], hostvars)
    assert found == dict(
        claims={'b': dict(bip='10.65.0.1/26', address_pools=[dict(base='100.64.0.0/22', size=26)],
                          networks={'web': ['10.65.0.64/26', 'fd00::/64']})},
        swarm_claims=[dict(cluster_id='c1', default_addr_pool=['10.66.0.0/16'], subnet_size=24, hosts=['b'])],
        unread={})


def test_fleet_claims_names_hosts_that_could_not_be_read():
    hostvars = {
        'a': dict(fleet_daemon_json=dict(failed=True, msg='Permission denied'),
                  fleet_engine_facts=dict(failed=True, msg='cannot connect to the engine')),
        'b': dict(fleet_daemon_json=dict(content=base64.b64encode(b'{nope').decode()), fleet_engine_facts=engine()),
        'c': {},
    }
    unread = fleet_claims(['a', 'b', 'c'], hostvars)['unread']
    assert unread['a'] == 'daemon.json: Permission denied; engine: cannot connect to the engine'
    assert unread['b'].startswith('daemon.json is not JSON')
    assert 'unreachable' in unread['c']


def test_swarm_settings_precedence_and_conflicts():
    plan = dict(swarm=dict(default_addr_pool=['10.66.0.0/16'], subnet_size=24))
    assert planned_swarm_settings(plan, [], 0, ['10.99.0.0/16']) == dict(default_addr_pool=['10.66.0.0/16'], subnet_size=24)
    assert planned_swarm_settings({}, [], 0, ['10.99.0.0/16']) == dict(default_addr_pool=['10.99.0.0/16'], subnet_size=0)
    wanted = dict(default_addr_pool=['10.98.0.0/16'], subnet_size=26)
    assert planned_swarm_settings({}, ['10.98.0.0/16'], 26, ['10.99.0.0/16']) == wanted
    assert planned_swarm_settings(plan, ['10.66.0.0/16'], 24)['default_addr_pool'] == ['10.66.0.0/16']
    with pytest.raises(AnsibleFilterError, match=r'overlay_default_addr_pool is set to 10.98.0.0/16, and the address plan gives the swarm 10.66.0.0/16'):
        planned_swarm_settings(plan, ['10.98.0.0/16'], 0)
    with pytest.raises(AnsibleFilterError, match='overlay_subnet_size is set to 26'):
        planned_swarm_settings(plan, [], 26)


def test_fleet_claims_keeps_only_the_declared_networks():
    hostvars = {'a': dict(fleet_daemon_json=slurped({}),
                          fleet_engine_facts=engine([('web', ['10.65.0.0/26']), ('bridge', ['172.17.0.0/16'])]))}
    assert fleet_claims(['a'], hostvars, networks=['web'])['claims'] == {'a': dict(networks={'web': ['10.65.0.0/26']})}


def test_fleet_claims_carries_the_swarms_ingress_subnet_when_listed():
    ingress = dict(name='ingress', ingress=True, ipam=dict(config=[dict(subnet='10.66.16.0/24')]))
    hostvars = {'a': dict(fleet_daemon_json=dict(failed=True, msg='file not found'),
                          fleet_engine_facts=dict(engine([('web', ['10.65.0.64/26'])], MANAGER),
                                                  networks=[ingress, dict(name='web', ingress=False,
                                                                          ipam=dict(config=[dict(subnet='10.65.0.64/26')]))]))}
    found = fleet_claims(['a'], hostvars, networks=['web'])
    assert found['swarm_claims'] == [dict(cluster_id='c1', default_addr_pool=['10.66.0.0/16'], subnet_size=24,
                                          hosts=['a'], ingress=['10.66.16.0/24'])]
    assert found['claims'] == {'a': dict(networks={'web': ['10.65.0.64/26']})}
