# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ipam.config and labels mean, as docs/modules.md writes it down (issue 16 item 12)."""

from __future__ import annotations

from engine_fakes import FakeAPI, StatefulAPI, network
from test_docker_net_driver import run

SUBNET = '10.40.0.0/24'


def existing(**pool):
    net = network('web', [(SUBNET, '10.40.0.1')], Labels={'team': 'blue', 'owner': 'ops'})
    net['IPAM']['Config'][0].update(pool)
    return net


def test_omitted_gateway_is_kept_and_no_difference():
    out = run(FakeAPI([existing()]), name='web', ipam=dict(config=[dict(subnet=SUBNET)]))
    assert out.result['changed'] is False


def test_omitted_ip_range_that_the_network_has_is_removed_by_a_recreate():
    api = StatefulAPI([existing(IPRange='10.40.0.128/25')])
    out = run(api, name='web', ipam=dict(config=[dict(subnet=SUBNET)]))
    [record] = out.result['networks']
    assert record['action'] == 'recreated' and record['changes'] == ['ipam.config[%s].ip_range' % SUBNET]
    pool = out.result['network']['IPAM']['Config'][0]
    assert not pool.get('IPRange') and pool['Gateway'] == '10.40.0.1'  # gateway carried over


def test_omitted_aux_addresses_that_the_network_has_are_removed_by_a_recreate():
    api = StatefulAPI([existing(AuxiliaryAddresses={'router': '10.40.0.2'})])
    out = run(api, name='web', ipam=dict(config=[dict(subnet=SUBNET)]))
    assert out.result['networks'][0]['changes'] == ['ipam.config[%s].aux_addresses' % SUBNET]
    assert not out.result['network']['IPAM']['Config'][0].get('AuxiliaryAddresses')


def test_labels_not_named_are_kept_even_through_a_recreate():
    api = StatefulAPI([existing()])
    out = run(api, name='web', labels={'team': 'red'})
    assert out.result['networks'][0]['changes'] == ['labels.team']
    assert out.result['network']['Labels'] == {'team': 'red', 'owner': 'ops'}


def test_omitted_ipam_config_keeps_every_pool():
    out = run(FakeAPI([existing(IPRange='10.40.0.128/25')]), name='web', labels={'team': 'blue'})
    assert out.result['changed'] is False


def test_a_pool_left_out_is_a_recreate():
    two = network('web', [(SUBNET, '10.40.0.1'), ('10.41.0.0/24', '10.41.0.1')])
    out = run(FakeAPI([two]), check_mode=True, name='web', ipam=dict(config=[dict(subnet=SUBNET)]))
    assert out.result['networks'][0]['changes'] == ['ipam.config']
