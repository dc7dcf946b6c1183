# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The swarm state machine of overlay_cluster, end to end through the driver, against a small fake swarm.

Every change is first run in check mode (the fake fails the test on any write), and the prediction is
compared with what the real run then does.
"""

from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.netfleet.docker.plugins.module_utils._common import client
from ansible_collections.netfleet.docker.plugins.module_utils._overlay import kvstore, preflight
from ansible_collections.netfleet.docker.plugins.modules.overlay_cluster import OverlayCluster

from swarm_fakes import (  # noqa: E402 - beside this file (pytest rootdir-relative import)
    MANAGER_TOKEN, WORKER_TOKEN, Exit, FakeEngine, FakeModule, FakeSwarm, Failed, engine_for, links)

MANAGER_IP = '10.231.0.11'


@pytest.fixture
def run(monkeypatch):
    """run(fake_engine, host_addresses=..., check_mode=False, **params) -> (failed, result, module)."""
    state = dict(unreachable=False)

    def manager_port(remote, timeout=3.0):
        if state['unreachable']:
            raise preflight.PreflightError('no manager in remote_addrs answers on its swarm port')
        return dict(reachable=list(remote), unreachable=[])

    monkeypatch.setattr(preflight, 'require_manager_port', manager_port)
    # the kv backend reads the engine's daemon.json for cluster-store-opts: never this machine's own
    monkeypatch.setattr(kvstore, 'DAEMON_JSON', '/nonexistent/netfleet-test/daemon.json')

    def _run(fake, host_addresses=None, check_mode=False, diff=False, **params):
        addresses = host_addresses if host_addresses is not None else [fake.addr]
        monkeypatch.setattr(preflight, 'host_links', lambda module: links(*addresses))
        monkeypatch.setattr(client, 'connect', lambda module: engine_for(fake))
        module = FakeModule(check_mode=check_mode, diff=diff, **params)
        fake.frozen = check_mode
        try:
            OverlayCluster(module).run()
        except Failed as exc:
            return True, exc.result, module
        except Exit as exc:
            return False, exc.result, module
        finally:
            fake.frozen = False
        raise AssertionError('the module neither exited nor failed')

    _run.state = state
    return _run


def predicted_then_real(run, fake, **params):
    """Check mode, then the real run: returns both results; the check run must not write."""
    failed, predicted, _module = run(fake, check_mode=True, diff=True, **params)
    assert not failed, predicted['msg']
    failed, real, _module = run(fake, diff=True, **params)
    assert not failed, real['msg']
    assert predicted['actions'] == real['actions']
    assert predicted['changed'] == real['changed']
    return predicted, real


def manager_with_workers(workers=2, managers=1, unreachable=0):
    fake_swarm = FakeSwarm()
    first = FakeEngine('host1', MANAGER_IP).member(fake_swarm, 'manager')
    others = [FakeEngine('mgr%d' % i, '10.231.1.%d' % i).member(fake_swarm, 'manager') for i in range(2, managers + 1)]
    others += [FakeEngine('down%d' % i, '10.231.2.%d' % i).member(fake_swarm, 'manager', 'unreachable')
               for i in range(unreachable)]
    workers = [FakeEngine('host%d' % (i + 2), '10.231.0.%d' % (12 + i)).member(fake_swarm, 'worker')
               for i in range(workers)]
    return fake_swarm, first, others, workers


# -- init / join --------------------------------------------------------------------------------

def test_init_on_a_fresh_node_is_predicted_then_done_then_idempotent(run):
    fake = FakeEngine()
    request = dict(advertise_addr=MANAGER_IP, default_addr_pool=['10.236.0.0/16'], subnet_size=24, role='manager')
    predicted, real = predicted_then_real(run, fake, **request)
    assert real['actions'] == ['init'] and real['changed'] is True
    assert predicted['role'] == real['role'] == 'manager'
    assert predicted['node_state'] == real['node_state'] == 'active'
    assert predicted['diff']['after']['swarm'] == real['diff']['after']['swarm'] == 'active'
    assert real['cluster_id'].startswith('newcluster') and real['manager_addrs'] == ['%s:2377' % MANAGER_IP]
    assert real['underlay'] == dict(interface='eth0', address=MANAGER_IP, mtu=1500)
    assert [name for name, _kwargs in fake.writes] == ['init_swarm']
    assert fake.writes[0][1]['default_addr_pool'] == ['10.236.0.0/16']
    assert real['objects'] == [dict(name='host1', action='init', changes=['role', 'swarm'])]

    failed, again, _module = run(fake, **request)
    assert not failed and again['changed'] is False and again['actions'] == [] and again['drift'] == []
    assert again['objects'][0]['action'] == 'unchanged'


def test_init_with_own_labels_plans_only_what_differs_from_a_fresh_node(run):
    predicted, real = predicted_then_real(run, FakeEngine(), advertise_addr=MANAGER_IP,
                                          availability='active', labels=dict(rack=2))
    assert real['actions'] == ['init', 'set labels']
    assert [n['labels'] for n in real['nodes']] == [dict(rack='2')]


def test_init_refuses_to_guess_among_several_addresses(run):
    fake = FakeEngine()
    failed, result, _module = run(fake, host_addresses=['10.231.0.11', '192.168.5.1'])
    assert failed and result['changed'] is False and 'several addresses (10.231.0.11, 192.168.5.1)' in result['msg']
    assert fake.writes == []


def test_worker_role_without_remote_addrs_is_refused(run):
    failed, result, _module = run(FakeEngine(), advertise_addr=MANAGER_IP, role='worker')
    assert failed and 'role: worker without remote_addrs' in result['msg']


@pytest.mark.parametrize('token, role', [(WORKER_TOKEN, 'worker'), (MANAGER_TOKEN, 'manager')])
def test_join_as_worker_or_manager(run, token, role):
    manager_with_workers(workers=0)
    fake = FakeEngine('host2', '10.231.0.12')
    request = dict(advertise_addr='10.231.0.12', remote_addrs=[MANAGER_IP], join_token=token, role=role,
                   cluster_id='fakecluster0001')
    predicted, real = predicted_then_real(run, fake, **request)
    assert real['actions'] == ['join %s as %s' % (MANAGER_IP, role)]
    assert predicted['role'] == real['role'] == role
    assert real['preflight']['manager_port'] == dict(reachable=[MANAGER_IP], unreachable=[])
    assert fake.is_manager is (role == 'manager')
    failed, again, _module = run(fake, **request)
    assert not failed and again['changed'] is False and again['actions'] == []


def test_join_with_a_token_of_the_other_role_fails_and_says_it_changed(run):
    manager_with_workers(workers=0)
    fake = FakeEngine('host2', '10.231.0.12')
    failed, result, _module = run(fake, remote_addrs=[MANAGER_IP], join_token=WORKER_TOKEN, role='manager')
    assert failed and result['changed'] is True
    assert 'joined the swarm as worker, but role manager was requested' in result['msg']
    assert [r['action'] for r in result['failed_steps']] == ['join'] and result['completed'] == []


def test_join_without_a_role_and_a_worker_token_skips_own_labels_with_a_warning(run):
    manager_with_workers(workers=0)
    fake = FakeEngine('host2', '10.231.0.12')
    failed, result, module = run(fake, remote_addrs=[MANAGER_IP], join_token=WORKER_TOKEN, labels=dict(a='b'))
    assert not failed and result['actions'] == ['join %s as worker' % MANAGER_IP]
    assert any('set through a manager' in text for text in module.warnings)


def test_join_when_no_manager_answers_changes_nothing(run):
    manager_with_workers(workers=0)
    fake = FakeEngine('host2', '10.231.0.12')
    run.state['unreachable'] = True
    failed, result, _module = run(fake, remote_addrs=[MANAGER_IP], join_token=WORKER_TOKEN)
    assert failed and result['changed'] is False and 'no manager' in result['msg'] and fake.writes == []


def test_checked_state_on_a_fresh_node_only_probes(run):
    fake = FakeEngine('host2', '10.231.0.12')
    manager_with_workers(workers=0)
    failed, result, _module = run(fake, state='checked', remote_addrs=[MANAGER_IP], join_token=WORKER_TOKEN)
    assert not failed and result['changed'] is False and result['actions'] == [] and fake.writes == []
    assert result['node_state'] == 'inactive' and result['role'] is None


# -- members ------------------------------------------------------------------------------------

def test_member_with_its_own_request_is_a_no_op(run):
    _swarm, first, _others, workers = manager_with_workers()
    failed, result, _module = run(first, advertise_addr=MANAGER_IP, role='manager')
    assert not failed and result['changed'] is False and result['actions'] == []
    assert result['managers'] == 1 and result['node_count'] == 3 and len(result['nodes']) == 3
    failed, result, _module = run(workers[0], remote_addrs=[MANAGER_IP], join_token=WORKER_TOKEN, role='worker')
    assert not failed and result['changed'] is False and result['role'] == 'worker' and result['cluster_id'] is None


def test_another_swarm_is_refused_by_cluster_id_and_by_managers(run):
    _swarm, first, _others, workers = manager_with_workers()
    failed, result, _module = run(first, cluster_id='0000notthisswarm')
    assert failed and 'notthisswarm' in result['msg'] and result['changed'] is False
    failed, result, _module = run(workers[0], remote_addrs=['10.231.0.12:2377'], join_token=WORKER_TOKEN)
    assert failed and 'already in' in result['msg'] and '%s:2377' % MANAGER_IP in result['msg']
    failed, result, _module = run(workers[0], role='manager')
    assert failed and 'already a worker' in result['msg']


@pytest.mark.parametrize('on_drift', ['fail', 'warn'])
def test_drift_is_reported_and_never_changed(run, on_drift):
    _swarm, first, _others, _workers = manager_with_workers()
    failed, result, module = run(first, advertise_addr=MANAGER_IP, default_addr_pool=['10.237.0.0/16'],
                                 subnet_size=26, on_drift=on_drift)
    assert [d['setting'] for d in result['drift']] == ['default_addr_pool', 'subnet_size']
    assert result['changed'] is False and first.writes == []
    if on_drift == 'fail':
        assert failed and '10.0.0.0/8' in result['msg'] and 'on_drift: warn' in result['msg']
    else:
        assert not failed and any('not changed' in text for text in module.warnings)


def test_worker_cannot_compare_cluster_settings_and_says_so(run):
    _swarm, _first, _others, workers = manager_with_workers()
    failed, result, module = run(workers[0], state='checked', subnet_size=24)
    assert failed and 'already a worker' in result['msg']
    failed, result, module = run(workers[0], remote_addrs=[MANAGER_IP], join_token=WORKER_TOKEN, subnet_size=24,
                                 advertise_addr='10.231.0.99', host_addresses=['10.231.0.12', '10.231.0.99'],
                                 on_drift='warn')
    assert not failed and result['drift'] == [dict(setting='advertise_addr', requested='10.231.0.99',
                                                   actual='10.231.0.12')]
    assert any('subnet_size can only be compared on a manager' in text for text in module.warnings)


@pytest.mark.parametrize('request_, words', [
    (dict(labels=dict(a='b')), 'labels of a worker node can only be changed through a manager'),
    (dict(return_tokens=True), 'join tokens can only be read on a manager'),
])
def test_worker_refuses_a_managers_job(run, request_, words):
    _swarm, _first, _others, workers = manager_with_workers()
    failed, result, _module = run(workers[0], **request_)
    assert failed and words in result['msg'] and workers[0].writes == []


# -- roles and settings through a manager ---------------------------------------------------------

def test_promote_then_demote_another_node(run):
    _swarm, first, _others, workers = manager_with_workers()
    target = workers[0].node_id
    predicted, real = predicted_then_real(run, first, node='host2', role='manager')
    assert real['actions'] == ['promote %s' % target] and workers[0].is_manager
    assert predicted['role'] == 'manager'     # this engine's own role: unchanged by promoting another node
    assert real['node_changes'] == [dict(setting='role', requested='manager', actual='worker')]
    assert real['diff']['before_header'] == 'swarm node host2 (before)'
    assert real['diff']['after']['role'] == 'manager'
    predicted, real = predicted_then_real(run, first, node=target, role='worker')
    assert real['actions'] == ['demote %s' % target] and not workers[0].is_manager


def test_settings_of_another_node_in_one_plan(run):
    _swarm, first, _others, workers = manager_with_workers()
    target = workers[1].node_id
    _predicted, real = predicted_then_real(run, first, node='host3', availability='drain',
                                           labels=dict(rack='r2'), role='manager')
    assert real['actions'] == ['promote %s' % target, 'set availability of %s' % target,
                               'set labels of %s' % target]
    node = workers[1].node
    assert node['Spec'] == dict(Role='manager', Availability='drain', Labels=dict(rack='r2'))
    failed, again, _module = run(first, node='host3', availability='drain', labels=dict(rack='r2'))
    assert not failed and again['changed'] is False


def test_node_by_unknown_or_ambiguous_name_is_refused(run):
    _swarm, first, _others, _workers = manager_with_workers()
    failed, result, _module = run(first, node='nosuchhost', role='manager')
    assert failed and "node 'nosuchhost' is not in the swarm" in result['msg']


def test_node_through_a_worker_is_refused(run):
    _swarm, _first, _others, workers = manager_with_workers()
    failed, result, _module = run(workers[0], node='host1', availability='drain')
    assert failed and 'is managed through a manager' in result['msg'] and 'a worker' in result['msg']


def test_demoting_the_last_manager_is_refused(run):
    _swarm, first, _others, _workers = manager_with_workers()
    failed, result, _module = run(first, role='worker')
    assert failed and 'demoting node' in result['msg'] and 'last manager' in result['msg']
    assert first.writes == []


def test_demoting_a_live_manager_that_would_lose_quorum_is_refused(run):
    # 3 managers, 1 down: demoting the other live one through the first leaves 1 reachable of 2
    fake_swarm, first, others, _workers = manager_with_workers(managers=2, unreachable=1)
    live = others[0]
    before = copy.deepcopy(fake_swarm.nodes)
    failed, result, _module = run(first, node=live.node_id, role='worker')
    assert failed and result['changed'] is False
    assert 'demoting node %s is refused' % live.node_id in result['msg']
    assert 'leaves 1 reachable managers out of 2, and 2 are needed' in result['msg']
    assert first.writes == [] and fake_swarm.nodes == before


def test_demoting_the_manager_that_is_down_is_allowed(run):
    # the way back to a safe margin: the dead manager leaves the manager set, the 2 live ones stay a quorum
    _swarm, first, others, _workers = manager_with_workers(managers=2, unreachable=1)
    down = others[1]
    _predicted, real = predicted_then_real(run, first, node=down.node_id, role='worker')
    assert real['actions'] == ['demote %s' % down.node_id] and not down.is_manager


# -- leave ------------------------------------------------------------------------------------------

def test_worker_leave_is_predicted_then_done(run):
    fake_swarm, _first, _others, workers = manager_with_workers()
    predicted, real = predicted_then_real(run, workers[0], state='absent')
    assert real['actions'] == ['leave'] and predicted['node_state'] == 'inactive' and predicted['role'] is None
    assert workers[0].writes == [('leave_swarm', dict(force=False))] and len(fake_swarm.nodes) == 2
    failed, again, _module = run(workers[0], state='absent')
    assert not failed and again['changed'] is False


def test_last_manager_may_not_leave_unless_forced(run):
    _swarm, first, _others, _workers = manager_with_workers(workers=0)
    failed, result, _module = run(first, state='absent', check_mode=True)
    assert failed and 'last manager' in result['msg'] and 'erases the swarm' in result['msg']
    _predicted, real = predicted_then_real(run, first, state='absent', force=True)
    assert real['actions'] == ['leave'] and first.writes == [('leave_swarm', dict(force=True))]


def test_leave_that_would_lose_quorum_is_refused(run):
    _swarm, first, _others, _workers = manager_with_workers(managers=2, unreachable=1)
    failed, result, _module = run(first, state='absent')
    assert failed and 'leaving the swarm is refused' in result['msg'] and 'quorum' in result['msg']
    assert first.writes == [] and result['changed'] is False


def test_manager_leaves_after_demoting_itself(run):
    fake_swarm, first, _others, _workers = manager_with_workers(managers=3)
    node_id = first.node_id
    _predicted, real = predicted_then_real(run, first, state='absent')
    assert real['actions'] == ['demote %s' % node_id, 'leave']
    assert [name for name, _kwargs in first.writes] == ['update_node', 'leave_swarm']
    assert first.writes[1][1] == dict(force=False) and node_id not in fake_swarm.nodes
    assert [r['action'] for r in real['objects']] == ['demote', 'leave']


def test_a_failed_step_reports_what_completed_and_what_was_not_attempted(run):
    _swarm, first, _others, _workers = manager_with_workers(managers=3)
    first.fail_on = 'leave_swarm'
    failed, result, _module = run(first, state='absent')
    assert failed and result['changed'] is True and 'fake engine refuses leave_swarm' in result['msg']
    assert [r['action'] for r in result['completed']] == ['demote']
    assert [r['action'] for r in result['failed_steps']] == ['leave'] and result['not_attempted'] == []
    assert result['actions'] == ['demote %s' % first.node_id]


# -- tokens, states, host checks -----------------------------------------------------------------

def test_tokens_only_when_asked_and_never_in_messages_or_reprs(run):
    _swarm, first, _others, _workers = manager_with_workers()
    _failed, plain, _module = run(first, state='checked')
    assert 'join_tokens' not in plain and 'SWMTKN' not in json.dumps(plain)
    _failed, asked, _module = run(first, state='checked', return_tokens=True)
    assert asked['join_tokens'] == dict(worker=WORKER_TOKEN, manager=MANAGER_TOKEN)
    joiner = FakeEngine('host9', '10.231.0.19')
    failed, result, _module = run(joiner, remote_addrs=[MANAGER_IP], join_token=WORKER_TOKEN, role='manager')
    assert failed and 's3cr3t' not in json.dumps(result, default=repr)


def test_token_is_not_in_the_plan_repr():
    from ansible_collections.netfleet.docker.plugins.module_utils._overlay.swarm_actions import JoinSwarm
    assert 's3cr3t' not in repr(JoinSwarm((MANAGER_IP,), WORKER_TOKEN))


@pytest.mark.parametrize('state, words', [
    ('locked', 'unlock it'), ('pending', 'a join is in progress'), ('error', 'the swarm reports'),
])
def test_unusable_swarm_states_are_refused(run, state, words):
    fake = FakeEngine()
    fake.local_state = state
    failed, result, _module = run(fake, advertise_addr=MANAGER_IP)
    assert failed and words in result['msg'] and fake.writes == []


def test_cluster_store_engine_refuses_swarm(run):
    failed, result, _module = run(FakeEngine(cluster_store='etcd://10.0.0.5:2379'), advertise_addr=MANAGER_IP)
    assert failed and 'cluster-store etcd://10.0.0.5:2379' in result['msg']


def test_advertise_address_not_on_the_host_fails_before_the_engine(run, monkeypatch):
    monkeypatch.setattr(client, 'connect', lambda module: pytest.fail('connected before the host checks'))
    module = FakeModule(advertise_addr='10.231.0.250')
    monkeypatch.setattr(preflight, 'host_links', lambda _module: links(MANAGER_IP))
    with pytest.raises(Failed) as failure:
        OverlayCluster(module).run()
    result = failure.value.result
    assert '10.231.0.250 is not an address of this host' in result['msg'] and MANAGER_IP in result['msg']
    assert result['changed'] is False and result['backend'] == 'swarm'


def test_remote_engine_skips_host_checks_with_a_warning(run):
    fake = FakeEngine()
    failed, result, module = run(fake, host_addresses=[], check_mode=True, docker_host='tcp://10.231.0.11:2376',
                                 advertise_addr=MANAGER_IP)
    assert not failed and result['actions'] == ['init'] and 'underlay' not in result
    assert any('not a local socket' in text for text in module.warnings)


def test_validation_problems_fail_before_anything(run, monkeypatch):
    monkeypatch.setattr(client, 'connect', lambda module: pytest.fail('connected with a bad request'))
    module = FakeModule(remote_addrs=[MANAGER_IP], data_path_port=80)
    with pytest.raises(Failed) as failure:
        OverlayCluster(module).run()
    assert failure.value.result['msg'].startswith('2 problems, nothing was changed')
    assert failure.value.result['changed'] is False


# -- backend: kv (checks only) --------------------------------------------------------------------

KV = dict(backend='kv', cluster_store='etcd://10.231.0.11:2379')


def test_kv_backend_stops_at_the_version_gate_on_23_and_later(run):
    failed, result, _module = run(FakeEngine(engine_version='26.1.5'), **KV)
    assert failed and result['changed'] is False
    assert 'removed in Docker 23.0' in result['msg'] and 'backend: swarm' in result['msg']


def test_kv_backend_checks_settings_then_the_store(run, monkeypatch):
    from ansible_collections.netfleet.docker.plugins.module_utils._overlay import kvstore
    probes = []
    monkeypatch.setattr(kvstore, 'check_store', lambda url, timeout, store_opts=None: probes.append(url) or [dict(v2=True)])
    fake = FakeEngine(engine_version='20.10.24', cluster_store='etcd://10.231.0.11:2379')
    failed, result, _module = run(fake, cluster_advertise='eth0:2376', **KV)
    assert failed and "cluster-advertise" in result['msg'] and probes == []
    assert result['problems'] == [result['msg']]
    assert result['kv'] == dict(cluster_store='etcd://10.231.0.11:2379', cluster_advertise='')
    assert result['underlay']['interface'] == 'eth0'
    failed, result, _module = run(fake, **KV)
    assert not failed and result['changed'] is False and result['actions'] == []
    assert result['kv']['store'] == [dict(v2=True)] and probes == [KV['cluster_store']]


def test_kv_backend_reports_the_engine_settings_when_the_store_does_not_answer(run, monkeypatch):
    from ansible_collections.netfleet.docker.plugins.module_utils._overlay import kvstore

    def unreachable(url, timeout, store_opts=None):
        raise kvstore.KVError('the KV store at 10.231.0.11:2379 does not answer')

    monkeypatch.setattr(kvstore, 'check_store', unreachable)
    fake = FakeEngine(engine_version='20.10.24', cluster_store='etcd://10.231.0.11:2379')
    failed, result, _module = run(fake, **KV)
    assert failed and 'does not answer' in result['msg'] and result['kv']['cluster_store'] == KV['cluster_store']


def test_kv_backend_asks_the_store_with_the_engines_tls_files(run, monkeypatch, tmp_path):
    """cluster-store-opts in the engine's daemon.json (kv_store_tls): the store is asked with those files."""
    daemon_json = tmp_path / 'daemon.json'
    opts = {'kv.cacertfile': '/etc/netfleet/etcd-tls/ca.pem', 'kv.certfile': '/etc/netfleet/etcd-tls/host.pem',
            'kv.keyfile': '/etc/netfleet/etcd-tls/host-key.pem'}
    daemon_json.write_text(json.dumps({'cluster-store': KV['cluster_store'], 'cluster-store-opts': opts}))
    monkeypatch.setattr(kvstore, 'DAEMON_JSON', str(daemon_json))
    seen = []
    monkeypatch.setattr(kvstore, 'check_store',
                        lambda url, timeout, store_opts=None: seen.append(store_opts) or [dict(v2=True)])
    fake = FakeEngine(engine_version='20.10.24', cluster_store='etcd://10.231.0.11:2379')
    failed, result, _module = run(fake, **KV)
    assert not failed and result['changed'] is False
    assert seen == [opts]
