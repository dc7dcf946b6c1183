# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Task results per host, for `make bench-fleet` (benchmarks/run_fleet_bench.py).

Enabled with ANSIBLE_CALLBACKS_ENABLED=fleet_counts and ANSIBLE_CALLBACK_PLUGINS=benchmarks/fleet/callback_plugins;
writes {"hosts": {host: {ok, changed, skipped, failed, unreachable, on_host, controller}}, "tasks": [[task,
seconds], ...]} as JSON to the file named by FLEET_BENCH_COUNTS when the playbook ends. A looped task counts once per item. `on_host` counts results of
tasks whose action runs something on the host (a module, or an action plugin such as template that runs
several); `controller` counts results of actions that never leave the controller (set_fact, assert, debug,
group_by, include_*, meta...). Skipped results are in neither: nothing ran. A task's seconds run from its start
to the next task's start (the linear strategy runs each task on every host before the next), summed by name:
where a run's wall time goes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: fleet_counts
type: aggregate
short_description: count task results per host for make bench-fleet
description:
  - Writes per-host counts of task results to the file named by the environment variable C(FLEET_BENCH_COUNTS).
requirements:
  - enable in configuration
"""

# Actions that run on the controller only (no connection to the host).
CONTROLLER_ACTIONS = frozenset(
    '%s%s' % (prefix, name) for prefix in ('', 'ansible.builtin.', 'ansible.legacy.')
    for name in ('set_fact', 'assert', 'debug', 'fail', 'group_by', 'add_host', 'set_stats', 'meta',
                 'include_role', 'import_role', 'include_tasks', 'import_tasks', 'include_vars', 'pause'))


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'fleet_counts'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.counts = {}
        self.task_seconds = {}
        self.current = None     # (task name, start)

    def _host(self, result):
        name = result._host.get_name()  # pylint: disable=protected-access
        return self.counts.setdefault(name, dict(ok=0, changed=0, skipped=0, failed=0, unreachable=0,
                                                 on_host=0, controller=0))

    def _count(self, result, status):
        entry = self._host(result)
        entry[status] += 1
        if status == 'ok' and result._result.get('changed'):  # pylint: disable=protected-access
            entry['changed'] += 1
        if status in ('ok', 'failed'):
            action = result._task.action  # pylint: disable=protected-access
            entry['controller' if action in CONTROLLER_ACTIONS else 'on_host'] += 1

    def _loop_or(self, result, status):
        # A looped task reports each item, then the whole task: count the items only.
        if not result._result.get('results'):  # pylint: disable=protected-access
            self._count(result, status)

    def v2_runner_on_ok(self, result):
        self._loop_or(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._loop_or(result, 'failed')

    def v2_runner_on_skipped(self, result):
        self._loop_or(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._count(result, 'unreachable')

    def v2_runner_item_on_ok(self, result):
        self._count(result, 'ok')

    def v2_runner_item_on_failed(self, result):
        self._count(result, 'failed')

    def v2_runner_item_on_skipped(self, result):
        self._count(result, 'skipped')

    def _close_task(self):
        if self.current:
            name, start = self.current
            self.task_seconds[name] = self.task_seconds.get(name, 0.0) + time.monotonic() - start
        self.current = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close_task()
        self.current = (task.get_name(), time.monotonic())

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def v2_playbook_on_stats(self, stats):
        self._close_task()
        path = os.environ.get('FLEET_BENCH_COUNTS')
        if path:
            slowest = sorted(self.task_seconds.items(), key=lambda item: -item[1])
            with open(path, 'w') as handle:
                json.dump(dict(hosts=self.counts, tasks=[[name, round(seconds, 3)] for name, seconds in slowest]),
                          handle, indent=1, sort_keys=True)
