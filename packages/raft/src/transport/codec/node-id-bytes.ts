const encoder = new TextEncoder();
const cache = new Map<string, Uint8Array>();
const CACHE_LIMIT = 1024;

/** Maximum UTF-8 length of a node id on the wire (bytes). */
export const MAX_ID_BYTES = 255;

/**
 * UTF-8 bytes of a node id or other short string, cached (clusters have few ids).
 * The returned array is shared: callers must not mutate it.
 */
export function idBytes(s: string): Uint8Array {
  let b = cache.get(s);
  if (b === undefined) {
    b = encoder.encode(s);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(s, b);
  }
  return b;
}
