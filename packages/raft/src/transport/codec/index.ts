export { encodeMessage, decodeMessage, messageEncodingLength, MESSAGE_TYPES, MESSAGE_CODEC_VERSION } from './message-codec';
export { encodeEntry, decodeEntry } from './entry-codec';
export { encodeSnapshotMeta, decodeSnapshotMeta, encodeHardState, decodeHardState } from './snapshot-codec';
export { FrameDecoder, FRAME_HEADER_BYTES, DEFAULT_MAX_FRAME_BYTES, writeFrameHeader } from './frame';
