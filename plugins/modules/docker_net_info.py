#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: docker_net_info
short_description: Facts about Docker networks, their endpoints and the engine's network configuration
version_added: 0.1.0
description:
  - Lists networks (all, by exact name or ID, or by engine filters) with their endpoints, including
    stopped containers, which C(docker network inspect) does not show.
  - Reports the engine's network-relevant configuration (versions, swarm state, legacy cluster
    store, default bridge) and which version-gated features it has.
  - Changes nothing.
options:
  names:
    description:
      - Exact network names or full IDs. Names that match nothing are listed in RV(missing), not an error.
      - All networks when omitted.
    type: list
    elements: str
  filters:
    description:
      - "Engine-side filters, as for C(docker network ls --filter), e.g. C({driver: bridge, label: [tier=web]})."
    type: dict
  endpoints:
    description: Include each network's endpoints.
    type: bool
    default: true
  engine:
    description: Include RV(engine) and RV(features).
    type: bool
    default: true
  containers:
    description:
      - Include RV(containers) - every container, running and stopped, with its network mode, its networks
        and its endpoints (containers in mode V(host), V(none) or V(container:<name>) have no endpoint of
        their own).
    type: bool
    default: false
  journal_dir:
    description:
      - The recreate journal directory of docker_net and macvlan_net on the managed host; its pending
        journals are reported in RV(journals). Defaults to C(/var/lib/netfleet/journal).
    type: path
extends_documentation_fragment:
  - netfleet.docker.docker
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    description: Read-only.
author:
  - netfleet.docker contributors (@netfleet)
seealso:
  - module: netfleet.docker.docker_net
'''

EXAMPLES = r'''
- name: Everything about two networks
  netfleet.docker.docker_net_info:
    names: [backend, frontend]
  register: nets

- name: Who is on backend, with addresses
  ansible.builtin.debug:
    msg: "{{ nets.networks[0].endpoints | map(attribute='ipv4_address') | list }}"

- name: Every container's network mode (bridge, host, none, container:<name> or a network name)
  netfleet.docker.docker_net_info:
    endpoints: false
    engine: false
    containers: true
  register: modes

- name: Only the engine facts, e.g. to choose a control plane
  netfleet.docker.docker_net_info:
    names: [none]
    endpoints: false
  register: engine

- name: Fail early on an engine without the legacy KV overlay
  ansible.builtin.assert:
    that: engine.features.legacy_kv_overlay
    fail_msg: "{{ engine.engine.server_version }} has no cluster-store; use swarm"
'''

RETURN = r'''
networks:
  description: Selected networks in the same shape docker_net compares, plus name, id and endpoints.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Network name.
      type: str
    id:
      description: Full network ID.
      type: str
    driver:
      description: Driver.
      type: str
    scope:
      description: Scope (local, swarm, global).
      type: str
    ipam:
      description: IPAM driver, options and canonical pools (subnet, gateway, ip_range, aux_addresses).
      type: dict
    endpoints:
      description:
        - Endpoints of running and stopped containers, sorted by container name.
        - Each has container, id, state, running, ipv4_address, ipv6_address, static_ipv4_address,
          static_ipv6_address, mac_address, aliases, links, driver_opts (less the two below),
          gw_priority (0 unless set; Docker 28.0+), interface_name (Docker 28.0+) and sysctls
          (Docker 27.0+; a dict, V(null) when none).
      type: list
      elements: dict
      returned: when O(endpoints=true)
journals:
  description:
    - Pending journals of interrupted recreates or forced removals on this host (the next docker_net or
      macvlan_net run of that network finishes them). Each has C(network), C(path), C(operation), C(started),
      C(pid), C(old_id), C(new_id), C(done) and C(endpoints) (container, static addresses, aliases, links,
      MAC, driver options); an unreadable one has C(error).
  returned: always
  type: list
  elements: dict
containers:
  description:
    - Every container, running and stopped, sorted by name.
    - Each has C(name), C(id), C(state), C(running), C(network_mode) (V(bridge) - also for the engine's
      C(default) -, V(host), V(none), V(container:<name>) with the other container's ID resolved to its name,
      or the name of a user-defined network), C(networks) (names) and C(endpoints) (as in the networks'
      C(endpoints), each with C(network)).
  returned: when O(containers=true)
  type: list
  elements: dict
  sample:
    - name: sidecar
      network_mode: container:app
      networks: []
      endpoints: []
missing:
  description: Requested names that match no network.
  returned: always
  type: list
  elements: str
engine:
  description:
    - Network-relevant engine configuration - server_version, api_version, min_api_version,
      connection_api_version, os, kernel_version, ipv4_forwarding, bridge_nf_iptables,
      bridge_nf_ip6tables, live_restore, network_drivers, default_address_pools, cluster_store,
      cluster_advertise, swarm (state, node_id, node_addr, control_available, cluster_id, managers,
      nodes, and on managers default_addr_pool and subnet_size) and default_bridge (subnet, gateway, mtu, options).
  returned: when O(engine=true)
  type: dict
features:
  description:
    - Version-gated features of this engine, each true or false.
    - C(legacy_kv_overlay) (before 23.0), C(dockerd_validate) (23.0+), C(default_network_opts) (24.0+),
      C(ip_forward_no_drop) (28.0+), C(config_only_networks) (17.06+), C(endpoint_mac_address) (25.0+).
    - "Since 27.0: C(bridge_gateway_mode_routed) (gateway modes nat and routed), C(endpoint_sysctls)."
    - "Since 28.0: C(ipv6_only_networks) (O(netfleet.docker.docker_net#module:enable_ipv4=false)),
      C(bridge_gateway_mode_isolated) (nat-unprotected and isolated), C(endpoint_gw_priority), C(endpoint_ifname)."
    - "Since 28.2: C(trusted_host_interfaces), C(inspect_hides_enable_ip_options) (inspect no longer lists
      C(com.docker.network.enable_ipv4/6) among the options)."
    - "Since 29.0: C(firewall_backend_nftables), C(ipam_status_subnets); since 29.6: C(swarm_nftables)."
  returned: when O(engine=true)
  type: dict
  sample: {legacy_kv_overlay: true, dockerd_validate: false, default_network_opts: false, ip_forward_no_drop: false}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netfleet.docker.plugins.module_utils._common import client
from ansible_collections.netfleet.docker.plugins.module_utils._common.driver import Driver
from ansible_collections.netfleet.docker.plugins.module_utils._network import journal, network_info


def argument_spec():
    spec = dict(
        names=dict(type='list', elements='str'),
        filters=dict(type='dict'),
        endpoints=dict(type='bool', default=True),
        engine=dict(type='bool', default=True),
        containers=dict(type='bool', default=False),
        journal_dir=dict(type='path'),
    )
    spec.update(client.CONNECTION_ARGUMENT_SPEC)
    return spec


class DockerNetInfoDriver(Driver):
    """Reads only: no steps; the facts are the result."""

    records_key = 'networks'

    def connect(self):
        return client.connect(self.module)

    def plan(self):
        return ()

    def extra_result(self, steps):
        result = network_info.gather(self.connect(), names=self.params['names'], filters=self.params['filters'],
                                     endpoints=self.params['endpoints'], engine_config=self.params['engine'],
                                     containers=self.params['containers'])
        # Interrupted recreates on this host (docker_net finishes them on its next run).
        result['journals'] = [journal.summary(entry) for entry in journal.read_pending(
            self.params.get('journal_dir') or journal.DEFAULT_DIR)]
        return result


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    DockerNetInfoDriver(module).run()


if __name__ == '__main__':
    main()
