#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: state_fingerprint
short_description: Fingerprint what a host has of the fleet's network, and record it after a complete converge
version_added: 0.4.0
description:
  - Reads, in one run and without the Docker SDK, everything the collection's roles read on a host and would
    act on - the forwarding sysctls, the files they write (daemon.json, sysctl and modules-load drop-ins), the
    engine's identity and swarm membership, the declared networks, the MTU of the host's own interfaces (the
    overlay role sizes overlay networks from the underlay's), on a swarm manager the swarm's nodes,
    and with O(routes=true) the host's own routes and addresses - and returns its digest, with one digest
    per part.
  - With O(record), writes the fingerprint and that declaration digest to O(path). C(playbooks/site.yml)
    records after a converge in which every play succeeded; a later run whose declaration and every
    host's fingerprint equal the records skips the roles (the fast path, docs/concepts.md).
  - Container endpoints, timestamps, version indexes, address lifetimes, the swarm leader and Docker's own
    interfaces are left out, so a fingerprint moves only when something the roles manage moved. So are swarm-scoped
    networks (overlays, ingress) on a node that is not a manager, whose copy comes and goes with the tasks and
    containers attached there; the managers' copy is the one the roles manage.
  - Reads the engine over its local C(unix://) socket only. With another O(docker_host) it returns no
    fingerprint (RV(supported=false)) and the playbook takes the full path.
author: netfleet.docker contributors (@netfleet)
attributes:
  check_mode:
    support: full
    description: Reads as always; O(record) is reported (C(changed)) but not written.
  diff_mode:
    support: full
    description: Shows the recorded fingerprint and declaration before and after.
options:
  networks:
    description:
      - Names (or full IDs) of the networks whose configuration (not their endpoints) is part of the fingerprint.
      - Matched exactly; an ID prefix is not a name (the engine's own lookup accepts one).
    type: list
    elements: str
    default: []
  files:
    description: Paths whose content (a digest of it, or its absence) is part of the fingerprint.
    type: list
    elements: path
    default: []
  directories:
    description:
      - Directories whose regular files (names and contents, not recursive) are part of the fingerprint, for
        drop-in directories where a new file changes what the roles find (C(/etc/sysctl.d)).
    type: list
    elements: path
    default: []
  sysctls:
    description:
      - Kernel parameters whose runtime values are part of the fingerprint, dotted (C(net.ipv4.ip_forward)) or, for
        a name that holds a dot, with slashes (C(net/ipv4/conf/eth0.10/forwarding)), as in sysctl.d(5).
    type: list
    elements: str
    default: []
  routes:
    description:
      - Include the host's IPv4 routes (every table) and addresses, without Docker's own interfaces and without
        address lifetimes. The address plan reads them; a fleet with a plan sets this.
    type: bool
    default: false
  swarm_nodes:
    description: On a swarm manager, include the swarm's nodes (role, availability, labels, state, reachability).
    type: bool
    default: true
  record:
    description:
      - The digest of the fleet's declaration to record with this host's fingerprint. Without it, nothing is written.
    type: str
  path:
    description: Where the record is kept (mode 0600, its directory made when missing).
    type: path
    default: /var/lib/netfleet/state-fingerprint.json
  docker_host:
    description: The engine's socket; only C(unix://) paths are read (see the description).
    type: str
    default: unix:///var/run/docker.sock
    aliases: [docker_url]
  timeout:
    description: Seconds to wait for an engine answer.
    type: int
    default: 30
notes:
  - The fingerprint is proof of "nothing moved since the last complete converge", not a replacement for it; set
    C(fleet_fast_path=false) to run every role regardless.
'''

EXAMPLES = r'''
- name: What this host has now, and what the last complete converge left
  netfleet.docker.state_fingerprint:
    networks: [frontend, backend]
    files: [/etc/docker/daemon.json, /etc/sysctl.d/90-netfleet-forwarding.conf]
    sysctls: [net.ipv4.ip_forward]
  register: host_state

- name: Record it after a converge in which every play succeeded
  netfleet.docker.state_fingerprint:
    networks: [frontend, backend]
    files: [/etc/docker/daemon.json, /etc/sysctl.d/90-netfleet-forwarding.conf]
    sysctls: [net.ipv4.ip_forward]
    record: "{{ fleet_declaration.hosts[inventory_hostname] }}"
'''

RETURN = r'''
supported:
  description: Whether a fingerprint could be taken (false for an engine that is not on a local unix socket).
  returned: always
  type: bool
fingerprint:
  description: The digest (sha256) of every part; null when RV(supported=false).
  returned: always
  type: str
parts:
  description:
    - One digest per part, named C(engine), C(network NAME), C(file PATH), C(directory PATH), C(sysctl KEY),
      C(links) (the MTU of the host's own interfaces), C(swarm nodes), C(routes).
  returned: always
  type: dict
recorded:
  description: The record found at O(path) before this task (fingerprint, declaration, recorded_at), or null.
  returned: always
  type: dict
moved:
  description: The parts whose digest differs from the record (every part when there is none).
  returned: always
  type: list
  elements: str
networks:
  description: The networks of O(networks) the engine has.
  returned: always
  type: list
  elements: str
records:
  description: One entry for the record file (action C(recorded) or C(unchanged)) when O(record) is given.
  returned: success
  type: list
  elements: dict
'''

import datetime

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.netfleet.docker.plugins.module_utils._common import fingerprint, files
from ansible_collections.netfleet.docker.plugins.module_utils._common.driver import Driver, Step, UNCHANGED
from ansible_collections.netfleet.docker.plugins.module_utils._common.engine_socket import EngineSocket, is_local_socket
from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import HostError
from ansible_collections.netfleet.docker.plugins.module_utils._host import sysctl

ARGUMENT_SPEC = dict(
    networks=dict(type='list', elements='str', default=[]),
    files=dict(type='list', elements='path', default=[]),
    directories=dict(type='list', elements='path', default=[]),
    sysctls=dict(type='list', elements='str', default=[]),
    routes=dict(type='bool', default=False),
    swarm_nodes=dict(type='bool', default=True),
    record=dict(type='str'),
    path=dict(type='path', default=fingerprint.RECORD_PATH),
    docker_host=dict(type='str', default='unix:///var/run/docker.sock', aliases=['docker_url'],
                     fallback=(env_fallback, ['DOCKER_HOST'])),
    timeout=dict(type='int', default=30),
)


class StateFingerprintDriver(Driver):
    """Read every part, digest it, compare with the record; one step: the record file."""

    kind = 'fingerprint record'
    records_key = 'records'

    def validate(self):
        problems = []
        for key in self.params['sysctls']:
            if not key or key.startswith('/') or '..' in key:
                problems.append('sysctls: %r is not a kernel parameter name (net.ipv4.ip_forward, or '
                                'net/ipv4/conf/eth0.10/forwarding for a name with a dot)' % key)
        return problems

    def plan(self):
        self.recorded = fingerprint.parse_record(files.read_text(self.params['path']))
        self.supported = is_local_socket(self.params['docker_host'])
        self.found_networks = []
        if not self.supported:
            self.module.warn('state_fingerprint reads only a local unix:// engine socket, not %s: no fingerprint '
                             '(the playbook takes the full path)' % self.params['docker_host'])
            self.current, self.parts = None, {}
            return []
        self.current, self.parts = fingerprint.host_fingerprint(self.read_parts())
        if self.params['record'] is None:
            return []
        wanted = dict(fingerprint=self.current, declaration=self.params['record'])
        before = dict((key, (self.recorded or {}).get(key)) for key in wanted)
        action = UNCHANGED if before == wanted else 'recorded'
        return [Step(name=self.params['path'], action=action, before=before, after=wanted)]

    def read_parts(self):
        parts = {}
        for key in self.params['sysctls']:
            parts['sysctl %s' % key] = files.read_text('/proc/sys/' + sysctl.canonical_key(key), default=None)
        for path in self.params['files']:
            parts['file %s' % path] = fingerprint.file_digest(path)
        for path in self.params['directories']:
            parts['directory %s' % path] = fingerprint.digest(fingerprint.directory_state(path))
        engine = EngineSocket(self.params['docker_host'], self.params['timeout'])
        try:
            info = engine.get('/info') or {}
            parts['engine'] = fingerprint.engine_state(info)
            inspected = self.read_networks(engine)
            manager = parts['engine']['swarm']['manager']
            for name, network in inspected.items():
                parts['network %s' % name] = fingerprint.network_state(network, manager)
            self.found_networks = [name for name, network in inspected.items()
                                   if network is not None and (manager or not fingerprint.swarm_scoped(network))]
            if self.params['swarm_nodes'] and manager:
                parts['swarm nodes'] = fingerprint.nodes_state(engine.get('/nodes'))
        finally:
            engine.close()
        parts['links'] = fingerprint.links_state(docker_devices=fingerprint.bridge_devices(inspected.values()))
        if self.params['routes']:
            parts['routes'] = fingerprint.routes_state(self.ip_json('route', 'show', 'table', 'all'),
                                                       self.ip_json('addr', 'show'),
                                                       fingerprint.bridge_devices(inspected.values()))
        return parts

    def read_networks(self, engine):
        """{name: inspect or None} by exact name (else full ID): GET /networks/<term> also answers an ID prefix,
        which would read another network (or fail as ambiguous) for a name such as ``db``."""
        if not self.params['networks']:
            return {}
        listed = engine.get('/networks') or []
        by_name = dict((network.get('Name'), network.get('Id')) for network in listed)
        ids = set(network.get('Id') for network in listed)
        found = {}
        for name in self.params['networks']:
            ident = by_name.get(name) or (name if name in ids else None)
            found[name] = engine.get('/networks/%s' % ident) if ident else None
        return found

    def ip_json(self, *args):
        rc, out, err = self.module.run_command(['ip', '-j', '-4'] + list(args))
        if rc != 0:
            raise HostError('ip -j -4 %s failed: %s' % (' '.join(args), (err or out).strip()))
        return self.module.from_json(out or '[]')

    def apply(self, step):
        now = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
        content = fingerprint.record(self.current, self.parts, self.params['record'], now)
        files.write_atomic(self.params['path'], self.module.jsonify(content) + '\n', mode=0o600, make_dirs=True,
                           dir_mode=0o700)
        return dict(recorded_at=now)

    def extra_result(self, steps):
        recorded = None
        if self.recorded:
            recorded = dict((key, self.recorded.get(key)) for key in ('fingerprint', 'declaration', 'recorded_at'))
        moved = fingerprint.moved_parts(self.parts, self.recorded) if self.supported else []
        return dict(supported=self.supported, fingerprint=self.current, parts=self.parts, recorded=recorded,
                    moved=moved, networks=self.found_networks)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    StateFingerprintDriver(module).run()


if __name__ == '__main__':
    main()
