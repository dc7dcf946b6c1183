# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import pytest

from ansible_collections.netfleet.docker.plugins.module_utils._host import macvlan, macvlan_shim

OWNER = "network 'lan'"


@pytest.mark.parametrize('text, expected', [
    ('eth1', ('eth1', None)),
    ('eth1.20', ('eth1', 20)),
    ('bond0.4094', ('bond0', 4094)),
    ('enp0s3.1', ('enp0s3', 1)),
])
def test_parse_parent(text, expected):
    assert macvlan.parse_parent(text, OWNER) == expected


@pytest.mark.parametrize('text, message', [
    ('', 'parent is required'),
    ('eth1.0', "'0' is not a VLAN ID; use 1..4094"),
    ('eth1.4095', "'4095' is not a VLAN ID"),
    ('eth1.x', "'x' is not a VLAN ID"),
    ('a-very-long-interface-name', 'is not a valid interface name'),
    ('eth 1', 'is not a valid interface name'),
])
def test_parse_parent_errors(text, message):
    with pytest.raises(macvlan.MacvlanError, match=message.replace('.', r'\.').replace('(', r'\(')):
        macvlan.parse_parent(text, OWNER)


def test_default_shim_name_fits_ifnamsiz_and_is_unique():
    assert macvlan_shim.default_shim_name('lan') == 'nfs-lan'
    assert macvlan_shim.default_shim_name('molecule_mv') == 'nfs-molecule_mv'
    long_one = macvlan_shim.default_shim_name('molecule_mv_swarm')
    assert len(long_one) == 15 and long_one.startswith('nfs-molecu-')
    assert long_one != macvlan_shim.default_shim_name('molecule_mv_swarm2')
    assert macvlan_shim.default_shim_name('!!').startswith('nfs-net-')
    assert macvlan_shim.default_shim_name('!!') != macvlan_shim.default_shim_name('??')


POOL = dict(subnet='10.0.0.0/24', gateway='10.0.0.1', ip_range='10.0.0.240/28', aux_addresses={})


def test_shim_address_is_highest_free_outside_range():
    pool = dict(POOL, ip_range='10.0.0.64/28')
    assert macvlan_shim.choose_shim_address(pool) == '10.0.0.254'
    assert macvlan_shim.choose_shim_address(dict(pool, aux_addresses={'r': '10.0.0.254'}), taken=['10.0.0.253']) == '10.0.0.252'


def test_shim_address_skips_a_range_at_the_top():
    assert macvlan_shim.choose_shim_address(POOL) == '10.0.0.239'


def test_shim_address_none_when_range_fills_the_subnet():
    assert macvlan_shim.choose_shim_address(dict(POOL, subnet='10.0.0.0/29', ip_range='10.0.0.0/29', gateway=None)) is None


@pytest.mark.parametrize('address, message', [
    ('10.0.0.241', 'is inside ip_range 10.0.0.240/28'),
    ('10.0.1.5', 'is outside the subnet'),
    ('10.0.0.1', 'is the gateway'),
    ('10.0.0.255', 'is the broadcast address'),
    ('10.0.0.0', 'is the network address'),
])
def test_shim_address_problems(address, message):
    problems = macvlan_shim.shim_address_problems(address, POOL, OWNER)
    assert len(problems) == 1 and message in problems[0]


def test_shim_address_must_not_be_another_aux():
    pool = dict(POOL, aux_addresses={'router2': '10.0.0.5', macvlan_shim.SHIM_AUX_NAME: '10.0.0.6'})
    assert "aux address 'router2'" in macvlan_shim.shim_address_problems('10.0.0.5', pool, OWNER)[0]
    assert macvlan_shim.shim_address_problems('10.0.0.6', pool, OWNER) == []


def test_unit_text():
    spec = macvlan_shim.ShimSpec('nfs-lan', 'eth1', '10.0.0.254', ['10.0.0.64/28'], promiscuous=True)
    text = spec.unit_text('/usr/sbin/ip', 'lan')
    assert 'ExecStart=/usr/sbin/ip link add nfs-lan link eth1 type macvlan mode bridge\n' in text
    assert 'ExecStart=/usr/sbin/ip addr add 10.0.0.254/32 dev nfs-lan\n' in text
    assert 'ExecStart=/usr/sbin/ip route replace 10.0.0.64/28 dev nfs-lan\n' in text
    assert 'ExecStartPre=/usr/sbin/ip link set dev eth1 promisc on\n' in text
    assert 'WantedBy=multi-user.target' in text
    assert spec.view() == dict(interface='nfs-lan', parent='eth1', mode='bridge', address='10.0.0.254/32',
                               routes=['10.0.0.64/28'], unit='netfleet-shim-nfs-lan.service')


def fake_ip(links):
    """A `run` that answers `ip -j -d link show [dev X]` from a dict of links."""
    def run(args):
        if args[:4] == ['ip', '-j', '-d', 'link'] and 'dev' in args:
            name = args[-1]
            if name not in links:
                return 1, '', 'Device "%s" does not exist.' % name
            return 0, json.dumps([dict(links[name], ifname=name)]), ''
        if args[:4] == ['ip', '-j', '-d', 'link']:
            return 0, json.dumps([dict(data, ifname=name) for name, data in links.items()]), ''
        raise AssertionError(args)
    return run


LINKS = {
    'lo': dict(flags=['LOOPBACK', 'UP'], link_type='loopback'),
    'eth1': dict(flags=['BROADCAST', 'UP', 'LOWER_UP'], link_type='ether'),
    'eth2': dict(flags=['BROADCAST'], link_type='ether'),
    'mv0': dict(flags=['UP'], link='eth1', link_type='ether', linkinfo=dict(info_kind='macvlan')),
}


def test_parent_checks(tmp_path):
    run = fake_ip(LINKS)
    assert macvlan.parent_problems(run, 'eth1', OWNER) == []
    assert "parent 'nope' does not exist on this host (it has: eth1, eth2, lo, mv0)" in macvlan.parent_problems(run, 'nope', OWNER)[0]
    assert "parent 'eth2' is down" in macvlan.parent_problems(run, 'eth2', OWNER)[0]
    assert "parent 'mv0' is itself a macvlan interface (on eth1)" in macvlan.parent_problems(run, 'mv0', OWNER)[0]
    assert 'loopback' in macvlan.parent_problems(run, 'lo', OWNER)[0]


def test_vlan_parent_needs_base_and_kernel_support(tmp_path):
    run = fake_ip(LINKS)
    no_vlan = str(tmp_path / 'no-vlan')
    assert 'has no 802.1q support' in macvlan.parent_problems(run, 'eth1.10', OWNER, vlan_proc=no_vlan)[0]
    assert "VLAN 10 on 'eth9', which does not exist" in macvlan.parent_problems(run, 'eth9.10', OWNER, vlan_proc=no_vlan)[0]
    (tmp_path / 'vlan').mkdir()
    assert macvlan.parent_problems(run, 'eth1.10', OWNER, vlan_proc=str(tmp_path / 'vlan')) == []


def test_gateway_outside_ip_range():
    assert macvlan.gateway_problems([POOL], OWNER) == []
    inside = dict(POOL, gateway='10.0.0.241')
    assert 'gateway 10.0.0.241 is inside ip_range 10.0.0.240/28' in macvlan.gateway_problems([inside], OWNER)[0]
    assert macvlan.gateway_problems([dict(POOL, ip_range=None)], OWNER) == []
