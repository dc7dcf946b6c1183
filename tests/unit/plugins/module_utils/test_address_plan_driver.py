# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The address_plan driver: the state file is its only write; check mode, diff, idempotence, failures."""

from __future__ import annotations

import json
import os

from host_fakes import FakeModule, run_driver

from ansible_collections.netfleet.docker.plugins.modules import address_plan as module_file


def params(tmp_path, **kwargs):
    result = dict(state_file=str(tmp_path / 'state' / 'plan.json'), supernets={'fleet': '10.64.0.0/16'},
                  exclude=[], hosts=['a', 'b'], host_exclude={},
                  networks=[dict(name='web', prefix=24, supernet='fleet')], bip=None, address_pools=None,
                  swarm_pool=None, avoid_docker_defaults=True, release=[])
    result.update(kwargs)
    return result


def run(tmp_path, check_mode=False, diff=False, **kwargs):
    return run_driver(module_file.AddressPlanDriver,
                      FakeModule(params(tmp_path, **kwargs), check_mode=check_mode, diff=diff))


def test_check_mode_plans_and_writes_nothing(tmp_path):
    status, result = run(tmp_path, check_mode=True, diff=True)
    assert status == 'exit' and result['changed'] is True
    assert result['plan']['hosts']['b']['networks'] == {'web': '10.64.1.0/24'}
    assert result['report']['new'] == ['a/web', 'b/web'] and result['state_file'] == params(tmp_path)['state_file']
    assert result['diff'] == dict(before='\n', after='a/web 10.64.0.0/24\nb/web 10.64.1.0/24\n',
                                  before_header=result['state_file'], after_header=result['state_file'])
    assert 'objects' not in result and not os.path.exists(result['state_file'])


def test_real_run_writes_a_private_state_then_settles(tmp_path):
    status, result = run(tmp_path)
    path = result['state_file']
    assert status == 'exit' and result['changed'] is True and os.stat(path).st_mode & 0o777 == 0o600
    with open(path) as stream:
        assert json.load(stream)['allocations'] == {'a/web': '10.64.0.0/24', 'b/web': '10.64.1.0/24'}
    status, again = run(tmp_path, diff=True, hosts=['b', 'a'])
    assert again['changed'] is False and 'diff' not in again and again['report']['kept'] == ['a/web', 'b/web']


def test_planning_errors_fail_with_the_message_and_change_nothing(tmp_path):
    status, result = run(tmp_path, hosts=['a', 'a'])
    assert status == 'fail' and result['msg'] == 'hosts listed twice: a; list each host once'
    assert result['changed'] is False and result['problems'] == [result['msg']]
    status, result = run(tmp_path, supernets={'fleet': '10.64.0.1/16'})
    assert status == 'fail' and 'fleet' in result['msg']
    assert not os.path.exists(params(tmp_path)['state_file'])


def test_an_unreadable_state_is_named(tmp_path):
    path = params(tmp_path)['state_file']
    os.makedirs(os.path.dirname(path))
    with open(path, 'w') as stream:
        stream.write('[]')
    status, result = run(tmp_path)
    assert status == 'fail' and result['msg'] == '%s is not an address plan state of version 1; restore it from a backup' % path


def test_missing_netaddr_is_reported_first(tmp_path, monkeypatch):
    monkeypatch.setattr(module_file.AddressPlanDriver, 'required_libraries', (('netaddr', 'Traceback: no netaddr'),))
    status, result = run(tmp_path)
    assert status == 'fail' and 'netaddr' in result['msg']


def test_without_a_cache_the_plan_comes_from_the_fleet_claims_and_writes_nothing(tmp_path):
    status, first = run(tmp_path, check_mode=True)
    claims = dict((host, dict(networks={'web': [entry['networks']['web']]})) for host, entry in first['plan']['hosts'].items())
    status, result = run(tmp_path, state_file=None, hosts=['b', 'a'], claims=claims, swarm_claims=[], unread={}, allocate=False)
    assert status == 'exit' and result['changed'] is False and result['plan'] == first['plan']
    assert result['report']['claimed'] == ['a/web', 'b/web'] and result['state_file'] is None
    assert '"a/web": "10.64.0.0/24"' in result['state_text'] and not os.path.exists(params(tmp_path)['state_file'])


def test_a_conflict_on_the_fleet_fails_with_both_holders_and_writes_nothing(tmp_path):
    claims = {'a': dict(networks={'web': ['10.64.5.0/24']}), 'b': dict(networks={'web': ['10.64.5.0/24']})}
    status, result = run(tmp_path, claims=claims)
    assert status == 'fail' and "10.64.5.0/24 (network 'web' of a) overlaps 10.64.5.0/24 (network 'web' of b)" in result['msg']
    assert result['changed'] is False and not os.path.exists(params(tmp_path)['state_file'])
