#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: engine_health
short_description: Gate an engine restart - quorum before it, a whole host after it
version_added: 0.2.0
description:
  - With O(state=snapshot), reads what the engine runs before a restart (running containers that have
    a restart policy, with their networks; the swarm node and the managers' reachability) and fails when
    restarting this engine now would cost the swarm its quorum.
  - With O(state=ready), waits (bounded by O(ready_timeout)) until the engine answers again, its swarm node is
    active (a manager has its control plane back) and every container of the O(snapshot) runs again on
    the networks it had. Containers the engine gave up on (for instance an overlay attachment that timed
    out while the swarm was busy) are started once after O(start_after) seconds when O(start_stopped=true).
  - The C(netfleet.docker.daemon) role uses it around every restart, so a rollout through the fleet goes
    to the next host only when this one is whole again.
author: netfleet.docker contributors (@netfleet)
extends_documentation_fragment:
  - netfleet.docker.docker
attributes:
  check_mode:
    support: full
    description: O(state=snapshot) only reads; O(state=ready) waits but does not start containers in check mode.
  diff_mode:
    support: full
    description: Shows the containers that would be started.
options:
  state:
    description: Read the snapshot (and check quorum) before a restart, or wait for the host to be whole after it.
    type: str
    choices: [snapshot, ready]
    default: snapshot
  snapshot:
    description: The RV(snapshot) an earlier O(state=snapshot) task returned. Required with O(state=ready).
    type: dict
  quorum_check:
    description: With O(state=snapshot), fail when this host is a swarm manager whose restart would leave too few managers.
    type: bool
    default: true
  ready_timeout:
    description: Seconds O(state=ready) waits at most.
    type: int
    default: 120
  start_stopped:
    description: Start containers of the snapshot that the engine did not bring back by itself.
    type: bool
    default: true
  start_after:
    description: Seconds to give the engine before starting such containers itself.
    type: int
    default: 20
  host_label:
    description: How messages name this host (the inventory name).
    type: str
'''

EXAMPLES = r'''
- name: Before the restart - what runs here, and may this manager go down now?
  netfleet.docker.engine_health:
    state: snapshot
    host_label: "{{ inventory_hostname }}"
  register: before_restart

- name: Restart the engine
  ansible.builtin.systemd_service:
    name: docker
    state: restarted

- name: After the restart - wait until the host is whole again
  netfleet.docker.engine_health:
    state: ready
    snapshot: "{{ before_restart.snapshot }}"
    ready_timeout: 180
'''

RETURN = r'''
snapshot:
  description: What the engine had (O(state=snapshot)) or has now (O(state=ready)).
  returned: success
  type: dict
  contains:
    answers:
      description: Whether the engine answered.
      type: bool
    version:
      description: The engine version.
      type: str
    swarm:
      description: The swarm node state, role, and the managers' count and reachability.
      type: dict
    containers:
      description: Running containers with a restart policy (name, id, running, policy, networks).
      type: list
      elements: dict
waited:
  description: Seconds O(state=ready) waited.
  returned: success
  type: float
started:
  description: Containers this task started because the engine had not brought them back.
  returned: success
  type: list
  elements: str
objects:
  description: One record per container started (action C(started)).
  returned: success
  type: list
  elements: dict
problems:
  description: What was not whole when the task failed.
  returned: failure
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netfleet.docker.plugins.module_utils._common import client
from ansible_collections.netfleet.docker.plugins.module_utils._common.driver import Driver
from ansible_collections.netfleet.docker.plugins.module_utils._daemon import rollout


def argument_spec():
    spec = dict(
        state=dict(type='str', default='snapshot', choices=['snapshot', 'ready']),
        snapshot=dict(type='dict'),
        quorum_check=dict(type='bool', default=True),
        ready_timeout=dict(type='int', default=120),
        start_stopped=dict(type='bool', default=True),
        start_after=dict(type='int', default=20),
        host_label=dict(type='str'),
    )
    spec.update(client.CONNECTION_ARGUMENT_SPEC)
    return spec


class EngineHealth(Driver):
    """snapshot: read and check quorum; ready: wait, start what the engine gave up on, wait again."""

    kind = 'container'

    def validate(self):
        return rollout.request_problems(self.params)

    def plan(self):
        self.gate = rollout.RestartGate(self.module, self.params)
        return self.gate.plan()

    def apply(self, step):
        return self.gate.start(step)

    def extra_result(self, steps):
        return self.gate.result(started=[step.name for step, _details in self.applied])


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           required_if=[('state', 'ready', ['snapshot'])])
    EngineHealth(module).run()


if __name__ == '__main__':
    main()
