import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { InvalidOptionsError, parseOptions, type SocketAddress } from '@weft/interface';
import { z } from 'zod';
import { FrameReader, encodeFrame } from '../../store/remote/frames';
import { nodeIdSchema } from '../../node/node-options';
import { csrOf } from '../pki/csr';
import { CertificateNotTrustedError, UnexpectedPeerError } from '../pki/errors';
import { parseJoinToken, verifyJoinTokenCa } from '../pki/join-token';
import { keyObjectsOf, pemOfKeyObject, type NodeKeyPair } from '../pki/keys';
import { parseNodeCertificate, verifyNodeCertificate } from '../pki/node-certificate';
import type { NodeRole } from '../pki/profile';
import { tlsOptionsFor, type NodeCredentials } from '../pki/tls';
import { JoinFailedError } from './errors';
import type { ManagerEntry } from './join-server';
import { JOIN_PROTOCOL_VERSION, MAX_JOIN_FRAME_BYTES, errorOfRefusal, serverAnswerSchema, serverHelloSchema, type ServerAnswer } from './wire';

/** Options of {@link joinCluster}. */
export interface JoinClusterOptions {
  /** The join token (`WEFT-1-<CA digest>-<secret>`), of the role to join as. */
  readonly token: string;
  /** A manager's join port. */
  readonly manager: SocketAddress;
  /** The node id to ask for (default: the manager picks one). */
  readonly nodeId?: string;
  /** The role this node expects; when the token is for the other role the join is refused (JoinRoleMismatchError). Default: the token's role. */
  readonly role?: NodeRole;
  /** The node's key pair (default: a fresh one). Its private key never leaves this process. */
  readonly key?: NodeKeyPair;
  /** The address this node will be reached at, told to the manager (informational). */
  readonly advertise?: SocketAddress;
  /** The whole exchange must finish within this time (ms, default 10000). */
  readonly timeoutMs?: number;
}

/** What {@link joinCluster} and {@link renewCertificate} return. */
export interface JoinResult {
  /** The node's credentials: the cluster CA, its new certificate, its private key. */
  readonly credentials: NodeCredentials;
  readonly nodeId: string;
  readonly role: NodeRole;
  /** The managers' addresses, when the manager knows them. */
  readonly managers?: readonly SocketAddress[];
  /** The managers registry (id, Raft and store address of each), when the manager sends it. */
  readonly registry?: readonly ManagerEntry[];
}

/** Options of {@link renewCertificate}. */
export interface RenewCertificateOptions {
  /** Managers' join ports, tried in order until one answers (a refusal about this node is final; a connection failure, or a manager that cannot serve now — its store unavailable, no quorum — moves on). Give this or `manager`. */
  readonly managers?: readonly SocketAddress[];
  /** One manager's join port (same as `managers: [manager]`). */
  readonly manager?: SocketAddress;
  /** The node's current credentials: its certificate authenticates the renewal. */
  readonly credentials: NodeCredentials;
  /** The key pair of the new certificate (default: a fresh one — renewal also rotates the key). */
  readonly key?: NodeKeyPair;
  /** Each manager's exchange must finish within this time (ms, default 10000). */
  readonly timeoutMs?: number;
}

const address = z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) });
const keySchema = z.custom<NodeKeyPair>((v) => typeof v === 'object' && v !== null && 'privateKey' in v && 'publicKey' in v, { message: 'must be a NodeKeyPair' });
const joinSchema = z
  .object({
    token: z.string().min(1),
    manager: address,
    nodeId: nodeIdSchema.optional(),
    role: z.enum(['manager', 'worker']).optional(),
    key: keySchema.optional(),
    advertise: address.optional(),
    timeoutMs: z.number().int().min(1).default(10_000),
  })
  .strict();
const renewSchema = z
  .object({
    managers: z.array(address).min(1).optional(),
    manager: address.optional(),
    credentials: z.object({ caPem: z.string().min(1), certPem: z.string().min(1), keyPem: z.string().min(1) }).passthrough(),
    key: keySchema.optional(),
    timeoutMs: z.number().int().min(1).default(10_000),
  })
  .strict();

/**
 * Joins a cluster (`weft join TOKEN MANAGER`): connects to a manager's join
 * port over TLS 1.3 and, before sending anything, checks that the CA the
 * manager presents is the one the token pins (no trust on first use: the
 * server is not trusted by any CA this node already has) and that the
 * manager's TLS certificate is a manager certificate issued by that CA; then
 * sends a CSR (made with `key`) and the token, and receives a certificate
 * naming its node id and role.
 * @throws InvalidJoinTokenError (rejects) for a malformed token, before connecting.
 * @throws JoinTokenCaMismatchError (rejects) when the manager's CA is not the token's — nothing is sent.
 * @throws JoinTokenRejectedError, JoinRoleMismatchError, NodeRemovedError, NodeIdTakenError (rejects) when the manager refuses.
 * @throws JoinFailedError (rejects) when the exchange fails otherwise (connection, timeout, malformed answer).
 * @throws InvalidOptionsError (rejects) naming a bad option.
 */
export async function joinCluster(options: JoinClusterOptions): Promise<JoinResult> {
  const o = parseOptions(joinSchema, options, 'joinCluster');
  parseJoinToken(o.token); // a malformed token fails before any connection
  const key = keyObjectsOf(o.key);
  const csrPem = csrOf(o.nodeId ?? 'joining-node', key.privateKey, key.publicKey);
  const answer = await exchange(o.manager, { rejectUnauthorized: false }, o.timeoutMs, async (caPem, socket) => {
    verifyJoinTokenCa(o.token, caPem);
    await assertManager(socket, caPem);
    return { t: 'join', token: o.token, csrPem, ...(o.nodeId !== undefined ? { nodeId: o.nodeId } : {}), ...(o.role !== undefined ? { role: o.role } : {}), ...(o.advertise !== undefined ? { advertise: o.advertise } : {}) };
  });
  // The CA the node will trust from now on must be the one its token pins (as the greeting's was).
  if (answer.t === 'issued') verifyJoinTokenCa(o.token, answer.caPem);
  return resultOf(answer, pemOfKeyObject(key.privateKey), o.nodeId, o.role);
}

/**
 * Renews this node's certificate (see `CertificateRenewer` to do it on a
 * schedule): authenticated by the current certificate, answered with a new
 * one for the same node id and its current role (a promote/demote shows up
 * here); the old certificate's serial is deny-listed by the manager.
 * @throws CertificateExpiredError, CertificateRevokedError, NodeRemovedError, CertificateNotTrustedError (rejects) when the manager refuses.
 * @throws JoinFailedError (rejects) when no manager could be reached or an answer was malformed.
 * @throws InvalidOptionsError (rejects) naming a bad option.
 */
export async function renewCertificate(options: RenewCertificateOptions): Promise<JoinResult> {
  const o = parseOptions(renewSchema, options, 'renewCertificate');
  const managers = [...(o.managers ?? []), ...(o.manager !== undefined ? [o.manager] : [])];
  if (managers.length === 0) throw new InvalidOptionsError('managers', 'renewCertificate: give option "managers" (or "manager"): the join ports to renew at');
  const creds = o.credentials as NodeCredentials;
  const current = parseNodeCertificate(creds.certPem);
  const key = keyObjectsOf(o.key);
  const csrPem = csrOf(current.nodeId, key.privateKey, key.publicKey);
  const tls = tlsOptionsFor({ caPem: creds.caPem, certPem: creds.certPem, keyPem: creds.keyPem, peer: { role: 'manager' } });
  let last: unknown;
  for (const manager of managers) {
    try {
      const answer = await exchange(manager, tls, o.timeoutMs, async (caPem) => {
        if (caPem.trim() !== creds.caPem.trim()) throw new CertificateNotTrustedError('the manager presents another cluster CA than this node\'s');
        return { t: 'renew', csrPem };
      });
      if (answer.t === 'issued' && answer.caPem.trim() !== creds.caPem.trim()) throw new CertificateNotTrustedError('the manager answered with another cluster CA than this node\'s');
      return await resultOf(answer, pemOfKeyObject(key.privateKey), current.nodeId, undefined);
    } catch (err) {
      if (!movesOn(err)) throw err;
      last = err;
    }
  }
  throw last instanceof Error ? last : new JoinFailedError('no manager answered');
}

/** @internal Options of {@link checkMembership}. */
export interface CheckMembershipOptions {
  /** Join ports of managers, tried in order until one answers. */
  readonly managers: readonly SocketAddress[];
  /** This node's credentials (the certificate is what is checked). */
  readonly credentials: NodeCredentials;
  /** Per manager: connection, handshake and answer (ms). Default 5000. */
  readonly timeoutMs?: number;
}

/**
 * @internal Asks a manager's join service whether this node's certificate
 * still makes it a member: what a restarting node whose control connections
 * are refused asks to learn why. Changes nothing.
 * @returns the node id and its current role.
 * @throws NodeRemovedError, CertificateRevokedError, CertificateExpiredError, CertificateNotTrustedError (rejects) when the manager refuses it.
 * @throws JoinFailedError (rejects) when no manager answered.
 */
export async function checkMembership(o: CheckMembershipOptions): Promise<{ nodeId: string; role: NodeRole }> {
  const creds = o.credentials;
  const tls = tlsOptionsFor({ caPem: creds.caPem, certPem: creds.certPem, keyPem: creds.keyPem, peer: { role: 'manager' } });
  let last: unknown;
  for (const manager of o.managers) {
    try {
      const answer = await exchange(manager, tls, o.timeoutMs ?? 5000, async (caPem) => {
        if (caPem.trim() !== creds.caPem.trim()) throw new CertificateNotTrustedError("the manager presents another cluster CA than this node's");
        return { t: 'check' };
      });
      if (answer.t === 'refused') throw errorOfRefusal(answer.error);
      if (answer.t !== 'member') throw new JoinFailedError('the join server answered a membership check with a certificate');
      return { nodeId: answer.nodeId, role: answer.role };
    } catch (err) {
      if (!movesOn(err)) throw err;
      last = err;
    }
  }
  throw last instanceof Error ? last : new JoinFailedError('no manager answered');
}

/**
 * True when the next manager should be tried: no answer, or the manager's
 * own trouble — a join server reports what is not about the node (its store
 * unavailable or closed, its records changing under it) as JoinFailedError —
 * rather than a refusal about this node (token, certificate, removed), which
 * every manager would repeat. (A manager being demoted or removed still runs
 * its join service for a moment, on a store that no longer answers.)
 */
function movesOn(err: unknown): boolean {
  return err instanceof JoinFailedError && (err.remoteName === undefined || err.remoteName === 'JoinFailedError');
}

async function assertManager(socket: TLSSocket, caPem: string): Promise<void> {
  const raw = (socket.getPeerCertificate() as { raw?: Buffer } | null)?.raw;
  if (raw === undefined) throw new CertificateNotTrustedError('the manager presented no certificate');
  const id = await verifyNodeCertificate(new Uint8Array(raw), caPem);
  if (id.role !== 'manager') throw new UnexpectedPeerError('role "manager"', `node ${JSON.stringify(id.nodeId)} (${id.role})`);
}

async function resultOf(answer: ServerAnswer, keyPem: string, nodeId: string | undefined, role: NodeRole | undefined): Promise<JoinResult> {
  if (answer.t === 'refused') throw errorOfRefusal(answer.error);
  if (answer.t !== 'issued') throw new JoinFailedError(`the join server answered "${answer.t}" where a certificate was expected`);
  const credentials: NodeCredentials = { caPem: answer.caPem, certPem: answer.certPem, keyPem };
  let id;
  try {
    tlsOptionsFor(credentials); // issued by the CA, for our key
    id = parseNodeCertificate(answer.certPem);
  } catch (err) {
    throw new JoinFailedError(`the manager answered with an unusable certificate: ${(err as Error).message}`, undefined, { cause: err });
  }
  if (id.nodeId !== answer.nodeId || id.role !== answer.role || (nodeId !== undefined && id.nodeId !== nodeId) || (role !== undefined && id.role !== role)) {
    throw new JoinFailedError(`the manager issued a certificate for node ${JSON.stringify(id.nodeId)} (${id.role}), not what was asked`);
  }
  return {
    credentials,
    nodeId: id.nodeId,
    role: id.role,
    ...(answer.managers !== undefined ? { managers: answer.managers } : {}),
    ...(answer.registry !== undefined ? { registry: answer.registry } : {}),
  };
}

/**
 * One exchange: TLS connect, read the server's hello, let `onHello` check it
 * (throwing closes the connection with nothing sent) and build the request,
 * send it, read the answer.
 */
function exchange(manager: SocketAddress, tls: ConnectionOptions, timeoutMs: number, onHello: (caPem: string, socket: TLSSocket) => Promise<unknown>): Promise<ServerAnswer> {
  return new Promise<ServerAnswer>((resolve, reject) => {
    let settled = false;
    const socket = tlsConnect({ ...tls, host: manager.host, port: manager.port, servername: 'weft-join', minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' });
    const done = (err: unknown, answer?: ServerAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err !== undefined) reject(err);
      else resolve(answer!);
    };
    const timer = setTimeout(() => done(new JoinFailedError(`no answer from ${manager.host}:${manager.port} within ${timeoutMs} ms`)), timeoutMs);
    const reader = new FrameReader(MAX_JOIN_FRAME_BYTES);
    let hello = false;
    socket.on('error', (err) => done(new JoinFailedError(`connection to ${manager.host}:${manager.port} failed: ${err.message}`, undefined, { cause: err })));
    socket.on('close', () => done(new JoinFailedError(`${manager.host}:${manager.port} closed the connection before answering`)));
    socket.on('data', (chunk: Buffer) => {
      let messages: unknown[];
      try {
        messages = reader.push(chunk);
      } catch (err) {
        done(new JoinFailedError('malformed frame from the join server', undefined, { cause: err }));
        return;
      }
      for (const m of messages) {
        if (settled) return;
        if (!hello) {
          const h = serverHelloSchema.safeParse(m);
          if (!h.success || h.data.v !== JOIN_PROTOCOL_VERSION) {
            done(new JoinFailedError('the join server did not greet with a supported hello'));
            return;
          }
          hello = true;
          socket.pause();
          onHello(h.data.caPem, socket).then(
            (request) => {
              if (settled) return;
              socket.write(encodeFrame(request));
              socket.resume();
            },
            (err: unknown) => done(err),
          );
          continue;
        }
        const a = serverAnswerSchema.safeParse(m);
        if (!a.success) done(new JoinFailedError('malformed answer from the join server'));
        else done(undefined, a.data);
      }
    });
  });
}
