# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which group_vars files declare a variable: to name them in error messages.

Ansible replaces a dictionary set in two group_vars files (the file of the group with the higher
precedence wins, the other is silently dropped), and it does not say which file a value came from.
The networks role reads the files itself to name them. Best effort: a file it cannot read is skipped.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import yaml

EXTENSIONS = ('', '.yml', '.yaml', '.json')


class _TolerantLoader(yaml.SafeLoader):
    """Safe YAML that reads tagged values (!vault, !unsafe) as plain ones."""


def _any_tag(loader, _suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


_TolerantLoader.add_multi_constructor('!', _any_tag)


def _shown(path):
    relative = os.path.relpath(path)
    return path if relative.startswith('..') else relative


def candidate_files(directory, group):
    """The files Ansible reads as group_vars of ``group`` in ``directory``, in its order."""
    base = os.path.join(directory, group)
    found = [base + ext for ext in EXTENSIONS if os.path.isfile(base + ext)]
    if os.path.isdir(base):
        for root, dirs, files in os.walk(base):
            dirs.sort()
            found.extend(os.path.join(root, name) for name in sorted(files)
                         if os.path.splitext(name)[1] in EXTENSIONS[1:])
    return found


def _read_variable(path, variable):
    try:
        with open(path, encoding='utf-8') as handle:
            data = yaml.load(handle, Loader=_TolerantLoader)  # noqa: S506 - a SafeLoader subclass
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None
    return data.get(variable) if isinstance(data, Mapping) else None


def declaring_files(directories, groups, variable):
    """[(file, group, value)] for every group_vars file of ``groups`` that sets ``variable``."""
    found, seen = [], set()
    for directory in directories or []:
        if not directory or not os.path.isdir(directory):
            continue
        for group in groups:
            for path in candidate_files(directory, group):
                real = os.path.realpath(path)
                value = _read_variable(path, variable)
                if real in seen or value is None:
                    continue
                seen.add(real)
                found.append((_shown(path), group, value))
    return found


def sources_by_key(files, effective=None):
    """{group: [files declaring that group's networks]}; with ``effective``, only the files whose
    declaration for the group is the one the host sees (same network names)."""
    wanted = _names_by_group(effective) if effective is not None else None
    sources = {}
    for path, _group, value in files:
        for group, names in _names_by_group(value).items():
            if wanted is None or wanted.get(group) == names:
                sources.setdefault(group, []).append(path)
    return sources


def _names_by_group(value):
    names = {}
    for group, items in (value or {}).items() if isinstance(value, Mapping) else ():
        names[str(group)] = set(item.get('name') for item in items or [] if isinstance(item, Mapping))
    return names


def replaced_declarations(effective, files, group_names, variable):
    """Problems for declarations of the host's groups that another group_vars file's ``variable`` replaced."""
    if len(files) < 2:
        return []
    wanted = _names_by_group(effective)
    winners = [path for path, _group, value in files if _names_by_group(value) == wanted]
    if not winners:
        return []   # the host's value comes from elsewhere (play or role vars, extra vars): an override
    problems = []
    for path, _group, value in files:
        if path == winners[-1]:
            continue
        for group, names in sorted(_names_by_group(value).items()):
            lost = sorted(str(name) for name in names - wanted.get(group, set()))
            if group in group_names and lost:
                problems.append('%s in %s declares networks %s for group %s, but this host sees %s from %s, which '
                                'replaces it (Ansible does not merge a dictionary set in two group_vars files); '
                                'declare %s once, for example in group_vars/all.yml'
                                % (variable, path, ', '.join(lost), group, variable, winners[-1], variable))
    return problems
