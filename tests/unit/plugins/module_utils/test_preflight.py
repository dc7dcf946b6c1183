# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import socket

import pytest

from ansible_collections.netfleet.docker.plugins.module_utils._overlay import preflight

LINKS = preflight.parse_ip_addr_json(json.dumps([
    dict(ifname='lo', mtu=65536, addr_info=[dict(local='127.0.0.1')]),
    dict(ifname='eth0', mtu=1450, addr_info=[dict(local='10.231.0.11'), dict(local='fd00:231::11')]),
    dict(ifname='eth1', mtu=9000, addr_info=[dict(local='fd00:1::5')]),
    dict(ifname='docker0', mtu=1500, addr_info=[]),
]))


@pytest.mark.parametrize('text, expected', [
    ('10.0.0.1', ('10.0.0.1', None)),
    ('10.0.0.1:2377', ('10.0.0.1', 2377)),
    ('[fd00::1]:2377', ('fd00::1', 2377)),
    ('fd00::1', ('fd00::1', None)),
    ('eth0:2377', ('eth0', 2377)),
])
def test_split_host_port(text, expected):
    assert preflight.split_host_port(text) == expected


@pytest.mark.parametrize('text', ['10.0.0.1:99999', '10.0.0.1:abc', '[fd00::1'])
def test_split_host_port_rejects(text):
    with pytest.raises(ValueError):
        preflight.split_host_port(text)


def test_underlay_by_address_and_interface():
    assert preflight.underlay_for('10.231.0.11', LINKS) == dict(interface='eth0', address='10.231.0.11', mtu=1450)
    assert preflight.underlay_for('10.231.0.11:2377', LINKS)['interface'] == 'eth0'
    assert preflight.underlay_for('eth0', LINKS)['address'] == '10.231.0.11'      # IPv4 first
    assert preflight.underlay_for('eth1', LINKS) == dict(interface='eth1', address='fd00:1::5', mtu=9000)
    assert preflight.underlay_for('[fd00:231::11]:2377', LINKS)['mtu'] == 1450


def test_address_not_on_host_names_the_host_addresses():
    with pytest.raises(preflight.PreflightError) as err:
        preflight.underlay_for('10.231.0.99', LINKS)
    text = str(err.value)
    assert 'advertise_addr 10.231.0.99 is not an address of this host' in text
    assert '10.231.0.11 (eth0)' in text and '127.0.0.1' not in text


def test_unknown_interface_and_interface_without_address():
    with pytest.raises(preflight.PreflightError, match='no interface and no address of that name'):
        preflight.underlay_for('eth9', LINKS)
    with pytest.raises(preflight.PreflightError, match='has no address'):
        preflight.underlay_for('docker0', LINKS, option='data_path_addr')


def test_manager_port_reachable_and_not():
    server = socket.socket()
    server.bind(('127.0.0.1', 0))
    server.listen(1)
    port = server.getsockname()[1]
    closed = socket.socket()
    closed.bind(('127.0.0.1', 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    try:
        result = preflight.require_manager_port(['127.0.0.1:%d' % port, '127.0.0.1:%d' % closed_port], timeout=1)
        assert result['reachable'] == ['127.0.0.1:%d' % port]
        with pytest.raises(preflight.PreflightError, match='no manager in remote_addrs answers'):
            preflight.require_manager_port(['127.0.0.1:%d' % closed_port], timeout=1)
    finally:
        server.close()


class FakeModule:
    def __init__(self, bins, rc=0, err=''):
        self.bins, self.rc, self.err, self.calls = bins, rc, err, []

    def get_bin_path(self, name):
        return self.bins.get(name)

    def run_command(self, args):
        self.calls.append(args)
        return self.rc, '', self.err


def test_esp_probe_runs_in_a_throwaway_netns():
    module = FakeModule(dict(unshare='/usr/bin/unshare', ip='/usr/sbin/ip'), rc=2,
                        err='Error: Requested AEAD algorithm not found.')
    result = preflight.esp_support(module)
    assert result['supported'] is False and 'Requested AEAD algorithm not found' in result['reason']
    assert result['method'] == 'xfrm probe'
    assert module.calls[0][:3] == ['/usr/bin/unshare', '--net', '/usr/sbin/ip']
    assert 'xfrm' in module.calls[0] and 'rfc4106(gcm(aes))' in module.calls[0]
    with pytest.raises(preflight.PreflightError, match='encrypted overlay networks need IPsec ESP'):
        preflight.require_esp(module)


def test_esp_probe_accepted():
    assert preflight.esp_support(FakeModule(dict(unshare='u', ip='i'), rc=0))['supported'] is True


def test_esp_without_probe_tools_falls_back_to_proc_crypto(monkeypatch):
    monkeypatch.setattr(preflight, 'ESP_AEAD', 'no-such-algorithm-in-proc-crypto')
    result = preflight.esp_support(FakeModule({}))
    assert result['supported'] is False and 'cannot confirm' in result['reason']
    monkeypatch.setattr(preflight, 'ESP_AEAD', 'name')      # every /proc/crypto entry has a "name" line
    assert preflight.esp_support(FakeModule({}))['supported'] is True
