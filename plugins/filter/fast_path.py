# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""fleet_declaration / fleet_unchanged: site.yml's fast path (plugins/plugin_utils/fast_path.py has the logic)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.netfleet.docker.plugins.filter.networks import plain
from ansible_collections.netfleet.docker.plugins.plugin_utils import fast_path


def _host_declaration(host_vars):
    try:
        names = sorted(name for name in host_vars if fast_path.is_declaration(name))
        return dict(vars=dict((name, plain(host_vars[name])) for name in names),
                    group_names=list(host_vars['group_names']))
    except Exception as exc:  # pylint: disable=broad-except
        # Any templating failure (a variable built from facts not gathered yet...) only costs the fast path.
        return dict(error='%s: %s' % (type(exc).__name__, exc))


def fleet_declaration(hosts, hostvars):
    """The fleet's declaration digest, whether the fast path applies, and each host's fingerprint options."""
    if not hosts:
        raise AnsibleFilterError('fleet_declaration needs the play hosts (ansible_play_hosts_all)')
    return fast_path.fleet_declaration(dict((host, _host_declaration(hostvars[host])) for host in hosts))


def fleet_unchanged(hosts, hostvars, result_name, declaration):
    """Whether every host's state_fingerprint (registered as ``result_name``) matches its record and the declaration."""
    results = {}
    for host in hosts:
        result = hostvars[host].get(result_name)
        results[host] = plain(result) if result is not None else None
    return fast_path.fleet_unchanged(results, plain(declaration))


class FilterModule:
    def filters(self):
        return dict(fleet_declaration=fleet_declaration, fleet_unchanged=fleet_unchanged)
