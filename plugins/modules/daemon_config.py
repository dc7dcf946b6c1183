#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: daemon_config
short_description: Merge, validate and write Docker's daemon.json, with the service-flag clash resolved
version_added: 0.1.0
description:
  - Deep-merges O(options) into C(/etc/docker/daemon.json) (mappings merge key by key, lists and
    scalars are replaced) and writes the result only when it differs from what the file holds.
  - Validates before anything is written; every problem is reported at once and nothing changes.
    Known keys are checked for their value shape (C(bip) is an address with prefix, C(fixed-cidr) a
    network inside it, C(default-address-pools) items are C({base, size}), C(mtu) 68-65535, C(dns)
    addresses, C(hosts) URLs, booleans are booleans, C(firewall-backend) is C(iptables) or C(nftables)),
    unknown keys are refused, and with engines from 23.0 the merged file is checked by C(dockerd --validate).
  - Keys are gated on the engine version, because dockerd does not start with a key it does not
    know. C(cluster-store), C(cluster-advertise), C(cluster-store-opts) exist only before Docker 23.0;
    C(default-network-opts) from 24.0; C(bip6), C(host-gateway-ips), C(ip-forward-no-drop) from 28.0;
    C(allow-direct-routing) from 28.2; C(firewall-backend), C(bridge-accept-fwmark), C(min-api-version)
    from 29.0. C(ip6tables=true) needs C(experimental=true) before 27.0. The message names the key and
    the version that has it (or removed it).
  - Refuses C(tcp://) hosts without TLS client verification unless O(allow_insecure_tcp=true), and
    C(live-restore) or C(cluster-store) on an engine that is part of a swarm.
  - Refuses C(firewall-backend=nftables) on an engine that is part of a swarm (Docker 29 has no nftables
    rules for overlay networks and dockerd would not start) unless C(features) has C(swarm-nftables=true),
    which needs Docker 29.6 or later; C(iptables=false) (Docker writes no rules) is accepted.
  - With C(firewall-backend=nftables) dockerd no longer turns IP forwarding on itself and refuses to
    create bridge networks while it is off; the task warns, so that M(netfleet.docker.ip_forward) runs first.
  - When a key of the file is also set by a flag of the service's C(ExecStart) (C(-H fd://) and
    C(hosts) is the classic case; dockerd refuses to start on such a clash) writes a systemd drop-in
    that overrides C(ExecStart) without the clashing flag, and removes the drop-in when the clash is gone.
  - Backs up the previous file. Does not restart the engine; RV(restart) says whether the change
    needs a restart, a reload (SIGHUP) or nothing. The role C(netfleet.docker.daemon) restarts,
    waits and rolls back.
  - With O(lease_owner), one run at a time changes a host's engine configuration. Before it writes, the
    task takes a lease (O(lease_path)) naming O(lease_owner); while another run holds an unexpired lease, a
    task that would change something fails naming that run, and changes nothing (in check mode too). The
    caller removes the lease when its change is done (the role does, after the restart and the wait, or
    after the rollback); a lease whose run died expires after O(lease_seconds).
options:
  path:
    description: The daemon configuration file.
    type: path
    default: /etc/docker/daemon.json
  options:
    description:
      - Keys to set, deep-merged into what the file holds. Keys use the daemon.json spelling
        (C(default-address-pools), C(live-restore)).
    type: dict
    default: {}
  absent_keys:
    description: Top-level keys to remove from the file (after the merge).
    type: list
    elements: str
    default: []
  backup:
    description: Keep a timestamped copy of the previous file next to it (RV(backup_file)).
    type: bool
    default: true
  dockerd_validate:
    description:
      - Check the merged file with C(dockerd --validate --config-file) before writing it, on engines
        that have it (23.0 and later). Older engines are checked by this module's own validation only.
    type: bool
    default: true
  allow_insecure_tcp:
    description:
      - Accept C(tcp://) entries in C(hosts) without C(tlsverify=true) and the three TLS files. Anyone
        who reaches such a port is root on the host.
    type: bool
    default: false
  allow_unknown_keys:
    description: Write keys this module does not know (only their JSON is checked, by dockerd where it can).
    type: bool
    default: false
  engine_version:
    description:
      - Engine version for the version gates. Default is what C(dockerd --version) says.
    type: str
  swarm_active:
    description:
      - Whether the engine is part of a swarm. Default is asked with C(docker info) when it matters
        (C(live-restore), C(cluster-store) or C(firewall-backend=nftables) in the merged file).
    type: bool
  service:
    description: The systemd unit of the engine, whose C(ExecStart) is checked for clashing flags.
    type: str
    default: docker.service
  manage_dropin:
    description: Write (or remove) the drop-in that resolves a flag/file clash.
    type: bool
    default: true
  dropin_path:
    description: The drop-in this module owns.
    type: path
    default: /etc/systemd/system/docker.service.d/netfleet-daemon-flags.conf
  lease_owner:
    description:
      - A token naming this run (the same for every task of the run on this host). When set, a change is
        written only under this run's lease (see the description); unset, no lease is read or taken.
    type: str
  lease_seconds:
    description: How long the lease lasts when its run never removes it (the controller died).
    type: int
    default: 900
  lease_path:
    description: The lease file (JSON, mode 0600; its directory is created mode 0700).
    type: path
    default: /var/lib/netfleet/daemon.lease
notes:
  - Only the drop-in at O(dropin_path) is managed; flags given through C($DOCKER_OPTS) in
    C(/etc/default/docker) are not inspected.
  - After a changed drop-in, run C(systemctl daemon-reload) before restarting (the role does).
attributes:
  check_mode:
    support: full
    description: Reports what would be written, the changed keys and the restart that would be needed.
  diff_mode:
    support: full
    description: Before and after of the file (normalized JSON) and of the drop-in.
author:
  - netfleet.docker contributors (@netfleet)
seealso:
  - module: netfleet.docker.docker_net_info
  - module: netfleet.docker.ip_forward
'''

EXAMPLES = r'''
- name: Bridge address and local address pools
  netfleet.docker.daemon_config:
    options:
      bip: 172.26.0.1/16
      default-address-pools:
        - {base: 10.201.0.0/16, size: 24}
  register: daemon

- name: Restart only when the change needs it
  ansible.builtin.systemd_service:
    name: docker
    state: restarted
    daemon_reload: "{{ daemon.dropin.changed }}"
  when: daemon.restart == 'restart'

- name: Listen on TLS as well (the -H fd:// flag of the unit is moved out by a drop-in)
  netfleet.docker.daemon_config:
    options:
      hosts: [unix:///var/run/docker.sock, tcp://0.0.0.0:2376]
      tlsverify: true
      tlscacert: /etc/docker/tls/ca.pem
      tlscert: /etc/docker/tls/cert.pem
      tlskey: /etc/docker/tls/key.pem

- name: nftables firewall backend (Docker 29.0+; on a swarm member also features.swarm-nftables, 29.6+)
  netfleet.docker.daemon_config:
    options:
      firewall-backend: nftables
      features:
        swarm-nftables: true

- name: Legacy KV-store overlay (engines before 23.0)
  netfleet.docker.daemon_config:
    options:
      cluster-store: etcd://10.0.0.11:2379
      cluster-advertise: eth0:2376
'''

RETURN = r'''
config:
  description: The merged configuration (what the file holds after the task, or would in check mode).
  returned: success
  type: dict
changed_keys:
  description: Top-level keys that were added, removed or changed.
  returned: success
  type: list
  elements: str
  sample: [bip, default-address-pools]
restart:
  description: What the engine needs to apply the change.
  returned: success
  type: str
  choices: [none, reload, restart]
backup_file:
  description: The copy of the previous file (none when nothing was written or there was no file).
  returned: success
  type: str
previous_file_existed:
  description: Whether the file existed before the task.
  returned: success
  type: bool
dropin:
  description: The drop-in that resolves a flag/file clash.
  returned: success
  type: dict
  contains:
    path:
      description: Its path.
      type: str
    changed:
      description: Whether it was written or removed.
      type: bool
    before:
      description: Its previous content (none when it did not exist).
      type: str
    after:
      description: Its content after the task (none when it is not needed).
      type: str
    removed_flags:
      description: The flags of C(ExecStart) that the drop-in leaves out.
      type: list
      elements: str
      sample: ['-H fd://']
engine_version:
  description: The engine version the gates used.
  returned: always
  type: str
  sample: 20.10.24+dfsg1
swarm_active:
  description: Whether the engine is taken as part of a swarm.
  returned: always
  type: bool
swarm_source:
  description: Where RV(swarm_active) comes from (the swarm state of C(docker info), C(given), C(not needed)).
  returned: success
  type: str
dockerd_validated:
  description: Whether C(dockerd --validate) checked the new file.
  returned: success
  type: bool
files:
  description: One record per file this module owns (daemon.json, then the drop-in), in apply order.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The file's path.
      type: str
    action:
      description: C(created), C(updated), C(written), C(removed) or C(unchanged).
      type: str
    changes:
      description: The changed top-level keys (daemon.json) or the flags the drop-in leaves out.
      type: list
      elements: str
lease:
  description:
    - The lease of this run when O(lease_owner) is set. RV(lease.taken) says whether this task took (or
      renewed) it; the caller removes RV(lease.path) when its change is done.
  returned: success and O(lease_owner) is set
  type: dict
  contains:
    path:
      description: The lease file.
      type: str
    owner:
      description: O(lease_owner).
      type: str
    taken:
      description: Whether this task holds the lease now (it wrote a change).
      type: bool
    took_over:
      description: The expired lease of another run this task replaced (none when there was none).
      type: dict
lease_holder:
  description: The run that holds the lease, when the task was refused because of it.
  returned: failure
  type: dict
problems:
  description: Every problem found while validating a failed request.
  returned: failure
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netfleet.docker.plugins.module_utils._common import lease
from ansible_collections.netfleet.docker.plugins.module_utils._common.driver import Driver
from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import ValidationError
from ansible_collections.netfleet.docker.plugins.module_utils._daemon import daemon_task

ARGUMENT_SPEC = dict(
    path=dict(type='path', default=daemon_task.DEFAULT_PATH),
    options=dict(type='dict', default={}),
    absent_keys=dict(type='list', elements='str', default=[], no_log=False),
    backup=dict(type='bool', default=True),
    dockerd_validate=dict(type='bool', default=True),
    allow_insecure_tcp=dict(type='bool', default=False),
    allow_unknown_keys=dict(type='bool', default=False),
    engine_version=dict(type='str'),
    swarm_active=dict(type='bool'),
    service=dict(type='str', default='docker.service'),
    manage_dropin=dict(type='bool', default=True),
    dropin_path=dict(type='path', default=daemon_task.DEFAULT_DROPIN),
    lease_owner=dict(type='str'),
    lease_seconds=dict(type='int', default=lease.DEFAULT_SECONDS),
    lease_path=dict(type='path', default=daemon_task.DEFAULT_LEASE),
)


class DaemonConfigDriver(Driver):
    """daemon.json and the clash drop-in: two file steps, planned after the merged file validates."""

    kind = 'file'
    records_key = 'files'
    one_problem_suffix = '; nothing was changed'

    def validate(self):
        self.state = daemon_task.read_state(self.module)
        problems = daemon_task.validation_problems(self.module, self.state)
        if problems:
            # Raised rather than returned: the failure reports the version and swarm state it used.
            raise ValidationError(problems, engine_version=self.state.engine_version,
                                  swarm_active=self.state.swarm_active)
        return []

    def plan(self):
        config = daemon_task.config_step(self.module, self.state)
        dropin = daemon_task.dropin_step(self.module, self.state.merged)
        self.validated = config.changes_host and daemon_task.dockerd_validate(
            self.module, self.state.merged, self.state.engine_version)
        self.run_lease = daemon_task.RunLease(self.module.params)
        if config.changes_host or dropin.changes_host:
            self.run_lease.refuse_if_held()
        return (config, dropin)

    def apply(self, step):
        self.run_lease.take()   # before the first write: the lease then covers the restart that follows
        return daemon_task.apply_file(self.module, step.payload)

    def diff(self, step):
        # The texts themselves (normalized JSON, the drop-in), not mappings.
        return dict(before=step.before, after=step.after, before_header='file %s (before)' % step.name,
                    after_header='file %s (%s)' % (step.name, step.action))

    def extra_result(self, steps):
        config, dropin = steps
        backup_file = dict((id(step), details) for step, details in self.applied).get(id(config), {}).get('backup_file')
        result = daemon_task.result_keys(self.state, config, dropin, backup_file, self.validated)
        result.update(self.run_lease.result())
        return result


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    DaemonConfigDriver(module).run()


if __name__ == '__main__':
    main()
