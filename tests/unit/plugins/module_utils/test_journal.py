# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The recreate journal: written before the first destructive step, finished by the next run.

A run is "killed" at every engine operation of a recreate (the fake engine raises a
BaseException right after carrying the operation out, as SIGKILL would stop the module there);
the next run must put every endpoint back exactly (static IP, aliases, links, MAC, options).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time

import pytest
from engine_fakes import FakeAPI, FakeModule, ModuleExit, StatefulAPI, _id, container, network

from ansible_collections.netfleet.docker.plugins.module_utils._common.client import Engine
from ansible_collections.netfleet.docker.plugins.module_utils._network import journal
from ansible_collections.netfleet.docker.plugins.modules import docker_net, docker_net_info, macvlan_net

ENDPOINT = 'unix:///fake/docker.sock'
SUBNET = [('10.30.0.0/24', '10.30.0.1')]


class Killed(BaseException):
    """The module process dying: nothing of the module's own error handling runs."""


class LiveAPI(StatefulAPI):
    """StatefulAPI whose containers' endpoints follow connect/disconnect; ``kill_at`` dies after the n-th write."""

    def __init__(self, *args, **kwargs):
        self.kill_at = kwargs.pop('kill_at', None)
        super().__init__(*args, **kwargs)

    def _net(self, network_id):
        return [net for net in self._networks if network_id in (net['Id'], net['Name'])][0]

    def _container(self, container_id):
        return [c for c in self._containers if c['Id'] == container_id][0]

    def networks(self, filters=None):
        assert not filters
        return super().networks()

    def _maybe_die(self):
        if self.kill_at is not None and len(self.writes) >= self.kill_at:
            raise Killed('killed after %s' % (self.writes[-1],))

    def disconnect_container_from_network(self, container_id, network_id, force=False):
        super().disconnect_container_from_network(container_id, network_id, force)
        self._container(container_id)['NetworkSettings']['Networks'].pop(self._net(network_id)['Name'])
        self._maybe_die()

    def remove_network(self, network_id):
        super().remove_network(network_id)
        self._maybe_die()

    def connect_container_to_network(self, container_id, network_id, **kwargs):
        super().connect_container_to_network(container_id, network_id, **kwargs)
        ipv4 = kwargs.get('ipv4_address')
        links = ['%s:%s' % pair for pair in (kwargs.get('links') or {}).items()]
        self._container(container_id)['NetworkSettings']['Networks'][self._net(network_id)['Name']] = dict(
            NetworkID=network_id, IPAMConfig=dict(IPv4Address=ipv4) if ipv4 else None,
            Aliases=[container_id[:12]] + list(kwargs.get('aliases') or []), Links=links or None,
            DriverOpts=kwargs.get('driver_opt'), MacAddress=kwargs.get('mac_address') or '02:42:0a:1e:00:63',
            IPAddress=ipv4 or '10.30.0.99')
        self._maybe_die()

    def _post_json(self, url, data):
        result = super()._post_json(url, data)
        self._maybe_die()
        return result


def endpoint_state(api, name):
    """What a container has on network ``name``: the fields a recreate must keep."""
    for c in api._containers:
        settings = c['NetworkSettings']['Networks'].get(name)
        if settings is not None:
            yield c['Name'], dict(ip=(settings.get('IPAMConfig') or {}).get('IPv4Address'), mac=settings['MacAddress'],
                                  aliases=sorted(a for a in settings['Aliases'] if a != c['Id'][:12]),
                                  links=sorted(settings.get('Links') or []))


def lab(kill_at=None):
    """One network 'web' with a running and a stopped container (static IPs, aliases, a link, MACs)."""
    api = LiveAPI([network('web', SUBNET, Labels=dict(team='blue'))], [
        container('api', networks=dict(web=dict(ip='10.30.0.10', aliases=['api.internal'], links=['db:database']))),
        container('batch', running=False, networks=dict(web=dict(ip='10.30.0.11', aliases=['jobs']))),
    ], api_version='1.44', engine_version='25.0.5', kill_at=kill_at)
    # The stopped container keeps its MAC in the endpoint settings (engine >= 25 reports it).
    api._containers[1]['NetworkSettings']['Networks']['web']['MacAddress'] = '02:42:0a:1e:00:0b'
    return api


def run(api, module=docker_net, driver_class=None, check_mode=False, **params):
    fake = FakeModule(module.argument_spec(), params, check_mode=check_mode)
    driver = (driver_class or module.DockerNetDriver)(fake)
    driver.connect = lambda: Engine(api, ENDPOINT)
    with pytest.raises(ModuleExit) as exc:
        driver.run()
    exc.value.warnings = fake.warnings
    return exc.value


RECREATE = dict(name='web', labels=dict(team='red'), ipam=dict(config=[dict(subnet='10.30.0.0/24', gateway='10.30.0.1')]))


def recreate_writes():
    api = lab()
    out = run(api, **RECREATE)
    assert not out.failed, out.result
    return len(api.writes)


@pytest.mark.parametrize('kill_at', range(1, 7))
def test_a_run_killed_at_any_step_is_finished_exactly_by_the_next(kill_at, journal_dir):
    """Killed after disconnect 1/2, remove, create, connect 1/2: the next run restores every endpoint."""
    assert recreate_writes() == 6  # disconnect x2, remove, create, connect x2
    before = dict(endpoint_state(lab(), 'web'))
    api = lab(kill_at=kill_at)
    with pytest.raises(Killed) as killed:
        run(api, **RECREATE)
    print('killed after %s; endpoints left on web: %s' % (killed.value, sorted(dict(endpoint_state(api, 'web')))))
    path = journal.journal_path(journal_dir, 'web')
    entry = json.loads(open(path).read())
    assert len(entry['progress']) == kill_at - 1  # the step that was cut off is not recorded as done
    assert [e['container'] for e in entry['endpoints']] == ['api', 'batch']
    assert entry['new']['create_body']['Labels'] == dict(team='red')

    api.kill_at = None
    out = run(api, **RECREATE)
    assert not out.failed, out.result
    assert out.result['changed'] is True
    [record] = out.result['networks']
    # Killed before the removal, the endpoints went back on the old network and the task recreated it.
    assert record['action'] == ('recreated' if kill_at <= 2 else 'recovered')
    assert record['recovered']['network'] == 'web'
    assert [j['network'] for j in out.result['journals']] == ['web']
    assert dict(endpoint_state(api, 'web')) == before
    assert [net['Labels'] for net in api._networks if net['Name'] == 'web'] == [dict(team='red')]
    assert not os.path.exists(path)
    assert any('finished the recreate' in warning for warning in out.warnings)
    again = run(api, **RECREATE)
    assert again.result['changed'] is False and again.result['journals'] == []


def test_journal_is_written_before_the_first_step_0600_in_a_0700_dir(journal_dir):
    api = lab(kill_at=1)
    with pytest.raises(Killed):
        run(api, **RECREATE)
    path = journal.journal_path(journal_dir, 'web')
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(journal_dir).st_mode) == 0o700
    entry = json.loads(open(path).read())
    api_endpoint = entry['endpoints'][0]
    assert api_endpoint['ipv4_address'] == '10.30.0.10' and api_endpoint['aliases'] == ['api.internal']
    assert api_endpoint['links'] == ['db:database'] and api_endpoint['mac_address'] == '02:42:ac:14:00:05'
    assert api_endpoint['settings']['IPAMConfig'] == dict(IPv4Address='10.30.0.10')  # the engine's own record
    assert entry['endpoints'][1]['running'] is False and entry['endpoints'][1]['mac_address'] == '02:42:0a:1e:00:0b'
    assert entry['old']['view']['labels'] == dict(team='blue') and entry['old_id'] == _id('web')
    assert entry['pid'] == os.getpid() and entry['operation'] == 'recreate'


def test_a_finished_recreate_leaves_no_journal(journal_dir):
    api = lab()
    out = run(api, **RECREATE)
    assert out.result['networks'][0]['action'] == 'recreated'
    assert os.listdir(journal_dir) == ['.lock']


def test_killed_before_the_removal_puts_the_endpoints_back_on_the_old_network_then_recreates(journal_dir):
    api = lab(kill_at=2)  # both disconnected, the old network still there
    with pytest.raises(Killed):
        run(api, **RECREATE)
    api.kill_at = None
    out = run(api, **RECREATE)
    report = out.result['recovered'][0]
    assert report['steps'] == ['connect api', 'connect batch'] and report['network_id'] == _id('web')
    assert out.result['networks'][0]['action'] == 'recreated'  # then the task's own change
    assert dict(endpoint_state(api, 'web')) == dict(endpoint_state(lab(), 'web'))


def test_a_container_removed_since_is_reported_not_guessed(journal_dir):
    api = lab(kill_at=3)  # disconnected, removed
    with pytest.raises(Killed):
        run(api, **RECREATE)
    api.kill_at = None
    api._containers = [c for c in api._containers if c['Name'] != '/batch']
    api._containers.append(dict(container('batch-2', networks={}), Name='/batch'))  # same name, another container
    out = run(api, **RECREATE)
    assert not out.failed
    report = out.result['recovered'][0]
    assert report['steps'] == ['create', 'connect api']
    assert report['missing_containers'][0].startswith('batch (a container of that name exists now')
    assert [state[0] for state in endpoint_state(api, 'web')] == ['/api']
    assert any('removed since, not restored: batch' in warning for warning in out.warnings)


def test_an_endpoint_the_engine_refuses_fails_clearly_and_keeps_the_journal(journal_dir):
    api = lab(kill_at=4)  # created; nothing reconnected
    with pytest.raises(Killed):
        run(api, **RECREATE)
    api.kill_at = None
    api.fail_connect = set([_id('c-api')])
    out = run(api, **RECREATE)
    assert out.failed and out.result['changed'] is True
    assert "finishing the interrupted recreate from the journal" in out.result['msg']
    assert 'container api: no address left' in out.result['msg']
    assert out.result['recovered'][0]['restored'][0]['container'] == 'batch'
    assert os.path.exists(journal.journal_path(journal_dir, 'web'))
    api.fail_connect = set()
    out = run(api, **RECREATE)
    assert out.result['recovered'][0]['already_connected'] == ['batch']
    assert dict(endpoint_state(api, 'web')) == dict(endpoint_state(lab(), 'web'))


def test_check_mode_reports_a_pending_journal_and_writes_nothing(journal_dir):
    api = lab(kill_at=3)
    with pytest.raises(Killed):
        run(api, **RECREATE)
    path = journal.journal_path(journal_dir, 'web')
    before = open(path).read()
    api.kill_at = 0  # any write now kills: check mode must not write
    out = run(api, check_mode=True, **RECREATE)
    assert out.result['changed'] is True
    assert out.result['networks'][0]['action'] == 'recovered'
    assert out.result['networks'][0]['pending_journal'] == path
    assert out.result['journals'][0]['done'] == ['disconnect api', 'disconnect batch']
    assert open(path).read() == before and 'recovered' not in out.result


def test_check_mode_of_a_recreate_writes_no_journal(tmp_path):
    directory = str(tmp_path / 'never')
    out = run(FakeAPI([network('web', SUBNET, Labels=dict(team='blue'))]), check_mode=True,
              journal_dir=directory, **RECREATE)
    assert out.result['networks'][0]['action'] == 'recreated'
    assert not os.path.exists(directory)


def test_a_failed_create_rolled_back_leaves_no_journal_and_a_partial_one_stays(journal_dir):
    api = lab()
    api.fail_create = 1
    out = run(api, **RECREATE)
    assert out.failed and 'the old network and all its endpoints were put back' in out.result['msg']
    assert os.listdir(journal_dir) == ['.lock']
    api = lab()
    api.fail_create = 2  # the rollback's create fails too: the journal stays for the next run
    out = run(api, **RECREATE)
    assert out.result['failed_steps'][0]['journal'] == journal.journal_path(journal_dir, 'web')
    out = run(api, **RECREATE)
    assert out.result['recovered'][0]['steps'] == ['create', 'connect api', 'connect batch']
    assert dict(endpoint_state(api, 'web')) == dict(endpoint_state(lab(), 'web'))


def test_forced_removal_killed_midway_is_finished(journal_dir):
    api = lab(kill_at=1)
    with pytest.raises(Killed):
        run(api, name='web', state='absent', force=True)
    entry = json.loads(open(journal.journal_path(journal_dir, 'web')).read())
    assert entry['operation'] == 'remove' and entry['new'] is None
    api.kill_at = None
    out = run(api, name='web', state='absent', force=True)
    assert out.result['recovered'][0]['steps'] == ['disconnect batch', 'remove']
    assert [net['Name'] for net in api._networks] == []
    assert out.result['networks'][0]['action'] == 'recovered'


def test_second_run_waits_for_the_host_lock_then_refuses_naming_the_holder(journal_dir):
    """Another process holds the lock: the run waits lock_timeout seconds, then refuses naming its PID."""
    os.makedirs(journal_dir, 0o700)
    holder = subprocess.Popen([sys.executable, '-c', HOLD_LOCK, os.path.join(journal_dir, '.lock')],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'locked'
        started = time.time()
        out = run(lab(), lock_timeout=1, **RECREATE)
        waited = time.time() - started
    finally:
        holder.kill()
        holder.wait()
    assert 1 <= waited < 5
    assert out.failed and out.result['changed'] is False
    assert 'another netfleet run (pid %d since' % holder.pid in out.result['msg']
    assert 'Nothing was changed' in out.result['msg'] and out.result['lock_holder'].startswith('pid %d' % holder.pid)
    assert run(lab(), lock_timeout=1, **RECREATE).result['changed'] is True  # free again


HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, ('pid %d since now\\n' % os.getpid()).encode())
print('locked', flush=True)
time.sleep(60)
"""


def test_the_lock_is_held_once_per_process(journal_dir):
    first = journal.HostLock(journal_dir).acquire()
    try:
        assert journal.HostLock(journal_dir, timeout=0).acquire() is first
        held, holder = journal.lock_holder_text(first.path)
        assert held is False or holder.startswith('pid %d' % os.getpid())
    finally:
        first.release()


def test_docker_net_info_reports_pending_journals(journal_dir):
    api = lab(kill_at=3)
    with pytest.raises(Killed):
        run(api, **RECREATE)
    out = run(api, module=docker_net_info, driver_class=docker_net_info.DockerNetInfoDriver, engine=False, endpoints=False)
    [pending] = out.result['journals']
    assert pending['network'] == 'web' and pending['operation'] == 'recreate'
    # The removal was carried out but the process died before recording it: the next run checks the engine.
    assert pending['done'] == ['disconnect api', 'disconnect batch']
    assert [e['container'] for e in pending['endpoints']] == ['api', 'batch']
    assert pending['endpoints'][0]['ipv4_address'] == '10.30.0.10'


def test_unreadable_journal_is_reported_and_stops_the_run(journal_dir):
    os.makedirs(journal_dir)
    with open(journal.journal_path(journal_dir, 'web'), 'w') as stream:
        stream.write('{"half": ')
    out = run(lab(), **RECREATE)
    assert out.failed and 'cannot be read' in out.result['msg'] and 'delete it' in out.result['msg']
    assert journal.read_pending(journal_dir)[0]['error'].startswith('unreadable journal')


def test_fault_pause_hook_writes_the_pid_and_waits_for_the_marker(tmp_path, monkeypatch):
    marker = str(tmp_path / 'marker')
    monkeypatch.setenv(journal.FAULT_PAUSE_ENV, 'remove')
    monkeypatch.setenv(journal.FAULT_MARKER_ENV, marker)
    monkeypatch.setenv(journal.FAULT_SECONDS_ENV, '0.3')
    monkeypatch.setattr(journal, '_paused', [])
    journal.fault_pause('create', 'web', str(tmp_path))
    assert not os.path.exists(marker)
    journal.fault_pause('remove', 'web', str(tmp_path))
    assert open(marker).read() == '%d remove web\n' % os.getpid()
    os.unlink(marker)
    journal.fault_pause('remove', 'web', str(tmp_path))  # once per process
    assert not os.path.exists(marker)


def test_journal_path_keeps_docker_names_and_escapes_others():
    assert journal.journal_path('/j', 'web_1.a-b') == '/j/web_1.a-b.json'
    assert journal.journal_path('/j', '../x') == '/j/..%2fx.json'


def test_macvlan_net_finishes_a_pending_journal_of_its_network(journal_dir):
    api = lab(kill_at=3)
    with pytest.raises(Killed):
        run(api, **RECREATE)
    api.kill_at = None
    fake = FakeModule(macvlan_net.argument_spec(), dict(name='web', state='absent', force=True))
    driver = macvlan_net.MacvlanNetDriver(fake)
    driver.connect = lambda: Engine(api, ENDPOINT)
    driver.run_host = lambda args: (0, '[]', '')
    with pytest.raises(ModuleExit) as exc:
        driver.run()
    result = exc.value.result
    assert result['recovered'][0]['steps'] == ['create', 'connect api', 'connect batch']
    assert result['action'] == 'removed'  # then the task's own change, with the endpoints it removed


def test_engine_gone_mid_batch_fails_naming_what_completed_and_the_rerun_converges(journal_dir):
    """dockerd stops after 'web' was created again: a clear failure with the journal named, then recovery."""
    import requests

    class StoppingAPI(LiveAPI):
        down = False

        def connect_container_to_network(self, container_id, network_id, **kwargs):
            if self.down:
                raise requests.exceptions.ConnectionError('connection refused')
            super().connect_container_to_network(container_id, network_id, **kwargs)

        def _post_json(self, url, data):
            result = super()._post_json(url, data)
            self.down = data['Name'] == 'web'
            return result

    api = StoppingAPI([network('db', [('10.31.0.0/24', '10.31.0.1')]), network('web', SUBNET, Labels=dict(team='blue'))],
                      lab()._containers, api_version='1.44', engine_version='25.0.5')
    batch = dict(labels=dict(team='red'), networks=[dict(name='db', ipam=dict(config=[dict(subnet='10.31.0.0/24')])),
                                                    dict(name='web', ipam=dict(config=[dict(subnet='10.30.0.0/24')]))])
    out = run(api, **batch)
    assert out.failed and out.result['changed'] is True
    assert [r['name'] for r in out.result['completed']] == ['db']
    [failed] = out.result['failed_steps']
    assert failed['name'] == 'web' and failed['done'] == ['disconnect api', 'disconnect batch', 'remove', 'create']
    assert failed['journal'] == journal.journal_path(journal_dir, 'web')
    assert 'cannot reach the Docker engine' in out.result['msg']
    api.down = False
    api._post_json = lambda url, data: LiveAPI._post_json(api, url, data)
    out = run(api, **batch)
    assert not out.failed and out.result['recovered'][0]['steps'] == ['connect api', 'connect batch']
    assert dict(endpoint_state(api, 'web')) == dict(endpoint_state(lab(), 'web'))
