/** Base class of the errors thrown by @weft/raft transports and their codec. */
export class TransportError extends Error {
  override name = 'TransportError';
}

/**
 * Bytes that do not decode to a valid Raft message (short, over-long, unknown
 * type, bad field value). Transports drop such frames, count them and reset the
 * connection; they never reach `RawNode.step`.
 */
export class MalformedMessageError extends TransportError {
  override name = 'MalformedMessageError';
  constructor(
    /** Which structure was being decoded (`message`, `entry`, `snapshot`, `frame`, ...). */
    readonly what: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`raft codec: ${what}: ${message}`, options);
  }
}

/** A transport used after `close()`. */
export class TransportClosedError extends TransportError {
  override name = 'TransportClosedError';
}
