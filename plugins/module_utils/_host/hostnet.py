# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host's own network: links, addresses and routes (iproute2 JSON, ``ip -j``), and the
iptables FORWARD policy.

Every function takes a ``run`` callable with the signature of ``AnsibleModule.run_command``
(argument list in, ``(rc, stdout, stderr)`` out), so modules pass ``module.run_command`` and
unit tests pass a fake.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import HostError


#: run(argument list) -> (rc, stdout, stderr), like AnsibleModule.run_command
Run = Callable[[List[str]], Tuple[int, str, str]]


class HostNetError(HostError):
    """A host network command failed; the message says which and why."""


def ip_json(run: Run, args: Sequence[str], doing: str) -> Any:
    rc, out, err = run(['ip', '-j'] + list(args))
    if rc != 0:
        raise HostNetError('cannot %s (ip -j %s): %s' % (doing, ' '.join(args), (err or out).strip()))
    out = (out or '').strip()
    if not out:
        return []
    try:
        return json.loads(out)
    except ValueError:
        raise HostNetError('cannot %s: ip -j %s printed no JSON; iproute2 4.14 or later is needed' % (doing, ' '.join(args)))


def links(run: Run) -> Dict[str, Dict[str, Any]]:
    """name -> link dict of ``ip -j -d link show`` (details: linkinfo.info_kind, info_data, info_slave_kind)."""
    return dict((link['ifname'], link) for link in ip_json(run, ['-d', 'link', 'show'], 'list network links'))


def link(run: Run, name: str) -> Optional[Dict[str, Any]]:
    """One link with details, or None when it does not exist."""
    rc, out, err = run(['ip', '-j', '-d', 'link', 'show', 'dev', name])
    if rc != 0:
        text = (err or out or '').lower()
        if 'does not exist' in text or 'cannot find device' in text:
            return None
        raise HostNetError('cannot read link %s: %s' % (name, (err or out).strip()))
    data = json.loads(out) if out.strip() else []
    return data[0] if data else None


def link_kind(data: Optional[Mapping[str, Any]]) -> Optional[str]:
    return ((data or {}).get('linkinfo') or {}).get('info_kind')


def link_is_up(data: Optional[Mapping[str, Any]]) -> bool:
    """Administratively up (IFF_UP). A link without carrier is up but has no LOWER_UP."""
    return 'UP' in ((data or {}).get('flags') or [])


def link_has_carrier(data: Optional[Mapping[str, Any]]) -> bool:
    return 'LOWER_UP' in ((data or {}).get('flags') or [])


def link_parent(data: Optional[Mapping[str, Any]]) -> Optional[str]:
    """The parent (``link``) of a macvlan / vlan link as iproute2 names it, or None."""
    return (data or {}).get('link')


def addresses(run: Run, name: Optional[str] = None, family: Optional[int] = None) -> List[Tuple[str, Any, Any]]:
    """[(address, prefixlen, ifname)] of ``ip -j addr show``, optionally for one link / family (4 or 6)."""
    args = []
    if family:
        args.append('-%d' % family)
    args += ['addr', 'show']
    if name:
        args += ['dev', name]
    result = []
    for item in ip_json(run, args, 'list addresses'):
        for info in item.get('addr_info') or []:
            if info.get('local'):
                result.append((info['local'], info.get('prefixlen'), item.get('ifname')))
    return result


def routes(run: Run, family: int = 4, dev: Optional[str] = None,
           selector: Optional[Sequence[str]] = None) -> List[Dict[str, Any]]:
    """``ip -j -<family> route show [selector] [dev DEV]`` as a list of dicts (dst, dev, gateway, protocol...)."""
    args = ['-%d' % family, 'route', 'show']
    if selector:
        args += list(selector)
    if dev:
        args += ['dev', dev]
    return ip_json(run, args, 'list IPv%d routes' % family)


def ra_default_routes(run: Run) -> List[Tuple[Optional[str], Optional[str]]]:
    """IPv6 default routes learned from router advertisements: [(dev, gateway)]."""
    try:
        found = routes(run, 6, selector=['default'])
    except HostNetError:
        return []
    return [(route.get('dev'), route.get('gateway')) for route in found if route.get('protocol') == 'ra']


_POLICY = re.compile(r'^-P\s+FORWARD\s+(\S+)', re.M)


def forward_policy(run: Run, family: int = 4) -> Optional[str]:
    """The FORWARD chain policy of iptables / ip6tables (ACCEPT, DROP), or None when it cannot be read."""
    binary = 'iptables' if family == 4 else 'ip6tables'
    try:
        rc, out, dummy = run([binary, '-w', '5', '-S', 'FORWARD'])
    except (OSError, IOError):
        return None
    if rc != 0:
        return None
    match = _POLICY.search(out or '')
    return match.group(1) if match else None


def module_runner(module: Any) -> Run:
    """``run`` for the functions above from an AnsibleModule: a missing command is rc 127, not a module failure."""
    def run(args):
        path = module.get_bin_path(args[0], opt_dirs=['/usr/sbin', '/sbin'])
        if path is None:
            return 127, '', '%s: command not found' % args[0]
        return module.run_command([path] + list(args[1:]))
    return run
