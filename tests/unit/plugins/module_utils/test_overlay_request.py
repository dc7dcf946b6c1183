# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Request validation of overlay_cluster: every bad input is refused before the host or the engine is touched."""

from __future__ import annotations

import pytest

from ansible_collections.netfleet.docker.plugins.module_utils._overlay import request as task
from ansible_collections.netfleet.docker.plugins.modules import overlay_cluster


def params(**overrides):
    values = dict((key, spec.get('default')) for key, spec in overlay_cluster.argument_spec().items())
    values.update(overrides)
    return values


def test_defaults_are_valid():
    assert task.validate(params()) == []
    assert task.validate(params(remote_addrs=['10.0.0.1'], join_token='SWMTKN-1-abc-def')) == []
    assert task.validate(params(backend='kv', cluster_store='etcd://10.0.0.1:2379')) == []


@pytest.mark.parametrize('overrides, expected', [
    (dict(remote_addrs=['10.0.0.1']), 'needs join_token'),
    (dict(join_token='SWMTKN-1-a-b'), 'without remote_addrs'),
    (dict(remote_addrs=['10.0.0.1'], join_token='secret-value'), 'does not look like a swarm join token'),
    (dict(cluster_store='etcd://10.0.0.1:2379'), 'cannot be combined with swarm'),
    (dict(backend='kv'), 'backend: kv needs cluster_store'),
    (dict(backend='kv', cluster_store='10.0.0.1:2379'), 'is not a store URL'),
    (dict(backend='kv', cluster_store='etcd://h:2379', remote_addrs=['x']), 'remote_addrs is a swarm setting'),
    (dict(backend='kv', cluster_store='etcd://h:2379', state='absent'), 'only checks'),
    (dict(node='n1', remote_addrs=['x'], join_token='SWMTKN-1-a-b'), 'manages another node'),
    (dict(node='n1', state='absent'), 'only works with state: present'),
    (dict(data_path_port=80), 'data_path_port 80'),
    (dict(subnet_size=30), 'subnet_size 30'),
    (dict(default_addr_pool=['10.0.0.0/16'], subnet_size=8), 'larger than the pool'),
    (dict(default_addr_pool=['10.0.0.1/16']), 'default_addr_pool 10.0.0.1/16'),
    (dict(advertise_addr='10.0.0.1:99999'), 'advertise_addr'),
    (dict(state='absent', return_tokens=True), 'return_tokens with state: absent'),
])
def test_bad_input_is_refused(overrides, expected):
    problems = task.validate(params(**overrides))
    assert any(expected in problem for problem in problems), problems


def test_token_value_never_in_messages():
    problems = task.validate(params(remote_addrs=['10.0.0.1'], join_token='not-a-token-s3cr3t'))
    assert problems and all('s3cr3t' not in problem for problem in problems)


def test_join_token_is_no_log():
    assert overlay_cluster.argument_spec()['join_token']['no_log'] is True
