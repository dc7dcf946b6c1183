# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The legacy overlay control plane: an external key-value store (engines before Docker 23.0).

Nothing here changes anything. The engine's ``cluster-store`` / ``cluster-advertise`` (set in
daemon.json by the daemon role) are compared with the request, and the store is asked, with a
bounded timeout, whether it answers the way libkv needs: etcd with the v2 API enabled. A store
served over TLS with client certificates (kv_store role, kv_store_tls) is asked the way the engine
asks it: with the files of the engine's ``cluster-store-opts`` (kv.cacertfile, kv.certfile, kv.keyfile).
"""

from __future__ import annotations

import json
import ssl
from typing import Any, Dict, List, Mapping, Optional, Tuple
from urllib.error import HTTPError, URLError
from urllib.request import HTTPSHandler, ProxyHandler, Request, build_opener

from ansible_collections.netfleet.docker.plugins.module_utils._common import versions
from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import PlanningError
from ansible_collections.netfleet.docker.plugins.module_utils._overlay.preflight import split_host_port

KV_SCHEMES = ('etcd', 'consul', 'zk')
# The engine's cluster-store-opts that carry its TLS files, as dockerd names them -> what they are.
TLS_OPTS = (('kv.cacertfile', 'the CA certificate'), ('kv.certfile', 'the client certificate'),
            ('kv.keyfile', 'the client key'))
DAEMON_JSON = '/etc/docker/daemon.json'
DEFAULT_PORTS = dict(etcd=2379, consul=8500, zk=2181)


class KVError(PlanningError):
    """A KV-backend check failed (it changes nothing); the message names the store, the problem and the fix."""


def parse_store(url: Any) -> Tuple[str, List[str]]:
    """'etcd://10.0.0.1:2379,10.0.0.2:2379/prefix' -> ('etcd', ['10.0.0.1:2379', '10.0.0.2:2379'])."""
    text = str(url or '').strip()
    scheme, sep, rest = text.partition('://')
    if not sep or scheme not in KV_SCHEMES:
        raise KVError("cluster_store '%s' is not a store URL; write it as docker does, e.g. etcd://10.0.0.5:2379 "
                      "(schemes: %s)" % (text, ', '.join(KV_SCHEMES)))
    hosts = rest.split('/', 1)[0]
    endpoints = []
    for item in hosts.split(','):
        if not item:
            continue
        try:
            host, port = split_host_port(item, DEFAULT_PORTS[scheme])
        except ValueError as exc:
            raise KVError('cluster_store %s: %s' % (text, exc))
        if not host:
            raise KVError('cluster_store %s: an endpoint has no host' % text)
        endpoints.append('%s:%d' % ('[%s]' % host if ':' in host else host, port))
    if not endpoints:
        raise KVError('cluster_store %s names no endpoint (host:port)' % text)
    return scheme, endpoints


def normalize_store(url: Any) -> str:
    """Compare store URLs the way the engine reports them: scheme, endpoints with ports, no trailing slash."""
    scheme, endpoints = parse_store(url)
    path = str(url).split('://', 1)[1].partition('/')[2].strip('/')
    return '%s://%s%s' % (scheme, ','.join(endpoints), '/' + path if path else '')


def same_advertise(requested: str, actual: str, resolved_ip: Optional[str] = None) -> bool:
    """'eth0:2376' matches the engine's '10.0.0.5:2376' when eth0 carries 10.0.0.5 (dockerd reports the address)."""
    if requested == actual:
        return True
    try:
        want_host, want_port = split_host_port(requested)
        have_host, have_port = split_host_port(actual)
    except ValueError:
        return False
    return want_port == have_port and have_host in (want_host, resolved_ip)


def settings_problems(requested_store: str, requested_advertise: Optional[str], info: Mapping,
                      resolved_ip: Optional[str] = None) -> List[str]:
    """Differences between the request and what the engine runs with (docker info).

    resolved_ip: the address of requested_advertise's interface on this host, when it names one."""
    problems = []
    actual_store = info.get('ClusterStore') or ''
    actual_advertise = info.get('ClusterAdvertise') or ''
    if not actual_store:
        problems.append("the engine has no cluster-store configured; set \"cluster-store\": \"%s\" in daemon.json "
                        "(netfleet.docker.daemon role) and restart dockerd" % requested_store)
    elif normalize_store(actual_store) != normalize_store(requested_store):
        problems.append("the engine's cluster-store is %s, the request says %s; fix daemon.json or the request"
                        % (actual_store, requested_store))
    if requested_advertise:
        if not actual_advertise:
            problems.append("the engine has no cluster-advertise configured; the request says %s" % requested_advertise)
        elif not same_advertise(requested_advertise, actual_advertise, resolved_ip):
            problems.append("the engine's cluster-advertise is %s, the request says %s; fix daemon.json or the request"
                            % (actual_advertise, requested_advertise))
    return problems


def store_tls(store_opts: Optional[Mapping]) -> Optional[Dict[str, str]]:
    """cluster-store-opts -> the TLS files (all three), or None when the engine talks plain HTTP to the store."""
    opts = dict(store_opts or {})
    given = [key for key, _what in TLS_OPTS if opts.get(key)]
    if not given:
        return None
    missing = ['%s (%s)' % (key, what) for key, what in TLS_OPTS if key not in given]
    if missing:
        raise KVError('cluster-store-opts sets %s but not %s: the engine cannot talk TLS to the store with part of '
                      'its files; give all three (netfleet.docker.kv_store entry point client sets them)'
                      % (', '.join(given), ', '.join(missing)))
    return dict((key, str(opts[key])) for key, _what in TLS_OPTS)


def tls_context(tls: Mapping[str, str]) -> ssl.SSLContext:
    """A client context that trusts only the store's CA and presents the engine's certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        context.load_verify_locations(cafile=tls['kv.cacertfile'])
        context.load_cert_chain(tls['kv.certfile'], tls['kv.keyfile'])
    except (OSError, ssl.SSLError) as exc:
        # never the file's content: a key must not end up in a message
        files = ', '.join(tls[key] for key, _what in TLS_OPTS)
        raise KVError('cluster-store-opts: the TLS files %s cannot be used (%s): fix the paths or issue the '
                      'certificate again (netfleet.docker.kv_store)' % (files, type(exc).__name__))
    return context


def engine_store_opts(path: Optional[str] = None) -> Dict[str, Any]:
    """The engine's cluster-store-opts from its daemon.json ({} when the file or the key is not there).

    docker info does not report them, and the check must ask the store the way the engine does."""
    try:
        with open(path or DAEMON_JSON) as handle:
            config = json.load(handle)
    except (OSError, ValueError):
        return {}
    opts = config.get('cluster-store-opts') if isinstance(config, dict) else None
    return dict(opts) if isinstance(opts, dict) else {}


def _get(url, timeout, context=None):
    handlers = [ProxyHandler({})]    # the store is a lab/peer address: never through a proxy
    if context is not None:
        handlers.append(HTTPSHandler(context=context))
    opener = build_opener(*handlers)
    request = Request(url, headers={'Accept': 'application/json'})
    response = opener.open(request, timeout=timeout)
    try:
        return response.getcode(), response.read(65536)
    finally:
        response.close()


def probe_etcd(endpoint: str, timeout: float, tls: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """Ask one etcd endpoint for /version and for the v2 keyspace. -> dict with version and v2 (bool).

    tls: the engine's TLS files (store_tls); the store is then asked over https with its client certificate."""
    context = tls_context(tls) if tls else None
    base = '%s://%s' % ('https' if tls else 'http', endpoint)
    try:
        status, body = _get(base + '/version', timeout, context)
    except HTTPError as exc:
        raise KVError('%s/version answered HTTP %s: this is not an etcd server' % (base, exc.code))
    except (URLError, OSError, ValueError) as exc:
        reason = getattr(exc, 'reason', exc)
        raise KVError('the KV store at %s does not answer %s (%s; timeout %ss): start etcd (netfleet.docker.kv_store '
                      'role) or fix cluster_store%s' % (endpoint, 'over TLS' if tls else 'over plain HTTP', reason,
                                                        timeout, _tls_hint(tls)))
    version = None
    try:
        version = json.loads(body.decode('utf-8', 'replace')).get('etcdserver')
    except (ValueError, AttributeError):
        pass
    try:
        status, body = _get(base + '/v2/keys', timeout, context)
    except HTTPError as exc:
        if exc.code == 404:
            raise KVError('etcd %s at %s answers but its v2 API is disabled (GET /v2/keys: 404); Docker\'s legacy '
                          'overlay (libkv) speaks only the v2 API: start etcd with --enable-v2=true '
                          '(ETCD_ENABLE_V2=true)' % (version or '?', endpoint))
        raise KVError('etcd at %s refused GET /v2/keys (HTTP %s)' % (endpoint, exc.code))
    except (URLError, OSError, ValueError) as exc:
        raise KVError('etcd at %s stopped answering on /v2/keys (%s)' % (endpoint, getattr(exc, 'reason', exc)))
    return dict(endpoint=endpoint, version=version, v2=status == 200)


def _tls_hint(tls: Optional[Mapping[str, str]]) -> str:
    """Why a store may refuse: the other side of the TLS choice (kv_store_tls vs the engine's cluster-store-opts)."""
    if tls:
        return ('; with TLS, the store must trust the CA of %s and serve https (kv_store_tls: true)'
                % tls['kv.cacertfile'])
    return '; a store with kv_store_tls needs the engine\'s cluster-store-opts kv.cacertfile, kv.certfile, kv.keyfile'


def check_store(url: str, timeout: float, store_opts: Optional[Mapping] = None) -> List[Dict[str, Any]]:
    """Every endpoint of the store must answer (etcd: with the v2 API). -> list of per-endpoint results.

    store_opts: the engine's cluster-store-opts; with TLS files, the store is asked over TLS with them."""
    scheme, endpoints = parse_store(url)
    if scheme != 'etcd':
        raise KVError('cluster_store %s: only etcd stores are checked by this collection (the kv_store role '
                      'deploys etcd); use etcd:// or check the %s store yourself' % (url, scheme))
    tls = store_tls(store_opts)
    return [probe_etcd(endpoint, timeout, tls) for endpoint in endpoints]


def check_engine(engine: Any, params: Mapping, resolved_ip: Optional[str] = None,
                 store_opts: Optional[Mapping] = None) -> Dict[str, Any]:
    """The whole kv backend: the version gate, the engine's settings, then the store. -> the result's `kv`.

    resolved_ip: the address of cluster_advertise's interface on this host, when it names one.
    store_opts: the engine's cluster-store-opts (its daemon.json), for a store served over TLS."""
    problem = versions.gate_problem(engine, 'legacy_kv_overlay',
                                    what='the legacy KV-store overlay (cluster-store, backend: kv)')
    if problem:
        raise PlanningError('%s: use backend: swarm on this engine (overlay_cluster swarm init / join, overlay '
                            'networks with scope swarm), or run the legacy overlay on engines before 23.0' % problem)
    info = engine.call('read the engine info', engine.api.info)
    kv = dict(cluster_store=info.get('ClusterStore') or '', cluster_advertise=info.get('ClusterAdvertise') or '')
    problems = settings_problems(params['cluster_store'], params.get('cluster_advertise'), info, resolved_ip)
    if problems:
        # one message, as the operator reads it; the list for playbooks that branch on it
        error = KVError('; '.join(problems), kv=kv)
        error.details['problems'] = problems
        raise error
    try:
        kv['store'] = check_store(params['cluster_store'], params['preflight_timeout'], store_opts)
    except KVError as exc:
        exc.details.setdefault('kv', kv)
        raise
    return kv
