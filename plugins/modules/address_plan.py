#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: address_plan
short_description: Plan stable, disjoint subnets for every host and network of a Docker fleet
version_added: 0.1.0
description:
  - From supernets declared for the fleet, allocates for every host and every declared network a
    subnet of the requested size, plus each host's C(bip), its C(default-address-pools) base,
    and the swarm address pool, all disjoint.
  - Skips excluded ranges (corporate, VPN), each host's own routes and addresses, and the ranges
    Docker uses by default for local networks (172.17.0.0/16-172.31.0.0/16, 192.168.0.0/16). Set O(swarm_pool) so swarm
    allocates from the plan instead of its default 10.0.0.0/8.
  - >-
    The fleet is the source of truth. What the hosts already have (O(claims), O(swarm_claims), read back from
    them) is kept first, then the still valid allocations of the optional cache O(state_file); only what is
    missing is allocated, hosts in sorted order. A run from a controller without the cache, with hosts in any
    order, moves nothing; an allocation, once made, never moves when hosts are added or removed.
  - >-
    Two holders of one subnet (two hosts' claims overlapping, or a cache entry giving host A a subnet host B
    holds) fail naming both, before anything is written. New subnets are refused while a host in O(unread)
    has nothing in the cache (it could hold the subnet), and altogether with O(allocate=false).
  - >-
    The cache lives on the machine the module runs on (run it on the controller with
    C(delegate_to: localhost) and C(run_once: true)). Hosts that leave keep their cached reservations until
    listed in O(release).
  - When the space runs out, fails naming the supernet, the prefix, how many are needed and how
    many fit. Nothing is written then.
options:
  state_file:
    description:
      - JSON file caching the allocations. Created when missing. Optional - the fleet is the truth, the cache
        only covers hosts that cannot be read back, allocations not applied yet, and hosts that left.
    type: path
  claims:
    description:
      - Per host, what it already has, read back from it (see the C(netfleet.docker.fleet_claims) filter) -
        C(bip) (daemon.json, gateway form), C(address_pools) (daemon.json C(default-address-pools), list of
        C(base)/C(size)), C(networks) (declared network name to its subnets on the engine).
    type: dict
    default: {}
  swarm_claims:
    description:
      - Swarms the hosts belong to, each with C(cluster_id), C(default_addr_pool), C(subnet_size) and C(hosts)
        (read on a manager), and optionally C(ingress), the subnets of its ingress network. The pool is claimed
        for O(swarm_pool); it cannot move (init only). The ingress subnet is claimed for O(ingress).
    type: list
    elements: dict
    default: []
  unread:
    description: Hosts of the run whose read-back failed, host to reason. New allocations wait for them.
    type: dict
    default: {}
  allocate:
    description:
      - Allocate what the fleet and the cache do not hold. V(false) only claims, and fails naming what is
        missing - for sliced or limited runs that do not see the whole fleet.
    type: bool
    default: true
  supernets:
    description: Named supernets the plan carves from, name to CIDR.
    type: dict
    required: true
  exclude:
    description: Ranges nothing may be allocated from.
    type: list
    elements: dict
    default: []
    suboptions:
      cidr:
        description: The range.
        type: str
        required: true
      reason:
        description: Why (shown in messages).
        type: str
  hosts:
    description: Every host of the fleet, e.g. C("{{ groups['docker_hosts'] }}").
    type: list
    elements: str
    required: true
  host_exclude:
    description:
      - Per host, routes and addresses that already exist there (gathered), host to list of CIDRs.
    type: dict
    default: {}
  networks:
    description: Networks every host gets.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Network name.
        type: str
        required: true
      prefix:
        description: Prefix length of each host's subnet.
        type: int
        required: true
      supernet:
        description: Supernet to take it from.
        type: str
        required: true
  bip:
    description: Give each host a default bridge (C(bip)) of this size; the gateway is the first address.
    type: dict
    suboptions:
      prefix:
        description: Prefix length.
        type: int
        required: true
      supernet:
        description: Supernet to take it from.
        type: str
        required: true
  address_pools:
    description: Give each host one C(default-address-pools) base of C(prefix), split by the engine into C(size) subnets.
    type: dict
    suboptions:
      prefix:
        description: Prefix length of the base.
        type: int
        required: true
      size:
        description: Prefix length of the networks the engine cuts from the base.
        type: int
        required: true
      supernet:
        description: Supernet to take it from.
        type: str
        required: true
  swarm_pool:
    description: The swarm's C(default_addr_pool) (one for the fleet) and its C(subnet_size).
    type: dict
    suboptions:
      prefix:
        description: Prefix length of the pool.
        type: int
        required: true
      size:
        description: Subnet size swarm cuts from it.
        type: int
        required: true
      supernet:
        description: Supernet to take it from.
        type: str
        required: true
  ingress:
    description:
      - Give the swarm's ingress network (one for the fleet) a subnet of C(prefix) from C(supernet), disjoint from
        the swarm pool and every other allocation. Returned as C(ingress) in RV(plan); the overlay role moves the
        ingress network there (C(overlay_ingress_subnet)).
      - The ingress subnet read back in O(swarm_claims) (C(ingress)) is kept while it fits; one inside the swarm
        pool (where C(swarm init) puts it) does not, and a new subnet is planned.
    type: dict
    suboptions:
      prefix:
        description: Prefix length.
        type: int
        required: true
      supernet:
        description: Supernet to take it from.
        type: str
        required: true
  avoid_docker_defaults:
    description: Keep out of the ranges Docker hands out by default.
    type: bool
    default: true
  release:
    description: Hosts that left the fleet for good; their reservations are dropped.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    description: Computes the plan and reports what would change in the state file without writing it.
  diff_mode:
    support: full
    description: Allocations added and dropped.
author:
  - netfleet.docker contributors (@netfleet)
seealso:
  - module: netfleet.docker.docker_net
'''

EXAMPLES = r'''
- name: Plan the fleet's addresses once, on the controller
  netfleet.docker.address_plan:
    state_file: "{{ inventory_dir }}/address_plan.json"
    supernets:
      fleet: 10.64.0.0/12
      pools: 100.64.0.0/12
    exclude:
      - {cidr: 10.64.0.0/16, reason: corporate LAN}
    hosts: "{{ groups['docker_hosts'] }}"
    networks:
      - {name: frontend, prefix: 26, supernet: fleet}
      - {name: backend, prefix: 26, supernet: fleet}
    bip: {prefix: 26, supernet: fleet}
    address_pools: {prefix: 22, size: 26, supernet: pools}
    swarm_pool: {prefix: 16, size: 24, supernet: fleet}
  delegate_to: localhost
  run_once: true
  register: fleet_plan

- name: Use a host's slice
  netfleet.docker.docker_net:
    name: frontend
    ipam:
      config:
        - subnet: "{{ fleet_plan.plan.hosts[inventory_hostname].networks.frontend }}"
'''

RETURN = r'''
plan:
  description:
    - The plan - C(hosts) (per host C(networks), C(bip), C(default_address_pools)), C(swarm), and C(ingress) (the
      ingress network's subnet, or none when O(ingress) is not given).
  returned: success
  type: dict
  sample:
    hosts:
      dock1:
        bip: 10.65.0.1/26
        default_address_pools: [{base: 100.64.0.0/22, size: 26}]
        networks: {frontend: 10.65.0.64/26}
    swarm: {default_addr_pool: [10.66.0.0/16], subnet_size: 24}
    ingress: 10.65.1.0/24
report:
  description:
    - Allocation keys that are new, kept (from the cache), claimed (from the fleet), corrected (the fleet
      overrode the cache), moved (no longer valid), kept for absent hosts, released; and the unread hosts.
  returned: success
  type: dict
state_text:
  description: The cache file's new content (written by the module unless in check mode).
  returned: success
  type: str
'''


from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netfleet.docker.plugins.module_utils._common.driver import Driver, Step
from ansible_collections.netfleet.docker.plugins.module_utils._plan import address_plan
from ansible_collections.netfleet.docker.plugins.module_utils._network.ipam import NETADDR_IMPORT_ERROR, IpamError

SLICE = dict(prefix=dict(type='int', required=True), supernet=dict(type='str', required=True))
POOL = dict(SLICE, size=dict(type='int', required=True))

ARGUMENT_SPEC = dict(
    state_file=dict(type='path'),
    claims=dict(type='dict', default={}),
    swarm_claims=dict(type='list', elements='dict', default=[]),
    unread=dict(type='dict', default={}),
    allocate=dict(type='bool', default=True),
    supernets=dict(type='dict', required=True),
    exclude=dict(type='list', elements='dict', default=[],
                 options=dict(cidr=dict(type='str', required=True), reason=dict(type='str'))),
    hosts=dict(type='list', elements='str', required=True),
    host_exclude=dict(type='dict', default={}),
    networks=dict(type='list', elements='dict', default=[],
                  options=dict(name=dict(type='str', required=True), **SLICE)),
    bip=dict(type='dict', options=SLICE),
    address_pools=dict(type='dict', options=POOL),
    swarm_pool=dict(type='dict', options=POOL),
    ingress=dict(type='dict', options=SLICE),
    avoid_docker_defaults=dict(type='bool', default=True),
    release=dict(type='list', elements='str', default=[]),
)


class AddressPlanDriver(Driver):
    """The fleet plan: from the fleet's claims and the cached allocations; one step writes the new cache."""

    required_libraries = (('netaddr', NETADDR_IMPORT_ERROR),)

    def plan(self):
        path = self.params['state_file']
        state = address_plan.load_state(path) if path else {}
        try:
            self.fleet_plan, new_state, self.report = address_plan.plan(self.params, state)
        except IpamError as exc:
            raise address_plan.PlanError(str(exc))
        self.state_text = address_plan.render_state(new_state)
        if not path or new_state == state:
            return ()
        before = set((state or {}).get('allocations', {}).items())
        after = set(new_state['allocations'].items())
        # The diff shows only the allocations that go and come (a fleet's state is long).
        return (Step(name=path, action='written', payload=new_state,
                     before='\n'.join('%s %s' % item for item in sorted(before - after)) + '\n',
                     after='\n'.join('%s %s' % item for item in sorted(after - before)) + '\n'),)

    def apply(self, step):
        address_plan.write_state(step.name, step.payload)

    def diff(self, step):
        return dict(before=step.before, after=step.after, before_header=step.name, after_header=step.name)

    def build_result(self, steps):
        result = super().build_result(steps)
        del result[self.records_key]   # the report says what happened to each allocation
        if not result.get('diff'):
            result.pop('diff', None)
        result.update(plan=self.fleet_plan, report=self.report, state_file=self.params['state_file'],
                      state_text=self.state_text)
        return result


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    AddressPlanDriver(module).run()


if __name__ == '__main__':
    main()
