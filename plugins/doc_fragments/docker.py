# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r'''
options:
  docker_host:
    description:
      - The engine to talk to, as C(unix:///path/to/socket), C(tcp://host:port) or C(ssh://user@host).
      - Falls back to the E(DOCKER_HOST) environment variable, then to the local socket.
    type: str
    default: unix:///var/run/docker.sock
    aliases: [docker_url]
  tls:
    description:
      - Talk TLS to the engine without verifying its certificate chain against O(ca_path).
      - Prefer O(validate_certs=true); O(validate_certs) implies O(tls).
    type: bool
    default: false
  validate_certs:
    description:
      - Talk TLS to the engine and verify its certificate (against O(ca_path) when given).
      - Falls back to E(DOCKER_TLS_VERIFY) (any non-empty value other than C(0) means true).
    type: bool
    default: false
    aliases: [tls_verify]
  ca_path:
    description:
      - CA certificate used to verify the engine's certificate.
      - Defaults to C(ca.pem) in E(DOCKER_CERT_PATH) when that variable is set.
    type: path
    aliases: [ca_cert, tls_ca_cert]
  client_cert:
    description:
      - Client certificate presented to the engine.
      - Defaults to C(cert.pem) in E(DOCKER_CERT_PATH) when that variable is set.
    type: path
    aliases: [tls_client_cert, cert_path]
  client_key:
    description:
      - Private key of O(client_cert). Never printed.
      - Defaults to C(key.pem) in E(DOCKER_CERT_PATH) when that variable is set.
    type: path
    aliases: [tls_client_key, key_path]
  tls_hostname:
    description:
      - Name expected in the engine's certificate when it differs from the host in O(docker_host).
      - Falls back to E(DOCKER_TLS_HOSTNAME).
    type: str
  api_version:
    description:
      - Docker API version to speak, or V(auto) to negotiate the highest version both sides know.
      - Falls back to E(DOCKER_API_VERSION).
    type: str
    default: auto
    aliases: [docker_api_version]
  timeout:
    description:
      - Seconds to wait for an answer from the engine API.
      - Falls back to E(DOCKER_TIMEOUT).
    type: int
    default: 60
requirements:
  - Docker SDK for Python >= 7.1 (C(docker)) on the managed host
notes:
  - Connection options can be set once for every module of this collection with
    C(module_defaults) and the action group C(group/netfleet.docker.docker).
  - A C(tcp://) endpoint without TLS gives root on the host to anyone who reaches the port; use
    O(validate_certs=true) with client certificates.
'''
