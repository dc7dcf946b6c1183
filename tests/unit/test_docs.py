# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The operator docs keep up with the collection: docs/modules.md has a section per module and
docs/roles.md one per role. The HTML build itself (and the generated reference) is `make docs`."""

from __future__ import annotations

import os
import re

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
DOCS = os.path.join(ROOT, 'docs')


def _read(name):
    with open(os.path.join(DOCS, name), encoding='utf-8') as stream:
        return stream.read()


def _sections(name):
    return set(re.findall(r'^## (\S+)\s*$', _read(name), re.MULTILINE))


MODULES = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, 'plugins', 'modules'))
                 if name.endswith('.py') and not name.startswith('_'))
ROLES = sorted(name for name in os.listdir(os.path.join(ROOT, 'roles'))
               if os.path.isdir(os.path.join(ROOT, 'roles', name, 'tasks')))


@pytest.mark.parametrize('module', MODULES)
def test_every_module_has_a_section(module):
    assert module in _sections('modules.md'), (
        'docs/modules.md has no "## %s" section: add one (purpose, key options, an example)' % module)


@pytest.mark.parametrize('role', ROLES)
def test_every_role_has_a_section(role):
    assert role in _sections('roles.md'), (
        'docs/roles.md has no "## %s" section: add one (purpose, variables with defaults, an example)' % role)
