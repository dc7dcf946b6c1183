#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: overlay_cluster
short_description: The overlay control plane of a Docker host, swarm membership or legacy KV-store checks
version_added: 0.2.0
description:
  - With O(backend=swarm) (the default), manages the swarm membership of the engine at O(docker_host) -
    initialize a swarm on a first manager, join it as a manager or a worker, leave it, promote or demote,
    set node availability and labels - or, with O(node), the role, availability and labels of another
    node through this manager.
  - The module knows which swarm the node is in. Joining while already in another swarm fails, naming
    both cluster IDs (a worker cannot see its cluster ID; the error names its managers instead).
  - Settings only C(swarm init) can set (O(default_addr_pool), O(subnet_size), O(data_path_port),
    O(advertise_addr)) are compared with the active swarm. A difference is drift. Depending on O(on_drift),
    the task fails or warns. Drift is never ignored silently, and it is never changed, because only re-creating
    the swarm can change these settings.
  - Removing a manager (leave or demote) is refused when the managers left would lose the Raft quorum, or
    when it is the last manager, unless O(force=true).
  - Preflight checks, run before anything changes, bounded in time and count and only toward the
    addresses the task names or the host itself. The advertise and data path addresses must be on this
    host. Before a join, one manager in O(remote_addrs) must accept a TCP connection on its swarm port.
    With O(encrypted_overlay=true), the kernel must support IPsec ESP with C(rfc4106(gcm(aes))).
  - With O(backend=kv), only checks the legacy overlay control plane of engines before Docker 23.0. The
    engine's C(cluster-store) and C(cluster-advertise) (docker info) must match the request, and the etcd store
    must answer with its v2 API enabled. On Docker 23.0 and later, the task fails and names the swarm
    alternative.
options:
  backend:
    description:
      - V(swarm) manages swarm membership. V(kv) checks the legacy external key-value store setup (engines
        before Docker 23.0 only). It changes nothing.
    type: str
    default: swarm
    choices: [swarm, kv]
  state:
    description:
      - V(present) makes the node a member of the swarm. With O(remote_addrs), it joins. Without them, it
        initializes a new swarm as its first manager. A node already in the swarm gets its role, availability
        and labels converged.
      - V(absent) leaves the swarm. A manager is demoted first when other managers remain.
      - V(checked) validates the request, runs the preflight checks, compares drift and reports the
        node's membership and underlay. Nothing changes.
      - With O(backend=kv), V(present) and V(checked) both only check.
    type: str
    default: present
    choices: [present, absent, checked]
  advertise_addr:
    description:
      - The address (or interface name) other nodes reach this node on, optionally with C(:port).
      - It must be an address of this host (checked when O(docker_host) is a local socket). The interface that
        carries it is the underlay, reported in RV(underlay) with its MTU.
      - On a node already in a swarm, a different address is drift (see O(on_drift)).
      - Required to initialize a swarm on a host with several addresses.
    type: str
  listen_addr:
    description:
      - Address and port the swarm control plane listens on (C(swarm init/join --listen-addr)).
      - The engine does not report it, so it is not compared on an active swarm.
    type: str
    default: 0.0.0.0:2377
  data_path_addr:
    description:
      - Address (or interface) for the VXLAN data path, when it differs from O(advertise_addr). It must be
        on this host.
      - The engine does not report it, so it is not compared on an active swarm.
    type: str
  data_path_port:
    description:
      - UDP port of the VXLAN data path (swarm init only, 1024-49151). Docker's default is 4789.
      - Compared with the active swarm on managers; a difference is drift.
    type: int
  default_addr_pool:
    description:
      - Pools overlay subnets are allocated from (swarm init only). Docker's default is V(10.0.0.0/8).
      - Compared with the active swarm on managers; a difference is drift.
    type: list
    elements: str
  subnet_size:
    description:
      - Prefix length of the subnets allocated from O(default_addr_pool) (swarm init only; default 24).
      - Compared with the active swarm on managers; a difference is drift.
    type: int
  remote_addrs:
    description:
      - Managers to join (C(host) or C(host:port), port 2377 by default). Given, O(state=present) joins the swarm
        instead of initializing one. Requires O(join_token).
      - On a node already in a swarm, these must name a manager of that swarm, otherwise the task fails.
    type: list
    elements: str
  join_token:
    description:
      - The swarm's worker or manager join token. The token decides the role the node joins with. Read the
        token on a manager with O(return_tokens=true).
      - Never printed.
    type: str
  cluster_id:
    description:
      - ID of the swarm this node must be in (as returned in RV(cluster_id) by the first manager).
      - A node in a swarm with another ID fails with both IDs named.
    type: str
  role:
    description:
      - V(manager) or V(worker). On join, it must match the token, and is verified after joining. On a member
        node, a manager can demote itself. Promote a worker through a manager with O(node).
      - Not compared when omitted.
    type: str
    choices: [manager, worker]
  availability:
    description:
      - Node availability for tasks (V(active), V(pause), V(drain)). It is set on this node when it is a manager,
        or on O(node) otherwise. Not compared when omitted.
    type: str
    choices: [active, pause, drain]
  labels:
    description:
      - Node labels. Only the keys given are compared, unless O(labels_exclusive=true).
    type: dict
  labels_exclusive:
    description:
      - Remove node labels that O(labels) does not name.
    type: bool
    default: false
  node:
    description:
      - Manage this other node (full node ID or its unique hostname) through the manager at O(docker_host).
        Only O(role), O(availability) and O(labels) apply. The membership of the engine itself is not touched.
    type: str
  force:
    description:
      - Leave or demote even when it breaks the managers' quorum or removes the last manager.
    type: bool
    default: false
  on_drift:
    description:
      - What to do when an init-only setting differs from the active swarm. V(fail) fails before any change.
        V(warn) warns and keeps the active value.
    type: str
    default: fail
    choices: [fail, warn]
  return_tokens:
    description:
      - Return the worker and manager join tokens in RV(join_tokens) (managers only).
      - Tokens give anyone who has them a way into the swarm. Set C(no_log) on the task that asks for them.
        Otherwise Ansible prints them with the result (a module cannot hide values it returns). Without this
        option, tokens never appear in the output.
    type: bool
    default: false
  encrypted_overlay:
    description:
      - The fleet carries encrypted overlay networks. Before anything changes, check that this host's kernel
        can do IPsec ESP with C(rfc4106(gcm(aes))). If it cannot, fail with the reason; Docker would create the
        network but drop its traffic.
      - Detection method. A dummy transport-mode ESP SA with that AEAD is added in a throw-away network namespace
        (C(unshare --net ip xfrm state add ...)). This needs both the ESP protocol (C(esp4), xfrm) and the
        algorithm, and makes the kernel load them on demand, the same way dockerd does. The namespace and the
        SA vanish with the probe, and no packet is sent. Only when C(unshare) or C(ip) is missing does
        C(/proc/crypto) decide.
    type: bool
    default: false
  preflight_timeout:
    description:
      - Seconds each preflight probe (manager port, KV store request) may take. Each address is tried once.
    type: float
    default: 3.0
  cluster_store:
    description:
      - O(backend=kv) only. The store the engines must use, as in daemon.json C(cluster-store), for example
        V(etcd://10.0.0.5:2379). Only etcd stores are probed. C(GET /version) and C(GET /v2/keys) must answer
        within O(preflight_timeout).
      - Combined with O(backend=swarm), the task fails. A daemon with a cluster store refuses swarm mode.
    type: str
  cluster_advertise:
    description:
      - O(backend=kv) only. The engine's expected C(cluster-advertise), for example V(eth0:2376). Compared when given.
    type: str
extends_documentation_fragment:
  - netfleet.docker.docker
attributes:
  check_mode:
    support: full
    description: Predicts the actions (init, join, leave, promote, demote, settings) without doing them. Preflight runs.
  diff_mode:
    support: full
    description: Membership before and after (swarm state, cluster ID, role, advertise address).
notes:
  - The host checks (addresses, underlay MTU, ESP) run on the host where the module runs, so they only apply
    when O(docker_host) is a local socket. With a remote engine they are skipped, with a warning.
  - A worker that leaves stays in the managers' node list as C(down) until a manager removes it
    (C(docker node rm)).
  - Swarm needs 2377/tcp to managers, 7946/tcp+udp between all nodes, and the data path port over UDP
    (4789 by default). Encrypted networks also need IP protocol 50 (ESP).
author:
  - netfleet.docker contributors (@netfleet)
seealso:
  - module: netfleet.docker.docker_net
'''

EXAMPLES = r'''
- name: First manager initializes the swarm
  netfleet.docker.overlay_cluster:
    advertise_addr: 10.231.0.11
    default_addr_pool: [10.128.0.0/16]
    subnet_size: 24
  register: first

- name: Read the join tokens on the manager (never printed - no_log)
  netfleet.docker.overlay_cluster:
    advertise_addr: 10.231.0.11
    return_tokens: true
  register: manager
  no_log: true

- name: Other hosts join as workers
  netfleet.docker.overlay_cluster:
    advertise_addr: "{{ underlay_ip }}"
    remote_addrs: [10.231.0.11]
    join_token: "{{ manager.join_tokens.worker }}"
    cluster_id: "{{ first.cluster_id }}"
    role: worker

- name: Drain a worker, through the manager
  netfleet.docker.overlay_cluster:
    node: worker3
    availability: drain
    labels:
      rack: r2

- name: Check before a change window - membership, drift, ESP support for encrypted networks
  netfleet.docker.overlay_cluster:
    state: checked
    advertise_addr: 10.231.0.12
    encrypted_overlay: true

- name: Leave (refused when a manager's departure breaks the quorum)
  netfleet.docker.overlay_cluster:
    state: absent

- name: Legacy fleet (Docker 20.10) - check the cluster store
  netfleet.docker.overlay_cluster:
    backend: kv
    cluster_store: etcd://10.231.0.11:2379
    cluster_advertise: eth0:2376
'''

RETURN = r'''
backend:
  description: The backend of the task.
  returned: always
  type: str
  sample: swarm
actions:
  description: What was done (in check mode, what would be done), in order.
  returned: always
  type: list
  elements: str
  sample: [init]
objects:
  description: One record per planned action (or one V(unchanged) record) with C(name) (the node acted on),
    C(action) (V(init), V(join), V(leave), V(promote), V(demote), V(update) or V(unchanged)) and C(changes)
    (the fields it changes).
  returned: success
  type: list
  elements: dict
node_id:
  description: This node's swarm node ID (empty when not in a swarm, or before a join in check mode).
  returned: backend is swarm
  type: str
cluster_id:
  description: ID of the swarm the node is in. On workers, this is empty, because only managers can read it.
  returned: backend is swarm
  type: str
role:
  description: V(manager), V(worker), or empty when not in a swarm.
  returned: backend is swarm
  type: str
node_state:
  description: The engine's LocalNodeState (V(inactive), V(active), ...).
  returned: backend is swarm
  type: str
advertise_addr:
  description: The address the node advertises, as the engine reports it.
  returned: backend is swarm and the node is in a swarm
  type: str
managers:
  description: Number of managers in the swarm (managers only).
  returned: backend is swarm
  type: int
node_count:
  description: Number of nodes in the swarm (managers only).
  returned: backend is swarm
  type: int
manager_addrs:
  description: Addresses of the swarm's managers (C(ip:2377)).
  returned: backend is swarm
  type: list
  elements: str
nodes:
  description: Every node of the swarm (managers only) with id, hostname, role, availability, labels, state, addr,
    reachability, leader and manager_addr.
  returned: when the node is a manager
  type: list
  elements: dict
node_changes:
  description: Role, availability and label changes with the requested and the previous value.
  returned: when a node's settings differ
  type: list
  elements: dict
drift:
  description: Init-only settings that differ from the active swarm (setting, requested, actual).
  returned: when the node is in a swarm
  type: list
  elements: dict
underlay:
  description: The interface that carries the advertise address, with C(interface), C(address) and C(mtu). Give its
    MTU to overlay networks (the overlay driver's MTU option is the underlay MTU).
  returned: when the engine is local and the advertise address is known
  type: dict
  sample: {interface: eth0, address: 10.231.0.11, mtu: 1500}
preflight:
  description: Results of the preflight checks that ran. C(manager_port) lists the reachable and unreachable
    managers. C(esp) has C(supported), C(method) and C(reason).
  returned: always
  type: dict
join_tokens:
  description: The swarm's C(worker) and C(manager) join tokens. Set no_log on the task.
  returned: when O(return_tokens=true)
  type: dict
kv:
  description: The engine's C(cluster_store) and C(cluster_advertise), and per store endpoint, its etcd
    C(version) and whether the C(v2) API answers.
  returned: backend is kv
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netfleet.docker.plugins.module_utils._common import client
from ansible_collections.netfleet.docker.plugins.module_utils._common.driver import Driver
from ansible_collections.netfleet.docker.plugins.module_utils._overlay import backends, request


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


class OverlayCluster(Driver):
    """validate the request, plan with the chosen backend (host checks, then the engine), apply its steps."""

    kind = 'swarm node'
    backend = None

    def validate(self):
        return request.validate(self.params)

    def plan(self):
        self.backend = backends.BACKENDS[self.params['backend']](self.module)
        return self.backend.plan()

    def apply(self, step):
        return self.backend.apply(step)

    def extra_result(self, steps):
        return self.backend.result(steps, self.applied, self.check_mode)

    @property
    def changed(self):
        # an engine write counts even when the step it belongs to failed afterwards (e.g. a join with the wrong role)
        return super().changed or bool(self.backend and self.backend.engine_changed)

    def fail(self, exc):
        if self.backend is not None:
            exc.details = dict(self.backend.failure_context(self.applied), **exc.details)
        super().fail(exc)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    OverlayCluster(module).run()


if __name__ == '__main__':
    main()
