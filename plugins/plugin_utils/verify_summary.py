# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""verify.yml's result per network, per pair of networks and per host: for the console, set_stats and the report.

A network's verdict comes from the pairs within it (same-host and cross-host reach or isolation);
a pair of networks' from the pairs between them (isolation, unless a gateway mode or a rule says
otherwise). ``pass``: every checked pair as expected; ``fail``: some mismatch; ``unchecked``: no
pair could be told. A probe that sees another MTU than its network should give (``result['mtu']``, from
verify_mtu) fails its network and its host, and the fleet.
"""

from __future__ import annotations

from ansible_collections.netfleet.docker.plugins.plugin_utils import verify_mtu

PASS = 'pass'
FAIL = 'fail'
UNCHECKED = 'unchecked'


def _tally():
    return dict(pairs=0, as_expected=0, mismatches=0, unchecked=0)


def _verdict(tally):
    if tally['mismatches']:
        return FAIL
    return PASS if tally['as_expected'] else UNCHECKED


def _count(tally, outcome, expect):
    tally['pairs'] += 1
    if outcome == 'unchecked':
        tally['unchecked'] += 1
    elif outcome == expect:
        tally['as_expected'] += 1
    else:
        tally['mismatches'] += 1


def _networks(probes):
    """name -> driver, hosts, subnet per host."""
    networks = {}
    for probe in sorted(probes, key=lambda probe: probe['id']):
        entry = networks.setdefault(probe['network'], dict(name=probe['network'], driver=probe.get('driver'),
                                                           multi_host=bool(probe.get('multi_host')),
                                                           gateway_mode=probe.get('gateway_mode'), subnets={}))
        entry['subnets'].setdefault(probe['host'], probe.get('subnet'))
    for entry in networks.values():
        entry['hosts'] = sorted(entry['subnets'])
    return networks


def _hosts(probes):
    hosts = {}
    for probe in sorted(probes, key=lambda probe: probe['id']):
        entry = hosts.setdefault(probe['host'], dict(name=probe['host'], probes=0, networks={}, failing=[]))
        entry['probes'] += 1
        entry['networks'].setdefault(probe['network'], probe.get('subnet'))
    return hosts


def summarize(plan, result, probes):
    """Tallies and verdicts per network, per pair of networks and per host, and the fleet's totals."""
    cells = result.get('cells') or {}
    networks, hosts = _networks(probes), _hosts(probes)
    within, between, total = {}, {}, _tally()
    for pair in plan:
        outcome = cells.get('%s>%s' % (pair['source'], pair['target']), 'missing')
        names = (pair['source_network'], pair['target_network'])
        tally = (within.setdefault(names[0], _tally()) if names[0] == names[1]
                 else between.setdefault(tuple(sorted(names)), _tally()))
        _count(tally, outcome, pair['expect'])
        _count(total, outcome, pair['expect'])
    for mismatch in result.get('mismatches') or []:
        for host, network in ((mismatch['source_host'], mismatch['source_network']),
                              (mismatch['target_host'], mismatch['target_network'])):
            if host in hosts and network not in hosts[host]['failing']:
                hosts[host]['failing'].append(network)
    mtu = _mtu_failures(result, networks, hosts)
    for name, entry in networks.items():
        entry.update(within.get(name, _tally()))
        entry['verdict'] = FAIL if entry['mtu_mismatches'] else _verdict(entry)
    pairs = [dict(networks=list(names), verdict=_verdict(tally), **tally) for names, tally in sorted(between.items())]
    total['verdict'] = (FAIL if mtu['mismatches'] else _verdict(total)) if plan else UNCHECKED
    return dict(networks=[networks[name] for name in sorted(networks)], network_pairs=pairs,
                hosts=[hosts[name] for name in sorted(hosts)], total=total,
                mismatches=list(result.get('mismatches') or []), mtu=mtu)


def _mtu_failures(result, networks, hosts):
    """The MTU verdict (verify_mtu) counted on its networks and hosts; an empty one without it."""
    mtu = dict(result.get('mtu') or dict(checked=0, as_expected=0, mismatches=[], unchecked=[]))
    for entry in networks.values():
        entry['mtu_mismatches'] = 0
    for mismatch in mtu.get('mismatches') or []:
        if mismatch['network'] in networks:
            networks[mismatch['network']]['mtu_mismatches'] += 1
        host = hosts.get(mismatch['host'])
        if host is not None and mismatch['network'] not in host['failing']:
            host['failing'].append(mismatch['network'])
    return mtu


def _row(cells, widths):
    return '  '.join(str(cell).ljust(width) for cell, width in zip(cells, widths)).rstrip()


def _table(header, rows):
    widths = [max(len(str(row[column])) for row in [header] + rows) for column in range(len(header))]
    return [_row(header, widths)] + [_row(row, widths) for row in rows]


def summary_lines(summary, mismatches_shown=20):
    """The console's tables: one row per network, one per pair of networks, then the first mismatches."""
    header = ('network', 'driver', 'hosts', 'pairs', 'as expected', 'mismatches', 'not checkable', 'verdict')
    rows = [(n['name'], n['driver'] or '', len(n['hosts']), n['pairs'], n['as_expected'], n['mismatches'],
             n['unchecked'], n['verdict'].upper()) for n in summary['networks']]
    lines = _table(header, rows)
    if summary['network_pairs']:
        pair_rows = [(' <> '.join(p['networks']), p['pairs'], p['as_expected'], p['mismatches'], p['unchecked'],
                      p['verdict'].upper()) for p in summary['network_pairs']]
        lines += [''] + _table(('networks', 'pairs', 'as expected', 'mismatches', 'not checkable', 'verdict'), pair_rows)
    lines += [''] if summary['mismatches'] else []
    for mismatch in summary['mismatches'][:mismatches_shown]:
        lines.append('MISMATCH %s (%s) -> %s (%s %s): expected %s, observed %s [%s]' % (
            mismatch['source'], mismatch['source_container'], mismatch['target'], mismatch['target_name'],
            mismatch['target_ip'], mismatch['expect'], mismatch['observed'], mismatch.get('why', '')))
    hidden = len(summary['mismatches']) - mismatches_shown
    if hidden > 0:
        lines.append('... and %d more mismatches (see the report)' % hidden)
    lines += _mtu_lines(summary.get('mtu') or {}, mismatches_shown)
    total = summary['total']
    lines.append('%d hosts, %d networks: %d pairs, %d as expected, %d mismatches, %d not checkable: %s' % (
        len(summary['hosts']), len(summary['networks']), total['pairs'], total['as_expected'], total['mismatches'],
        total['unchecked'], total['verdict'].upper()))
    return lines


def _mtu_lines(mtu, shown):
    """The MTU mismatches (host, network, expected, seen), then the MTU count."""
    if not mtu.get('checked') and not mtu.get('unchecked'):
        return []
    mismatches = mtu.get('mismatches') or []
    lines = [''] + ['MISMATCH %s' % verify_mtu.describe(mismatch) for mismatch in mismatches[:shown]]
    if len(mismatches) > shown:
        lines.append('... and %d more MTU mismatches (see the report)' % (len(mismatches) - shown))
    lines.append('MTU seen in the probes: %d checked, %d as expected, %d mismatches, %d not checkable' % (
        mtu.get('checked', 0), mtu.get('as_expected', 0), len(mismatches), len(mtu.get('unchecked') or [])))
    return lines


def stats(summary, report=None, mode=None):
    """What set_stats shows in an AWX job: the verdict, the report's path, one line per host."""
    total = summary['total']
    return dict(verify=dict(
        ok=total['verdict'] != FAIL and bool(total['pairs']), verdict=total['verdict'], mode=mode, report=report,
        pairs=total['pairs'], mismatches=total['mismatches'], not_checkable=total['unchecked'],
        mtu_mismatches=[verify_mtu.describe(mismatch) for mismatch in (summary.get('mtu') or {}).get('mismatches') or []],
        networks=dict((n['name'], n['verdict']) for n in summary['networks']),
        hosts=dict((h['name'], dict(probes=h['probes'], networks=h['networks'], failing=h['failing']))
                   for h in summary['hosts'])))
