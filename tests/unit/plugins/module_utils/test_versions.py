# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The version-gate table: one row per feature/option, read through require() and supports()."""

from __future__ import annotations

import pytest

from ansible_collections.netfleet.docker.plugins.module_utils._common import client, errors, versions


class _Api:
    def __init__(self, api_version, engine_version):
        self.api_version = api_version
        self._engine_version = engine_version

    def version(self):
        return dict(Version=self._engine_version)


def engine(api_version='1.41', engine_version='20.10.24'):
    return client.Engine(_Api(api_version, engine_version), 'unix:///s')


def test_every_row_names_itself_and_has_a_bound():
    for name, row in versions.GATES.items():
        assert row['what'], name
        assert row.get('engine') or row.get('removed_in') or row.get('api'), name


def test_features_report_only_engine_rows_with_the_old_keys():
    assert set(versions.features_for((26, 1))) == set([
        'legacy_kv_overlay', 'dockerd_validate', 'default_network_opts', 'ip_forward_no_drop',
        'config_only_networks', 'endpoint_mac_address', 'bridge_gateway_mode_routed', 'endpoint_sysctls',
        'ipv6_only_networks', 'bridge_gateway_mode_isolated', 'endpoint_gw_priority', 'endpoint_ifname',
        'trusted_host_interfaces', 'inspect_hides_enable_ip_options', 'firewall_backend_nftables',
        'ipam_status_subnets', 'swarm_nftables'])
    assert client.ENGINE_FEATURES['legacy_kv_overlay'] == (None, (23, 0))


def test_option_gates_by_prefix():
    assert sorted(versions.option_gates('network')) == ['attachable', 'config_from', 'config_only', 'enable_ipv4',
                                                        'ingress', 'scope', 'trusted_host_interfaces']


def test_require_names_option_owner_and_versions():
    with pytest.raises(errors.EngineError) as exc:
        versions.require(engine('1.24', '1.12.6'), 'network.scope', "network 'web'")
    assert str(exc.value) == ("option 'scope' of network 'web' needs Docker API 1.30 or later, but the engine at "
                              "unix:///s speaks API 1.24 (engine 1.12.6); upgrade the engine or drop the option")
    versions.require(engine('1.41'), 'network.scope')


def test_require_engine_feature_added_and_removed():
    with pytest.raises(client.EngineError, match='dockerd --validate needs Docker 23.0 or later; the engine at unix:///s is 20.10.24'):
        engine().require('dockerd_validate')
    with pytest.raises(client.EngineError, match='kv was removed in Docker 23.0'):
        engine('1.45', '26.1.5').require('legacy_kv_overlay', what='kv')
    engine().require('legacy_kv_overlay')


def test_supports_reads_engine_and_api_version():
    assert versions.supports(engine('1.44', '25.0.3'), 'endpoint.mac_address')
    assert not versions.supports(engine('1.43', '24.0.9'), 'endpoint.mac_address')
    assert not engine('1.45', '26.1.5').supports('legacy_kv_overlay')
    assert engine().supports('legacy_kv_overlay')
    assert versions.gate_problem(engine('1.45', '26.1.5'), 'dockerd_validate') is None


class _Module:
    def __init__(self, **params):
        self.params = dict(docker_host='unix:///nonexistent/docker.sock', tls=False, validate_certs=False,
                           ca_path=None, client_cert=None, client_key=None, tls_hostname=None,
                           api_version='1.41', timeout=5)
        self.params.update(params)
        self.failed = None

    def fail_json(self, **kwargs):
        self.failed = kwargs
        raise SystemExit(1)


def test_connect_raises_instead_of_failing_the_module(tmp_path):
    module = _Module(tls=True, ca_path=str(tmp_path / 'missing-ca.pem'))
    with pytest.raises(errors.EngineError, match='ca_path .*missing-ca.pem does not exist; fix the path'):
        client.connect(module)
    assert module.failed is None


def test_connect_cert_and_key_go_together(tmp_path):
    cert = tmp_path / 'cert.pem'
    cert.write_text('x')
    with pytest.raises(errors.EngineError, match='client_cert and client_key go together'):
        client.connect(_Module(tls=True, client_cert=str(cert)))


def test_connect_with_fixed_api_version_builds_an_engine():
    engine_ = client.connect(_Module())
    assert engine_.endpoint == 'unix:///nonexistent/docker.sock'


def test_connect_or_fail_keeps_the_message(tmp_path):
    module = _Module(tls=True, ca_path=str(tmp_path / 'nope.pem'))
    with pytest.raises(SystemExit):
        client.connect_or_fail(module)
    assert module.failed['msg'].startswith('ca_path ')


def test_connect_tls_over_tcp_pins_the_hostname(tmp_path):
    ca = tmp_path / 'ca.pem'
    ca.write_text('x')
    engine_ = client.connect(_Module(docker_host='tcp://h.example:2376', tls=True, validate_certs=True,
                                     ca_path=str(ca), tls_hostname='docker.internal'))
    assert engine_.api.base_url == 'https://h.example:2376'
    adapter = engine_.api.get_adapter('https://h.example:2376')
    assert getattr(adapter, '_hostname', None) == 'docker.internal'


def test_connect_refuses_an_api_version_below_the_sdk_minimum():
    with pytest.raises(errors.EngineError, match="api_version '1.0' cannot be used with the engine at unix:///nonexistent"):
        client.connect(_Module(api_version='1.0'))


def test_connect_auto_version_to_a_missing_socket_says_unreachable():
    with pytest.raises(errors.EngineError, match='cannot reach the Docker engine at unix:///nonexistent/docker.sock .*no socket exists'):
        client.connect(_Module(api_version='auto'))


def test_engine_reads_version_once_and_posts_json():
    class Api(_Api):
        def __init__(self):
            super().__init__('1.41', '20.10.24')
            self.posted = []

        def _url(self, path):
            return 'http://x' + path

        def _post_json(self, url, data, params=None):
            self.posted.append((url, data, params))
            return dict(Id='n1')

        def _result(self, response, json=False):
            return response
    api = Api()
    engine_ = client.Engine(api, 'unix:///s')
    assert engine_.features()['dockerd_validate'] is False
    assert engine_.post_json('create', '/networks/create', dict(Name='a')) == dict(Id='n1')
    assert api.posted == [('http://x/networks/create', dict(Name='a'), None)]
    with pytest.raises(client.EngineError, match="option 'x' needs Docker API 1.99"):
        engine_.require_api('1.99', 'x')


def test_daemon_key_rows_are_not_engine_features():
    rows = versions.option_gates('daemon')
    assert rows['firewall-backend']['engine'] == (29, 0) and rows['features.swarm-nftables']['engine'] == (29, 6)
    assert rows['bip6']['engine'] == rows['host-gateway-ips']['engine'] == (28, 0)
    assert not any(name.startswith('daemon.') for name in versions.features_for((29, 7)))
    assert versions.engine_has(rows['min-api-version'], (29, 0, 1))
    assert not versions.engine_has(rows['bridge-accept-fwmark'], (28, 5, 2))
