import { isWeftError } from '@weft/interface';
import { z } from 'zod';
import { NodeRemovedError } from '../../errors';
import {
  CertificateExpiredError,
  CertificateNotTrustedError,
  CertificateRevokedError,
  CsrRejectedError,
  InvalidJoinTokenError,
  JoinTokenCaMismatchError,
  JoinTokenRejectedError,
  MalformedCertificateError,
} from '../pki/errors';
import { ClusterPkiMissingError, JoinFailedError, JoinRoleMismatchError, NodeIdTakenError } from './errors';

/*
 * @internal The join protocol, over TLS 1.3 to a manager's join port, one
 * exchange per connection, each message a length-prefixed JSON frame
 * (4-byte big-endian length, at most MAX_JOIN_FRAME_BYTES):
 *
 *   server → client  { t: 'hello', v: 1, caPem }
 *   client → server  { t: 'join', token, csrPem, nodeId?, role?, advertise? }
 *                  | { t: 'renew', csrPem }
 *   server → client  { t: 'issued', certPem, caPem, nodeId, role, managers?, registry? }
 *                  | { t: 'refused', error: { name, message, fields } }
 *
 * then the server closes. The client checks `caPem` against its token's CA
 * digest, and the server's TLS certificate against that CA, before it sends
 * anything.
 */

/** @internal Protocol version in `hello`. */
export const JOIN_PROTOCOL_VERSION = 1;
/** @internal Largest frame either side accepts (a CSR, a token and two certificates fit in a few KiB). */
export const MAX_JOIN_FRAME_BYTES = 64 * 1024;

const address = z.object({ host: z.string().min(1).max(255), port: z.number().int().min(1).max(65535) });
const pem = z.string().min(1).max(16 * 1024);
/** A manager as the registry records it: node id, Raft address, store address. */
const managerEntry = z.object({ id: z.string().min(1).max(64), raft: address, store: address });

/** @internal */
export const clientRequestSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('join'), token: z.string().min(1).max(512), csrPem: pem, nodeId: z.string().min(1).max(64).optional(), role: z.enum(['manager', 'worker']).optional(), advertise: address.optional() }).strict(),
  z.object({ t: z.literal('renew'), csrPem: pem }).strict(),
  // Is the certificate presented still a member's (not removed, not deny-listed)? Changes nothing.
  z.object({ t: z.literal('check') }).strict(),
]);
export type ClientRequest = z.infer<typeof clientRequestSchema>;

/** @internal */
export const serverHelloSchema = z.object({ t: z.literal('hello'), v: z.number().int(), caPem: pem });

/** @internal */
export const serverAnswerSchema = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('issued'),
    certPem: pem,
    caPem: pem,
    nodeId: z.string().min(1).max(64),
    role: z.enum(['manager', 'worker']),
    managers: z.array(address).max(64).optional(),
    registry: z.array(managerEntry).max(64).optional(),
  }),
  z.object({ t: z.literal('member'), nodeId: z.string().min(1).max(64), role: z.enum(['manager', 'worker']) }),
  z.object({ t: z.literal('refused'), error: z.object({ name: z.string().max(64), message: z.string().max(2048), fields: z.record(z.string(), z.union([z.string(), z.number()])).optional() }) }),
]);
export type ServerAnswer = z.infer<typeof serverAnswerSchema>;

type Fields = Record<string, string | number>;

/** @internal A refusal for the wire: the error's class name, message and the fields the client needs to rebuild it. */
export function refusalOf(err: unknown): { name: string; message: string; fields: Fields } {
  const e = err as Record<string, unknown>;
  const fields: Fields = {};
  for (const k of ['tokenDigest', 'caDigest', 'reason', 'nodeId', 'serial', 'subject', 'requested', 'granted']) {
    if (typeof e?.[k] === 'string') fields[k] = e[k] as string;
  }
  for (const k of ['notBefore', 'notAfter', 'at']) if (e?.[k] instanceof Date) fields[k] = (e[k] as Date).getTime();
  // Known refusals keep their class; anything else is reported without internals.
  const known = isWeftError(err) && typeof e.name === 'string' && KNOWN.has(e.name);
  return known ? { name: e.name as string, message: String(e.message), fields } : { name: 'JoinFailedError', message: 'internal error on the join server', fields: {} };
}

const KNOWN = new Set([
  'JoinTokenRejectedError',
  'JoinTokenCaMismatchError',
  'InvalidJoinTokenError',
  'JoinRoleMismatchError',
  'NodeIdTakenError',
  'NodeRemovedError',
  'CertificateRevokedError',
  'CertificateExpiredError',
  'CertificateNotTrustedError',
  'MalformedCertificateError',
  'CsrRejectedError',
  'ClusterPkiMissingError',
  'InvalidOptionsError',
  'JoinFailedError',
]);

/** @internal The client-side error for a refusal: the same class as on the server. */
export function errorOfRefusal(r: { name: string; message: string; fields?: Fields | undefined }): Error {
  const f = r.fields ?? {};
  const s = (k: string): string => (typeof f[k] === 'string' ? (f[k] as string) : '');
  const d = (k: string): Date => new Date(typeof f[k] === 'number' ? (f[k] as number) : 0);
  switch (r.name) {
    case 'JoinTokenRejectedError':
      return new JoinTokenRejectedError();
    case 'JoinTokenCaMismatchError':
      return new JoinTokenCaMismatchError(s('tokenDigest'), s('caDigest'));
    case 'InvalidJoinTokenError':
      return new InvalidJoinTokenError(s('reason'));
    case 'JoinRoleMismatchError':
      return new JoinRoleMismatchError(s('requested'), s('granted'));
    case 'NodeIdTakenError':
      return new NodeIdTakenError(s('nodeId'));
    case 'NodeRemovedError':
      return new NodeRemovedError(s('nodeId'));
    case 'CertificateRevokedError':
      return new CertificateRevokedError(s('serial'), s('nodeId'));
    case 'CertificateExpiredError':
      return new CertificateExpiredError(s('subject'), d('notBefore'), d('notAfter'), d('at'));
    case 'CertificateNotTrustedError':
      return new CertificateNotTrustedError(s('reason'));
    case 'MalformedCertificateError':
      return new MalformedCertificateError(s('reason'));
    case 'CsrRejectedError':
      return new CsrRejectedError(s('reason'));
    case 'ClusterPkiMissingError':
      return new ClusterPkiMissingError(s('reason'));
    case 'InvalidOptionsError':
      return new JoinFailedError(`the join server refused the request: ${r.message}`, r.name);
    default:
      return new JoinFailedError(`refused by the join server: ${r.message}`, r.name);
  }
}
