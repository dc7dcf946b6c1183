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


# -- shared subnets, per-host DNS, scoping ----------------------------------------------------------

from ansible_collections.netfleet.docker.plugins.filter.reachability import (  # noqa: E402
    reach_observations, verify_probes, verify_targets)


def numbered(host, network, ip, number, multi_host=False, fleet_dns=True):
    return dict(probe(host, network, ip, multi_host), id='%s:%s/%d' % (host, network, number),
                name='nfprobe-%s-%s-%d' % (host, network, number), fleet_dns=fleet_dns)


def test_same_subnet_on_every_host_is_not_a_false_failure():
    # A bridge with one subnet everywhere: h1's probe pinging h2's .3 reaches h1's own .3 instead.
    probes = [numbered('h1', 'web', '10.1.0.2', 1), numbered('h1', 'web', '10.1.0.3', 2),
              numbered('h2', 'web', '10.1.0.2', 1), numbered('h2', 'web', '10.1.0.3', 2)]
    plan = reach_plan(probes)
    cross = [p for p in plan if p['source_host'] != p['target'].split(':')[0]]
    assert all(p['expect'] == 'isolated' and p['check'] == 'dns' for p in cross)
    seen = dict(('%s>%s' % (p['source'], p['target']), dict(ping=True, dns=True))
                for p in plan)
    for pair in cross:
        seen['%s>%s' % (pair['source'], pair['target'])] = dict(ping=True, dns=False)
    result = reach_matrix(plan, seen)
    assert result['ok'], result['mismatches']


def test_macvlan_across_hosts_is_read_from_ping_only():
    probes = [numbered('h1', 'mv', '172.16.86.2', 1, True, False), numbered('h2', 'mv', '172.16.86.66', 1, True, False)]
    plan = reach_plan(probes)
    assert [p['check'] for p in plan] == ['ping', 'ping'] and [p['expect'] for p in plan] == ['reach', 'reach']
    result = reach_matrix(plan, dict((('%s>%s' % (p['source'], p['target'])), dict(ping=True, dns=False)) for p in plan))
    assert result['ok']
    result = reach_matrix(plan, dict((('%s>%s' % (p['source'], p['target'])), dict(ping=False, dns=False)) for p in plan))
    assert [m['observed'] for m in result['mismatches']] == ['isolated', 'isolated']


def test_a_pair_nothing_can_tell_is_not_checkable():
    probes = [numbered('h1', 'mv', '172.16.86.2', 1, True, False), numbered('h1', 'mv', '172.16.86.3', 2, True, False),
              numbered('h2', 'mv', '172.16.86.3', 1, True, False)]
    plan = reach_plan(probes)
    pair = [p for p in plan if p['source'] == 'h1:mv/1' and p['target'] == 'h2:mv/1'][0]
    assert pair['check'] == ''
    result = reach_matrix(plan, {})
    assert result['cells']['h1:mv/1>h2:mv/1'] == 'unchecked'
    assert 'not checkable' in result['table'][-1] and any('   ~' in line for line in result['table'])


NETS = [dict(name='front', driver='bridge', scope='local', labels={'netfleet.managed': 'true'}),
        dict(name='plain', driver='bridge', scope='local', labels={}),
        dict(name='cfg', driver='null', scope='local', config_only=True, labels={'netfleet.managed': 'true'}),
        dict(name='host', driver='host', scope='local', labels={'netfleet.managed': 'true'})]
OVERLAY = dict(name='demo_overlay', driver='overlay', scope='swarm', labels={})


def test_targets_by_label_and_declared_overlays_that_exist_somewhere():
    # A worker does not list the overlay; the manager does.
    targets = [dict((key, target[key]) for key in ('name', 'driver', 'scope'))
               for target in verify_targets(NETS, NETS + [OVERLAY], declared=['demo_overlay'])]
    assert targets == [dict(name='front', driver='bridge', scope='local'),
                       dict(name='demo_overlay', driver='overlay', scope='swarm')]


def test_a_declared_overlay_no_host_has_is_not_this_runs():
    assert [t['name'] for t in verify_targets(NETS, NETS, declared=['demo_overlay'])] == ['front']


def test_verify_networks_replaces_label_and_declared_overlays():
    targets = verify_targets(NETS, NETS + [OVERLAY], declared=['demo_overlay'], names=['plain'])
    assert [t['name'] for t in targets] == ['plain']
    with pytest.raises(AnsibleFilterError, match='no host of the play has: nope'):
        verify_targets(NETS, NETS, names=['nope'])


def test_probes_from_inspect_lines():
    targets = [dict(name='front', driver='bridge', scope='local'), dict(name='ov', driver='overlay', scope='swarm'),
               dict(name='mv', driver='macvlan', scope='local')]
    lines = ['/nfprobe-h1-front-1 front 10.1.0.2', '/nfprobe-h1-ov-2 ov 10.9.0.3', '/nfprobe-h1-mv-1 mv 172.16.86.2',
             '/other bridge 172.17.0.2']
    probes = verify_probes(lines, 'h1', targets)
    assert [(p['id'], p['multi_host'], p['fleet_dns']) for p in probes] == [
        ('h1:front/1', False, False), ('h1:ov/2', True, True), ('h1:mv/1', True, False)]
    assert probes[0]['name'] == 'nfprobe-h1-front-1' and probes[0]['ip'] == '10.1.0.2'
    with pytest.raises(AnsibleFilterError, match='no IPv4 address'):
        verify_probes(['/nfprobe-h1-front-1 front'], 'h1', targets)


def test_observations_from_every_host():
    hostvars = dict(h1=dict(verify_run=dict(stdout_lines=['a>b 1 0', 'junk'])), h2=dict(verify_run=dict(skipped=True)),
                    h3=dict(verify_run=dict(stdout_lines=['b>a 0 1'])))
    wanted = {'a>b': dict(ping=True, dns=False), 'b>a': dict(ping=False, dns=True)}
    assert reach_observations(['h1', 'h2', 'h3', 'h4'], hostvars) == wanted
