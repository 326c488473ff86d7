/** @packageDocumentation @weft/raft */
export const VERSION = "0.1.0";
