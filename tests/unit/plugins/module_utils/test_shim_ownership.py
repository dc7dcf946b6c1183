# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host shim belongs to its macvlan network whichever module removes the network (issue 16 item 6)."""

from __future__ import annotations

import pytest
from engine_fakes import FakeModule, ModuleExit, StatefulAPI, network
from test_macvlan_driver import ETH1, FakeHost, shim_link
from test_macvlan_driver import run as run_macvlan_net

from ansible_collections.netfleet.docker.plugins.module_utils._common.client import Engine
from ansible_collections.netfleet.docker.plugins.module_utils._host import macvlan_shim
from ansible_collections.netfleet.docker.plugins.modules import docker_net

UNIT = 'netfleet-shim-nfs-lan.service'


def lan_with_shim(address='192.168.50.254'):
    options = dict(parent='eth1', macvlan_mode='bridge')
    net = network('lan', [('192.168.50.0/24', '192.168.50.1')], driver='macvlan', Options=options)
    net['IPAM']['Config'][0].update(IPRange='192.168.50.64/27', AuxiliaryAddresses={'host-shim': address})
    return net


def write_unit(tmp_path, network_name='lan', address='192.168.50.254'):
    spec = macvlan_shim.ShimSpec('nfs-lan', 'eth1', address, ['192.168.50.64/27'])
    unit = tmp_path / UNIT
    unit.write_text(spec.unit_text('/usr/sbin/ip', network_name))
    return unit


def run_docker_net(api, host, tmp_path, check_mode=False, **params):
    module = FakeModule(docker_net.argument_spec(), params, check_mode=check_mode)
    driver = docker_net.DockerNetDriver(module)
    driver.connect = lambda: Engine(api, 'unix:///fake/docker.sock')
    driver.run_host = host
    driver.shim_unit_dir = str(tmp_path)
    with pytest.raises(ModuleExit) as exc:
        driver.run()
    return exc.value


def test_docker_net_removal_takes_the_shim_along_first(tmp_path):
    unit = write_unit(tmp_path)
    api, host = StatefulAPI([lan_with_shim()]), FakeHost({'eth1': ETH1, 'nfs-lan': shim_link()}, enabled=True)
    out = run_docker_net(api, host, tmp_path, name='lan', state='absent')
    assert not out.failed, out.result
    [record] = out.result['networks']
    assert record['action'] == 'removed' and out.result['changed'] is True
    [shim] = record['host_shim']
    assert (shim['interface'], shim['unit'], shim['action']) == ('nfs-lan', str(unit), 'removed')
    assert shim['before']['address'] == '192.168.50.254/32' and shim['before']['unit'] == 'enabled'
    assert host.changes == ['systemctl disable --now %s' % UNIT, 'systemctl daemon-reload', 'ip link del nfs-lan']
    assert not unit.exists() and 'nfs-lan' not in host.links
    assert api.writes == [('remove', lan_with_shim()['Id'])]


def test_docker_net_check_mode_names_the_shim_and_changes_nothing(tmp_path):
    unit = write_unit(tmp_path)
    host = FakeHost({'eth1': ETH1, 'nfs-lan': shim_link()}, enabled=True, strict=True)
    out = run_docker_net(StatefulAPI([lan_with_shim()]), host, tmp_path, check_mode=True, name='lan', state='absent')
    assert out.result['changed'] is True
    assert out.result['networks'][0]['host_shim'][0]['interface'] == 'nfs-lan'
    assert unit.exists()


@pytest.mark.parametrize('unit_network, unit_address', [
    ('other', '192.168.50.254'),   # another network's shim
    ('lan', '192.168.50.250'),     # a 'lan' of another engine (docker_host) reserving another address
])
def test_docker_net_leaves_shims_that_are_not_the_networks(tmp_path, unit_network, unit_address):
    unit = write_unit(tmp_path, unit_network, unit_address)
    host = FakeHost({'eth1': ETH1, 'nfs-lan': shim_link()}, enabled=True, strict=True)
    out = run_docker_net(StatefulAPI([lan_with_shim()]), host, tmp_path, name='lan', state='absent')
    assert not out.failed, out.result
    assert 'host_shim' not in out.result['networks'][0]
    assert unit.exists() and host.changes == []


def test_docker_net_removal_of_a_network_without_shim_reads_no_units(tmp_path):
    write_unit(tmp_path)
    plain = network('lan', [('192.168.50.0/24', '192.168.50.1')], driver='macvlan', Options=dict(parent='eth1'))
    host = FakeHost({'eth1': ETH1}, strict=True)
    out = run_docker_net(StatefulAPI([plain]), host, tmp_path, name='lan', state='absent')
    assert 'host_shim' not in out.result['networks'][0]


def test_docker_net_shim_failure_keeps_the_network_for_a_rerun(tmp_path):
    write_unit(tmp_path)
    api = StatefulAPI([lan_with_shim()])
    host = FakeHost({'eth1': ETH1, 'nfs-lan': shim_link()}, enabled=True, fail=['ip link'])
    out = run_docker_net(api, host, tmp_path, name='lan', state='absent')
    assert out.failed
    assert 'cannot remove the host shim nfs-lan' in out.result['msg']
    assert api.writes == []


def test_macvlan_net_removing_only_a_leftover_shim_reports_removed(tmp_path):
    """The network is gone (removed before by another tool); the shim removal is a removal, not 'unchanged'."""
    unit = write_unit(tmp_path)
    host = FakeHost({'eth1': ETH1, 'nfs-lan': shim_link()}, enabled=True)
    out = run_macvlan_net(StatefulAPI(), host, tmp_path, state='absent')
    assert not out.failed, out.result
    assert out.result['changed'] is True and out.result['action'] == 'removed'
    assert not unit.exists()


def test_macvlan_net_absent_twice_is_unchanged(tmp_path):
    out = run_macvlan_net(StatefulAPI(), FakeHost({'eth1': ETH1}, strict=True), tmp_path, state='absent')
    assert out.result['changed'] is False and out.result['action'] == 'unchanged'


def test_docker_net_then_macvlan_net_removal_is_unchanged(tmp_path):
    write_unit(tmp_path)
    api, host = StatefulAPI([lan_with_shim()]), FakeHost({'eth1': ETH1, 'nfs-lan': shim_link()}, enabled=True)
    assert not run_docker_net(api, host, tmp_path, name='lan', state='absent').failed
    out = run_macvlan_net(api, host, tmp_path, state='absent')
    assert out.result['changed'] is False and out.result['action'] == 'unchanged'
