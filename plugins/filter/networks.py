# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The networks role's logic, out of Jinja: one host's networks from its groups, and their validation.

- ``host_networks``: the docker_net items one host gets from ``networks_by_group`` (every group it is
  in) and ``networks_host``: identical declarations merged, a network declared differently by two
  groups refused (naming both groups and, when they can be found, the group_vars files),
  ``subnet: auto`` resolved from the fleet plan, the role's labels added, planner keys removed.
- ``network_item_problems``: every problem of the items (unknown keys with a suggestion, bad values,
  what docker_net's own validation refuses), found on the controller before the role changes anything.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError

from ansible_collections.netfleet.docker.plugins.plugin_utils import group_vars, module_specs

HOST_VARS = 'host_vars'
PLANNER_KEYS = ('prefix', 'supernet')
MISSING = 'MISSING'


def declarations(networks_by_group, group_names, host_items=None):
    """[(group, item)] for the host's groups in name order, then its own items (group ``host_vars``)."""
    if not isinstance(networks_by_group or {}, Mapping):
        raise AnsibleFilterError('networks_by_group must map group names to lists of network items, not %r'
                                 % (networks_by_group,))
    found = []
    for group in sorted(group_names or []):
        items = (networks_by_group or {}).get(group) or []
        if not isinstance(items, list):
            raise AnsibleFilterError('networks_by_group.%s must be a list of network items, not %r' % (group, items))
        found.extend((group, item) for item in items)
    found.extend((HOST_VARS, item) for item in host_items or [])
    return found


def _named(found):
    problems, named = [], []
    for group, item in found:
        if not isinstance(item, Mapping) or not item.get('name'):
            problems.append('a network item of %s has no name: %r' % (group, item))
        else:
            named.append((group, item))
    return named, problems


def _where(groups, sources):
    files = ['%s: %s' % (group, ' and '.join(sources[group])) for group in groups if sources.get(group)]
    return ' (%s)' % '; '.join(files) if files else ''


def conflicts(found, sources=None):
    """One line per network declared differently by two of the host's groups."""
    problems = []
    names = list(dict.fromkeys(item['name'] for _group, item in found))
    for name in names:
        same = [(group, item) for group, item in found if item['name'] == name]
        distinct = []
        for _group, item in same:
            if item not in distinct:
                distinct.append(item)
        if len(distinct) > 1:
            groups = [group for group, _item in same]
            problems.append("network '%s' in %s%s" % (name, ' and '.join(groups), _where(groups, sources or {})))
    return problems


def _resolved_pools(item, planned):
    pools = []
    for pool in (item.get('ipam') or {}).get('config') or []:
        if isinstance(pool, Mapping) and pool.get('subnet') == 'auto':
            pool = dict(pool, subnet=planned.get(item['name']) or MISSING)
        pools.append(pool)
    return pools


def resolved_item(item, planned, labels):
    """One docker_net item: the role's labels under the item's own, ``auto`` subnets from the plan."""
    net = dict(item, labels=dict(labels or {}, **(item.get('labels') or {})))
    pools = _resolved_pools(item, planned)
    if pools:
        net['ipam'] = dict(item['ipam'], config=pools)
    return dict((key, value) for key, value in net.items() if key not in PLANNER_KEYS)


def _host_plan(plan, host):
    return (((plan or {}).get('hosts') or {}).get(host) or {}).get('networks') or {}


def host_networks(networks_by_group, group_names, host_items=None, host='this host', plan=None, labels=None,
                  group_vars_dirs=None, default_mtu=0):
    """{'items': docker_net items for this host, 'problems': every reason to refuse them}.

    ``group_vars_dirs`` (the inventory's and the playbook's group_vars) let the problems name the files
    that declare each group's networks, and catch a declaration another group_vars file replaced.
    """
    files = group_vars_files(group_names, group_vars_dirs) if group_vars_dirs else []
    named, problems = _named(declarations(networks_by_group, group_names, host_items))
    problems.extend(group_vars.replaced_declarations(networks_by_group, files, group_names or [], 'networks_by_group'))
    found_conflicts = conflicts(named, group_vars.sources_by_key(files, networks_by_group))
    if found_conflicts:
        problems.append('%s is in groups that declare the same network differently: %s. Declare it once (in a common '
                        'parent group) or give the networks different names.' % (host, '; '.join(found_conflicts)))
    items = with_default_mtu(_unique_items(named, _host_plan(plan, host), labels), default_mtu)
    missing = [net['name'] for net in items
               if any(pool.get('subnet') == MISSING for pool in (net.get('ipam') or {}).get('config') or [])]
    if missing:
        problems.append('%s: networks %s ask for subnet auto but the fleet plan has no subnet for them on this host; '
                        'run netfleet.docker.address_plan with these networks and pass its plan as networks_plan.'
                        % (host, ', '.join(missing)))
    return dict(items=items, problems=problems)


MTU_OPTION = 'com.docker.network.driver.mtu'


def with_default_mtu(items, default_mtu):
    """Bridge networks that name no MTU get the fleet's (the daemon's ``mtu`` reaches only docker0).

    ansible-core 2.18 passes a templated role default as text ("0"), so the value is read as an int first.
    """
    default_mtu = int(default_mtu or 0)
    if not default_mtu:
        return items
    result = []
    for item in items:
        bridge = (item.get('driver') or 'bridge') == 'bridge' and item.get('state', 'present') == 'present'
        named = item.get('mtu') is not None or MTU_OPTION in (item.get('driver_options') or {})
        result.append(dict(item, mtu=int(default_mtu)) if bridge and not named else item)
    return result


def _unique_items(named, planned, labels):
    items = []
    for _group, item in named:
        net = resolved_item(item, planned, labels)
        if net not in items:
            items.append(net)
    return items


def group_vars_files(group_names, directories, variable='networks_by_group'):
    """[(file, group, value)]: the group_vars files of the host's groups (and ``all``) that set ``variable``."""
    return group_vars.declaring_files(directories, ['all'] + sorted(group_names or []), variable)


def _suggest(key, known):
    close = difflib.get_close_matches(key, known, n=1)
    return ' (did you mean %s?)' % close[0] if close else ''


def _known_keys(spec, aliases):
    known = {}
    for key, option in spec.items():
        known[key] = option
        for alias in option.get('aliases') or []:
            known[alias] = option if aliases else None
    return known


def unknown_keys(value, spec, path='', aliases=True):
    """Every key of ``value`` (nested options included) that the argument spec does not know.

    With ``aliases=False`` an alias is a problem too: the role passes options by their names.
    """
    problems = []
    if not isinstance(value, Mapping):
        return problems
    known = _known_keys(spec, aliases)
    for key, sub in value.items():
        if key in known and known[key] is None:
            option = [name for name, opt in spec.items() if key in (opt.get('aliases') or [])][0]
            problems.append('%s%s is an alias: write %s%s' % (path, key, path, option))
            continue
        if key not in known:
            # The fix: the close name when there is one, else every name this level knows.
            fix = _suggest(key, sorted(spec)) or '; drop it, or use one of %s' % ', '.join(sorted(spec))
            problems.append('unknown key %s%s%s' % (path, key, fix))
            continue
        problems.extend(_nested_unknown_keys(sub, known[key].get('options'), path + key, aliases))
    return problems


def _nested_unknown_keys(value, options, path, aliases):
    if not options:
        return []
    if isinstance(value, list):
        problems = []
        for index, element in enumerate(value):
            problems.extend(unknown_keys(element, options, '%s[%d].' % (path, index), aliases))
        return problems
    return unknown_keys(value, options, path + '.', aliases)


def plain(value):
    """``value`` as plain dicts and lists, rendered once.

    ansible-core 2.19 passes variables as lazy containers, and ArgumentSpecValidator deep-copies its
    parameters: a deep copy of a lazy container copies its templar with every variable of the host
    (measured: 0.5 s per validation on a 3-host lab, 11 s of the nothing-to-change site.yml).
    """
    if isinstance(value, Mapping):
        return dict((key, plain(sub)) for key, sub in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(sub) for sub in value]
    return value


def _spec_problems(owner, item, spec, aliases=True):
    problems = ['%s: %s' % (owner, text) for text in unknown_keys(item, spec, aliases=aliases)]
    result = ArgumentSpecValidator(spec).validate(dict(item))
    problems.extend('%s: %s' % (owner, error.msg) for error in result.errors if not isinstance(error, UnsupportedError))
    return problems, result.validated_parameters


def _owner(kind, item, index):
    return "%s '%s'" % (kind, item.get('name')) if isinstance(item, Mapping) else '%s #%d' % (kind, index + 1)


def _docker_net_problems(items):
    if not items:
        return []
    spec = module_specs.argument_spec('docker_net')
    problems, valid = [], []
    for index, item in enumerate(items or []):
        found = _spec_problems(_owner('network', item, index), item if isinstance(item, Mapping) else {},
                               spec['networks']['options'])[0]
        problems.extend(found)
        if not found:
            valid.append(item)
    if valid:
        params = ArgumentSpecValidator(spec).validate(dict(networks=valid)).validated_parameters
        problems.extend(module_specs.docker_net_request_problems(params))
    return problems


def _macvlan_problems(items):
    if not items:
        return []
    spec = module_specs.argument_spec('macvlan_net')
    problems = []
    for index, item in enumerate(items or []):
        problems.extend(_spec_problems(_owner('macvlan network', item, index), item if isinstance(item, Mapping) else {},
                                       spec, aliases=False)[0])
    return problems


def _forwarding_problems(options):
    if not options:
        return []
    return _spec_problems('networks_forwarding', options, module_specs.argument_spec('ip_forward'))[0]


def network_item_problems(items, macvlan_items=None, forwarding_options=None):
    """Every problem of the role's requests, as the modules would find them, before anything changes.

    Unknown keys (with a suggestion), values of the wrong type or not among the choices, and what
    docker_net's own validation refuses (gateway outside the subnet, host bits set, overlaps...).
    What needs the host (the engine, the parent interface) is still checked by the modules.
    """
    return (_forwarding_problems(plain(forwarding_options)) + _docker_net_problems(plain(items))
            + _macvlan_problems(plain(macvlan_items)))


class FilterModule:
    def filters(self):
        return dict(host_networks=host_networks, network_item_problems=network_item_problems,
                    group_vars_files=group_vars_files)
