# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ip_forward task: forwarding sysctls, accept_ra on uplinks and bridge netfilter, applied
at runtime and persisted in a sysctl.d file whose value really wins at boot.

parameters -> validated request (every problem collected, nothing touched) -> per-key plan
(runtime and file, before and after) -> boot-order check of the new file -> apply -> result.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from ansible_collections.netfleet.docker.plugins.module_utils._common import files
from ansible_collections.netfleet.docker.plugins.module_utils._common.driver import UNCHANGED, Step
from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import HostError, PlanningError
from ansible_collections.netfleet.docker.plugins.module_utils._host import hostnet
from ansible_collections.netfleet.docker.plugins.module_utils._host import sysctl

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
DEFAULT_DAEMON_CONFIG = '/etc/docker/daemon.json'


class Request:
    """A validated ip_forward request: the keys to set, in the order they must be set."""

    def __init__(self, params: Dict, proc: str = sysctl.PROC_SYS,
                 probe_module: Optional[Callable[[str], Optional[str]]] = None) -> None:
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

    def interface_names(self) -> List[str]:
        names = set()
        for family in (4, 6):
            try:
                names.update(entry for entry in os.listdir(os.path.join(self.proc, 'net/ipv%d/conf' % family))
                             if entry not in ('all', 'default'))
            except OSError:
                pass
        return sorted(names)

    def _wanted(self, probe_module):
        """(key, value, ignore_errors at boot) in the order they must be set."""
        params = self.params
        ipv6_used = params.get('ipv6') is not None or any(item.get('ipv6') is not None for item in params.get('interfaces') or [])
        if ipv6_used and not os.path.isdir(os.path.join(self.proc, 'net/ipv6')):
            self.problems.append('IPv6 is disabled in this kernel (no %s/net/ipv6; booted with ipv6.disable=1?); '
                                 'drop the ipv6 options or enable IPv6 first' % self.proc)
        nothing = all(params.get(key) is None for key in ('ipv4', 'ipv6', 'bridge_netfilter')) and not params.get('interfaces')
        if nothing:
            self.problems.append('ip_forward: nothing to manage; set at least one of ipv4, ipv6, interfaces, bridge_netfilter')
        return (self._uplink_keys() + self._bridge_keys(probe_module) + self._global_keys()
                + self._interface_keys())

    def _uplink_keys(self):
        uplinks = self.params.get('uplinks') or []
        ipv6_on = self.params.get('ipv6') is True
        wanted = []
        if len(set(uplinks)) != len(uplinks):
            self.problems.append('uplinks lists an interface twice (%s); list each once' % ', '.join(uplinks))
        for name in uplinks:
            if self._interface_known(name, 'uplink') and ipv6_on:
                # Set before forwarding goes on, so the RA-learned default route never lapses.
                wanted.append((sysctl.interface_key(6, name, 'accept_ra'), '2', True))
        if uplinks and not ipv6_on:
            self.warnings.append('uplinks (%s) only matter with ipv6: true (accept_ra is kept at 2 then); they were left alone'
                                 % ', '.join(uplinks))
        return wanted

    def _bridge_keys(self, probe_module):
        bridge = self.params.get('bridge_netfilter')
        if bridge is None:
            return []
        loaded = os.path.exists(os.path.join(self.proc, BRIDGE_KEYS[0]))
        if bridge and not loaded:
            error = probe_module(BR_NETFILTER) if probe_module else 'cannot probe kernel modules here'
            if error:
                self.problems.append('bridge_netfilter: the br_netfilter kernel module is not loaded and cannot be loaded (%s); '
                                     'install the kernel modules package for this kernel (or load it on the host when this '
                                     'is a container), or drop bridge_netfilter' % error)
            else:
                self.load_br_netfilter = self.runtime   # persistent only: modules-load.d loads it at boot
        return [(key, '1' if bridge else '0', True) for key in BRIDGE_KEYS]

    def _global_keys(self):
        return [(key, '1' if self.params[option] else '0', False)
                for key, option in ((IPV4_FORWARD, 'ipv4'), (IPV6_FORWARD, 'ipv6'))
                if self.params.get(option) is not None]

    def _interface_keys(self):
        wanted = []
        seen = set()
        for item in self.params.get('interfaces') or []:
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

    def routed_interfaces(self, family: int) -> List[str]:
        """Interfaces whose forwarding this request turns on, for the FORWARD policy warning."""
        option = 'ipv%d' % family
        names = [item['name'] for item in self.params.get('interfaces') or [] if item.get(option)]
        if self.params.get(option):
            return ['every interface']
        return names


def probe_module(run: Callable) -> Callable[[str], Optional[str]]:
    """A probe for Request: None when ``modprobe -n`` could load the module, else why not."""
    def probe(name):
        rc, out, err = run(['modprobe', '-n', '-q', name])
        if rc == 0:
            return None
        return (err or out).strip() or 'modprobe -n %s exited %d' % (name, rc)
    return probe


def plan(request: Request, file_text: Optional[str], proc: str = sysctl.PROC_SYS,
         root: str = '/') -> Tuple[List[Dict], Optional[str], List[Dict], Optional[str]]:
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


FIX_HINT = 'or set on_override: fix to comment it out (the file is backed up first)'


def override_message(request: Request, overrides: List[Dict], shadowed: Optional[str], root: str = '/') -> List[str]:
    """One sentence per problem found at boot: which file and line undoes the task, and how to fix it."""
    parts = []
    if shadowed:
        parts.append('%s is never read at boot because %s takes its place; choose another name for sysctl_file'
                     % (request.sysctl_file, shadowed))
    conf_link = sysctl.conf_read_at_boot(root) if overrides else None
    for item in overrides:
        what = '%s:%s sets %s = %s' % (item['file'], item['line'], item['key'], item['value'])
        ours = '%s (which sets %s)' % (request.sysctl_file, item['wanted'])
        if _source_of(item) != sysctl.SYSCTL_CONF:
            parts.append('%s, read at boot after %s; remove or change that line, name sysctl_file so it sorts '
                         'after it, %s' % (what, ours, FIX_HINT))
        elif conf_link:
            parts.append('%s; /etc/sysctl.conf is read last of all, at boot (through %s) and by sysctl --system, '
                         'after %s, so no name of sysctl_file sorts after it: remove or change that line, %s'
                         % (what, conf_link, ours, FIX_HINT))
        else:
            parts.append('%s; sysctl --system reads /etc/sysctl.conf last of all, after %s, so no name of sysctl_file '
                         'sorts after it. systemd-sysctl does not read it at boot on this host (no sysctl.d file '
                         'links to it, as on Debian 13), but any sysctl --system run undoes this task: remove or '
                         'change that line, %s' % (what, ours, FIX_HINT))
    return parts


def _source_of(item: Dict) -> str:
    """The real file behind an override ('/etc/sysctl.conf (via /etc/sysctl.d/99-sysctl.conf)' -> the first)."""
    return item['file'].split(' (via ')[0]


def _read_as(item: Dict) -> str:
    """The name the boot-time reader knows the file by (the link, when it is read through one)."""
    shown = item['file']
    return shown.split(' (via ', 1)[1].rstrip(')') if ' (via ' in shown else shown


# ---------------------------------------------------------------------------------------
# steps: what the driver applies, in this order
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoadModule:
    name: str


@dataclass(frozen=True)
class SetRuntime:
    key: str
    value: str


@dataclass(frozen=True)
class WriteFile:
    path: str
    text: str


@dataclass(frozen=True)
class FixFile:
    """An overriding file with its lines commented out: written in place (backed up) or as a shadowing copy."""

    path: str
    text: str
    backup: bool


FIX_NOTE = '# commented out by netfleet.docker.ip_forward: it undid %s at boot'
SHADOW_HEADER = ('# Copy of %s without the lines that undid %s at boot (netfleet.docker.ip_forward);\n'
                 '# this file in /etc/sysctl.d is read instead of it.\n')


def check_overrides(request: Request, overrides: List[Dict], shadowed: Optional[str], on_override: str,
                    warn: Callable[[str], None], root: str = '/') -> List[Step]:
    """Fail (nothing changed yet), warn, or plan the fix when a file read later at boot would undo the task."""
    if on_override == 'fix':
        steps, problems = override_fix_steps(request, overrides, root)
        problems = override_message(request, [], shadowed, root) + problems
        if problems:
            raise PlanningError(problems, overrides=overrides)
        return steps
    problems = override_message(request, overrides, shadowed, root)
    if problems and on_override == 'fail':
        raise PlanningError(problems, overrides=overrides)
    for text in problems:
        warn('on boot, ' + text)
    return []


def override_fix_steps(request: Request, overrides: List[Dict], root: str = '/') -> Tuple[List[Step], List[str]]:
    """One step per overriding file (its lines commented out), and the lines that cannot be fixed so."""
    by_file: Dict[Tuple[str, str], set] = {}
    for item in overrides:
        by_file.setdefault((_source_of(item), _read_as(item)), set()).add(item['line'])
    steps, problems = [], []
    for (source, read_as), numbers in sorted(by_file.items()):
        step, unfixable = _fix_step(request, source, read_as, sorted(numbers), root)
        problems.extend(unfixable)
        if step is not None:
            steps.append(step)
    return steps, problems


def _fix_step(request: Request, source: str, read_as: str, numbers: List[int], root: str):
    in_place = source == sysctl.SYSCTL_CONF or os.path.dirname(source) == '/etc/sysctl.d'
    if not in_place and os.path.dirname(read_as) == '/etc/sysctl.d':
        return None, ['%s is a link to %s, which sets the lines %s; replace the link with a copy without them'
                      % (read_as, source, ', '.join(str(number) for number in numbers))]
    text = files.read_text(on_root(root, source)) or ''
    lines = text.split('\n')
    commented, problems = [], []
    for number in numbers:
        raw = lines[number - 1]
        parsed = sysctl.parse_text(raw)
        if parsed and parsed[0]['pattern']:
            problems.append('%s:%d (%s) sets keys by a pattern, and commenting it out would change other keys too; '
                            'edit it by hand' % (source, number, raw.strip()))
            continue
        lines[number - 1] = '# %s  %s' % (raw, FIX_NOTE % request.sysctl_file)
        commented.append('line %d' % number)
    if not commented:
        return None, problems
    new_text = '\n'.join(lines)
    if in_place:
        return Step(name=source, action='commented', before=dict(content=text), after=dict(content=new_text),
                    changes=tuple(commented), payload=FixFile(on_root(root, source), new_text, backup=True)), problems
    # A vendor file (/usr/lib, /lib, /run...) is shadowed by a copy in /etc, which a package upgrade leaves alone.
    target = os.path.join('/etc/sysctl.d', os.path.basename(read_as))
    new_text = SHADOW_HEADER % (source, request.sysctl_file) + new_text
    return Step(name=target, action='shadowed', before=dict(content=''), after=dict(content=new_text),
                changes=tuple(commented), details=dict(source=source),
                payload=FixFile(on_root(root, target), new_text, backup=False)), problems


def key_step(request: Request, item: Dict) -> Step:
    """One sysctl key: runtime and/or file changed, with both values before and after."""
    before = dict(runtime=item['runtime_before'])
    after = dict(runtime=item['runtime_after'])
    if request.persistent:
        before[request.sysctl_file] = item['file_before']
        after[request.sysctl_file] = item['file_after']
    changes = tuple(part for part, flag in (('runtime', item['runtime_change']), ('file', item['file_change'])) if flag)
    return Step(name=sysctl.display_key(item['key']), action='changed' if changes else UNCHANGED,
                before=before, after=after, changes=changes,
                details=dict(value=item['wanted'], runtime_before=item['runtime_before'],
                             runtime_after=item['runtime_after'], file_before=item['file_before'],
                             file_after=item['file_after']),
                payload=SetRuntime(item['key'], item['wanted']) if item['runtime_change'] else None)


def on_root(root: str, path: str) -> str:
    """Where ``path`` of the host is seen from here (unit tests give a temporary tree as root)."""
    return sysctl.join_root(root, path)


def modules_load_step(path: str, root: str = '/') -> Step:
    """modules-load.d lists br_netfilter, so it is loaded at boot before systemd-sysctl sets its keys."""
    old = files.read_text(on_root(root, path))
    lines = (old or '').splitlines()
    new = None
    if BR_NETFILTER not in [line.strip() for line in lines]:
        new = '\n'.join(lines + [BR_NETFILTER]) + '\n'
    return Step(name=path, action='changed' if new is not None else UNCHANGED, before=dict(content=old or ''),
                after=dict(content=new if new is not None else old or ''), changes=('content',) if new is not None else (),
                payload=WriteFile(on_root(root, path), new) if new is not None else None)


def plan_steps(request: Request, file_text: Optional[str], keys: List[Dict], new_text: Optional[str],
               root: str = '/', fixes: Sequence[Step] = ()) -> List[Step]:
    """Every step in apply order: load br_netfilter, runtime values, our sysctl file, the fixed
    overriding files, modules-load.d."""
    steps = []
    if request.load_br_netfilter:
        steps.append(Step(name=BR_NETFILTER, action='loaded', before=dict(loaded=False), after=dict(loaded=True),
                          changes=('module',), payload=LoadModule(BR_NETFILTER)))
    steps.extend(key_step(request, item) for item in keys)
    if request.persistent and new_text != file_text:
        # Its keys are reported one by one above; the write itself is one step.
        steps.append(Step(name=request.sysctl_file, action='written', report=False,
                          payload=WriteFile(on_root(root, request.sysctl_file), new_text)))
    steps.extend(fixes)
    if request.modules_load_file:
        steps.append(modules_load_step(request.modules_load_file, root))
    return steps


def apply_step(step: Step, run: Callable, proc: str = sysctl.PROC_SYS,
               backup: Optional[Callable[[str], str]] = None) -> Dict[str, str]:
    """Carry out one step; the details to report for it (the backup of a fixed file)."""
    payload = step.payload
    if isinstance(payload, LoadModule):
        rc, out, err = run(['modprobe', payload.name])
        if rc != 0:
            raise HostError('cannot load the %s kernel module: %s; nothing else was changed'
                            % (payload.name, (err or out).strip()))
    elif isinstance(payload, SetRuntime):
        sysctl.write_runtime(payload.key, payload.value, proc)
    elif isinstance(payload, (WriteFile, FixFile)):
        backup_file = backup(payload.path) if isinstance(payload, FixFile) and payload.backup and backup else None
        _write(payload.path, payload.text)
        if backup_file:
            return dict(backup_file=backup_file)
    return {}


def _write(path: str, text: str) -> None:
    try:
        mode = os.stat(path).st_mode & 0o7777   # keep what an operator set on a file we rewrite
    except OSError:
        mode = 0o644
    try:
        files.write_atomic(path, text, mode=mode, make_dirs=True)
    except OSError as exc:   # the directory could not be made
        raise HostError('cannot write %s: %s' % (path, exc))


# ---------------------------------------------------------------------------------------
# after applying: the FORWARD policy and RA routes (warnings and facts, also in check mode)
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DaemonForwarding:
    """What the engine's daemon.json says about forwarding (Docker's defaults where a key is absent)."""

    path: str
    found: bool = False
    firewall_backend: str = 'iptables'
    ip_forward: bool = True
    ip_forward_no_drop: bool = False
    iptables: bool = True

    @property
    def docker_enables_forwarding(self) -> bool:
        """dockerd turns forwarding on at start, except under nftables (Docker 29: it only checks it is on)."""
        return self.ip_forward and self.firewall_backend != 'nftables'

    @property
    def docker_sets_drop_policy(self) -> bool:
        """When dockerd turns forwarding on itself it sets the iptables FORWARD policy to DROP, unless
        ip-forward-no-drop (Docker 28.0+)."""
        return self.docker_enables_forwarding and self.iptables and not self.ip_forward_no_drop

    def as_result(self) -> Dict:
        return dict(daemon_config=self.path, found=self.found, firewall_backend=self.firewall_backend,
                    ip_forward=self.ip_forward, ip_forward_no_drop=self.ip_forward_no_drop, iptables=self.iptables,
                    docker_enables_forwarding=self.docker_enables_forwarding,
                    docker_sets_drop_policy=self.docker_sets_drop_policy)


def read_daemon_forwarding(path: str, root: str = '/') -> Tuple[DaemonForwarding, Optional[str]]:
    """The engine's forwarding settings from its daemon.json, and a warning when the file cannot be read
    (then Docker's defaults are assumed). Never fails: this task does not own the file."""
    defaults = ": the FORWARD policy advice assumes Docker's defaults"
    try:
        text = files.read_text(on_root(root, path))
        config = json.loads(text) if text and text.strip() else {}
    except HostError as exc:
        return DaemonForwarding(path), str(exc) + defaults
    except ValueError as exc:
        return DaemonForwarding(path), '%s is not valid JSON (%s)%s' % (path, exc, defaults)
    if not isinstance(config, dict):
        return DaemonForwarding(path), '%s is not a JSON object%s' % (path, defaults)
    return DaemonForwarding(path, found=text is not None,
                            firewall_backend=str(config.get('firewall-backend') or 'iptables'),
                            ip_forward=config.get('ip-forward') is not False,
                            ip_forward_no_drop=config.get('ip-forward-no-drop') is True,
                            iptables=config.get('iptables') is not False), None


def _drop_policy_cause(daemon: Optional[DaemonForwarding]) -> Tuple[str, str]:
    """(who set the DROP policy, the fix) as far as the engine's settings tell."""
    fix = 'add ACCEPT rules to the DOCKER-USER chain, or set the policy to ACCEPT if this host is meant to route'
    if daemon is None or daemon.docker_sets_drop_policy:
        return ('dockerd sets it when it enables forwarding itself',
                fix if daemon is None else fix + ' and ip-forward-no-drop: true in %s (Docker 28.0+) so that '
                'dockerd leaves it alone' % daemon.path)
    if daemon.firewall_backend == 'nftables':
        return ('not dockerd: with firewall-backend nftables it leaves the iptables FORWARD chain alone; a firewall '
                'or an earlier dockerd set it', 'set the policy to ACCEPT if this host is meant to route, or accept '
                'that traffic in the firewall that set it')
    setting = 'ip-forward-no-drop: true' if daemon.ip_forward_no_drop else (
        'ip-forward: false' if not daemon.ip_forward else 'iptables: false')
    return ('not dockerd, whose %s has %s: a firewall or an earlier dockerd set it' % (daemon.path, setting),
            'set the policy to ACCEPT if this host is meant to route, or add ACCEPT rules to the FORWARD chain')


def forward_policy_report(warn: Callable[[str], None], run: Callable, request: Request,
                          daemon: Optional[DaemonForwarding] = None) -> Dict[str, Optional[str]]:
    policy = dict(ipv4=hostnet.forward_policy(run, 4), ipv6=hostnet.forward_policy(run, 6))
    for family in (4, 6):
        routed = request.routed_interfaces(family)
        if routed and policy['ipv%d' % family] == 'DROP':
            cause, fix = _drop_policy_cause(daemon)
            warn('the ip%stables FORWARD policy is DROP (%s): traffic routed through %s that no rule accepts '
                 '(anything but Docker\'s own networks) is dropped; %s'
                 % ('' if family == 4 else '6', cause, ', '.join(routed), fix))
    return policy


def forwarding_after(request: Request, key: str, proc: str = sysctl.PROC_SYS) -> Optional[str]:
    """The runtime value of a forwarding key once this task is done (also what check mode predicts)."""
    wanted = dict((name, value) for name, value, dummy in request.wanted)
    if request.runtime and key in wanted:
        return wanted[key]
    return sysctl.read_runtime(key, proc)


def warn_nftables_forwarding(warn: Callable[[str], None], request: Request, daemon: DaemonForwarding,
                             proc: str = sysctl.PROC_SYS) -> None:
    """Under firewall-backend nftables dockerd does not turn forwarding on: it must be on before networks are made."""
    if daemon.firewall_backend != 'nftables' or not daemon.ip_forward:
        return
    off = ['%s (ipv%d)' % (sysctl.display_key(key), family)
           for family, key in ((4, IPV4_FORWARD), (6, IPV6_FORWARD))
           if forwarding_after(request, key, proc) not in ('1', None) and (family == 4 or request.params.get('ipv6') is not None)]
    if off:
        warn('%s sets firewall-backend nftables, so dockerd does not enable IP forwarding itself and refuses to '
             'create bridge networks (and to start, for the default bridge) while it is off; after this task %s is '
             'off: turn it on with this module before networks are created' % (daemon.path, ', '.join(off)))


def warn_ra_routes(warn: Callable[[str], None], run: Callable, request: Request, proc: str = sysctl.PROC_SYS) -> None:
    if request.params.get('ipv6') is not True or not request.runtime:
        return
    uplinks = set(request.params.get('uplinks') or [])
    for dev, gateway in hostnet.ra_default_routes(run):
        if dev and dev not in uplinks and sysctl.read_runtime(sysctl.interface_key(6, dev, 'accept_ra'), proc) != '2':
            warn('the IPv6 default route via %s on %s was learned from a router advertisement; with forwarding on, '
                 '%s ignores further advertisements and the route expires: add %s to uplinks' % (gateway, dev, dev, dev))
