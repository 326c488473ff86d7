import { WeftError, type WeftErrorOptions } from '../errors/weft-error';

/** A data plane could not program what it was asked to (a command failed, an unknown network id). */
export class DataPlaneError extends WeftError {
  override name = 'DataPlaneError';
  override readonly code: string = 'ERR_DATA_PLANE';
  constructor(message: string, options?: WeftErrorOptions) {
    super(message, options);
  }
}
