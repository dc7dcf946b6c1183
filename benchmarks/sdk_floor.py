# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The floor of `make bench`: what one Python process with the raw Docker SDK needs.

Usage: python sdk_floor.py create|check|remove COUNT PREFIX

One ``docker.APIClient`` and nothing else: ``create`` makes COUNT bridge networks
(PREFIX0 .. PREFIX<COUNT-1>, the i-th with subnet 10.200.i.0/24), ``check`` lists the
engine's networks once and compares each wanted one (name and subnet), ``remove`` removes
them by name. Prints one JSON line: the phase, the count and how many networks were (or,
for ``check``, would have to be) changed. The harness times the whole process.
"""

from __future__ import annotations

import json
import sys

import docker
from docker.types import IPAMConfig, IPAMPool


def wanted_networks(count, prefix):
    return [('%s%d' % (prefix, index), '10.200.%d.0/24' % index) for index in range(count)]


def create(api, wanted):
    for name, subnet in wanted:
        api.create_network(name, driver='bridge', ipam=IPAMConfig(pool_configs=[IPAMPool(subnet=subnet)]))
    return len(wanted)


def check(api, wanted):
    have = dict((net['Name'], net) for net in api.networks())
    differing = 0
    for name, subnet in wanted:
        network = have.get(name)
        pools = ((network or {}).get('IPAM') or {}).get('Config') or []
        if network is None or [pool.get('Subnet') for pool in pools] != [subnet]:
            differing += 1
    return differing


def remove(api, wanted):
    for name, dummy in wanted:
        api.remove_network(name)
    return len(wanted)


PHASES = dict(create=create, check=check, remove=remove)


def main(argv):
    if len(argv) != 4 or argv[1] not in PHASES:
        sys.stderr.write('usage: sdk_floor.py create|check|remove COUNT PREFIX\n')
        return 2
    phase, count, prefix = argv[1], int(argv[2]), argv[3]
    if not 0 < count <= 256:
        sys.stderr.write('COUNT must be 1..256 (subnets 10.200.i.0/24)\n')
        return 2
    api = docker.APIClient(version='auto')
    changed = PHASES[phase](api, wanted_networks(count, prefix))
    sys.stdout.write(json.dumps(dict(phase=phase, count=count, changed=changed)) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
