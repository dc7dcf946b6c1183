# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine_health driver's work: the gate before a restart and the wait after it."""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, List, Mapping, Optional

from ansible_collections.netfleet.docker.plugins.module_utils._common import client
from ansible_collections.netfleet.docker.plugins.module_utils._common.driver import Step
from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import EngineError, PlanningError
from ansible_collections.netfleet.docker.plugins.module_utils._daemon import health

POLL_SECONDS = 1.0


def request_problems(params: Mapping) -> List[str]:
    problems = []
    for key in ('ready_timeout', 'start_after'):
        if params.get(key) is not None and params[key] < 0:
            problems.append('engine_health: %s=%s is negative; give seconds, 0 or more' % (key, params[key]))
    if params.get('state') == 'ready' and params.get('snapshot') is not None and 'answers' not in params['snapshot']:
        problems.append('engine_health: snapshot is not what state=snapshot returned (no "answers" key); '
                        'pass the registered result\'s .snapshot')
    return problems


class RestartGate:
    """Reads the engine (reconnecting while it restarts) and decides when the host is whole."""

    def __init__(self, module, params: Mapping, connect: Optional[Callable] = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.module = module
        self.params = params
        self.host = params.get('host_label') or 'this host'
        self._connect = connect or client.connect
        self._clock = clock
        self._sleep = sleep
        self.engine = None
        self.started_at = clock()
        self.now: Optional[health.EngineSnapshot] = None
        self.before: Optional[health.EngineSnapshot] = None
        self.last_error = ''   # why the last read failed: which endpoint, and what to check

    # -- reading ------------------------------------------------------------------------------

    def read(self, full: bool) -> health.EngineSnapshot:
        try:
            if self.engine is None:
                self.engine = self._connect(self.module)
            return health.read_snapshot(self.engine, full=full)
        except EngineError as exc:
            self.engine = None  # the engine restarts: connect afresh next time
            self.last_error = str(exc)
            return health.EngineSnapshot(answers=False)

    # -- the two states -----------------------------------------------------------------------

    def plan(self) -> List[Step]:
        if self.params['state'] == 'snapshot':
            return self.plan_snapshot()
        self.before = health.snapshot_from_dict(self.params['snapshot'])
        return self.plan_ready()

    def plan_snapshot(self) -> List[Step]:
        self.now = self.read(full=True)
        if not self.now.answers:
            raise EngineError('%s: the engine does not answer, so there is nothing to snapshot before a restart; '
                              'start it (systemctl start docker) and run again. %s' % (self.host, self.last_error))
        problem = health.quorum_problem(self.now.swarm, self.host) if self.params['quorum_check'] else None
        if problem:
            raise PlanningError([problem], snapshot=self.now.as_dict())
        warning = health.quorum_warning(self.now.swarm, self.host) if self.params['quorum_check'] else None
        if warning:
            self.module.warn(warning)
        return []

    def plan_ready(self) -> List[Step]:
        """Wait until whole; containers the engine gave up on become steps (started by apply)."""
        problems = self.wait(self.params['start_after'] if self.params['start_stopped'] else self.params['ready_timeout'])
        if not problems:
            return []
        late = health.stragglers(self.before, self.now) if self.params['start_stopped'] else []
        if late and len(late) == len(problems):
            return [Step(name=item.name, action='started', before=dict(running=False), after=dict(running=True),
                         details=dict(policy=item.policy), payload=item.id) for item in late]
        problems = self.wait(self.params['ready_timeout'])
        if problems:
            raise self.not_ready(problems)
        return []

    def wait(self, seconds: float) -> List[str]:
        """Poll until nothing is missing or ``seconds`` since the task started have passed."""
        while True:
            self.now = self.read(full=False)
            problems = health.readiness_problems(self.before, self.now)
            if not problems or self.elapsed() >= seconds:
                return problems
            self._sleep(POLL_SECONDS)

    def elapsed(self) -> float:
        return round(self._clock() - self.started_at, 1)

    def not_ready(self, problems: List[str]) -> PlanningError:
        return PlanningError(['%s is not whole %ss after the restart: %s; the rollout stops here, the hosts after '
                              'it are untouched (docker info / journalctl -u docker on %s tell why)'
                              % (self.host, self.elapsed(), '; '.join(problems), self.host)],
                             waited=self.elapsed(), remaining=problems)

    # -- applying and the result ---------------------------------------------------------------

    def start(self, step: Step) -> Dict[str, Any]:
        self.engine.call('start container %s' % step.name, self.engine.api.start, step.payload)
        return {}

    def result(self, started: List[str]) -> Dict[str, Any]:
        if started:
            problems = self.wait(self.params['ready_timeout'])
            if problems:
                raise self.not_ready(problems)
        snapshot = self.now or self.read(full=False)
        return dict(snapshot=snapshot.as_dict(), waited=self.elapsed(), started=started)
