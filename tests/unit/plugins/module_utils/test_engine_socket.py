# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EngineSocket against a real HTTP/1.1 server on an AF_UNIX socket in a temporary directory."""

from __future__ import annotations

import json
import os
import shutil
import socketserver
import tempfile
import threading
from http.server import BaseHTTPRequestHandler

import pytest

from ansible_collections.netfleet.docker.plugins.module_utils._common.engine_socket import EngineSocket, is_local_socket
from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import EngineError

# path -> (status, body); a body that is not bytes is sent as JSON
ROUTES = {
    '/info': (200, dict(ID='ENGINE', ServerVersion='28.5.0')),
    '/networks/frontend': (200, dict(Name='frontend', Driver='bridge')),
    '/networks/with%20space': (200, dict(Name='with space')),
    '/nodes': (503, dict(message='This node is not a swarm manager.')),
    '/broken': (500, b'plain text failure'),
    '/forbidden': (403, dict(message='permission denied')),
    '/empty': (204, b''),
}


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'  # keep-alive, as dockerd
    timeout = 5  # a test that leaves a connection open does not hold a thread for long

    def setup(self):
        super().setup()
        self.server.connections += 1

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.server.requests.append((self.path, self.headers.get('Host')))
        path = self.path.split('?', 1)[0]
        if path == '/echo':
            status, body = 200, dict(query=self.path.split('?', 1)[1] if '?' in self.path else '')
        else:
            status, body = ROUTES.get(path, (404, dict(message='no such object: %s' % path)))
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        if status != 204:
            self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        if status != 204:
            self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def socket_dir():
    # tmp_path can be longer than an AF_UNIX path may be (108 bytes)
    directory = tempfile.mkdtemp(prefix='nfes-')
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def engine(socket_dir):
    path = os.path.join(socket_dir, 'docker.sock')
    server = _Server(path, _Handler)
    server.connections, server.requests = 0, []
    thread = threading.Thread(target=server.serve_forever, kwargs=dict(poll_interval=0.05), daemon=True)
    thread.start()
    client = EngineSocket('unix://' + path, timeout=5)
    yield client, server
    client.close()
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_get_decodes_json(engine):
    client, server = engine
    assert client.get('/info') == dict(ID='ENGINE', ServerVersion='28.5.0')
    assert server.requests == [('/info', 'docker')]


def test_get_returns_none_on_404(engine):
    client, _server = engine
    assert client.get('/networks/absent') is None


def test_get_returns_none_on_empty_body(engine):
    client, _server = engine
    assert client.get('/empty') is None


def test_http_error_names_path_status_and_engine_message(engine):
    client, _server = engine
    with pytest.raises(EngineError) as raised:
        client.get('/nodes')
    text = str(raised.value)
    assert 'GET /nodes' in text and 'This node is not a swarm manager.' in text and 'HTTP 503' in text
    with pytest.raises(EngineError) as raised:
        client.get('/forbidden')
    assert 'GET /forbidden' in str(raised.value) and 'permission denied (HTTP 403)' in str(raised.value)


def test_http_error_without_json_keeps_the_body_text(engine):
    client, _server = engine
    with pytest.raises(EngineError, match=r'GET /broken: plain text failure \(HTTP 500\)'):
        client.get('/broken')


def test_connection_is_kept_alive_across_gets_and_errors(engine):
    client, server = engine
    client.get('/info')
    client.get('/networks/frontend')
    assert client.get('/networks/absent') is None
    with pytest.raises(EngineError):
        client.get('/nodes')
    client.get('/info')
    assert len(server.requests) == 5
    assert server.connections == 1


def test_close_then_get_opens_a_new_connection(engine):
    client, server = engine
    client.get('/info')
    client.close()
    client.get('/info')
    assert server.connections == 2


def test_query_params_and_path_are_encoded(engine):
    client, server = engine
    answer = client.get('/echo', params=dict(filters=json.dumps(dict(name=['a b'])), all=1))
    assert answer['query'] == 'filters=%7B%22name%22%3A+%5B%22a+b%22%5D%7D&all=1'
    assert client.get('/networks/with space') == dict(Name='with space')
    assert server.requests[-1][0] == '/networks/with%20space'


def test_missing_socket_says_no_socket_exists(socket_dir):
    path = os.path.join(socket_dir, 'absent.sock')
    client = EngineSocket('unix://' + path, timeout=2)
    with pytest.raises(EngineError) as raised:
        client.get('/info')
    text = str(raised.value)
    assert 'cannot reach the Docker engine at unix://%s' % path in text
    assert 'no socket exists at %s' % path in text
    assert client._connection is None  # pylint: disable=protected-access


def test_socket_without_listener_is_not_reported_missing(socket_dir):
    import socket  # pylint: disable=import-outside-toplevel
    path = os.path.join(socket_dir, 'stale.sock')
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)
    stale.close()  # the file stays, nobody listens: ECONNREFUSED
    with pytest.raises(EngineError) as raised:
        EngineSocket('unix://' + path, timeout=2).get('/info')
    assert 'no socket exists' not in str(raised.value)
    assert 'cannot reach the Docker engine at unix://%s' % path in str(raised.value)


@pytest.mark.parametrize('docker_host', ['tcp://127.0.0.1:2375', 'ssh://user@host', '', 'unix:/'])
def test_only_unix_urls_are_local_sockets(docker_host):
    assert not is_local_socket(docker_host)
    with pytest.raises(EngineError, match='is not a local unix:// socket'):
        EngineSocket(docker_host)


def test_unix_url_path_is_the_socket_path():
    assert is_local_socket('unix:///var/run/docker.sock')
    assert EngineSocket('unix:///var/run/docker.sock').path == '/var/run/docker.sock'
