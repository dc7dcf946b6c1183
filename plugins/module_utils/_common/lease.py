# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A lease on a host: one run at a time changes what it guards (the engine's configuration).

A lock held by a module process ends with that process, but a daemon change spans several tasks:
roles/daemon writes daemon.json, restarts the engine, waits for it and may roll back, each a task of
its own. So the run that writes leaves a lease file naming itself (an owner token the role draws once
per run) and when the lease expires; the role removes it when the change is done or rolled back. A
second run meanwhile is refused before it writes anything, naming the holder. A lease whose run died
(the controller was killed) expires after its seconds, and the next run takes it over with a warning.

The file is JSON: ``{"owner", "since", "expires", "what"}`` (times in seconds since the epoch). Reading
and taking happen under an fcntl lock on ``<path>.lock``, so two runs never both take it.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import Callable, Optional

from ansible_collections.netfleet.docker.plugins.module_utils._common import files
from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import HostError, ValidationError

try:
    import fcntl
except ImportError:  # pragma: no cover - every managed host is POSIX
    fcntl = None

DEFAULT_SECONDS = 900


@dataclass(frozen=True)
class Lease:
    """Who holds the lease of ``path``, since and until when (seconds since the epoch)."""

    path: str
    owner: str
    since: float
    expires: float
    what: str = ''

    def describe(self) -> str:
        return "run '%s' (since %s, expires %s%s)" % (
            self.owner, _clock_text(self.since), _clock_text(self.expires), ', ' + self.what if self.what else '')

    def as_dict(self) -> dict:
        return dict(path=self.path, owner=self.owner, since=self.since, expires=self.expires, what=self.what)


class LeaseHeld(ValidationError):
    """Another run holds the lease: nothing was changed."""


def read(path: str) -> Optional[Lease]:
    """The lease recorded in ``path``; None when there is none (or the file is not a lease)."""
    text = files.read_text(path)
    if not text:
        return None
    try:
        data = json.loads(text)
        return Lease(path=path, owner=str(data['owner']), since=float(data['since']),
                     expires=float(data['expires']), what=str(data.get('what', '')))
    except (ValueError, KeyError, TypeError):
        return None


def held_by_other(path: str, owner: str, now: Optional[float] = None) -> Optional[Lease]:
    """The lease another run holds and that has not expired, else None (read only, for plans)."""
    lease = read(path)
    now = time.time() if now is None else now
    if lease is None or lease.owner == owner or lease.expires <= now:
        return None
    return lease


def take(path: str, owner: str, seconds: int, what: str = '',
         clock: Callable[[], float] = time.time) -> Optional[Lease]:
    """Take or renew the lease for ``owner``; the expired lease it took over, if any.

    Raises LeaseHeld naming the holder when another run holds a lease that has not expired.
    """
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, 0o700, exist_ok=True)
        fd = os.open(path + '.lock', os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise HostError('cannot create the lease %s: %s; run the task with become, or set the lease path to a '
                        'directory this user can write' % (path, exc))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)   # held for a few milliseconds by whoever takes the lease
        now = clock()
        current = read(path)
        if current is not None and current.owner != owner and current.expires > now:
            raise LeaseHeld(['%s: another %s holds this lease; nothing was changed. Rerun when it has finished, or '
                             'delete %s if that run is gone (the lease also expires by itself)'
                             % (path, current.describe(), path)], lease_holder=current.as_dict())
        since = current.since if current is not None and current.owner == owner else now
        record = dict(owner=owner, since=since, expires=now + seconds, what=what)
        files.write_atomic(path, json.dumps(record, sort_keys=True) + '\n', mode=0o600)
    finally:
        os.close(fd)
    return current if current is not None and current.owner != owner else None


def release(path: str, owner: str) -> bool:
    """Remove the lease when ``owner`` holds it; True when it was removed."""
    lease = read(path)
    if lease is None or lease.owner != owner:
        return False
    return files.remove_durably(path)


def _clock_text(when: float) -> str:
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(when))
