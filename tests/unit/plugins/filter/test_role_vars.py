# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Roles refuse variables with their prefix that they do not know; task args stay in step with the modules."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.netfleet.docker.plugins.filter.role_vars import known_options, unknown_role_vars
from ansible_collections.netfleet.docker.plugins.plugin_utils import module_specs

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
SPECS = dict(argument_specs=dict(main=dict(options=dict(networks_by_group={}, networks_host={})),
                                 other=dict(options=dict(networks_plan={}))))


def _load(*parts):
    with open(os.path.join(ROOT, *parts), encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def test_a_typo_is_refused_with_the_closest_name():
    problems = unknown_role_vars(['networks_by_grup', 'networks_host', 'other_var', 'networks_result'], SPECS,
                                 'networks_', ['networks_result'])
    assert len(problems) == 1
    assert problems[0].startswith('networks_by_grup is not a variable of this role: did you mean networks_by_group?')


def test_every_entry_point_counts_and_no_prefix_is_an_error():
    assert known_options(SPECS) == {'networks_by_group', 'networks_host', 'networks_plan'}
    assert unknown_role_vars(['networks_plan'], SPECS, 'networks_') == []
    assert 'did you mean' not in unknown_role_vars(['networks_zzzzzzzzzzzzzz'], SPECS, 'networks_')[0]
    with pytest.raises(AnsibleFilterError, match='prefix'):
        unknown_role_vars([], SPECS, '')


@pytest.mark.parametrize('role', ['daemon', 'kv_store', 'overlay', 'networks'])
def test_every_role_checks_its_variables_first(role):
    tasks = _load('roles', role, 'tasks', 'main.yml')
    first = tasks[0]
    assert first.get('ansible.builtin.import_tasks') in ('validate_vars.yml', 'validate.yml')
    checks = _load('roles', role, 'tasks', first['ansible.builtin.import_tasks'])
    assert 'netfleet.docker.unknown_role_vars' in checks[0]['vars']['_%s_unknown_vars' % role]


def _task(path, module):
    for task in _load(*path):
        if module in task:
            return task[module]
    raise AssertionError('%s not in %s' % (module, path))


@pytest.mark.parametrize('path, module, name', [
    (('roles', 'networks', 'tasks', 'forwarding.yml'), 'netfleet.docker.ip_forward', 'ip_forward'),
    (('roles', 'networks', 'tasks', 'main.yml'), 'netfleet.docker.macvlan_net', 'macvlan_net'),
])
def test_role_passes_every_module_option_by_name(path, module, name):
    # A templated argument dict warns "unsafe" on every run; naming the options must not drop any.
    assert sorted(_task(path, module)) == sorted(module_specs.argument_spec(name))
