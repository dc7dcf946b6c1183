# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection to the Docker engine: options, SDK import guard, error translation, version gates.

Every module of the collection connects through :func:`connect`, so a missing SDK, an
unreachable engine or an engine too old for an option reads the same everywhere.
"""

from __future__ import annotations

import os
import traceback
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.netfleet.docker.plugins.module_utils._common import errors, versions

try:
    import docker
    import docker.errors
    import docker.tls
    import requests
    import requests.adapters
    DOCKER_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by the sanity import test
    docker = None
    requests = None
    DOCKER_IMPORT_ERROR = traceback.format_exc()

DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock'
MIN_SDK_VERSION = (7, 1)

CONNECTION_ARGUMENT_SPEC = dict(
    docker_host=dict(type='str', default=DEFAULT_DOCKER_HOST, aliases=['docker_url'],
                     fallback=(env_fallback, ['DOCKER_HOST'])),
    tls=dict(type='bool', default=False),
    validate_certs=dict(type='bool', default=False, aliases=['tls_verify'],
                        fallback=(env_fallback, ['DOCKER_TLS_VERIFY'])),
    ca_path=dict(type='path', aliases=['ca_cert', 'tls_ca_cert']),
    client_cert=dict(type='path', aliases=['tls_client_cert', 'cert_path']),
    client_key=dict(type='path', aliases=['tls_client_key', 'key_path'], no_log=True),
    tls_hostname=dict(type='str', fallback=(env_fallback, ['DOCKER_TLS_HOSTNAME'])),
    api_version=dict(type='str', default='auto', aliases=['docker_api_version'],
                     fallback=(env_fallback, ['DOCKER_API_VERSION'])),
    timeout=dict(type='int', default=60, fallback=(env_fallback, ['DOCKER_TIMEOUT'])),
)

# Kept for callers of the old names: the gates live in versions.GATES now.
parse_version = versions.parse_version
version_text = versions.version_text
features_for = versions.features_for
ENGINE_FEATURES = dict((name, (row.get('engine'), row.get('removed_in')))
                       for name, row in versions.GATES.items() if row.get('feature', True))

# One engine error for the collection; the old name stays importable from here.
EngineError = errors.EngineError


if requests is not None:
    class _PinnedHostnameAdapter(requests.adapters.HTTPAdapter):
        """Checks the engine's certificate against tls_hostname instead of the URL's host."""

        def __init__(self, hostname, **kwargs):
            self._hostname = hostname
            super().__init__(**kwargs)

        def init_poolmanager(self, *args, **kwargs):
            kwargs['assert_hostname'] = self._hostname
            kwargs['server_hostname'] = self._hostname
            return super().init_poolmanager(*args, **kwargs)


def _tls_settings(params):
    cert_dir = os.environ.get('DOCKER_CERT_PATH')
    ca_path, cert, key = params.get('ca_path'), params.get('client_cert'), params.get('client_key')
    if cert_dir:
        ca_path = ca_path or os.path.join(cert_dir, 'ca.pem')
        cert = cert or os.path.join(cert_dir, 'cert.pem')
        key = key or os.path.join(cert_dir, 'key.pem')
    use_tls = params.get('tls') or params.get('validate_certs')
    return use_tls, ca_path, cert, key


class Engine:
    """One connection to one engine, with what a module needs to know about it."""

    def __init__(self, api, endpoint):
        self.api = api
        self.endpoint = endpoint
        self._version_info = None

    @property
    def version_info(self) -> Mapping[str, Any]:
        if self._version_info is None:
            self._version_info = self.call('read the engine version', self.api.version)
        return self._version_info

    @property
    def engine_version(self) -> Tuple[int, ...]:
        return parse_version(self.version_info.get('Version', '0'))

    @property
    def api_version(self) -> Tuple[int, ...]:
        return parse_version(self.api.api_version)

    def features(self) -> Dict[str, bool]:
        return features_for(self.engine_version)

    def require(self, feature: str, owner: Optional[str] = None, what: Optional[str] = None) -> None:
        """Fail (EngineError) naming the feature, the versions and the fix when this engine lacks it."""
        versions.require(self, feature, owner, what)

    def supports(self, feature: str) -> bool:
        return versions.supports(self, feature)

    def require_api(self, minimum: str, option: str, owner: Optional[str] = None) -> None:
        """Fail naming the option and the minimum API version when the connection speaks an older one."""
        row = dict(api=minimum, what=option, option=True)
        if self.api_version < parse_version(minimum):
            raise EngineError(versions.api_message(self, row, option, owner))

    def require_engine(self, feature: str, what: str) -> None:
        versions.require(self, feature, what=what)

    def call(self, doing: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one SDK call; turn its failure into an EngineError that says what we were doing."""
        try:
            return func(*args, **kwargs)
        except docker.errors.APIError as exc:
            raise EngineError('the engine at %s refused to %s: %s'
                              % (self.endpoint, doing, api_error_text(exc)))
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            raise EngineError(unreachable_message(self.endpoint, exc))

    def post_json(self, doing: str, path: str, body: Mapping[str, Any], params: Optional[Mapping[str, Any]] = None) -> Any:
        """POST a JSON body to an API path the SDK has no helper for (e.g. ConfigOnly networks)."""
        def _post():
            response = self.api._post_json(self.api._url(path), data=body, params=params)
            return self.api._result(response, json=True)
        return self.call(doing, _post)


def api_error_text(exc: BaseException) -> str:
    explanation = getattr(exc, 'explanation', None)
    if isinstance(explanation, bytes):
        explanation = explanation.decode('utf-8', 'replace')
    status = getattr(exc, 'status_code', None)
    text = explanation or str(exc)
    return '%s (HTTP %s)' % (text, status) if status else text


def is_conflict(exc: BaseException) -> bool:
    return getattr(exc, 'status_code', None) == 409


def unreachable_message(endpoint: str, exc: BaseException) -> str:
    hint = 'is dockerd running (systemctl status docker) and is the socket path right?'
    if endpoint.startswith('unix://'):
        path = endpoint[len('unix://'):]
        if not os.path.exists(path):
            hint = 'no socket exists at %s: start dockerd (systemctl start docker)' % path
        elif not os.access(path, os.R_OK | os.W_OK):
            hint = 'the socket exists but this user may not use it: become root or join the docker group'
    elif endpoint.startswith('tcp://'):
        hint = ('check that dockerd listens on that address (daemon.json "hosts"), that no firewall '
                'blocks it, and that tls / validate_certs match the engine')
    return ('cannot reach the Docker engine at %s (%s); %s. Set docker_host or DOCKER_HOST to '
            'point elsewhere.' % (endpoint, exc, hint))


def _check_sdk() -> None:
    if docker is None:
        raise EngineError(missing_required_lib('docker (Docker SDK for Python >= %s)' % version_text(MIN_SDK_VERSION)),
                          exception=DOCKER_IMPORT_ERROR)
    if parse_version(docker.__version__) < MIN_SDK_VERSION:
        minimum = version_text(MIN_SDK_VERSION)
        raise EngineError('Docker SDK for Python %s is too old; this collection needs %s or later '
                          '(pip install "docker>=%s")' % (docker.__version__, minimum, minimum))


def _tls_config(params: Mapping[str, Any], endpoint: str, ca_path, cert, key):
    """The SDK's TLSConfig for the connection options; every path is checked first."""
    for label, path in (('ca_path', ca_path), ('client_cert', cert), ('client_key', key)):
        if path and not os.path.exists(path):
            raise EngineError('%s %s does not exist; fix the path or unset DOCKER_CERT_PATH' % (label, path))
    if bool(cert) != bool(key):
        raise EngineError('client_cert and client_key go together; give both or neither')
    client_cert = (cert, key) if cert and key else None
    try:
        return docker.tls.TLSConfig(client_cert=client_cert, ca_cert=ca_path,
                                    verify=(ca_path or True) if params['validate_certs'] else False)
    except docker.errors.TLSParameterError as exc:
        raise EngineError('invalid TLS settings for %s: %s' % (endpoint, exc))


def _api_client(endpoint: str, endpoint_url: str, version: str, timeout: int, tls_config):
    try:
        return docker.APIClient(base_url=endpoint_url, version=version, timeout=timeout, tls=tls_config)
    except docker.errors.InvalidVersion as exc:
        raise EngineError("api_version '%s' cannot be used with the engine at %s: %s; set api_version: auto "
                          "(or DOCKER_API_VERSION) to negotiate, or give 1.24 or later" % (version, endpoint, exc))
    except docker.errors.DockerException as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)) or \
                'Connection' in str(exc) or 'connect' in str(exc):
            raise EngineError(unreachable_message(endpoint, exc))
        raise EngineError('cannot use the Docker engine at %s: %s' % (endpoint, exc))
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise EngineError(unreachable_message(endpoint, exc))


def connect(module) -> Engine:
    """Connect with the module's connection options.

    Raises EngineError with a message that names the endpoint, the problem and the fix; the
    driver base turns it into the module's failure (nothing has changed yet).
    """
    _check_sdk()
    params = module.params
    endpoint = params['docker_host'] or DEFAULT_DOCKER_HOST
    use_tls, ca_path, cert, key = _tls_settings(params)
    tls_config = False
    endpoint_url = endpoint
    if use_tls:
        tls_config = _tls_config(params, endpoint, ca_path, cert, key)
        if endpoint.startswith('tcp://'):
            endpoint_url = 'https://' + endpoint[len('tcp://'):]
    api = _api_client(endpoint, endpoint_url, params['api_version'] or 'auto', params['timeout'], tls_config)
    if use_tls and params.get('tls_hostname'):
        api.mount('https://', _PinnedHostnameAdapter(params['tls_hostname']))
    return Engine(api, endpoint)


def connect_or_fail(module) -> Engine:
    """connect() for modules not yet on the driver base: the same messages through fail_json."""
    try:
        return connect(module)
    except EngineError as exc:
        module.fail_json(msg=str(exc), **exc.details)
        raise  # not reached: fail_json exits
