# -*- coding: utf-8 -*-
# Copyright: netfleet.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The actions a swarm plan is made of: typed, immutable, each able to predict its effect and to apply it.

Every action says three things the same way in check mode and in a real run:

* ``describe()``: the lines reported in the module's ``actions`` result (``init``, ``join 10.0.0.1 as worker``,
  ``leave``, ``promote <id>``, ``set labels of <id>``...);
* ``predict(view)``: the view of the object acted on after the action (diff mode and check-mode facts);
* ``apply(node, warn)``: carry it out on the engine (a ``SwarmNode``) and return details to report.

Nothing here decides whether an action is needed or allowed: ``swarm_plan`` does, before the first one runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, Union

from ansible_collections.netfleet.docker.plugins.module_utils._common.errors import EngineError
from ansible_collections.netfleet.docker.plugins.module_utils._overlay import swarm

View = Dict[str, Any]
Warn = Callable[[str], None]
# A self-demotion before leaving: how long the engine may keep acting as a manager.
DEMOTE_SETTLE_SECONDS = 30


@dataclass(frozen=True)
class InitSwarm:
    """swarm init: this node becomes the first manager of a new swarm."""

    advertise_addr: Optional[str] = None
    listen_addr: Optional[str] = None
    data_path_addr: Optional[str] = None
    data_path_port: Optional[int] = None
    default_addr_pool: Tuple[str, ...] = ()
    subnet_size: Optional[int] = None

    verb = 'init'

    def describe(self) -> Tuple[str, ...]:
        return ('init',)

    def predict(self, view: Mapping) -> View:
        # the cluster ID is chosen by the engine: unknown until the swarm exists
        return dict(view, swarm='active', role='manager', cluster_id=None)

    def apply(self, node: swarm.SwarmNode, warn: Warn) -> Dict[str, Any]:
        node.init(advertise_addr=self.advertise_addr, listen_addr=self.listen_addr,
                  default_addr_pool=list(self.default_addr_pool) or None, subnet_size=self.subnet_size,
                  data_path_addr=self.data_path_addr, data_path_port=self.data_path_port)
        node.refresh()
        return {}


@dataclass(frozen=True)
class JoinSwarm:
    """swarm join: the token decides the role; a requested role is verified after joining."""

    remote_addrs: Tuple[str, ...]
    join_token: str = field(repr=False)     # a secret: never in a repr, a result or a message
    role: Optional[str] = None
    cluster_id: Optional[str] = None
    advertise_addr: Optional[str] = None
    listen_addr: Optional[str] = None
    data_path_addr: Optional[str] = None

    verb = 'join'

    def describe(self) -> Tuple[str, ...]:
        return ('join %s as %s' % (', '.join(self.remote_addrs), self.role or 'worker'),)

    def predict(self, view: Mapping) -> View:
        return dict(view, swarm='active', role=self.role or 'worker', cluster_id=self.cluster_id)

    def apply(self, node: swarm.SwarmNode, warn: Warn) -> Dict[str, Any]:
        node.join(self.remote_addrs, self.join_token, listen_addr=self.listen_addr,
                  advertise_addr=self.advertise_addr, data_path_addr=self.data_path_addr)
        node.refresh()
        actual = 'manager' if node.is_manager else 'worker'
        if self.role and self.role != actual:
            raise EngineError('the node joined the swarm as %s, but role %s was requested: the join_token was a %s '
                              'token. Pass the %s token, or promote / demote the node through a manager (node: %s)'
                              % (actual, self.role, actual, self.role, node.node_id))
        return {}


@dataclass(frozen=True)
class LeaveSwarm:
    """swarm leave (force: a manager that leaves without being demoted first, or the operator's force)."""

    force: bool = False

    verb = 'leave'

    def describe(self) -> Tuple[str, ...]:
        return ('leave',)

    def predict(self, view: Mapping) -> View:
        return dict(swarm='inactive')

    def apply(self, node: swarm.SwarmNode, warn: Warn) -> Dict[str, Any]:
        node.leave(force=self.force)
        return {}


@dataclass(frozen=True)
class ChangeRole:
    """Promote or demote a node through a manager (this engine's own node included)."""

    node_id: str
    role: str
    own: bool = False                   # the node is this engine: its membership view changes
    wait_until_worker: bool = False     # a self-demotion before leaving: wait until it took effect

    @property
    def verb(self) -> str:
        return 'promote' if self.role == 'manager' else 'demote'

    def describe(self) -> Tuple[str, ...]:
        return ('%s %s' % (self.verb, self.node_id),)

    def predict(self, view: Mapping) -> View:
        return dict(view, role=self.role)

    def apply(self, node: swarm.SwarmNode, warn: Warn) -> Dict[str, Any]:
        current = node.inspect_node(self.node_id)
        node.update_node(current, dict(current.get('Spec') or {}, Role=self.role))
        if self.wait_until_worker and not node.wait_worker(DEMOTE_SETTLE_SECONDS):
            raise EngineError('node %s was demoted but still acts as a manager after %ss; run the task again'
                              % (self.node_id, DEMOTE_SETTLE_SECONDS))
        return {}


@dataclass(frozen=True)
class UpdateNodeSettings:
    """Availability and labels of a node, through a manager.

    ``node_id`` None means this engine's own node right after it initialized or joined the swarm (its ID
    is only known then). ``settings`` are the settings predicted to change, in the order reported."""

    node_id: Optional[str]
    settings: Tuple[str, ...]
    availability: Optional[str] = None
    labels: Optional[Tuple[Tuple[str, Any], ...]] = None
    labels_exclusive: bool = False

    verb = 'update'

    def describe(self) -> Tuple[str, ...]:
        target = '' if self.node_id is None else ' of %s' % self.node_id
        return tuple('set %s%s' % (setting, target) for setting in self.settings)

    def predict(self, view: Mapping) -> View:
        after = dict(view)
        if self.availability:
            after['availability'] = self.availability
        if self.labels is not None:
            wanted = dict(view.get('labels') or {}) if not self.labels_exclusive else {}
            wanted.update((key, str(value)) for key, value in self.labels)
            after['labels'] = wanted
        return after

    def apply(self, node: swarm.SwarmNode, warn: Warn) -> Dict[str, Any]:
        if self.node_id is None and not node.is_manager:
            # joined without a role: the token made it a worker, which cannot change its own settings
            warn('availability and labels of a worker are set through a manager: run overlay_cluster on a '
                 'manager with node: %s' % node.node_id)
            return dict(actions=[])
        current = node.inspect_node(self.node_id or node.node_id)
        labels = dict(self.labels) if self.labels is not None else None
        changes, spec = swarm.node_changes(current, None, self.availability, labels, self.labels_exclusive)
        if changes:
            node.update_node(current, spec)
        return {}


SwarmAction = Union[InitSwarm, JoinSwarm, LeaveSwarm, ChangeRole, UpdateNodeSettings]
