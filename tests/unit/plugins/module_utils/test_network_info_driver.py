# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docker_net_info against an in-memory engine: exact names, endpoints of stopped containers, features."""

from __future__ import annotations

import pytest
from engine_fakes import FakeAPI, FakeModule, ModuleExit, container, network

from ansible_collections.netfleet.docker.plugins.module_utils._common import client
from ansible_collections.netfleet.docker.plugins.modules import docker_net_info


class InfoAPI(FakeAPI):
    def networks(self, filters=None):  # pylint: disable=arguments-differ
        assert filters is None
        return super().networks()

    def info(self):
        return dict(super().info(), Swarm=dict(LocalNodeState='inactive'), OperatingSystem='Debian')


def run(api, **params):
    module = FakeModule(docker_net_info.argument_spec(), params)
    driver = docker_net_info.DockerNetInfoDriver(module)
    driver.connect = lambda: client.Engine(api, 'unix:///fake/docker.sock')
    with pytest.raises(ModuleExit) as exc:
        driver.run()
    return exc.value


def test_networks_endpoints_engine_and_features():
    api = InfoAPI([network('web'), network('bridge', [('172.17.0.0/16', '172.17.0.1')]), network('webx')],
                  containers=[container('app', networks=dict(web=dict(ip='172.20.0.10'))),
                              container('db', running=False, networks=dict(web={}))])
    out = run(api, names=['web', 'nope'])
    assert not out.failed and out.result['changed'] is False
    [web] = out.result['networks']
    assert web['name'] == 'web' and [e['container'] for e in web['endpoints']] == ['app', 'db']
    assert web['endpoints'][0]['static_ipv4_address'] == '172.20.0.10'
    assert out.result['missing'] == ['nope']
    assert out.result['engine']['default_bridge']['subnet'] == '172.17.0.0/16'
    assert out.result['features']['legacy_kv_overlay'] is True


def test_engine_error_is_the_message():
    def refuse():
        raise client.EngineError('cannot reach the Docker engine at unix:///x')
    module = FakeModule(docker_net_info.argument_spec(), {})
    driver = docker_net_info.DockerNetInfoDriver(module)
    driver.connect = refuse
    with pytest.raises(ModuleExit) as exc:
        driver.run()
    assert exc.value.failed and exc.value.result['msg'] == 'cannot reach the Docker engine at unix:///x'
