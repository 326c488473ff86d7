import { WeftError, type WeftErrorOptions } from '@weft/interface';

/**
 * Base class of every error @weft/ipam throws on purpose. Each subclass has a
 * fixed `name` and a stable `code` (`ERR_…`). Address text and options errors
 * are the shared `InvalidAddressError` and `InvalidOptionsError` of
 * `@weft/interface` (re-exported here), not subclasses of this one.
 */
export class IpamError extends WeftError {
  override name = 'IpamError';
  override readonly code: string = 'ERR_IPAM';
}

/** Text that is not a valid CIDR (`address/prefix`). `text` is the offending input. */
export class InvalidCidrError extends IpamError {
  override name = 'InvalidCidrError';
  override readonly code = 'ERR_INVALID_CIDR';
  constructor(
    /** The offending input. */
    readonly text: string,
    /** What was wrong with it. */
    readonly reason: string,
    options?: WeftErrorOptions,
  ) {
    super(`ipam: invalid CIDR ${JSON.stringify(text)}: ${reason}`, options);
  }
}

/** A command passed to `apply`/`execute` (or an `Ipam` method's arguments) failed validation; `field` is the path of the first bad field. */
export class InvalidCommandError extends IpamError {
  override name = 'InvalidCommandError';
  override readonly code = 'ERR_INVALID_COMMAND';
  constructor(
    /** Dotted path of the first bad field; empty for the command as a whole. */
    readonly field: string,
    message: string,
    options?: WeftErrorOptions,
  ) {
    super(`ipam: invalid command ${field || '(root)'}: ${message.replace(/\s+/g, ' ').trim()}`, options);
  }
}

/** A snapshot that cannot be restored (corrupt, inconsistent, wrong format version). */
export class InvalidSnapshotError extends IpamError {
  override name = 'InvalidSnapshotError';
  override readonly code = 'ERR_INVALID_SNAPSHOT';
  constructor(message: string, options?: WeftErrorOptions) {
    super(`ipam: invalid snapshot: ${message}`, options);
  }
}

/**
 * No free subnet (when requesting a pool) or no free address (when allocating).
 * `pool` names the exhausted pool: a pool id such as `default/10.0.0.0/24`, or
 * the default pool list such as `default: 10.0.0.0/8 size 24`.
 */
export class PoolExhaustedError extends IpamError {
  override name = 'PoolExhaustedError';
  override readonly code = 'ERR_POOL_EXHAUSTED';
  constructor(
    /** The exhausted pool id, or the address space and its default pools. */
    readonly pool: string,
    message?: string,
  ) {
    super(message ?? `ipam: pool ${pool} is exhausted: no free address`);
  }
}

/** A requested subnet overlaps one already allocated in the same address space. */
export class OverlapError extends IpamError {
  override name = 'OverlapError';
  override readonly code = 'ERR_OVERLAP';
  constructor(
    /** The requested subnet (canonical CIDR text). */
    readonly subnet: string,
    /** The subnet of the pool it overlaps. */
    readonly existing: string,
    /** The address space both are in. */
    readonly space: string,
  ) {
    super(`ipam: subnet ${subnet} overlaps ${existing} already allocated in address space ${JSON.stringify(space)}`);
  }
}

/** A static request for an address that is allocated, reserved (gateway, auxiliary) or quarantined. */
export class AddressInUseError extends IpamError {
  override name = 'AddressInUseError';
  override readonly code = 'ERR_ADDRESS_IN_USE';
  constructor(
    /** Canonical address text. */
    readonly address: string,
    /** The pool id. */
    readonly pool: string,
    /** Whether the address is held (allocated or reserved) or waiting out its quarantine. */
    readonly reason: 'allocated' | 'quarantined' = 'allocated',
  ) {
    super(`ipam: address ${address} in pool ${pool} is ${reason === 'quarantined' ? 'quarantined after release' : 'already allocated'}`);
  }
}

/** An address outside the pool's subnet, or its network/broadcast (IPv6: Subnet-Router anycast) address. */
export class AddressOutOfRangeError extends IpamError {
  override name = 'AddressOutOfRangeError';
  override readonly code = 'ERR_ADDRESS_OUT_OF_RANGE';
  constructor(
    /** The address as given. */
    readonly address: string,
    /** The pool id. */
    readonly pool: string,
    reason: string,
  ) {
    super(`ipam: address ${address} is not usable in pool ${pool}: ${reason}`);
  }
}

/** Release of an address that is not allocated (never was, already released, quarantined, or the gateway/an auxiliary address). */
export class NotAllocatedError extends IpamError {
  override name = 'NotAllocatedError';
  override readonly code = 'ERR_NOT_ALLOCATED';
  constructor(
    /** Canonical address text. */
    readonly address: string,
    /** The pool id. */
    readonly pool: string,
  ) {
    super(`ipam: address ${address} is not allocated in pool ${pool}`);
  }
}

/** A pool id that does not name a pool in the state. */
export class UnknownPoolError extends IpamError {
  override name = 'UnknownPoolError';
  override readonly code = 'ERR_UNKNOWN_POOL';
  constructor(
    /** The pool id as given. */
    readonly pool: string,
  ) {
    super(`ipam: unknown pool ${JSON.stringify(pool)}`);
  }
}
