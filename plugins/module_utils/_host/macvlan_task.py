# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The macvlan_net task: host checks -> the network through the docker_net engine -> host shim.

1. The parent is checked on the host (``ip -j``) before the engine is touched.
2. The request becomes a DesiredNetwork (driver macvlan, parent and mode as driver options,
   the shim's address reserved as aux address ``host-shim``) and goes through
   NetworkManager.plan/apply exactly like docker_net: same idempotence, diff and safe recreate.
3. The host shim (interface, address, route, systemd unit) and promiscuous mode are planned
   before anything changes and applied after the network.
"""

from __future__ import annotations

import os
import tempfile

from ansible_collections.netfleet.docker.plugins.module_utils._common import client
from ansible_collections.netfleet.docker.plugins.module_utils._host import hostnet
from ansible_collections.netfleet.docker.plugins.module_utils._network import ipam
from ansible_collections.netfleet.docker.plugins.module_utils._host import macvlan
from ansible_collections.netfleet.docker.plugins.module_utils._network import network_task
from ansible_collections.netfleet.docker.plugins.module_utils._network.endpoints import EndpointError
from ansible_collections.netfleet.docker.plugins.module_utils._network.network import NetworkManager, PlanError
from ansible_collections.netfleet.docker.plugins.module_utils._network.network_spec import (
    NETWORK_OPTION_SPEC, OPTION_DEFAULTS, DesiredNetwork, SpecError)
from ansible_collections.netfleet.docker.plugins.module_utils._common.outcome import UNCHANGED, Outcome, fail_with_problems

from ansible.module_utils.basic import missing_required_lib


def argument_spec():
    spec = dict(
        name=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        parent=dict(type='str'),
        mode=dict(type='str', default='bridge', choices=list(macvlan.MODES)),
        enable_ipv6=dict(type='bool'),
        ipam=NETWORK_OPTION_SPEC['ipam'],
        labels=dict(type='dict'),
        internal=dict(type='bool'),
        scope=dict(type='str', choices=['local', 'swarm']),
        config_only=dict(type='bool'),
        config_from=dict(type='str'),
        host_shim=dict(type='dict', options=dict(
            name=dict(type='str'),
            address=dict(type='str'),
        )),
        promiscuous=dict(type='bool'),
        recreate=dict(type='str', default='auto', choices=['auto', 'never']),
        force=dict(type='bool', default=False),
    )
    spec.update(client.CONNECTION_ARGUMENT_SPEC)
    return spec


def _network_request(params, aux=None):
    request = dict((key, None) for key in NETWORK_OPTION_SPEC)
    request.update(OPTION_DEFAULTS)
    request.update(name=params['name'], state=params['state'], recreate=params['recreate'], force=params['force'])
    for key in ('enable_ipv6', 'labels', 'internal', 'scope', 'config_only', 'config_from'):
        request[key] = params.get(key)
    if params.get('config_from'):
        request['driver'] = 'macvlan'
        return request
    if not params.get('config_only'):
        request['driver'] = 'macvlan'   # a config-only network has driver "null" on the engine
    if params.get('parent'):
        request['driver_options'] = dict(parent=params['parent'], macvlan_mode=params['mode'])
    ipam_request = dict(params.get('ipam') or {})
    if aux:
        pools = []
        for pool in ipam_request.get('config') or []:
            pool = dict(pool)
            subnet = ipam.canonical_network(pool.get('subnet'))
            if subnet in aux:
                pool['aux_addresses'] = dict(pool.get('aux_addresses') or {}, **{macvlan.SHIM_AUX_NAME: aux[subnet]})
            pools.append(pool)
        ipam_request['config'] = pools
    if ipam_request:
        request['ipam'] = ipam_request
    return request


def _desired(module, params, aux=None):
    try:
        return DesiredNetwork(_network_request(params, aux))
    except (SpecError, EndpointError) as exc:
        fail_with_problems(module, [str(exc)])
    return None


def validate_request(module, runner):
    """Everything that can be checked without the engine: options, the parent on the host, systemd."""
    params = module.params
    owner = "network '%s'" % params['name']
    problems = []
    present = params['state'] == 'present'
    shim = params.get('host_shim')
    if present and params.get('config_from'):
        for key in ('parent', 'ipam', 'host_shim', 'promiscuous'):
            if params.get(key) is not None:
                problems.append('%s: with config_from the parent and addresses come from the config-only network; remove %s '
                                '(put it on each host\'s config-only network)' % (owner, key))
        if params.get('scope') not in (None, 'swarm'):
            problems.append('%s: a network with config_from is swarm-scoped; set scope: swarm' % owner)
    elif present:
        try:
            macvlan.parse_parent(params.get('parent'), owner)
            problems.extend(macvlan.parent_problems(runner, params['parent'], owner))
        except macvlan.MacvlanError as exc:
            problems.append(str(exc))
        except hostnet.HostNetError as exc:
            problems.append('%s: %s' % (owner, exc))
        pools = (params.get('ipam') or {}).get('config') or []
        if not pools:
            problems.append('%s: a macvlan network needs ipam.config with the subnet of the parent\'s L2 segment '
                            '(the engine would pick a private range that does not exist there)' % owner)
    if present and shim is not None:
        if not os.path.isdir('/run/systemd/system'):
            problems.append('%s: host_shim is persisted as a systemd unit, but systemd is not running on this host; '
                            'create the shim with the host\'s network configuration instead' % owner)
        name = shim.get('name') or macvlan.default_shim_name(params['name'])
        if len(name) > macvlan.IFNAME_MAX or '/' in name or any(char.isspace() for char in name):
            problems.append("%s: host_shim name '%s' is not a valid interface name (1-15 characters)" % (owner, name))
    return problems


def plan_shim(module, runner, manager, desired_plain, existing):
    """The ShimSpec and the aux reservation for it, or fail with the problems."""
    params = module.params
    owner = desired_plain.owner
    shim = params['host_shim']
    pool = macvlan.ipv4_pool(desired_plain.pools)
    if pool is None:
        fail_with_problems(module, ['%s: host_shim needs exactly one IPv4 subnet in ipam.config; add one' % owner])
    if not pool.get('ip_range'):
        fail_with_problems(module, ['%s: host_shim routes the containers\' ip_range through the shim, and subnet %s has none; give '
                                    'ip_range (this host\'s slice of the subnet, e.g. %s)'
                                    % (owner, pool['subnet'], _example_slice(pool['subnet']))])
    given_aux = (pool.get('aux_addresses') or {}).get(macvlan.SHIM_AUX_NAME)
    if shim.get('address'):
        try:
            address = str(ipam.parse_address(shim['address'], owner, 'host_shim.address'))
        except ipam.IpamError as exc:
            fail_with_problems(module, [str(exc)])
        problems = macvlan.shim_address_problems(address, pool, owner)
        if given_aux and given_aux != address:
            problems.append("%s: aux_addresses['%s'] is %s but host_shim.address is %s; drop the aux address, the module "
                            "reserves the shim's address itself" % (owner, macvlan.SHIM_AUX_NAME, given_aux, address))
        if problems:
            fail_with_problems(module, problems)
    else:
        address = given_aux or _existing_shim_address(existing, pool)
        taken = []
        if existing is not None:
            taken = [endpoint['ipv4_address'] for endpoint in manager.snapshots(existing['Name'])]
        if address is None or address in taken or macvlan.shim_address_problems(address, pool, owner):
            address = macvlan.choose_shim_address(pool, taken)
        if address is None:
            fail_with_problems(module, ['%s: no address is left in subnet %s outside ip_range %s for the host shim; shrink ip_range'
                                        % (owner, pool['subnet'], pool['ip_range'])])
    name = shim.get('name') or macvlan.default_shim_name(params['name'])
    spec = macvlan.ShimSpec(name, params['parent'], address, [pool['ip_range']], bool(params.get('promiscuous')))
    return spec, {pool['subnet']: address}


def _example_slice(subnet):
    net = ipam.netaddr.IPNetwork(subnet)
    prefix = min(net.prefixlen + 4, 30 if net.version == 4 else 126)
    return str(next(net.subnet(prefix), net).cidr)


def _existing_shim_address(existing, pool):
    if existing is None:
        return None
    for config in (existing.get('IPAM') or {}).get('Config') or []:
        if ipam.canonical_network(config.get('Subnet')) == pool['subnet']:
            value = (config.get('AuxiliaryAddresses') or {}).get(macvlan.SHIM_AUX_NAME)
            return ipam.canonical_address(value) if value else None
    return None


def _same_parent_problems(manager, desired, parent):
    problems = []
    for network in manager.networks():
        if network.get('Name') == desired.name or network.get('Driver') != 'macvlan' or network.get('ConfigOnly'):
            continue
        if (network.get('Options') or {}).get('parent') != parent:
            continue
        for config in (network.get('IPAM') or {}).get('Config') or []:
            other = ipam.canonical_network(config.get('Subnet'))
            for pool in desired.pools:
                if other and ipam.networks_overlap(pool['subnet'], other):
                    problems.append("%s: subnet %s overlaps subnet %s of macvlan network '%s' on the same parent %s; give "
                                    "each macvlan network on a parent its own subnet, or use one network with a per-host "
                                    "ip_range slice" % (desired.owner, pool['subnet'], other, network['Name'], parent))
    return problems


def _systemctl(runner, *args):
    return runner(['systemctl'] + list(args))


def _read(path):
    try:
        with open(path, 'r', encoding='utf-8') as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def _write(module, path, text):
    handle, tmp = tempfile.mkstemp(prefix='.netfleet.', dir=os.path.dirname(path))
    try:
        with os.fdopen(handle, 'w', encoding='utf-8') as stream:
            stream.write(text)
        os.chmod(tmp, 0o644)
        module.atomic_move(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _owned(state, params, runtime):
    """Whether absent may remove this shim: its unit names this network, or the task names the shim itself."""
    if state['unit_text'] is not None:
        return macvlan.unit_marker(params['name']) in state['unit_text'].splitlines()
    return runtime is not None and runtime.get('kind') == 'macvlan' and bool((params.get('host_shim') or {}).get('name'))


def _shim_state(runner, name, unit_path):
    unit = os.path.basename(unit_path)
    enabled = _systemctl(runner, 'is-enabled', unit)[1].strip()
    return dict(runtime=macvlan.shim_runtime(runner, name), unit_text=_read(unit_path), enabled=enabled == 'enabled')


def _shim_view(state):
    runtime = state['runtime'] or {}
    view = dict((key, runtime.get(key)) for key in ('interface', 'parent', 'mode', 'address', 'routes'))
    view['unit'] = 'enabled' if state['enabled'] else ('present' if state['unit_text'] is not None else None)
    return view


def run(module):
    if ipam.NETADDR_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib('netaddr'), exception=ipam.NETADDR_IMPORT_ERROR)
    params = module.params
    runner = hostnet.module_runner(module)
    present = params['state'] == 'present'

    problems = validate_request(module, runner)
    if problems:
        fail_with_problems(module, problems)
    desired = _desired(module, params)
    problems = macvlan.gateway_problems(desired.pools, desired.owner)
    if problems:
        fail_with_problems(module, problems)

    engine = client.connect_or_fail(module)
    manager = NetworkManager(engine)
    try:
        existing = manager.find(params['name'])
    except PlanError as exc:   # several networks with this name
        fail_with_problems(module, exc.problems)
    except client.EngineError as exc:
        fail_with_problems(module, [str(exc)])

    shim_spec = None
    if present and params.get('host_shim') is not None:
        shim_spec, aux = plan_shim(module, runner, manager, desired, existing)
        desired = _desired(module, params, aux)
    if present and params.get('parent') and not params.get('config_only'):
        problems = _same_parent_problems(manager, desired, params['parent'])
        if problems:
            fail_with_problems(module, problems)
    plans = network_task.plan_networks(module, manager, [desired])

    # The host side, planned before anything changes.
    shim_outcome = Outcome('host')
    ip_binary = module.get_bin_path('ip', required=True)
    shim_name = (params.get('host_shim') or {}).get('name') or macvlan.default_shim_name(params['name'])
    unit_path = os.path.join(macvlan.UNIT_DIR, macvlan.unit_name(shim_name))
    shim_action = None
    new_unit = None
    if shim_spec is not None or not present:
        state = _shim_state(runner, shim_name, unit_path)
        runtime = state['runtime']
        if runtime is not None and runtime.get('kind') != 'macvlan' and present:
            fail_with_problems(module, ["network '%s': host_shim name '%s' is an existing %s interface that this module did not create; "
                                        "choose another name" % (params['name'], shim_name, runtime.get('kind') or 'physical')])
        before = _shim_view(state)
        if present:
            new_unit = shim_spec.unit_text(ip_binary, params['name'])
            after = shim_spec.view()
            after['unit'] = 'enabled'
            wanted_runtime = dict(after)
            differs = [key for key in ('interface', 'parent', 'mode', 'address', 'routes') if before.get(key) != wanted_runtime[key]]
            if runtime is not None and not runtime.get('up'):
                differs.append('up')
            if state['unit_text'] != new_unit:
                differs.append('unit_file')
            if not state['enabled']:
                differs.append('unit_enabled')
            shim_action = UNCHANGED if not differs else ('created' if runtime is None and state['unit_text'] is None else 'changed')
            shim_outcome.record('shim %s' % shim_name, shim_action, before=before, after=after, changes=differs,
                                interface=shim_name, address=shim_spec.address, routes=shim_spec.routes, unit=unit_path)
        elif _owned(state, params, runtime):
            shim_action = 'removed'
            shim_outcome.record('shim %s' % shim_name, 'removed', before=before, after={}, changes=['removed'],
                                interface=shim_name, unit=unit_path)

    promisc_action = None
    if present and params.get('promiscuous') is not None and params.get('parent'):
        data = hostnet.link(runner, params['parent'])
        have = data is not None and 'PROMISC' in (data.get('flags') or [])
        promisc_action = UNCHANGED if data is not None and have == params['promiscuous'] else 'changed'
        shim_outcome.record('parent %s' % params['parent'], promisc_action, before=dict(promiscuous=have),
                            after=dict(promiscuous=params['promiscuous']),
                            changes=['promiscuous'] if promisc_action != UNCHANGED else [])

    # Apply: shim removal before the network goes, shim creation after it exists.
    if not module.check_mode and shim_action == 'removed':
        _remove_shim(module, runner, shim_name, unit_path)
    outcome, ids = network_task.apply_plans(module, manager, plans)
    if not module.check_mode:
        if promisc_action == 'changed':
            rc, out, err = runner(['ip', 'link', 'set', 'dev', params['parent'], 'promisc', 'on' if params['promiscuous'] else 'off'])
            if rc != 0:
                module.fail_json(msg="network '%s' is in place but promiscuous mode on %s could not be set: %s"
                                 % (params['name'], params['parent'], (err or out).strip()))
        if shim_action in ('created', 'changed'):
            _install_shim(module, runner, unit_path, new_unit, state['unit_text'])

    plan = plans[0]
    result = dict(changed=outcome.changed or shim_outcome.changed)
    if module._diff:
        diffs = outcome.diffs() + shim_outcome.diffs()
        result['diff'] = diffs[0] if len(diffs) == 1 else diffs
    entry = outcome.entries()[0]
    result.update(action=entry['action'], changes=entry['changes'], differences=entry['differences'], steps=entry['steps'],
                  network=network_task.network_after(manager, plan, ids), host=shim_outcome.entries())
    if shim_spec is not None:
        result['host_shim'] = dict(interface=shim_spec.name, address=shim_spec.address, routes=shim_spec.routes,
                                   unit=unit_path, action=shim_action)
    module.exit_json(**result)


def _install_shim(module, runner, unit_path, text, old_text):
    unit = os.path.basename(unit_path)
    if text != old_text:
        _write(module, unit_path, text)
        _check(module, runner, ['daemon-reload'])
    _check(module, runner, ['enable', unit])
    # restart: ExecStartPre removes a stale interface, so the shim is rebuilt exactly from the unit
    _check(module, runner, ['restart', unit])


def _remove_shim(module, runner, name, unit_path):
    unit = os.path.basename(unit_path)
    if os.path.exists(unit_path):
        _systemctl(runner, 'disable', '--now', unit)
        os.unlink(unit_path)
        _check(module, runner, ['daemon-reload'])
    if hostnet.link(runner, name) is not None:
        rc, out, err = runner(['ip', 'link', 'del', name])
        if rc != 0:
            module.fail_json(msg='cannot remove the host shim %s: %s' % (name, (err or out).strip()))


def _check(module, runner, args):
    rc, out, err = _systemctl(runner, *args)
    if rc != 0:
        module.fail_json(msg='systemctl %s failed: %s' % (' '.join(args), (err or out).strip()))
