#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: macvlan_net
short_description: Docker macvlan networks with host-side checks and a persistent host shim
version_added: 0.1.0
description:
  - Creates, changes and removes a Docker macvlan network through the same engine as
    M(netfleet.docker.docker_net) (same idempotence, diff mode and safe recreate that restores
    every endpoint).
  - The parent interface is checked on the host before the engine is touched. It must exist,
    be up and not be a macvlan interface itself. The 802.1q form C(base.vid) needs a VLAN ID
    in 1..4094, an existing base interface and 802.1q support in the kernel (Docker creates
    the VLAN link).
  - Addresses are validated before anything changes. The gateway, aux addresses and
    C(ip_range) must lie inside the subnet, and the subnet must not overlap another macvlan
    network on the same parent. One shared L2 subnet can be sliced per host with C(ip_range).
  - O(host_shim) gives the host a way to its own macvlan containers, which the kernel otherwise
    keeps apart from the parent. It creates a macvlan interface in bridge mode with an address
    of the subnet reserved in the network (aux address C(host-shim)) and a route to the
    containers' C(ip_range). The shim is persisted as a systemd unit so that it survives a
    reboot, and O(state=absent) removes it.
options:
  name:
    description: Name of the network.
    type: str
    required: true
  state:
    description: V(present) creates the network or brings it to the requested settings; V(absent) removes it and its host shim.
    type: str
    default: present
    choices: [present, absent]
  parent:
    description:
      - Host interface the containers share, e.g. V(eth1), or V(eth1.20) for VLAN 20 on V(eth1).
      - Required with O(state=present) unless O(config_from) is used.
    type: str
  mode:
    description: macvlan mode.
    type: str
    default: bridge
    choices: [bridge, private, vepa, passthru]
  enable_ipv6:
    description: Enable IPv6. Required as V(true) when O(ipam.config) holds an IPv6 subnet.
    type: bool
  enable_ipv4:
    description:
      - V(false) makes an IPv6-only macvlan network (Docker 28.0 / API 1.48 or later; older engines fail
        naming the version); it needs O(enable_ipv6=true) and an IPv6 subnet, and no IPv4 subnet.
      - An IPv4 pool the engine adds by itself to a request without IPv4 subnets is not a difference
        (as in M(netfleet.docker.docker_net)).
    type: bool
  ipam:
    description:
      - IP address management. A macvlan network needs the subnet of the parent's L2 segment.
    type: dict
    suboptions:
      driver:
        description: IPAM driver; the engine's is C(default).
        type: str
      options:
        description: IPAM driver options; only the keys given are compared.
        type: dict
      config:
        description:
          - Address pools, IPv4 and IPv6.
          - With O(host_shim) exactly one IPv4 pool with an C(ip_range) is needed. The range is the
            containers' part of the subnet and is routed through the shim.
        type: list
        elements: dict
        suboptions:
          subnet:
            description: Subnet in CIDR form, without host bits.
            type: str
            required: true
          gateway:
            description: The segment's router, inside the subnet and outside C(ip_range).
            type: str
          ip_range:
            description: This host's slice of the subnet that container addresses come from.
            type: str
            aliases: [iprange]
          aux_addresses:
            description:
              - Addresses inside the subnet the engine must not hand out, name to address.
              - The shim's address is added as C(host-shim) automatically.
            type: dict
  labels:
    description: Labels. Only the keys given are compared.
    type: dict
  internal:
    description: Restrict external access.
    type: bool
  scope:
    description: V(swarm) for a swarm-scoped macvlan network made with O(config_from).
    type: str
    choices: [local, swarm]
  config_only:
    description:
      - Create a configuration-only network that holds this host's O(parent) and addresses. A swarm-scoped
        network then uses it with O(config_from). Make one on every host, each with its own O(ipam) slice.
    type: bool
  config_from:
    description: Take parent and addresses from this host's config-only network (with O(scope=swarm)).
    type: str
  host_shim:
    description:
      - Create a host-side macvlan interface (bridge mode) so that the host can reach its own containers.
        It gets an address of the subnet outside C(ip_range) (reserved as aux address C(host-shim)) and
        a route to C(ip_range). It is persisted as the systemd unit C(netfleet-shim-<interface>.service),
        whose first line names the network (removing the network, with this module or with
        M(netfleet.docker.docker_net), removes the shim too).
      - Not managed when omitted; O(state=absent) removes it.
    type: dict
    suboptions:
      name:
        description:
          - Interface name. By default C(nfs-) and the network name when that has at most 11 characters,
            all letters, digits, C(_) or C(-) (C(lan) gives C(nfs-lan)); otherwise C(nfs-), the first 6 of
            those characters, C(-) and 4 hex digits of the SHA-1 of the whole name (C(storage_vlan40)
            gives C(nfs-storag-863c)), so that two networks never share a shim.
        type: str
      address:
        description:
          - IPv4 address of the shim, inside the subnet and outside C(ip_range).
          - Defaults to the highest free address outside C(ip_range); an address reserved before is kept.
        type: str
  promiscuous:
    description:
      - Put the parent into promiscuous mode (V(true)) or take it out (V(false)); some NICs and virtual
        switches drop frames for the containers' MAC addresses otherwise. Not managed when omitted.
      - Persisted by the shim's unit when O(host_shim) is used; otherwise runtime only.
    type: bool
  recreate:
    description:
      - V(auto) removes and recreates the network when an immutable property differs, restoring every
        endpoint. V(never) fails instead and says what differs.
    type: str
    default: auto
    choices: [auto, never]
  force:
    description: With O(state=absent), disconnect attached containers before removing.
    type: bool
    default: false
  journal_dir:
    description:
      - Directory on the managed host for the recreate journal and the host lock (created mode 0700).
      - Before the first destructive step of a recreate or a forced removal, the network's old and new
        definitions and every endpoint are written to C(<journal_dir>/<network>.json) (mode 0600, fsynced);
        the file is removed when the change is complete. A run that finds one for a network of its task
        finishes that change first (RV(recovered)); check mode only reports it (RV(journals)).
      - Defaults to C(/var/lib/netfleet/journal).
    type: path
  lock_timeout:
    description:
      - Only one run that may change networks holds the host lock at a time. Seconds to wait for it;
        then the task fails naming the holder's PID and changes nothing.
    type: int
    default: 60
extends_documentation_fragment:
  - netfleet.docker.docker
attributes:
  check_mode:
    support: full
    description: Predicts exactly the actions a real run takes, on the engine and on the host.
  diff_mode:
    support: full
    description: Before and after for the network and for the host shim.
notes:
  - Docker 20.10 refuses a second macvlan network on the same parent; use another parent (or a VLAN).
  - The shim is IPv4 only.
author:
  - netfleet.docker contributors (@netfleet)
seealso:
  - module: netfleet.docker.docker_net
  - module: netfleet.docker.ip_forward
'''

EXAMPLES = r'''
# host_index is not a variable of the collection: the operator sets it per host in host_vars
# (host_index: 0, 1, 2, ...; a number that stays with the host when others are added or removed).
- name: One L2 subnet shared by the fleet, a slice per host, and a host shim with its own address per host
  netfleet.docker.macvlan_net:
    name: lan
    parent: eth1
    ipam:
      config:
        - subnet: 192.168.50.0/24
          gateway: 192.168.50.1
          ip_range: "192.168.50.{{ 64 + 16 * host_index }}/28"
    host_shim:
      address: "192.168.50.{{ 240 + host_index }}"

- name: VLAN 20 on eth1, dual stack
  netfleet.docker.macvlan_net:
    name: vlan20
    parent: eth1.20
    enable_ipv6: true
    ipam:
      config:
        - subnet: 10.20.0.0/24
        - subnet: fd00:20::/64

- name: Swarm-scoped macvlan - per-host config first
  netfleet.docker.macvlan_net:
    name: lan-config
    config_only: true
    parent: eth1
    ipam:
      config:
        - subnet: 192.168.50.0/24
          ip_range: "192.168.50.{{ 64 + 16 * host_index }}/28"

- name: Then the swarm network, on a manager
  netfleet.docker.macvlan_net:
    name: lan-swarm
    scope: swarm
    config_from: lan-config

- name: Remove the network and its host shim
  netfleet.docker.macvlan_net:
    name: lan
    state: absent
'''

RETURN = r'''
journals:
  description:
    - Pending journals of interrupted recreates or forced removals of this task's networks, as found
      before this run (check mode reports them and writes nothing). Each has C(network), C(path),
      C(operation) (V(recreate) or V(remove)), C(started), C(pid), C(done) (the steps it completed)
      and C(endpoints) (container, static addresses, aliases, links, MAC, driver options).
  returned: success
  type: list
  elements: dict
recovered:
  description:
    - What this run did to finish each pending journal before anything else, per network - C(steps)
      (engine operations), C(restored) (endpoints connected again), C(already_connected),
      C(missing_containers) (containers removed since, reported by name and not restored) and
      C(done_before) (what the interrupted run had done). The network's record has the same under C(recovered).
  returned: when a pending journal was finished
  type: list
  elements: dict
action:
  description:
    - What happened to the network (or, in check mode, would happen).
    - V(removed) with O(state=absent) also when the network was gone already and only its host shim
      was left (e.g. after M(netfleet.docker.docker_net) removed the network before it took the shim along).
  returned: success
  type: str
  sample: created
  choices: [created, recreated, removed, unchanged, endpoints-changed, recovered]
changes:
  description: Field paths of the network that differed.
  returned: success
  type: list
  elements: str
differences:
  description: The same differences with the wanted and the actual value.
  returned: success
  type: list
  elements: dict
steps:
  description: The engine operations in order.
  returned: success
  type: list
  elements: str
network:
  description: The inspected network after the task (empty when removed or only planned).
  returned: success
  type: dict
host:
  description: What happened on the host (the shim, the parent's promiscuous mode), one entry per object.
  returned: success
  type: list
  elements: dict
host_shim:
  description: The host shim.
  returned: when O(host_shim) is given and O(state=present)
  type: dict
  contains:
    interface:
      description: Interface name.
      type: str
      sample: nfs-lan
    address:
      description: Its IPv4 address (reserved in the network as aux address C(host-shim)).
      type: str
      sample: 192.168.50.254
    routes:
      description: Routes through the shim.
      type: list
      elements: str
    unit:
      description: The systemd unit that recreates it at boot.
      type: str
      sample: /etc/systemd/system/netfleet-shim-nfs-lan.service
    action:
      description: V(created), V(changed) or V(unchanged).
      type: str
completed:
  description:
    - On a failure part-way, the steps applied before it, in the order they were applied (removals first),
      each with the same keys as a record of RV(host) (the network step adds its C(id)).
  returned: failure after changes started
  type: list
  elements: dict
failed_steps:
  description:
    - On a failure part-way, the step that failed (C(failed) itself is Ansible's own flag), with C(error) and, for a network, C(done), the engine
      operations it had carried out before the error (C(changed) is true when there were any).
  returned: failure after changes started
  type: list
  elements: dict
not_attempted:
  description: On a failure part-way, the steps that were not started, in the order they would have been applied.
  returned: failure after changes started
  type: list
  elements: dict
problems:
  description: Every problem found while validating a failed request.
  returned: failure
  type: list
  elements: str
'''

from dataclasses import replace

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netfleet.docker.plugins.module_utils._common import client
from ansible_collections.netfleet.docker.plugins.module_utils._common.driver import Driver
from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import EngineError, PlanningError
from ansible_collections.netfleet.docker.plugins.module_utils._host import hostnet, macvlan, macvlan_shim
from ansible_collections.netfleet.docker.plugins.module_utils._network import network_steps
from ansible_collections.netfleet.docker.plugins.module_utils._network.ipam import NETADDR_IMPORT_ERROR
from ansible_collections.netfleet.docker.plugins.module_utils._network.network import NetworkPlan
from ansible_collections.netfleet.docker.plugins.module_utils._network.network_spec import NETWORK_OPTION_SPEC, DesiredNetwork


def argument_spec():
    spec = dict(
        name=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        parent=dict(type='str'),
        mode=dict(type='str', default='bridge', choices=list(macvlan.MODES)),
        enable_ipv6=dict(type='bool'),
        enable_ipv4=dict(type='bool'),
        ipam=NETWORK_OPTION_SPEC['ipam'],
        labels=dict(type='dict'),
        internal=dict(type='bool'),
        scope=dict(type='str', choices=['local', 'swarm']),
        config_only=dict(type='bool'),
        config_from=dict(type='str'),
        host_shim=dict(type='dict', options=dict(
            name=dict(type='str'),
            address=dict(type='str'),
        )),
        promiscuous=dict(type='bool'),
        recreate=dict(type='str', default='auto', choices=['auto', 'never']),
        force=dict(type='bool', default=False),
    )
    spec.update(network_steps.JOURNAL_ARGUMENT_SPEC)
    spec.update(client.CONNECTION_ARGUMENT_SPEC)
    return spec


class MacvlanNetDriver(Driver):
    """Steps in apply order: shim removal, the network (docker_net's path), promiscuous mode, shim install."""

    kind = 'host'
    records_key = 'host'
    required_libraries = (('netaddr', NETADDR_IMPORT_ERROR),)
    #: systemd runs when this exists (the shim is a unit)
    systemd_dir = '/run/systemd/system'

    def __init__(self, module):
        super().__init__(module)
        self.run_host = hostnet.module_runner(module)
        self.present = self.params['state'] == 'present'
        self.shim_name = (self.params.get('host_shim') or {}).get('name') or macvlan_shim.default_shim_name(self.params['name'])
        self.unit_path = macvlan_shim.unit_path_for(self.shim_name)
        self.desired = None
        self.manager = None
        self.shim_spec = None
        self.journals = None

    def connect(self):
        return client.connect(self.module)

    def validate(self):
        problems = macvlan.validate_request(self.params, self.run_host, self.systemd_dir)
        self.desired = DesiredNetwork(macvlan.network_request(self.params), collect=True)
        problems.extend(self.desired.problems)
        problems.extend(macvlan.gateway_problems(self.desired.pools, self.desired.owner))
        return problems

    def plan(self):
        # An interrupted recreate of this network is finished from its journal before anything is planned.
        self.manager, self.journals = network_steps.begin_network_run(
            self.connect(), [self.params['name']], self.params, self.check_mode)
        self.applied.extend(self.journals.applied())
        try:
            existing = self.manager.find(self.params['name'])
            desired = self._desired_with_shim(existing)
            if self.present and self.params.get('parent') and not self.params.get('config_only'):
                problems = macvlan.same_parent_problems(self.manager.networks(), desired, self.params['parent'])
                if problems:
                    raise PlanningError(problems)
        except EngineError as exc:
            raise PlanningError([str(exc)])
        [network_step] = network_steps.with_journals(network_steps.plan_network_steps(self.manager, [desired]),
                                                     self.journals, self.check_mode)
        steps = [replace(network_step, report=False)]
        steps[:0] = self._shim_steps(before_network=True)
        if self.present and self.params.get('promiscuous') is not None and self.params.get('parent'):
            steps.append(macvlan.plan_promiscuous(self.run_host, self.params['parent'], self.params['promiscuous'],
                                                  self.params['name']))
        return steps + self._shim_steps(before_network=False)

    def _desired_with_shim(self, existing):
        if not (self.present and self.params.get('host_shim') is not None):
            return self.desired

        def taken():
            return [endpoint['ipv4_address'] for endpoint in self.manager.snapshots(existing['Name'])]

        self.shim_spec, aux = macvlan_shim.plan_shim_spec(self.params, self.desired.pools, self.desired.owner, existing, taken)
        return DesiredNetwork(macvlan.network_request(self.params, aux))

    def _shim_steps(self, before_network):
        """The shim goes before its network is removed, and comes after its network exists."""
        wanted = (not before_network and self.shim_spec is not None) if self.present else before_network
        if not wanted:
            return []
        state = macvlan_shim.read_shim_state(self.run_host, self.shim_name, self.unit_path)
        if not self.present:
            step = macvlan_shim.plan_shim_removal(state, self.params['name'], self.shim_name, self.unit_path,
                                                  named_by_task=bool((self.params.get('host_shim') or {}).get('name')))
            return [step] if step else []
        unit_text = self.shim_spec.unit_text(self.module.get_bin_path('ip', required=True), self.params['name'])
        return [macvlan_shim.plan_shim_install(state, self.shim_spec, self.unit_path, unit_text, self.desired.owner)]

    def apply(self, step):
        if isinstance(step.payload, NetworkPlan):
            return network_steps.apply_network_step(self.manager, step)
        if isinstance(step.payload, macvlan_shim.ShimChange):
            change = macvlan_shim.install_shim if step.payload.unit_text is not None else macvlan_shim.remove_shim
            change(self.run_host, step.payload)
        else:
            macvlan.apply_promiscuous(self.run_host, step.payload)
        return None

    def build_result(self, steps):
        network_step = [step for step in steps if isinstance(step.payload, NetworkPlan)][0]
        for warning in network_steps.stranded_warnings([network_step], self.check_mode) + self.journals.warnings():
            self.module.warn(warning)
        self.result_details.update(self.journals.result())
        host_steps = sorted((step for step in steps if step is not network_step),
                            key=lambda step: not step.name.startswith('shim '))  # the shim's record first
        result = super().build_result(host_steps)
        result['changed'] = any(step.changes_host for step in steps) if self.check_mode else self.changed
        if self.diff_mode:
            diffs = [self._diff(step, 'network') for step in [network_step] if step.changes_host]
            diffs += [self._diff(step, 'host') for step in host_steps if step.changes_host]
            result['diff'] = diffs[0] if len(diffs) == 1 else diffs
        network_id = network_steps.applied_id(self.applied, network_step)
        record = self.record(network_step, dict(id=network_id) if network_id else None)
        result.update((key, record[key]) for key in ('action', 'changes', 'differences', 'steps'))
        if not self.present and result['action'] == 'unchanged' and any(step.changes_host for step in host_steps):
            result['action'] = 'removed'  # the network was gone already; what was left of it (its shim) is removed
        result['network'] = network_steps.network_after(self.manager, network_step.payload, network_id)
        if self.shim_spec is not None:
            shim = [step for step in host_steps if isinstance(step.payload, macvlan_shim.ShimChange)][0]
            result['host_shim'] = dict(interface=self.shim_spec.name, address=self.shim_spec.address,
                                       routes=self.shim_spec.routes, unit=self.unit_path, action=shim.action)
        return result

    def _diff(self, step, kind):
        diff = self.diff(step)
        diff['before_header'] = '%s %s (before)' % (kind, step.name)
        diff['after_header'] = '%s %s (%s)' % (kind, step.name, step.action)
        return diff


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[('config_only', 'config_from'), ('parent', 'config_from')],
        supports_check_mode=True,
    )
    MacvlanNetDriver(module).run()


if __name__ == '__main__':
    main()
