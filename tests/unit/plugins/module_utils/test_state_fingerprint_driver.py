# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state_fingerprint driver end to end: a fake engine socket, a fake /proc/sys, files in tmp_path."""

from __future__ import annotations

import json
import os
import stat

import pytest

from host_fakes import FakeModule, run_driver

from ansible_collections.netfleet.docker.plugins.module_utils._common import files, fingerprint
from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import EngineError
from ansible_collections.netfleet.docker.plugins.modules import state_fingerprint as module_file

DECLARATION = 'd' * 64


def swarm_info(manager):
    return dict(ID='ENGINE', ServerVersion='28.5.0',
                Swarm=dict(NodeID='node1', NodeAddr='192.0.2.10', LocalNodeState='active', ControlAvailable=manager,
                           RemoteManagers=[dict(NodeID='node1', Addr='192.0.2.10:2377')],
                           Cluster=dict(ID='cluster1', Spec=dict(Name='default')) if manager else None))


class FakeEngine:
    """Stands in for EngineSocket: answers GETs from ``objects`` (absent: None, an exception: raised)."""

    instances = []

    def __init__(self, docker_host, timeout=60):
        self.docker_host, self.timeout = docker_host, timeout
        self.asked, self.closed = [], False
        FakeEngine.instances.append(self)

    def get(self, path, params=None):
        self.asked.append(path)
        if path == '/networks':
            return self.listed()
        answer = FakeEngine.objects.get(path, self.by_id(path))
        if isinstance(answer, Exception):
            raise answer
        return json.loads(json.dumps(answer)) if answer is not None else None

    @staticmethod
    def networks():
        return dict((key, value) for key, value in FakeEngine.objects.items() if key.startswith('/networks/'))

    def listed(self):
        """GET /networks: every network (an error stored for one is the listing's error)."""
        for value in self.networks().values():
            if isinstance(value, Exception):
                raise value
        return [dict(value, Id=value.get('Id') or key.rsplit('/', 1)[1]) for key, value in self.networks().items()]

    def by_id(self, path):
        ident = path.rsplit('/', 1)[1]
        return next((value for key, value in self.networks().items()
                     if isinstance(value, dict) and (value.get('Id') or key.rsplit('/', 1)[1]) == ident), None)

    def close(self):
        self.closed = True


class JsonModule(FakeModule):
    def from_json(self, text):
        return json.loads(text)

    def jsonify(self, value):
        return json.dumps(value)


@pytest.fixture
def host(tmp_path, monkeypatch):
    """A fake /proc/sys (ip_forward=1), daemon.json, a sysctl.d directory and an engine with one network."""
    proc = tmp_path / 'proc'
    (proc / 'net' / 'ipv4').mkdir(parents=True)
    (proc / 'net' / 'ipv4' / 'ip_forward').write_text('1\n')
    (tmp_path / 'daemon.json').write_text('{"mtu": 1450}\n')
    (tmp_path / 'sysctl.d').mkdir()
    (tmp_path / 'sysctl.d' / '90-netfleet.conf').write_text('net.ipv4.ip_forward = 1\n')
    real_read_text = files.read_text

    def read_text(path, default=None):
        if path.startswith('/proc/sys/'):
            path = str(proc) + path[len('/proc/sys'):]
        return real_read_text(path, default=default)

    monkeypatch.setattr(files, 'read_text', read_text)
    monkeypatch.setattr(module_file, 'EngineSocket', FakeEngine)
    FakeEngine.instances = []
    FakeEngine.objects = {
        '/info': swarm_info(manager=False),
        '/networks/frontend': dict(Name='frontend', Id='n1', Driver='bridge', Labels={}, Containers={}),
        '/nodes': [dict(ID='node1', Spec=dict(Role='manager', Availability='active'), Status=dict(State='ready'))],
    }
    return tmp_path


def params(tmp_path, **overrides):
    value = dict(networks=['frontend', 'backend'], files=[str(tmp_path / 'daemon.json'), str(tmp_path / 'absent.conf')],
                 directories=[str(tmp_path / 'sysctl.d')], sysctls=['net.ipv4.ip_forward'], routes=False,
                 swarm_nodes=True, record=None, path=str(tmp_path / 'state' / 'fingerprint.json'),
                 docker_host='unix:///var/run/docker.sock', timeout=30)
    value.update(overrides)
    return value


def run(tmp_path, check_mode=False, diff=False, commands=None, **overrides):
    module = JsonModule(params(tmp_path, **overrides), check_mode=check_mode, diff=diff, commands=commands)
    status, result = run_driver(module_file.StateFingerprintDriver, module)
    return status, result, module


EXPECTED_PARTS = ['directory {0}/sysctl.d', 'engine', 'file {0}/absent.conf', 'file {0}/daemon.json',
                  'links', 'network backend', 'network frontend', 'sysctl net.ipv4.ip_forward']


def test_without_a_record_every_part_moved_and_nothing_is_written(host):
    status, result, _module = run(host)
    assert status == 'exit' and result['changed'] is False and result['supported'] is True
    assert sorted(result['parts']) == [name.format(host) for name in EXPECTED_PARTS]
    assert result['moved'] == sorted(result['parts'])
    assert result['recorded'] is None and result['records'] == []
    assert len(result['fingerprint']) == 64
    assert result['parts']['sysctl net.ipv4.ip_forward'] == fingerprint.digest('1\n')
    assert result['parts']['file %s/absent.conf' % host] == fingerprint.digest(None)
    assert not os.path.exists(str(host / 'state'))
    assert FakeEngine.instances[0].asked == ['/info', '/networks', '/networks/n1']
    assert FakeEngine.instances[0].closed and FakeEngine.instances[0].timeout == 30


def test_record_writes_a_private_file_in_a_new_directory(host):
    status, result, _module = run(host, record=DECLARATION)
    assert status == 'exit' and result['changed'] is True
    assert [(entry['name'], entry['action']) for entry in result['records']] == [(str(host / 'state' / 'fingerprint.json'), 'recorded')]
    path = host / 'state' / 'fingerprint.json'
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(str(host / 'state')).st_mode) == 0o700
    written = json.loads(path.read_text())
    assert written['format'] == 1 and written['declaration'] == DECLARATION
    assert written['fingerprint'] == result['fingerprint'] and written['parts'] == result['parts']
    assert result['records'][0]['recorded_at'] == written['recorded_at']


def test_second_run_with_the_same_state_is_unchanged(host):
    run(host, record=DECLARATION)
    before = (host / 'state' / 'fingerprint.json').read_text()
    status, result, _module = run(host, record=DECLARATION)
    assert status == 'exit' and result['changed'] is False
    assert [entry['action'] for entry in result['records']] == ['unchanged']
    assert result['moved'] == []
    assert result['recorded']['fingerprint'] == result['fingerprint']
    assert result['recorded']['declaration'] == DECLARATION
    assert (host / 'state' / 'fingerprint.json').read_text() == before
    status, result, _module = run(host)
    assert result['moved'] == [] and result['recorded']['fingerprint'] == result['fingerprint']


def test_another_declaration_is_recorded_again(host):
    run(host, record=DECLARATION)
    status, result, _module = run(host, record='e' * 64, diff=True)
    assert result['changed'] is True and result['records'][0]['action'] == 'recorded'
    assert result['moved'] == []
    assert result['diff']['before']['declaration'] == DECLARATION and result['diff']['after']['declaration'] == 'e' * 64
    assert json.loads((host / 'state' / 'fingerprint.json').read_text())['declaration'] == 'e' * 64


@pytest.mark.parametrize('change, part', [
    (lambda host: (host / 'proc' / 'net' / 'ipv4' / 'ip_forward').write_text('0\n'), 'sysctl net.ipv4.ip_forward'),
    (lambda host: (host / 'daemon.json').write_text('{}\n'), 'file {0}/daemon.json'),
    (lambda host: (host / 'absent.conf').write_text('now here\n'), 'file {0}/absent.conf'),
    (lambda host: (host / 'sysctl.d' / '99-x.conf').write_text('x = 1\n'), 'directory {0}/sysctl.d'),
    (lambda host: FakeEngine.objects['/networks/frontend'].update(Labels={'a': 'b'}), 'network frontend'),
    (lambda host: FakeEngine.objects.update({'/networks/backend': dict(Name='backend')}), 'network backend'),
    (lambda host: FakeEngine.objects['/info'].update(ServerVersion='29.0.0'), 'engine'),
])
def test_a_moved_part_is_named(host, change, part):
    run(host, record=DECLARATION)
    change(host)
    status, result, _module = run(host)
    assert status == 'exit' and result['moved'] == [part.format(host)]
    assert result['fingerprint'] != result['recorded']['fingerprint']


def test_a_name_that_is_the_prefix_of_another_networks_id_is_not_that_network(host):
    """GET /networks/<term> answers an ID prefix too: a declared network that does not exist must read absent,
    not as the network whose ID starts with its name (and not fail when two IDs do)."""
    FakeEngine.objects['/networks/other'] = dict(Name='other', Id='backend0123', Driver='bridge', Labels={})
    FakeEngine.objects['/networks/third'] = dict(Name='third', Id='backend4567', Driver='bridge', Labels={})
    status, result, _module = run(host)
    assert status == 'exit' and result['networks'] == ['frontend']
    assert result['parts']['network backend'] == fingerprint.digest(fingerprint.NOT_READ_ON_A_WORKER)
    assert not any(path.startswith('/networks/backend') for path in FakeEngine.instances[-1].asked)


def test_a_swarm_scoped_network_on_a_worker_comes_and_goes_without_moving(host):
    """A worker's copy of an overlay appears when something attaches there (verify's probes) and goes later:
    only the managers' copy is fingerprinted. A local network removed on a worker still moves."""
    FakeEngine.objects['/info']['Swarm'] = dict(LocalNodeState='active', NodeID='w1', ControlAvailable=False)
    run(host, record=DECLARATION, networks=['frontend', 'backend'])
    FakeEngine.objects['/networks/backend'] = dict(Name='backend', Id='o1', Driver='overlay', Scope='swarm', Labels={})
    status, result, _module = run(host, networks=['frontend', 'backend'])
    assert status == 'exit' and result['moved'] == [] and result['networks'] == ['frontend']
    del FakeEngine.objects['/networks/frontend']
    status, result, _module = run(host, networks=['frontend', 'backend'])
    assert result['moved'] == ['network frontend']


def test_a_swarm_scoped_network_on_a_manager_is_fingerprinted(host):
    FakeEngine.objects['/info']['Swarm'] = dict(LocalNodeState='active', NodeID='m1', ControlAvailable=True)
    FakeEngine.objects['/nodes'] = []
    FakeEngine.objects['/networks/backend'] = dict(Name='backend', Id='o1', Driver='overlay', Scope='swarm', Labels={})
    run(host, record=DECLARATION, networks=['frontend', 'backend'])
    del FakeEngine.objects['/networks/backend']
    status, result, _module = run(host, networks=['frontend', 'backend'])
    assert status == 'exit' and result['moved'] == ['network backend']


def test_a_network_named_by_its_full_id_is_found(host):
    status, result, _module = run(host, networks=['n1'])
    assert status == 'exit' and result['networks'] == ['n1']
    assert result['parts']['network n1'] != fingerprint.digest(None)


def test_container_churn_does_not_move_the_network(host):
    run(host, record=DECLARATION)
    FakeEngine.objects['/networks/frontend']['Containers'] = {'c1': dict(Name='web')}
    status, result, _module = run(host)
    assert result['moved'] == []


def test_check_mode_reports_the_record_but_writes_nothing(host):
    status, result, _module = run(host, check_mode=True, record=DECLARATION)
    assert status == 'exit' and result['changed'] is True
    assert result['records'][0]['action'] == 'recorded'
    assert not os.path.exists(str(host / 'state'))
    run(host, record=DECLARATION)
    status, result, _module = run(host, check_mode=True, record=DECLARATION)
    assert result['changed'] is False and result['records'][0]['action'] == 'unchanged'


@pytest.mark.parametrize('docker_host', ['tcp://192.0.2.1:2376', 'ssh://admin@192.0.2.1'])
def test_non_unix_engine_is_unsupported_without_failing(host, docker_host):
    status, result, module = run(host, docker_host=docker_host, record=DECLARATION)
    assert status == 'exit' and result['changed'] is False
    assert result['supported'] is False and result['fingerprint'] is None
    assert result['parts'] == {} and result['moved'] == [] and result['records'] == []
    assert FakeEngine.instances == [] and not os.path.exists(str(host / 'state'))
    assert any(docker_host in warning for warning in module.warnings)


def test_swarm_nodes_are_read_on_a_manager_only(host):
    status, result, _module = run(host)
    assert 'swarm nodes' not in result['parts'] and '/nodes' not in FakeEngine.instances[-1].asked
    FakeEngine.objects['/info'] = swarm_info(manager=True)
    status, result, _module = run(host)
    assert 'swarm nodes' in result['parts'] and FakeEngine.instances[-1].asked[-1] == '/nodes'
    status, result, _module = run(host, swarm_nodes=False)
    assert 'swarm nodes' not in result['parts'] and '/nodes' not in FakeEngine.instances[-1].asked


def test_a_node_change_moves_the_swarm_nodes_part(host):
    FakeEngine.objects['/info'] = swarm_info(manager=True)
    run(host, record=DECLARATION)
    FakeEngine.objects['/nodes'][0]['Spec']['Availability'] = 'drain'
    status, result, _module = run(host)
    assert result['moved'] == ['swarm nodes']


def test_routes_are_read_with_ip_json_without_docker_devices(host):
    routes = [dict(dst='default', gateway='192.0.2.1', dev='eth0'), dict(dst='172.17.0.0/16', dev='docker0')]
    addresses = [dict(ifname='eth0', addr_info=[dict(local='192.0.2.10', valid_life_time=100)])]

    def ip(args):
        return 0, json.dumps(routes if args[3] == 'route' else addresses), ''

    status, result, module = run(host, routes=True, commands=dict(ip=ip))
    assert status == 'exit' and 'routes' in result['parts']
    assert module.ran == [['ip', '-j', '-4', 'route', 'show', 'table', 'all'], ['ip', '-j', '-4', 'addr', 'show']]
    first = result['parts']['routes']
    routes.append(dict(dst='10.0.1.0/24', dev='veth1'))
    addresses[0]['addr_info'][0]['valid_life_time'] = 50
    assert run(host, routes=True, commands=dict(ip=ip))[1]['parts']['routes'] == first
    routes.append(dict(dst='10.50.0.0/16', gateway='192.0.2.254', dev='eth0'))
    assert run(host, routes=True, commands=dict(ip=ip))[1]['parts']['routes'] != first


def test_ip_failure_fails_the_module(host):
    status, result, _module = run(host, routes=True, commands=dict(ip=(1, '', 'Cannot open netlink socket')))
    assert status == 'fail' and 'ip -j -4 route show table all failed: Cannot open netlink socket' in result['msg']


def test_engine_error_fails_the_module_and_closes_the_socket(host):
    FakeEngine.objects['/networks/frontend'] = EngineError('cannot reach the Docker engine at unix:///x')
    status, result, _module = run(host, record=DECLARATION)
    assert status == 'fail' and 'cannot reach the Docker engine' in result['msg']
    assert FakeEngine.instances[0].closed and not os.path.exists(str(host / 'state'))


@pytest.mark.parametrize('key', ['', 'net..ipv4', '../../etc/shadow', '/etc/shadow', 'net/ipv4/../../../etc/shadow'])
def test_bad_sysctl_names_are_refused(host, key):
    status, result, _module = run(host, sysctls=['net.ipv4.ip_forward', key])
    assert status == 'fail' and 'is not a kernel parameter name' in result['msg']
    assert FakeEngine.instances == []


def test_a_vlan_interface_sysctl_is_read_in_the_slash_form(host):
    vlan = host / 'proc' / 'net' / 'ipv4' / 'conf' / 'eth0.10'
    vlan.mkdir(parents=True)
    (vlan / 'forwarding').write_text('1\n')
    key = 'net/ipv4/conf/eth0.10/forwarding'
    status, result, _module = run(host, sysctls=[key, 'net.ipv4.ip_forward'], record=DECLARATION)
    assert status == 'exit' and result['parts']['sysctl ' + key] == fingerprint.digest('1\n')
    (vlan / 'forwarding').write_text('0\n')
    assert run(host, sysctls=[key, 'net.ipv4.ip_forward'])[1]['moved'] == ['sysctl ' + key]


def test_garbage_record_counts_as_none(host):
    (host / 'state').mkdir()
    (host / 'state' / 'fingerprint.json').write_text('{not json')
    status, result, _module = run(host, record=DECLARATION)
    assert result['recorded'] is None and result['records'][0]['action'] == 'recorded'
    assert json.loads((host / 'state' / 'fingerprint.json').read_text())['declaration'] == DECLARATION
