# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The recreate journal: what a destructive network change needs to be finished after a crash.

Docker cannot change a network in place, so a recreate disconnects every endpoint, removes the
network, creates it again and reconnects the endpoints. A run that dies in between (SIGKILL, a
dropped SSH session, a stopped engine) would leave containers on no network, their static
addresses, aliases and MACs known nowhere. Before the first destructive step the module writes
``<journal_dir>/<network>.json`` (atomic, fsynced, mode 0600, directory 0700) with the network's
old and new definitions and every endpoint; it records each step as it completes and removes the
file only when the whole change is done. The next run finds the file and finishes the change
(``recover``) before it plans anything.

The same directory holds ``.lock``: one module run that may change networks on a host at a time
(``HostLock``); a second run waits up to ``lock_timeout`` seconds, then refuses naming the holder.

Test hook, not an option: with ``NETFLEET_FAULT_PAUSE_AFTER`` set to an engine operation
(``disconnect``, ``remove``, ``create``, ``connect``) in the module's environment, the module
writes a marker file holding its PID (``NETFLEET_FAULT_MARKER``, default
``<journal_dir>/fault-pause``) right after that operation and sleeps until the marker is removed
or ``NETFLEET_FAULT_PAUSE_SECONDS`` (default 120) pass. ``NETFLEET_FAULT_PAUSE_NETWORK`` limits it
to one network. The fault suite (tests/faults) kills that PID at that point, or stops dockerd and
removes the marker. Only the first matching point of a run pauses.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.netfleet.docker.plugins.module_utils._common import files
from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import HostError, NetfleetError

try:
    import fcntl
except ImportError:  # pragma: no cover - every managed host is POSIX
    fcntl = None

DEFAULT_DIR = '/var/lib/netfleet/journal'
DEFAULT_LOCK_TIMEOUT = 60
LOCK_NAME = '.lock'
FORMAT = 1
RECREATE, REMOVE = 'recreate', 'remove'

FAULT_PAUSE_ENV = 'NETFLEET_FAULT_PAUSE_AFTER'
FAULT_NETWORK_ENV = 'NETFLEET_FAULT_PAUSE_NETWORK'
FAULT_MARKER_ENV = 'NETFLEET_FAULT_MARKER'
FAULT_SECONDS_ENV = 'NETFLEET_FAULT_PAUSE_SECONDS'
_paused = []  # the test hook pauses once per process
_held: Dict[str, 'HostLock'] = {}  # locks this process holds (flock would refuse a second descriptor of our own)


class JournalError(HostError):
    """A journal could not be written, read or finished; ``details`` say what was done."""


def journal_path(directory: str, network_name: str) -> str:
    """One file per network; names Docker accepts ([a-zA-Z0-9][a-zA-Z0-9_.-]) are used as they are."""
    safe = ''.join(ch if ch.isalnum() or ch in '_.-' else '%%%02x' % ord(ch) for ch in network_name)
    return os.path.join(directory, safe + '.json')


def _now() -> str:
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())


def new_entry(operation: str, name: str, old_id: Optional[str], old: Mapping[str, Any],
              new: Optional[Mapping[str, Any]], endpoints: Sequence[Mapping[str, Any]],
              restore: Sequence[Mapping[str, Any]]) -> Dict[str, Any]:
    """The journal of one destructive change, before its first step.

    ``old`` / ``new`` are ``dict(view=..., create_body=...)``: the network as inspected and as
    planned. ``endpoints`` are those the change disconnects (running and stopped containers, with
    the engine's own endpoint settings under ``settings``), ``restore`` those it connects afterwards.
    """
    return dict(format=FORMAT, network=name, operation=operation, started=_now(), pid=os.getpid(),
                host=socket.gethostname(), old_id=old_id, old=dict(old), new=dict(new) if new else None,
                endpoints=[dict(e) for e in endpoints], restore=[dict(e) for e in restore], progress=[],
                new_id=None)


class Journal:
    """A pending journal on disk: written before the first step, updated after each, removed at the end."""

    def __init__(self, path: str, entry: Dict[str, Any]):
        self.path = path
        self.entry = entry

    @classmethod
    def begin(cls, directory: str, entry: Dict[str, Any]) -> 'Journal':
        journal = cls(journal_path(directory, entry['network']), entry)
        ensure_directory(directory)
        journal._write()
        return journal

    def step_done(self, text: str, network_id: Optional[str] = None) -> None:
        self.entry['progress'].append(dict(step=text, at=_now()))
        if network_id and network_id != self.entry.get('old_id'):
            self.entry['new_id'] = network_id
        self._write()

    def finish(self) -> None:
        files.remove_durably(self.path)

    def _write(self) -> None:
        try:
            files.write_atomic(self.path, json.dumps(self.entry, indent=1, sort_keys=True, default=list) + '\n', mode=0o600)
        except HostError as exc:
            raise JournalError('cannot write the recreate journal %s: %s; nothing destructive is done without it: '
                               'run the task with become, or set journal_dir to a directory this user can write'
                               % (self.path, exc))


def ensure_directory(directory: str) -> None:
    """The journal directory, created 0700 (it holds container addresses and the host lock)."""
    try:
        os.makedirs(directory, 0o700, exist_ok=True)
    except OSError as exc:
        raise JournalError('cannot create the journal directory %s: %s; run the task with become, or set '
                           'journal_dir to a directory this user can write' % (directory, exc))


def read_pending(directory: str, names: Optional[Sequence[str]] = None) -> List[Dict[str, Any]]:
    """Pending journals (all, or those of these networks), each with ``path``; unreadable ones with ``error``."""
    if not os.access(directory, os.R_OK | os.X_OK):
        # Missing, or root's 0700 directory seen by an unprivileged user (who cannot take the lock
        # or journal anything either: a destructive step then fails on its journal, naming the fix).
        return []
    if names is not None:
        paths = [journal_path(directory, name) for name in names]
    else:
        try:
            paths = sorted(os.path.join(directory, f) for f in os.listdir(directory)
                           if f.endswith('.json') and not f.startswith('.'))
        except OSError:
            return []
    found = []
    for path in paths:
        text = files.read_text(path)
        if text is None:
            continue
        try:
            entry = json.loads(text)
            if not isinstance(entry, dict) or entry.get('format') != FORMAT or not entry.get('network'):
                raise ValueError('not a netfleet journal of format %d' % FORMAT)
        except ValueError as exc:
            entry = dict(network=os.path.basename(path)[:-len('.json')], error='unreadable journal: %s' % exc)
        entry['path'] = path
        found.append(entry)
    return found


def summary(entry: Mapping[str, Any]) -> Dict[str, Any]:
    """What a pending journal says, for results and docker_net_info (no engine settings dump)."""
    if entry.get('error'):
        return dict(network=entry['network'], path=entry['path'], error=entry['error'])
    return dict(
        network=entry['network'], path=entry['path'], operation=entry['operation'], started=entry['started'],
        pid=entry['pid'], old_id=entry.get('old_id'), new_id=entry.get('new_id'),
        done=[step['step'] for step in entry.get('progress') or []],
        endpoints=[_endpoint_summary(e) for e in entry.get('restore' if entry['operation'] == RECREATE else 'endpoints') or []],
    )


def _endpoint_summary(endpoint: Mapping[str, Any]) -> Dict[str, Any]:
    keys = ('container', 'id', 'ipv4_address', 'ipv6_address', 'aliases', 'links', 'mac_address', 'driver_opts',
            'gw_priority')
    return dict((key, endpoint.get(key)) for key in keys)


# -- finishing a pending journal -----------------------------------------------------------


def recover(manager: Any, entry: Mapping[str, Any]) -> Dict[str, Any]:
    """Finish (or, before the removal, undo) the change a journal records; what was done.

    A recreate: the network is created from the journaled body if it is missing, then every
    journaled endpoint that is not on it is connected exactly as recorded. Before the removal
    happened the old network is still there, and the endpoints go back on it as they were.
    A removal: the rest of the endpoints are disconnected and the network removed. A container
    removed since is reported by name, never guessed at; an endpoint the engine refuses stops
    the run with the journal kept. The journal file is removed only when everything is done.
    """
    if entry.get('error'):
        raise JournalError("network '%s': the journal %s cannot be read (%s); it was left by an interrupted run: "
                           "look at it, restore what it lists by hand, then delete it" % (entry['network'], entry['path'], entry['error']))
    report = dict(summary(entry), steps=[], restored=[], already_connected=[], missing_containers=[])
    report['done_before'] = report.pop('done')
    try:
        if entry['operation'] == REMOVE:
            _finish_removal(manager, entry, report)
        else:
            _finish_recreate(manager, entry, report)
    except NetfleetError as exc:
        raise _recovery_failed(entry, report, str(exc))
    files.remove_durably(entry['path'])
    return report


def _finish_recreate(manager: Any, entry: Mapping[str, Any], report: Dict[str, Any]) -> None:
    network = manager.find(entry['network'])
    if network is None:
        network_id = manager.create_from_body(entry['new']['create_body'])
        report['steps'].append('create')
    else:
        network_id = network['Id']
    report['network_id'] = network_id
    # Killed before the removal: the old network is still there; its endpoints go back as they were.
    endpoints = entry['endpoints'] if network_id == entry.get('old_id') else entry['restore']
    failures = []
    for endpoint in endpoints:
        data = _container_now(manager, endpoint, report)
        if data is None:
            continue
        if entry['network'] in ((data.get('NetworkSettings') or {}).get('Networks') or {}):
            report['already_connected'].append(endpoint['container'])
            continue
        error = manager.restore_endpoint(endpoint, network_id)
        if error:
            failures.append('container %s: %s' % (endpoint['container'], error))
        else:
            report['steps'].append('connect %s' % endpoint['container'])
            report['restored'].append(_endpoint_summary(endpoint))
    if failures:
        raise HostError('the engine refused to restore these endpoints: %s' % '; '.join(failures))


def _finish_removal(manager: Any, entry: Mapping[str, Any], report: Dict[str, Any]) -> None:
    network = manager.find(entry['network'])
    if network is None:
        return
    for endpoint in entry['endpoints']:
        data = _container_now(manager, endpoint, report)
        if data is not None and entry['network'] in ((data.get('NetworkSettings') or {}).get('Networks') or {}):
            manager.engine.call('disconnect container %s from network %s' % (endpoint['container'], entry['network']),
                                manager.api.disconnect_container_from_network, endpoint['id'], network['Id'], force=True)
            report['steps'].append('disconnect %s' % endpoint['container'])
    manager.engine.call('remove network %s' % entry['network'], manager.api.remove_network, network['Id'])
    report['steps'].append('remove')


def _container_now(manager: Any, endpoint: Mapping[str, Any], report: Dict[str, Any]) -> Optional[Mapping[str, Any]]:
    """The journaled container as it is now (by ID: one of the same name made since is another container)."""
    data = manager.container(endpoint['id'])
    if data is None:
        replaced = manager.container(endpoint['container'])
        note = ' (a container of that name exists now, %s, not the journaled %s: not touched)' % (
            replaced['Id'][:12], endpoint['id'][:12]) if replaced else ''
        report['missing_containers'].append(endpoint['container'] + note)
    return data


def _recovery_failed(entry: Mapping[str, Any], report: Dict[str, Any], reason: str) -> JournalError:
    return JournalError(
        "network '%s': finishing the interrupted %s from the journal %s (started %s by pid %s) failed: %s. "
        "Nothing else was done and the journal is kept: fix the cause and rerun, or restore its endpoints by hand "
        "and delete it" % (entry['network'], entry['operation'], entry['path'], entry.get('started'), entry.get('pid'), reason),
        changed=bool(report['steps']), recovered=[report])


# -- the host lock --------------------------------------------------------------------------


class HostLock:
    """An exclusive fcntl lock on ``<journal_dir>/.lock``, held until the process ends.

    The file holds the holder's PID and start time, so a refused run names who holds it.
    """

    def __init__(self, directory: str, timeout: Optional[float] = None):
        self.path = os.path.join(directory, LOCK_NAME)
        self.directory = directory
        self.timeout = DEFAULT_LOCK_TIMEOUT if timeout is None else timeout
        self.fd: Optional[int] = None
        self.waited = 0.0

    def acquire(self) -> 'HostLock':
        held = _held.get(self.path)
        if held is not None and held.fd is not None:
            return held
        ensure_directory(self.directory)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise JournalError('cannot open the host lock %s: %s; run the task with become, or set journal_dir to a '
                               'directory this user can write' % (self.path, exc))
        start = time.time()
        while not _try_lock(fd):
            if time.time() - start >= self.timeout:
                holder = _read_holder(fd)
                os.close(fd)
                raise JournalError('another netfleet run (%s) holds the network lock %s on this host; waited %ds. '
                                   'Nothing was changed: rerun when it has finished, or raise lock_timeout'
                                   % (holder, self.path, self.timeout), lock_holder=holder)
            time.sleep(0.2)
        self.waited = time.time() - start
        os.ftruncate(fd, 0)
        os.pwrite(fd, ('pid %d since %s\n' % (os.getpid(), _now())).encode('ascii'), 0)
        self.fd = fd
        _held[self.path] = self
        return self

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor drops the lock
            self.fd = None
            _held.pop(self.path, None)


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return False
        raise
    return True


def _read_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 200, 0).decode('ascii', 'replace').strip()
    except OSError:
        text = ''
    return text or 'holder unknown'


# -- the test hook --------------------------------------------------------------------------


def fault_pause(point: str, network_name: str, directory: str) -> None:
    """Test hook (see the module docstring): pause after ``point`` so a test can kill this PID."""
    if os.environ.get(FAULT_PAUSE_ENV) != point or _paused:
        return
    wanted = os.environ.get(FAULT_NETWORK_ENV)
    if wanted and wanted != network_name:
        return
    _paused.append(point)
    marker = os.environ.get(FAULT_MARKER_ENV) or os.path.join(directory, 'fault-pause')
    files.write_atomic(marker, '%d %s %s\n' % (os.getpid(), point, network_name), mode=0o600)
    deadline = time.time() + float(os.environ.get(FAULT_SECONDS_ENV) or 120)
    while time.time() < deadline and os.path.exists(marker):
        time.sleep(0.1)


def lock_holder_text(path: str) -> Tuple[bool, str]:
    """(held, holder) of a lock file, read without taking it (docker_net_info)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False, ''
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True, _read_holder(fd)
        return False, ''
    finally:
        os.close(fd)
