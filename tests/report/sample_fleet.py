# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A sample verify run (the lab's shape: bridges per host, one overlay) with one leak, as verify.yml would see it.

Run as a script to write the report: ``python tests/report/sample_fleet.py OUT.html [HOSTS]``.
"""

from __future__ import annotations

import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
COLLECTIONS = os.path.join(ROOT, '.collections')
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)

from ansible_collections.netfleet.docker.plugins.filter.reachability import (  # noqa: E402
    reach_matrix, reach_plan, verify_probes)
from ansible_collections.netfleet.docker.plugins.filter.verify_report import (  # noqa: E402
    verify_report_html, verify_summary)

TARGETS = [dict(name='demo_backend', driver='bridge', scope='local', internal=False, gateway_mode='nat'),
           dict(name='demo_frontend', driver='bridge', scope='local', internal=False, gateway_mode='nat'),
           dict(name='demo_overlay', driver='overlay', scope='swarm', internal=False, gateway_mode=None,
                subnets=['10.236.0.0/24'])]


def fleet_probes(hosts=3):
    probes = []
    for number in range(1, hosts + 1):
        host = 'lab%d' % number
        targets = [dict(t, subnets=t.get('subnets') or ['10.%d.%d.0/24' % (30 + i, number)]) for i, t in enumerate(TARGETS)]
        lines = []
        for probe_number in (1, 2):
            lines.append('/nfprobe-%s-demo_backend-%d demo_backend 10.30.%d.%d' % (host, probe_number, number, probe_number + 1))
            lines.append('/nfprobe-%s-demo_frontend-%d demo_frontend 10.31.%d.%d' % (host, probe_number, number, probe_number + 1))
            lines.append('/nfprobe-%s-demo_overlay-%d demo_overlay 10.236.0.%d' % (host, probe_number, number * 2 + probe_number))
        probes += verify_probes(lines, host, targets)
    return probes


def observations(plan, probes, leak=('lab2', 'demo_frontend', 'demo_backend')):
    """A healthy network, except that on host leak[0] network leak[1] reaches leak[2]."""
    by_id = dict((probe['id'], probe) for probe in probes)
    seen = {}
    for pair in plan:
        source, target = by_id[pair['source']], by_id[pair['target']]
        reach = source['network'] == target['network'] and (source['host'] == target['host'] or target['multi_host'])
        leaking = leak and source['host'] == target['host'] == leak[0] and (source['network'], target['network']) == leak[1:]
        seen['%s>%s' % (pair['source'], pair['target'])] = dict(ping=reach or bool(leaking), dns=reach)
    return seen


def sample_run(hosts=3, mode='sample', leak=('lab2', 'demo_frontend', 'demo_backend')):
    probes = fleet_probes(hosts)
    plan = reach_plan(probes, mode=mode)
    result = reach_matrix(plan, observations(plan, probes, leak), table=hosts <= 4)
    return probes, plan, result


def main(argv):
    out = argv[1] if len(argv) > 1 else 'verify-report.html'
    probes, plan, result = sample_run(int(argv[2]) if len(argv) > 2 else 3)
    with open(out, 'w', encoding='utf-8') as stream:
        stream.write(verify_report_html(result, plan, probes, dict(mode='sample', run='sample data')))
    print('\n'.join(verify_summary(result, plan, probes)['lines']))
    print('report: %s' % out)


if __name__ == '__main__':
    main(sys.argv)
