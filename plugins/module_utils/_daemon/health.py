# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Engine health around a restart: what runs before, whether quorum allows it, when it is back.

A rolling restart is only as safe as its gates: before an engine goes down, the swarm must keep
quorum without it; after it comes back, the next host may go only when this one is whole again
(engine answers, swarm node active, every container that had a restart policy running again on
the networks it had).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

RESTART_POLICIES = ('always', 'unless-stopped', 'on-failure')


@dataclass(frozen=True)
class ContainerState:
    name: str
    id: str
    running: bool
    policy: str
    networks: Tuple[str, ...] = ()


@dataclass(frozen=True)
class SwarmView:
    state: str = 'inactive'
    role: str = ''
    node_id: str = ''
    control_available: bool = False
    managers_total: int = 0
    managers_reachable: int = 0
    unreachable_managers: Tuple[str, ...] = ()


@dataclass(frozen=True)
class EngineSnapshot:
    answers: bool
    version: str = ''
    swarm: SwarmView = field(default_factory=SwarmView)
    containers: Tuple[ContainerState, ...] = ()

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


def snapshot_from_dict(data: Mapping) -> EngineSnapshot:
    """The snapshot a previous `state: snapshot` run returned (it travels through the play)."""
    swarm = SwarmView(**dict((k, tuple(v) if isinstance(v, list) else v) for k, v in (data.get('swarm') or {}).items()))
    containers = tuple(ContainerState(name=c['name'], id=c['id'], running=bool(c['running']), policy=c['policy'],
                                      networks=tuple(c.get('networks') or ()))
                       for c in data.get('containers') or ())
    return EngineSnapshot(answers=bool(data.get('answers')), version=data.get('version', ''), swarm=swarm,
                          containers=containers)


def restart_policy(container: Mapping) -> str:
    policy = ((container.get('HostConfig') or {}).get('RestartPolicy') or {}).get('Name') or 'no'
    return policy


def container_state(container: Mapping) -> ContainerState:
    networks = sorted(((container.get('NetworkSettings') or {}).get('Networks') or {}).keys())
    state = container.get('State')
    running = state.get('Running', False) if isinstance(state, dict) else state == 'running'
    name = container.get('Name') or (container.get('Names') or [''])[0]
    return ContainerState(name=name.lstrip('/'), id=container.get('Id', ''),
                          running=bool(running), policy=restart_policy(container), networks=tuple(networks))


def swarm_view(info: Mapping, nodes: Optional[List[Mapping]]) -> SwarmView:
    """The swarm as this engine sees it; manager reachability needs the node list (managers only)."""
    swarm = info.get('Swarm') or {}
    state = swarm.get('LocalNodeState') or 'inactive'
    control = bool(swarm.get('ControlAvailable'))
    if state != 'active':
        return SwarmView(state=state)
    managers = [node for node in (nodes or []) if node.get('ManagerStatus')]
    unreachable = tuple(sorted((node.get('Description') or {}).get('Hostname') or node.get('ID', '')[:12]
                               for node in managers
                               if (node['ManagerStatus'].get('Reachability') or '') != 'reachable'))
    total = len(managers) if nodes is not None else int(swarm.get('Managers') or 0)
    return SwarmView(state=state, role='manager' if control else 'worker', node_id=swarm.get('NodeID') or '',
                     control_available=control, managers_total=total,
                     managers_reachable=total - len(unreachable), unreachable_managers=unreachable)


def quorum_problem(view: SwarmView, host: str) -> Optional[str]:
    """Why stopping this engine now would cost the swarm its quorum, or None when it is safe.

    A swarm of one or two managers loses quorum whenever any manager restarts: there is no order
    that avoids it, so it is not refused here (quorum_warning says so instead).
    """
    if view.role != 'manager' or view.managers_total < 3:
        return None
    majority = view.managers_total // 2 + 1
    left = view.managers_reachable - 1
    if left >= majority:
        return None
    down = ', '.join(view.unreachable_managers) or 'none'
    return ('%s: restarting this swarm manager now would leave %d of %d managers reachable, below the quorum of %d '
            '(unreachable: %s); bring those managers back first, or add managers so the swarm keeps quorum '
            'while one restarts' % (host, left, view.managers_total, majority, down))


def quorum_warning(view: SwarmView, host: str) -> Optional[str]:
    """The swarm cannot keep quorum while this manager restarts, whatever the order (1 or 2 managers)."""
    if view.role != 'manager' or view.managers_total == 0 or view.managers_total >= 3:
        return None
    return ('%s: the swarm has %d manager(s), so it has no quorum while this manager restarts (its control plane '
            'pauses until the engine is back); three or more managers keep the swarm available during a rolling restart'
            % (host, view.managers_total))


def guarded_containers(containers: List[Mapping]) -> Tuple[ContainerState, ...]:
    """Running containers the engine is expected to bring back by itself (they have a restart policy)."""
    states = [container_state(container) for container in containers]
    return tuple(sorted((state for state in states if state.running and state.policy in RESTART_POLICIES),
                        key=lambda state: state.name))


def readiness_problems(before: EngineSnapshot, now: EngineSnapshot) -> List[str]:
    """Everything that is not back yet; an empty list means the host is whole again."""
    if not now.answers:
        return ['the engine does not answer yet']
    problems = []
    if before.swarm.state == 'active':
        if now.swarm.state != 'active':
            problems.append('the swarm node is %s, not active' % now.swarm.state)
        elif before.swarm.control_available and not now.swarm.control_available:
            problems.append('the swarm manager has no control plane yet (raft not rejoined)')
    current = dict((state.id, state) for state in now.containers)
    for container in before.containers:
        problems.extend(container_problems(container, current.get(container.id)))
    return problems


def container_problems(before: ContainerState, now: Optional[ContainerState]) -> List[str]:
    if now is None:
        return ['container %s is gone' % before.name]
    if not now.running:
        return ['container %s (restart policy %s) is not running' % (before.name, before.policy)]
    missing = sorted(set(before.networks) - set(now.networks))
    if missing:
        return ['container %s is not attached to %s yet' % (before.name, ', '.join(missing))]
    return []


def stragglers(before: EngineSnapshot, now: EngineSnapshot) -> List[ContainerState]:
    """Containers that had a restart policy and are stopped now: the engine gave up on them."""
    current = dict((state.id, state) for state in now.containers)
    return [container for container in before.containers
            if container.id in current and not current[container.id].running]


def read_snapshot(engine, full: bool = True) -> EngineSnapshot:
    """What the engine has now. ``full`` inspects running containers for their restart policy
    (before a restart); without it the listing is enough (after, to compare with that snapshot).
    """
    api = engine.api
    info = engine.call('read engine info', api.info)
    nodes = None
    if (info.get('Swarm') or {}).get('ControlAvailable'):
        nodes = engine.call('list swarm nodes', api.nodes)
    listing = engine.call('list containers', api.containers, all=True)
    if full:
        inspected = [engine.call('inspect container %s' % item['Id'][:12], api.inspect_container, item['Id'])
                     for item in listing if item.get('State') == 'running']
        containers = guarded_containers(inspected)
    else:
        containers = tuple(container_state(item) for item in listing)
    return EngineSnapshot(answers=True, version=info.get('ServerVersion', ''), swarm=swarm_view(info, nodes),
                          containers=containers)
