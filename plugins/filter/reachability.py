# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Expected and observed reachability between probe containers, and the matrix verify.yml prints.

A probe is one container on one network on one host. What must reach what is derived from the
networks (same network and either the same host or a multi-host network: reach; anything else:
isolated) unless the inventory declares otherwise.
"""

from __future__ import annotations

import fnmatch

from ansible.errors import AnsibleFilterError

REACH = 'reach'
ISOLATED = 'isolated'


def _matches(pattern, probe):
    # Rules name host:network; several probes of one network on one host share that name.
    return fnmatch.fnmatchcase('%s:%s' % (probe['host'], probe['network']), pattern)


def derived_expectation(source, target):
    if source['network'] != target['network']:
        return ISOLATED
    if source['host'] == target['host'] or target.get('multi_host'):
        return REACH
    return ISOLATED


def reach_plan(probes, rules=None):
    """Every ordered pair (source, target) of distinct probes with the expected outcome."""
    rules = rules or []
    for rule in rules:
        if rule.get('expect') not in (REACH, ISOLATED) or not rule.get('from') or not rule.get('to'):
            raise AnsibleFilterError("verify rule %r needs from, to and expect: reach|isolated" % (rule,))
    probes = sorted(probes, key=lambda probe: probe['id'])
    ids = [probe['id'] for probe in probes]
    if len(set(ids)) != len(ids):
        raise AnsibleFilterError('probe ids are not unique: %s' % sorted(set(i for i in ids if ids.count(i) > 1)))
    plan = []
    for source in probes:
        for target in probes:
            if source is target:
                continue
            expect, why = derived_expectation(source, target), 'derived'
            for rule in rules:
                if _matches(rule['from'], source) and _matches(rule['to'], target):
                    expect, why = rule['expect'], 'declared'
            plan.append(dict(source=source['id'], source_host=source['host'], source_container=source['name'],
                             target=target['id'], target_ip=target['ip'], target_name=target['name'],
                             same_network=source['network'] == target['network'], expect=expect, why=why))
    return plan


def reach_matrix(plan, observations):
    """Compare observations with the plan; return cells, mismatches and a printable matrix.

    ``observations`` maps 'source>target' to {'ping': bool, 'dns': bool}. A pair must reach
    when both ping and name resolution succeed, and is isolated when neither does.
    """
    cells, mismatches = {}, []
    for pair in plan:
        key = '%s>%s' % (pair['source'], pair['target'])
        seen = observations.get(key)
        if seen is None:
            outcome = 'missing'
        elif seen.get('ping') and seen.get('dns'):
            outcome = REACH
        elif not seen.get('ping') and not seen.get('dns'):
            outcome = ISOLATED
        else:
            outcome = 'partial(ping=%s,dns=%s)' % ('ok' if seen.get('ping') else 'no', 'ok' if seen.get('dns') else 'no')
        cells[key] = outcome
        if outcome != pair['expect']:
            mismatches.append(dict(pair, observed=outcome))
    ids = []
    for pair in plan:
        for probe_id in (pair['source'], pair['target']):
            if probe_id not in ids:
                ids.append(probe_id)
    index = dict((probe_id, 'P%d' % number) for number, probe_id in enumerate(ids, 1))
    expected = dict(('%s>%s' % (p['source'], p['target']), p['expect']) for p in plan)
    lines = ['legend: ' + ', '.join('%s=%s' % (index[i], i) for i in ids),
             'cells: R reach, - isolated, as expected; X! must reach but does not, L! must be isolated but leaks, ?! missing',
             '      ' + ' '.join('%4s' % index[i] for i in ids)]
    for source in ids:
        row = []
        for target in ids:
            key = '%s>%s' % (source, target)
            if source == target:
                row.append('   .')
            elif key not in cells:
                row.append('    ')
            elif cells[key] == expected[key]:
                row.append('   R' if cells[key] == REACH else '   -')
            elif cells[key] == 'missing':
                row.append('  ?!')
            elif expected[key] == REACH:
                row.append('  X!')
            else:
                row.append('  L!')
        lines.append('%5s ' % index[source] + ' '.join(row))
    lines.append('%d pairs, %d as expected, %d mismatches' % (len(plan), len(plan) - len(mismatches), len(mismatches)))
    return dict(cells=cells, mismatches=mismatches, table=lines, ok=not mismatches)


class FilterModule:
    def filters(self):
        return dict(reach_plan=reach_plan, reach_matrix=reach_matrix)
