# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan and apply network changes on one engine.

``NetworkManager.plan()`` reads the engine (one network listing, one container listing when
endpoints matter), validates the whole request and returns a plan per network: what will be
done, in order. Nothing changes until every network of the batch planned cleanly. ``apply()``
runs the steps; a recreate restores every endpoint (running and stopped containers) exactly,
and puts the old network back if the new one cannot be created.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.netfleet.docker.plugins.module_utils._common import errors, versions
from ansible_collections.netfleet.docker.plugins.module_utils._network import ipam, journal
from ansible_collections.netfleet.docker.plugins.module_utils._common.client import (
    EngineError, api_error_text, is_conflict, unreachable_message)
from ansible_collections.netfleet.docker.plugins.module_utils._network.endpoints import (
    connect_endpoint, endpoint_changes, mac_problems, request_as_endpoint, restore_problems, snapshot)
from ansible_collections.netfleet.docker.plugins.module_utils._network.network_spec import (
    PREDEFINED_NETWORKS, create_body, diff_views, gate_problems, ingress_conflicts, inspected_view,
    network_address_space, target_problems,
    target_view)

try:
    import docker.errors as docker_errors
except ImportError:  # pragma: no cover - client.connect() reports the missing SDK first
    docker_errors = None

CREATED, RECREATED, REMOVED, UNCHANGED, ENDPOINTS_CHANGED = (
    'created', 'recreated', 'removed', 'unchanged', 'endpoints-changed')
BUILTIN_DRIVERS = frozenset(['bridge', 'overlay', 'macvlan', 'ipvlan', 'host', 'null', 'none'])


class PlanError(errors.PlanningError):
    """Every problem found while planning a batch; nothing has changed when it is raised."""


# Seconds a recreate waits for the swarm to stop listing the ingress network it removed.
INGRESS_RELEASE_SECONDS = 30


@dataclass(frozen=True)
class NetworkOp:
    """One engine operation of a network plan: disconnect, remove, create or connect."""

    op: str
    endpoint: Optional[Mapping[str, Any]] = None
    force: bool = False

    def text(self) -> str:
        if self.endpoint is not None:
            return '%s %s' % (self.op, self.endpoint['container'])
        return self.op


@dataclass(frozen=True)
class NetworkPlan:
    """What will happen to one network, computed before anything changes; never modified after."""

    desired: Any
    existing: Optional[Mapping[str, Any]]
    action: str = UNCHANGED
    target: Optional[Mapping[str, Any]] = None
    changes: Tuple[Mapping[str, Any], ...] = ()
    steps: Tuple[NetworkOp, ...] = ()
    restore: Tuple[Mapping[str, Any], ...] = ()
    #: containers a forced removal leaves on no network at all (they keep running with only lo)
    stranded: Tuple[str, ...] = ()
    actual: Optional[Mapping[str, Any]] = field(default=None, init=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, 'actual', inspected_view(self.existing) if self.existing else None)

    @property
    def name(self) -> str:
        # A network asked for by full ID keeps its real name (recreate must not rename it to the ID).
        return self.existing['Name'] if self.existing else self.desired.name

    @property
    def network_id(self) -> Optional[str]:
        return self.existing['Id'] if self.existing else None

    def before(self) -> Mapping[str, Any]:
        return self.actual or {}

    def after(self) -> Mapping[str, Any]:
        if self.action == REMOVED:
            return {}
        return self.target if self.target is not None else (self.actual or {})

    def summary(self) -> List[str]:
        return [step.text() for step in self.steps]


class NetworkManager:
    def __init__(self, engine):
        self.engine = engine
        self.api = engine.api
        self._networks = None
        self._containers_by_network = None
        self._containers = {}
        self._drivers = None
        #: where destructive plans are journaled (None: not journaled, e.g. planning only)
        self.journal_dir: Optional[str] = None

    # -- reading the engine -------------------------------------------------------------

    def networks(self) -> List[Dict[str, Any]]:
        if self._networks is None:
            self._networks = self.engine.call('list networks', self.api.networks)
        return self._networks

    def find(self, name: str) -> Optional[Dict[str, Any]]:
        """Exact name, else full ID; never a prefix (the engine's own lookup accepts prefixes)."""
        by_name = [net for net in self.networks() if net['Name'] == name]
        if len(by_name) > 1:
            raise PlanError(["network '%s': the engine has %d networks with this name (%s); remove the extra ones "
                             "by ID with docker network rm" % (name, len(by_name), ', '.join(n['Id'][:12] for n in by_name))])
        if by_name:
            return by_name[0]
        by_id = [net for net in self.networks() if net['Id'] == name]
        return by_id[0] if by_id else None

    def attached_containers(self, network_name: str) -> List[str]:
        """IDs of all containers, running or stopped, that hold an endpoint on the network."""
        if self._containers_by_network is None:
            listing = self.engine.call('list containers', self.api.containers, all=True)
            index = {}
            for container in listing:
                for net_name in ((container.get('NetworkSettings') or {}).get('Networks') or {}):
                    index.setdefault(net_name, []).append(container['Id'])
            self._containers_by_network = index
        return list(self._containers_by_network.get(network_name, []))

    def container(self, name_or_id: str) -> Optional[Dict[str, Any]]:
        if name_or_id not in self._containers:
            try:
                data = self.api.inspect_container(name_or_id)
            except docker_errors.NotFound:
                data = None
            except docker_errors.APIError as exc:
                raise EngineError('the engine at %s refused to inspect container %s: %s'
                                  % (self.engine.endpoint, name_or_id, api_error_text(exc)))
            # The engine resolves ID prefixes too; accept only the exact name or a long enough ID.
            if data is not None and data['Name'].lstrip('/') != name_or_id and not (
                    len(name_or_id) >= 12 and data['Id'].startswith(name_or_id)):
                data = None
            self._containers[name_or_id] = data
        return self._containers[name_or_id]

    def snapshots(self, network_name: str) -> List[Dict[str, Any]]:
        result = []
        for container_id in self.attached_containers(network_name):
            data = self.container(container_id)
            endpoint = snapshot(data, network_name) if data else None
            if endpoint is not None:
                result.append(endpoint)
        return sorted(result, key=lambda endpoint: endpoint['container'])

    def drivers(self) -> set:
        if self._drivers is None:
            info = self.engine.call('read engine info', self.api.info)
            drivers = set(BUILTIN_DRIVERS) | set((info.get('Plugins') or {}).get('Network') or [])
            try:
                for plugin in self.api.plugins():
                    if plugin.get('Enabled'):
                        drivers.add(plugin['Name'])
                        drivers.add(plugin['Name'].split(':')[0])
            except docker_errors.APIError:
                pass
            self._drivers = drivers
        return self._drivers

    # -- planning ----------------------------------------------------------------------

    def plan(self, desired_networks: Sequence[Any]) -> List[NetworkPlan]:
        """One plan per request, in request order; PlanError lists every problem of the batch."""
        seen = {}
        problems = []
        for desired in desired_networks:
            if desired.name in seen:
                problems.append("network '%s' is listed twice in this task; list it once" % desired.name)
            seen[desired.name] = desired
        if problems:
            raise PlanError(problems)
        plans = []
        for desired in desired_networks:
            plan, found = self._plan_one(desired, seen)
            problems.extend(found)
            if plan is not None:
                plans.append(plan)
        problems.extend(self._overlap_problems(plans))
        problems.extend(self._parent_problems(plans))
        if problems:
            raise PlanError(problems)
        return self._with_stranded(plans)

    def problems_beside(self, desired_networks: Sequence[Any]) -> List[str]:
        """What the engine adds to a batch that already has request problems (all in one answer).

        Requests without problems are planned as usual (their problems only); for the others only
        what stays meaningful is checked: the driver, and overlaps of their valid subnets.
        """
        flawed = [desired for desired in desired_networks if desired.problems]
        clean = [desired for desired in desired_networks if not desired.problems]
        problems = []
        for desired in flawed:
            if desired.state == 'present':
                problems.extend(self._driver_problems(desired))
        try:
            self.plan(clean)
        except PlanError as exc:
            problems.extend(exc.problems)
        candidates = dict(local=[], **{'global': []})
        others = dict(local=[], **{'global': []})
        for desired in desired_networks:
            if desired.state == 'present':
                pools = candidates if desired.problems else others
                pools[desired.address_space].extend((desired.name, pool['subnet']) for pool in desired.pools)
        for space in ('local', 'global'):
            for owner, subnet, other, other_subnet in ipam.find_overlaps(candidates[space], others[space]):
                problems.append("network '%s': subnet %s overlaps subnet %s of network '%s' (in this task); "
                                "pick a disjoint subnet" % (owner, subnet, other_subnet, other))
        return problems

    def _plan_one(self, desired, batch) -> Tuple[Optional[NetworkPlan], List[str]]:
        try:
            existing = self.find(desired.name)
        except PlanError as exc:
            return None, exc.problems
        if existing is not None and existing['Name'] in PREDEFINED_NETWORKS and not (
                existing.get('Ingress') and desired.view.get('ingress')):
            # Named by its full ID: the name check in DesiredNetwork could not see it.
            return None, ["network '%s' is dockerd's predefined network '%s' and cannot be changed or removed "
                          "here; configure it with the daemon role (bip, fixed-cidr, default-address-pools) instead"
                          % (desired.name, existing['Name'])]
        plan = NetworkPlan(desired, existing)
        try:
            if desired.state == 'absent':
                return self._plan_absent(plan)
            return self._plan_present(plan, batch)
        except EngineError as exc:
            return plan, [str(exc)]

    def _plan_absent(self, plan: NetworkPlan) -> Tuple[NetworkPlan, List[str]]:
        if plan.existing is None:
            return plan, []
        endpoints = self.snapshots(plan.existing['Name'])
        if endpoints and not plan.desired.force:
            listed = ', '.join('%s (%s)' % (e['container'], 'running' if e['running'] else 'stopped') for e in endpoints)
            return plan, ["%s has endpoints: %s; disconnect or remove those containers first, or set force: true "
                          "to disconnect them" % (plan.desired.owner, listed)]
        steps = tuple(NetworkOp('disconnect', e, force=True) for e in endpoints) + (NetworkOp('remove'),)
        return replace(plan, action=REMOVED, steps=steps), []

    def _plan_present(self, plan: NetworkPlan, batch) -> Tuple[NetworkPlan, List[str]]:
        desired = plan.desired
        problems = self._api_gates(desired)
        if desired.view.get('config_from'):
            problems.extend(self._config_from_problems(desired, batch))
        containers = {}
        for name in desired.connected:
            data = self.container(name)
            if data is None:
                problems.append("%s: connected container '%s' does not exist; create it first or drop it from connected"
                                % (desired.owner, name))
            else:
                containers[name] = data
        if problems:
            return plan, problems
        if plan.existing is None:
            return self._plan_create(plan, containers)
        changes = tuple(diff_views(desired, plan.actual))
        if not changes and not desired.connected and not desired.connected_exclusive:
            # Nothing to change and no endpoints asked for: no container listing needed.
            return replace(plan, target=plan.actual), []
        if changes:
            return self._plan_recreate(replace(plan, changes=changes), containers)
        return self._plan_endpoints(plan, containers)

    def _plan_create(self, plan: NetworkPlan, containers) -> Tuple[NetworkPlan, List[str]]:
        desired = plan.desired
        problems = self._driver_problems(desired)
        target = target_view(desired)
        problems.extend(self._family_problems(desired, target))
        steps = [NetworkOp('create')]
        for name, request in sorted(desired.connected.items()):
            endpoint = _new_endpoint(request, containers[name])
            problems.extend(restore_problems(endpoint, target['ipam']['config'], desired.owner))
            problems.extend(mac_problems(request, None, desired.owner))
            steps.append(NetworkOp('connect', endpoint))
        return replace(plan, action=CREATED, target=target, steps=tuple(steps)), problems

    def _plan_recreate(self, plan: NetworkPlan, containers) -> Tuple[NetworkPlan, List[str]]:
        """Remove and create again; every endpoint (running or stopped) is restored as it was."""
        desired = plan.desired
        requests = desired.connected
        if desired.recreate == 'never':
            return plan, ['%s differs in %s and recreate is never; set recreate: auto to remove and recreate it '
                          '(endpoints are restored), or change the request to match'
                          % (desired.owner, ', '.join('%s (wanted %r, have %r)' % (c['path'], c['wanted'], c['actual'])
                                                      for c in plan.changes))]
        problems = self._driver_problems(desired) if 'driver' in [c['path'] for c in plan.changes] else []
        target = target_view(desired, plan.actual)
        problems.extend(self._family_problems(desired, target))
        current = self.snapshots(plan.existing['Name'])
        current_names = set(e['container'] for e in current)
        restore = []
        for endpoint in current:
            if desired.connected_exclusive and endpoint['container'] not in requests:
                continue
            request = requests.get(endpoint['container'])
            restore.append(request_as_endpoint(request, endpoint) if request else endpoint)
            problems.extend(mac_problems(request, endpoint, desired.owner, recreate=True))
        for name, request in sorted(requests.items()):
            if name not in current_names:
                restore.append(_new_endpoint(request, containers[name]))
                problems.extend(mac_problems(request, None, desired.owner, recreate=True))
        for endpoint in restore:
            problems.extend(restore_problems(endpoint, target['ipam']['config'], desired.owner))
        steps = ([NetworkOp('disconnect', e) for e in current] + [NetworkOp('remove'), NetworkOp('create')]
                 + [NetworkOp('connect', e) for e in restore])
        return replace(plan, action=RECREATED, target=target, restore=tuple(restore), steps=tuple(steps)), problems

    def _plan_endpoints(self, plan: NetworkPlan, containers) -> Tuple[NetworkPlan, List[str]]:
        """Same network: connect, reconnect (changed endpoint settings) or disconnect containers."""
        desired = plan.desired
        pools = plan.actual['ipam']['config']
        current = self.snapshots(plan.existing['Name'])
        current_by_name = dict((e['container'], e) for e in current)
        steps, changes, problems = [], [], []
        for name, request in sorted(desired.connected.items()):
            have = current_by_name.get(name)
            if have is None:
                endpoint = _new_endpoint(request, containers[name])
                problems.extend(mac_problems(request, None, desired.owner))
                steps.append(NetworkOp('connect', endpoint))
                changes.append(dict(path='connected[%s]' % name, wanted='connected', actual=None))
            else:
                differences = endpoint_changes(request, have)
                if not differences:
                    continue
                problems.extend(mac_problems(request, have, desired.owner))
                endpoint = request_as_endpoint(request, have)
                steps.extend([NetworkOp('disconnect', have), NetworkOp('connect', endpoint)])
                changes.extend(differences)
            problems.extend(restore_problems(endpoint, pools, desired.owner))
        if desired.connected_exclusive:
            for endpoint in current:
                if endpoint['container'] not in desired.connected:
                    steps.append(NetworkOp('disconnect', endpoint))
                    changes.append(dict(path='connected[%s]' % endpoint['container'], wanted=None, actual='connected'))
        action = ENDPOINTS_CHANGED if steps else UNCHANGED
        return replace(plan, action=action, target=plan.actual, changes=tuple(changes), steps=tuple(steps)), problems

    @staticmethod
    def _family_problems(desired, target) -> List[str]:
        return target_problems(desired.owner, target)

    def _api_gates(self, desired):
        return gate_problems(self.engine, desired) + ingress_conflicts(desired, self.networks())

    def _driver_problems(self, desired):
        driver = desired.view.get('driver')
        if not driver or driver in self.drivers():
            return []
        return ["%s: driver '%s' is not available on the engine at %s (it has: %s); fix the name or install the "
                "network plugin on the host first" % (desired.owner, driver, self.engine.endpoint, ', '.join(sorted(self.drivers())))]

    def _config_from_problems(self, desired, batch):
        source_name = desired.view['config_from']
        source = self.find(source_name)
        in_batch = batch.get(source_name)
        if in_batch is not None and in_batch.state == 'absent':
            return ["%s: config_from names '%s', which this task removes; keep it or drop config_from"
                    % (desired.owner, source_name)]
        if source is not None and source.get('ConfigOnly'):
            return []
        if source is None and in_batch is not None and in_batch.view.get('config_only') and in_batch.state == 'present':
            return []
        if source is None:
            return ["%s: config_from names '%s', which does not exist; create it first with config_only: true"
                    % (desired.owner, source_name)]
        return ["%s: config_from names '%s', which is not a config-only network; create a config_only network "
                "for the settings" % (desired.owner, source_name)]

    def _overlap_problems(self, plans):
        """Subnets that would overlap after the batch, within it or with other networks on the engine."""
        changing = dict((plan.name, plan) for plan in plans if plan.action in (CREATED, RECREATED, REMOVED))
        candidates = dict(local=[], **{'global': []})
        others = dict(local=[], **{'global': []})
        for plan in plans:
            if plan.action in (CREATED, RECREATED) and plan.target and not plan.target.get('config_only') \
                    and plan.target['ipam']['driver'] == 'default':
                for pool in plan.target['ipam']['config']:
                    candidates[network_address_space(plan.target)].append((plan.name, pool['subnet']))
        for network in self.networks():
            if network['Name'] in changing:
                continue
            view = inspected_view(network)
            if view['config_only'] or view['ipam']['driver'] != 'default':
                continue
            for pool in view['ipam']['config']:
                if pool['subnet']:
                    others[network_address_space(view)].append((network['Name'], pool['subnet']))
        existing_names = set(net['Name'] for net in self.networks())
        problems = []
        for space in ('local', 'global'):
            for owner, subnet, other, other_subnet in ipam.find_overlaps(candidates[space], others[space]):
                where = 'already on the engine' if other in existing_names and other not in changing else 'in this task'
                problems.append("network '%s': subnet %s overlaps subnet %s of network '%s' (%s); pick a disjoint subnet"
                                % (owner, subnet, other_subnet, other, where))
        return problems

    def _parent_problems(self, plans: Sequence[NetworkPlan]) -> List[str]:
        """Docker takes one macvlan network per parent; its own refusal names an internal dm-... id."""
        changing = set(plan.name for plan in plans if plan.action in (CREATED, RECREATED, REMOVED))
        holders = {}
        for network in self.networks():
            parent = self._macvlan_parent(inspected_view(network))
            if parent and network['Name'] not in changing:
                holders.setdefault(parent, network['Name'])
        problems = []
        for plan in plans:
            parent = self._macvlan_parent(plan.target) if plan.action in (CREATED, RECREATED) else None
            if not parent:
                continue
            if parent in holders:
                problems.append("%s: parent %s already carries macvlan network '%s', and Docker takes one macvlan "
                                "network per parent; use another parent (a second NIC, or an 802.1q sub-interface "
                                "such as %s.10), or remove '%s' first"
                                % (plan.desired.owner, parent, holders[parent], parent, holders[parent]))
            else:
                holders[parent] = plan.name
        return problems

    @staticmethod
    def _macvlan_parent(view: Optional[Mapping[str, Any]]) -> Optional[str]:
        """The parent a local macvlan network holds from its creation on.

        Config-only networks hold nothing, and a swarm network with config_from reaches a node's
        driver only when a task lands there, so neither is counted (the engine decides later).
        """
        if not view or view.get('driver') != 'macvlan' or view.get('config_only') or view.get('config_from'):
            return None
        return (view.get('driver_options') or {}).get('parent')

    def _with_stranded(self, plans: List[NetworkPlan]) -> List[NetworkPlan]:
        """Removals that leave containers on no network name them (they keep running with only lo)."""
        removed = set(plan.name for plan in plans if plan.action == REMOVED)
        if not removed:
            return plans
        result = []
        for plan in plans:
            if plan.action == REMOVED:
                stranded = []
                for op in plan.steps:
                    data = self.container(op.endpoint['id']) if op.op == 'disconnect' else None
                    if data is not None and not set((data.get('NetworkSettings') or {}).get('Networks') or {}) - removed:
                        stranded.append(op.endpoint['container'])
                plan = replace(plan, stranded=tuple(sorted(stranded)))
            result.append(plan)
        return result

    # -- applying ----------------------------------------------------------------------

    @staticmethod
    def ordered(plans: Sequence[NetworkPlan]) -> List[NetworkPlan]:
        """Removals free subnets first; config-only networks exist before networks that use them."""
        def rank(plan):
            if plan.action == REMOVED:
                # A config-only network cannot go while a network still uses it.
                return 0 if (plan.actual or {}).get('config_from') else 1
            if plan.action == CREATED and plan.target.get('config_only'):
                return 2
            if plan.action == RECREATED:
                return 3
            if plan.action == CREATED:
                return 4
            return 5
        return sorted(plans, key=rank)

    def apply(self, plan: NetworkPlan) -> Optional[str]:
        """Carry out one plan; the network's ID afterwards (ApplyError says what was done on failure)."""
        return self.apply_plan(plan).network_id

    def apply_plan(self, plan: NetworkPlan) -> 'AppliedPlan':
        """Run the plan's operations; a destructive plan is journaled first (see journal.py)."""
        progress = AppliedPlan(plan.network_id)
        if plan.action == UNCHANGED:
            return progress
        record = self._begin_journal(plan)
        failures = []
        try:
            for op in plan.steps:
                self._apply_op(plan, op, progress, failures)
                if record is not None:
                    record.step_done(op.text(), progress.network_id)
                    journal.fault_pause(op.op, plan.name, self.journal_dir)
        except EngineError as exc:
            raise ApplyError(exc.problems, progress, self._journal_left(record, progress))
        if failures:
            raise ApplyError("network '%s' was %s but these endpoints could not be connected: %s"
                             % (plan.name, plan.action, '; '.join(failures)), progress, self._journal_left(record, progress))
        if record is not None:
            record.finish()
        return progress

    def _begin_journal(self, plan: NetworkPlan) -> Optional['journal.Journal']:
        """Write the journal of a recreate or a forced removal with endpoints before its first step."""
        destructive = plan.action == RECREATED or (plan.action == REMOVED and any(op.op == 'disconnect' for op in plan.steps))
        if self.journal_dir is None or not destructive:
            return None
        endpoints = [op.endpoint for op in plan.steps if op.op == 'disconnect']
        entry = journal.new_entry(
            journal.RECREATE if plan.action == RECREATED else journal.REMOVE, plan.name, plan.network_id,
            dict(view=plan.actual, create_body=create_body(plan.name, plan.actual)),
            dict(view=plan.target, create_body=create_body(plan.name, plan.target)) if plan.action == RECREATED else None,
            [dict(endpoint, settings=self._endpoint_settings(endpoint, plan.name)) for endpoint in endpoints],
            plan.restore)
        return journal.Journal.begin(self.journal_dir, entry)

    def _endpoint_settings(self, endpoint: Mapping[str, Any], network_name: str) -> Dict[str, Any]:
        """The engine's own endpoint settings (GwPriority and whatever else a newer engine has)."""
        data = self.container(endpoint['id']) or {}
        return dict(((data.get('NetworkSettings') or {}).get('Networks') or {}).get(network_name) or {})

    @staticmethod
    def _journal_left(record: Optional['journal.Journal'], progress: 'AppliedPlan') -> Optional[str]:
        """The journal a failed plan leaves for the next run (none when the rollback put everything back)."""
        if record is None:
            return None
        if progress.rolled_back:
            record.finish()
            return None
        return record.path

    def _apply_op(self, plan: NetworkPlan, op: NetworkOp, progress: 'AppliedPlan', failures: List[str]) -> None:
        if op.op == 'disconnect':
            self.engine.call('disconnect container %s from network %s' % (op.endpoint['container'], plan.name),
                             self.api.disconnect_container_from_network, op.endpoint['id'], progress.network_id,
                             force=op.force)
        elif op.op == 'remove':
            self.engine.call('remove network %s' % plan.name, self.api.remove_network, progress.network_id)
            progress.removed = True
            if (plan.existing or {}).get('Ingress'):
                self._wait_until_unlisted(plan.name, progress.network_id)
        elif op.op == 'create':
            progress.network_id = self._create_or_roll_back(plan, progress)
        else:
            error = self._connect(op.endpoint, progress.network_id)
            if error:
                # Keep going: every endpoint that can be connected is, and all failures are named at once.
                failures.append('container %s: %s' % (op.endpoint['container'], error))
                return
        progress.done.append(op.text())

    def _wait_until_unlisted(self, name: str, network_id: Optional[str]) -> None:
        """Wait (bounded) until the engine no longer lists a removed swarm ingress network.

        The swarm removes ingress asynchronously: created again while the old one is still listed, the new
        one was gone from the engine afterwards (measured on Docker 28.5). After the bound the create is
        tried anyway, and fails or succeeds on its own.
        """
        deadline = time.monotonic() + INGRESS_RELEASE_SECONDS
        while time.monotonic() < deadline:
            listed = self.engine.call('list networks', self.api.networks)
            if not any(net.get('Id') == network_id or net.get('Name') == name for net in listed or []):
                return
            time.sleep(0.5)

    def restore_endpoint(self, endpoint: Mapping[str, Any], network_id: str) -> Optional[str]:
        """Connect one recorded endpoint exactly (a journal's too); the engine's error text or None."""
        return self._connect(endpoint, network_id)

    def _connect(self, endpoint: Mapping[str, Any], network_id: str) -> Optional[str]:
        """Connect one endpoint exactly as recorded (MAC too where the API has it); the error text or None."""
        try:
            connect_endpoint(self.api, endpoint['id'], network_id, endpoint,
                             with_mac=versions.supports(self.engine, 'endpoint.mac_address'))
        except docker_errors.APIError as exc:
            return api_error_text(exc)
        except IOError as exc:  # requests' ConnectionError / Timeout: the engine is gone, stop here
            raise EngineError(unreachable_message(self.engine.endpoint, exc))
        return None

    def _create_or_roll_back(self, plan: NetworkPlan, progress: 'AppliedPlan') -> str:
        try:
            return self._create(plan.name, plan.target)
        except EngineError as exc:
            if progress.removed and plan.action == RECREATED:
                raise EngineError('%s; %s' % (exc, self._roll_back(plan, progress)))
            raise

    def _create(self, name: str, view: Mapping[str, Any]) -> str:
        return self.create_from_body(create_body(name, view))

    def create_from_body(self, body: Mapping[str, Any]) -> str:
        """POST /networks/create with this body (a journal's recorded one too); the new network's ID."""
        name = body['Name']
        try:
            result = self.api._result(self.api._post_json(self.api._url('/networks/create'), data=dict(body)), json=True)
        except docker_errors.APIError as exc:
            if is_conflict(exc):
                # Someone created it between our listing and now: fine if it is what we want.
                existing = self.engine.call('inspect network %s' % name, self.api.inspect_network, name)
                if existing.get('Name') == name:
                    return existing['Id']
            raise EngineError("the engine at %s refused to create network '%s': %s%s"
                              % (self.engine.endpoint, name, api_error_text(exc), _create_hint(exc)))
        except IOError as exc:  # requests' ConnectionError / Timeout
            raise EngineError(unreachable_message(self.engine.endpoint, exc))
        return result['Id']

    def _roll_back(self, plan: NetworkPlan, progress: 'AppliedPlan') -> str:
        """Put the old network and its endpoints back (addresses, aliases, links and MAC) after a failed recreate."""
        try:
            old_id = self._create(plan.name, plan.actual)
        except EngineError as exc:
            return 'rolling back also failed (%s); endpoints to restore by hand: %s' % (
                exc, ', '.join('%s %s' % (e['container'], e.get('ipv4_address') or '') for e in plan.restore))
        lost = []
        for op in plan.steps:
            if op.op == 'disconnect':
                error = self._connect(op.endpoint, old_id)
                if error:
                    lost.append('%s (%s)' % (op.endpoint['container'], error))
        if lost:
            return 'the old network was put back but these endpoints could not be reconnected: %s' % ', '.join(lost)
        progress.rolled_back = True
        return 'the old network and all its endpoints were put back'

    def inspect(self, network_id: str) -> Dict[str, Any]:
        return self.engine.call('inspect network %s' % network_id, self.api.inspect_network, network_id)


@dataclass
class AppliedPlan:
    """What the engine carried out of one plan: read by the result and by the failure report."""

    network_id: Optional[str]
    done: List[str] = field(default_factory=list)
    removed: bool = False
    #: a failed create put the old network and every endpoint back
    rolled_back: bool = False


class ApplyError(EngineError):
    """A plan failed part-way; ``applied`` says what the engine had carried out before it stopped."""

    def __init__(self, problems, applied: AppliedPlan, journal_path: Optional[str] = None):
        details: Dict[str, Any] = dict(step_details=dict(done=list(applied.done)))
        if journal_path:
            # The next run finishes the change from this file before anything else.
            details['step_details']['journal'] = journal_path
            problems = ([problems] if isinstance(problems, str) else list(problems)) + [
                'the next docker_net run of this network finishes the change from the journal %s' % journal_path]
        if applied.done:
            details['changed'] = True  # e.g. the old network is gone: Ansible must not read "unchanged"
        super().__init__(problems, **details)
        self.applied = applied


def _new_endpoint(request: Mapping[str, Any], container: Mapping[str, Any]) -> Dict[str, Any]:
    """The endpoint a request makes for a container not yet on the network."""
    endpoint = request_as_endpoint(request)
    endpoint['id'] = container['Id']
    return endpoint


def _create_hint(exc):
    text = api_error_text(exc).lower()
    if 'plugin' in text and 'not found' in text:
        return '; check the driver name or install the network plugin'
    if 'overlap' in text:
        return '; pick a subnet that no other network (or host route) uses'
    if 'swarm' in text or 'cluster' in text:
        return '; this driver or scope needs the engine to be in a swarm (overlay_cluster)'
    return ''
