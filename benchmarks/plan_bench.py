# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet address planning at scale: 10,000 hosts x 8 networks + bip + local pool + swarm pool.

Prints the median of several runs of a first plan and of a re-plan after adding 100 hosts
(the stable path: every earlier allocation is claimed again), and checks the results are
disjoint and that nothing moved. Run: .venv/bin/python benchmarks/plan_bench.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import tracemalloc

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '.collections'))

from ansible_collections.netfleet.docker.plugins.module_utils._plan import address_plan  # noqa: E402  pylint: disable=wrong-import-position


def fleet_spec(hosts):
    return dict(
        supernets={'fleet': '10.64.0.0/10', 'pools': '100.64.0.0/10', 'swarm': '10.192.0.0/12'},
        exclude=[dict(cidr='10.64.0.0/16', reason='corporate'), dict(cidr='10.80.0.0/14', reason='vpn')],
        hosts=hosts,
        networks=[dict(name='net%d' % index, prefix=27, supernet='fleet') for index in range(8)],
        bip=dict(prefix=27, supernet='fleet'),
        address_pools=dict(prefix=24, size=27, supernet='pools'),
        swarm_pool=dict(prefix=16, size=24, supernet='swarm'),
    )


def timed(func, *args):
    start = time.perf_counter()
    result = func(*args)
    return time.perf_counter() - start, result


def main(reps=5):
    hosts = ['host%05d' % index for index in range(10000)]
    first_times, replan_times = [], []
    for _rep in range(reps):
        seconds, (plan, state, _report) = timed(address_plan.plan, fleet_spec(hosts))
        first_times.append(seconds)
        grown = hosts[:5000] + ['new%03d' % index for index in range(100)] + hosts[5000:]
        seconds, (plan2, _state2, report2) = timed(address_plan.plan, fleet_spec(grown), state)
        replan_times.append(seconds)
        if report2['moved'] or any(plan2['hosts'][host] != plan['hosts'][host] for host in hosts):
            raise SystemExit('an allocation moved when hosts were added')
    tracemalloc.start()
    address_plan.plan(fleet_spec(hosts))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    allocations = len(state['allocations'])
    print('planner: 10,000 hosts x 8 networks + bip + pool, swarm pool = %d allocations' % allocations)
    print('  first plan  median %.2f s (min %.2f, max %.2f) over %d runs' % (
        statistics.median(first_times), min(first_times), max(first_times), reps))
    print('  re-plan +100 hosts  median %.2f s (min %.2f, max %.2f); nothing moved' % (
        statistics.median(replan_times), min(replan_times), max(replan_times)))
    print('  peak traced memory %.0f MB' % (peak / 1e6))


if __name__ == '__main__':
    main()
