# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an overlay_cluster request may say: every problem with it, found before the host or the engine is read.

A problem message names the option, what is wrong and the fix. A join token's value is never part of one.
"""

from __future__ import annotations

import ipaddress
from typing import List, Mapping

from ansible_collections.netfleet.docker.plugins.module_utils._overlay import kvstore
from ansible_collections.netfleet.docker.plugins.module_utils._overlay.preflight import split_host_port

SWARM_ONLY = ('advertise_addr', 'data_path_addr', 'data_path_port', 'default_addr_pool', 'subnet_size', 'remote_addrs',
              'join_token', 'cluster_id', 'role', 'availability', 'labels', 'node')
KV_ONLY = ('cluster_store', 'cluster_advertise')
# Options of this engine's own membership: meaningless when the task manages another node.
OWN_MEMBERSHIP = ('remote_addrs', 'join_token', 'advertise_addr', 'data_path_addr', 'default_addr_pool', 'subnet_size',
                  'data_path_port', 'cluster_id')


def given(params: Mapping, key: str) -> bool:
    """An option is given when it holds a value (an empty list or dict counts as not given)."""
    return params.get(key) not in (None, [], {})


def validate(params: Mapping) -> List[str]:
    """Every problem with the request as written (no host, no engine involved)."""
    if params['backend'] == 'kv':
        return kv_problems(params)
    return swarm_problems(params)


def kv_problems(params: Mapping) -> List[str]:
    problems = ['%s is a swarm setting; backend: kv only checks the engine\'s cluster-store and the store '
                '(drop %s or use backend: swarm)' % (key, key) for key in SWARM_ONLY if given(params, key)]
    if params['return_tokens']:
        problems.append('return_tokens is a swarm setting and backend: kv has no join tokens; drop return_tokens')
    if not params.get('cluster_store'):
        problems.append('backend: kv needs cluster_store (e.g. etcd://10.0.0.5:2379), the store the engines use')
    if params['state'] == 'absent':
        problems.append('backend: kv only checks (state present or checked); take a node out of a legacy overlay '
                        'by removing cluster-store from daemon.json (netfleet.docker.daemon role)')
    if params.get('cluster_store'):
        try:
            kvstore.parse_store(params['cluster_store'])
        except kvstore.KVError as exc:
            problems.append(str(exc))
    return problems


def swarm_problems(params: Mapping) -> List[str]:
    problems = ['%s is a setting of the legacy KV-store overlay (backend: kv) and cannot be combined with swarm: a '
                'daemon with cluster-store refuses swarm mode. Drop %s, or use backend: kv on engines before Docker '
                '23.0' % (key, key) for key in KV_ONLY if given(params, key)]
    problems += _join_problems(params)
    problems += _other_node_problems(params)
    problems += _address_problems(params)
    problems += _init_setting_problems(params)
    if params['return_tokens'] and params['state'] == 'absent':
        problems.append('return_tokens with state: absent: a node that left has no tokens to return; drop '
                        'return_tokens, or read them from a manager that stays')
    return problems


def _join_problems(params: Mapping) -> List[str]:
    problems = []
    remote, token = params.get('remote_addrs'), params.get('join_token')
    if remote and not token:
        problems.append('joining the swarm at %s needs join_token: read it on a manager (overlay_cluster with '
                        'return_tokens: true, or docker swarm join-token -q worker|manager) and pass it with no_log'
                        % ', '.join(remote))
    if token and not remote:
        problems.append('join_token is given without remote_addrs: name the managers to join (host:2377)')
    if token and not token.startswith('SWMTKN-'):
        problems.append('join_token does not look like a swarm join token (they start with SWMTKN-; the value is '
                        'not shown): pass the token that docker swarm join-token -q worker|manager prints on a manager')
    return problems


def _other_node_problems(params: Mapping) -> List[str]:
    if not params.get('node'):
        return []
    problems = ['node: %s manages another node\'s role, availability and labels through this manager; %s belongs to '
                'the membership of this engine itself, drop it' % (params['node'], key)
                for key in OWN_MEMBERSHIP if given(params, key)]
    if params['state'] != 'present':
        problems.append('node: %s with state: %s: node only works with state: present (removing other nodes is not '
                        'supported); use state: present, or run overlay_cluster with state: absent on that node itself'
                        % (params['node'], params['state']))
    return problems


def _address_problems(params: Mapping) -> List[str]:
    problems = []
    for key in ('advertise_addr', 'data_path_addr', 'listen_addr'):
        if params.get(key):
            try:
                split_host_port(params[key])
            except ValueError as exc:
                problems.append('%s %s' % (key, exc))
    for item in params.get('remote_addrs') or []:
        try:
            if not split_host_port(item)[0]:
                raise ValueError("'%s' has no host" % item)
        except ValueError as exc:
            problems.append('remote_addrs %s' % exc)
    return problems


def _init_setting_problems(params: Mapping) -> List[str]:
    problems = []
    port = params.get('data_path_port')
    if port is not None and not 1024 <= port <= 49151:
        problems.append('data_path_port %s is out of range: Docker accepts 1024-49151; use 4789 (the default) or '
                        'a free port in that range' % port)
    longest_pool_prefix = None
    for item in params.get('default_addr_pool') or []:
        try:
            net = ipaddress.ip_network(item)
        except ValueError as exc:
            problems.append('default_addr_pool %s: %s; %s' % (item, exc, _pool_fix(item)))
            continue
        longest_pool_prefix = max(longest_pool_prefix or 0, net.prefixlen)
    size = params.get('subnet_size')
    if size is not None:
        if not 1 <= size <= 29:
            problems.append('subnet_size %s is out of range: give a prefix length from 1 to 29 (default 24)' % size)
        elif longest_pool_prefix is not None and size < longest_pool_prefix:
            problems.append('subnet_size /%s is larger than the pool /%s it is carved from; give a subnet_size of %s '
                            'or more, or a larger pool' % (size, longest_pool_prefix, longest_pool_prefix))
    return problems


def _pool_fix(item: str) -> str:
    """The fix for a default_addr_pool entry ipaddress refused: its network when only host bits are wrong."""
    try:
        return 'did you mean %s?' % ipaddress.ip_network(item, strict=False)
    except ValueError:
        return 'write each pool as a network in CIDR form, e.g. 10.20.0.0/16'
