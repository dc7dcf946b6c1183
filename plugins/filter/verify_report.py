# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""verify.yml's summary (console and set_stats) and its self-contained HTML report."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.netfleet.docker.plugins.plugin_utils import verify_report, verify_summary as summaries


def _checked_inputs(result, plan, probes):
    if not isinstance(result, Mapping) or 'cells' not in result:
        raise AnsibleFilterError('verify result must be the output of reach_matrix, not %r' % (type(result).__name__,))
    return result, list(plan or []), list(probes or [])


def verify_summary(result, plan, probes):
    """Verdicts per network, pair of networks and host, with ``lines``: the console's summary table."""
    result, plan, probes = _checked_inputs(result, plan, probes)
    summary = summaries.summarize(plan, result, probes)
    summary['lines'] = summaries.summary_lines(summary)
    return summary


def verify_report_html(result, plan, probes, meta=None):
    """The report page: the fleet drawn in SVG, verdicts per network and pair of networks, failures."""
    result, plan, probes = _checked_inputs(result, plan, probes)
    return verify_report.render(summaries.summarize(plan, result, probes), plan, result, probes, meta)


def verify_stats(summary, report=None, mode=None):
    """The data for ansible.builtin.set_stats: verdict, counts, report path, one entry per host."""
    if not isinstance(summary, Mapping) or 'total' not in summary:
        raise AnsibleFilterError('verify_stats needs the output of verify_summary')
    return summaries.stats(summary, report, mode)


class FilterModule:
    def filters(self):
        return dict(verify_summary=verify_summary, verify_report_html=verify_report_html, verify_stats=verify_stats)
