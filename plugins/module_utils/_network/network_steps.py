# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The network path shared by docker_net and macvlan_net: requests -> driver steps -> applied steps.

Plain functions that raise (never exit the process), so any driver can plan and apply networks
exactly as docker_net does: one ``Step`` per network in apply order, its ``NetworkPlan`` as
payload, and ``apply_network_step`` reporting the network's ID (or, on failure, what was done).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.netfleet.docker.plugins.module_utils._common.driver import Step
from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import EngineError, NetfleetError, PlanningError
from ansible_collections.netfleet.docker.plugins.module_utils._network import journal
from ansible_collections.netfleet.docker.plugins.module_utils._network.network import (
    REMOVED, UNCHANGED, NetworkManager, NetworkPlan, PlanError)
from ansible_collections.netfleet.docker.plugins.module_utils._network.network_spec import (
    NETWORK_OPTION_SPEC, DesiredNetwork, merged_requests)


def argument_spec() -> Dict[str, Any]:
    """docker_net's options: one network at the top level, or a batch under ``networks``."""
    item_spec = dict(NETWORK_OPTION_SPEC, name=dict(type='str', required=True))
    spec = dict(NETWORK_OPTION_SPEC)
    spec.update(name=dict(type='str'), networks=dict(type='list', elements='dict', options=item_spec))
    spec.update(JOURNAL_ARGUMENT_SPEC)
    return spec


#: the recreate journal's options (top level only), shared by docker_net and macvlan_net
JOURNAL_ARGUMENT_SPEC = dict(
    journal_dir=dict(type='path'),
    lock_timeout=dict(type='int', default=journal.DEFAULT_LOCK_TIMEOUT),
)
RECOVERED = 'recovered'


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


# -- the recreate journal around a run ------------------------------------------------------


@dataclass
class JournalRun:
    """Pending journals found for the task's networks, and what this run did about them."""

    directory: str
    pending: List[Dict[str, Any]] = field(default_factory=list)
    recovered: List[Dict[str, Any]] = field(default_factory=list)
    lock: Optional[journal.HostLock] = None

    def result(self) -> Dict[str, Any]:
        result: Dict[str, Any] = dict(journals=list(self.pending))
        if self.recovered:
            result['recovered'] = list(self.recovered)
        return result

    def applied(self) -> List[Tuple[Step, Dict[str, Any]]]:
        """The recoveries as applied steps, so `changed` and a later partial failure count them."""
        return [(Step(name=report['network'], action=RECOVERED, report=False), report) for report in self.recovered]

    def warnings(self) -> List[str]:
        warnings = []
        for report in self.recovered:
            warnings.append("network '%s': finished the %s interrupted at %s (pid %s) from the journal %s: %s"
                            % (report['network'], report['operation'], report['started'], report['pid'], report['path'],
                               ', '.join(report['steps']) or 'nothing left to do'))
            if report['missing_containers']:
                warnings.append("network '%s': the journal listed containers removed since, not restored: %s"
                                % (report['network'], ', '.join(report['missing_containers'])))
        return warnings


def journal_dir(params: Mapping[str, Any]) -> str:
    return params.get('journal_dir') or journal.DEFAULT_DIR


def begin_network_run(engine: Any, names: Sequence[str], params: Mapping[str, Any],
                      check_mode: bool) -> Tuple[NetworkManager, JournalRun]:
    """Before planning: the host lock, then every pending journal of these networks finished.

    Check mode takes no lock and writes nothing; it reports the pending journals. The manager
    returned reads the engine afresh (after the recoveries) and journals what it destroys.
    """
    run = JournalRun(journal_dir(params))
    if check_mode:
        run.pending = [journal.summary(entry) for entry in journal.read_pending(run.directory, names)]
        return NetworkManager(engine), run
    run.lock = _host_lock(run.directory, params.get('lock_timeout'))
    for entry in journal.read_pending(run.directory, names):
        run.pending.append(journal.summary(entry))
        try:
            run.recovered.append(journal.recover(NetworkManager(engine), entry))
        except journal.JournalError as exc:
            exc.details['recovered'] = run.recovered + exc.details.get('recovered', [])
            exc.details['changed'] = any(report['steps'] for report in exc.details['recovered'])
            raise
    manager = NetworkManager(engine)
    manager.journal_dir = run.directory
    return manager, run


def _host_lock(directory: str, timeout: Optional[int]) -> Optional[journal.HostLock]:
    """The host lock; None when this user cannot create it (a destructive step then fails on its journal)."""
    try:
        return journal.HostLock(directory, timeout).acquire()
    except journal.JournalError as exc:
        if 'lock_holder' in exc.details:
            raise
        return None


def with_journals(steps: Sequence[Step], run: JournalRun, check_mode: bool) -> List[Step]:
    """A network with a pending journal reports ``recovered`` (done, or predicted in check mode)."""
    recovered = dict((report['network'], report) for report in run.recovered)
    pending = dict((entry['network'], entry) for entry in run.pending)
    result = []
    for step in steps:
        name = step.name
        if isinstance(step.payload, NetworkPlan) and (name in recovered or (check_mode and name in pending)):
            details = dict(step.details)
            if name in recovered:
                details['recovered'] = recovered[name]
            else:
                details['pending_journal'] = pending[name]['path']
            action = RECOVERED if check_mode or step.action == UNCHANGED else step.action
            step = replace(step, action=action, details=details)
        result.append(step)
    return result
