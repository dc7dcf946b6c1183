# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The network path shared by docker_net and macvlan_net: requests -> driver steps -> applied steps.

Plain functions that raise (never exit the process), so any driver can plan and apply networks
exactly as docker_net does: one ``Step`` per network in apply order, its ``NetworkPlan`` as
payload, and ``apply_network_step`` reporting the network's ID (or, on failure, what was done).
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.netfleet.docker.plugins.module_utils._common.driver import Step
from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import EngineError, NetfleetError, PlanningError
from ansible_collections.netfleet.docker.plugins.module_utils._network.network import (
    REMOVED, NetworkManager, NetworkPlan, PlanError)
from ansible_collections.netfleet.docker.plugins.module_utils._network.network_spec import (
    NETWORK_OPTION_SPEC, DesiredNetwork, merged_requests)


def argument_spec() -> Dict[str, Any]:
    """docker_net's options: one network at the top level, or a batch under ``networks``."""
    item_spec = dict(NETWORK_OPTION_SPEC, name=dict(type='str', required=True))
    spec = dict(NETWORK_OPTION_SPEC)
    spec.update(name=dict(type='str'), networks=dict(type='list', elements='dict', options=item_spec))
    return spec


def desired_networks(params: Mapping[str, Any]) -> Tuple[List[DesiredNetwork], List[str]]:
    """The requests of a task and every problem each one has (nothing is read or changed)."""
    items = params.get('networks')
    raw = [merged_requests(params, item) for item in items] if items is not None else [merged_requests(params, None)]
    desired = [DesiredNetwork(request, collect=True) for request in raw]
    return desired, [problem for network in desired for problem in network.problems]


def engine_problems(connect: Callable[[], Any], desired: Sequence[DesiredNetwork]) -> List[str]:
    """What the engine adds to requests that already have problems, so every problem is in one answer.

    Best effort: when the engine cannot be read, the request's own problems are the answer.
    """
    try:
        return NetworkManager(connect()).problems_beside(desired)
    except NetfleetError:
        return []


def plan_network_steps(manager: NetworkManager, desired: Sequence[DesiredNetwork]) -> List[Step]:
    """One step per network, in apply order; PlanningError lists every problem (nothing changed)."""
    try:
        plans = manager.plan(desired)
    except PlanError as exc:
        raise PlanningError(exc.problems)
    except EngineError as exc:
        raise PlanningError([str(exc)])
    return [network_step(plan) for plan in manager.ordered(plans)]


def network_step(plan: NetworkPlan) -> Step:
    details: Dict[str, Any] = dict(id=plan.network_id, differences=list(plan.changes), steps=plan.summary())
    if plan.stranded:
        details['stranded_containers'] = list(plan.stranded)
    return Step(name=plan.name, action=plan.action, before=plan.before(), after=plan.after(),
                changes=tuple(change['path'] for change in plan.changes), details=details, payload=plan)


def stranded_warnings(steps: Sequence[Step], check_mode: bool) -> List[str]:
    """One warning per forced removal that leaves containers on no network at all."""
    warnings = []
    for step in steps:
        plan = step.payload
        if isinstance(plan, NetworkPlan) and plan.stranded:
            warnings.append("removing network '%s' %s containers %s on no network (they keep running with only "
                            "the loopback interface); connect them to another network or stop them"
                            % (plan.name, 'would leave' if check_mode else 'left', ', '.join(plan.stranded)))
    return warnings


def apply_network_step(manager: NetworkManager, step: Step) -> Dict[str, Any]:
    """Apply one network's plan; its record gets the network's ID afterwards."""
    return dict(id=manager.apply_plan(step.payload).network_id)


def network_after(manager: NetworkManager, plan: NetworkPlan, network_id: Optional[str]) -> Mapping[str, Any]:
    """The inspected network after the task ({} when removed or only planned in check mode)."""
    network_id = network_id or plan.network_id
    return manager.inspect(network_id) if network_id and plan.action != REMOVED else {}


def applied_id(applied: Sequence[Tuple[Step, Mapping[str, Any]]], step: Step) -> Optional[str]:
    """The network ID an applied step reported (None when it was not applied, e.g. check mode)."""
    for done, details in applied:
        if done is step:
            return details.get('id')
    return None
