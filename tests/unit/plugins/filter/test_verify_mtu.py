# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""verify.yml's MTU check: what each probe saw against what its network should give, and where it shows."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.netfleet.docker.plugins.filter.reachability import (
    reach_matrix, reach_observations, reach_plan, verify_mtu, verify_probes, verify_targets)
from ansible_collections.netfleet.docker.plugins.filter.verify_report import verify_report_html, verify_stats, verify_summary
from ansible_collections.netfleet.docker.plugins.plugin_utils import verify_mtu as mtus

OPTION = 'com.docker.network.driver.mtu'


def net(name, driver='bridge', options=None, scope='local'):
    return dict(name=name, driver=driver, scope=scope, labels={'netfleet.managed': 'true'}, driver_options=options or {},
                ipam=dict(config=[dict(subnet='10.%d.0.0/24' % (len(name) + (10 if driver == 'overlay' else 0)))]))


@pytest.mark.parametrize('network, default_mtu, expected, why', [
    (net('b', options={OPTION: '1400'}), 0, 1400, 'driver option'),
    (net('b', options={OPTION: '1400'}), 9000, 1400, 'driver option'),            # the network's own option wins
    (net('b'), 1400, 1400, "fleet's daemon mtu"),                               # the daemon mtu reaches docker0 only
    (net('b'), 0, 1500, "Docker's default"),
    (net('o', 'overlay', {OPTION: '1500'}), 0, 1450, 'VXLAN 50'),               # the option is the underlay MTU
    (net('o', 'overlay', {OPTION: '1450'}), 1400, 1400, 'driver mtu 1450'),     # the daemon mtu is not an overlay's
    (net('o', 'overlay', {OPTION: '1500', 'encrypted': ''}), 0, 1424, 'ESP'),
    (net('o', 'overlay', {OPTION: '1450', 'encrypted': ''}), 0, 1372, 'ESP'),   # 1450-50-26 = 1374, rounded to 4
    (net('o', 'overlay'), 0, 1450, "Docker's default 1500"),
    (net('m', 'macvlan', {OPTION: '9000'}), 0, 9000, 'driver option'),
    (net('m', 'macvlan'), 1400, None, "parent's MTU"),
])
def test_expected_mtu_per_driver(network, default_mtu, expected, why):
    mtu, reason = mtus.expected_mtu(network, default_mtu)
    assert mtu == expected and why in reason


def probes_of(host, networks, default_mtu=0):
    targets = verify_targets(networks, networks, default_mtu=default_mtu)
    lines = ['/nfprobe-%s-%s-%d %s 10.%d.0.%d' % (host, t['name'], n, t['name'], len(t['name']), n + 1)
             for t in targets for n in (1, 2)]
    return verify_probes(lines, host, targets)


def fleet(default_mtu=0):
    networks = [net('front', options={OPTION: '1400'}), net('back'), net('ov', 'overlay', {OPTION: '1450'}, 'swarm')]
    return probes_of('h1', networks, default_mtu) + probes_of('h2', networks, default_mtu)


def probe_run(probes, wrong=None, silent=()):
    """Each host's registered exec output: the MTU lines (one per probe) and the pair lines."""
    hostvars = {}
    for probe in probes:
        value = wrong[1] if wrong and probe['name'] == wrong[0] else probe['mtu']
        lines = hostvars.setdefault(probe['host'], dict(verify_run=dict(stdout_lines=[])))['verify_run']['stdout_lines']
        if probe['name'] not in silent:
            lines.append('mtu %s %d' % (probe['name'], value))
    return hostvars


def verdict(probes, hostvars):
    plan = reach_plan(probes, mode='full')
    seen = dict(('%s>%s' % (p['source'], p['target']), dict(ping=p['expect'] == 'reach', dns=p['expect'] == 'reach'))
                for p in plan)
    return plan, verify_mtu(reach_matrix(plan, seen, table=False), probes, sorted(hostvars), hostvars)


def test_probes_carry_the_mtu_their_network_should_give():
    by_network = dict((p['network'], (p['mtu'], p['mtu_why'])) for p in fleet(default_mtu=1400))
    assert by_network['front'][0] == 1400 and by_network['back'][0] == 1400 and by_network['ov'][0] == 1400
    assert "fleet's daemon mtu" in by_network['back'][1]
    assert dict((p['network'], p['mtu']) for p in fleet())['back'] == 1500


def test_every_mtu_as_expected_passes():
    probes = fleet()
    plan, result = verdict(probes, probe_run(probes))
    assert result['ok'] and result['mtu']['checked'] == len(probes) == result['mtu']['as_expected']
    assert result['mtu']['mismatches'] == [] and result['mtu']['lines'] == []


def test_a_wrong_mtu_fails_naming_host_network_expected_and_seen():
    probes = fleet(default_mtu=1400)
    # the daemon mtu 1400 never reached 'back' (no mtu option): its containers see Docker's 1500
    plan, result = verdict(probes, probe_run(probes, wrong=('nfprobe-h2-back-1', 1500)))
    assert not result['ok'] and result['cells'] and not result['mismatches']   # the pairs were all fine
    assert [(m['host'], m['network'], m['expected'], m['seen']) for m in result['mtu']['mismatches']] == [
        ('h2', 'back', 1400, 1500)]
    assert result['mtu']['lines'] == ["MTU back on h2 (nfprobe-h2-back-1): expected 1400 (the fleet's daemon mtu "
                                      "(networks_default_mtu); the bridge has no mtu option), seen 1500"]
    summary = verify_summary(result, plan, probes)
    assert summary['total']['verdict'] == 'fail'
    assert dict((n['name'], n['verdict']) for n in summary['networks']) == {'back': 'fail', 'front': 'pass', 'ov': 'pass'}
    assert dict((h['name'], h['failing']) for h in summary['hosts']) == {'h1': [], 'h2': ['back']}
    assert 'MISMATCH ' + result['mtu']['lines'][0] in summary['lines']
    assert 'MTU seen in the probes: 12 checked, 11 as expected, 1 mismatches, 0 not checkable' in summary['lines']
    stats = verify_stats(summary)['verify']
    assert not stats['ok'] and stats['mtu_mismatches'] == result['mtu']['lines']
    page = verify_report_html(result, plan, probes)
    assert '<table id="mtu">' in page and '<td>nfprobe-h2-back-1</td><td>1400</td><td>1500</td>' in page


def test_a_probe_that_printed_no_mtu_is_a_mismatch_not_a_pass():
    probes = fleet()
    _plan, result = verdict(probes, probe_run(probes, silent=('nfprobe-h1-ov-2',)))
    assert not result['ok'] and result['mtu']['mismatches'][0]['seen'] is None
    assert 'seen nothing (the probe printed no MTU)' in result['mtu']['lines'][0]


def test_macvlan_without_option_is_not_checkable_and_does_not_fail():
    probes = probes_of('h1', [net('mv', 'macvlan')])
    plan, result = verdict(probes, probe_run([dict(p, mtu=1500) for p in probes]))
    assert result['ok'] and result['mtu']['checked'] == 0 and len(result['mtu']['unchecked']) == 2
    assert 'not checkable' in verify_summary(result, plan, probes)['lines'][-2]


def test_mtu_lines_are_not_pairs_and_pair_lines_are_not_mtus():
    hostvars = dict(h1=dict(verify_run=dict(stdout_lines=['mtu nfprobe-h1-a-1 1500', 'h1:a/1>h1:a/2 1 1'])))
    assert reach_observations(['h1'], hostvars) == {'h1:a/1>h1:a/2': dict(ping=True, dns=True)}
    assert mtus.seen_mtus(hostvars['h1']['verify_run']['stdout_lines']) == {'nfprobe-h1-a-1': 1500}


def test_verify_mtu_needs_a_reach_matrix_result():
    with pytest.raises(AnsibleFilterError):
        verify_mtu([], [], [], {})
