# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""verify.yml's summary table, set_stats data and self-contained HTML report."""

from __future__ import annotations

import re

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.netfleet.docker.plugins.filter.reachability import reach_matrix, reach_plan
from ansible_collections.netfleet.docker.plugins.filter.verify_report import (
    verify_report_html, verify_stats, verify_summary)


def probe(host, network, ip, number, subnet, overlay=False):
    return dict(id='%s:%s/%d' % (host, network, number), host=host, network=network, ip=ip, subnet=subnet,
                name='nfprobe-%s-%s-%d' % (host, network, number), driver='overlay' if overlay else 'bridge',
                multi_host=overlay, fleet_dns=overlay, internal=False, gateway_mode=None if overlay else 'nat')


def fleet(hosts=3):
    probes = []
    for h in range(1, hosts + 1):
        for n in (1, 2):
            probes.append(probe('h%d' % h, 'front', '10.1.%d.%d' % (h, n + 1), n, '10.1.%d.0/24' % h))
            probes.append(probe('h%d' % h, 'back<b>', '10.2.%d.%d' % (h, n + 1), n, '10.2.%d.0/24' % h))
            probes.append(probe('h%d' % h, 'ov', '10.9.0.%d' % (h * 2 + n), n, '10.9.0.0/24', overlay=True))
    return probes


def run(hosts=3, leak_host='h2', mode='sample'):
    probes = fleet(hosts)
    by_id = dict((p['id'], p) for p in probes)
    plan = reach_plan(probes, mode=mode)
    seen = {}
    for pair in plan:
        s, t = by_id[pair['source']], by_id[pair['target']]
        reach = s['network'] == t['network'] and (s['host'] == t['host'] or t['multi_host'])
        leak = s['host'] == t['host'] == leak_host and (s['network'], t['network']) == ('front', 'back<b>')
        seen['%s>%s' % (pair['source'], pair['target'])] = dict(ping=reach or leak, dns=reach)
    return probes, plan, reach_matrix(plan, seen, table=False)


def test_summary_per_network_pair_and_host():
    probes, plan, result = run()
    summary = verify_summary(result, plan, probes)
    verdicts = dict((n['name'], n['verdict']) for n in summary['networks'])
    assert verdicts == {'back<b>': 'pass', 'front': 'pass', 'ov': 'pass'}
    pairs = dict((' '.join(p['networks']), p['verdict']) for p in summary['network_pairs'])
    assert pairs == {'back<b> front': 'fail', 'back<b> ov': 'pass', 'front ov': 'pass'}
    hosts = dict((h['name'], h) for h in summary['hosts'])
    assert hosts['h2']['failing'] == ['front', 'back<b>'] and hosts['h1']['failing'] == []
    assert hosts['h1']['networks'] == {'back<b>': '10.2.1.0/24', 'front': '10.1.1.0/24', 'ov': '10.9.0.0/24'}
    assert summary['total'] == dict(pairs=len(plan), as_expected=len(plan) - 1, mismatches=1, unchecked=0, verdict='fail')


def test_console_lines_are_a_summary_not_a_matrix():
    probes, plan, result = run(hosts=12)
    lines = verify_summary(result, plan, probes)['lines']
    assert lines[0].split()[:3] == ['network', 'driver', 'hosts']
    assert any(line.startswith('MISMATCH h2:front/1 (nfprobe-h2-front-1) -> h2:back<b>/1') for line in lines)
    assert lines[-1].startswith('12 hosts, 3 networks: %d pairs' % len(plan)) and lines[-1].endswith('FAIL')
    assert len(lines) < 20 and max(len(line) for line in lines) < 200


def test_many_mismatches_are_cut_in_the_console():
    probes, plan, result = run()
    result = dict(result, mismatches=[dict(result['mismatches'][0]) for _index in range(25)])
    lines = verify_summary(result, plan, probes)['lines']
    assert sum(1 for line in lines if line.startswith('MISMATCH')) == 20
    assert '... and 5 more mismatches (see the report)' in lines


def test_stats_for_awx():
    probes, plan, result = run(leak_host=None)
    data = verify_stats(verify_summary(result, plan, probes), '/tmp/r.html', 'sample')['verify']
    assert data['ok'] and data['verdict'] == 'pass' and data['report'] == '/tmp/r.html' and data['mode'] == 'sample'
    assert data['pairs'] == len(plan) and data['mismatches'] == 0
    assert data['hosts']['h3'] == dict(probes=6, networks={'back<b>': '10.2.3.0/24', 'front': '10.1.3.0/24',
                                                           'ov': '10.9.0.0/24'}, failing=[])
    assert data['networks'] == {'back<b>': 'pass', 'front': 'pass', 'ov': 'pass'}


def test_nothing_checked_is_not_a_pass():
    summary = verify_summary(reach_matrix([], {}), [], [])
    assert summary['total']['verdict'] == 'unchecked'
    assert not verify_stats(summary)['verify']['ok']


def test_html_is_self_contained_and_shows_the_fleet_and_the_failure():
    probes, plan, result = run()
    page = verify_report_html(result, plan, probes, dict(mode='sample', generated='2026-01-02T03:04:05Z'))
    assert page.startswith('<!DOCTYPE html>') and page.rstrip().endswith('</html>')
    assert '<svg' in page and '<script' not in page.lower() and '<link' not in page.lower()
    assert re.findall(r'(?:https?:)?//[\w.-]+', page) == ['http://www.w3.org'], 'only the SVG namespace, nothing fetched'
    assert 'url(' not in page and '@import' not in page
    for text in ('h1', 'h2', 'h3', '10.1.2.0/24', '10.9.0.0/24', 'ov (overlay, 10.9.0.0/24) spans 3 hosts'):
        assert text in page
    assert 'back&lt;b&gt;' in page and 'back<b>' not in page, 'names are escaped'
    failures = page[page.index('<table id="failures">'):]
    failures = failures[:failures.index('</table>')]
    assert 'nfprobe-h2-front-1' in failures and '10.1.2.2' in failures and 'nfprobe-h2-back&lt;b&gt;-1' in failures
    assert 'partial(ping=ok,dns=no)' in failures and 'class="fail"' in failures
    assert 'data-host="h2"' in page and 'stroke="#cf222e"' in page
    assert '2026-01-02T03:04:05Z' in page


def test_html_without_failures_and_a_pair_limit():
    probes, plan, result = run(hosts=2, leak_host=None, mode='full')
    from ansible_collections.netfleet.docker.plugins.plugin_utils import verify_report, verify_summary as summaries
    page = verify_report.render(summaries.summarize(plan, result, probes), plan, result, probes, pair_limit=10)
    assert 'No mismatch' in page and 'the first 10 shown' in page
    assert page.count('<tr class="">') == 10


@pytest.mark.parametrize('call', [lambda: verify_summary([], [], []), lambda: verify_report_html(None, [], []),
                                  lambda: verify_stats({})])
def test_wrong_inputs_are_named(call):
    with pytest.raises(AnsibleFilterError, match='reach_matrix|verify_summary'):
        call()
