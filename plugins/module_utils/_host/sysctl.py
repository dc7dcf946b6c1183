# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel parameters: the runtime value in /proc/sys and the persistent one in sysctl.d files.

The persistent value of a key is whatever the *last* file read at boot assigns to it, so a
setting in our own file is only as good as the files read after it. This module computes
that order the way systemd-sysctl and procps ``sysctl --system`` do:

* ``*.conf`` files from /etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d,
  /usr/lib/sysctl.d and /lib/sysctl.d; a basename present in several directories is read
  only from the first of them (/etc wins), and a symlink to /dev/null masks that basename;
* all of them in the order of their basenames, whatever directory they come from;
* /etc/sysctl.conf last (procps reads it after the directories; on systemd hosts
  /etc/sysctl.d/99-sysctl.conf is a symlink to it).

Keys are kept in their slash form (``net/ipv4/ip_forward``), the path under /proc/sys: it is
unambiguous for interface names that contain dots (``eth0.10``).
"""

from __future__ import annotations

import fnmatch
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import HostError

SYSCTL_DIRS = ('/etc/sysctl.d', '/run/sysctl.d', '/usr/local/lib/sysctl.d', '/usr/lib/sysctl.d', '/lib/sysctl.d')
SYSCTL_CONF = '/etc/sysctl.conf'
PROC_SYS = '/proc/sys'


class SysctlError(HostError):
    """A kernel parameter that cannot be set; the message names the key, the problem and the fix."""


def canonical_key(text: Any) -> str:
    """'net.ipv4.ip_forward' or 'net/ipv4/ip_forward' -> 'net/ipv4/ip_forward'.

    As in sysctl.d(5): when the first separator is a slash, slashes separate and dots are
    part of names (net/ipv4/conf/eth0.10/forwarding); otherwise dots separate.
    """
    key = str(text).strip().strip('/')
    for char in key:
        if char == '/':
            return key
        if char == '.':
            return key.replace('.', '/')
    return key


def display_key(key: str) -> str:
    """Slash form -> the familiar dotted form, or the slash form when a name holds a dot."""
    parts = key.split('/')
    if any('.' in part for part in parts):
        return key
    return '.'.join(parts)


def interface_key(family: int, interface: str, leaf: str) -> str:
    """net/ipv4/conf/<if>/<leaf> (family 4) or net/ipv6/conf/<if>/<leaf> (family 6)."""
    return 'net/ipv%d/conf/%s/%s' % (family, interface, leaf)


def normalize_value(text: Any) -> str:
    """Values compare with runs of whitespace collapsed (multi-value keys print with tabs)."""
    return ' '.join(str(text).split())


def parse_text(text: str) -> List[Dict[str, Any]]:
    """Lines of a sysctl.d file -> list of dicts (line, key, value, ignore_errors, pattern)."""
    entries = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in '#;':
            continue
        ignore = line.startswith('-')
        if ignore:
            line = line[1:].lstrip()
        key, sep, value = line.partition('=')
        if not sep:
            continue  # systemd-sysctl and procps skip such lines with a warning
        key = canonical_key(key)
        if not key:
            continue
        entries.append(dict(line=number, key=key, value=normalize_value(value), ignore_errors=ignore,
                            pattern=any(char in key for char in '*?[')))
    return entries


def _is_masked(path):
    return os.path.islink(path) and os.path.realpath(path) == os.devnull


def read_order(root: str = '/', dirs: Sequence[str] = SYSCTL_DIRS, conf: Optional[str] = SYSCTL_CONF,
               extra: Optional[str] = None) -> List[Dict[str, Any]]:
    """The files read at boot, in order: list of dicts (path, basename, masked).

    ``root`` prefixes every path (unit tests use a temporary tree). ``extra`` is a path of a
    file that does not exist yet but will (our own file before its first write); it takes its
    place in the order as if it existed.
    """
    chosen = {}
    seen_dirs = set()
    for directory in dirs:
        real_dir = join_root(root, directory)
        real = os.path.realpath(real_dir)
        if real in seen_dirs:   # /lib -> /usr/lib on merged-/usr systems
            continue
        seen_dirs.add(real)
        try:
            names = sorted(os.listdir(real_dir))
        except OSError:
            names = []
        for name in names:
            if not name.endswith('.conf') or name in chosen:
                continue
            path = os.path.join(directory, name)
            chosen[name] = dict(path=path, basename=name, masked=_is_masked(join_root(root, path)))
        if extra and os.path.dirname(extra) == directory and os.path.basename(extra) not in chosen:
            name = os.path.basename(extra)
            chosen[name] = dict(path=extra, basename=name, masked=False)
    order = [chosen[name] for name in sorted(chosen)]
    if conf and os.path.isfile(join_root(root, conf)):
        order.append(dict(path=conf, basename=os.path.basename(conf), masked=False))
    return order


def join_root(root: str, path: str) -> str:
    """``path`` under ``root`` ('/' or empty: the path itself)."""
    if root in (None, '', '/'):
        return path
    return os.path.join(root, path.lstrip('/'))


def host_realpath(root: str, path: str) -> str:
    """Where ``path`` of the host really is (symlinks resolved), as a path of the host (not under ``root``)."""
    real = os.path.realpath(join_root(root, path))
    if root not in (None, '', '/'):
        base = os.path.realpath(root)
        if real == base or real.startswith(base + os.sep):
            relative = os.path.relpath(real, base)
            real = '/' if relative == '.' else '/' + relative
    return real


def conf_read_at_boot(root: str = '/', dirs: Sequence[str] = SYSCTL_DIRS, conf: str = SYSCTL_CONF) -> Optional[str]:
    """The sysctl.d link through which systemd-sysctl reads /etc/sysctl.conf at boot, or None.

    procps' ``sysctl --system`` always reads /etc/sysctl.conf last; systemd-sysctl reads only the
    sysctl.d directories, so it sees /etc/sysctl.conf only through such a link (procps ships
    /etc/sysctl.d/99-sysctl.conf on Debian 12; Debian 13 ships neither the link nor the file).
    """
    for entry in read_order(root, dirs, conf=None):
        if not entry['masked'] and host_realpath(root, entry['path']) == conf:
            return entry['path']
    return None


def shadowing_file(path: str, root: str = '/', dirs: Sequence[str] = SYSCTL_DIRS) -> Optional[str]:
    """The file that hides ``path`` at boot (same basename, earlier directory, or a /dev/null mask), or None."""
    basename = os.path.basename(path)
    for entry in read_order(root, dirs, conf=None, extra=path):
        if entry['basename'] == basename:
            if entry['path'] != path:
                return entry['path']
            if entry['masked']:
                return '%s (a symlink to /dev/null masks it)' % path
            return None
    return None


class BootView:
    """Every assignment the boot-time readers make, in order, with a file replaced by new text."""

    def __init__(self, root='/', replace=None, dirs=SYSCTL_DIRS, conf=SYSCTL_CONF):
        replace = replace or {}
        self.assignments = []
        for entry in read_order(root, dirs, conf, extra=next(iter(replace), None)):
            if entry['masked']:
                continue
            if entry['path'] in replace:
                text = replace[entry['path']]
            else:
                try:
                    with open(join_root(root, entry['path']), 'r', encoding='utf-8', errors='replace') as handle:
                        text = handle.read()
                except OSError:
                    continue
            shown = entry['path']
            real = host_realpath(root, entry['path'])
            if real != entry['path'] and os.path.basename(real) != entry['basename']:
                shown = '%s (via %s)' % (real, entry['path'])
            for item in parse_text(text):
                item = dict(item, path=entry['path'], shown=shown)
                self.assignments.append(item)

    def for_key(self, key: str) -> List[Dict[str, Any]]:
        result = []
        for item in self.assignments:
            if item['key'] == key or (item['pattern'] and fnmatch.fnmatchcase(key, item['key'])):
                result.append(item)
        return result

    def winner(self, key: str) -> Optional[Dict[str, Any]]:
        found = self.for_key(key)
        return found[-1] if found else None

    def overrides(self, key: str, path: str, wanted: str) -> List[Dict[str, Any]]:
        """Assignments read after ``path``'s own line for ``key`` that set another value."""
        found = self.for_key(key)
        own = [index for index, item in enumerate(found) if item['path'] == path]
        start = own[-1] + 1 if own else 0
        result, seen = [], set()
        for item in found[start:]:
            if item['path'] == path or item['value'] == normalize_value(wanted):
                continue
            where = (item['shown'].split(' (via ')[0], item['line'])
            if where not in seen:   # /etc/sysctl.conf is read twice on systemd hosts (via 99-sysctl.conf)
                seen.add(where)
                result.append(item)
        return result


def render(existing: Optional[str], wanted: Sequence[Tuple[str, str, bool]], header: Optional[str]) -> str:
    """New text of our file: ``wanted`` (ordered list of (key, value, ignore_errors)) set in ``existing``.

    Lines for other keys and comments are kept; the first line of a wanted key is rewritten in
    place, later duplicates are dropped, and missing keys are appended in the order given.
    """
    lines = existing.splitlines() if existing else []
    if not lines and header:
        lines = ['# %s' % line if line else '#' for line in header.splitlines()]
    by_key = dict((key, (value, ignore)) for key, value, ignore in wanted)
    written = set()
    result = []
    for raw in lines:
        parsed = parse_text(raw)
        if parsed and parsed[0]['key'] in by_key:
            key = parsed[0]['key']
            if key in written:
                continue
            value, ignore = by_key[key]
            result.append(assignment_line(key, value, ignore))
            written.add(key)
            continue
        result.append(raw)
    for key, value, ignore in wanted:
        if key not in written:
            result.append(assignment_line(key, value, ignore))
            written.add(key)
    return '\n'.join(result) + '\n'


def assignment_line(key: str, value: str, ignore_errors: bool = False) -> str:
    return '%s%s = %s' % ('-' if ignore_errors else '', display_key(key), value)


def file_values(text: Optional[str]) -> Dict[str, str]:
    """key -> value of the last assignment in one file's text."""
    values = {}
    for item in parse_text(text or ''):
        values[item['key']] = item['value']
    return values


def proc_path(key: str, proc: str = PROC_SYS) -> str:
    return os.path.join(proc, key)


def read_runtime(key: str, proc: str = PROC_SYS) -> Optional[str]:
    """The runtime value, or None when the key does not exist in this kernel / network namespace."""
    try:
        with open(proc_path(key, proc), 'r', encoding='utf-8') as handle:
            return normalize_value(handle.read())
    except (IOError, OSError):
        return None


def write_runtime(key: str, value: str, proc: str = PROC_SYS) -> None:
    path = proc_path(key, proc)
    try:
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write('%s\n' % value)
    except (IOError, OSError) as exc:
        hint = 'run as root' if getattr(exc, 'errno', None) in (1, 13) else 'check that the kernel has this key'
        if getattr(exc, 'errno', None) == 30:
            hint = '/proc/sys is mounted read-only here (a container?); set the key on the host or remount it read-write'
        raise SysctlError('cannot set %s to %s (%s): %s' % (display_key(key), value, path, hint + ' [%s]' % exc))
