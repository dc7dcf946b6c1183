# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docker_net's driver end to end against an in-memory engine: results, check mode, partial failures."""

from __future__ import annotations

import pytest
from engine_fakes import FakeAPI, FakeModule, ModuleExit, StatefulAPI, _id, container, network

from ansible_collections.netfleet.docker.plugins.module_utils._common.client import Engine
from ansible_collections.netfleet.docker.plugins.modules import docker_net

ENDPOINT = 'unix:///fake/docker.sock'


def run(api, check_mode=False, diff=False, **params):
    module = FakeModule(docker_net.argument_spec(), params, check_mode=check_mode, diff=diff)
    driver = docker_net.DockerNetDriver(module)
    driver.connect = lambda: Engine(api, ENDPOINT)
    with pytest.raises(ModuleExit) as exc:
        driver.run()
    return exc.value


def pool(subnet, gateway=None, **more):
    return dict(more, subnet=subnet, gateway=gateway)


def test_create_one_network_reports_record_and_inspected_network():
    api = StatefulAPI([network('other', [('10.99.0.0/24', '10.99.0.1')])])
    out = run(api, name='web', ipam=dict(config=[pool('10.1.0.0/24')]), labels=dict(team='blue'))
    assert not out.failed
    assert out.result['changed'] is True
    [record] = out.result['networks']
    assert record['action'] == 'created' and record['steps'] == ['create']
    assert record['id'] == out.result['network']['Id']
    assert out.result['network']['Labels'] == dict(team='blue')


def test_check_mode_predicts_and_writes_nothing():
    api = FakeAPI([network('web', Labels=dict(team='blue'))])  # any write fails the test
    out = run(api, check_mode=True, diff=True, name='web', labels=dict(team='red'))
    assert out.result['changed'] is True
    assert out.result['networks'][0]['action'] == 'recreated'
    assert out.result['diff']['before']['labels'] == dict(team='blue')
    assert out.result['diff']['after']['labels'] == dict(team='red')
    assert out.result['diff']['after_header'] == 'network web (recreated)'


def test_second_run_is_unchanged():
    api = FakeAPI([network('web', Labels=dict(team='blue'))])
    out = run(api, name='web', labels=dict(team='blue'))
    assert out.result['changed'] is False
    assert out.result['networks'][0]['action'] == 'unchanged'


def test_batch_records_in_request_order_applied_in_apply_order():
    api = StatefulAPI([network('old', [('10.5.0.0/24', '10.5.0.1')])])
    out = run(api, networks=[dict(name='new', ipam=dict(config=[pool('10.5.0.0/24')])),
                             dict(name='old', state='absent')])
    assert [r['name'] for r in out.result['networks']] == ['new', 'old']
    assert [w[0] for w in api.writes] == ['remove', 'post']  # the subnet is freed first


def test_partial_batch_failure_reports_changed_and_apply_order():
    """Regression: a batch failing part-way said nothing of `changed` and listed request order."""
    gone = network('gone', [('10.7.0.0/24', '10.7.0.1')])
    web = network('web', [('10.8.0.0/24', '10.8.0.1')], Labels=dict(team='blue'))
    api = StatefulAPI([gone, web], fail_create=1)
    out = run(api, networks=[dict(name='fresh', ipam=dict(config=[pool('10.9.0.0/24')])),
                             dict(name='gone', state='absent'),
                             dict(name='web', labels=dict(team='red'))])
    assert out.failed
    assert out.result['changed'] is True
    assert [r['name'] for r in out.result['completed']] == ['gone']
    assert out.result['completed'][0]['action'] == 'removed' and out.result['completed'][0]['id'] == _id('gone')
    [failed] = out.result['failed_steps']
    assert failed['name'] == 'web' and failed['done'] == ['remove']
    assert "refused to create network 'web'" in failed['error']
    assert [r['name'] for r in out.result['not_attempted']] == ['fresh']


def test_failure_of_the_first_step_after_a_removal_still_reports_changed():
    web = network('web', [('10.8.0.0/24', '10.8.0.1')], Labels=dict(team='blue'))
    api = StatefulAPI([web], fail_create=2)  # the recreate and its rollback both fail
    out = run(api, name='web', labels=dict(team='red'))
    assert out.failed and out.result['changed'] is True
    assert out.result['completed'] == [] and out.result['not_attempted'] == []
    assert 'rolling back also failed' in out.result['msg']


def test_validation_problems_fail_before_the_engine_is_written():
    api = FakeAPI()
    out = run(api, name='web', mtu=10)
    assert out.failed and out.result['changed'] is False
    assert out.result['msg'] == "network 'web': mtu 10 is out of range; use 68..65535 (the underlay MTU, e.g. 1500)"
    assert out.result['problems'] == [out.result['msg']]


def test_every_problem_of_a_request_in_one_answer():
    """Issue 16 item 4: six mistakes, six problems, one failure (before: '2 problems')."""
    api = FakeAPI([network('taken', [('10.30.0.0/24', '10.30.0.1')])])
    out = run(api, networks=[
        dict(name='a', driver='nosuchdriver', ipam=dict(config=[
            pool('10.20.0.0/24', gateway='10.21.0.1', ip_range='10.22.0.0/25'),
            pool('fd00:20::/64')])),
        dict(name='b', ipam=dict(config=[pool('10.40.0.1/24')])),
        dict(name='c', enable_ipv6=True, ipam=dict(config=[pool('fd00:20::/80')])),
    ])
    assert out.failed and out.result['changed'] is False
    problems = out.result['problems']
    expected = ['gateway 10.21.0.1 is outside the subnet', 'ip_range 10.22.0.0/25 is outside the subnet',
                'subnet fd00:20::/64 is IPv6 but enable_ipv6 is not true', "driver 'nosuchdriver' is not available",
                "'10.40.0.1/24' has host bits set", "overlaps subnet fd00:20::/80 of network 'c' (in this task)"]
    for words in expected:
        assert [p for p in problems if words in p], (words, problems)
    assert len(problems) == 6, problems
    assert out.result['msg'].startswith('6 problems, nothing was changed: ')


def test_problems_of_clean_requests_join_those_of_flawed_ones():
    api = FakeAPI([network('taken', [('10.30.0.0/24', '10.30.0.1')])])
    out = run(api, networks=[dict(name='a', mtu=1), dict(name='b', ipam=dict(config=[pool('10.30.0.0/25')]))])
    assert len(out.result['problems']) == 2
    assert 'already on the engine' in out.result['problems'][1]


def test_unreachable_engine_still_lists_the_request_problems():
    def refuse():
        raise docker_net.client.EngineError('cannot reach the Docker engine at %s' % ENDPOINT)
    module = FakeModule(docker_net.argument_spec(), dict(name='web', mtu=1))
    driver = docker_net.DockerNetDriver(module)
    driver.connect = refuse
    with pytest.raises(ModuleExit) as exc:
        driver.run()
    assert exc.value.result['problems'] == ["network 'web': mtu 1 is out of range; use 68..65535 (the underlay MTU, e.g. 1500)"]


def test_planning_problem_is_reported_with_problems_key():
    api = FakeAPI([network('web')], containers=[container('app', networks=dict(web={}))])
    out = run(api, name='web', state='absent')
    assert out.failed and 'has endpoints: app (running)' in out.result['msg']
    assert out.result['problems'] == [out.result['msg']]


def test_removed_network_reports_empty_network_and_its_old_id():
    api = StatefulAPI([network('web')])
    out = run(api, name='web', state='absent')
    assert out.result['network'] == {}
    assert out.result['networks'][0]['id'] == _id('web')


def test_forced_removal_warns_and_names_stranded_containers():
    api = StatefulAPI([network('web')], containers=[container('app', networks=dict(web={}))])
    module = FakeModule(docker_net.argument_spec(), dict(name='web', state='absent', force=True))
    driver = docker_net.DockerNetDriver(module)
    driver.connect = lambda: Engine(api, ENDPOINT)
    with pytest.raises(ModuleExit) as exc:
        driver.run()
    assert exc.value.result['networks'][0]['stranded_containers'] == ['app']
    assert module.warnings == ["removing network 'web' left containers app on no network (they keep running with "
                               "only the loopback interface); connect them to another network or stop them"]
