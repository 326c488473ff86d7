import { x509 } from './x509';

/** @internal PEM labels the PKI reads. */
export type PemLabel = 'CERTIFICATE' | 'CERTIFICATE REQUEST' | 'PRIVATE KEY';

/**
 * @internal The DER bytes of `text`, which must hold exactly one PEM block
 * labelled `label`; otherwise a string saying what is wrong. (Stricter than
 * `@peculiar/x509`, which would also take hex or base64 without armour.)
 */
export function pemToDer(text: string, label: PemLabel): Uint8Array | string {
  let blocks: ReturnType<typeof x509.PemConverter.decodeWithHeaders>;
  try {
    blocks = x509.PemConverter.decodeWithHeaders(text);
  } catch {
    blocks = [];
  }
  if (blocks.length !== 1) return `expected one PEM "${label}" block, found ${blocks.length}`;
  const block = blocks[0]!;
  if (block.type !== label) return `expected a PEM "${label}" block, found "${block.type}"`;
  return new Uint8Array(block.rawData);
}

/** @internal `der` as PEM with `label` (64-character lines, trailing newline). */
export function derToPem(der: Uint8Array | ArrayBuffer, label: PemLabel): string {
  const text = x509.PemConverter.encode(der instanceof Uint8Array ? der : new Uint8Array(der), label);
  return text.endsWith('\n') ? text : `${text}\n`;
}
