# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who does what in the overlay role, decided from what EVERY host of the play reported about its
swarm membership (``overlay_cluster state: checked``), never from inventory order alone.

- ``swarm_decision``: whether a swarm exists among the play's hosts, which one, the first manager
  (an existing manager when a swarm exists; ``init`` only when no play host is in a swarm), and the
  managers. Hosts of two swarms, ``overlay_managers`` outside the play, a swarm with no manager in
  the play, or hosts whose membership could not be read while no swarm is known: each fails, naming
  the hosts (and cluster IDs).
- ``swarm_blockers``: after a step on the first manager (or the preflight of every host), the reason
  every other host gives instead of an internal error: "not done because <host> failed: <reason>".

Workers cannot read their cluster ID (only managers can): a worker belongs to the swarm whose
managers list its node ID; a worker no play manager lists is in another swarm, named by the managers
it knows (``manager_addrs``).
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def _membership(hosts, hostvars, register):
    """({host: result} of members, [inactive hosts], {host: reason} unread) in play order."""
    members, inactive, unread = {}, [], {}
    for host in hosts:
        host_vars = hostvars.get(host) if isinstance(hostvars, Mapping) else None
        result = host_vars.get(register) if isinstance(host_vars, Mapping) else None
        if not isinstance(result, Mapping):
            unread[host] = 'membership not read (host unreachable or the check did not run)'
        elif result.get('failed'):
            unread[host] = str(result.get('msg') or 'the membership check failed')
        elif result.get('skipped'):
            unread[host] = 'the membership check was skipped'
        elif (result.get('node_state') or 'inactive') == 'inactive':
            inactive.append(host)
        else:
            members[host] = result
    return members, inactive, unread


def _swarms(members):
    """{swarm label: {cluster_id, managers: [hosts], workers: [hosts], manager_addrs}}."""
    swarms, node_swarm = {}, {}
    for host, result in members.items():
        if result.get('role') == 'manager' and result.get('cluster_id'):
            label = 'cluster %s' % result['cluster_id']
            entry = swarms.setdefault(label, dict(cluster_id=result['cluster_id'], managers=[], workers=[],
                                                  manager_addrs=sorted(result.get('manager_addrs') or [])))
            entry['managers'].append(host)
            for node in result.get('nodes') or []:
                node_swarm[node.get('id')] = label
    for host, result in members.items():
        if result.get('role') == 'manager' and result.get('cluster_id'):
            continue
        addrs = sorted(result.get('manager_addrs') or [])
        label = node_swarm.get(result.get('node_id')) or (
            'the swarm managed at %s (its ID is shown to managers only)' % (', '.join(addrs) or 'unknown managers'))
        entry = swarms.setdefault(label, dict(cluster_id=None, managers=[], workers=[], manager_addrs=addrs))
        entry['workers'].append(host)
    return swarms


def _describe(label, entry):
    roles = ['%s (manager)' % host for host in entry['managers']] + ['%s (worker)' % host for host in entry['workers']]
    return '%s: %s' % (label, ', '.join(roles))


def _existing_swarm(label, entry, wanted):
    """First manager and managers when the play's hosts are in one swarm."""
    if not entry['managers']:
        raise AnsibleFilterError('%s has no manager among the play hosts (%s): add one of its managers to the play. '
                                 'Nothing was changed.' % (label, ', '.join(entry['workers'])))
    existing = sorted(entry['managers'])
    if wanted:
        known = [host for host in wanted if host in existing]
        if not known:
            raise AnsibleFilterError('overlay_managers (%s) names no manager of the existing %s (its managers in the '
                                     'play: %s); a swarm is joined through one of its managers: name at least one. '
                                     'Nothing was changed.' % (', '.join(wanted), label, ', '.join(existing)))
        return known[0], list(wanted)
    return existing[0], existing


def swarm_decision(hosts, hostvars, register='_overlay_preflight', managers=None):
    """{init, first, managers, cluster_id, members} for the overlay role; fails on every ambiguous case."""
    hosts = list(hosts or [])
    wanted = list(managers or [])
    outside = [host for host in wanted if host not in hosts]
    if outside:
        raise AnsibleFilterError('overlay_managers names hosts that are not in this play: %s. Managers must be '
                                 'inventory hostnames of the play (play hosts: %s). Nothing was changed.'
                                 % (', '.join(outside), ', '.join(hosts)))
    members, _inactive, unread = _membership(hosts, hostvars, register)
    swarms = _swarms(members)
    if len(swarms) > 1:
        described = '; '.join(_describe(label, entry) for label, entry in sorted(swarms.items()))
        raise AnsibleFilterError('the play\'s hosts belong to %d different swarms - %s. One play manages one swarm: '
                                 'make the hosts leave the other swarm, or run them in separate plays. Nothing was '
                                 'changed.' % (len(swarms), described))
    if swarms:
        label, entry = next(iter(swarms.items()))
        first, manager_list = _existing_swarm(label, entry, wanted)
        return dict(init=False, first=first, managers=manager_list, cluster_id=entry['cluster_id'],
                    members=dict((host, result.get('role')) for host, result in members.items()))
    if unread:
        raise AnsibleFilterError('no play host is in a swarm, but the membership of %s could not be read (%s); a '
                                 'swarm may exist there, so none is initialized. Nothing was changed.'
                                 % (', '.join(sorted(unread)), '; '.join('%s: %s' % item for item in sorted(unread.items()))))
    manager_list = wanted or hosts[:1]
    return dict(init=True, first=manager_list[0] if manager_list else None, managers=manager_list,
                cluster_id=None, members={})


def swarm_blockers(hosts, hostvars, register, required=()):
    """Reasons, one per host whose registered step failed, for every other host to give instead of an
    internal error: 'not done because <host> failed: <reason>'. A host in ``required`` (the first manager)
    that has no result at all (unreachable, stopped earlier) blocks too."""
    reasons = []
    for host in hosts:
        host_vars = hostvars.get(host) if isinstance(hostvars, Mapping) else None
        result = host_vars.get(register) if isinstance(host_vars, Mapping) else None
        if not isinstance(result, Mapping):
            if host in required:
                reasons.append('not done because %s failed: it never reached this step (unreachable, or it failed '
                               'earlier)' % host)
        elif result.get('failed'):
            reasons.append('not done because %s failed: %s' % (host, result.get('msg') or 'no message'))
    return reasons


class FilterModule:
    def filters(self):
        return dict(swarm_decision=swarm_decision, swarm_blockers=swarm_blockers)
