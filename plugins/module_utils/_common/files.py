# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Durable file writes: one implementation for daemon.json, sysctl drop-ins, units, journals, plans."""

from __future__ import annotations

import os
import tempfile

from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import HostError


def write_atomic(path: str, content, mode: int = 0o644, make_dirs: bool = False, dir_mode: int = 0o755) -> None:
    """Replace ``path`` with ``content`` so a reader sees the old or the new file, never half of one.

    The data is fsynced before the rename and the directory after it: a crash or a power cut
    right after this returns still leaves the new file on disk.
    """
    directory = os.path.dirname(os.path.abspath(path))
    if make_dirs and not os.path.isdir(directory):
        os.makedirs(directory, dir_mode)
    data = content.encode('utf-8') if isinstance(content, str) else content
    try:
        handle, temp_path = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=directory)
    except OSError as exc:
        raise HostError('cannot write %s: %s; check that %s exists and is writable' % (path, exc, directory))
    try:
        with os.fdopen(handle, 'wb') as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp_path, mode)
        os.replace(temp_path, path)
    except OSError as exc:
        _remove_quietly(temp_path)
        raise HostError('cannot write %s: %s' % (path, exc))
    fsync_directory(directory)


def fsync_directory(directory: str) -> None:
    """Make a rename or unlink in ``directory`` durable (best effort where the FS refuses)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_text(path: str, default=None):
    """The file's text, or ``default`` when it does not exist."""
    try:
        with open(path, 'r', encoding='utf-8') as stream:
            return stream.read()
    except FileNotFoundError:
        return default
    except OSError as exc:
        raise HostError('cannot read %s: %s' % (path, exc))


def remove_durably(path: str) -> bool:
    """Remove ``path`` if present; True when something was removed."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise HostError('cannot remove %s: %s' % (path, exc))
    fsync_directory(os.path.dirname(os.path.abspath(path)))
    return True


def _remove_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass
