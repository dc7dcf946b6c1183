# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ip_forward task: forwarding sysctls, accept_ra on uplinks and bridge netfilter, applied
at runtime and persisted in a sysctl.d file whose value really wins at boot.

parameters -> validated request (every problem collected, nothing touched) -> per-key plan
(runtime and file, before and after) -> boot-order check of the new file -> apply -> result.
"""

from __future__ import annotations

import os
import tempfile

from ansible_collections.netfleet.docker.plugins.module_utils._host import hostnet
from ansible_collections.netfleet.docker.plugins.module_utils._host import sysctl
from ansible_collections.netfleet.docker.plugins.module_utils._common.outcome import UNCHANGED, Outcome, fail_with_problems

IPV4_FORWARD = 'net/ipv4/ip_forward'
IPV6_FORWARD = 'net/ipv6/conf/all/forwarding'
BRIDGE_KEYS = ('net/bridge/bridge-nf-call-iptables', 'net/bridge/bridge-nf-call-ip6tables')
MODULES_LOAD_DIRS = ('/etc/modules-load.d', '/run/modules-load.d', '/usr/local/lib/modules-load.d',
                     '/usr/lib/modules-load.d', '/lib/modules-load.d')
BR_NETFILTER = 'br_netfilter'
FILE_HEADER = ('Managed by netfleet.docker.ip_forward: forwarding for Docker networks.\n'
               'Edit the task, not this file; other keys in it are kept.')

DEFAULT_SYSCTL_FILE = '/etc/sysctl.d/90-netfleet-forwarding.conf'
DEFAULT_MODULES_LOAD_FILE = '/etc/modules-load.d/netfleet-br_netfilter.conf'


def argument_spec():
    return dict(
        ipv4=dict(type='bool'),
        ipv6=dict(type='bool'),
        interfaces=dict(type='list', elements='dict', options=dict(
            name=dict(type='str', required=True),
            ipv4=dict(type='bool'),
            ipv6=dict(type='bool'),
        )),
        uplinks=dict(type='list', elements='str'),
        bridge_netfilter=dict(type='bool'),
        apply=dict(type='str', default='both', choices=['both', 'runtime', 'persistent']),
        sysctl_file=dict(type='path', default=DEFAULT_SYSCTL_FILE),
        modules_load_file=dict(type='path', default=DEFAULT_MODULES_LOAD_FILE),
        on_override=dict(type='str', default='fail', choices=['fail', 'warn']),
    )


class Request:
    """A validated ip_forward request: the keys to set, in the order they must be set."""

    def __init__(self, params, proc=sysctl.PROC_SYS, probe_module=None):
        self.params = params
        self.proc = proc
        self.problems = []
        self.warnings = []
        self.runtime = params['apply'] in ('both', 'runtime')
        self.persistent = params['apply'] in ('both', 'persistent')
        self.sysctl_file = self._checked_file(params['sysctl_file'], sysctl.SYSCTL_DIRS, 'sysctl_file',
                                              'systemd-sysctl and sysctl --system never read', '/etc/sysctl.d')
        self.modules_load_file = None
        if params.get('bridge_netfilter') and self.persistent:
            self.modules_load_file = self._checked_file(params['modules_load_file'], MODULES_LOAD_DIRS, 'modules_load_file',
                                                        'systemd-modules-load never reads', '/etc/modules-load.d')
        self.load_br_netfilter = False
        self.wanted = self._wanted(probe_module)

    def _checked_file(self, path, dirs, option, why, usual):
        path = os.path.normpath(path or '')
        directory = os.path.dirname(path)
        if not os.path.isabs(path):
            self.problems.append("%s '%s' is not an absolute path; give e.g. %s/90-netfleet.conf" % (option, path, usual))
        elif directory not in dirs:
            self.problems.append("%s '%s' is in %s, which %s; put it in one of %s (normally %s)"
                                 % (option, path, directory, why, ', '.join(dirs), usual))
        elif not path.endswith('.conf'):
            self.problems.append("%s '%s' does not end in .conf, so it would be ignored at boot; name it e.g. %s/90-netfleet.conf"
                                 % (option, path, usual))
        return path

    def _interface_known(self, name, option):
        if not name or '/' in name or name in ('.', '..') or len(name) > 15 or any(char.isspace() for char in name):
            self.problems.append("%s '%s' is not a valid interface name (1-15 characters, no '/' or spaces)" % (option, name))
            return False
        if not os.path.isdir(os.path.join(self.proc, 'net/ipv4/conf', name)) and \
                not os.path.isdir(os.path.join(self.proc, 'net/ipv6/conf', name)):
            self.problems.append("%s '%s' does not exist on this host (it has: %s); fix the name or create the interface first"
                                 % (option, name, ', '.join(self.interface_names()) or 'none'))
            return False
        return True

    def interface_names(self):
        names = set()
        for family in (4, 6):
            try:
                names.update(entry for entry in os.listdir(os.path.join(self.proc, 'net/ipv%d/conf' % family))
                             if entry not in ('all', 'default'))
            except OSError:
                pass
        return sorted(names)

    def _wanted(self, probe_module):
        params = self.params
        wanted = []   # (key, value, ignore_errors at boot)
        ipv6_on = params.get('ipv6') is True
        ipv6_used = params.get('ipv6') is not None or any(item.get('ipv6') is not None for item in params.get('interfaces') or [])
        if ipv6_used and not os.path.isdir(os.path.join(self.proc, 'net/ipv6')):
            self.problems.append('IPv6 is disabled in this kernel (no %s/net/ipv6; booted with ipv6.disable=1?); '
                                 'drop the ipv6 options or enable IPv6 first' % self.proc)
        nothing = all(params.get(key) is None for key in ('ipv4', 'ipv6', 'bridge_netfilter')) and not params.get('interfaces')
        if nothing:
            self.problems.append('ip_forward: nothing to manage; set at least one of ipv4, ipv6, interfaces, bridge_netfilter')

        uplinks = params.get('uplinks') or []
        if len(set(uplinks)) != len(uplinks):
            self.problems.append('uplinks lists an interface twice (%s); list each once' % ', '.join(uplinks))
        for name in uplinks:
            if self._interface_known(name, 'uplink') and ipv6_on:
                # Set before forwarding goes on, so the RA-learned default route never lapses.
                wanted.append((sysctl.interface_key(6, name, 'accept_ra'), '2', True))
        if uplinks and not ipv6_on:
            self.warnings.append('uplinks (%s) only matter with ipv6: true (accept_ra is kept at 2 then); they were left alone'
                                 % ', '.join(uplinks))

        bridge = params.get('bridge_netfilter')
        if bridge is not None:
            loaded = os.path.exists(os.path.join(self.proc, BRIDGE_KEYS[0]))
            if bridge and not loaded:
                error = probe_module(BR_NETFILTER) if probe_module else 'cannot probe kernel modules here'
                if error:
                    self.problems.append('bridge_netfilter: the br_netfilter kernel module is not loaded and cannot be loaded (%s); '
                                         'install the kernel modules package for this kernel (or load it on the host when this '
                                         'is a container), or drop bridge_netfilter' % error)
                else:
                    self.load_br_netfilter = self.runtime   # persistent only: modules-load.d loads it at boot
            for key in BRIDGE_KEYS:
                wanted.append((key, '1' if bridge else '0', True))

        for key, option in ((IPV4_FORWARD, 'ipv4'), (IPV6_FORWARD, 'ipv6')):
            if params.get(option) is not None:
                wanted.append((key, '1' if params[option] else '0', False))

        seen = set()
        for item in params.get('interfaces') or []:
            name = item['name']
            if name in seen:
                self.problems.append("interfaces lists '%s' twice; list it once" % name)
                continue
            seen.add(name)
            if item.get('ipv4') is None and item.get('ipv6') is None:
                self.problems.append("interfaces entry '%s' sets neither ipv4 nor ipv6; set one of them or drop it" % name)
                continue
            if not self._interface_known(name, 'interface'):
                continue
            for family, option in ((4, 'ipv4'), (6, 'ipv6')):
                if item.get(option) is not None:
                    # The interface may come later at boot (udev re-runs systemd-sysctl for it): ignore errors there.
                    wanted.append((sysctl.interface_key(family, name, 'forwarding'), '1' if item[option] else '0', True))
        return wanted

    def routed_interfaces(self, family):
        """Interfaces whose forwarding this request turns on, for the FORWARD policy warning."""
        option = 'ipv%d' % family
        names = [item['name'] for item in self.params.get('interfaces') or [] if item.get(option)]
        if self.params.get(option):
            return ['every interface']
        return names


def _read_text(path):
    try:
        with open(path, 'r', encoding='utf-8') as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def _write_file(module, path, text, mode=0o644):
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    handle, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(handle, 'w', encoding='utf-8') as stream:
            stream.write(text)
        os.chmod(tmp, mode)
        module.atomic_move(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _probe_module(run):
    def probe(name):
        rc, out, err = run(['modprobe', '-n', '-q', name])
        if rc == 0:
            return None
        return (err or out).strip() or 'modprobe -n %s exited %d' % (name, rc)
    return probe


def plan(request, file_text, proc=sysctl.PROC_SYS, root='/'):
    """Per-key before/after and the new file text; overrides found at boot. Pure apart from reading files."""
    current_file = sysctl.file_values(file_text or '')
    new_text = sysctl.render(file_text or '', request.wanted, FILE_HEADER) if request.persistent else file_text
    new_file = sysctl.file_values(new_text or '')
    keys = []
    for key, value, dummy in request.wanted:
        runtime_before = sysctl.read_runtime(key, proc)
        runtime_after = runtime_before
        runtime_change = False
        if request.runtime and runtime_before is not None and runtime_before != value:
            runtime_after, runtime_change = value, True
        elif request.runtime and runtime_before is None and request.load_br_netfilter and key in BRIDGE_KEYS:
            runtime_after, runtime_change = value, True   # the key appears when br_netfilter is loaded
        file_before = current_file.get(key)
        file_after = new_file.get(key) if request.persistent else file_before
        keys.append(dict(key=key, wanted=value, runtime_before=runtime_before, runtime_after=runtime_after,
                         runtime_change=runtime_change, file_before=file_before, file_after=file_after,
                         file_change=request.persistent and file_before != file_after))
    overrides = []
    shadowed = None
    if request.persistent:
        shadowed = sysctl.shadowing_file(request.sysctl_file, root)
        boot = sysctl.BootView(root, replace={request.sysctl_file: new_text})
        for key, value, dummy in request.wanted:
            for item in boot.overrides(key, request.sysctl_file, value):
                overrides.append(dict(key=sysctl.display_key(key), wanted=value, value=item['value'],
                                      file=item['shown'], line=item['line']))
    return keys, new_text, overrides, shadowed


def override_message(request, overrides, shadowed):
    parts = []
    if shadowed:
        parts.append('%s is never read at boot because %s takes its place; choose another name for sysctl_file'
                     % (request.sysctl_file, shadowed))
    for item in overrides:
        parts.append('%s:%s sets %s = %s, read at boot after %s (which sets %s); remove or change that line, '
                     'or name sysctl_file so it sorts after it'
                     % (item['file'], item['line'], item['key'], item['value'], request.sysctl_file, item['wanted']))
    return parts


def run(module):
    runner = hostnet.module_runner(module)
    request = Request(module.params, probe_module=_probe_module(runner))
    for warning in request.warnings:
        module.warn(warning)
    if request.problems:
        fail_with_problems(module, request.problems, say_unchanged_for_one=True)

    file_text = _read_text(request.sysctl_file) if request.persistent else None
    keys, new_text, overrides, shadowed = plan(request, file_text)
    override_problems = override_message(request, overrides, shadowed)
    if override_problems:
        if module.params['on_override'] == 'fail':
            fail_with_problems(module, override_problems, overrides=overrides, say_unchanged_for_one=True)
        for text in override_problems:
            module.warn('on boot, ' + text)

    outcome = Outcome('sysctl')
    for item in keys:
        changed = item['runtime_change'] or item['file_change']
        before = dict(runtime=item['runtime_before'])
        after = dict(runtime=item['runtime_after'])
        if request.persistent:
            before[request.sysctl_file] = item['file_before']
            after[request.sysctl_file] = item['file_after']
        outcome.record(sysctl.display_key(item['key']), 'changed' if changed else UNCHANGED, before=before, after=after,
                       changes=[part for part, flag in (('runtime', item['runtime_change']), ('file', item['file_change'])) if flag],
                       value=item['wanted'], runtime_before=item['runtime_before'], runtime_after=item['runtime_after'],
                       file_before=item['file_before'], file_after=item['file_after'])

    modules_text = None
    if request.load_br_netfilter:
        outcome.record(BR_NETFILTER, 'loaded', before=dict(loaded=False), after=dict(loaded=True), changes=['module'])
    if request.modules_load_file:
        old = _read_text(request.modules_load_file)
        lines = (old or '').splitlines()
        if BR_NETFILTER not in [line.strip() for line in lines]:
            modules_text = '\n'.join(lines + [BR_NETFILTER]) + '\n'
        outcome.record(request.modules_load_file, 'changed' if modules_text is not None else UNCHANGED,
                       before=dict(content=old or ''), after=dict(content=modules_text if modules_text is not None else old or ''),
                       changes=['content'] if modules_text is not None else [])

    if not module.check_mode:
        try:
            if request.load_br_netfilter:
                rc, out, err = runner(['modprobe', BR_NETFILTER])
                if rc != 0:
                    module.fail_json(msg='cannot load the br_netfilter kernel module: %s; nothing else was changed'
                                     % (err or out).strip())
            for item in keys:
                if item['runtime_change']:
                    sysctl.write_runtime(item['key'], item['wanted'])
            if request.persistent and new_text != file_text:
                _write_file(module, request.sysctl_file, new_text)
            if modules_text is not None:
                _write_file(module, request.modules_load_file, modules_text)
        except sysctl.SysctlError as exc:
            module.fail_json(msg=str(exc), sysctls=outcome.entries())
        except (IOError, OSError) as exc:
            module.fail_json(msg='cannot write %s: %s' % (getattr(exc, 'filename', None) or request.sysctl_file, exc),
                             sysctls=outcome.entries())

    policy = dict(ipv4=hostnet.forward_policy(runner, 4), ipv6=hostnet.forward_policy(runner, 6))
    for family in (4, 6):
        routed = request.routed_interfaces(family)
        if routed and policy['ipv%d' % family] == 'DROP':
            module.warn('the ip%stables FORWARD policy is DROP (dockerd sets it when it enables forwarding itself): traffic routed '
                        'through %s that no rule accepts (anything but Docker\'s own networks) is dropped; add ACCEPT rules to '
                        'the DOCKER-USER chain, or set the policy to ACCEPT if this host is meant to route'
                        % ('' if family == 4 else '6', ', '.join(routed)))
    _warn_ra_routes(module, runner, request)

    extra = dict(sysctls=outcome.entries(), overrides=overrides, forward_policy=policy,
                 sysctl_file=request.sysctl_file if request.persistent else None,
                 ansible_facts=dict(netfleet_forward_policy=policy))
    module.exit_json(**outcome.result(module._diff, **extra))


def _warn_ra_routes(module, runner, request):
    if module.params.get('ipv6') is not True or not request.runtime:
        return
    uplinks = set(module.params.get('uplinks') or [])
    for dev, gateway in hostnet.ra_default_routes(runner):
        if dev and dev not in uplinks and sysctl.read_runtime(sysctl.interface_key(6, dev, 'accept_ra')) != '2':
            module.warn('the IPv6 default route via %s on %s was learned from a router advertisement; with forwarding on, '
                        '%s ignores further advertisements and the route expires: add %s to uplinks' % (gateway, dev, dev, dev))
