# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The overlay_cluster task: parameters -> validation -> preflight -> plan -> apply -> result.

Every check that can fail runs before the first change, so a failed task leaves the node
as it was. The swarm logic is in swarm.py, the KV-store checks in kvstore.py and the host
and peer probes in preflight.py.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.netfleet.docker.plugins.module_utils._common import client
from ansible_collections.netfleet.docker.plugins.module_utils._overlay import kvstore
from ansible_collections.netfleet.docker.plugins.module_utils._overlay import preflight
from ansible_collections.netfleet.docker.plugins.module_utils._overlay import swarm
from ansible_collections.netfleet.docker.plugins.module_utils._common.outcome import UNCHANGED, Outcome, fail_with_problems

SWARM_ONLY = ('advertise_addr', 'data_path_addr', 'data_path_port', 'default_addr_pool', 'subnet_size', 'remote_addrs',
              'join_token', 'cluster_id', 'role', 'availability', 'labels', 'node')
KV_ONLY = ('cluster_store', 'cluster_advertise')


def argument_spec():
    spec = dict(
        backend=dict(type='str', default='swarm', choices=['swarm', 'kv']),
        state=dict(type='str', default='present', choices=['present', 'absent', 'checked']),
        advertise_addr=dict(type='str'),
        listen_addr=dict(type='str', default='0.0.0.0:2377'),
        data_path_addr=dict(type='str'),
        data_path_port=dict(type='int'),
        default_addr_pool=dict(type='list', elements='str'),
        subnet_size=dict(type='int'),
        remote_addrs=dict(type='list', elements='str'),
        join_token=dict(type='str', no_log=True),
        cluster_id=dict(type='str'),
        role=dict(type='str', choices=['manager', 'worker']),
        availability=dict(type='str', choices=['active', 'pause', 'drain']),
        labels=dict(type='dict'),
        labels_exclusive=dict(type='bool', default=False),
        node=dict(type='str'),
        force=dict(type='bool', default=False),
        on_drift=dict(type='str', default='fail', choices=['fail', 'warn']),
        return_tokens=dict(type='bool', default=False),
        encrypted_overlay=dict(type='bool', default=False),
        preflight_timeout=dict(type='float', default=3.0),
        cluster_store=dict(type='str'),
        cluster_advertise=dict(type='str'),
    )
    spec.update(client.CONNECTION_ARGUMENT_SPEC)
    return spec


class TaskFailed(Exception):
    def __init__(self, msg, **extra):
        super().__init__(msg)
        self.extra = extra


def _given(params, key):
    return params.get(key) not in (None, [], {})


def validate(params):
    """Problems with the request as written (no host, no engine involved)."""
    problems = []
    backend = params['backend']
    if backend == 'swarm':
        for key in KV_ONLY:
            if _given(params, key):
                problems.append("%s is a setting of the legacy KV-store overlay (backend: kv) and cannot be combined "
                                "with swarm: a daemon with cluster-store refuses swarm mode. Drop %s, or use backend: kv "
                                "on engines before Docker 23.0" % (key, key))
    else:
        for key in SWARM_ONLY:
            if _given(params, key):
                problems.append('%s is a swarm setting; backend: kv only checks the engine\'s cluster-store and the store '
                                '(drop %s or use backend: swarm)' % (key, key))
        if params['return_tokens']:
            problems.append('return_tokens is a swarm setting; backend: kv has no join tokens')
        if not params.get('cluster_store'):
            problems.append('backend: kv needs cluster_store (e.g. etcd://10.0.0.5:2379), the store the engines use')
        if params['state'] == 'absent':
            problems.append('backend: kv only checks (state present or checked); take a node out of a legacy overlay '
                            'by removing cluster-store from daemon.json (netfleet.docker.daemon role)')
        if params.get('cluster_store'):
            try:
                kvstore.parse_store(params['cluster_store'])
            except kvstore.KVError as exc:
                problems.append(str(exc))
        return problems

    remote, token = params.get('remote_addrs'), params.get('join_token')
    if remote and not token:
        problems.append('joining the swarm at %s needs join_token: read it on a manager (overlay_cluster with '
                        'return_tokens: true, or docker swarm join-token -q worker|manager) and pass it with no_log'
                        % ', '.join(remote))
    if token and not remote:
        problems.append('join_token is given without remote_addrs: name the managers to join (host:2377)')
    if token and not token.startswith('SWMTKN-'):
        problems.append('join_token does not look like a swarm join token (they start with SWMTKN-); '
                        'the value is not shown')
    if params.get('node'):
        for key in ('remote_addrs', 'join_token', 'advertise_addr', 'data_path_addr', 'default_addr_pool', 'subnet_size',
                    'data_path_port', 'cluster_id'):
            if _given(params, key):
                problems.append('node: %s manages another node\'s role, availability and labels through this manager; '
                                '%s belongs to the membership of this engine itself, drop it' % (params['node'], key))
        if params['state'] != 'present':
            problems.append('node: only works with state: present (removing other nodes is not supported)')
    for key in ('advertise_addr', 'data_path_addr', 'listen_addr'):
        if params.get(key):
            try:
                preflight.split_host_port(params[key])
            except ValueError as exc:
                problems.append('%s %s' % (key, exc))
    for item in remote or []:
        try:
            host = preflight.split_host_port(item)[0]
            if not host:
                raise ValueError("'%s' has no host" % item)
        except ValueError as exc:
            problems.append('remote_addrs %s' % exc)
    port = params.get('data_path_port')
    if port is not None and not 1024 <= port <= 49151:
        problems.append('data_path_port %s: Docker accepts 1024-49151 (default 4789)' % port)
    pools = params.get('default_addr_pool') or []
    smallest = None
    for item in pools:
        try:
            net = ipaddress.ip_network(item)
        except ValueError as exc:
            problems.append('default_addr_pool %s: %s' % (item, exc))
            continue
        smallest = net.prefixlen if smallest is None else max(smallest, net.prefixlen)
    size = params.get('subnet_size')
    if size is not None:
        if not 1 <= size <= 29:
            problems.append('subnet_size %s: give a prefix length from 1 to 29 (default 24)' % size)
        elif smallest is not None and size < smallest:
            problems.append('subnet_size /%s is larger than the pool /%s it is carved from' % (size, smallest))
    if params['return_tokens'] and params['state'] == 'absent':
        problems.append('return_tokens with state: absent: a node that left has no tokens to return')
    return problems


def _local_engine(params):
    return (params.get('docker_host') or client.DEFAULT_DOCKER_HOST).startswith('unix://')


class OverlayClusterTask:
    def __init__(self, module):
        self.module = module
        self.params = dict(module.params)
        self.check = module.check_mode
        self.outcome = Outcome('swarm node')
        self._host_links = None
        self.steps = []
        self.result = dict(backend=self.params['backend'], preflight={})
        self.node = None

    # -- helpers ---------------------------------------------------------------------------

    def host_checks(self):
        """Addresses on this host, the underlay interface and ESP support (local engines only)."""
        params = self.params
        if params['state'] == 'absent' or params.get('node'):
            return
        wants_local = (params.get('advertise_addr') or params.get('data_path_addr') or params.get('cluster_advertise')
                       or params['encrypted_overlay'])
        if not _local_engine(params):
            if wants_local:
                self.module.warn('docker_host %s is not a local socket: the advertise address, the underlay MTU and '
                                 'ESP support of the engine\'s host were not checked' % params['docker_host'])
            return
        if params.get('advertise_addr'):
            underlay = preflight.underlay_for(params['advertise_addr'], self.host_links())
            self.result['underlay'] = underlay
            self.params['advertise_ip'] = underlay['address']
        if params.get('data_path_addr'):
            preflight.underlay_for(params['data_path_addr'], self.host_links(), option='data_path_addr')
        if params.get('cluster_advertise'):
            self.result['underlay'] = preflight.underlay_for(params['cluster_advertise'], self.host_links(),
                                                             option='cluster_advertise')
        if params['encrypted_overlay']:
            self.result['preflight']['esp'] = preflight.require_esp(self.module)

    def host_links(self):
        """The host's interfaces and addresses, read once per run."""
        if self._host_links is None:
            self._host_links = preflight.host_links(self.module)
        return self._host_links

    def underlay_from_engine(self, node):
        """When advertise_addr was not given: the interface carrying the address the node advertises."""
        if 'underlay' in self.result or not _local_engine(self.params):
            return
        addr = node.swarm.get('NodeAddr')
        if not addr or node.state == 'inactive':
            return
        try:
            self.result['underlay'] = preflight.underlay_for(addr, self.host_links())
        except preflight.PreflightError:
            pass

    def report_drift(self, drift, unreadable):
        self.result['drift'] = drift
        if unreadable:
            self.module.warn('%s can only be compared on a manager; this node is a worker, so they were not checked'
                             % ', '.join(unreadable))
        if not drift:
            return
        text = swarm.drift_text(drift)
        if self.params['on_drift'] == 'fail':
            raise TaskFailed('settings that only swarm init sets differ from the active swarm: %s. They cannot change '
                             'without re-creating the swarm; fix the request, or give on_drift: warn to accept the '
                             'active values' % text, drift=drift)
        self.module.warn('init-only settings differ from the active swarm (not changed): %s' % text)

    def identity(self, node, nodes):
        """Refuse a request that names another swarm than the one this node is in."""
        params = self.params
        cluster_id = (node.swarm.get('Cluster') or {}).get('ID')
        wanted_id = params.get('cluster_id')
        remote = params.get('remote_addrs') or []
        managers = node.manager_addrs(nodes)
        if wanted_id and cluster_id and wanted_id != cluster_id:
            raise TaskFailed('this node is already in swarm %s (as %s), the request names swarm %s; a node is in one '
                             'swarm at a time: leave first (state: absent) and join again'
                             % (cluster_id, 'manager' if node.is_manager else 'worker', wanted_id))
        if remote and swarm.same_swarm(remote, managers) is False:
            current = ('swarm %s' % cluster_id) if cluster_id else \
                'another swarm (its cluster ID is only visible on managers)'
            wanted = ('swarm %s' % wanted_id) if wanted_id else 'the swarm'
            raise TaskFailed('this node is already in %s whose managers are at %s; the request joins %s at %s. A node is '
                             'in one swarm at a time: leave first (state: absent) and join again'
                             % (current, ', '.join(managers), wanted, ', '.join(remote)))
        init_like = params.get('role') == 'manager' or any(_given(params, key) for key in swarm.INIT_ONLY[:3])
        if not remote and not node.is_manager and init_like and not params.get('node'):
            raise TaskFailed('no remote_addrs: the request initializes a swarm, but this node is already a worker of the '
                             'swarm managed at %s; give remote_addrs, join_token and cluster_id of that swarm, or leave '
                             'it first' % ', '.join(managers))

    # -- backends --------------------------------------------------------------------------

    def run_kv(self, engine):
        params = self.params
        try:
            engine.require_engine('legacy_kv_overlay', 'the legacy KV-store overlay (cluster-store, backend: kv)')
        except client.EngineError as exc:
            raise TaskFailed('%s: use backend: swarm on this engine (overlay_cluster swarm init / join, overlay '
                             'networks with scope swarm), or run the legacy overlay on engines before 23.0' % exc)
        info = engine.call('read the engine info', engine.api.info)
        problems = kvstore.settings_problems(params['cluster_store'], params.get('cluster_advertise'), info,
                                             (self.result.get('underlay') or {}).get('address'))
        self.result['kv'] = dict(cluster_store=info.get('ClusterStore') or '', cluster_advertise=info.get('ClusterAdvertise') or '')
        if problems:
            raise TaskFailed('; '.join(problems), problems=problems)
        try:
            self.result['kv']['store'] = kvstore.check_store(params['cluster_store'], params['preflight_timeout'])
        except kvstore.KVError as exc:
            raise TaskFailed(str(exc))
        self.outcome.record(engine.endpoint, UNCHANGED)

    def run_swarm(self, engine):
        params = self.params
        node = self.node = swarm.SwarmNode(engine)
        if params.get('advertise_addr') and not params.get('advertise_ip'):
            params['advertise_ip'] = swarm.addr_ip(params['advertise_addr'])
        node.refresh()
        if node.info.get('ClusterStore'):
            raise TaskFailed('the engine is configured with cluster-store %s (legacy KV overlay); swarm mode cannot be '
                             'used with it: remove cluster-store / cluster-advertise from daemon.json first'
                             % node.info['ClusterStore'])
        state = node.state
        if state in ('pending', 'error', 'locked'):
            hints = dict(pending='a join is in progress; wait for it or run docker swarm leave --force',
                         error='the swarm reports: %s' % (node.swarm.get('Error') or '?'),
                         locked='the swarm is locked (autolock): unlock it with docker swarm unlock')
            raise TaskFailed('the node\'s swarm state is %s: %s' % (state, hints[state]))
        before = node.view()
        if params.get('node'):
            self.manage_other(node)
        elif params['state'] == 'absent':
            self.leave(node)
        elif state == 'inactive':
            self.join_or_init(node)
        else:
            self.converge_member(node)

        if not self.check and self.steps:
            node.refresh()
        after = node.view() if not self.check or not self.steps else self.predicted(before)
        self.outcome.record(node.info.get('Name') or node.node_id or engine.endpoint, 'changed' if self.steps else UNCHANGED,
                            before=before, after=after, changes=self.steps)
        self.underlay_from_engine(node)
        self.facts(node)

    def predicted(self, before):
        after = dict(before)
        for step in self.steps:
            if step.startswith('init'):
                after.update(swarm='active', role='manager', cluster_id=None)
            elif step.startswith('join'):
                after.update(swarm='active', role=self.params.get('role') or 'worker',
                             cluster_id=self.params.get('cluster_id'))
            elif step.startswith('leave'):
                after = dict(swarm='inactive')
            elif step.startswith('promote'):
                after['role'] = 'manager'
            elif step.startswith('demote'):
                after['role'] = 'worker'
        return after

    def join_or_init(self, node):
        params = self.params
        if params['state'] == 'checked':
            if params.get('remote_addrs'):
                self.result['preflight']['manager_port'] = preflight.require_manager_port(
                    params['remote_addrs'], params['preflight_timeout'])
            return
        if params.get('remote_addrs'):
            self.result['preflight']['manager_port'] = preflight.require_manager_port(
                params['remote_addrs'], params['preflight_timeout'])
            self.steps.append('join %s as %s' % (', '.join(params['remote_addrs']), params.get('role') or 'worker'))
            if not self.check:
                node.join(params)
                node.refresh()
                actual = 'manager' if node.is_manager else 'worker'
                if params.get('role') and params['role'] != actual:
                    raise TaskFailed('the node joined the swarm as %s, but role %s was requested: the join_token was '
                                     'a %s token. Pass the %s token, or promote / demote the node through a manager '
                                     '(node: %s)' % (actual, params['role'], actual, params['role'], node.node_id),
                                     actions=self.steps)
                self.post_join_settings(node)
            else:
                for key in ('availability', 'labels'):
                    if _given(params, key):
                        self.steps.append('set %s' % key)
            return
        if params.get('role') == 'worker':
            raise TaskFailed('role: worker without remote_addrs: a swarm is initialized by a manager. Give remote_addrs '
                             'and join_token to join an existing swarm as a worker')
        if not params.get('advertise_addr') and _local_engine(params):
            # dockerd refuses to choose when the host has several addresses; say which ones.
            links = self.host_links()
            candidates = sorted(a for name, link in links.items() if name != 'lo' and not name.startswith('docker')
                                for a in link['addresses'] if ipaddress.ip_address(a).version == 4)
            if len(candidates) > 1:
                raise TaskFailed('initializing a swarm needs advertise_addr on this host, which has several addresses '
                                 '(%s): give the one the other nodes reach' % ', '.join(candidates))
        self.steps.append('init')
        if not self.check:
            node.init(params)
            node.refresh()
            self.post_join_settings(node)
        else:
            for key in ('availability', 'labels'):
                if _given(params, key):
                    self.steps.append('set %s' % key)

    def post_join_settings(self, node):
        """Availability / labels right after init or join (a manager can set its own)."""
        params = self.params
        if not (_given(params, 'availability') or _given(params, 'labels')):
            return
        if not node.is_manager:
            self.module.warn('availability and labels of a worker are set through a manager: run overlay_cluster on a '
                             'manager with node: %s' % node.node_id)
            return
        current = node.inspect_node(node.node_id)
        changes, spec = swarm.node_changes(current, None, params.get('availability'), params.get('labels'),
                                           params['labels_exclusive'])
        if changes:
            self.steps.extend('set %s' % c['setting'] for c in changes)
            node.update_node(current, spec)

    def converge_member(self, node):
        params = self.params
        nodes = node.nodes()
        self.identity(node, nodes)
        cluster = node.cluster()
        drift, unreadable = swarm.init_drift(params, cluster, node.swarm.get('NodeAddr'))
        self.report_drift(drift, unreadable)
        if params['return_tokens'] and not node.is_manager:
            raise TaskFailed('return_tokens: join tokens can only be read on a manager, and this node is a worker')
        if params['state'] == 'checked':
            return
        role, wanted = ('manager' if node.is_manager else 'worker'), params.get('role')
        settings = [key for key in ('availability', 'labels') if _given(params, key)]
        if wanted and wanted != role:
            if not node.is_manager:
                raise TaskFailed('this node is a worker; promoting it is done through a manager: run overlay_cluster '
                                 'against a manager with node: %s, role: manager' % node.node_id)
        if not node.is_manager and settings:
            raise TaskFailed('%s of a worker node can only be changed through a manager: run overlay_cluster against a '
                             'manager with node: %s' % (' and '.join(settings), node.node_id))
        if node.is_manager:
            self.update_node(node, node.node_id, nodes)

    def update_node(self, node, name, nodes):
        params = self.params
        target = node.find_node(name, nodes)
        changes, spec = swarm.node_changes(target, params.get('role'), params.get('availability'),
                                           params.get('labels'), params['labels_exclusive'])
        if not changes:
            return
        if any(c['setting'] == 'role' and c['requested'] == 'worker' for c in changes):
            reachable, unreachable = swarm.manager_counts(nodes)
            problem = swarm.removal_problem(reachable, unreachable, 'demote')
            if problem and not params['force']:
                raise TaskFailed('demoting node %s is refused: %s' % (name, problem))
        for change in changes:
            if change['setting'] == 'role':
                self.steps.append('%s %s' % ('promote' if change['requested'] == 'manager' else 'demote', target['ID']))
            else:
                self.steps.append('set %s of %s' % (change['setting'], target['ID']))
        self.result['node_changes'] = changes
        if not self.check:
            node.update_node(target, spec)

    def manage_other(self, node):
        if not node.is_manager:
            raise TaskFailed('node: %s is managed through a manager, and the engine at %s is %s'
                             % (self.params['node'], node.engine.endpoint,
                                'a worker' if node.state == 'active' else 'not in a swarm'))
        self.update_node(node, self.params['node'], node.nodes())

    def leave(self, node):
        params = self.params
        if node.state == 'inactive':
            return
        if node.is_manager:
            nodes = node.nodes()
            reachable, unreachable = swarm.manager_counts(nodes)
            problem = swarm.removal_problem(reachable, unreachable)
            if problem and not params['force']:
                raise TaskFailed('leaving the swarm is refused: %s' % problem)
            if reachable + unreachable > 1 and not problem:
                # demote first: the manager set shrinks cleanly instead of keeping an unreachable member
                self.steps.append('demote %s' % node.node_id)
                if not self.check:
                    me = node.inspect_node(node.node_id)
                    spec = dict(me['Spec'], Role='worker')
                    node.update_node(me, spec)
                    if not node.wait_worker(30):
                        raise TaskFailed('node %s was demoted but still acts as a manager after 30s; run the task again'
                                         % node.node_id, actions=self.steps)
        self.steps.append('leave')
        if not self.check:
            node.leave(force=params['force'] or node.is_manager)

    def facts(self, node):
        params = self.params
        result = self.result
        if self.check and self.steps:
            predicted = self.predicted(node.view())
            result.update(node_id=node.node_id, cluster_id=predicted.get('cluster_id'), role=predicted.get('role'),
                          node_state='active' if predicted.get('swarm') == 'active' else 'inactive')
            return
        swarm_info = node.swarm
        result.update(node_id=node.node_id, node_state=node.state,
                      cluster_id=(swarm_info.get('Cluster') or {}).get('ID'),
                      role=None if node.state == 'inactive' else ('manager' if node.is_manager else 'worker'),
                      advertise_addr=swarm_info.get('NodeAddr') or None,
                      managers=swarm_info.get('Managers') if node.is_manager else None,
                      node_count=swarm_info.get('Nodes') if node.is_manager else None,
                      manager_addrs=node.manager_addrs([]) if node.state != 'inactive' else [])
        if node.is_manager:
            listing = node.nodes()
            result['nodes'] = [swarm.node_summary(n) for n in listing]
            result['managers'] = sum(1 for n in listing if n.get('ManagerStatus'))
            result['node_count'] = len(listing)
            result['manager_addrs'] = node.manager_addrs(listing)
            if params['return_tokens']:
                tokens = node.tokens()
                result['join_tokens'] = dict(worker=tokens.get('Worker'), manager=tokens.get('Manager'))
        elif params['return_tokens'] and node.state != 'inactive':
            raise TaskFailed('return_tokens: join tokens can only be read on a manager, and this node is a worker')

    def changed_something(self):
        return bool(self.node is not None and self.node.mutations)

    # -- entry -----------------------------------------------------------------------------

    def run(self):
        module = self.module
        problems = validate(self.params)
        if problems:
            fail_with_problems(module, problems)
        try:
            self.host_checks()
        except preflight.PreflightError as exc:
            module.fail_json(msg=str(exc), **self.result)
        engine = client.connect_or_fail(module)
        try:
            if self.params['backend'] == 'kv':
                self.run_kv(engine)
            else:
                self.run_swarm(engine)
        except TaskFailed as exc:
            extra = dict(self.result)
            extra.update(exc.extra)
            extra.setdefault('actions', self.steps)
            module.fail_json(msg=str(exc), changed=self.changed_something(), **extra)
        except (client.EngineError, swarm.SwarmError, preflight.PreflightError) as exc:
            module.fail_json(msg=str(exc), actions=self.steps, changed=self.changed_something(), **self.result)
        self.result['actions'] = self.steps
        module.exit_json(**self.outcome.result(module._diff, **self.result))


def run(module):
    OverlayClusterTask(module).run()
