import { VxlanError } from '../errors';

/** Thrown by `Underlay.send` (and other operations) after `close()`. */
export class UnderlayClosedError extends VxlanError {
  override name = 'UnderlayClosedError';
  constructor(readonly underlay: string) {
    super(`underlay ${underlay} is closed`);
  }
}
