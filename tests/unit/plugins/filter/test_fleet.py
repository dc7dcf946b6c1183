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
