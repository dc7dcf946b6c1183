# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Messages of bad input that named the object and the problem but not the fix (issue 11 item 4).

Each row: the bad input, and the fragments its message must hold (the object, the problem, the fix).
The host-level table that runs the same inputs on a lab host is tests/lab/bad_input/.
"""

from __future__ import annotations

import pytest
from engine_fakes import FakeAPI, FakeModule, ModuleExit
from test_engine_health import gate

from ansible_collections.netfleet.docker.plugins.module_utils._common import client
from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import EngineError
from ansible_collections.netfleet.docker.plugins.module_utils._daemon import daemon_config as dc
from ansible_collections.netfleet.docker.plugins.module_utils._overlay import request
from ansible_collections.netfleet.docker.plugins.module_utils._plan import address_plan as ap
from ansible_collections.netfleet.docker.plugins.modules import docker_net_info, overlay_cluster


def overlay_params(**overrides):
    values = dict((key, spec.get('default')) for key, spec in overlay_cluster.argument_spec().items())
    values.update(overrides)
    return values


def only_problem_holding(problems, fragments):
    matching = [problem for problem in problems if fragments[0] in problem]
    assert len(matching) == 1, problems
    missing = [fragment for fragment in fragments if fragment not in matching[0]]
    assert not missing, (missing, matching[0])


@pytest.mark.parametrize('overrides, fragments', [
    (dict(remote_addrs=['10.0.0.1:2377'], join_token='not-a-token'),
     ['join_token does not look like a swarm join token', 'docker swarm join-token -q worker|manager']),
    (dict(node='n1', state='absent'),
     ['node: n1 with state: absent', 'only works with state: present', 'run overlay_cluster with state: absent on that node']),
    (dict(backend='kv', cluster_store='etcd://10.0.0.5:2379', return_tokens=True),
     ['return_tokens is a swarm setting', 'has no join tokens', 'drop return_tokens']),
    (dict(state='absent', return_tokens=True),
     ['return_tokens with state: absent', 'no tokens to return', 'drop return_tokens']),
    (dict(data_path_port=80), ['data_path_port 80', 'is out of range', 'use 4789']),
    (dict(subnet_size=30), ['subnet_size 30', 'is out of range', 'give a prefix length from 1 to 29']),
    (dict(default_addr_pool=['10.0.0.0/16'], subnet_size=8),
     ['subnet_size /8', 'larger than the pool /16', 'give a subnet_size of 16 or more']),
    (dict(default_addr_pool=['10.0.0.1/16']), ['default_addr_pool 10.0.0.1/16', 'host bits set', 'did you mean 10.0.0.0/16?']),
    (dict(default_addr_pool=['ten/8']), ['default_addr_pool ten/8', 'does not appear to be', 'e.g. 10.20.0.0/16']),
])
def test_overlay_request_names_the_fix(overrides, fragments):
    only_problem_holding(request.validate(overlay_params(**overrides)), fragments)


def fleet_spec(**change):
    spec = dict(supernets={'fleet': '10.64.0.0/16'}, hosts=['a'], networks=[dict(name='web', prefix=26, supernet='fleet')])
    spec.update(change)
    return spec


@pytest.mark.parametrize('change, fragments', [
    (dict(networks=[dict(name='web', prefix=26, supernet='nope')]),
     ["no supernet named 'nope'", 'declared: fleet', "declare 'nope' under supernets"]),
    (dict(networks=[dict(name='web', prefix=8, supernet='fleet')]),
     ["network 'web' on a", 'a /8 cannot come from supernet fleet (10.64.0.0/16)', 'give a prefix from /16 to /32']),
])
def test_address_plan_names_the_fix(change, fragments):
    with pytest.raises(ap.PlanError) as caught:
        ap.plan(fleet_spec(**change))
    only_problem_holding([str(caught.value)], fragments)


def test_daemon_fixed_cidr_outside_bip_names_the_fix():
    problems = dc.bridge_problems({'bip': '10.240.5.1/24', 'fixed-cidr': '10.240.6.0/25'})
    only_problem_holding(problems, ['fixed-cidr 10.240.6.0/25', 'not inside the bridge network of bip 10.240.5.1/24',
                                    'give a fixed-cidr inside 10.240.5.0/24'])


@pytest.mark.parametrize('options, fragments', [
    ({'bip': 'abc'}, ["daemon.json key 'bip'", "'abc' is not valid", 'e.g. 172.26.0.1/16']),
    ({'fixed-cidr': 'ten/24'}, ["daemon.json key 'fixed-cidr'", 'is not valid', 'e.g. 172.26.0.0/24']),
    ({'dns': ['resolver']}, ["daemon.json key 'dns'", 'is not valid', 'e.g. [10.0.0.53]']),
])
def test_daemon_value_that_does_not_parse_names_a_valid_one(options, fragments):
    problems = dc.validate(options, options, engine_version='26.1.5', swarm_active=False, allow_insecure_tcp=False,
                           allow_unknown_keys=False)
    only_problem_holding(problems, fragments)


class RefusingFilters(FakeAPI):
    def networks(self, filters=None):  # pylint: disable=arguments-differ
        if filters:
            raise EngineError("the engine at unix:///fake/docker.sock refused to list networks: invalid filter 'nope' "
                              '(HTTP 400)')
        return super().networks()

    def info(self):
        return dict(super().info(), Swarm=dict(LocalNodeState='inactive'))


def test_docker_net_info_refused_filter_names_the_filters_the_engine_takes():
    module = FakeModule(docker_net_info.argument_spec(), dict(filters=dict(nope='x')))
    driver = docker_net_info.DockerNetInfoDriver(module)
    driver.connect = lambda: client.Engine(RefusingFilters(), 'unix:///fake/docker.sock')
    with pytest.raises(ModuleExit) as caught:
        driver.run()
    assert caught.value.failed
    only_problem_holding([caught.value.result['msg']],
                         ['filters nope', "invalid filter 'nope'", 'driver, id, label, name, scope, type'])


def test_engine_health_snapshot_says_why_the_engine_does_not_answer():
    with pytest.raises(EngineError) as caught:
        gate(dict(state='snapshot'), [None]).plan()
    # the gate's fake connect raises EngineError('down'): the reason is now part of the message
    only_problem_holding([str(caught.value)], ['h1: the engine does not answer', 'systemctl start docker', 'down'])
