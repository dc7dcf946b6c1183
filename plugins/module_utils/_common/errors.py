# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One exception hierarchy for the collection.

The driver base turns any ``NetfleetError`` into ``fail_json`` in one place, so module code never
calls ``fail_json`` itself. Each class says *when* it is raised, which tells the base whether the
host may already have changed.
"""

from __future__ import annotations


class NetfleetError(Exception):
    """Base of every error this collection raises on purpose.

    ``problems`` is the full list of what is wrong (one message each: object, problem, fix);
    ``details`` are extra keys for the failed result (e.g. the engine's own log lines).
    """

    #: True when nothing on the host can have changed when this is raised.
    nothing_changed = False

    def __init__(self, problems, **details):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        self.details = details
        super().__init__('; '.join(self.problems))


class ValidationError(NetfleetError):
    """The request itself is wrong; raised before the engine or host is read."""

    nothing_changed = True


class PlanningError(NetfleetError):
    """The request cannot be carried out on this host as it is; raised while planning."""

    nothing_changed = True


class EngineError(NetfleetError):
    """The engine is unreachable, too old, or refused a call."""


class HostError(NetfleetError):
    """A host-side operation (ip, sysctl, systemctl, a file) failed."""


class StepFailed(NetfleetError):
    """A step of an applied plan failed; the driver reports what completed before it."""
