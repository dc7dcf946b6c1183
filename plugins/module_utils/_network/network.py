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

from ansible_collections.netfleet.docker.plugins.module_utils._common import versions
from ansible_collections.netfleet.docker.plugins.module_utils._network import ipam
from ansible_collections.netfleet.docker.plugins.module_utils._common.client import EngineError, api_error_text, is_conflict
from ansible_collections.netfleet.docker.plugins.module_utils._network.endpoints import (
    connect_kwargs, endpoint_changes, request_as_endpoint, restore_problems, snapshot)
from ansible_collections.netfleet.docker.plugins.module_utils._network.network_spec import (
    PREDEFINED_NETWORKS, create_body, diff_views, inspected_view, network_address_space, subnet_family_problem,
    target_view)

try:
    import docker.errors as docker_errors
except ImportError:  # pragma: no cover - client.connect() reports the missing SDK first
    docker_errors = None

CREATED, RECREATED, REMOVED, UNCHANGED, ENDPOINTS_CHANGED = (
    'created', 'recreated', 'removed', 'unchanged', 'endpoints-changed')
BUILTIN_DRIVERS = frozenset(['bridge', 'overlay', 'macvlan', 'ipvlan', 'host', 'null', 'none'])


class PlanError(Exception):
    """Every problem found while planning a batch; nothing has changed when it is raised."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__('; '.join(problems))


class NetworkPlan:
    def __init__(self, desired, existing):
        self.desired = desired
        # A network asked for by full ID keeps its real name (recreate must not rename it to the ID).
        self.name = existing['Name'] if existing else desired.name
        self.existing = existing
        self.actual = inspected_view(existing) if existing else None
        self.target = None
        self.action = UNCHANGED
        self.changes = []
        self.steps = []
        self.restore = []
        self.applied = 0  # steps the engine carried out, so a failure still reports what changed

    @property
    def network_id(self):
        return self.existing['Id'] if self.existing else None

    def before(self):
        return self.actual or {}

    def after(self):
        if self.action == REMOVED:
            return {}
        return self.target if self.target is not None else (self.actual or {})

    def summary(self):
        return [step_text(step) for step in self.steps]


def step_text(step):
    kind = step['op']
    if kind in ('connect', 'disconnect'):
        return '%s %s' % (kind, step['endpoint']['container'])
    return kind


class NetworkManager:
    def __init__(self, engine):
        self.engine = engine
        self.api = engine.api
        self._networks = None
        self._containers_by_network = None
        self._containers = {}
        self._drivers = None

    # -- reading the engine -------------------------------------------------------------

    def networks(self):
        if self._networks is None:
            self._networks = self.engine.call('list networks', self.api.networks)
        return self._networks

    def find(self, name):
        """Exact name, else full ID; never a prefix (the engine's own lookup accepts prefixes)."""
        by_name = [net for net in self.networks() if net['Name'] == name]
        if len(by_name) > 1:
            raise PlanError(["network '%s': the engine has %d networks with this name (%s); remove the extra ones "
                             "by ID with docker network rm" % (name, len(by_name), ', '.join(n['Id'][:12] for n in by_name))])
        if by_name:
            return by_name[0]
        by_id = [net for net in self.networks() if net['Id'] == name]
        return by_id[0] if by_id else None

    def attached_containers(self, network_name):
        """IDs of all containers, running or stopped, that hold an endpoint on the network."""
        if self._containers_by_network is None:
            listing = self.engine.call('list containers', self.api.containers, all=True)
            index = {}
            for container in listing:
                for net_name in ((container.get('NetworkSettings') or {}).get('Networks') or {}):
                    index.setdefault(net_name, []).append(container['Id'])
            self._containers_by_network = index
        return list(self._containers_by_network.get(network_name, []))

    def container(self, name_or_id):
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

    def snapshots(self, network_name):
        result = []
        for container_id in self.attached_containers(network_name):
            data = self.container(container_id)
            endpoint = snapshot(data, network_name) if data else None
            if endpoint is not None:
                result.append(endpoint)
        return sorted(result, key=lambda endpoint: endpoint['container'])

    def drivers(self):
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

    def plan(self, desired_networks):
        problems = []
        seen = {}
        for desired in desired_networks:
            if desired.name in seen:
                problems.append("network '%s' is listed twice in this task; list it once" % desired.name)
            seen[desired.name] = desired
        if problems:
            raise PlanError(problems)
        plans = []
        for desired in desired_networks:
            try:
                existing = self.find(desired.name)
            except PlanError as exc:
                problems.extend(exc.problems)
                continue
            if existing is not None and existing['Name'] in PREDEFINED_NETWORKS:
                # Named by its full ID: the name check in DesiredNetwork could not see it.
                problems.append("network '%s' is dockerd's predefined network '%s' and cannot be changed or removed "
                                "here; configure it with the daemon role (bip, fixed-cidr, default-address-pools) instead"
                                % (desired.name, existing['Name']))
                continue
            plan = NetworkPlan(desired, existing)
            try:
                if desired.state == 'absent':
                    problems.extend(self._plan_absent(plan))
                else:
                    problems.extend(self._plan_present(plan, seen))
            except EngineError as exc:
                problems.append(str(exc))
            plans.append(plan)
        problems.extend(self._overlap_problems(plans))
        if problems:
            raise PlanError(problems)
        return plans

    def _plan_absent(self, plan):
        if plan.existing is None:
            return []
        endpoints = self.snapshots(plan.existing['Name'])
        if endpoints and not plan.desired.force:
            listed = ', '.join('%s (%s)' % (e['container'], 'running' if e['running'] else 'stopped') for e in endpoints)
            return ["%s has endpoints: %s; disconnect or remove those containers first, or set force: true "
                    "to disconnect them" % (plan.desired.owner, listed)]
        plan.action = REMOVED
        plan.steps = [dict(op='disconnect', endpoint=e, force=True) for e in endpoints] + [dict(op='remove')]
        return []

    def _plan_present(self, plan, batch):
        desired = plan.desired
        problems = self._api_gates(desired)
        if desired.view.get('config_from'):
            problems.extend(self._config_from_problems(desired, batch))
        requests = desired.connected
        request_containers = {}
        for name in requests:
            data = self.container(name)
            if data is None:
                problems.append("%s: connected container '%s' does not exist; create it first or drop it from connected"
                                % (desired.owner, name))
            else:
                request_containers[name] = data
        if problems:
            return problems

        if plan.existing is None:
            problems.extend(self._driver_problems(desired))
            plan.action = CREATED
            plan.target = target_view(desired)
            family = subnet_family_problem(desired.owner, plan.target)
            if family:
                problems.append(family)
            plan.steps = [dict(op='create')]
            for name, request in sorted(requests.items()):
                endpoint = request_as_endpoint(request)
                endpoint['id'] = request_containers[name]['Id']
                problems.extend(restore_problems(endpoint, plan.target['ipam']['config'], desired.owner))
                plan.steps.append(dict(op='connect', endpoint=endpoint))
            return problems

        plan.changes = diff_views(desired, plan.actual)
        if not plan.changes and not requests and not desired.connected_exclusive:
            # Nothing to change and no endpoints asked for: no container listing needed.
            plan.target = plan.actual
            return problems
        current = self.snapshots(plan.existing['Name'])
        current_by_name = dict((e['container'], e) for e in current)
        if plan.changes:
            if desired.recreate == 'never':
                return ['%s differs in %s and recreate is never; set recreate: auto to remove and recreate it '
                        '(endpoints are restored), or change the request to match'
                        % (desired.owner, ', '.join('%s (wanted %r, have %r)' % (c['path'], c['wanted'], c['actual'])
                                                    for c in plan.changes))]
            if 'driver' in [c['path'] for c in plan.changes]:
                problems.extend(self._driver_problems(desired))
            plan.action = RECREATED
            plan.target = target_view(desired, plan.actual)
            family = subnet_family_problem(desired.owner, plan.target)
            if family:
                problems.append(family)
            restore = []
            for endpoint in current:
                if desired.connected_exclusive and endpoint['container'] not in requests:
                    continue
                request = requests.get(endpoint['container'])
                restore.append(request_as_endpoint(request, endpoint) if request else endpoint)
            for name, request in sorted(requests.items()):
                if name not in current_by_name:
                    endpoint = request_as_endpoint(request)
                    endpoint['id'] = request_containers[name]['Id']
                    restore.append(endpoint)
            for endpoint in restore:
                problems.extend(restore_problems(endpoint, plan.target['ipam']['config'], desired.owner))
            plan.restore = restore
            plan.steps = ([dict(op='disconnect', endpoint=e, force=False) for e in current]
                          + [dict(op='remove'), dict(op='create')]
                          + [dict(op='connect', endpoint=e) for e in restore])
            return problems

        # Same network: only endpoints may need work.
        steps = []
        for name, request in sorted(requests.items()):
            have = current_by_name.get(name)
            if have is None:
                endpoint = request_as_endpoint(request)
                endpoint['id'] = request_containers[name]['Id']
                problems.extend(restore_problems(endpoint, plan.actual['ipam']['config'], desired.owner))
                steps.append(dict(op='connect', endpoint=endpoint))
                plan.changes.append(dict(path='connected[%s]' % name, wanted='connected', actual=None))
                continue
            differences = endpoint_changes(request, have)
            if differences:
                endpoint = request_as_endpoint(request, have)
                problems.extend(restore_problems(endpoint, plan.actual['ipam']['config'], desired.owner))
                steps.append(dict(op='disconnect', endpoint=have, force=False))
                steps.append(dict(op='connect', endpoint=endpoint))
                plan.changes.extend(differences)
        if desired.connected_exclusive:
            for endpoint in current:
                if endpoint['container'] not in requests:
                    steps.append(dict(op='disconnect', endpoint=endpoint, force=False))
                    plan.changes.append(dict(path='connected[%s]' % endpoint['container'], wanted=None, actual='connected'))
        if steps:
            plan.action = ENDPOINTS_CHANGED
            plan.steps = steps
        plan.target = plan.actual
        return problems

    def _api_gates(self, desired):
        problems = []
        for option in versions.option_gates('network'):
            if desired.view.get(option):
                problem = versions.gate_problem(self.engine, 'network.' + option, desired.owner)
                if problem:
                    problems.append(problem)
        return problems

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

    # -- applying ----------------------------------------------------------------------

    @staticmethod
    def ordered(plans):
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

    def apply(self, plan):
        if plan.action == UNCHANGED:
            return plan.network_id
        network_id = plan.network_id
        name = plan.name
        removed = False
        failures = []
        for step in plan.steps:
            op = step['op']
            if op == 'disconnect':
                endpoint = step['endpoint']
                self.engine.call('disconnect container %s from network %s' % (endpoint['container'], name),
                                 self.api.disconnect_container_from_network, endpoint['id'], network_id, force=step['force'])
                plan.applied += 1
            elif op == 'remove':
                self.engine.call('remove network %s' % name, self.api.remove_network, network_id)
                removed = True
                plan.applied += 1
            elif op == 'create':
                try:
                    network_id = self._create(name, plan.target)
                    plan.applied += 1
                except EngineError as exc:
                    if removed and plan.action == RECREATED:
                        raise EngineError('%s; %s' % (exc, self._roll_back(plan)))
                    raise
            elif op == 'connect':
                endpoint = step['endpoint']
                try:
                    self.api.connect_container_to_network(
                        endpoint['id'], network_id,
                        **connect_kwargs(endpoint, with_mac=versions.supports(self.engine, 'endpoint.mac_address')))
                    plan.applied += 1
                except docker_errors.APIError as exc:
                    failures.append('container %s: %s' % (endpoint['container'], api_error_text(exc)))
        if failures:
            raise EngineError("network '%s' was %s but these endpoints could not be connected: %s"
                              % (name, plan.action, '; '.join(failures)))
        return network_id

    def _create(self, name, view):
        try:
            result = self.api._result(self.api._post_json(self.api._url('/networks/create'), data=create_body(name, view)), json=True)
        except docker_errors.APIError as exc:
            if is_conflict(exc):
                # Someone created it between our listing and now: fine if it is what we want.
                existing = self.engine.call('inspect network %s' % name, self.api.inspect_network, name)
                if existing.get('Name') == name:
                    return existing['Id']
            raise EngineError("the engine at %s refused to create network '%s': %s%s"
                              % (self.engine.endpoint, name, api_error_text(exc), _create_hint(exc)))
        return result['Id']

    def _roll_back(self, plan):
        """Put the old network and its endpoints back after a failed recreate."""
        try:
            old_id = self._create(plan.name, plan.actual)
        except EngineError as exc:
            return 'rolling back also failed (%s); endpoints to restore by hand: %s' % (
                exc, ', '.join('%s %s' % (e['container'], e.get('ipv4_address') or '') for e in plan.restore))
        lost = []
        for step in plan.steps:
            if step['op'] == 'disconnect':
                endpoint = step['endpoint']
                try:
                    self.api.connect_container_to_network(endpoint['id'], old_id, **connect_kwargs(endpoint))
                except docker_errors.APIError as exc:
                    lost.append('%s (%s)' % (endpoint['container'], api_error_text(exc)))
        if lost:
            return 'the old network was put back but these endpoints could not be reconnected: %s' % ', '.join(lost)
        return 'the old network and all its endpoints were put back'

    def inspect(self, network_id):
        return self.engine.call('inspect network %s' % network_id, self.api.inspect_network, network_id)


def _create_hint(exc):
    text = api_error_text(exc).lower()
    if 'plugin' in text and 'not found' in text:
        return '; check the driver name or install the network plugin'
    if 'overlap' in text:
        return '; pick a subnet that no other network (or host route) uses'
    if 'swarm' in text or 'cluster' in text:
        return '; this driver or scope needs the engine to be in a swarm (overlay_cluster)'
    return ''
