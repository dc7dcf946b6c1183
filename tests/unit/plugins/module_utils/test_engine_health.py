# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The restart gate: quorum before, a whole host after (engine, swarm node, restart-policy containers)."""

from __future__ import annotations

import pytest

from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import EngineError, PlanningError
from ansible_collections.netfleet.docker.plugins.module_utils._daemon import health, rollout
from ansible_collections.netfleet.docker.plugins.modules import engine_health

from host_fakes import Exited, Failed, FakeModule


def node(name, manager=None, reach='reachable'):
    data = dict(ID=name + '-id', Description=dict(Hostname=name))
    if manager:
        data['ManagerStatus'] = dict(Reachability=reach)
    return data


def container(name, running=True, policy='unless-stopped', networks=('web',)):
    return dict(Id=name + '-id', Name='/' + name, State=dict(Running=running),
                HostConfig=dict(RestartPolicy=dict(Name=policy)),
                NetworkSettings=dict(Networks=dict((net, {}) for net in networks)))


def listed(name, running=True, networks=('web',)):
    return dict(Id=name + '-id', Names=['/' + name], State='running' if running else 'exited',
                NetworkSettings=dict(Networks=dict((net, {}) for net in networks)))


class FakeApi:
    def __init__(self, info, nodes=(), containers=(), listing=None):
        self._info, self._nodes, self._containers = info, list(nodes), list(containers)
        self._listing = listing
        self.started = []

    def info(self):
        return self._info

    def nodes(self):
        return self._nodes

    def containers(self, all=False):  # noqa: A002 - the SDK's own keyword
        if self._listing is not None:
            return self._listing
        return [listed(c['Name'][1:], c['State']['Running'], tuple(c['NetworkSettings']['Networks'])) for c in self._containers]

    def inspect_container(self, cid):
        return [c for c in self._containers if c['Id'] == cid][0]

    def start(self, cid):
        self.started.append(cid)


class FakeEngine:
    def __init__(self, api):
        self.api = api

    def call(self, doing, func, *args, **kwargs):
        return func(*args, **kwargs)


MANAGER_INFO = dict(ServerVersion='28.5.2', Swarm=dict(LocalNodeState='active', ControlAvailable=True, NodeID='m1-id', Managers=3))
WORKER_INFO = dict(ServerVersion='26.1.5', Swarm=dict(LocalNodeState='active', ControlAvailable=False, NodeID='w1-id', Managers=3))


def three_managers(down=0):
    return [node('m%d' % i, manager=True, reach='unreachable' if i > 3 - down else 'reachable') for i in (1, 2, 3)]


def test_quorum_allows_one_manager_of_three_down():
    view = health.swarm_view(MANAGER_INFO, three_managers())
    assert (view.role, view.managers_total, view.managers_reachable) == ('manager', 3, 3)
    assert health.quorum_problem(view, 'm1') is None


def test_quorum_refuses_a_second_manager_down():
    view = health.swarm_view(MANAGER_INFO, three_managers(down=1))
    problem = health.quorum_problem(view, 'm1')
    assert 'leave 1 of 3 managers reachable, below the quorum of 2' in problem
    assert 'unreachable: m3' in problem


def test_worker_and_single_node_never_block():
    assert health.quorum_problem(health.swarm_view(WORKER_INFO, None), 'w1') is None
    assert health.quorum_problem(health.swarm_view(dict(Swarm={}), None), 'solo') is None
    assert health.quorum_warning(health.swarm_view(WORKER_INFO, None), 'w1') is None


def test_one_or_two_managers_cannot_keep_quorum_so_only_warn():
    for managers in (1, 2):
        view = health.swarm_view(MANAGER_INFO, [node('m%d' % i, manager=True) for i in range(1, managers + 1)])
        assert health.quorum_problem(view, 'm1') is None
        assert 'has %d manager(s)' % managers in health.quorum_warning(view, 'm1')
    assert health.quorum_warning(health.swarm_view(MANAGER_INFO, three_managers()), 'm1') is None


def test_guarded_containers_keep_running_ones_with_a_policy():
    guarded = health.guarded_containers([container('a'), container('b', policy='no'), container('c', running=False)])
    assert [c.name for c in guarded] == ['a']


def test_readiness_lists_everything_missing():
    before = health.EngineSnapshot(True, swarm=health.SwarmView(state='active', role='manager', control_available=True),
                                   containers=(health.ContainerState('a', 'a-id', True, 'always', ('web', 'ovl')),
                                               health.ContainerState('b', 'b-id', True, 'always', ('web',)),
                                               health.ContainerState('c', 'c-id', True, 'always', ('web',))))
    now = health.EngineSnapshot(True, swarm=health.SwarmView(state='active', role='manager', control_available=False),
                                containers=(health.ContainerState('a', 'a-id', True, '', ('web',)),
                                            health.ContainerState('b', 'b-id', False, '', ())))
    problems = health.readiness_problems(before, now)
    assert problems == ['the swarm manager has no control plane yet (raft not rejoined)',
                        'container a is not attached to ovl yet', 'container b (restart policy always) is not running',
                        'container c is gone']
    assert [c.name for c in health.stragglers(before, now)] == ['b']
    assert health.readiness_problems(before, health.EngineSnapshot(False)) == ['the engine does not answer yet']
    inactive = health.EngineSnapshot(True, swarm=health.SwarmView(state='pending'))
    assert 'the swarm node is pending, not active' in health.readiness_problems(before, inactive)


def test_snapshot_round_trips_through_the_play():
    snap = health.read_snapshot(FakeEngine(FakeApi(MANAGER_INFO, three_managers(), [container('a')])))
    again = health.snapshot_from_dict(snap.as_dict())
    assert again == snap
    assert snap.containers[0].networks == ('web',)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def gate(params, engines, clock=None):
    clock = clock or Clock()
    sequence = list(engines)

    def connect(_module):
        engine = sequence.pop(0) if len(sequence) > 1 else sequence[0]
        if engine is None:
            raise EngineError('down')
        return engine

    defaults = dict(state='ready', quorum_check=True, ready_timeout=30, start_stopped=True, start_after=5, host_label='h1')
    defaults.update(params)
    return rollout.RestartGate(FakeModule(defaults), defaults, connect=connect, clock=clock, sleep=clock.sleep)


def before_snapshot():
    return health.read_snapshot(FakeEngine(FakeApi(WORKER_INFO, (), [container('a')]))).as_dict()


def test_snapshot_refuses_when_quorum_would_be_lost():
    engine = FakeEngine(FakeApi(MANAGER_INFO, three_managers(down=1), [container('a')]))
    with pytest.raises(PlanningError) as caught:
        gate(dict(state='snapshot'), [engine]).plan()
    assert 'below the quorum' in str(caught.value)
    assert gate(dict(state='snapshot', quorum_check=False), [engine]).plan() == []


def test_snapshot_needs_an_engine():
    with pytest.raises(EngineError):
        gate(dict(state='snapshot'), [None]).plan()


def test_ready_waits_through_a_restart():
    back = FakeEngine(FakeApi(WORKER_INFO, (), [container('a')]))
    restart = gate(dict(snapshot=before_snapshot()), [None, None, back])
    assert restart.plan() == []
    assert restart.elapsed() == 2.0
    assert restart.result(started=[])['snapshot']['answers'] is True


def test_ready_starts_what_the_engine_gave_up_on():
    api = FakeApi(WORKER_INFO, (), [container('a', running=False)])
    restart = gate(dict(snapshot=before_snapshot()), [FakeEngine(api)])
    steps = restart.plan()
    assert [(s.name, s.action) for s in steps] == [('a', 'started')]
    restart.start(steps[0])
    assert api.started == ['a-id']
    api._containers = [container('a')]
    assert restart.result(started=['a'])['started'] == ['a']


def test_ready_gives_up_at_the_timeout_naming_what_is_missing():
    api = FakeApi(WORKER_INFO, (), [container('a', networks=())])
    with pytest.raises(PlanningError) as caught:
        gate(dict(snapshot=before_snapshot(), ready_timeout=3), [FakeEngine(api)]).plan()
    assert 'h1 is not whole' in str(caught.value) and 'not attached to web' in str(caught.value)
    assert 'the hosts after it are untouched' in str(caught.value)


def test_request_problems():
    assert rollout.request_problems(dict(state='ready', ready_timeout=-1, start_after=0, snapshot=dict(answers=True)))
    assert rollout.request_problems(dict(state='ready', ready_timeout=1, start_after=1, snapshot=dict(x=1)))
    assert rollout.request_problems(dict(state='snapshot', ready_timeout=1, start_after=1, snapshot=None)) == []


def test_module_driver_snapshot(monkeypatch):
    engine = FakeEngine(FakeApi(MANAGER_INFO, three_managers(), [container('a')]))
    monkeypatch.setattr(rollout.client, 'connect', lambda module: engine)
    params = dict(state='snapshot', snapshot=None, quorum_check=True, ready_timeout=5, start_stopped=True, start_after=1,
                  host_label='m1')
    module = FakeModule(params)
    with pytest.raises(Exited) as done:
        engine_health.EngineHealth(module).run()
    assert done.value.result['changed'] is False
    assert done.value.result['snapshot']['swarm']['role'] == 'manager'
    engine.api._nodes = three_managers(down=1)
    with pytest.raises(Failed) as failed:
        engine_health.EngineHealth(FakeModule(params)).run()
    assert 'below the quorum' in failed.value.result['msg']
    assert engine_health.argument_spec()['state']['default'] == 'snapshot'


def test_snapshot_of_a_single_manager_warns_and_goes_on():
    engine = FakeEngine(FakeApi(MANAGER_INFO, [node('m1', manager=True)], [container('a')]))
    restart = gate(dict(state='snapshot'), [engine])
    assert restart.plan() == []
    assert any('has 1 manager(s)' in text for text in restart.module.warnings)
