# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The daemon_config driver end to end against a temporary tree and fake commands."""

from __future__ import annotations

import json
import os

import pytest

from host_fakes import FakeModule, run_driver

from ansible_collections.netfleet.docker.plugins.modules import daemon_config as module_file
from ansible_collections.netfleet.docker.plugins.module_utils._common import files
from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import HostError
from ansible_collections.netfleet.docker.plugins.module_utils._daemon import daemon_task

UNIT = ('# /lib/systemd/system/docker.service\n[Unit]\nDescription=Docker\n[Service]\n'
        'ExecStart=/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock\n')


def params(tmp_path, **kwargs):
    result = dict(path=str(tmp_path / 'docker' / 'daemon.json'), options={}, absent_keys=[], backup=True,
                  dockerd_validate=True, allow_insecure_tcp=False, allow_unknown_keys=False,
                  engine_version='20.10.24', swarm_active=None, service='docker.service', manage_dropin=True,
                  dropin_path=str(tmp_path / 'docker.service.d' / 'netfleet-daemon-flags.conf'))
    result.update(kwargs)
    return result


def run(tmp_path, check_mode=False, diff=False, commands=None, **kwargs):
    module = FakeModule(params(tmp_path, **kwargs), check_mode=check_mode, diff=diff, tmpdir=str(tmp_path),
                        commands=commands if commands is not None else {'systemctl': (0, UNIT, '')})
    status, result = run_driver(module_file.DaemonConfigDriver, module)
    return status, result, module


def test_check_mode_predicts_and_writes_nothing(tmp_path):
    status, result, _module = run(tmp_path, check_mode=True, options={'bip': '172.26.0.1/16'})
    assert status == 'exit' and result['changed'] is True
    assert result['changed_keys'] == ['bip'] and result['restart'] == 'restart'
    assert result['files'][0] == dict(name=params(tmp_path)['path'], action='created', changes=['bip'])
    assert result['previous_file_existed'] is False and result['backup_file'] is None
    assert not os.path.exists(params(tmp_path)['path'])


def test_real_run_writes_then_settles(tmp_path):
    status, result, _module = run(tmp_path, options={'bip': '172.26.0.1/16'})
    assert status == 'exit' and result['changed'] is True
    with open(params(tmp_path)['path']) as stream:
        assert json.load(stream) == {'bip': '172.26.0.1/16'}
    status, again, _module = run(tmp_path, options={'bip': '172.26.0.1/16'})
    assert again['changed'] is False and again['restart'] == 'none' and again['changed_keys'] == []
    assert [record['action'] for record in again['files']] == ['unchanged', 'unchanged']


def test_update_backs_up_and_keeps_the_mode(tmp_path):
    path = params(tmp_path)['path']
    os.makedirs(os.path.dirname(path))
    with open(path, 'w') as stream:
        stream.write('{"debug": false}')
    os.chmod(path, 0o600)
    status, result, module = run(tmp_path, diff=True, options={'debug': True})
    assert status == 'exit' and result['restart'] == 'reload' and result['previous_file_existed'] is True
    assert result['backup_file'] == path + '.bak' and module.backups == [path + '.bak']
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert result['diff']['before'] == '{\n  "debug": false\n}\n'
    assert result['diff']['after_header'] == 'file %s (updated)' % path


def test_every_problem_is_listed_with_the_facts_used(tmp_path):
    status, result, _module = run(tmp_path, options={'mtu': 10, 'bipp': '1.2.3.4/24'})
    assert status == 'fail' and result['msg'].startswith('2 problems, nothing was changed')
    assert result['engine_version'] == '20.10.24' and result['swarm_active'] is False and result['changed'] is False
    status, result, _module = run(tmp_path, options={'mtu': 10})
    assert result['msg'].endswith('must be an integer between 68 and 65535; nothing was changed')
    assert not os.path.exists(params(tmp_path)['path'])


def test_a_broken_file_is_named(tmp_path):
    path = params(tmp_path)['path']
    os.makedirs(os.path.dirname(path))
    with open(path, 'w') as stream:
        stream.write('{nope')
    status, result, _module = run(tmp_path, options={'debug': True})
    assert status == 'fail' and result['msg'].startswith('%s is not valid JSON' % path)


def test_dockerd_validate_refusal_changes_nothing(tmp_path):
    def dockerd(args):
        assert args[1:3] == ['--validate', '--config-file']
        return 1, '', 'unable to configure the Docker daemon with file %s: bad' % args[3]
    status, result, _module = run(tmp_path, engine_version='24.0.7', options={'debug': True},
                                  commands={'dockerd': dockerd, 'systemctl': (0, UNIT, '')})
    path = params(tmp_path)['path']
    assert status == 'fail'
    assert result['msg'] == ('dockerd --validate refused the new %s, nothing was changed: unable to configure the '
                             'Docker daemon with file %s: bad' % (path, path))
    assert result['config'] == {'debug': True} and not os.path.exists(path)


def test_dockerd_validate_accepts(tmp_path):
    status, result, _module = run(tmp_path, engine_version=None, options={'debug': True},
                                  commands={'dockerd': lambda args: (0, 'Docker version 24.0.7, build 1', ''),
                                            'systemctl': (0, UNIT, '')})
    assert status == 'exit' and result['engine_version'] == '24.0.7' and result['dockerd_validated'] is True


def test_hosts_clash_gets_a_dropin_and_loses_it_again(tmp_path):
    hosts = {'hosts': ['unix:///var/run/docker.sock']}
    status, result, _module = run(tmp_path, options=hosts)
    dropin = result['dropin']
    assert status == 'exit' and dropin['changed'] is True and dropin['removed_flags'] == ['-H fd://']
    assert dropin['before'] is None and 'ExecStart=/usr/bin/dockerd --containerd' in dropin['after']
    assert result['restart'] == 'restart' and result['files'][1]['action'] == 'written'
    assert os.path.exists(dropin['path'])
    status, result, _module = run(tmp_path, absent_keys=['hosts'])
    assert result['dropin']['changed'] is True and result['files'][1]['action'] == 'removed'
    assert not os.path.exists(dropin['path'])


@pytest.mark.parametrize('commands, words', [
    ({}, 'systemctl not found'),
    ({'systemctl': (1, '', 'No such unit')}, 'cannot read the unit docker.service (No such unit)'),
])
def test_unreadable_unit_warns_and_leaves_the_dropin(tmp_path, commands, words):
    status, result, module = run(tmp_path, options={'debug': True}, commands=commands)
    assert status == 'exit' and result['dropin']['changed'] is False
    assert any(words in warning for warning in module.warnings)


def test_unmanaged_dropin_is_left_alone(tmp_path):
    status, result, module = run(tmp_path, options={'hosts': ['unix:///x.sock']}, manage_dropin=False)
    assert result['dropin']['changed'] is False and module.ran == []


@pytest.mark.parametrize('commands, data_root_swarm, expect', [
    ({'docker': (0, 'active\n', '')}, False, (True, 'active')),
    ({'docker': (0, 'inactive\n', '')}, False, (False, 'inactive')),
    ({}, True, (True, 'swarm state in')),
    ({}, False, (False, 'unknown')),
])
def test_swarm_state_is_asked_when_live_restore_depends_on_it(tmp_path, commands, data_root_swarm, expect):
    data_root = tmp_path / 'data'
    if data_root_swarm:
        (data_root / 'swarm').mkdir(parents=True)
        (data_root / 'swarm' / 'state.json').write_text('{}')
    commands = dict(commands, systemctl=(0, UNIT, ''))
    status, result, _module = run(tmp_path, options={'live-restore': True, 'data-root': str(data_root)},
                                  commands=commands)
    assert result['swarm_active'] is expect[0]
    if expect[0]:
        assert status == 'fail' and 'live-restore is incompatible with swarm mode' in result['msg']
    else:
        assert status == 'exit' and result['swarm_source'].startswith(expect[1])


def test_no_dockerd_warns_about_version_gates(tmp_path):
    status, result, module = run(tmp_path, engine_version=None, options={'debug': True})
    assert status == 'exit' and result['engine_version'] is None
    assert any('dockerd is not in PATH' in warning for warning in module.warnings)


def test_a_failed_dropin_write_reports_what_completed(tmp_path, monkeypatch):
    real_write = files.write_atomic

    def write_atomic(path, *args, **kwargs):
        if path.endswith('.conf'):
            raise HostError('cannot write %s: read-only file system' % path)
        return real_write(path, *args, **kwargs)
    monkeypatch.setattr(files, 'write_atomic', write_atomic)
    status, result, _module = run(tmp_path, options={'hosts': ['unix:///var/run/docker.sock']})
    assert status == 'fail' and result['changed'] is True
    assert result['msg'].endswith('read-only file system')
    assert [record['name'] for record in result['completed']] == [params(tmp_path)['path']]
    assert result['failed_steps'][0]['name'] == params(tmp_path)['dropin_path'] and result['not_attempted'] == []


def test_a_directory_that_cannot_be_made_is_a_host_error(tmp_path):
    blocker = tmp_path / 'blocker'
    blocker.write_text('a file where a directory should be')
    module = FakeModule(params(tmp_path))
    with pytest.raises(HostError, match='cannot write'):
        daemon_task.apply_file(module, daemon_task.FileWrite(str(blocker / 'sub' / 'x.conf'), 'text'))


# -- the lease: one run at a time changes the engine's configuration -------------------------


def lease_params(tmp_path, owner):
    return dict(lease_owner=owner, lease_seconds=900, lease_path=str(tmp_path / 'netfleet' / 'daemon.lease'))


def test_a_change_takes_the_lease_and_a_second_run_is_refused_before_writing(tmp_path):
    status, first, _module = run(tmp_path, options={'mtu': 1400}, **lease_params(tmp_path, 'run-a'))
    lease_file = params(tmp_path, **lease_params(tmp_path, 'x'))['lease_path']
    assert status == 'exit' and first['lease'] == dict(path=lease_file, owner='run-a', taken=True, took_over=None)
    assert os.stat(lease_file).st_mode & 0o777 == 0o600
    for check_mode in (True, False):
        status, second, _module = run(tmp_path, check_mode=check_mode, options={'mtu': 1300},
                                      **lease_params(tmp_path, 'run-b'))
        assert status == 'fail' and second['changed'] is False
        assert "another run 'run-a'" in second['msg'] and 'nothing was changed' in second['msg']
        assert second['lease_holder']['owner'] == 'run-a'
    with open(params(tmp_path)['path']) as stream:
        assert json.load(stream) == {'mtu': 1400}


def test_a_run_with_nothing_to_change_is_not_refused_and_takes_nothing(tmp_path):
    run(tmp_path, options={'mtu': 1400}, **lease_params(tmp_path, 'run-a'))
    status, again, _module = run(tmp_path, options={'mtu': 1400}, **lease_params(tmp_path, 'run-b'))
    assert status == 'exit' and again['changed'] is False and again['lease']['taken'] is False


def test_the_owner_renews_and_an_expired_lease_is_taken_over(tmp_path):
    lease_file = params(tmp_path, **lease_params(tmp_path, 'x'))['lease_path']
    run(tmp_path, options={'mtu': 1400}, **lease_params(tmp_path, 'run-a'))
    status, renewed, _module = run(tmp_path, options={'mtu': 1380}, **lease_params(tmp_path, 'run-a'))
    assert status == 'exit' and renewed['lease']['taken'] is True and renewed['lease']['took_over'] is None
    with open(lease_file) as stream:
        record = json.load(stream)
    record['expires'] = record['since'] - 1
    with open(lease_file, 'w') as stream:
        json.dump(record, stream)
    status, taken, _module = run(tmp_path, options={'mtu': 1360}, **lease_params(tmp_path, 'run-c'))
    assert status == 'exit' and taken['lease']['took_over']['owner'] == 'run-a'


def test_without_an_owner_no_lease_is_read_or_written(tmp_path):
    run(tmp_path, options={'mtu': 1400}, **lease_params(tmp_path, 'run-a'))
    status, result, _module = run(tmp_path, options={'mtu': 1300})
    assert status == 'exit' and 'lease' not in result and result['changed'] is True
