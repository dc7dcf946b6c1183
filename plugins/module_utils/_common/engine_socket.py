# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only GETs to the engine's API over its unix socket, with the standard library only.

The Docker SDK imports requests and urllib3: about 150 ms of every module run on a small host, more
than the module's own work when all it does is read a few objects. Modules that only read, and run
on every host of every daily run, ask the local socket through this instead (docs/benchmarks.md).
A ``tcp://`` engine, TLS or writes still go through the SDK (``client.py``).
"""

from __future__ import annotations

import http.client
import json
import os
import socket
from urllib.parse import quote, urlencode

from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import EngineError

UNIX_PREFIX = 'unix://'


def is_local_socket(docker_host: str) -> bool:
    return bool(docker_host) and docker_host.startswith(UNIX_PREFIX)


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__('localhost', timeout=timeout)
        self._socket_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def _unreachable(path, exc):
    if not os.path.exists(path):
        hint = 'no socket exists at %s: start dockerd (systemctl start docker)' % path
    elif not os.access(path, os.R_OK | os.W_OK):
        hint = 'the socket exists but this user may not use it: become root or join the docker group'
    else:
        hint = 'is dockerd running (systemctl status docker)?'
    return 'cannot reach the Docker engine at unix://%s (%s); %s' % (path, exc, hint)


class EngineSocket:
    """One keep-alive connection to ``unix://path``; ``get()`` returns the decoded JSON or None on 404."""

    def __init__(self, docker_host: str, timeout: int = 60):
        if not is_local_socket(docker_host):
            raise EngineError('%s is not a local unix:// socket' % docker_host)
        self.path = docker_host[len(UNIX_PREFIX):]
        self.timeout = timeout
        self._connection = None

    def get(self, path: str, params=None):
        url = quote(path, safe='/') + ('?' + urlencode(params) if params else '')
        if self._connection is None:
            self._connection = _UnixConnection(self.path, self.timeout)
        try:
            self._connection.request('GET', url, headers={'Host': 'docker'})
            response = self._connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise EngineError(_unreachable(self.path, exc))
        if response.status == 404:
            return None
        if response.status >= 400:
            text = body.decode('utf-8', 'replace').strip()
            try:
                text = json.loads(text).get('message', text)
            except (ValueError, AttributeError):
                pass
            # 503 on /nodes is "this node is not a swarm manager": callers ask before they read.
            raise EngineError('the engine at unix://%s refused GET %s: %s (HTTP %s)'
                              % (self.path, path, text, response.status))
        if not body:
            return None
        try:
            return json.loads(body.decode('utf-8'))
        except ValueError as exc:
            raise EngineError('the engine at unix://%s answered GET %s with what is not JSON (%s): is %s a Docker '
                              'engine socket?' % (self.path, path, exc, self.path))

    def close(self):
        if self._connection is not None:
            self._connection.close()
            self._connection = None
