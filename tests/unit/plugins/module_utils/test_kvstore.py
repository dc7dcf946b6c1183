# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""KV-store checks against a fake etcd on 127.0.0.1 (v2 enabled, v2 disabled) and a closed port."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from ansible_collections.netfleet.docker.plugins.module_utils._overlay import kvstore


def fake_etcd(v2, tls_context=None):
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
    if tls_context is not None:
        # wrapped before the thread serves: a swap under a running serve_forever raced (handshake timeouts)
        server.socket = tls_context.wrap_socket(server.socket, server_side=True)
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


# ---- a store served over TLS with client certificates (kv_store_tls) ---------------------------------
def _openssl(*args, cwd):
    subprocess.run(('openssl',) + args, cwd=str(cwd), check=True, capture_output=True, timeout=30)


@pytest.fixture(scope='module')
def pki(tmp_path_factory):
    """A CA, a server certificate for 127.0.0.1, a client certificate of that CA and one of another CA."""
    if not shutil.which('openssl'):
        pytest.skip('openssl is not installed on this machine: the TLS cases need it to make certificates')
    path = tmp_path_factory.mktemp('pki')
    ec = ('-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1')
    for ca in ('ca', 'other-ca'):
        _openssl('req', '-x509', *ec, '-subj', '/CN=' + ca, '-keyout', ca + '-key.pem', '-out', ca + '.pem', cwd=path)
    (path / 'ext').write_text('subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n')
    for name, ca in (('server', 'ca'), ('client', 'ca'), ('stranger', 'other-ca')):
        _openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj',
                 '/CN=' + name, '-keyout', name + '-key.pem', '-out', name + '.csr', cwd=path)
        _openssl('x509', '-req', '-in', name + '.csr', '-CA', ca + '.pem', '-CAkey', ca + '-key.pem',
                 '-set_serial', '0x%x' % (abs(hash(name)) + 1), '-days', '1', '-extfile', 'ext',
                 '-out', name + '.pem', cwd=path)
    return path


def _opts(pki, name, ca='ca'):
    return {'kv.cacertfile': str(pki / (ca + '.pem')), 'kv.certfile': str(pki / (name + '.pem')),
            'kv.keyfile': str(pki / (name + '-key.pem'))}


@pytest.fixture
def etcd_tls(pki):
    """The fake etcd (v2 on) behind TLS that requires a client certificate of the CA (--client-cert-auth)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(pki / 'server.pem'), str(pki / 'server-key.pem'))
    context.load_verify_locations(cafile=str(pki / 'ca.pem'))
    context.verify_mode = ssl.CERT_REQUIRED
    server = fake_etcd(True, tls_context=context)
    yield '127.0.0.1:%d' % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_store_over_tls_answers_the_engines_certificate(pki, etcd_tls):
    store = kvstore.check_store('etcd://%s' % etcd_tls, 3, _opts(pki, 'client'))
    assert store == [dict(endpoint=etcd_tls, version='3.5.16', v2=True)]


@pytest.mark.parametrize('case, opts, words', [
    ('plain HTTP to the TLS store', lambda pki: {}, ['does not answer over plain HTTP', 'cluster-store-opts']),
    ('a certificate of another CA', lambda pki: _opts(pki, 'stranger', 'other-ca'), ['does not answer over TLS']),
])
def test_store_over_tls_refuses_the_wrong_client(pki, etcd_tls, case, opts, words):
    with pytest.raises(kvstore.KVError) as err:
        kvstore.check_store('etcd://%s' % etcd_tls, 3, opts(pki))
    for word in words:
        assert word in str(err.value), case


def test_tls_opts_partial_or_unreadable_fail_naming_the_files(pki):
    with pytest.raises(kvstore.KVError) as err:
        kvstore.store_tls({'kv.cacertfile': '/x/ca.pem', 'kv.certfile': '/x/host.pem'})
    assert 'kv.keyfile (the client key)' in str(err.value)
    assert kvstore.store_tls({}) is None and kvstore.store_tls({'discovery.ttl': '20'}) is None
    missing = dict(_opts(pki, 'client'), **{'kv.keyfile': str(pki / 'absent-key.pem')})
    with pytest.raises(kvstore.KVError) as err:
        kvstore.tls_context(kvstore.store_tls(missing))
    assert 'absent-key.pem' in str(err.value) and 'BEGIN' not in str(err.value)


def test_engine_store_opts_read_from_daemon_json(tmp_path):
    path = tmp_path / 'daemon.json'
    assert kvstore.engine_store_opts(str(path)) == {}
    path.write_text(json.dumps({'cluster-store': 'etcd://10.0.0.1:2379', 'cluster-store-opts': {'kv.cacertfile': '/c'}}))
    assert kvstore.engine_store_opts(str(path)) == {'kv.cacertfile': '/c'}
    path.write_text('{not json')
    assert kvstore.engine_store_opts(str(path)) == {}
