import { VxlanError } from '../errors';

/**
 * An operation on a closed {@link Vtep} (`addSegment` after `close()`) or on a
 * segment that was removed or closed with its VTEP (`attach`).
 */
export class VtepClosedError extends VxlanError {
  override name = 'VtepClosedError';
  override readonly code = 'ERR_VTEP_CLOSED';
  constructor(
    /** What was closed: `vtep 127.0.0.1:4789` or `segment 42`. */
    readonly what: string,
  ) {
    super(`${what} is closed`);
  }
}
