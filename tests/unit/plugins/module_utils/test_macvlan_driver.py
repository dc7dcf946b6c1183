# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""macvlan_net's driver against an in-memory engine and a fake host (ip -j, systemctl)."""

from __future__ import annotations

import json

import pytest
from engine_fakes import FakeAPI, FakeModule, ModuleExit, StatefulAPI, network

from ansible_collections.netfleet.docker.plugins.module_utils._common.client import Engine
from ansible_collections.netfleet.docker.plugins.module_utils._host import macvlan_shim
from ansible_collections.netfleet.docker.plugins.modules import macvlan_net

SUBNET = dict(subnet='192.168.50.0/24', gateway='192.168.50.1', ip_range='192.168.50.64/27')
ETH1 = dict(flags=['BROADCAST', 'UP', 'LOWER_UP'], link_type='ether')


class FakeHost:
    """`run` for ip -j / systemctl over a dict of links; with strict=True any change fails the test."""

    def __init__(self, links, enabled=False, strict=False, fail=()):
        self.links = dict(links)
        self.enabled = enabled
        self.strict = strict
        self.fail = set(fail)
        self.changes = []

    def __call__(self, args):
        if args[:4] == ['ip', '-j', '-d', 'link']:
            return self._links(args)
        if args[:2] == ['ip', '-j'] or args[:3] == ['ip', '-j', '-4']:
            return self._json(args)
        if args[:2] == ['systemctl', 'is-enabled']:
            return (0, 'enabled\n', '') if self.enabled else (1, 'disabled\n', '')
        assert not self.strict, 'check mode must not run %s' % args
        self.changes.append(' '.join(args))
        if ' '.join(args[:2]) in self.fail or args[0] in self.fail:
            return 1, '', 'Operation not permitted'
        if args[:3] == ['ip', 'link', 'del']:
            self.links.pop(args[3], None)
        return 0, '', ''

    def _links(self, args):
        if 'dev' not in args:
            return 0, json.dumps([dict(data, ifname=name) for name, data in self.links.items()]), ''
        name = args[-1]
        if name not in self.links:
            return 1, '', 'Device "%s" does not exist.' % name
        return 0, json.dumps([dict(self.links[name], ifname=name)]), ''

    def _json(self, args):
        name = args[-1]
        data = self.links.get(name, {})
        if 'addr' in args:
            return 0, json.dumps([dict(ifname=name, addr_info=[dict(local=a, prefixlen=32) for a in data.get('addrs', [])])]), ''
        return 0, json.dumps([dict(dst=route, dev=name, protocol='boot') for route in data.get('routes', [])]), ''


def shim_link(address='192.168.50.254', routes=('192.168.50.64/27',)):
    return dict(flags=['BROADCAST', 'UP', 'LOWER_UP'], link='eth1', link_type='ether',
                linkinfo=dict(info_kind='macvlan', info_data=dict(mode='bridge')), addrs=[address], routes=list(routes))


def run(api, host, tmp_path, check_mode=False, diff=False, **params):
    params.setdefault('name', 'lan')
    module = FakeModule(macvlan_net.argument_spec(), params, check_mode=check_mode, diff=diff)
    driver = macvlan_net.MacvlanNetDriver(module)
    driver.connect = lambda: Engine(api, 'unix:///fake/docker.sock')
    driver.run_host = host
    driver.systemd_dir = str(tmp_path)
    driver.unit_path = str(tmp_path / macvlan_shim.unit_name(driver.shim_name))
    with pytest.raises(ModuleExit) as exc:
        driver.run()
    return exc.value


def lan(**overrides):
    options = dict(parent='eth1', macvlan_mode='bridge')
    return network('lan', [('192.168.50.0/24', '192.168.50.1')], driver='macvlan', Options=options, **overrides)


def test_check_mode_plans_network_and_shim_and_changes_nothing(tmp_path):
    out = run(FakeAPI(), FakeHost(dict(eth1=ETH1), strict=True), tmp_path, check_mode=True, diff=True,
              parent='eth1', ipam=dict(config=[SUBNET]), host_shim={})
    assert not out.failed, out.result
    assert out.result['changed'] is True
    assert out.result['action'] == 'created' and out.result['network'] == {}
    assert [h['name'] for h in out.result['host']] == ['shim nfs-lan']
    assert out.result['host_shim']['action'] == 'created'
    assert out.result['host_shim']['address'] == '192.168.50.254'
    assert [d['after_header'] for d in out.result['diff']] == ['network lan (created)', 'host shim nfs-lan (created)']
    assert not (tmp_path / 'netfleet-shim-nfs-lan.service').exists()


def test_real_run_creates_network_with_shim_reservation_then_the_shim(tmp_path):
    api, host = StatefulAPI(), FakeHost(dict(eth1=ETH1))
    out = run(api, host, tmp_path, parent='eth1', ipam=dict(config=[SUBNET]), host_shim={}, promiscuous=True)
    assert not out.failed, out.result
    body = [w for w in api.writes if w[0] == 'post'][0][2]
    assert body['IPAM']['Config'][0]['AuxiliaryAddresses'] == {'host-shim': '192.168.50.254'}
    assert body['Options'] == dict(parent='eth1', macvlan_mode='bridge')
    unit = (tmp_path / 'netfleet-shim-nfs-lan.service').read_text()
    assert macvlan_shim.unit_marker('lan') in unit
    assert host.changes == ['ip link set dev eth1 promisc on', 'systemctl daemon-reload',
                            'systemctl enable netfleet-shim-nfs-lan.service', 'systemctl restart netfleet-shim-nfs-lan.service']
    assert [h['name'] for h in out.result['host']] == ['shim nfs-lan', 'parent eth1']
    assert out.result['network']['Name'] == 'lan'


def test_second_run_is_unchanged(tmp_path):
    spec = macvlan_shim.ShimSpec('nfs-lan', 'eth1', '192.168.50.254', ['192.168.50.64/27'])
    (tmp_path / 'netfleet-shim-nfs-lan.service').write_text(spec.unit_text('/usr/sbin/ip', 'lan'))
    existing = lan()
    existing['IPAM']['Config'][0].update(IPRange='192.168.50.64/27', AuxiliaryAddresses={'host-shim': '192.168.50.254'})
    host = FakeHost({'eth1': ETH1, 'nfs-lan': shim_link()}, enabled=True, strict=True)
    out = run(FakeAPI([existing]), host, tmp_path, parent='eth1', ipam=dict(config=[SUBNET]), host_shim={})
    assert not out.failed, out.result
    assert out.result['changed'] is False
    assert out.result['action'] == 'unchanged' and out.result['host_shim']['action'] == 'unchanged'


def test_absent_removes_its_own_shim_before_the_network(tmp_path):
    unit = tmp_path / 'netfleet-shim-nfs-lan.service'
    unit.write_text(macvlan_shim.unit_marker('lan') + '\n[Unit]\n')
    api, host = StatefulAPI([lan()]), FakeHost({'eth1': ETH1, 'nfs-lan': shim_link()}, enabled=True)
    out = run(api, host, tmp_path, state='absent')
    assert not out.failed, out.result
    assert out.result['action'] == 'removed' and out.result['changed'] is True
    assert host.changes == ['systemctl disable --now netfleet-shim-nfs-lan.service', 'systemctl daemon-reload',
                            'ip link del nfs-lan']
    assert not unit.exists()
    assert api.writes == [('remove', lan()['Id'])]


def test_absent_leaves_a_shim_of_another_network(tmp_path):
    (tmp_path / 'netfleet-shim-nfs-lan.service').write_text(macvlan_shim.unit_marker('other') + '\n')
    out = run(StatefulAPI([lan()]), FakeHost({'eth1': ETH1}), tmp_path, state='absent')
    assert out.result['host'] == []


def test_promiscuous_failure_after_the_network_reports_changed(tmp_path):
    host = FakeHost(dict(eth1=ETH1), fail=['ip link'])
    out = run(StatefulAPI(), host, tmp_path, parent='eth1', ipam=dict(config=[SUBNET]), promiscuous=True)
    assert out.failed and out.result['changed'] is True
    assert out.result['msg'].startswith("network 'lan' is in place but promiscuous mode on eth1 could not be set")
    assert [r['name'] for r in out.result['completed']] == ['lan']
    assert out.result['failed_steps'][0]['name'] == 'parent eth1'


def test_systemctl_failure_is_reported_with_what_completed(tmp_path):
    host = FakeHost(dict(eth1=ETH1), fail=['systemctl enable'])
    out = run(StatefulAPI(), host, tmp_path, parent='eth1', ipam=dict(config=[SUBNET]), host_shim={})
    assert out.failed and out.result['changed'] is True
    assert out.result['msg'].startswith('systemctl enable netfleet-shim-nfs-lan.service failed: Operation not permitted')


def test_request_problems_listed_together_before_the_engine(tmp_path):
    out = run(FakeAPI(), FakeHost(dict(eth1=ETH1), strict=True), tmp_path, parent='eth9',
              ipam=dict(config=[dict(SUBNET, gateway='192.168.50.70')]))
    assert out.failed and out.result['changed'] is False
    assert len(out.result['problems']) == 2
    assert "parent 'eth9' does not exist on this host" in out.result['problems'][0]
    assert 'gateway 192.168.50.70 is inside ip_range' in out.result['problems'][1]


def test_overlapping_macvlan_on_the_same_parent_is_refused(tmp_path):
    other = network('office', [('192.168.50.0/25', None)], driver='macvlan', Options=dict(parent='eth1'))
    out = run(FakeAPI([other]), FakeHost(dict(eth1=ETH1), strict=True), tmp_path, parent='eth1', ipam=dict(config=[SUBNET]))
    assert out.failed
    assert "overlaps subnet 192.168.50.0/25 of macvlan network 'office' on the same parent eth1" in out.result['msg']


def test_shim_needs_an_ip_range(tmp_path):
    out = run(FakeAPI(), FakeHost(dict(eth1=ETH1), strict=True), tmp_path, parent='eth1',
              ipam=dict(config=[dict(subnet='192.168.50.0/24')]), host_shim={})
    assert out.failed and "give ip_range (this host's slice of the subnet, e.g. 192.168.50.0/28)" in out.result['msg']


def test_shim_name_taken_by_a_physical_interface(tmp_path):
    host = FakeHost({'eth1': ETH1, 'nfs-lan': ETH1}, strict=True)
    out = run(FakeAPI(), host, tmp_path, parent='eth1', ipam=dict(config=[SUBNET]), host_shim={})
    assert out.failed and "host_shim name 'nfs-lan' is an existing" in out.result['msg']


def test_requested_shim_address_checked(tmp_path):
    out = run(FakeAPI(), FakeHost(dict(eth1=ETH1), strict=True), tmp_path, parent='eth1',
              ipam=dict(config=[SUBNET]), host_shim=dict(address='192.168.50.70'))
    assert out.failed and 'is inside ip_range 192.168.50.64/27' in out.result['msg']


def test_second_macvlan_on_the_parent_names_the_holder_before_the_engine(tmp_path):
    """Issue 16 item 9: the engine would answer 'network dm-0a1b2c... is already using parent interface'."""
    other = network('office', [('10.99.0.0/24', None)], driver='macvlan', Options=dict(parent='eth1'))
    out = run(FakeAPI([other]), FakeHost(dict(eth1=ETH1), strict=True), tmp_path, parent='eth1', ipam=dict(config=[SUBNET]))
    assert out.failed and out.result['changed'] is False
    assert "parent eth1 already carries macvlan network 'office'" in out.result['msg']


def test_ipv6_only_macvlan_on_28_and_refused_before(tmp_path):
    args = dict(parent='eth1', enable_ipv6=True, enable_ipv4=False, ipam=dict(config=[dict(subnet='fd00:50::/64')]))
    api = StatefulAPI(api_version='1.51', engine_version='28.5.2')
    out = run(api, FakeHost(dict(eth1=ETH1)), tmp_path, **args)
    assert not out.failed, out.result
    body = [w for w in api.writes if w[0] == 'post'][0][2]
    assert body['EnableIPv4'] is False and body['Driver'] == 'macvlan'
    old = run(FakeAPI(), FakeHost(dict(eth1=ETH1), strict=True), tmp_path, **args)
    assert old.failed and old.result['changed'] is False
    assert "option 'enable_ipv4: false' of network 'lan' needs Docker API 1.48 (Docker 28.0)" in old.result['msg']
