# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""unknown_role_vars: variables with a role's prefix that the role does not know (typos).

``networks_by_grup`` instead of ``networks_by_group`` would otherwise converge nothing and
report success. Each role runs this first and fails naming the variable and the closest known one.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def known_options(argument_specs):
    """Every option name of every entry point of a role's meta/argument_specs.yml."""
    specs = (argument_specs or {}).get('argument_specs', argument_specs or {})
    if not isinstance(specs, Mapping):
        raise AnsibleFilterError('argument_specs must be the mapping of meta/argument_specs.yml, not %r' % (specs,))
    known = set()
    for entry in specs.values():
        known.update((entry or {}).get('options') or {})
    return known


def unknown_role_vars(names, argument_specs, prefix, extra_known=None):
    """One problem per variable that starts with ``prefix`` and is neither an option nor a result of the role."""
    if not prefix:
        raise AnsibleFilterError('unknown_role_vars needs the role prefix, for example networks_')
    known = known_options(argument_specs) | set(extra_known or [])
    problems = []
    for name in sorted(set(names or [])):
        if not name.startswith(prefix) or name in known:
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1)
        hint = 'did you mean %s? ' % close[0] if close else ''
        problems.append('%s is not a variable of this role: %sKnown: %s.' % (name, hint, ', '.join(sorted(known))))
    return problems


class FilterModule:
    def filters(self):
        return dict(unknown_role_vars=unknown_role_vars)
