import { RaftError } from '../errors';

/**
 * Base class of the errors thrown by @weft/raft transports and their codec.
 * Bytes that do not decode throw `@weft/interface`'s `MalformedPacketError`
 * instead (layer `raft-message`, `raft-entry`, `raft-frame`,
 * `raft-snapshot-meta` or `raft-hard-state`); transports count and drop them.
 */
export class TransportError extends RaftError {
  override name = 'TransportError';
  override readonly code: string = 'ERR_RAFT_TRANSPORT';
}

/** A transport used after `close()`. */
export class TransportClosedError extends TransportError {
  override name = 'TransportClosedError';
  override readonly code = 'ERR_RAFT_TRANSPORT_CLOSED';
}

/** `encodeMessage` was given a message it cannot encode (unknown type) or a buffer too short for it. */
export class MessageEncodeError extends TransportError {
  override name = 'MessageEncodeError';
  override readonly code = 'ERR_RAFT_MESSAGE_ENCODE';
}
