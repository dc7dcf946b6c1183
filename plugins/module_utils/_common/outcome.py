# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One place that tracks what a module changed, per object, with before/after for diff mode."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

UNCHANGED = 'unchanged'


def fail_with_problems(module: Any, problems: List[str], say_unchanged_for_one: bool = False, **extra: Any) -> None:
    """Fail with every validation problem at once; the host was not touched.

    One problem is the message itself (with '; nothing was changed' when asked); several are
    counted and joined, so the operator fixes them all in one go.
    """
    if len(problems) == 1:
        msg = problems[0] + ('; nothing was changed' if say_unchanged_for_one else '')
    else:
        msg = '%d problems, nothing was changed: %s' % (len(problems), ' | '.join(problems))
    module.fail_json(msg=msg, problems=problems, **extra)


class Outcome:
    """Collects per-object results; derives `changed` and the diff list from them.

    Modules record every object they looked at, changed or not, so the result always
    says what happened to each one (the operator never has to guess from `changed`).
    """

    def __init__(self, kind):
        self.kind = kind
        self.records = []

    def record(self, name: str, action: str, before: Optional[Mapping[str, Any]] = None, after: Optional[Mapping[str, Any]] = None,
               changes: Optional[List[str]] = None, **details: Any) -> Dict[str, Any]:
        entry = dict(name=name, action=action, changes=list(changes or []))
        entry.update(details)
        self.records.append((entry, before, after))
        return entry

    @property
    def changed(self) -> bool:
        return any(entry['action'] != UNCHANGED for entry, _before, _after in self.records)

    def entries(self) -> List[Dict[str, Any]]:
        return [entry for entry, _before, _after in self.records]

    def diffs(self) -> List[Dict[str, Any]]:
        diffs = []
        for entry, before, after in self.records:
            if entry['action'] == UNCHANGED:
                continue
            diffs.append(dict(
                before=before if before is not None else {},
                after=after if after is not None else {},
                before_header='%s %s (%s)' % (self.kind, entry['name'], 'before'),
                after_header='%s %s (%s)' % (self.kind, entry['name'], entry['action']),
            ))
        return diffs

    def result(self, diff_mode: bool, **extra: Any) -> Dict[str, Any]:
        result = dict(changed=self.changed)
        if diff_mode:
            diffs = self.diffs()
            # Ansible renders a single dict or a list of them; a list keeps one block per object.
            result['diff'] = diffs[0] if len(diffs) == 1 else diffs
        result.update(extra)
        return result
