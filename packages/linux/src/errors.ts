import { DataPlaneError, type WeftErrorOptions } from '@weft/interface';

/**
 * Base class of every error `@weft/linux` throws on purpose. It is a
 * `DataPlaneError` (the seam's error), so core can handle the kernel plane's
 * failures as it handles the userspace plane's.
 */
export class LinuxDataPlaneError extends DataPlaneError {
  override name = 'LinuxDataPlaneError';
  /** Stable code: `ERR_LINUX` for this class, a more specific `ERR_…` for each subclass. */
  override readonly code: string = 'ERR_LINUX';
  constructor(message: string, options?: WeftErrorOptions) {
    super(message, options);
  }
}

/**
 * A command the plane ran (`ip`, `bridge`, `nft`, through `nsenter` when it
 * targets a namespace) exited non-zero, was killed, or could not be started.
 */
export class LinuxCommandError extends LinuxDataPlaneError {
  override name = 'LinuxCommandError';
  override readonly code = 'ERR_LINUX_COMMAND';
  constructor(
    /** The command line as run (argv joined with spaces). */
    readonly command: string,
    /** Its exit code; `null` when it was killed (timeout) or never started. */
    readonly exitCode: number | null,
    /** What it wrote to stderr, trimmed. */
    readonly stderr: string,
    /** The lines fed to its stdin (a `-batch -` script), if any. */
    readonly input: readonly string[] = [],
    options?: WeftErrorOptions,
  ) {
    super(`\`${command}\` failed (exit ${exitCode === null ? 'none' : exitCode}): ${stderr.trim() || '(no stderr)'}`, options);
  }
}

/** The process lacks a Linux capability the kernel plane needs (root or `CAP_NET_ADMIN`). Nothing was created. */
export class MissingCapabilityError extends LinuxDataPlaneError {
  override name = 'MissingCapabilityError';
  override readonly code = 'ERR_LINUX_MISSING_CAPABILITY';
  constructor(
    /** The missing capability's name, e.g. `CAP_NET_ADMIN`. */
    readonly capability: string,
    message: string,
    options?: WeftErrorOptions,
  ) {
    super(message, options);
  }
}

/** A call the kernel plane cannot carry out here (e.g. an encrypted network when the host namespace is not the process's own, so the encrypted relay cannot bind its sockets). Nothing was changed. */
export class UnsupportedFeatureError extends LinuxDataPlaneError {
  override name = 'UnsupportedFeatureError';
  override readonly code = 'ERR_LINUX_UNSUPPORTED';
  constructor(
    /** The feature asked for (`encryption`, `service VIP`, `DNS address`). */
    readonly feature: string,
    message: string,
    options?: WeftErrorOptions,
  ) {
    super(message, options);
  }
}

/** A call named a network that was never programmed with `ensureNetwork` (or was removed), or came after `close()`. */
export class LinuxStateError extends LinuxDataPlaneError {
  override name = 'LinuxStateError';
  override readonly code = 'ERR_LINUX_STATE';
  constructor(message: string, options?: WeftErrorOptions) {
    super(message, options);
  }
}
