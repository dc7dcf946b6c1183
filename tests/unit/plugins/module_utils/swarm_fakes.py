# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small in-memory swarm for unit tests: engines (docker.APIClient's swarm calls) sharing a cluster.

``FakeSwarm`` holds the cluster (its nodes, tokens and init-only settings); ``FakeEngine`` is one engine's
API, in a swarm or not. Writes are recorded in ``writes``; ``frozen = True`` fails the test on any write
(planning and check mode must not change anything); ``fail_on`` makes one write fail like the engine would.
``FakeModule`` stands in for AnsibleModule: exit_json / fail_json raise, warnings are collected.
"""

from __future__ import annotations

import copy
import itertools

import docker.errors

from ansible_collections.netfleet.docker.plugins.module_utils._common.client import Engine
from ansible_collections.netfleet.docker.plugins.modules import overlay_cluster

WORKER_TOKEN = 'SWMTKN-1-fakecluster-worker-s3cr3t'
MANAGER_TOKEN = 'SWMTKN-1-fakecluster-manager-s3cr3t'
SWARMS = {}         # manager address -> FakeSwarm, as remote_addrs find them
_ids = itertools.count(1)


class FakeSwarm:
    def __init__(self, cluster_id='fakecluster0001', pool=('10.0.0.0/8',), subnet_size=24, data_path_port=4789):
        self.cluster = dict(ID=cluster_id, DefaultAddrPool=list(pool), SubnetSize=subnet_size,
                            DataPathPort=data_path_port, JoinTokens=dict(Worker=WORKER_TOKEN, Manager=MANAGER_TOKEN))
        self.nodes = {}

    def add(self, engine, role, reachability='reachable'):
        node_id = 'node%04d' % next(_ids)
        status = dict(Reachability=reachability, Addr='%s:2377' % engine.addr, Leader=not self.managers())
        self.nodes[node_id] = dict(
            ID=node_id, Version=dict(Index=1), Description=dict(Hostname=engine.hostname),
            Spec=dict(Role=role, Availability='active', Labels={}),
            Status=dict(State='ready', Addr=engine.addr), ManagerStatus=status if role == 'manager' else None)
        if role == 'manager':
            SWARMS[engine.addr] = self
        return node_id

    def managers(self):
        return [node for node in self.nodes.values() if node['ManagerStatus']]

    def set_role(self, node_id, role, addr):
        node = self.nodes[node_id]
        node['Spec']['Role'] = role
        node['ManagerStatus'] = dict(Reachability='reachable', Addr='%s:2377' % addr, Leader=False) \
            if role == 'manager' else None


class FakeEngine:
    """One engine's swarm API. Join a FakeSwarm through join_swarm, or start inside one with member()."""

    def __init__(self, hostname='host1', addr='10.231.0.11', engine_version='26.1.5', cluster_store=''):
        self.hostname, self.addr = hostname, addr
        self.api_version = '1.45'
        self.engine_version = engine_version
        self.cluster_store = cluster_store
        self.swarm = None
        self.node_id = None
        self.local_state = None     # override LocalNodeState (pending, locked, error)
        self.frozen = False
        self.fail_on = None
        self.writes = []

    def member(self, fake_swarm, role='manager', reachability='reachable'):
        self.swarm = fake_swarm
        self.node_id = fake_swarm.add(self, role, reachability)
        return self

    @property
    def node(self):
        return self.swarm.nodes[self.node_id] if self.swarm else None

    @property
    def is_manager(self):
        return bool(self.node and self.node['ManagerStatus'])

    # -- reads -------------------------------------------------------------------------------

    def version(self):
        return dict(Version=self.engine_version, ApiVersion=self.api_version)

    def info(self):
        return dict(Name=self.hostname, ClusterStore=self.cluster_store, ClusterAdvertise='', Swarm=self._swarm_info())

    def _swarm_info(self):
        if not self.swarm:
            return dict(LocalNodeState=self.local_state or 'inactive', NodeID='', ControlAvailable=False,
                        RemoteManagers=None)
        info = dict(LocalNodeState=self.local_state or 'active', NodeID=self.node_id, NodeAddr=self.addr,
                    ControlAvailable=self.is_manager,
                    RemoteManagers=[dict(Addr=n['ManagerStatus']['Addr']) for n in self.swarm.managers()])
        if self.is_manager:
            info.update(Cluster=dict(ID=self.swarm.cluster['ID']), Managers=len(self.swarm.managers()),
                        Nodes=len(self.swarm.nodes))
        return info

    def _manager_only(self):
        if not self.is_manager:
            raise docker.errors.APIError('This node is not a swarm manager.')

    def inspect_swarm(self):
        self._manager_only()
        return copy.deepcopy(self.swarm.cluster)

    def nodes(self):
        self._manager_only()
        return copy.deepcopy(list(self.swarm.nodes.values()))

    def inspect_node(self, node_id):
        self._manager_only()
        return copy.deepcopy(self.swarm.nodes[node_id])

    # -- writes ------------------------------------------------------------------------------

    def _write(self, name, **kwargs):
        assert not self.frozen, 'planning / check mode must not call APIClient.%s' % name
        self.writes.append((name, kwargs))
        if self.fail_on == name:
            raise docker.errors.APIError('fake engine refuses %s' % name)

    def init_swarm(self, **kwargs):
        self._write('init_swarm', **kwargs)
        fake = FakeSwarm(cluster_id='newcluster%04d' % next(_ids), pool=kwargs.get('default_addr_pool') or ('10.0.0.0/8',),
                         subnet_size=kwargs.get('subnet_size') or 24)
        self.member(fake, 'manager')

    def join_swarm(self, remote_addrs, join_token, **kwargs):
        self._write('join_swarm', remote_addrs=remote_addrs, join_token=join_token, **kwargs)
        fake = SWARMS[remote_addrs[0].split(':')[0]]
        role = dict((v, k.lower()) for k, v in fake.cluster['JoinTokens'].items())[join_token]
        self.member(fake, role)

    def update_node(self, node_id, version, node_spec=None):
        self._write('update_node', node_id=node_id, version=version, node_spec=node_spec)
        self._manager_only()
        node = self.swarm.nodes[node_id]
        assert version == node['Version']['Index'], 'update with a stale node version'
        addr = node['Status']['Addr']
        node['Spec'] = copy.deepcopy(node_spec)
        node['Version']['Index'] += 1
        self.swarm.set_role(node_id, node_spec['Role'], addr)

    def leave_swarm(self, force=False):
        self._write('leave_swarm', force=force)
        if self.is_manager and not force:
            raise docker.errors.APIError('You are attempting to leave the swarm on a node that is participating '
                                         'as a manager. Use --force')
        del self.swarm.nodes[self.node_id]
        self.swarm, self.node_id = None, None


class Exit(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


class Failed(Exit):
    pass


class FakeModule:
    def __init__(self, check_mode=False, diff=False, **params):
        self.params = dict((key, spec.get('default')) for key, spec in overlay_cluster.argument_spec().items())
        self.params.update(params)
        self.check_mode = check_mode
        self._diff = diff
        self.warnings = []

    def warn(self, text):
        self.warnings.append(text)

    def exit_json(self, **result):
        raise Exit(result)

    def fail_json(self, **result):
        raise Failed(result)


def links(*addresses, mtu=1500):
    """The host's interfaces as preflight reads them: eth0 carries the given addresses."""
    return dict(lo=dict(mtu=65536, addresses=['127.0.0.1']), eth0=dict(mtu=mtu, addresses=list(addresses)))


def engine_for(fake):
    return Engine(fake, 'unix:///var/run/docker.sock')
