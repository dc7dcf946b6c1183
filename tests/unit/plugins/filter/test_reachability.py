# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reachability plan and matrix used by playbooks/verify.yml."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.netfleet.docker.plugins.filter.reachability import reach_matrix, reach_plan


def probe(host, network, ip, multi_host=False):
    return dict(id='%s:%s' % (host, network), host=host, network=network, ip=ip,
                name='nfprobe-%s-%s' % (host, network), multi_host=multi_host)


PROBES = [
    probe('h1', 'web', '10.1.0.2'), probe('h1', 'db', '10.2.0.2'),
    probe('h2', 'web', '10.1.0.2'),
    probe('h1', 'ov', '10.9.0.2', multi_host=True), probe('h2', 'ov', '10.9.0.3', multi_host=True),
]


def expectations(plan):
    return dict(('%s>%s' % (p['source'], p['target']), p['expect']) for p in plan)


def test_derived_rules():
    plan = expectations(reach_plan(PROBES))
    assert len(plan) == 5 * 4
    assert plan['h1:ov>h2:ov'] == 'reach' and plan['h2:ov>h1:ov'] == 'reach'
    assert plan['h1:web>h2:web'] == 'isolated', 'bridge networks are host-local'
    assert plan['h1:web>h1:db'] == 'isolated'
    assert plan['h1:web>h1:ov'] == 'isolated'


def test_declared_rules_override_last_wins():
    rules = [dict(to='*:db', expect='reach'), dict(to='h1:db', expect='isolated')]
    for rule in rules:
        rule['from'] = 'h1:web'
    plan = reach_plan(PROBES, rules)
    pair = [p for p in plan if p['source'] == 'h1:web' and p['target'] == 'h1:db'][0]
    assert pair['expect'] == 'isolated' and pair['why'] == 'declared'


@pytest.mark.parametrize('rule', [dict(to='x', expect='reach'), dict(**{'from': 'x', 'to': 'y', 'expect': 'maybe'})])
def test_bad_rules_refused(rule):
    with pytest.raises(AnsibleFilterError, match='needs from, to and expect'):
        reach_plan(PROBES, [rule])


def test_rules_match_host_and_network_of_numbered_probes():
    first = dict(probe('h1', 'web', '10.1.0.2'), id='h1:web/1')
    second = dict(probe('h1', 'web', '10.1.0.3'), id='h1:web/2')
    plan = reach_plan([first, second], [{'from': 'h1:web', 'to': 'h1:web', 'expect': 'isolated'}])
    assert [p['expect'] for p in plan] == ['isolated', 'isolated']
    assert [p['expect'] for p in reach_plan([first, second])] == ['reach', 'reach']


def test_duplicate_probe_ids_refused():
    with pytest.raises(AnsibleFilterError, match='not unique'):
        reach_plan([PROBES[0], PROBES[0]])


def test_matrix_as_expected_and_mismatches():
    plan = reach_plan(PROBES[3:])
    good = {'h1:ov>h2:ov': dict(ping=True, dns=True), 'h2:ov>h1:ov': dict(ping=True, dns=True)}
    result = reach_matrix(plan, good)
    assert result['ok'] and result['mismatches'] == []
    assert result['table'][-1] == '2 pairs, 2 as expected, 0 mismatches'
    bad = {'h1:ov>h2:ov': dict(ping=True, dns=False)}
    result = reach_matrix(plan, bad)
    assert not result['ok']
    observed = sorted(m['observed'] for m in result['mismatches'])
    assert observed == ['missing', 'partial(ping=ok,dns=no)']
    assert any('X!' in line for line in result['table']) and any('?!' in line for line in result['table'])


def test_matrix_flags_leaks():
    plan = reach_plan(PROBES[:2])
    result = reach_matrix(plan, {'h1:web>h1:db': dict(ping=True, dns=True), 'h1:db>h1:web': dict(ping=False, dns=False)})
    assert [m['source'] for m in result['mismatches']] == ['h1:web']
    assert any('L!' in line for line in result['table'])
