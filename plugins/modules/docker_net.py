#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: docker_net
short_description: Docker networks of any driver, one or a batch, with safe recreate
version_added: 0.1.0
description:
  - Creates, changes and removes Docker networks (bridge, macvlan, ipvlan, overlay, plugins) and
    the container endpoints on them.
  - One network with O(name), or many with O(networks) in a single task over one connection and
    one listing of the engine's networks.
  - Docker cannot change a network in place. When an immutable property differs the network is
    removed and recreated, and every endpoint (running and stopped containers, static IPv4/IPv6,
    aliases, links, driver options) is restored exactly. Whatever would prevent that (a static
    address outside the new subnet) fails the task before anything changes.
  - The whole request is validated and planned before any change; a bad item in a batch leaves
    every network untouched.
  - Networks are found by exact name or full ID, never by prefix.
  - Removing a macvlan network removes its host shim too (interface, route and systemd unit, see
    M(netfleet.docker.macvlan_net)), when the managed host has a shim unit that names the network and the
    address the network reserves for it (aux address C(host-shim)).
  - A recreate (or forced removal) is journaled on the managed host before its first destructive step
    (O(journal_dir)); a run killed part-way is finished by the next run before it plans anything.
options:
  name:
    description:
      - Name of the single network to manage. Mutually exclusive with O(networks).
    type: str
  networks:
    description:
      - Many networks in one task. Each item takes the per-network options of this module; an
        option an item does not set is taken from the task's top level, so common settings
        (O(driver), O(labels), connection options) are written once.
      - Mutually exclusive with O(name).
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the network.
        type: str
        required: true
      state:
        description: See O(state).
        type: str
        choices: [present, absent]
      driver:
        description: See O(driver).
        type: str
      driver_options:
        description: See O(driver_options).
        type: dict
      mtu:
        description: See O(mtu).
        type: int
      internal:
        description: See O(internal).
        type: bool
      attachable:
        description: See O(attachable).
        type: bool
      scope:
        description: See O(scope).
        type: str
        choices: [local, global, swarm]
      enable_ipv6:
        description: See O(enable_ipv6).
        type: bool
      enable_ipv4:
        description: See O(enable_ipv4).
        type: bool
      gateway_mode_ipv4:
        description: See O(gateway_mode_ipv4).
        type: str
      gateway_mode_ipv6:
        description: See O(gateway_mode_ipv6).
        type: str
      trusted_host_interfaces:
        description: See O(trusted_host_interfaces).
        type: list
        elements: str
      ingress:
        description: See O(ingress).
        type: bool
      labels:
        description: See O(labels).
        type: dict
      ipam:
        description: See O(ipam).
        type: dict
        suboptions:
          driver:
            description: IPAM driver.
            type: str
          options:
            description: IPAM driver options.
            type: dict
          config:
            description: Address pools.
            type: list
            elements: dict
            suboptions:
              subnet:
                description: Subnet in CIDR form.
                type: str
                required: true
              gateway:
                description: Gateway address inside the subnet.
                type: str
              ip_range:
                description: Range inside the subnet that automatic addresses come from.
                type: str
                aliases: [iprange]
              aux_addresses:
                description: Addresses reserved in the subnet, name to address.
                type: dict
      config_only:
        description: See O(config_only).
        type: bool
      config_from:
        description: See O(config_from).
        type: str
      connected:
        description: See O(connected).
        type: list
        elements: raw
      connected_exclusive:
        description: See O(connected_exclusive).
        type: bool
      recreate:
        description: See O(recreate).
        type: str
        choices: [auto, never]
      force:
        description: See O(force).
        type: bool
  state:
    description:
      - V(present) creates the network or brings it to the requested settings; V(absent) removes it.
      - Defaults to V(present).
    type: str
    choices: [present, absent]
  driver:
    description:
      - Network driver (V(bridge), V(macvlan), V(ipvlan), V(overlay) or an installed plugin).
      - New networks default to V(bridge); an existing network's driver is compared only when given.
      - A driver the engine does not have fails before anything changes, listing the ones it has.
    type: str
  driver_options:
    description:
      - Driver options. Values of any type; booleans become V(true)/V(false), numbers their decimal
        text, and V(true) also matches what the engine may report as C(1) or C(True).
      - Only the keys given are compared.
    type: dict
  mtu:
    description:
      - MTU, as the driver option C(com.docker.network.driver.mtu). For overlay networks give the
        underlay MTU; Docker subtracts the VXLAN overhead itself.
    type: int
  internal:
    description: Restrict external access (no default route, no masquerading).
    type: bool
  attachable:
    description: Let standalone containers attach to a swarm-scoped network.
    type: bool
  scope:
    description: Network scope; V(swarm) for swarm overlays and swarm-wide macvlan (with O(config_from)).
    type: str
    choices: [local, global, swarm]
  enable_ipv6:
    description:
      - Enable IPv6. Required as V(true) when O(ipam.config) holds an IPv6 subnet.
      - The driver option C(com.docker.network.enable_ipv6) in O(driver_options) is taken as this option
        (Docker 28.2 no longer lists it in inspect, so it is compared as the network's EnableIPv6).
    type: bool
  enable_ipv4:
    description:
      - V(false) makes an IPv6-only network (Docker 28.0 / API 1.48 or later; older engines fail naming the
        version). It needs O(enable_ipv6=true) and an IPv6 subnet in O(ipam.config), and no IPv4 subnet.
      - V(true) is what every engine does by itself and is accepted on all of them.
      - Whatever the engine, a request that lists no IPv4 subnet and does not set V(false) lets the engine
        pick the IPv4 pool (Docker 20.10 adds one even to an IPv6-only request); such a pool is not compared,
        so an IPv6-only request is not recreated on every run. Likewise an IPv6 pool the engine picked for
        O(enable_ipv6=true) with no IPv6 subnet listed.
    type: bool
  gateway_mode_ipv4:
    description:
      - Bridge driver only - how the network's IPv4 traffic leaves the host, as the driver option
        C(com.docker.network.bridge.gateway_mode_ipv4).
      - V(nat) (masquerade, the default) and V(routed) (no NAT; the host routes to container addresses)
        need Docker 27.0 (API 1.46); V(nat-unprotected) (NAT without the port filter) and V(isolated)
        (no gateway address on the host) need Docker 28.0 (API 1.48).
      - Another value, another driver, or an older engine fail before anything changes.
    type: str
  gateway_mode_ipv6:
    description:
      - The same for IPv6 (C(com.docker.network.bridge.gateway_mode_ipv6)); see O(gateway_mode_ipv4).
    type: str
  trusted_host_interfaces:
    description:
      - Bridge driver only (Docker 28.2 / API 1.50) - host interfaces whose traffic may reach the
        containers' addresses directly, as the driver option C(com.docker.network.bridge.trusted_host_interfaces)
        (a colon-separated list; compared as a set).
      - An empty list or a name that is not an interface name fails.
    type: list
    elements: str
  ingress:
    description:
      - Manage the swarm's ingress network (the routing mesh of published ports); the engine must be a
        swarm manager. The driver is V(overlay) and the scope V(swarm); it cannot be attachable or internal.
      - Docker's default ingress, C(ingress) with 10.0.0.0/24, may collide with corporate ranges and
        C(default-address-pools) does not apply to it - give it a subnet in O(ipam.config). A different subnet
        recreates it - remove and create - which Docker allows only while no swarm service publishes ports;
        remove such services first (or publish them again afterwards). The ingress network has no container
        endpoints to restore.
      - A swarm has one ingress network; naming another while one exists fails naming it. With
        O(state=absent) and O(ingress=true) the predefined name C(ingress) may be removed.
    type: bool
  labels:
    description:
      - Labels. Only the keys given are compared; labels the task does not name are kept on recreate
        (a label cannot be removed by leaving it out).
      - Docker cannot change labels in place, so a different value recreates the network.
    type: dict
  ipam:
    description:
      - IP address management.
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
          - Address pools, IPv4 and IPv6, in any order.
          - Subnets must not overlap each other nor the subnets of other networks on the engine
            (the error names the other network).
          - What the pools mean when the network exists - they describe the whole of each pool, except
            the gateway. The set of subnets must be exactly the network's (a pool left out, or one more,
            recreates it); an IPv4 pool the engine adds by itself to a request without one is no difference.
          - An omitted O(ipam.config[].gateway) lets the engine pick one; it is not compared, and a recreate
            keeps the network's gateway.
          - An omitted O(ipam.config[].ip_range) means the whole subnet and an omitted
            O(ipam.config[].aux_addresses) means none, so a network that has them is recreated without them.
          - Leaving out O(ipam.config) itself compares no pool and a recreate keeps every pool as it is.
          - C(community.docker.docker_network) compares only the fields a pool gives, so there an omitted
            C(iprange) or C(aux_addresses) is no difference.
        type: list
        elements: dict
        suboptions:
          subnet:
            description: Subnet in CIDR form, without host bits (V(10.10.0.0/24), V(fd00:10::/64)).
            type: str
            required: true
          gateway:
            description: Gateway address inside the subnet.
            type: str
          ip_range:
            description: Range inside the subnet that automatic addresses come from.
            type: str
            aliases: [iprange]
          aux_addresses:
            description: Addresses inside the subnet the engine must not hand out, name to address.
            type: dict
  config_only:
    description: Create a configuration-only network, whose settings other networks use with O(config_from).
    type: bool
  config_from:
    description: Take driver options and IPAM from this config-only network (which must exist or be in the same batch).
    type: str
  connected:
    description:
      - Containers that must have an endpoint on the network. Each item is a container name, or a
        dict with C(container) and any of C(ipv4_address), C(ipv6_address), C(aliases), C(links)
        (C(name) or C(name:alias)), C(driver_opts), C(mac_address), C(gw_priority), C(interface_name),
        C(sysctls).
      - C(mac_address) (API 1.44 / Docker 25.0) is the endpoint's MAC address, compared and kept by a recreate.
        The engine takes a MAC only when the container is created (C(docker run --network NAME --mac-address MAC))
        and ignores one given on network connect (moby/moby#48192), so a C(mac_address) the endpoint does not
        have already is refused before anything changes, and so is a recreate of the network (which reconnects
        every container) while C(mac_address) is listed. An endpoint whose MAC is not listed gets the MAC the
        engine picks when a recreate reconnects it (Docker 28 picks a random one; before 28 it derives it from
        the IPv4 address).
      - C(gw_priority) (Docker 28.0) - a whole number; of a container's networks, the one with the highest
        gives the container its default gateway. Sent to the Engine API directly (the Docker SDK has no such
        parameter).
      - C(interface_name) (Docker 28.0) - the interface's name inside the container (endpoint driver option
        C(com.docker.network.endpoint.ifname)).
      - "C(sysctls) (Docker 27.0) - per-interface sysctls, a dict such as
        C({net.ipv4.conf.IFNAME.forwarding: 0}) (C(IFNAME) stands for the interface; only C(net.*) keys),
        as the endpoint driver option C(com.docker.network.endpoint.sysctls)."
      - Each of these four is compared only when given, and refused on an engine that lacks it, naming
        the version. A recreate restores every endpoint with all of them as they were.
      - An endpoint whose settings differ is disconnected and reconnected with the requested ones.
      - Containers not listed are left alone unless O(connected_exclusive=true).
    type: list
    elements: raw
  connected_exclusive:
    description:
      - Disconnect containers that are not listed in O(connected). Defaults to V(false).
    type: bool
  recreate:
    description:
      - V(auto) removes and recreates the network when an immutable property differs, restoring
        every endpoint. V(never) fails instead and says what differs. Defaults to V(auto).
    type: str
    choices: [auto, never]
  force:
    description:
      - With O(state=absent), disconnect attached containers (running or stopped) before removing.
        Without it, removing a network that has endpoints fails and lists them. Defaults to V(false).
    type: bool
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
    description: Predicts exactly the actions a real run takes.
  diff_mode:
    support: full
    description: Before and after per network.
author:
  - netfleet.docker contributors (@netfleet)
seealso:
  - module: netfleet.docker.docker_net_info
'''

EXAMPLES = r'''
- name: One bridge network with a fixed subnet
  netfleet.docker.docker_net:
    name: backend
    ipam:
      config:
        - subnet: 10.20.0.0/24
          gateway: 10.20.0.1

- name: A batch in one task, common settings at the top level
  netfleet.docker.docker_net:
    labels:
      owner: platform
    networks:
      - name: web
        ipam: {config: [{subnet: 10.20.1.0/24}]}
      - name: db
        internal: true
        ipam: {config: [{subnet: 10.20.2.0/24}]}
      - name: dual
        enable_ipv6: true
        ipam:
          config:
            - subnet: 10.20.3.0/24
            - subnet: fd00:20:3::/64

- name: Endpoints with static addresses and aliases (kept across a recreate)
  netfleet.docker.docker_net:
    name: backend
    connected:
      - container: api
        ipv4_address: 10.20.0.10
        aliases: [api.internal]
      - worker

- name: IPv6-only network with routed IPv6 (Docker 28.0 or later)
  netfleet.docker.docker_net:
    name: v6only
    enable_ipv4: false
    enable_ipv6: true
    gateway_mode_ipv6: routed
    ipam:
      config:
        - subnet: fd00:20:6::/64

- name: Container gets its default route from this network, on interface data0 (Docker 28.0 or later)
  netfleet.docker.docker_net:
    name: uplink
    connected:
      - container: router
        gw_priority: 100
        interface_name: data0
        sysctls: {net.ipv4.conf.IFNAME.forwarding: 1}

- name: The swarm ingress network on a subnet of the fleet plan (no service may publish ports meanwhile)
  netfleet.docker.docker_net:
    name: ingress
    ingress: true
    ipam:
      config:
        - subnet: 10.250.0.0/24

- name: Refuse to recreate; report what differs instead
  netfleet.docker.docker_net:
    name: backend
    labels: {tier: gold}
    recreate: never

- name: Remove, disconnecting whatever is attached
  netfleet.docker.docker_net:
    name: old_net
    state: absent
    force: true

- name: Talk to a remote engine over TLS for every module of the collection
  module_defaults:
    group/netfleet.docker.docker:
      docker_host: tcp://docker1.example.com:2376
      validate_certs: true
      ca_path: /etc/docker/certs/ca.pem
      client_cert: /etc/docker/certs/cert.pem
      client_key: /etc/docker/certs/key.pem
  block:
    - netfleet.docker.docker_net:
        name: backend
'''

RETURN = r'''
networks:
  description: One entry per network of the task, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Network name.
      type: str
      sample: backend
    id:
      description: Network ID after the task (none for a network created in check mode).
      type: str
    action:
      description: What happened (or, in check mode, would happen).
      type: str
      sample: recreated
      choices: [created, recreated, removed, unchanged, endpoints-changed, recovered]
    recovered:
      description:
        - What was done to finish this network's pending journal (see RV(recovered)). The action is
          V(recovered) when nothing else was left to change.
      returned: when a pending journal of the network was finished
      type: dict
    pending_journal:
      description: In check mode, the path of the network's pending journal that a real run finishes first.
      returned: in check mode, when the network has a pending journal
      type: str
    changes:
      description: Field paths that differed, e.g. C(labels.tier), C(ipam.config[10.20.0.0/24].gateway), C(connected[api].aliases).
      type: list
      elements: str
    differences:
      description: The same differences with the wanted and the actual value.
      type: list
      elements: dict
    steps:
      description: The engine operations in order (C(disconnect api), C(remove), C(create), C(connect api)).
      type: list
      elements: str
    host_shim:
      description:
        - The host shims of a removed macvlan network that M(netfleet.docker.macvlan_net) set up on this host
          (each C(interface), C(unit), C(action) V(removed) and C(before)). They go with their network, first.
      returned: when a removed macvlan network had a host shim on the managed host
      type: list
      elements: dict
    stranded_containers:
      description:
        - Containers that a forced removal (O(force=true)) leaves on no network at all; they keep running
          with only the loopback interface. A warning names them too.
      returned: when a forced removal leaves such containers
      type: list
      elements: str
      sample: [api]
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
network:
  description: The inspected network after the task (single-network form only; empty when removed).
  returned: when O(name) is used
  type: dict
completed:
  description:
    - On a failure part-way, the steps applied before it, in the order they were applied (removals first),
      each with the same keys as a record of RV(networks) and what it did.
  returned: failure after changes started
  type: list
  elements: dict
failed_steps:
  description:
    - On a failure part-way, the step that failed (C(failed) itself is Ansible's own flag), with C(error) and, for a network, C(done), the engine
      operations it had carried out before the error (C(changed) is true when there were any), and
      C(journal), the pending journal the next run finishes from.
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
from ansible_collections.netfleet.docker.plugins.module_utils._host import hostnet, macvlan_shim
from ansible_collections.netfleet.docker.plugins.module_utils._network import network_steps
from ansible_collections.netfleet.docker.plugins.module_utils._network.ipam import NETADDR_IMPORT_ERROR


def argument_spec():
    spec = network_steps.argument_spec()
    spec.update(client.CONNECTION_ARGUMENT_SPEC)
    return spec


class DockerNetDriver(Driver):
    """Requests -> one step per network (apply order) -> applied; records in request order."""

    kind = 'network'
    records_key = 'networks'
    required_libraries = (('netaddr', NETADDR_IMPORT_ERROR),)
    #: where macvlan_net writes host shim units (a removed macvlan network takes its shim along)
    shim_unit_dir = macvlan_shim.UNIT_DIR

    def __init__(self, module):
        super().__init__(module)
        self.desired = []
        self.manager = None
        self.journals = None
        self.run_host = hostnet.module_runner(module)
        self.shim_removals = {}

    def connect(self):
        return client.connect(self.module)

    def validate(self):
        self.desired, problems = network_steps.desired_networks(self.params)
        if problems:
            problems.extend(network_steps.engine_problems(self.connect, self.desired))
        return problems

    def plan(self):
        # An interrupted recreate is finished from its journal before anything is planned.
        self.manager, self.journals = network_steps.begin_network_run(
            self.connect(), [desired.name for desired in self.desired], self.params, self.check_mode)
        self.applied.extend(self.journals.applied())
        steps = network_steps.with_journals(network_steps.plan_network_steps(self.manager, self.desired),
                                            self.journals, self.check_mode)
        return [self._with_shim_removal(step) for step in steps]

    def _with_shim_removal(self, step):
        """A removed macvlan network takes its macvlan_net host shim (interface, route, unit) along."""
        if step.action != 'removed':
            return step
        changes, reports = macvlan_shim.removals_with_network(self.run_host, step.payload.existing, self.shim_unit_dir)
        if not changes:
            return step
        self.shim_removals[step.name] = changes
        return replace(step, details=dict(step.details, host_shim=reports))

    def apply(self, step):
        # the shim first, as macvlan_net does: if it cannot go, the network stays and a rerun retries both
        for change in self.shim_removals.get(step.name, ()):
            macvlan_shim.remove_shim(self.run_host, change)
        return network_steps.apply_network_step(self.manager, step)

    def build_result(self, steps):
        # Applied removals first, creations last; reported in the order the task lists them.
        position = dict((id(desired), index) for index, desired in enumerate(self.desired))
        for warning in network_steps.stranded_warnings(steps, self.check_mode) + self.journals.warnings():
            self.module.warn(warning)
        self.result_details.update(self.journals.result())
        return super().build_result(sorted(steps, key=lambda step: position[id(step.payload.desired)]))

    def extra_result(self, steps):
        if self.params.get('networks') is not None:
            return {}
        step = steps[0]
        return dict(network=network_steps.network_after(
            self.manager, step.payload, network_steps.applied_id(self.applied, step)))


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[('name', 'networks')],
        required_one_of=[('name', 'networks')],
        supports_check_mode=True,
    )
    DockerNetDriver(module).run()


if __name__ == '__main__':
    main()
