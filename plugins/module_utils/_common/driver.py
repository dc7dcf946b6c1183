# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one lifecycle every module of the collection runs through.

A module file builds its ``AnsibleModule`` and hands it to a small ``Driver`` subclass:

* ``validate()`` returns every problem with the request (nothing is read or changed yet);
* ``plan()`` returns immutable ``Step`` objects computed from what the host has;
* ``apply(step)`` carries out one step and may return details to report for it.

The base owns the rest: missing libraries, the check-mode stop after planning, one failure path
(every ``NetfleetError`` becomes ``fail_json`` here and nowhere else), ``changed`` computed from the
steps actually applied, ``diff`` per object, and a partial result when a step fails (completed,
failed and not attempted, in apply order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import (
    NetfleetError, StepFailed, ValidationError)

UNCHANGED = 'unchanged'


@dataclass(frozen=True)
class Step:
    """One planned change (or the finding that an object needs none).

    ``name`` is the object acted on, ``action`` the verb reported for it (``created``,
    ``recreated``, ``removed``, ``joined``, ``unchanged``...). ``before`` / ``after`` feed diff mode,
    ``changes`` lists field paths, ``details`` are extra keys of the per-object record, and
    ``payload`` is private data the driver's ``apply()`` needs (never reported).
    """

    name: str
    action: str
    before: Mapping = field(default_factory=dict)
    after: Mapping = field(default_factory=dict)
    changes: Tuple = ()
    details: Mapping = field(default_factory=dict)
    payload: Any = None
    report: bool = True

    @property
    def changes_host(self) -> bool:
        return self.action != UNCHANGED


def problems_message(problems: Sequence[str], suffix_for_one: str = '') -> str:
    """One problem is the message itself; several are counted, so all are fixed in one go."""
    if len(problems) == 1:
        return problems[0] + suffix_for_one
    return '%d problems, nothing was changed: %s' % (len(problems), ' | '.join(problems))


class Driver:
    """Base of every module driver; see the module docstring for the contract."""

    #: what a step's object is, for diff headers ('network', 'swarm', 'daemon.json', ...)
    kind = 'object'
    #: the result key that lists one record per reported step
    records_key = 'objects'
    #: (library name, import error or None) pairs checked before anything else
    required_libraries: Tuple = ()
    #: appended to a single validation problem (some modules say '; nothing was changed')
    one_problem_suffix = ''

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.check_mode = module.check_mode
        self.diff_mode = bool(getattr(module, '_diff', False))
        self.applied: List[Tuple[Step, Mapping]] = []
        self.result_details: Dict[str, Any] = {}

    # -- what a subclass provides ------------------------------------------------------------

    def validate(self) -> List[str]:
        return []

    def plan(self) -> Sequence[Step]:
        raise NotImplementedError

    def apply(self, step: Step) -> Optional[Mapping]:
        raise NotImplementedError

    def extra_result(self, steps: Sequence[Step]) -> Dict[str, Any]:
        """Keys added to a successful result besides changed / diff / records."""
        return {}

    # -- the lifecycle -----------------------------------------------------------------------

    def run(self) -> None:
        try:
            self._check_libraries()
            problems = list(self.validate())
            if problems:
                raise ValidationError(problems)
            steps = tuple(self.plan())
            self.apply_all(steps)
            result = self.build_result(steps)
        except NetfleetError as exc:
            self.fail(exc)
            return
        self.module.exit_json(**result)

    def _check_libraries(self) -> None:
        for library, import_error in self.required_libraries:
            if import_error is not None:
                self.module.fail_json(msg=missing_required_lib(library), exception=import_error)

    def apply_all(self, steps: Sequence[Step]) -> None:
        """Apply every step that changes something, in order; stop at the first failure."""
        if self.check_mode:
            return
        for index, step in enumerate(steps):
            if not step.changes_host:
                continue
            try:
                details = self.apply(step) or {}
            except NetfleetError as exc:
                raise self._partial_failure(steps, index, exc)
            self.applied.append((step, details))

    def _partial_failure(self, steps: Sequence[Step], index: int, exc: NetfleetError) -> StepFailed:
        failed = steps[index]
        pending = [step for step in steps[index + 1:] if step.changes_host]
        details = dict(exc.details)
        # ``step_details`` of the error (what the failed step did before it stopped) join its record.
        failed_extra = details.pop('step_details', None)
        details.update(
            completed=[self.record(step, extra) for step, extra in self.applied],
            failed_steps=[dict(self.record(failed, failed_extra), error=str(exc))],
            not_attempted=[self.record(step) for step in pending],
        )
        return StepFailed(exc.problems, **details)

    # -- results -----------------------------------------------------------------------------

    def record(self, step: Step, extra: Optional[Mapping] = None) -> Dict[str, Any]:
        entry = dict(name=step.name, action=step.action, changes=list(step.changes))
        entry.update(step.details)
        entry.update(extra or {})
        return entry

    @property
    def changed(self) -> bool:
        return any(step.changes_host for step, _details in self.applied)

    def build_result(self, steps: Sequence[Step]) -> Dict[str, Any]:
        applied = dict((id(step), details) for step, details in self.applied)
        reported = [step for step in steps if step.report]
        result: Dict[str, Any] = dict(
            changed=any(step.changes_host for step in steps) if self.check_mode else self.changed)
        result[self.records_key] = [self.record(step, applied.get(id(step))) for step in reported]
        if self.diff_mode:
            diffs = [self.diff(step) for step in reported if step.changes_host]
            # Ansible renders a single dict or a list of them; a list keeps one block per object.
            result['diff'] = diffs[0] if len(diffs) == 1 else diffs
        result.update(self.extra_result(steps))
        result.update(self.result_details)
        return result

    def diff(self, step: Step) -> Dict[str, Any]:
        return dict(before=dict(step.before or {}), after=dict(step.after or {}),
                    before_header='%s %s (before)' % (self.kind, step.name),
                    after_header='%s %s (%s)' % (self.kind, step.name, step.action))

    def fail(self, exc: NetfleetError) -> None:
        """The one place an error becomes fail_json."""
        details = dict(exc.details)
        details.setdefault('changed', self.changed)
        if exc.nothing_changed:
            msg = problems_message(exc.problems, self.one_problem_suffix)
            details.setdefault('problems', exc.problems)
        else:
            msg = str(exc)
        self.module.fail_json(msg=msg, **details)
