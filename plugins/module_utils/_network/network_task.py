# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docker_net task: parameters -> validated requests -> plan -> apply -> result.

Kept apart from the module file so that other modules (macvlan_net, the roles' batch calls)
run networks through exactly the same path.
"""

from __future__ import annotations

from ansible_collections.netfleet.docker.plugins.module_utils._common import client
from ansible_collections.netfleet.docker.plugins.module_utils._network.endpoints import EndpointError
from ansible_collections.netfleet.docker.plugins.module_utils._network.ipam import NETADDR_IMPORT_ERROR
from ansible_collections.netfleet.docker.plugins.module_utils._network.network import NetworkManager, PlanError
from ansible_collections.netfleet.docker.plugins.module_utils._network.network_spec import (
    NETWORK_OPTION_SPEC, DesiredNetwork, SpecError, merged_requests)
from ansible_collections.netfleet.docker.plugins.module_utils._common.outcome import Outcome, fail_with_problems

from ansible.module_utils.basic import missing_required_lib


def argument_spec():
    item_spec = dict(NETWORK_OPTION_SPEC, name=dict(type='str', required=True))
    spec = dict(NETWORK_OPTION_SPEC)
    spec.update(
        name=dict(type='str'),
        networks=dict(type='list', elements='dict', options=item_spec),
    )
    spec.update(client.CONNECTION_ARGUMENT_SPEC)
    return spec


def desired_networks(params):
    """Validated requests, or the list of every problem found (nothing is touched either way)."""
    items = params.get('networks')
    raw = [merged_requests(params, item) for item in items] if items is not None else [merged_requests(params, None)]
    desired, problems = [], []
    for request in raw:
        try:
            desired.append(DesiredNetwork(request))
        except (SpecError, EndpointError) as exc:
            problems.append(str(exc))
    return desired, problems


def run(module):
    if NETADDR_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib('netaddr'), exception=NETADDR_IMPORT_ERROR)
    desired, problems = desired_networks(module.params)
    if problems:
        fail_with_problems(module, problems)
    engine = client.connect_or_fail(module)
    manager = NetworkManager(engine)
    plans = plan_networks(module, manager, desired)
    outcome, ids = apply_plans(module, manager, plans)
    extra = dict(networks=outcome.entries())
    if module.params.get('networks') is None:
        extra['network'] = network_after(manager, plans[0], ids)
    module.exit_json(**outcome.result(module._diff, **extra))


def plan_networks(module, manager, desired):
    """Plans for validated requests; fails the module (nothing changed) on any problem.

    Shared with macvlan_net, which runs its network through exactly this path.
    """
    try:
        return manager.plan(desired)
    except PlanError as exc:
        fail_with_problems(module, exc.problems)
    except client.EngineError as exc:
        fail_with_problems(module, [str(exc)])
    return None  # not reached: fail_json exits


def apply_plans(module, manager, plans):
    """Apply plans in order (not in check mode); an Outcome with one record per network, and the new IDs."""
    outcome = Outcome('network')
    ids = {}
    done = []
    try:
        for plan in manager.ordered(plans):
            if not module.check_mode:
                ids[plan.name] = manager.apply(plan)
            done.append(plan.name)
    except client.EngineError as exc:
        pending = [plan.name for plan in plans if plan.name not in done]
        module.fail_json(msg=str(exc), completed=done, not_attempted=pending[1:], failed=pending[:1])

    for plan in plans:
        network_id = ids.get(plan.name, plan.network_id)
        if plan.action == 'removed':
            network_id = plan.network_id
        outcome.record(plan.name, plan.action, before=plan.before(), after=plan.after(),
                       changes=[change['path'] for change in plan.changes],
                       id=network_id,
                       differences=plan.changes,
                       steps=plan.summary())
    return outcome, ids


def network_after(manager, plan, ids):
    """The inspected network after the task ({} when removed or only planned in check mode)."""
    network_id = ids.get(plan.name) or plan.network_id
    return manager.inspect(network_id) if network_id and plan.action != 'removed' else {}
