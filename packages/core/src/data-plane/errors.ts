import { DataPlaneError, type WeftErrorOptions } from '@weft/interface';

/**
 * A call named a network the plane does not have (every call but
 * `removeNetwork`, which is idempotent).
 */
export class UnknownNetworkError extends DataPlaneError {
  override name = 'UnknownNetworkError';
  override readonly code = 'ERR_UNKNOWN_NETWORK';
  constructor(
    /** The network id asked for. */
    readonly networkId: string,
    /** The call that asked (`addLocalEndpoint`, ...). */
    readonly operation: string,
  ) {
    super(`${operation}: network ${JSON.stringify(networkId)} is not programmed`);
  }
}

/**
 * An encrypted network's keys cannot be brought to the requested state with
 * the `KeyRing`'s three phases (install newer generations, activate a newer
 * send generation, retire older ones): e.g. going back to an older send
 * generation, installing a generation older than one already installed, a
 * generation whose secret changed, or two live generations sharing their low
 * 8 bits (part of the SPI). Nothing was changed.
 */
export class KeyTransitionError extends DataPlaneError {
  override name = 'KeyTransitionError';
  override readonly code = 'ERR_KEY_TRANSITION';
  constructor(
    /** The network whose keys were being set (empty while planning outside a network). */
    readonly networkId: string,
    /** Why the transition is impossible. */
    readonly reason: string,
    options?: WeftErrorOptions,
  ) {
    super(networkId === '' ? `keys: ${reason}` : `keys of network ${JSON.stringify(networkId)}: ${reason}`, options);
  }
}

/**
 * Something would take what another holds on this plane: an endpoint's MAC or
 * IP held by another local endpoint of the network (or a remote endpoint's
 * against a local one's), a VNI held by another network, or (encrypted) a
 * peer's sealed address held by another peer. Nothing was changed.
 */
export class AddressConflictError extends DataPlaneError {
  override name = 'AddressConflictError';
  override readonly code = 'ERR_ADDRESS_CONFLICT';
  constructor(
    /** The network the call was for. */
    readonly networkId: string,
    /** What is contested: an endpoint's `mac` or `ip`, a network's `vni`, or a peer's sealed address (`peer`). */
    readonly field: 'mac' | 'ip' | 'vni' | 'peer',
    /** The contested value. */
    readonly value: string,
    /** Who holds it now (`local endpoint e1`, `network n2`, `peer node-b`). */
    readonly holder: string,
  ) {
    super(`network ${JSON.stringify(networkId)}: ${field} ${value} is already used by ${holder}`);
  }
}

/** A call after `close()`. */
export class DataPlaneClosedError extends DataPlaneError {
  override name = 'DataPlaneClosedError';
  override readonly code = 'ERR_DATA_PLANE_CLOSED';
  constructor(
    /** The call that was refused. */
    readonly operation: string,
  ) {
    super(`${operation}: the data plane is closed`);
  }
}
