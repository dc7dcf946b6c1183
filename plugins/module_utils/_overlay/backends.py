# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The two backends of overlay_cluster behind the driver base: plan -> steps, apply one step, the result.

Both run the host checks first (nothing read from the engine yet), then connect. ``swarm`` turns the swarm
plan into driver steps (one per typed action, with the predicted before/after of the object it acts on);
``kv`` only checks and plans a single unchanged step. ``context`` is what the result says whatever happens
(backend, preflight, underlay, drift...), so a failure reports it too.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.netfleet.docker.plugins.module_utils._common import client
from ansible_collections.netfleet.docker.plugins.module_utils._common.driver import UNCHANGED, Step
from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import NetfleetError
from ansible_collections.netfleet.docker.plugins.module_utils._overlay import kvstore, preflight, swarm, swarm_plan
from ansible_collections.netfleet.docker.plugins.module_utils._overlay.swarm_actions import ChangeRole, UpdateNodeSettings

Applied = Sequence[Tuple[Step, Mapping]]


class OverlayBackend:
    """What both backends share: the host checks, the connection, the reported context."""

    def __init__(self, module: Any, probe: Optional[preflight.HostProbe] = None,
                 connect: Optional[Callable[[Any], Any]] = None):
        self.module = module
        self.params = module.params
        self.probe = probe or preflight.HostProbe(module)
        self.connect = connect or client.connect
        self.host = preflight.HostFacts()
        self.context: Dict[str, Any] = dict(backend=self.params['backend'], preflight={})

    @property
    def engine_changed(self) -> bool:
        return False

    def check_host(self) -> None:
        self.host = self.probe.check(self.params)
        self.context.update(self.host.result())

    def plan(self) -> Tuple[Step, ...]:
        raise NotImplementedError

    def apply(self, step: Step) -> Mapping:
        raise NotImplementedError

    def result(self, steps: Sequence[Step], applied: Applied, check_mode: bool) -> Dict[str, Any]:
        return dict(self.context, actions=[])

    def failure_context(self, applied: Applied) -> Dict[str, Any]:
        return dict(self.context, actions=applied_actions(applied))


class KvBackend(OverlayBackend):
    """backend: kv - checks the engine's cluster-store settings and the store; changes nothing."""

    def plan(self) -> Tuple[Step, ...]:
        self.check_host()
        engine = self.connect(self.module)
        resolved = (self.host.underlay or {}).get('address')
        # the engine's TLS files for the store are in its daemon.json only (docker info does not show them)
        store_opts = kvstore.engine_store_opts() if preflight.local_engine(self.params) else {}
        try:
            self.context['kv'] = kvstore.check_engine(engine, self.params, resolved, store_opts)
        except NetfleetError as exc:
            if 'kv' in exc.details:
                self.context['kv'] = exc.details.pop('kv')
            raise
        return (Step(name=engine.endpoint, action=UNCHANGED),)


class SwarmBackend(OverlayBackend):
    """backend: swarm - this engine's membership, or another node's settings through this manager."""

    node: Optional[swarm.SwarmNode] = None
    predicted: Optional[Dict[str, Any]] = None

    @property
    def engine_changed(self) -> bool:
        return bool(self.node is not None and self.node.mutations)

    def plan(self) -> Tuple[Step, ...]:
        self.check_host()
        node = self.node = swarm.SwarmNode(self.connect(self.module))
        node.refresh()
        plan = swarm_plan.plan_swarm(self.params, node, self.host, self.probe, self.module.warn)
        if plan.drift is not None:
            self.context['drift'] = list(plan.drift)
        if plan.node_changes:
            self.context['node_changes'] = list(plan.node_changes)
        if plan.manager_port:
            self.context['preflight']['manager_port'] = dict(plan.manager_port)
        steps, self.predicted = plan_steps(plan, node)
        return steps

    def apply(self, step: Step) -> Mapping:
        return step.payload.apply(self.node, self.module.warn)

    def result(self, steps: Sequence[Step], applied: Applied, check_mode: bool) -> Dict[str, Any]:
        result = dict(self.context)
        changing = [step for step in steps if step.changes_host]
        if check_mode and changing:
            result['actions'] = [line for step in changing for line in step.payload.describe()]
            result.update(predicted_facts(self.node, self.predicted))
            return result
        result['actions'] = applied_actions(applied)
        if applied:
            self.node.refresh()
        result.update(member_facts(self.node, self.params))
        if 'underlay' not in result and preflight.local_engine(self.params):
            underlay = underlay_from_engine(self.node, self.probe)
            if underlay:
                result['underlay'] = underlay
        return result


BACKENDS = dict(swarm=SwarmBackend, kv=KvBackend)


def applied_actions(applied: Applied) -> List[str]:
    """The action lines of the steps applied; a step may say it did less than planned."""
    lines: List[str] = []
    for step, details in applied:
        lines.extend(details['actions'] if 'actions' in details else step.payload.describe())
    return lines


def plan_steps(plan: swarm_plan.SwarmPlan, node: swarm.SwarmNode) -> Tuple[Tuple[Step, ...], Dict[str, Any]]:
    """One driver step per action, each with the predicted view before and after it; and the final membership.

    Membership actions (init, join, leave, this node's role) chain on this node's membership view; settings
    of a node (and another node's role) chain on that node's role / availability / labels."""
    own_name = node.info.get('Name') or node.node_id or node.engine.endpoint
    membership = node.view()
    target = plan.target or swarm_plan.FRESH_NODE
    settings = swarm.settings_view(target)
    target_name = swarm.node_name(plan.target) if plan.target else own_name
    steps = []
    for action in plan.actions:
        if isinstance(action, UpdateNodeSettings) or (isinstance(action, ChangeRole) and not action.own):
            name, before = target_name, settings
            after = settings = action.predict(settings)
        else:
            name, before = own_name, membership
            after = membership = action.predict(membership)
        changes = tuple(sorted(key for key in set(before) | set(after) if before.get(key) != after.get(key)))
        steps.append(Step(name=name, action=action.verb, before=before, after=after, changes=changes,
                          payload=action))
    if not steps:
        steps.append(Step(name=own_name, action=UNCHANGED))
    return tuple(steps), membership


def predicted_facts(node: swarm.SwarmNode, predicted: Mapping) -> Dict[str, Any]:
    """Check mode with changes: the membership the plan predicts (what the engine knows only after is left out)."""
    return dict(node_id=node.node_id, cluster_id=predicted.get('cluster_id'), role=predicted.get('role'),
                node_state='active' if predicted.get('swarm') == 'active' else 'inactive')


def member_facts(node: swarm.SwarmNode, params: Mapping) -> Dict[str, Any]:
    """The node's membership as the engine reports it; on managers the node list (and tokens when asked)."""
    info = node.swarm
    active = node.state != 'inactive'
    facts = dict(node_id=node.node_id, node_state=node.state, cluster_id=(info.get('Cluster') or {}).get('ID'),
                 role=('manager' if node.is_manager else 'worker') if active else None,
                 advertise_addr=info.get('NodeAddr') or None,
                 managers=info.get('Managers') if node.is_manager else None,
                 node_count=info.get('Nodes') if node.is_manager else None,
                 manager_addrs=node.manager_addrs([]) if active else [])
    if node.is_manager:
        listing = node.nodes()
        facts.update(nodes=[swarm.node_summary(item) for item in listing],
                     managers=sum(1 for item in listing if item.get('ManagerStatus')),
                     node_count=len(listing), manager_addrs=node.manager_addrs(listing))
        if params['return_tokens']:
            tokens = node.tokens()
            facts['join_tokens'] = dict(worker=tokens.get('Worker'), manager=tokens.get('Manager'))
    elif params['return_tokens'] and active:
        # joined without a role and the token made it a worker: known only now
        raise NetfleetError('return_tokens: join tokens can only be read on a manager, and this node is a worker')
    return facts


def underlay_from_engine(node: swarm.SwarmNode, probe: preflight.HostProbe) -> Optional[Dict[str, Any]]:
    """When advertise_addr was not given: the interface carrying the address the node advertises."""
    addr = node.swarm.get('NodeAddr')
    if not addr or node.state == 'inactive':
        return None
    return probe.underlay_of(addr)
