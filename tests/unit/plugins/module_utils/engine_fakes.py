# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An in-memory Docker engine for unit tests: inspect-form networks and containers.

FakeAPI answers the read calls of docker.APIClient and fails the test on any write (planning
must not change anything); RecordingAPI records the writes and can be told to fail some.
"""

from __future__ import annotations

import copy

import docker.errors


def _id(seed):
    return (seed.encode().hex() * 64)[:64]


class FakeAPI:
    """The read side of docker.APIClient over lists of dicts; any write fails the test."""

    def __init__(self, networks=(), containers=(), api_version='1.41', engine_version='20.10.24',
                 network_plugins=('weave',), plugins=()):
        self._networks = list(networks)
        self._containers = list(containers)
        self.api_version = api_version
        self._engine_version = engine_version
        self._network_plugins = list(network_plugins)
        self._plugins = list(plugins)
        self.calls = []

    def networks(self):
        self.calls.append('networks')
        return copy.deepcopy(self._networks)

    def containers(self, all=False):  # pylint: disable=redefined-builtin
        assert all is True, 'stopped containers hold endpoints too: list with all=True'
        self.calls.append('containers')
        return [dict(Id=c['Id'], Names=[c['Name']], State='running' if c['State']['Running'] else 'exited',
                     NetworkSettings=dict(Networks=dict((name, dict(IPAddress=s.get('IPAddress', '')))
                                                        for name, s in c['NetworkSettings']['Networks'].items())))
                for c in self._containers]

    def inspect_container(self, ref):
        """Like the engine: exact name, or any unique ID prefix."""
        self.calls.append('inspect_container %s' % ref)
        for c in self._containers:
            if c['Name'].lstrip('/') == ref.lstrip('/'):
                return copy.deepcopy(c)
        matches = [c for c in self._containers if c['Id'].startswith(ref)]
        if len(matches) == 1:
            return copy.deepcopy(matches[0])
        raise docker.errors.NotFound('No such container: %s' % ref)

    def inspect_network(self, ref):
        self.calls.append('inspect_network %s' % ref)
        for net in self._networks:
            if ref in (net['Id'], net['Name']):
                return copy.deepcopy(net)
        raise docker.errors.NotFound('network %s not found' % ref)

    def info(self):
        return dict(Plugins=dict(Network=['bridge', 'host', 'macvlan', 'null', 'overlay'] + self._network_plugins))

    def plugins(self):
        return list(self._plugins)

    def version(self):
        return dict(Version=self._engine_version, ApiVersion=self.api_version)

    def __getattr__(self, name):
        raise AssertionError('planning must not call APIClient.%s' % name)


def network(name, subnets=(('172.20.0.0/16', '172.20.0.1'),), driver='bridge', **overrides):
    data = dict(Name=name, Id=_id(name), Driver=driver, Scope='local', EnableIPv6=False, Internal=False,
                Attachable=False, ConfigOnly=False, ConfigFrom=dict(Network=''), Options={}, Labels={},
                IPAM=dict(Driver='default', Options=None,
                          Config=[dict(Subnet=subnet, Gateway=gateway) for subnet, gateway in subnets]))
    data.update(overrides)
    return data


def container(name, running=True, networks=None, network_mode=None):
    """Inspect form. networks: {network name: dict(ip=..., aliases=[...], links=[...], driver_opts={...},
    mac=..., gw_priority=...)}; network_mode is HostConfig.NetworkMode (left out when None)."""
    cid = _id('c-' + name)
    settings = {}
    for net_name, endpoint in (networks or {}).items():
        ip = endpoint.get('ip')
        settings[net_name] = dict(
            IPAMConfig=dict(IPv4Address=ip) if ip else None,
            Aliases=[cid[:12]] + list(endpoint.get('aliases', [])),
            Links=endpoint.get('links'), DriverOpts=endpoint.get('driver_opts'),
            MacAddress=endpoint.get('mac', '02:42:ac:14:00:05' if running else ''),
            IPAddress=(ip or '172.20.0.99') if running else '')
        if 'gw_priority' in endpoint:
            settings[net_name]['GwPriority'] = endpoint['gw_priority']
    data = dict(Id=cid, Name='/' + name, State=dict(Running=running, Status='running' if running else 'exited'),
                NetworkSettings=dict(Networks=settings))
    if network_mode is not None:
        data['HostConfig'] = dict(NetworkMode=network_mode)
    return data


class RecordingAPI(FakeAPI):
    """Records write calls; create/connect can be told to fail."""

    def __init__(self, *args, **kwargs):
        self.fail_create = kwargs.pop('fail_create', 0)
        self.fail_connect = set(kwargs.pop('fail_connect', ()))
        super().__init__(*args, **kwargs)
        self.writes = []

    def disconnect_container_from_network(self, container_id, network_id, force=False):
        self.writes.append(('disconnect', container_id, network_id, force))

    def remove_network(self, network_id):
        self.writes.append(('remove', network_id))

    def connect_container_to_network(self, container_id, network_id, **kwargs):
        self.writes.append(('connect', container_id, network_id, kwargs))
        if container_id in self.fail_connect:
            raise docker.errors.APIError('400 Client Error', explanation='no address left')

    def _url(self, path, *args):
        return path.format(*args)

    def _raise_for_status(self, response):
        pass

    def _post_json(self, url, data):
        if url.endswith('/connect'):  # the Engine API's connect, for what the SDK cannot send (GwPriority)
            self.writes.append(('connect-post', data['Container'], url.split('/')[2], data['EndpointConfig']))
            if data['Container'] in self.fail_connect:
                raise docker.errors.APIError('400 Client Error', explanation='no address left')
            return None
        self.writes.append(('post', url, data))
        if self.fail_create:
            self.fail_create -= 1
            raise docker.errors.APIError('400 Client Error', explanation='Pool overlaps with other one on this address space')
        return dict(Id=_id('created-%d' % len(self.writes)))

    def _result(self, response, json=False):
        assert json is True
        return response


class StatefulAPI(RecordingAPI):
    """RecordingAPI whose writes change its networks, so inspect after apply sees the result."""

    def remove_network(self, network_id):
        super().remove_network(network_id)
        self._networks = [net for net in self._networks if net['Id'] != network_id]

    def _post_json(self, url, data):
        result = super()._post_json(url, data)
        if url.endswith('/connect'):
            return result
        pools = [(pool['Subnet'], pool.get('Gateway')) for pool in data['IPAM']['Config']]
        more = dict((key, data[key]) for key in ('EnableIPv4', 'Ingress', 'Internal') if key in data)
        self._networks.append(network(data['Name'], pools, driver=data['Driver'], Id=result['Id'],
                                      Labels=dict(data['Labels']), Options=dict(data.get('Options') or {}),
                                      EnableIPv6=data['EnableIPv6'], **more))
        return result


class ModuleExit(Exception):
    """exit_json or fail_json of FakeModule: ``failed`` and ``result`` say which and what."""

    def __init__(self, failed, result):
        super().__init__(result.get('msg', ''))
        self.failed = failed
        self.result = result


class FakeModule:
    """What a driver uses of AnsibleModule: params with every option present, check and diff mode."""

    def __init__(self, argument_spec, params, check_mode=False, diff=False):
        self.params = dict((key, spec.get('default')) for key, spec in argument_spec.items())
        self.params.update(params)
        self.check_mode = check_mode
        self._diff = diff
        self.warnings = []

    def warn(self, warning):
        self.warnings.append(warning)

    def exit_json(self, **result):
        raise ModuleExit(False, result)

    def fail_json(self, **result):
        raise ModuleExit(True, result)

    def get_bin_path(self, name, required=False):
        return '/usr/sbin/' + name
