# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.netfleet.docker.plugins.module_utils._common.outcome import UNCHANGED, Outcome


def test_nothing_recorded_is_unchanged():
    outcome = Outcome('network')
    assert outcome.changed is False
    assert outcome.result(True) == dict(changed=False, diff=[])
    assert outcome.result(False) == dict(changed=False)


def test_changed_derived_from_actions():
    outcome = Outcome('network')
    outcome.record('a', UNCHANGED, before=dict(x=1), after=dict(x=1))
    assert outcome.changed is False
    outcome.record('b', 'created', before=None, after=dict(x=2))
    assert outcome.changed is True
    assert outcome.result(False, networks=outcome.entries())['changed'] is True


def test_single_diff_is_a_dict():
    outcome = Outcome('network')
    outcome.record('a', UNCHANGED, before=dict(x=1), after=dict(x=1))
    outcome.record('b', 'created', after=dict(x=2))
    result = outcome.result(True)
    assert result['diff'] == dict(before={}, after=dict(x=2), before_header='network b (before)',
                                  after_header='network b (created)')


def test_several_diffs_are_a_list_in_record_order():
    outcome = Outcome('network')
    outcome.record('b', 'removed', before=dict(x=1), after={})
    outcome.record('a', 'recreated', before=dict(x=1), after=dict(x=2))
    diff = outcome.result(True)['diff']
    assert isinstance(diff, list)
    assert [d['after_header'] for d in diff] == ['network b (removed)', 'network a (recreated)']
    assert diff[1]['before'] == dict(x=1) and diff[1]['after'] == dict(x=2)


def test_entries_keep_details_and_changes():
    outcome = Outcome('network')
    entry = outcome.record('a', 'recreated', changes=('labels.x',), id='abc', steps=['remove', 'create'])
    assert outcome.entries() == [entry]
    assert entry == dict(name='a', action='recreated', changes=['labels.x'], id='abc', steps=['remove', 'create'])


def test_result_extra_keys():
    outcome = Outcome('network')
    outcome.record('a', 'created')
    result = outcome.result(False, networks=outcome.entries(), network=dict(Id='x'))
    assert result == dict(changed=True, networks=[dict(name='a', action='created', changes=[])], network=dict(Id='x'))
