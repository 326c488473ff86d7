import { jsonBytes, jsonOf, type KeyValue } from '@weft/interface';
import type { z } from 'zod';

/** A record read from the store with the revision facts a txn compares on. */
export interface Versioned<T> {
  readonly value: T;
  readonly modRevision: number;
  readonly version: number;
}

/** Parses a stored JSON record; undefined when the bytes are not JSON or do not match the schema. */
export function parseRecord<S extends z.ZodType>(schema: S, kv: KeyValue): z.output<S> | undefined {
  let json: unknown;
  try {
    json = jsonOf(kv);
  } catch {
    return undefined;
  }
  const r = schema.safeParse(json);
  return r.success ? r.data : undefined;
}

/** {@link parseRecord} keeping the key's modRevision and version. */
export function parseVersioned<S extends z.ZodType>(schema: S, kv: KeyValue | undefined): Versioned<z.output<S>> | undefined {
  if (kv === undefined) return undefined;
  const value = parseRecord(schema, kv);
  return value === undefined ? undefined : { value, modRevision: kv.modRevision, version: kv.version };
}

/** A record as the bytes stored. */
export function encodeRecord(value: unknown): Uint8Array {
  return jsonBytes(value);
}
