/** Base class of every error @weft/ipam throws. `name` is fixed per subclass. */
export class IpamError extends Error {
  override name = 'IpamError';
}

/** Text that is not a valid IPv4/IPv6 address. `text` is the offending input. */
export class InvalidAddressError extends IpamError {
  override name = 'InvalidAddressError';
  constructor(
    readonly text: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`ipam: invalid IP address ${JSON.stringify(text)}: ${reason}`, options);
  }
}

/** Text that is not a valid CIDR (`address/prefix`). `text` is the offending input. */
export class InvalidCidrError extends IpamError {
  override name = 'InvalidCidrError';
  constructor(
    readonly text: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`ipam: invalid CIDR ${JSON.stringify(text)}: ${reason}`, options);
  }
}

/** Options passed to `createState`/`new Ipam` failed validation; `field` is the path of the first bad field. */
export class InvalidOptionsError extends IpamError {
  override name = 'InvalidOptionsError';
  constructor(
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`ipam: invalid option ${field || '(root)'}: ${message}`, options);
  }
}

/** A command passed to `apply`/`execute` failed validation; `field` is the path of the first bad field. */
export class InvalidCommandError extends IpamError {
  override name = 'InvalidCommandError';
  constructor(
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`ipam: invalid command ${field || '(root)'}: ${message}`, options);
  }
}

/** A snapshot string that cannot be restored (corrupt, wrong format version). */
export class InvalidSnapshotError extends IpamError {
  override name = 'InvalidSnapshotError';
  constructor(message: string, options?: { cause?: unknown }) {
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
  constructor(
    readonly pool: string,
    message?: string,
  ) {
    super(message ?? `ipam: pool ${pool} is exhausted: no free address`);
  }
}

/** A requested subnet overlaps one already allocated in the same address space. */
export class OverlapError extends IpamError {
  override name = 'OverlapError';
  constructor(
    readonly subnet: string,
    readonly existing: string,
    readonly space: string,
  ) {
    super(`ipam: subnet ${subnet} overlaps ${existing} already allocated in address space ${JSON.stringify(space)}`);
  }
}

/** A static request for an address that is allocated, reserved (gateway, auxiliary) or quarantined. */
export class AddressInUseError extends IpamError {
  override name = 'AddressInUseError';
  constructor(
    readonly address: string,
    readonly pool: string,
    readonly reason: 'allocated' | 'quarantined' = 'allocated',
  ) {
    super(`ipam: address ${address} in pool ${pool} is ${reason === 'quarantined' ? 'quarantined after release' : 'already allocated'}`);
  }
}

/** An address outside the pool's subnet, or its network/broadcast address. */
export class AddressOutOfRangeError extends IpamError {
  override name = 'AddressOutOfRangeError';
  constructor(
    readonly address: string,
    readonly pool: string,
    reason: string,
  ) {
    super(`ipam: address ${address} is not usable in pool ${pool}: ${reason}`);
  }
}

/** Release of an address that is not allocated (never was, already released, or quarantined). */
export class NotAllocatedError extends IpamError {
  override name = 'NotAllocatedError';
  constructor(
    readonly address: string,
    readonly pool: string,
  ) {
    super(`ipam: address ${address} is not allocated in pool ${pool}`);
  }
}

/** A pool id that does not name a pool in the state. */
export class UnknownPoolError extends IpamError {
  override name = 'UnknownPoolError';
  constructor(readonly pool: string) {
    super(`ipam: unknown pool ${JSON.stringify(pool)}`);
  }
}
