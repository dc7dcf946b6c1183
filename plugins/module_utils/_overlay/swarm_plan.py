# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The swarm plan: from what the engine says now, the typed actions that make the request true.

Everything that can refuse the request runs here, before the first action: an unusable swarm state, another
swarm than the one named, drift of init-only settings (on_drift: fail), quorum loss on leave / demote, a worker
asked to do a manager's job, the manager port before a join. The plan only reads the engine; applying it is
the actions' job (``swarm_actions``), and the driver base decides whether to (check mode stops before).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from ansible_collections.netfleet.docker.plugins.module_utils._overlay import preflight, swarm
from ansible_collections.netfleet.docker.plugins.module_utils._overlay.request import given
from ansible_collections.netfleet.docker.plugins.module_utils._overlay.swarm_actions import (
    ChangeRole, InitSwarm, JoinSwarm, LeaveSwarm, SwarmAction, UpdateNodeSettings)
from ansible_collections.netfleet.docker.plugins.module_utils._overlay.swarm import SwarmError, SwarmNode

Warn = Callable[[str], None]
# What a node that has just initialized or joined carries: a new node ID, so no labels yet.
FRESH_NODE = dict(Spec=dict(Availability='active', Labels={}))
UNUSABLE_STATES = dict(
    pending='a join is in progress; wait for it or run docker swarm leave --force',
    error='the swarm reports: %s',
    locked='the swarm is locked (autolock): unlock it with docker swarm unlock')


@dataclass(frozen=True)
class SwarmPlan:
    """The actions in apply order, and what planning found (reported whether or not anything changes).

    ``drift`` is None when it was not compared (the node is not a member, or the task is about another node);
    ``target`` is the node whose settings change (None for this engine's own membership)."""

    actions: Tuple[SwarmAction, ...] = ()
    drift: Optional[Tuple[Mapping, ...]] = None
    node_changes: Optional[Tuple[Mapping, ...]] = None
    manager_port: Optional[Mapping] = None
    target: Optional[Mapping] = None


def plan_swarm(params: Mapping, node: SwarmNode, host: preflight.HostFacts, probe: preflight.HostProbe,
               warn: Warn) -> SwarmPlan:
    """The plan for this request on this node (read with ``node.refresh()`` just before)."""
    refuse_unusable_state(node)
    if params.get('node'):
        return plan_other_node(params, node)
    if params['state'] == 'absent':
        return plan_leave(params, node)
    if node.state == 'inactive':
        return plan_join_or_init(params, node, probe, warn)
    return plan_member(params, node, host, warn)


def refuse_unusable_state(node: SwarmNode) -> None:
    if node.info.get('ClusterStore'):
        raise SwarmError('the engine is configured with cluster-store %s (legacy KV overlay); swarm mode cannot be '
                         'used with it: remove cluster-store / cluster-advertise from daemon.json first'
                         % node.info['ClusterStore'])
    if node.state in UNUSABLE_STATES:
        hint = UNUSABLE_STATES[node.state]
        if node.state == 'error':
            hint = hint % (node.swarm.get('Error') or '?')
        raise SwarmError('the node\'s swarm state is %s: %s' % (node.state, hint))


# -- another node, through this manager ----------------------------------------------------

def plan_other_node(params: Mapping, node: SwarmNode) -> SwarmPlan:
    if not node.is_manager:
        raise SwarmError('node: %s is managed through a manager, and the engine at %s is %s'
                         % (params['node'], node.engine.endpoint,
                            'a worker' if node.state == 'active' else 'not in a swarm'))
    return plan_node_update(params, node, params['node'], node.nodes())


def plan_node_update(params: Mapping, node: SwarmNode, name: str, nodes: Any, own: bool = False) -> SwarmPlan:
    """Role, availability and labels of one node: a role change first, then the settings."""
    target = node.find_node(name, nodes)
    changes, _spec = swarm.node_changes(target, params.get('role'), params.get('availability'),
                                        params.get('labels'), params['labels_exclusive'])
    if not changes:
        return SwarmPlan(target=target)
    if any(c['setting'] == 'role' and c['requested'] == 'worker' for c in changes):
        reachable = (target.get('ManagerStatus') or {}).get('Reachability') == 'reachable'
        problem = swarm.removal_problem(*swarm.manager_counts(nodes), action='demote', target_reachable=reachable)
        if problem and not params['force']:
            raise SwarmError('demoting node %s is refused: %s' % (name, problem))
    actions = [ChangeRole(target['ID'], params['role'], own=own)
               for change in changes if change['setting'] == 'role']
    settings = tuple(change['setting'] for change in changes if change['setting'] != 'role')
    if settings:
        actions.append(settings_action(params, target['ID'], settings))
    return SwarmPlan(actions=tuple(actions), node_changes=tuple(changes), target=target)


def settings_action(params: Mapping, node_id: Optional[str], settings: Tuple[str, ...]) -> UpdateNodeSettings:
    labels = params.get('labels') if 'labels' in settings else None
    return UpdateNodeSettings(node_id, settings,
                              availability=params.get('availability') if 'availability' in settings else None,
                              labels=tuple(sorted(labels.items())) if labels is not None else None,
                              labels_exclusive=params['labels_exclusive'])


# -- this engine's membership --------------------------------------------------------------

def plan_leave(params: Mapping, node: SwarmNode) -> SwarmPlan:
    if node.state == 'inactive':
        return SwarmPlan()
    force = params['force']
    actions = []
    if node.is_manager:
        reachable, unreachable = swarm.manager_counts(node.nodes())
        problem = swarm.removal_problem(reachable, unreachable)
        if problem and not force:
            raise SwarmError('leaving the swarm is refused: %s' % problem)
        if reachable + unreachable > 1 and not problem:
            # demote first: the manager set shrinks cleanly instead of keeping an unreachable member
            actions.append(ChangeRole(node.node_id, 'worker', own=True, wait_until_worker=True))
        else:
            force = True    # the last manager (or a forced one) cannot leave without it
    actions.append(LeaveSwarm(force=force))
    return SwarmPlan(actions=tuple(actions))


def plan_join_or_init(params: Mapping, node: SwarmNode, probe: preflight.HostProbe, warn: Warn) -> SwarmPlan:
    remote = params.get('remote_addrs')
    if remote:
        manager_port = preflight.require_manager_port(remote, params['preflight_timeout'])
        if params['state'] == 'checked':
            return SwarmPlan(manager_port=manager_port)
        return SwarmPlan(actions=(join_action(params),) + own_settings(params, node, params.get('role'), warn),
                         manager_port=manager_port)
    if params['state'] == 'checked':
        return SwarmPlan()
    if params.get('role') == 'worker':
        raise SwarmError('role: worker without remote_addrs: a swarm is initialized by a manager. Give remote_addrs '
                         'and join_token to join an existing swarm as a worker')
    if not params.get('advertise_addr') and preflight.local_engine(params):
        # dockerd refuses to choose when the host has several addresses; say which ones.
        candidates = probe.ipv4_candidates()
        if len(candidates) > 1:
            raise SwarmError('initializing a swarm needs advertise_addr on this host, which has several addresses '
                             '(%s): give the one the other nodes reach' % ', '.join(candidates))
    init = InitSwarm(advertise_addr=params.get('advertise_addr'), listen_addr=params.get('listen_addr'),
                     data_path_addr=params.get('data_path_addr'), data_path_port=params.get('data_path_port'),
                     default_addr_pool=tuple(params.get('default_addr_pool') or ()),
                     subnet_size=params.get('subnet_size'))
    return SwarmPlan(actions=(init,) + own_settings(params, node, 'manager', warn))


def join_action(params: Mapping) -> JoinSwarm:
    if params['return_tokens'] and params.get('role') == 'worker':
        raise SwarmError('return_tokens: join tokens can only be read on a manager, and this node joins as a worker')
    return JoinSwarm(tuple(params['remote_addrs']), params['join_token'], role=params.get('role'),
                     cluster_id=params.get('cluster_id'), advertise_addr=params.get('advertise_addr'),
                     listen_addr=params.get('listen_addr'), data_path_addr=params.get('data_path_addr'))


def own_settings(params: Mapping, node: SwarmNode, role: Optional[str], warn: Warn) -> Tuple[SwarmAction, ...]:
    """Availability / labels right after init or join: a manager sets its own; a worker cannot."""
    if not (given(params, 'availability') or given(params, 'labels')):
        return ()
    if role == 'worker':
        warn('availability and labels of a worker are set through a manager: run overlay_cluster on a manager '
             'with node: %s' % (node.info.get('Name') or 'this node'))
        return ()
    changes, _spec = swarm.node_changes(FRESH_NODE, None, params.get('availability'), params.get('labels'),
                                        params['labels_exclusive'])
    settings = tuple(change['setting'] for change in changes)
    return (settings_action(params, None, settings),) if settings else ()


def plan_member(params: Mapping, node: SwarmNode, host: preflight.HostFacts, warn: Warn) -> SwarmPlan:
    """A node already in a swarm: the same swarm, no drift, then its own role and settings."""
    nodes = node.nodes()
    refuse_other_swarm(params, node, nodes)
    drift = compare_drift(params, node, host.advertise_ip, warn)
    if params['return_tokens'] and not node.is_manager:
        raise SwarmError('return_tokens: join tokens can only be read on a manager, and this node is a worker',
                         drift=list(drift))
    if params['state'] == 'checked':
        return SwarmPlan(drift=drift)
    settings = [key for key in ('availability', 'labels') if given(params, key)]
    if not node.is_manager:
        if params.get('role') == 'manager':
            raise SwarmError('this node is a worker; promoting it is done through a manager: run overlay_cluster '
                             'against a manager with node: %s, role: manager' % node.node_id, drift=list(drift))
        if settings:
            raise SwarmError('%s of a worker node can only be changed through a manager: run overlay_cluster '
                             'against a manager with node: %s' % (' and '.join(settings), node.node_id),
                             drift=list(drift))
        return SwarmPlan(drift=drift)
    return replace(plan_node_update(params, node, node.node_id, nodes, own=True), drift=drift)


def refuse_other_swarm(params: Mapping, node: SwarmNode, nodes: Any) -> None:
    """Refuse a request that names another swarm than the one this node is in."""
    cluster_id = (node.swarm.get('Cluster') or {}).get('ID')
    wanted_id, remote = params.get('cluster_id'), params.get('remote_addrs') or []
    managers = node.manager_addrs(nodes)
    if wanted_id and cluster_id and wanted_id != cluster_id:
        raise SwarmError('this node is already in swarm %s (as %s), the request names swarm %s; a node is in one '
                         'swarm at a time: leave first (state: absent) and join again'
                         % (cluster_id, 'manager' if node.is_manager else 'worker', wanted_id))
    if remote and swarm.same_swarm(remote, managers) is False:
        current = ('swarm %s' % cluster_id) if cluster_id else \
            'another swarm (its cluster ID is only visible on managers)'
        wanted = ('swarm %s' % wanted_id) if wanted_id else 'the swarm'
        raise SwarmError('this node is already in %s whose managers are at %s; the request joins %s at %s. A node is '
                         'in one swarm at a time: leave first (state: absent) and join again'
                         % (current, ', '.join(managers), wanted, ', '.join(remote)))
    init_like = params.get('role') == 'manager' or any(given(params, key) for key in swarm.INIT_ONLY[:3])
    if not remote and not node.is_manager and init_like:
        raise SwarmError('no remote_addrs: the request initializes a swarm, but this node is already a worker of the '
                         'swarm managed at %s; give remote_addrs, join_token and cluster_id of that swarm, or leave '
                         'it first' % ', '.join(managers))


def compare_drift(params: Mapping, node: SwarmNode, advertise_ip: Optional[str],
                  warn: Warn) -> Tuple[Dict[str, Any], ...]:
    """Init-only settings against the active swarm: fail (on_drift: fail) or warn; never changed."""
    drift, unreadable = swarm.init_drift(params, node.cluster(), node.swarm.get('NodeAddr'), advertise_ip)
    if unreadable:
        warn('%s can only be compared on a manager; this node is a worker, so they were not checked'
             % ', '.join(unreadable))
    if drift and params['on_drift'] == 'fail':
        raise SwarmError('settings that only swarm init sets differ from the active swarm: %s. They cannot change '
                         'without re-creating the swarm; fix the request, or give on_drift: warn to accept the '
                         'active values' % swarm.drift_text(drift), drift=drift)
    if drift:
        warn('init-only settings differ from the active swarm (not changed): %s' % swarm.drift_text(drift))
    return tuple(drift)
