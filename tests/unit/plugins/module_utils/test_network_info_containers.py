# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docker_net_info containers: true - every container's network mode, networks and endpoints; features 27-29."""

from __future__ import annotations

import pytest
from engine_fakes import FakeAPI, FakeModule, ModuleExit, container, network

from ansible_collections.netfleet.docker.plugins.module_utils._common import client, versions
from ansible_collections.netfleet.docker.plugins.modules import docker_net_info


class InfoAPI(FakeAPI):
    def networks(self, filters=None):  # pylint: disable=arguments-differ
        self.filters = filters
        nets = super().networks()
        if filters:
            nets = [net for net in nets if net['Driver'] == filters.get('driver')]
        return nets

    def info(self):
        return dict(super().info(), Swarm=dict(LocalNodeState='inactive'))


def run(api, **params):
    module = FakeModule(docker_net_info.argument_spec(), dict(params, journal_dir='/nonexistent/journal'))
    driver = docker_net_info.DockerNetInfoDriver(module)
    driver.connect = lambda: client.Engine(api, 'unix:///fake/docker.sock')
    with pytest.raises(ModuleExit) as exc:
        driver.run()
    return exc.value


def _fleet():
    web = network('web', driver='macvlan')
    app = container('app', networks=dict(web=dict(ip='172.20.0.10', gw_priority=5,
                                                  driver_opts={'com.docker.network.endpoint.ifname': 'eth7'})),
                    network_mode='web')
    sidecar = container('sidecar', network_mode='container:' + app['Id'])
    by_prefix = container('probe', running=False, network_mode='container:' + app['Id'][:12])
    return [web, network('bridge', [('172.17.0.0/16', '172.17.0.1')])], [
        app, sidecar, by_prefix,
        container('hostnet', network_mode='host'),
        container('isolated', running=False, network_mode='none'),
        container('plain', networks=dict(bridge={}), network_mode='default'),
        container('byid', networks=dict(web={}), network_mode=web['Id']),
        container('old'),  # no HostConfig at all: the engine's default
    ]


def test_every_container_with_network_mode_networks_and_endpoints():
    networks, containers = _fleet()
    out = run(InfoAPI(networks, containers), containers=True, endpoints=False, engine=False)
    facts = dict((fact['name'], fact) for fact in out.result['containers'])
    assert [fact['name'] for fact in out.result['containers']] == sorted(facts)
    modes = dict((name, fact['network_mode']) for name, fact in facts.items())
    assert modes == dict(app='web', sidecar='container:app', probe='container:app', hostnet='host',
                         isolated='none', plain='bridge', byid='web', old='bridge')
    assert facts['app']['networks'] == ['web'] and facts['sidecar']['networks'] == []
    [endpoint] = facts['app']['endpoints']
    assert endpoint['network'] == 'web' and endpoint['ipv4_address'] == '172.20.0.10'
    assert endpoint['gw_priority'] == 5 and endpoint['interface_name'] == 'eth7' and endpoint['driver_opts'] == {}
    assert facts['isolated']['running'] is False and facts['isolated']['state'] == 'exited'
    assert 'endpoints' not in out.result['networks'][0]


def test_containers_are_left_out_unless_asked_and_filters_still_resolve_network_ids():
    networks, containers = _fleet()
    assert 'containers' not in run(InfoAPI(networks, containers)).result
    out = run(InfoAPI(networks, containers), containers=True, filters=dict(driver='bridge'))
    assert [net['name'] for net in out.result['networks']] == ['bridge']
    assert dict((f['name'], f['network_mode']) for f in out.result['containers'])['byid'] == 'web'


def test_features_for_27_to_29():
    assert versions.features_for((26, 1))['bridge_gateway_mode_routed'] is False
    on_27 = versions.features_for((27, 5))
    assert on_27['bridge_gateway_mode_routed'] and on_27['endpoint_sysctls'] and not on_27['ipv6_only_networks']
    on_28 = versions.features_for((28, 1))
    assert on_28['ipv6_only_networks'] and on_28['endpoint_gw_priority'] and on_28['bridge_gateway_mode_isolated']
    assert not on_28['trusted_host_interfaces']
    on_285 = versions.features_for((28, 5))
    assert on_285['trusted_host_interfaces'] and on_285['inspect_hides_enable_ip_options']
    assert not on_285['firewall_backend_nftables']
    on_29 = versions.features_for((29, 6))
    assert on_29['firewall_backend_nftables'] and on_29['ipam_status_subnets'] and on_29['swarm_nftables']
    assert not versions.features_for((29, 5))['swarm_nftables']
