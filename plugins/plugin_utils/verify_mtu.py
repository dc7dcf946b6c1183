# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""verify.yml's MTU check: the MTU each probe sees on its interface against the MTU its network should give.

What a container on a network should see (Docker's drivers):

- bridge, macvlan, ipvlan: the driver option ``com.docker.network.driver.mtu``. A bridge without it gets 1500:
  the daemon's ``mtu`` reaches only docker0, so a fleet that sets one (``networks_default_mtu``, given by
  site.yml from ``fleet_daemon_options.mtu``) expects it on its bridges too, and a bridge that lacks it fails.
  A macvlan or ipvlan without the option has its parent's MTU, which verify does not read: not checked.
- overlay: the option is the underlay MTU (the overlay role sets it from the underlay); the driver subtracts
  the VXLAN header (50 bytes) and, when encrypted, the ESP expansion (26) rounded down to a multiple of 4.
  Without the option Docker starts from 1500.

Each probe prints ``mtu <container> <value>`` from the exec verify already runs in it (no extra exec).
"""

from __future__ import annotations

MTU_OPTION = 'com.docker.network.driver.mtu'
DOCKER_DEFAULT_MTU = 1500
VXLAN_OVERHEAD = 50
ESP_EXPANSION = 26
LINE_PREFIX = 'mtu'


def _option(network):
    text = str((network.get('driver_options') or {}).get(MTU_OPTION) or '').strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def overlay_container_mtu(driver_mtu, encrypted):
    """What containers see on an overlay whose driver MTU option is driver_mtu (Docker's overlay maxMTU)."""
    mtu = int(driver_mtu) - VXLAN_OVERHEAD
    if encrypted:
        mtu -= ESP_EXPANSION
        mtu -= mtu % 4
    return mtu


def expected_mtu(network, default_mtu=0):
    """(MTU a container on this network should see, or None when verify cannot know; why)."""
    option, driver = _option(network), network.get('driver')
    default_mtu = int(default_mtu or 0)
    if driver == 'overlay':
        encrypted = 'encrypted' in (network.get('driver_options') or {})
        base = option or DOCKER_DEFAULT_MTU
        return overlay_container_mtu(base, encrypted), 'overlay: %s %d - VXLAN 50%s' % (
            'driver mtu' if option else "Docker's default", base, ' - ESP' if encrypted else '')
    if option:
        return option, 'driver option %s' % MTU_OPTION
    if driver == 'bridge' and default_mtu:
        return default_mtu, "the fleet's daemon mtu (networks_default_mtu); the bridge has no mtu option"
    if driver == 'bridge':
        return DOCKER_DEFAULT_MTU, "Docker's default"
    return None, "%s without an mtu option has its parent's MTU, which verify does not read" % (driver or 'this driver')


def seen_mtus(lines):
    """{container: MTU} from the probe run's ``mtu <container> <value>`` lines (other lines are ignored)."""
    seen = {}
    for line in lines or []:
        parts = str(line).split()
        if len(parts) == 3 and parts[0] == LINE_PREFIX and parts[2].isdigit():
            seen[parts[1]] = int(parts[2])
    return seen


def _row(probe, expected, seen, why):
    return dict(probe=probe['id'], container=probe['name'], host=probe['host'], network=probe['network'],
                expected=expected, seen=seen, why=why)


def check(probes, seen):
    """Every probe's MTU against its network's: mismatches, not checkable ones (with why), counts and ok.

    A probe whose MTU line is missing (it ran no exec, or the exec failed) is a mismatch with seen None:
    verify must not pass on an MTU it did not read."""
    verdict = dict(checked=0, as_expected=0, mismatches=[], unchecked=[])
    for probe in sorted(probes or [], key=lambda probe: probe['id']):
        expected, why = probe.get('mtu'), probe.get('mtu_why') or ''
        if expected is None:
            verdict['unchecked'].append(_row(probe, None, seen.get(probe['name']), why))
            continue
        verdict['checked'] += 1
        observed = seen.get(probe['name'])
        if observed == expected:
            verdict['as_expected'] += 1
        else:
            verdict['mismatches'].append(_row(probe, expected, observed, why))
    verdict['ok'] = not verdict['mismatches']
    return verdict


def describe(mismatch):
    """One line: host, network, expected and seen MTU (the console, the assert, the report)."""
    return 'MTU %s on %s (%s): expected %s (%s), seen %s' % (
        mismatch['network'], mismatch['host'], mismatch['container'], mismatch['expected'], mismatch['why'],
        'nothing (the probe printed no MTU)' if mismatch['seen'] is None else mismatch['seen'])
