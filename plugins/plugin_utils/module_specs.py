# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's modules' own argument specs and validation, for checks run on the controller.

The roles validate their requests with exactly what the modules use, before the first change on a
host. A module keeps its spec as ``ARGUMENT_SPEC`` in its file (the driver pattern) or builds it
with ``argument_spec()`` in module_utils; both places are looked up.
"""

from __future__ import annotations

import importlib

PACKAGE = 'ansible_collections.netfleet.docker.plugins'
# module -> module_utils file that builds its spec, for modules that do not keep it in their file
SPEC_BUILDERS = {
    'docker_net': '_network.network_task',
    'macvlan_net': '_host.macvlan_task',
    'ip_forward': '_host.forwarding',
}


def _spec_of(python_module):
    spec = getattr(python_module, 'ARGUMENT_SPEC', None) or getattr(python_module, 'argument_spec', None)
    return spec() if callable(spec) else spec


def argument_spec(module_name):
    """The argument spec of netfleet.docker.<module_name> (a fresh dict)."""
    spec = _spec_of(importlib.import_module('%s.modules.%s' % (PACKAGE, module_name)))
    if spec is None and module_name in SPEC_BUILDERS:
        spec = _spec_of(importlib.import_module('%s.module_utils.%s' % (PACKAGE, SPEC_BUILDERS[module_name])))
    if spec is None:
        raise LookupError('netfleet.docker.%s: no argument spec found' % module_name)
    return dict(spec)


# Where docker_net's pure validation (requests -> DesiredNetwork or problems) lives, newest first.
DESIRED_NETWORKS = ('_network.network_steps', '_network.network_task')


def docker_net_request_problems(params):
    """What docker_net's own validation refuses in validated parameters (no engine needed)."""
    for name in DESIRED_NETWORKS:
        try:
            desired_networks = importlib.import_module('%s.module_utils.%s' % (PACKAGE, name)).desired_networks
        except (ImportError, AttributeError):
            continue
        return list(desired_networks(params)[1])
    network_spec = importlib.import_module(PACKAGE + '.module_utils._network.network_spec')
    problems = []
    for item in params.get('networks') or []:
        try:
            network_spec.DesiredNetwork(network_spec.merged_requests(params, item))
        except Exception as exc:  # pylint: disable=broad-except  # SpecError, EndpointError: both are problems
            problems.append(str(exc))
    return problems
