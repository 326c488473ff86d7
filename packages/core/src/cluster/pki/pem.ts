/** @internal PEM labels the PKI reads. */
export type PemLabel = 'CERTIFICATE' | 'CERTIFICATE REQUEST' | 'PRIVATE KEY';

/** Every `-----BEGIN X-----` … `-----END X-----` block (RFC 7468 encapsulation; CR LF or LF line ends). */
const BLOCK = /-----BEGIN ([^\n-][^\n]*?)-----\n([\s\S]*?)-----END \1-----/g;
/** Standard base64 (RFC 4648 §4), padded: what RFC 7468's strict text holds between the lines. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * @internal The DER bytes of `text`, which must hold exactly one PEM block
 * labelled `label` whose body is base64 only (no RFC 1421 headers); otherwise
 * a string saying what is wrong. Text outside the block is ignored, as RFC
 * 7468 §2 allows.
 */
export function pemToDer(text: string, label: PemLabel): Uint8Array | string {
  const blocks = [...text.replace(/\r/g, '').matchAll(BLOCK)];
  if (blocks.length !== 1) return `expected one PEM "${label}" block, found ${blocks.length}`;
  const [, type, body] = blocks[0]!;
  if (type !== label) return `expected a PEM "${label}" block, found "${type}"`;
  const base64 = body!.replace(/[ \t\n]+/g, '');
  if (base64.length === 0 || !BASE64.test(base64)) return `the PEM "${label}" block is not base64`;
  return new Uint8Array(Buffer.from(base64, 'base64'));
}

/** @internal `der` as PEM with `label` (64-character lines, LF, trailing newline). */
export function derToPem(der: Uint8Array | ArrayBuffer, label: PemLabel): string {
  const bytes = der instanceof Uint8Array ? der : new Uint8Array(der);
  const base64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  const lines = [`-----BEGIN ${label}-----`];
  for (let i = 0; i < base64.length; i += 64) lines.push(base64.slice(i, i + 64));
  lines.push(`-----END ${label}-----`, '');
  return lines.join('\n');
}
