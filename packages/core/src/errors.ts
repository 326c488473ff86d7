import { WeftError, type WeftErrorOptions } from '@weft/interface';

/** Base class of every error `@weft/core` throws on purpose. */
export class CoreError extends WeftError {
  override name = 'CoreError';
  override readonly code: string = 'ERR_CORE';
  constructor(message: string, options?: WeftErrorOptions) {
    super(message, options);
  }
}

/** No network has this name or id. */
export class NetworkNotFoundError extends CoreError {
  override name = 'NetworkNotFoundError';
  override readonly code = 'ERR_NETWORK_NOT_FOUND';
  constructor(readonly network: string) {
    super(`network ${JSON.stringify(network)} not found`);
  }
}

/** A network with this name exists already, or an endpoint with this name is already on the network. */
export class NameConflictError extends CoreError {
  override name = 'NameConflictError';
  override readonly code = 'ERR_NAME_CONFLICT';
  constructor(
    /** What the name is of. */
    readonly kind: 'network' | 'endpoint' | 'service',
    readonly conflictingName: string,
    /** The id of what holds the name now. */
    readonly existingId: string,
  ) {
    super(`${kind} name ${JSON.stringify(conflictingName)} is already in use (by ${existingId})`);
  }
}

/** A network that still has endpoints cannot be removed. */
export class NetworkInUseError extends CoreError {
  override name = 'NetworkInUseError';
  override readonly code = 'ERR_NETWORK_IN_USE';
  constructor(
    readonly network: string,
    /** Endpoints still attached. */
    readonly endpoints: number,
    /** Names of services that still have a VIP or backends on the network. */
    readonly services: readonly string[] = [],
  ) {
    super(
      services.length > 0
        ? `network ${JSON.stringify(network)} is used by service(s) ${services.map((s) => JSON.stringify(s)).join(', ')}; remove them first`
        : `network ${JSON.stringify(network)} has ${endpoints} endpoint(s) attached; detach them first`,
    );
  }
}

/** The network refuses this attach: not attachable (only a service's tasks may join), or the ingress network. */
export class AttachRefusedError extends CoreError {
  override name = 'AttachRefusedError';
  override readonly code = 'ERR_ATTACH_REFUSED';
  constructor(
    readonly network: string,
    readonly reason: string,
  ) {
    super(`attach to network ${JSON.stringify(network)} refused: ${reason}`);
  }
}

/** No endpoint with this id (already detached, or reclaimed after its node died). */
export class EndpointNotFoundError extends CoreError {
  override name = 'EndpointNotFoundError';
  override readonly code = 'ERR_ENDPOINT_NOT_FOUND';
  constructor(readonly endpointId: string) {
    super(`endpoint ${JSON.stringify(endpointId)} not found`);
  }
}

/** No node with this id in the cluster. */
export class NodeNotFoundError extends CoreError {
  override name = 'NodeNotFoundError';
  override readonly code = 'ERR_NODE_NOT_FOUND';
  constructor(readonly nodeId: string) {
    super(`node ${JSON.stringify(nodeId)} not found`);
  }
}

/** `removeNode` refused: the node is a manager, is up (without `force`), or is the caller itself. */
export class NodeRemovalRefusedError extends CoreError {
  override name = 'NodeRemovalRefusedError';
  override readonly code = 'ERR_NODE_REMOVAL_REFUSED';
  constructor(
    readonly nodeId: string,
    readonly reason: string,
  ) {
    super(`removing node ${JSON.stringify(nodeId)} refused: ${reason}`);
  }
}

/** This node was removed from the cluster (`removeNode`): it cannot start or rejoin under its id. */
export class NodeRemovedError extends CoreError {
  override name = 'NodeRemovedError';
  override readonly code = 'ERR_NODE_REMOVED';
  constructor(readonly nodeId: string) {
    super(`node ${JSON.stringify(nodeId)} was removed from the cluster; join again as a new node`);
  }
}

/** A node asked the store for something its role does not allow (a worker reading another network's keys, writing another node's records, creating a network). */
export class PermissionDeniedError extends CoreError {
  override name = 'PermissionDeniedError';
  override readonly code = 'ERR_PERMISSION_DENIED';
  constructor(
    readonly nodeId: string,
    readonly action: string,
    /** The whole message, when it came from elsewhere (a store server's refusal). */
    message?: string,
  ) {
    super(message ?? `node ${JSON.stringify(nodeId)} may not ${action}`);
  }
}

/** The Weft node was closed; nothing more can be done with it. (`@weft/raft`'s `NodeClosedError` is a Raft node's.) */
export class WeftNodeClosedError extends CoreError {
  override name = 'WeftNodeClosedError';
  override readonly code = 'ERR_WEFT_NODE_CLOSED';
  constructor(readonly nodeId: string) {
    super(`node ${JSON.stringify(nodeId)} is closed`);
  }
}

/** An operation did not finish in time; `outcomeUnknown` says whether it may still have taken effect. */
export class OperationTimeoutError extends CoreError {
  override name = 'OperationTimeoutError';
  override readonly code = 'ERR_OPERATION_TIMEOUT';
  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
    readonly outcomeUnknown: boolean,
    options?: WeftErrorOptions,
  ) {
    super(`${operation} did not finish within ${timeoutMs} ms${outcomeUnknown ? ' (it may still take effect; retry with the same requestId)' : ''}`, options);
  }
}

/** The shared state is not what core wrote (a record that does not parse, a missing index entry). */
export class CorruptStateError extends CoreError {
  override name = 'CorruptStateError';
  override readonly code = 'ERR_CORRUPT_STATE';
}

/** An optimistic update kept losing to concurrent writers (or the store kept refusing it) and gave up. Nothing was written. */
export class ContentionError extends CoreError {
  override name = 'ContentionError';
  override readonly code = 'ERR_CONTENTION';
  constructor(
    readonly operation: string,
    readonly attempts: number,
    readonly lastReason: string,
  ) {
    super(`${operation}: gave up after ${attempts} attempts (${lastReason})`);
  }
}

/** No service has that name or id. */
export class ServiceNotFoundError extends CoreError {
  override name = 'ServiceNotFoundError';
  override readonly code = 'ERR_SERVICE_NOT_FOUND';
  constructor(readonly service: string) {
    super(`service ${JSON.stringify(service)} not found`);
  }
}

/** A backend change a service cannot take (the endpoint is on none of its networks, or is gone). */
export class BackendRefusedError extends CoreError {
  override name = 'BackendRefusedError';
  override readonly code = 'ERR_BACKEND_REFUSED';
  constructor(
    readonly service: string,
    readonly endpointId: string,
    readonly reason: string,
  ) {
    super(`service ${JSON.stringify(service)}: backend ${JSON.stringify(endpointId)} refused: ${reason}`);
  }
}

/**
 * A manager change refused (`RaftStore.removeManager`, `WeftNode.demote`,
 * `WeftNode.leave`): it is the last manager, or removing it would leave the
 * remaining managers without a reachable majority (quorum guard), or no
 * leader is known to judge it. Nothing was changed.
 */
export class ManagerRemovalRefusedError extends CoreError {
  override name = 'ManagerRemovalRefusedError';
  override readonly code = 'ERR_MANAGER_REMOVAL_REFUSED';
  constructor(
    readonly managerId: string,
    readonly reason: string,
  ) {
    super(`removing manager ${JSON.stringify(managerId)} refused: ${reason}`);
  }
}

/** `promote`/`demote` refused: called on a worker, the node is not a member, or the store has no Raft replica to change. Nothing was changed. */
export class RoleChangeRefusedError extends CoreError {
  override name = 'RoleChangeRefusedError';
  override readonly code = 'ERR_ROLE_CHANGE_REFUSED';
  constructor(
    readonly nodeId: string,
    readonly role: 'manager' | 'worker',
    readonly reason: string,
  ) {
    super(`changing node ${JSON.stringify(nodeId)} to ${role} refused: ${reason}`);
  }
}
