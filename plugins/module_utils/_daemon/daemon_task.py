# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the daemon_config driver reads from the host and does to it: daemon.json, the engine's
version and swarm state, the unit's ExecStart (for the flag/file clash drop-in), ``dockerd
--validate``, and the two file steps. Restarting is the caller's business (roles/daemon): the
result says whether a restart or a reload is needed."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.netfleet.docker.plugins.module_utils._daemon import daemon_config as dc
from ansible_collections.netfleet.docker.plugins.module_utils._common import files
from ansible_collections.netfleet.docker.plugins.module_utils._common import lease
from ansible_collections.netfleet.docker.plugins.module_utils._common import versions
from ansible_collections.netfleet.docker.plugins.module_utils._common.driver import UNCHANGED, Step
from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import EngineError, HostError

DEFAULT_PATH = '/etc/docker/daemon.json'
DEFAULT_DROPIN = '/etc/systemd/system/docker.service.d/netfleet-daemon-flags.conf'
DEFAULT_LEASE = '/var/lib/netfleet/daemon.lease'

SWARM_ACTIVE_STATES = ('active', 'pending', 'locked', 'error')


@dataclass(frozen=True)
class DaemonState:
    """daemon.json as read, the merged configuration, and the facts its validation depends on."""

    text: Optional[str]
    current: Dict[str, Any]
    merged: Dict[str, Any]
    engine_version: Optional[str]
    swarm_active: bool
    swarm_source: str


@dataclass(frozen=True)
class FileWrite:
    """Payload of a file step: the new text (None removes the file) and whether to back it up first."""

    path: str
    text: Optional[str]
    backup: bool = False
    previous: Optional[str] = None


def read_state(module) -> DaemonState:
    """Read the file, merge the request into it, and find the engine version and swarm state."""
    params = module.params
    text = files.read_text(params['path'])
    current = dc.parse_config_text(text or '', params['path'])
    merged = dc.merged_config(current, params['options'], params['absent_keys'])
    version = engine_version(module)
    swarm_active, swarm_source = swarm_state(module, merged)
    return DaemonState(text=text, current=current, merged=merged, engine_version=version,
                       swarm_active=swarm_active, swarm_source=swarm_source)


def engine_version(module) -> Optional[str]:
    """The version the gates use: the engine_version option, else what `dockerd --version` says."""
    if module.params['engine_version']:
        return module.params['engine_version']
    dockerd = module.get_bin_path('dockerd')
    if not dockerd:
        module.warn('dockerd is not in PATH: version-gated keys (cluster-store, dockerd --validate) are not checked; '
                    'set engine_version')
        return None
    rc, out, err = module.run_command([dockerd, '--version'])
    version = dc.dockerd_version(out) if rc == 0 else None
    if not version:
        module.warn('cannot read the engine version from `dockerd --version`: %s' % (err or out).strip())
    return version


def swarm_state(module, merged: Dict[str, Any]) -> Tuple[bool, str]:
    """(part of a swarm?, where that comes from); asked only when a key of the file depends on it."""
    if module.params['swarm_active'] is not None:
        return module.params['swarm_active'], 'given'
    if not dc.needs_swarm_state(merged):
        return False, 'not needed'
    docker = module.get_bin_path('docker')
    if docker:
        rc, out, _err = module.run_command([docker, 'info', '--format', '{{.Swarm.LocalNodeState}}'])
        if rc == 0 and out.strip():
            return out.strip() in SWARM_ACTIVE_STATES, out.strip()
    data_root = merged.get('data-root') or '/var/lib/docker'
    if os.path.exists(os.path.join(data_root, 'swarm', 'state.json')):
        return True, 'swarm state in %s (engine not answering)' % data_root
    module.warn('the engine does not answer `docker info`; assuming it is not part of a swarm')
    return False, 'unknown'


def validation_problems(module, state: DaemonState) -> List[str]:
    params = module.params
    for advice in dc.forwarding_advice(state.merged):
        module.warn(advice)
    return dc.validate(params['options'], state.merged, engine_version=state.engine_version,
                       swarm_active=state.swarm_active, allow_insecure_tcp=params['allow_insecure_tcp'],
                       allow_unknown_keys=params['allow_unknown_keys'])


def _unit_text(module) -> Optional[str]:
    """`systemctl cat` of the engine's unit, or None (with a warning) when it cannot be read."""
    systemctl = module.get_bin_path('systemctl')
    if not systemctl:
        module.warn('systemctl not found: service flags that clash with daemon.json are not checked')
        return None
    rc, out, err = module.run_command([systemctl, 'cat', '--no-pager', module.params['service']])
    if rc != 0:
        module.warn('cannot read the unit %s (%s): service flags that clash with daemon.json are not checked'
                    % (module.params['service'], (err or out).strip()))
        return None
    return out


def wanted_dropin(module, merged: Dict[str, Any]) -> Tuple[Optional[str], Optional[str], List[str]]:
    """(wanted drop-in text or None, current text or None, removed flags) for the service.

    When the clash cannot be checked, the drop-in is left as it is (wanted == current).
    """
    params = module.params
    current = files.read_text(params['dropin_path'])
    if not params['manage_dropin']:
        return current, current, []
    unit_text = _unit_text(module)
    if unit_text is None:
        return current, current, []
    base = dc.effective_exec_start(unit_text, skip_path=params['dropin_path'])
    if not base:
        return None, current, []
    new_exec, removed = dc.strip_flags(base, list(merged))
    if not removed:
        return None, current, []
    return dc.render_dropin(new_exec, removed), current, removed


def dockerd_validate(module, merged: Dict[str, Any], version: Optional[str]) -> bool:
    """Check the merged file with `dockerd --validate` (engines from 23.0); True when it was checked."""
    if not module.params['dockerd_validate'] or not version \
            or not versions.engine_has(versions.GATES['dockerd_validate'], versions.parse_version(version)):
        return False
    dockerd = module.get_bin_path('dockerd')
    if not dockerd:
        return False
    handle, tmp = tempfile.mkstemp(prefix='daemon.json.', dir=module.tmpdir)
    try:
        with os.fdopen(handle, 'w') as out:
            out.write(dc.render_config(merged))
        rc, out, err = module.run_command([dockerd, '--validate', '--config-file', tmp])
    finally:
        os.unlink(tmp)
    if rc != 0:
        # EngineError keeps the message as it is (it says itself that nothing was changed).
        raise EngineError('dockerd --validate refused the new %s, nothing was changed: %s'
                          % (module.params['path'], (err or out).strip().replace(tmp, module.params['path'])),
                          config=merged)
    return True


def config_step(module, state: DaemonState) -> Step:
    """The daemon.json step: created, updated or unchanged, with the changed top-level keys."""
    path = module.params['path']
    keys = dc.changed_keys(state.current, state.merged)
    action = ('created' if state.text is None else 'updated') if keys else UNCHANGED
    new_text = dc.render_config(state.merged)
    return Step(name=path, action=action, changes=tuple(keys),
                before=dc.render_config(state.current) if state.text is not None else '', after=new_text,
                payload=FileWrite(path, new_text, backup=state.text is not None and module.params['backup'],
                                  previous=state.text))


def dropin_step(module, merged: Dict[str, Any]) -> Step:
    """The clash drop-in step: written, removed or unchanged, with the flags it leaves out."""
    wanted, current, removed_flags = wanted_dropin(module, merged)
    changed = (wanted or None) != (current or None)
    action = ('removed' if wanted is None else 'written') if changed else UNCHANGED
    return Step(name=module.params['dropin_path'], action=action, before=current or '', after=wanted or '',
                changes=tuple(removed_flags), payload=FileWrite(module.params['dropin_path'], wanted, previous=current))


def apply_file(module, write: FileWrite) -> Dict[str, Any]:
    """Back up (when asked), then write or remove the file durably; the backup's path for the result."""
    if write.text is None:
        files.remove_durably(write.path)
        return {}
    backup_file = module.backup_local(write.path) if write.backup else None
    try:
        files.write_atomic(write.path, write.text, mode=_mode_of(write.path), make_dirs=True)
    except OSError as exc:   # creating the directory (write_atomic reports its own failures as HostError)
        raise HostError('cannot write %s: %s' % (write.path, exc))
    return dict(backup_file=backup_file) if write.backup else {}


def _mode_of(path: str, default: int = 0o644) -> int:
    """Keep the mode of a file being replaced (an operator may have narrowed it)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return default


def result_keys(state: DaemonState, config: Step, dropin: Step, backup_file: Optional[str],
                validated: bool) -> Dict[str, Any]:
    """The module's own result keys (what roles/daemon reads to restart, wait and roll back)."""
    restart = 'restart' if dropin.changes_host else dc.restart_kind(config.changes)
    return dict(
        config=state.merged,
        changed_keys=list(config.changes),
        restart=restart,
        backup_file=backup_file,
        previous_file_existed=state.text is not None,
        dropin=dict(path=dropin.name, changed=dropin.changes_host, before=dropin.payload.previous,
                    after=dropin.payload.text, removed_flags=list(dropin.changes)),
        engine_version=state.engine_version,
        swarm_active=state.swarm_active,
        swarm_source=state.swarm_source,
        dockerd_validated=validated,
    )


class RunLease:
    """This run's lease on the host's engine configuration (``lease_owner``; nothing when unset)."""

    def __init__(self, params: Dict[str, Any]):
        self.owner = params.get('lease_owner')
        self.config_path = params.get('path') or DEFAULT_PATH
        self.path = params.get('lease_path') or DEFAULT_LEASE
        self.seconds = params.get('lease_seconds') or lease.DEFAULT_SECONDS
        self.taken = False
        self.took_over: Optional[lease.Lease] = None

    def refuse_if_held(self) -> None:
        """Before planning a change (check mode too): refuse when another run holds the lease."""
        if not self.owner:
            return
        holder = lease.held_by_other(self.path, self.owner)
        if holder is not None:
            raise lease.LeaseHeld(['%s: another %s holds the lease %s of this engine\'s configuration; nothing was '
                                   'changed. Rerun when it has finished, or delete %s if that run is gone (the lease '
                                   'also expires by itself)' % (self.config_path, holder.describe(), self.path, self.path)],
                                  lease_holder=holder.as_dict())

    def take(self) -> None:
        if self.owner and not self.taken:
            self.took_over = lease.take(self.path, self.owner, self.seconds, what='daemon_config')
            self.taken = True

    def result(self) -> Dict[str, Any]:
        if not self.owner:
            return {}
        took_over = self.took_over.as_dict() if self.took_over is not None else None
        return dict(lease=dict(path=self.path, owner=self.owner, taken=self.taken, took_over=took_over))
