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
        'config_only_networks', 'endpoint_mac_address'])
    assert client.ENGINE_FEATURES['legacy_kv_overlay'] == (None, (23, 0))


def test_option_gates_by_prefix():
    assert sorted(versions.option_gates('network')) == ['attachable', 'config_from', 'config_only', 'scope']


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
