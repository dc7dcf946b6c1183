# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Swarm membership of one engine: read, plan, apply.

The plan is computed from ``docker info`` (and, on managers, the swarm and its nodes) before
anything changes: init, join, leave, promote / demote, availability and labels. Settings
that only ``swarm init`` can set are compared with the active cluster and reported as drift.
Removing a manager (leave or demote) is refused when the remaining managers would lose the
Raft quorum, unless ``force``.
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import PlanningError
from ansible_collections.netfleet.docker.plugins.module_utils._overlay.preflight import addr_ip

Node = Mapping[str, Any]    # a node as the engine's node listing / inspect returns it

SWARM_PORT = 2377
DEFAULT_DATA_PATH_PORT = 4789
INIT_ONLY = ('default_addr_pool', 'subnet_size', 'data_path_port', 'advertise_addr')
NODE_SETTINGS = ('role', 'availability', 'labels')


class SwarmError(PlanningError):
    """A request that cannot be done as asked; nothing has changed when it is raised."""


# -- pure logic (unit-tested) --------------------------------------------------------------

def quorum(members: int) -> int:
    """Raft quorum of a manager set: a strict majority."""
    return members // 2 + 1


def manager_counts(nodes: Sequence[Node]) -> Tuple[int, int]:
    """(reachable, unreachable) managers from a node listing."""
    reachable = unreachable = 0
    for node in nodes:
        status = node.get('ManagerStatus')
        if not status:
            continue
        if status.get('Reachability') == 'reachable':
            reachable += 1
        else:
            unreachable += 1
    return reachable, unreachable


def removal_problem(reachable: int, unreachable: int, action: str = 'leave',
                    target_reachable: bool = True) -> Optional[str]:
    """Why removing one manager (demote, or demote + leave) would break the swarm, or None.

    The manager set shrinks by one; the managers still reachable afterwards must be a quorum of
    the new set, and the change itself needs a quorum now to be committed. Removing an unreachable
    manager (``target_reachable`` False: demoting a manager that is down) takes no reachable one
    away: it is how a swarm with a dead manager gets back its margin, and Docker allows it too."""
    members = reachable + unreachable
    if members - 1 == 0:
        if action == 'demote':
            return 'it is the last manager, and a swarm needs at least one: promote another node first'
        return ('it is the last manager: leaving erases the swarm (every node, network, secret and '
                'config); give force: true only if that is what you want')
    if reachable < quorum(members):
        return ('the swarm has no quorum now (%d of %d managers reachable, %d needed): the change cannot be '
                'committed; restore the unreachable managers first' % (reachable, members, quorum(members)))
    after, reachable_after = members - 1, reachable - (1 if target_reachable else 0)
    if reachable_after < quorum(after):
        return ('it leaves %d reachable managers out of %d, and %d are needed for a quorum: the swarm would '
                'become unmanageable; restore or remove the unreachable managers first, or give force: true'
                % (reachable_after, after, quorum(after)))
    return None


def normalize_pool(pool: Optional[Sequence[str]]) -> List[str]:
    return sorted(str(ipaddress.ip_network(str(item), strict=False)) for item in (pool or []))


def init_drift(request: Mapping, cluster: Optional[Mapping], node_addr: Optional[str],
               advertise_ip: Optional[str] = None) -> Tuple[List[Dict[str, Any]], List[str]]:
    """Init-only settings of the request that differ from the active cluster.

    request: the module parameters (only keys that are set are compared); cluster: the swarm's
    inspect data (DefaultAddrPool, SubnetSize, DataPathPort) or None on a worker (cluster-wide
    settings cannot be read there); node_addr: the node's advertise IP as the engine reports it;
    advertise_ip: the IP the request's advertise_addr stands for on this host (an interface name
    resolves to its address).
    Returns (drift list of dicts(setting, requested, actual), settings that could not be read)."""
    drift, unreadable = [], []
    wanted_pool = request.get('default_addr_pool')
    wanted_size = request.get('subnet_size')
    wanted_port = request.get('data_path_port')
    if cluster is None:
        unreadable = [key for key in ('default_addr_pool', 'subnet_size', 'data_path_port')
                      if request.get(key) not in (None, [])]
    else:
        if wanted_pool:
            actual = normalize_pool(cluster.get('DefaultAddrPool'))
            if normalize_pool(wanted_pool) != actual:
                drift.append(dict(setting='default_addr_pool', requested=normalize_pool(wanted_pool), actual=actual))
        if wanted_size is not None and wanted_size != cluster.get('SubnetSize'):
            drift.append(dict(setting='subnet_size', requested=wanted_size, actual=cluster.get('SubnetSize')))
        if wanted_port is not None:
            actual = cluster.get('DataPathPort') or DEFAULT_DATA_PATH_PORT
            if wanted_port != actual:
                drift.append(dict(setting='data_path_port', requested=wanted_port, actual=actual))
    if advertise_ip and node_addr and ipaddress.ip_address(advertise_ip) != ipaddress.ip_address(node_addr):
        drift.append(dict(setting='advertise_addr', requested=advertise_ip, actual=node_addr))
    return drift, unreadable


def drift_text(drift: Sequence[Mapping]) -> str:
    return '; '.join('%s is %s in the active swarm, the request says %s' % (d['setting'], d['actual'], d['requested'])
                     for d in drift)


def node_changes(node: Node, role: Optional[str], availability: Optional[str], labels: Optional[Mapping],
                 labels_exclusive: bool) -> Tuple[List[Dict[str, Any]], Dict[str, Any]]:
    """What differs between a node (inspect data) and the wanted settings. -> (changes, new spec)."""
    spec = dict(node.get('Spec') or {})
    changes = []
    if role and spec.get('Role') != role:
        changes.append(dict(setting='role', requested=role, actual=spec.get('Role')))
        spec['Role'] = role
    if availability and spec.get('Availability') != availability:
        changes.append(dict(setting='availability', requested=availability, actual=spec.get('Availability')))
        spec['Availability'] = availability
    if labels is not None:
        current = dict(spec.get('Labels') or {})
        wanted = dict(current) if not labels_exclusive else {}
        wanted.update(dict((k, str(v)) for k, v in labels.items()))
        if wanted != current:
            keys = sorted(k for k in set(wanted) | set(current) if wanted.get(k) != current.get(k))
            changes.append(dict(setting='labels', requested=dict((k, wanted.get(k)) for k in keys),
                                actual=dict((k, current.get(k)) for k in keys)))
            spec['Labels'] = wanted
    return changes, spec


def same_swarm(remote_addrs: Sequence[str], manager_addrs: Sequence[str]) -> Optional[bool]:
    """True/False when remote_addrs (IPs) do / do not name one of the swarm's managers; None if undecidable."""
    wanted = set(filter(None, (addr_ip(a) for a in remote_addrs)))
    known = set(filter(None, (addr_ip(a) for a in manager_addrs)))
    if not wanted or not known:
        return None
    return bool(wanted & known)


def settings_view(node: Node) -> Dict[str, Any]:
    """A node's role, availability and labels, as shown in diffs."""
    spec = node.get('Spec') or {}
    return dict(role=spec.get('Role'), availability=spec.get('Availability'), labels=dict(spec.get('Labels') or {}))


def node_name(node: Node) -> str:
    return (node.get('Description') or {}).get('Hostname') or node.get('ID') or '?'


def node_summary(node: Node) -> Dict[str, Any]:
    status = node.get('ManagerStatus') or {}
    spec = node.get('Spec') or {}
    return dict(id=node.get('ID'), hostname=(node.get('Description') or {}).get('Hostname'),
                role=spec.get('Role'), availability=spec.get('Availability'), labels=spec.get('Labels') or {},
                state=(node.get('Status') or {}).get('State'), addr=(node.get('Status') or {}).get('Addr'),
                reachability=status.get('Reachability'), leader=bool(status.get('Leader')),
                manager_addr=status.get('Addr'))


# -- the engine side -----------------------------------------------------------------------

class SwarmNode:
    """This engine's swarm membership."""

    def __init__(self, engine: Any):
        self.engine = engine
        self.api = engine.api
        self.info = None
        self.mutations = 0

    def _change(self, doing, func, *args, **kwargs):
        result = self.engine.call(doing, func, *args, **kwargs)
        self.mutations += 1
        return result

    def refresh(self) -> Dict[str, Any]:
        self.info = self.engine.call('read the engine info', self.api.info)
        return self.info

    @property
    def swarm(self) -> Dict[str, Any]:
        return (self.info or {}).get('Swarm') or {}

    @property
    def state(self) -> str:
        return self.swarm.get('LocalNodeState') or 'inactive'

    @property
    def is_manager(self) -> bool:
        return bool(self.swarm.get('ControlAvailable'))

    @property
    def node_id(self) -> Optional[str]:
        return self.swarm.get('NodeID') or None

    def cluster(self) -> Optional[Dict[str, Any]]:
        return self.engine.call('inspect the swarm', self.api.inspect_swarm) if self.is_manager else None

    def nodes(self) -> List[Dict[str, Any]]:
        return self.engine.call('list the swarm nodes', self.api.nodes) if self.is_manager else []

    def inspect_node(self, node_id: str) -> Dict[str, Any]:
        return self.engine.call('inspect swarm node %s' % node_id, self.api.inspect_node, node_id)

    def manager_addrs(self, nodes: Sequence[Node]) -> List[str]:
        addrs = [(n.get('ManagerStatus') or {}).get('Addr') for n in nodes]
        addrs += [m.get('Addr') for m in (self.swarm.get('RemoteManagers') or [])]
        return sorted(set(a for a in addrs if a))

    def find_node(self, name: str, nodes: Sequence[Node]) -> Node:
        """A node by full ID or exact hostname (which must be unique)."""
        by_id = [n for n in nodes if n.get('ID') == name]
        if by_id:
            return by_id[0]
        by_name = [n for n in nodes if (n.get('Description') or {}).get('Hostname') == name]
        if len(by_name) > 1:
            raise SwarmError("node '%s': %d swarm nodes have this hostname (%s); name the node by its ID"
                             % (name, len(by_name), ', '.join(n['ID'] for n in by_name)))
        if not by_name:
            raise SwarmError("node '%s' is not in the swarm (nodes: %s)"
                             % (name, ', '.join(sorted('%s (%s)' % ((n.get('Description') or {}).get('Hostname'), n['ID'])
                                                       for n in nodes)) or 'none'))
        return by_name[0]

    def view(self) -> Dict[str, Any]:
        """Membership as shown in diffs."""
        if self.state == 'inactive':
            return dict(swarm='inactive')
        cluster = (self.swarm.get('Cluster') or {})
        return dict(swarm=self.state, cluster_id=cluster.get('ID'), node_id=self.node_id,
                    role='manager' if self.is_manager else 'worker', advertise_addr=self.swarm.get('NodeAddr'))

    # -- actions ---------------------------------------------------------------------------

    def init(self, **options: Any) -> Any:
        """swarm init with the SDK's keyword options (advertise_addr, listen_addr, default_addr_pool, ...)."""
        return self._change('initialize a swarm', self.api.init_swarm, **options)

    def join(self, remote_addrs: Sequence[str], join_token: str, **options: Any) -> Any:
        return self._change('join the swarm at %s' % ', '.join(remote_addrs), self.api.join_swarm,
                            remote_addrs=list(remote_addrs), join_token=join_token, **options)

    def update_node(self, node: Node, spec: Mapping) -> Any:
        return self._change('update swarm node %s' % node['ID'], self.api.update_node, node['ID'],
                            node['Version']['Index'], node_spec=spec)

    def leave(self, force: bool) -> Any:
        return self._change('leave the swarm', self.api.leave_swarm, force=force)

    def wait_worker(self, timeout: float) -> bool:
        """After a self-demotion: wait (bounded) until the engine no longer acts as a manager."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.refresh()
            if not self.is_manager:
                return True
            time.sleep(0.5)
        return False

    def tokens(self) -> Dict[str, Any]:
        return dict(self.engine.call('read the join tokens', self.api.inspect_swarm).get('JoinTokens') or {})
