/** Fixed data-plane epochs for tests (16 lowercase hex digits each; real ones are random per start). */
export const EPOCH_A = 'a1a1a1a1a1a1a1a1';
export const EPOCH_B = 'b2b2b2b2b2b2b2b2';
export const EPOCH_C = 'c3c3c3c3c3c3c3c3';

/** The `n`th distinct test epoch (`000000000000000n` in hex). */
export const epoch = (n: number): string => n.toString(16).padStart(16, '0');
