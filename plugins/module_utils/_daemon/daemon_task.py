# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The daemon_config task: read daemon.json, merge, validate, back up, write, and the drop-in
that keeps a service flag from clashing with the file. Restarting is the caller's business
(roles/daemon): the result says whether a restart or a reload is needed."""

from __future__ import annotations

import os
import tempfile

from ansible_collections.netfleet.docker.plugins.module_utils._daemon import daemon_config as dc
from ansible_collections.netfleet.docker.plugins.module_utils._common.client import parse_version
from ansible_collections.netfleet.docker.plugins.module_utils._common.outcome import UNCHANGED, Outcome, fail_with_problems

DEFAULT_PATH = '/etc/docker/daemon.json'
DEFAULT_DROPIN = '/etc/systemd/system/docker.service.d/netfleet-daemon-flags.conf'

ARGUMENT_SPEC = dict(
    path=dict(type='path', default=DEFAULT_PATH),
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
    dropin_path=dict(type='path', default=DEFAULT_DROPIN),
)

SWARM_ACTIVE_STATES = ('active', 'pending', 'locked', 'error')


def _read(path):
    if not os.path.exists(path):
        return None
    with open(path, 'r') as handle:
        return handle.read()


def _engine_version(module):
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


def _swarm_active(module, merged):
    if module.params['swarm_active'] is not None:
        return module.params['swarm_active'], 'given'
    if merged.get('live-restore') is not True and not merged.get('cluster-store'):
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


def _dropin(module, merged):
    """(wanted drop-in text or None, current text or None, removed flags) for the service."""
    params = module.params
    current = _read(params['dropin_path'])
    if not params['manage_dropin']:
        return current, current, []
    systemctl = module.get_bin_path('systemctl')
    if not systemctl:
        module.warn('systemctl not found: service flags that clash with daemon.json are not checked')
        return current, current, []
    rc, out, err = module.run_command([systemctl, 'cat', '--no-pager', params['service']])
    if rc != 0:
        module.warn('cannot read the unit %s (%s): service flags that clash with daemon.json are not checked'
                    % (params['service'], (err or out).strip()))
        return current, current, []
    base = dc.effective_exec_start(out, skip_path=params['dropin_path'])
    if not base:
        return None, current, []
    new_exec, removed = dc.strip_flags(base, list(merged))
    if not removed:
        return None, current, []
    return dc.render_dropin(new_exec, removed), current, removed


def _dockerd_validate(module, merged, engine_version):
    if not module.params['dockerd_validate'] or not engine_version or parse_version(engine_version) < (23, 0):
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
        module.fail_json(msg='dockerd --validate refused the new %s, nothing was changed: %s'
                         % (module.params['path'], (err or out).strip().replace(tmp, module.params['path'])),
                         config=merged)
    return True


def _write(module, path, text, mode='0644'):
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    handle, tmp = tempfile.mkstemp(prefix='.netfleet.', dir=directory)
    with os.fdopen(handle, 'w') as out:
        out.write(text)
    module.set_mode_if_different(tmp, mode, False)
    module.atomic_move(tmp, path)


def run(module):
    params = module.params
    path = params['path']
    text = _read(path)
    try:
        current = dc.parse_config_text(text or '', path)
    except dc.ConfigError as exc:
        module.fail_json(msg=str(exc))
    merged = dc.merged_config(current, params['options'], params['absent_keys'])
    engine_version = _engine_version(module)
    swarm_active, swarm_source = _swarm_active(module, merged)
    problems = dc.validate(params['options'], merged, engine_version=engine_version, swarm_active=swarm_active,
                           allow_insecure_tcp=params['allow_insecure_tcp'],
                           allow_unknown_keys=params['allow_unknown_keys'])
    if problems:
        fail_with_problems(module, problems, say_unchanged_for_one=True, engine_version=engine_version, swarm_active=swarm_active)

    keys = dc.changed_keys(current, merged)
    file_changed = bool(keys)
    dropin_wanted, dropin_current, removed_flags = _dropin(module, merged)
    dropin_changed = (dropin_wanted or None) != (dropin_current or None)
    validated = _dockerd_validate(module, merged, engine_version) if file_changed else False

    outcome = Outcome('file')
    outcome.record(path, ('created' if text is None else 'updated') if file_changed else UNCHANGED,
                   before=dc.render_config(current) if text is not None else '',
                   after=dc.render_config(merged), changes=keys)
    outcome.record(params['dropin_path'],
                   ('removed' if dropin_wanted is None else 'written') if dropin_changed else UNCHANGED,
                   before=dropin_current or '', after=dropin_wanted or '', changes=removed_flags)

    backup_file = None
    if not module.check_mode:
        if file_changed:
            if text is not None and params['backup']:
                backup_file = module.backup_local(path)
            _write(module, path, dc.render_config(merged))
        if dropin_changed:
            if dropin_wanted is None:
                os.unlink(params['dropin_path'])
            else:
                _write(module, params['dropin_path'], dropin_wanted)

    restart = dc.restart_kind(keys)
    if dropin_changed:
        restart = 'restart'
    module.exit_json(**outcome.result(
        module._diff,
        config=merged,
        changed_keys=keys,
        restart=restart,
        backup_file=backup_file,
        previous_file_existed=text is not None,
        dropin=dict(path=params['dropin_path'], changed=dropin_changed, before=dropin_current,
                    after=dropin_wanted, removed_flags=removed_flags),
        engine_version=engine_version,
        swarm_active=swarm_active,
        swarm_source=swarm_source,
        dockerd_validated=validated,
    ))
