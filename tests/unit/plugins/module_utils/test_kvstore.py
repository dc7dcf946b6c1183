# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""KV-store checks against a fake etcd on 127.0.0.1 (v2 enabled, v2 disabled) and a closed port."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from ansible_collections.netfleet.docker.plugins.module_utils._overlay import kvstore


def fake_etcd(v2):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            if self.path == '/version':
                body = json.dumps(dict(etcdserver='3.5.16', etcdcluster='3.5.0')).encode()
            elif self.path.startswith('/v2/keys') and v2:
                body = json.dumps(dict(action='get', node=dict(dir=True))).encode()
            else:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(('127.0.0.1', 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


@pytest.fixture
def etcd_v2():
    server = fake_etcd(True)
    yield '127.0.0.1:%d' % server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def etcd_v3_only():
    server = fake_etcd(False)
    yield '127.0.0.1:%d' % server.server_address[1]
    server.shutdown()
    server.server_close()


def closed_port():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_parse_store():
    assert kvstore.parse_store('etcd://10.0.0.1:2379') == ('etcd', ['10.0.0.1:2379'])
    assert kvstore.parse_store('etcd://10.0.0.1,10.0.0.2:2380/pfx') == ('etcd', ['10.0.0.1:2379', '10.0.0.2:2380'])
    assert kvstore.normalize_store('etcd://10.0.0.1/') == kvstore.normalize_store('etcd://10.0.0.1:2379')
    for bad in ('10.0.0.1:2379', 'http://10.0.0.1', 'etcd://', 'etcd://10.0.0.1:x'):
        with pytest.raises(kvstore.KVError):
            kvstore.parse_store(bad)


def test_settings_match_and_mismatch():
    info = dict(ClusterStore='etcd://10.0.0.1:2379', ClusterAdvertise='eth0:2376')
    assert kvstore.settings_problems('etcd://10.0.0.1:2379', 'eth0:2376', info) == []
    assert kvstore.settings_problems('etcd://10.0.0.1', None, info) == []
    problems = kvstore.settings_problems('etcd://10.0.0.2:2379', 'eth1:2376', info)
    assert len(problems) == 2 and "cluster-store is etcd://10.0.0.1:2379, the request says etcd://10.0.0.2:2379" in problems[0]
    # dockerd reports an interface name as the interface's address
    reported = dict(ClusterStore='etcd://10.0.0.1:2379', ClusterAdvertise='10.0.0.5:2376')
    assert kvstore.settings_problems('etcd://10.0.0.1:2379', 'eth0:2376', reported, '10.0.0.5') == []
    assert kvstore.settings_problems('etcd://10.0.0.1:2379', 'eth0:2377', reported, '10.0.0.5') != []
    assert kvstore.settings_problems('etcd://10.0.0.1:2379', 'eth0:2376', reported, '10.0.0.6') != []
    assert 'no cluster-store configured' in kvstore.settings_problems('etcd://10.0.0.1:2379', None, {})[0]


def test_store_with_v2_answers(etcd_v2):
    assert kvstore.check_store('etcd://%s' % etcd_v2, 2) == [dict(endpoint=etcd_v2, version='3.5.16', v2=True)]


def test_etcd_without_v2_fails_naming_the_flag(etcd_v3_only):
    with pytest.raises(kvstore.KVError) as err:
        kvstore.check_store('etcd://%s' % etcd_v3_only, 2)
    assert 'v2 API is disabled' in str(err.value) and '--enable-v2=true' in str(err.value)


def test_unreachable_store_fails_within_the_timeout():
    endpoint = '127.0.0.1:%d' % closed_port()
    with pytest.raises(kvstore.KVError) as err:
        kvstore.check_store('etcd://%s' % endpoint, 1)
    assert 'does not answer' in str(err.value) and endpoint in str(err.value)


def test_non_etcd_store_is_not_probed():
    with pytest.raises(kvstore.KVError, match='only etcd stores'):
        kvstore.check_store('consul://127.0.0.1:8500', 1)
