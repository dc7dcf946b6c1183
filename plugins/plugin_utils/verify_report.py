# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""verify.yml's HTML report: one self-contained page (inline CSS and SVG, no script, nothing fetched).

The fleet is drawn as one box per host with its networks, subnets and probe verdicts; multi-host
networks also get a fleet-wide band. Tables give the verdict per network and per pair of networks,
then every mismatch with the probes involved (source and target container, address, expected,
observed, what the pair was read from and why it was expected).
"""

from __future__ import annotations

from html import escape

from ansible_collections.netfleet.docker.plugins.plugin_utils import verify_mtu

PALETTE = ('#1f77b4', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f', '#ff7f0e', '#393b79')
VERDICT_COLOURS = dict(pass_='#1a7f37', fail='#cf222e', unchecked='#6e7781')
BOX_WIDTH, BOX_GAP, LINE, HEADER = 300, 24, 22, 30
CSS = '''
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1f2328;background:#fff}
h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;margin:28px 0 8px}
.meta{color:#57606a;font-size:13px}
.verdict{display:inline-block;padding:2px 10px;border-radius:12px;color:#fff;font-weight:600;font-size:13px}
.v-pass{background:#1a7f37} .v-fail{background:#cf222e} .v-unchecked{background:#6e7781}
table{border-collapse:collapse;font-size:13px;margin:4px 0} th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left}
th{background:#f6f8fa} tr.fail td{background:#ffebe9} td.num{text-align:right}
.grid td{text-align:center;min-width:64px} .chip{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
'''


def _colour(index):
    return PALETTE[index % len(PALETTE)]


def _badge(verdict):
    return '<span class="verdict v-%s">%s</span>' % (escape(verdict), escape(verdict.upper()))


def _verdict_colour(verdict):
    return VERDICT_COLOURS.get('pass_' if verdict == 'pass' else verdict, '#6e7781')


def _svg_text(x, y, text, size=12, weight='normal', fill='#1f2328'):
    return '<text x="%d" y="%d" font-size="%d" font-weight="%s" fill="%s">%s</text>' % (
        x, y, size, weight, fill, escape(str(text)))


def _host_box(host, x, y, height, colours, network_verdicts):
    failing = bool(host['failing'])
    parts = ['<g class="host" data-host="%s">' % escape(host['name']),
             '<rect x="%d" y="%d" width="%d" height="%d" rx="8" fill="%s" stroke="%s" stroke-width="%d"/>' % (
                 x, y, BOX_WIDTH, height, '#fff5f5' if failing else '#f6f8fa', '#cf222e' if failing else '#8c959f',
                 3 if failing else 1),
             _svg_text(x + 12, y + 20, host['name'], 14, 'bold')]
    for row, (network, subnet) in enumerate(sorted(host['networks'].items())):
        line_y = y + HEADER + row * LINE
        bad = network in host['failing']
        verdict = 'fail' if bad else network_verdicts.get(network, 'unchecked')
        parts.append('<rect x="%d" y="%d" width="12" height="12" rx="2" fill="%s"/>' % (x + 12, line_y, colours[network]))
        parts.append(_svg_text(x + 30, line_y + 11, '%s  %s' % (network, subnet or '')))
        parts.append('<circle cx="%d" cy="%d" r="6" fill="%s"><title>%s</title></circle>' % (
            x + BOX_WIDTH - 18, line_y + 6, _verdict_colour(verdict), escape(verdict)))
    parts.append('</g>')
    return parts


def _fleet_bands(networks, colours, width):
    parts, y = [], 10
    for network in networks:
        if not network['multi_host']:
            continue
        subnets = sorted(set(s for s in network['subnets'].values() if s))
        parts.append('<rect x="10" y="%d" width="%d" height="24" rx="6" fill="%s" opacity="0.18" stroke="%s"/>' % (
            y, width - 20, colours[network['name']], colours[network['name']]))
        parts.append(_svg_text(20, y + 17, '%s (%s, %s) spans %d hosts  %s' % (
            network['name'], network['driver'], ', '.join(subnets) or 'no IPv4 subnet', len(network['hosts']),
            network['verdict'].upper()), 13, 'bold'))
        y += 32
    return parts, y


def fleet_svg(summary, columns=4):
    """The fleet diagram: fleet-wide bands for multi-host networks, then one box per host."""
    colours = dict((n['name'], _colour(i)) for i, n in enumerate(summary['networks']))
    verdicts = dict((n['name'], n['verdict']) for n in summary['networks'])
    hosts = summary['hosts']
    columns = max(1, min(columns, len(hosts) or 1))
    width = 20 + columns * (BOX_WIDTH + BOX_GAP)
    parts, top = _fleet_bands(summary['networks'], colours, width)
    box_height = HEADER + LINE * max([len(h['networks']) for h in hosts] or [1]) + 6
    for index, host in enumerate(hosts):
        x = 10 + (index % columns) * (BOX_WIDTH + BOX_GAP)
        y = top + 10 + (index // columns) * (box_height + BOX_GAP)
        parts += _host_box(host, x, y, box_height, colours, verdicts)
    rows = (len(hosts) + columns - 1) // columns
    height = top + 20 + rows * (box_height + BOX_GAP)
    return ('<svg xmlns="http://www.w3.org/2000/svg" id="fleet" width="%d" height="%d" viewBox="0 0 %d %d" '
            'role="img" aria-label="fleet diagram">%s</svg>' % (width, height, width, height, ''.join(parts)))


def _network_table(summary):
    colours = dict((n['name'], _colour(i)) for i, n in enumerate(summary['networks']))
    rows = ['<table id="networks"><tr><th>network</th><th>driver</th><th>gateway mode</th><th>hosts</th>'
            '<th>subnets</th><th>pairs</th><th>as expected</th><th>mismatches</th><th>not checkable</th>'
            '<th>MTU mismatches</th><th>verdict</th></tr>']
    for net in summary['networks']:
        subnets = ', '.join(sorted(set(s for s in net['subnets'].values() if s))) or '-'
        rows.append('<tr class="%s"><td><span class="chip" style="background:%s"></span>%s</td><td>%s</td><td>%s</td>'
                    '<td class="num">%d</td><td>%s</td><td class="num">%d</td><td class="num">%d</td>'
                    '<td class="num">%d</td><td class="num">%d</td><td class="num">%d</td><td>%s</td></tr>' % (
                        net['verdict'], colours[net['name']], escape(net['name']), escape(net['driver'] or ''),
                        escape(net.get('gateway_mode') or '-'), len(net['hosts']), escape(subnets), net['pairs'],
                        net['as_expected'], net['mismatches'], net['unchecked'], net.get('mtu_mismatches', 0),
                        _badge(net['verdict'])))
    rows.append('</table>')
    return rows


def _pair_grid(summary):
    names = [n['name'] for n in summary['networks']]
    verdicts = dict((n['name'], n['verdict']) for n in summary['networks'])
    for pair in summary['network_pairs']:
        verdicts[tuple(pair['networks'])] = pair['verdict']
    rows = ['<table class="grid" id="network-pairs"><tr><th></th>%s</tr>' % ''.join(
        '<th>%s</th>' % escape(name) for name in names)]
    for first in names:
        cells = []
        for second in names:
            verdict = verdicts.get(first) if first == second else verdicts.get(tuple(sorted((first, second))))
            cells.append('<td>%s</td>' % (_badge(verdict) if verdict else '-'))
        rows.append('<tr><th>%s</th>%s</tr>' % (escape(first), ''.join(cells)))
    rows.append('</table><p class="meta">Diagonal: reach and isolation within the network (same host and across '
                'hosts). Elsewhere: the pairs between two networks (isolation unless a gateway mode or a rule says '
                'otherwise).</p>')
    return rows


def _pair_rows(pairs, probes_by_id, css=''):
    rows = []
    for pair in pairs:
        source, target = probes_by_id.get(pair['source'], {}), probes_by_id.get(pair['target'], {})
        rows.append('<tr class="%s"><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>'
                    '<td>%s</td><td>%s</td><td>%s</td></tr>' % tuple(
                        [css] + [escape(str(value)) for value in (
                            pair['source'], source.get('name', pair.get('source_container', '')), source.get('ip', ''),
                            pair['target'], pair.get('target_name', ''), pair.get('target_ip', ''), pair['expect'],
                            pair.get('observed', ''), pair.get('check') or 'nothing can tell', pair.get('why', ''))]))
    return rows


PAIR_HEADER = ('<tr><th>source</th><th>container</th><th>address</th><th>target</th><th>container</th>'
               '<th>address</th><th>expected</th><th>observed</th><th>read from</th><th>why</th></tr>')


def _failures(summary, probes_by_id):
    mtu = ['<p class="meta">%s</p>' % escape(verify_mtu.describe(mismatch))
           for mismatch in (summary.get('mtu') or {}).get('mismatches') or []]
    if not summary['mismatches']:
        return ['<p id="failures">No mismatch: every checked pair behaved as expected.</p>'] + mtu
    return (['<table id="failures">', PAIR_HEADER] + _pair_rows(summary['mismatches'], probes_by_id, 'fail')
            + ['</table>'] + mtu)


def _mtu_table(mtu):
    """Every probe whose MTU differs from its network's, and those verify cannot judge."""
    mismatches, unchecked = mtu.get('mismatches') or [], mtu.get('unchecked') or []
    rows = ['<p class="meta">%d probes checked, %d as expected, %d mismatches, %d not checkable.</p>' % (
        mtu.get('checked', 0), mtu.get('as_expected', 0), len(mismatches), len(unchecked))]
    if not mismatches and not unchecked:
        return rows
    rows.append('<table id="mtu"><tr><th>host</th><th>network</th><th>container</th><th>expected</th><th>seen</th>'
                '<th>why</th></tr>')
    for css, entry in [('fail', m) for m in mismatches] + [('', u) for u in unchecked]:
        rows.append('<tr class="%s"><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>' % tuple(
            [css] + [escape('-' if value is None else str(value)) for value in (
                entry['host'], entry['network'], entry['container'], entry['expected'], entry['seen'], entry['why'])]))
    rows.append('</table>')
    return rows


def _all_pairs(plan, cells, probes_by_id, limit):
    shown = [dict(pair, observed=cells.get('%s>%s' % (pair['source'], pair['target']), 'missing'))
             for pair in plan[:limit]]
    rows = ['<details><summary>Every checked pair (%d%s)</summary><table id="pairs">' % (
        len(plan), ', the first %d shown' % limit if len(plan) > limit else ''), PAIR_HEADER]
    rows += _pair_rows(shown, probes_by_id)
    rows.append('</table></details>')
    return rows


def render(summary, plan, result, probes, meta=None, pair_limit=2000):
    """The report page as one HTML string."""
    meta = dict(meta or {})
    total = summary['total']
    probes_by_id = dict((probe['id'], probe) for probe in probes)
    title = 'netfleet verify: %s' % total['verdict'].upper()
    facts = ', '.join('%s: %s' % (escape(str(k)), escape(str(v))) for k, v in sorted(meta.items()) if v is not None)
    body = ['<h1>%s %s</h1>' % (escape('Fleet reachability'), _badge(total['verdict'])),
            '<p class="meta">%d hosts, %d networks, %d pairs: %d as expected, %d mismatches, %d not checkable. %s</p>'
            % (len(summary['hosts']), len(summary['networks']), total['pairs'], total['as_expected'],
               total['mismatches'], total['unchecked'], facts),
            '<h2>Fleet</h2>', fleet_svg(summary),
            '<h2>Failures</h2>'] + _failures(summary, probes_by_id)
    body += ['<h2>Networks</h2>'] + _network_table(summary)
    body += ['<h2>MTU seen in the probes</h2>'] + _mtu_table(summary.get('mtu') or {})
    body += ['<h2>Pairs of networks</h2>'] + _pair_grid(summary)
    body += ['<h2>Pairs</h2>'] + _all_pairs(plan, result.get('cells') or {}, probes_by_id, pair_limit)
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>%s</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1"><style>%s</style></head>'
            '<body>%s</body></html>\n' % (escape(title), CSS, '\n'.join(body)))
