import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer, type SecureContext, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { InvalidOptionsError, parseOptions, type SocketAddress, type Store } from '@weft/interface';
import { z } from 'zod';
import { NodeRemovedError } from '../../errors';
import { cryptoRandomBytes } from '../../node/context';
import { nodeIdSchema } from '../../node/node-options';
import { KeyLayout } from '../../records/keys';
import { FrameReader, encodeFrame } from '../../store/remote/frames';
import { base32Encode } from '../pki/base32';
import { spkiOfCsr } from '../pki/csr';
import { CertificateExpiredError, CertificateNotTrustedError, CertificateRevokedError } from '../pki/errors';
import { verifyJoinToken } from '../pki/join-token';
import type { NodeIdentity } from '../pki/certificate-reader';
import { parseNodeCertificate } from '../pki/node-certificate';
import { DEFAULT_NODE_CERT_LIFETIME_MS, MAX_LIFETIME_MS, type NodeRole } from '../pki/profile';
import type { NodeCredentials } from '../pki/tls';
import { nodeCertRecord } from './cluster-pki';
import { JoinFailedError, JoinRoleMismatchError, NodeIdTakenError } from './errors';
import { deniedRecordSchema, nodeCertRecordSchema, parseKv, readCa, readTokens, recordBytes, roleRecordSchema, type DeniedRecord } from './records';
import { JOIN_PROTOCOL_VERSION, MAX_JOIN_FRAME_BYTES, clientRequestSchema, refusalOf, type ClientRequest } from './wire';

/** What {@link JoinServerOptions.onJoin} is told after a certificate was issued and recorded. */
/** A manager in the registry a join answer carries: what `RaftStore` calls a `ManagerAddress`. */
export interface ManagerEntry {
  readonly id: string;
  readonly raft: SocketAddress;
  readonly store: SocketAddress;
}

export interface JoinInfo {
  /** `join` for a new (or re-joining) node, `renew` for a renewal. */
  readonly kind: 'join' | 'renew';
  readonly nodeId: string;
  readonly role: NodeRole;
  /** Serial of the new certificate (lowercase hex). */
  readonly serial: string;
  /** Serial of the certificate it replaces, now deny-listed (renewal, or a re-join of a node id with a certificate on record). */
  readonly replacedSerial?: string;
  /** The address the joining node said it can be reached at, if it said. */
  readonly advertise?: SocketAddress;
}

/** Options of {@link JoinServer.listen}. */
export interface JoinServerOptions {
  /** Where to listen; port 0 picks a free port. */
  readonly listen: SocketAddress;
  /** The cluster's store (this manager's): CA, join tokens, deny list and node records are read from it and written to it. */
  readonly store: Store;
  /** This manager's current credentials: its certificate is what joining nodes see (must be a manager certificate of the store's CA). Asked for at each connection, so a renewed certificate is served from then on. */
  readonly credentials: () => NodeCredentials;
  /** Root of the cluster's keys (default `weft/`). */
  readonly keyPrefix?: string;
  /** Lifetime of the certificates issued (ms, default 90 days). */
  readonly certLifetimeMs?: number;
  /** A connection whose TLS handshake, or whose request after it, has not arrived within this time is closed and counted (ms, default 10000). */
  readonly handshakeTimeoutMs?: number;
  /** Most connections at once that have not sent their request yet; beyond it the oldest is closed and counted (default 64). */
  readonly maxPendingHandshakes?: number;
  /** The managers' addresses, returned to a joining node (`managers` of the answer). Default: none (the field is left out). */
  readonly managers?: () => readonly SocketAddress[] | Promise<readonly SocketAddress[]>;
  /**
   * The managers registry (each manager's node id, Raft and store address), returned to a joining
   * node (`registry` of the answer) so it needs no second connection to learn it. Default: none.
   */
  readonly registry?: () => readonly ManagerEntry[] | Promise<readonly ManagerEntry[]>;
  /** Called after each certificate is issued and recorded. Errors it throws are ignored. */
  readonly onJoin?: (info: JoinInfo) => void;
  /** Wall clock (ms since the Unix epoch; default `Date.now`): certificate validity, expiry checks of renewing nodes. */
  readonly now?: () => number;
}

/** Counters of a {@link JoinServer}. */
export interface JoinServerStats {
  /** TCP connections accepted. */
  connections: number;
  /** Certificates issued to joining nodes. */
  joined: number;
  /** Certificates renewed. */
  renewed: number;
  /** Requests refused, in total… */
  refused: number;
  /** …and by the error's class name (e.g. `JoinTokenRejectedError`). */
  refusedBy: Record<string, number>;
  /** Connections closed for a malformed or oversized frame or an invalid request. */
  malformed: number;
  /** TLS handshakes that failed (garbage bytes, protocol errors); a connection reset by the peer is not counted. */
  tlsErrors: number;
  /** Connections closed because the TLS handshake did not finish within `handshakeTimeoutMs`. */
  handshakeTimeouts: number;
  /** Connections closed because the request did not arrive within `handshakeTimeoutMs` after the handshake. */
  requestTimeouts: number;
  /** Connections still waiting for their request closed to make room for a newer one. */
  shed: number;
}

const address = z.object({ host: z.string().min(1), port: z.number().int().min(0).max(65535) });
const fn = <T>(message: string) => z.custom<T>((v) => typeof v === 'function', { message });
const optionsSchema = z
  .object({
    listen: address,
    store: z.custom<Store>((v) => typeof v === 'object' && v !== null && typeof (v as Store).txn === 'function', { message: 'must be a Store' }),
    credentials: fn<() => NodeCredentials>('must be a function returning the manager\'s NodeCredentials'),
    keyPrefix: z.string().regex(/^[A-Za-z0-9_.-]*\/$/, 'must be letters, digits, "_", "." or "-" ending in "/"').default('weft/'),
    certLifetimeMs: z.number().int().min(1000).max(MAX_LIFETIME_MS).default(DEFAULT_NODE_CERT_LIFETIME_MS),
    handshakeTimeoutMs: z.number().int().min(1).default(10_000),
    maxPendingHandshakes: z.number().int().min(1).default(64),
    managers: fn<() => readonly SocketAddress[]>('must be a function returning socket addresses').optional(),
    registry: fn<() => readonly ManagerEntry[]>('must be a function returning manager entries').optional(),
    onJoin: fn<(info: JoinInfo) => void>('must be a function').optional(),
    now: fn<() => number>('must be a function returning ms since the Unix epoch').optional(),
  })
  .strict();
type Parsed = z.output<typeof optionsSchema>;

/** How many times an issue is retried when its txn finds the records changed since they were read. */
const TXN_ATTEMPTS = 3;

/**
 * A manager's join port (Swarm's CA server): joining nodes exchange a join
 * token and a CSR for a node certificate, and nodes renew their certificate
 * with the current one. TLS 1.3, authenticated by the manager's certificate;
 * a client certificate is asked for but not required (a joining node has
 * none). One request per connection, length-prefixed JSON frames of at most
 * 64 KiB; the protocol is in `docs/security.md`.
 *
 * Hostile input is closed and counted in {@link JoinServer.stats}, never
 * crashes the server: TLS garbage, handshakes or requests that do not finish
 * within `handshakeTimeoutMs`, oversized or malformed frames, more than
 * `maxPendingHandshakes` connections waiting at once (the oldest goes).
 * A refusal (bad token, removed node, revoked certificate…) is answered with
 * the error's class name so the client throws the same class, and writes
 * nothing to the store.
 */
export class JoinServer {
  /** Counters; see {@link JoinServerStats}. */
  readonly stats: JoinServerStats = { connections: 0, joined: 0, renewed: 0, refused: 0, refusedBy: {}, malformed: 0, tlsErrors: 0, handshakeTimeouts: 0, requestTimeouts: 0, shed: 0 };
  private readonly sockets = new Set<Socket>();
  /** Connections that have not sent their request yet, by remote address and port (oldest first). */
  private readonly waiting = new Map<string, Socket>();
  private readonly keys: KeyLayout;
  private context: { certPem: string; context: SecureContext; creds: NodeCredentials };
  private closed = false;

  private constructor(
    private readonly o: Parsed,
    private readonly server: TlsServer,
    /** The address really listened on (with the port picked). */
    readonly address: SocketAddress,
    context: { certPem: string; context: SecureContext; creds: NodeCredentials },
  ) {
    this.keys = new KeyLayout(o.keyPrefix);
    this.context = context;
  }

  /**
   * Starts listening.
   * @throws InvalidOptionsError (rejects) naming a bad option (including credentials that are not a manager's).
   */
  static async listen(options: JoinServerOptions): Promise<JoinServer> {
    const o = parseOptions(optionsSchema, options, 'JoinServer.listen');
    const first = contextOf(o.credentials());
    let self: JoinServer | undefined;
    const server = createTlsServer({
      ...tlsServerOptions(first.creds),
      handshakeTimeout: o.handshakeTimeoutMs,
      // Join clients send this server name, so each of their handshakes uses the current credentials.
      SNICallback: (_name, cb) => {
        try {
          cb(null, self?.currentContext().context ?? first.context);
        } catch (err) {
          cb(err as Error, undefined);
        }
      },
    });
    server.on('connection', (raw: Socket) => self?.track(raw));
    server.on('secureConnection', (socket: TLSSocket) => self?.serve(socket));
    server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
      socket.destroy();
      if (self === undefined) return;
      if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') self.stats.handshakeTimeouts += 1;
      // A reset is the peer (or our own shedding, already counted) closing, not a protocol error.
      else if (err.code !== 'ECONNRESET') self.stats.tlsErrors += 1;
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.listen.port, o.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const a = server.address();
    const port = typeof a === 'object' && a !== null ? a.port : o.listen.port;
    self = new JoinServer(o, server, { host: o.listen.host, port }, first);
    return self;
  }

  /** Connections open now (handshakes in progress included). */
  get openConnections(): number {
    return this.sockets.size;
  }

  /** Stops listening and closes every connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    this.waiting.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The TLS context of the current credentials (rebuilt when they change; also made the server's default). */
  private currentContext(): { certPem: string; context: SecureContext; creds: NodeCredentials } {
    const creds = this.o.credentials();
    if (creds.certPem !== this.context.certPem) {
      this.context = contextOf(creds);
      this.server.setSecureContext(tlsServerOptions(creds));
    }
    return this.context;
  }

  private track(raw: Socket): void {
    raw.on('error', () => undefined);
    this.stats.connections += 1;
    if (this.waiting.size >= this.o.maxPendingHandshakes) {
      const [oldestKey, oldest] = this.waiting.entries().next().value as [string, Socket];
      this.waiting.delete(oldestKey);
      this.stats.shed += 1;
      oldest.destroy();
    }
    const key = remoteKey(raw);
    this.sockets.add(raw);
    this.waiting.set(key, raw);
    raw.on('close', () => {
      this.sockets.delete(raw);
      if (this.waiting.get(key) === raw) this.waiting.delete(key);
    });
    try {
      this.currentContext();
    } catch {
      // bad credentials from the getter: keep serving the last good ones
    }
  }

  /** One exchange on a connection whose handshake finished. */
  private serve(socket: TLSSocket): void {
    socket.on('error', () => undefined);
    socket.setNoDelay(true);
    const key = remoteKey(socket);
    let done = false;
    const finish = (): void => {
      done = true;
      clearTimeout(timer);
      this.waiting.delete(key);
    };
    const timer = setTimeout(() => {
      if (done) return;
      finish();
      this.stats.requestTimeouts += 1;
      socket.destroy();
    }, this.o.handshakeTimeoutMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    const reader = new FrameReader(MAX_JOIN_FRAME_BYTES);
    socket.write(encodeFrame({ t: 'hello', v: JOIN_PROTOCOL_VERSION, caPem: this.context.creds.caPem }));
    socket.on('data', (chunk: Buffer) => {
      if (done) return;
      let messages: unknown[];
      try {
        messages = reader.push(chunk);
      } catch {
        finish();
        this.stats.malformed += 1;
        socket.destroy();
        return;
      }
      if (messages.length === 0) return;
      finish();
      const parsed = clientRequestSchema.safeParse(messages[0]);
      if (messages.length > 1 || !parsed.success) {
        this.stats.malformed += 1;
        socket.destroy();
        return;
      }
      void this.answer(socket, parsed.data);
    });
  }

  private async answer(socket: TLSSocket, request: ClientRequest): Promise<void> {
    let reply: unknown;
    try {
      reply = request.t === 'join' ? await this.join(request) : request.t === 'renew' ? await this.renew(socket, request.csrPem) : await this.check(socket);
    } catch (err) {
      const refusal = refusalOf(err);
      this.stats.refused += 1;
      this.stats.refusedBy[refusal.name] = (this.stats.refusedBy[refusal.name] ?? 0) + 1;
      reply = { t: 'refused', error: refusal };
    }
    if (!socket.destroyed) socket.end(encodeFrame(reply));
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  private async join(req: Extract<ClientRequest, { t: 'join' }>): Promise<unknown> {
    const { store } = this.o;
    const keys = this.keys;
    let csrDigest: string | undefined;
    for (let attempt = 1; ; attempt++) {
      const { ca, kv: caKv } = await readCa(store, keys, this.o.now);
      const tokens = await readTokens(store, keys);
      const role = verifyJoinToken(req.token, tokens.records, ca.digest);
      if (req.role !== undefined && req.role !== role) throw new JoinRoleMismatchError(req.role, role);
      // Only once the token is good: an unauthenticated client does not get the CSR's signature checked.
      csrDigest ??= csrKeyDigest(req.csrPem);
      const nodeId = req.nodeId ?? `node-${base32Encode(cryptoRandomBytes(8))}`;
      if (req.nodeId !== undefined) parseOptions(z.object({ nodeId: nodeIdSchema }), { nodeId }, 'join');
      const removedKv = await store.get(keys.removedNode(nodeId));
      if (removedKv !== undefined) throw new NodeRemovedError(nodeId);
      const heldKv = await store.get(keys.nodeCertificate(nodeId));
      const held = parseKv(nodeCertRecordSchema, heldKv);
      if (held !== undefined && held.keyDigest !== csrDigest && held.notAfterMs > this.now()) {
        if ((await store.get(keys.deniedSerial(held.serial))) === undefined) throw new NodeIdTakenError(nodeId);
      }
      const certPem = await ca.issue({ csrPem: req.csrPem, nodeId, role, lifetimeMs: this.o.certLifetimeMs, now: () => this.now() });
      const rec = nodeCertRecord(certPem, this.now());
      const ops = [{ op: 'put' as const, key: keys.nodeCertificate(nodeId), value: recordBytes(rec) }];
      if (held !== undefined && held.serial !== rec.serial) ops.push({ op: 'put', key: keys.deniedSerial(held.serial), value: recordBytes(denied(nodeId, held.notAfterMs, this.now(), 'reissued')) });
      const r = await store.txn({
        compare: [
          { key: keys.clusterCa(), target: 'modRevision', result: 'equal', value: caKv.modRevision },
          { key: keys.joinToken(role), target: 'modRevision', result: 'equal', value: tokens.mod[role] },
          { key: keys.removedNode(nodeId), target: 'createRevision', result: 'equal', value: 0 },
          { key: keys.nodeCertificate(nodeId), target: 'modRevision', result: 'equal', value: heldKv?.modRevision ?? 0 },
        ],
        success: ops,
        failure: [],
      });
      if (!r.succeeded) {
        if (attempt >= TXN_ATTEMPTS) throw new JoinFailedError('the cluster records kept changing while the certificate was issued; retry');
        continue;
      }
      this.stats.joined += 1;
      // Written already: a failing `managers` hook leaves the field out rather than refusing a granted join.
      const managers = this.o.managers !== undefined ? await Promise.resolve().then(() => this.o.managers!()).catch(() => undefined) : undefined;
      const registry = this.o.registry !== undefined ? await Promise.resolve().then(() => this.o.registry!()).catch(() => undefined) : undefined;
      this.notify({ kind: 'join', nodeId, role, serial: rec.serial, ...(held !== undefined && held.serial !== rec.serial ? { replacedSerial: held.serial } : {}), ...(req.advertise ? { advertise: req.advertise } : {}) });
      return {
        t: 'issued',
        certPem,
        caPem: ca.certificatePem,
        nodeId,
        role,
        ...(managers !== undefined ? { managers: managers.map((m) => ({ host: m.host, port: m.port })) } : {}),
        ...(registry !== undefined ? { registry: registry.map((m) => ({ id: m.id, raft: { host: m.raft.host, port: m.raft.port }, store: { host: m.store.host, port: m.store.port } })) } : {}),
      };
    }
  }

  /** The identity of the certificate the client presented: issued by this cluster's CA and valid now. */
  private presented(socket: TLSSocket, what: string): NodeIdentity {
    const raw = (socket.getPeerCertificate() as { raw?: Buffer } | null)?.raw;
    if (raw === undefined) throw new CertificateNotTrustedError(`${what} must present the current certificate (none was sent)`);
    const id = parseNodeCertificate(new Uint8Array(raw));
    const at = this.now();
    if (at > id.notAfter.getTime() || at < id.notBefore.getTime()) throw new CertificateExpiredError(`node ${JSON.stringify(id.nodeId)}`, id.notBefore, id.notAfter, new Date(at));
    if (!socket.authorized) {
      const reason = String(socket.authorizationError ?? 'not verified');
      if (/EXPIRED|NOT_YET_VALID/.test(reason)) throw new CertificateExpiredError(`node ${JSON.stringify(id.nodeId)}`, id.notBefore, id.notAfter, new Date(at));
      throw new CertificateNotTrustedError(`the certificate of ${JSON.stringify(id.nodeId)} was not issued by this cluster's CA (${reason})`);
    }
    return id;
  }

  /**
   * A node asks whether its certificate still makes it a member (a restarting
   * node whose control connections are refused learns why): answered with its
   * id and current role, or refused with NodeRemovedError or
   * CertificateRevokedError. Writes nothing.
   */
  private async check(socket: TLSSocket): Promise<unknown> {
    const id = this.presented(socket, 'a membership check');
    const { ca } = await readCa(this.o.store, this.keys, this.o.now);
    if (id.clusterId !== ca.clusterId) throw new CertificateNotTrustedError(`the certificate is of cluster ${JSON.stringify(id.clusterId)}`);
    if ((await this.o.store.get(this.keys.removedNode(id.nodeId))) !== undefined) throw new NodeRemovedError(id.nodeId);
    if ((await this.o.store.get(this.keys.deniedSerial(id.serial))) !== undefined) throw new CertificateRevokedError(id.serial, id.nodeId);
    const role: NodeRole = parseKv(roleRecordSchema, await this.o.store.get(this.keys.role(id.nodeId)))?.role ?? id.role;
    return { t: 'member', nodeId: id.nodeId, role };
  }

  private async renew(socket: TLSSocket, csrPem: string): Promise<unknown> {
    const { store } = this.o;
    const keys = this.keys;
    const id = this.presented(socket, 'a renewal');
    for (let attempt = 1; ; attempt++) {
      const { ca, kv: caKv } = await readCa(store, keys, this.o.now);
      if (id.clusterId !== ca.clusterId) throw new CertificateNotTrustedError(`the certificate is of cluster ${JSON.stringify(id.clusterId)}`);
      if ((await store.get(keys.deniedSerial(id.serial))) !== undefined) throw new CertificateRevokedError(id.serial, id.nodeId);
      if ((await store.get(keys.removedNode(id.nodeId))) !== undefined) throw new NodeRemovedError(id.nodeId);
      const roleKv = await store.get(keys.role(id.nodeId));
      const role: NodeRole = parseKv(roleRecordSchema, roleKv)?.role ?? id.role;
      const certPem = await ca.issue({ csrPem, nodeId: id.nodeId, role, lifetimeMs: this.o.certLifetimeMs, now: () => this.now() });
      const rec = nodeCertRecord(certPem, this.now());
      const r = await store.txn({
        compare: [
          { key: keys.clusterCa(), target: 'modRevision', result: 'equal', value: caKv.modRevision },
          { key: keys.deniedSerial(id.serial), target: 'createRevision', result: 'equal', value: 0 },
          { key: keys.removedNode(id.nodeId), target: 'createRevision', result: 'equal', value: 0 },
          { key: keys.role(id.nodeId), target: 'modRevision', result: 'equal', value: roleKv?.modRevision ?? 0 },
        ],
        success: [
          { op: 'put', key: keys.deniedSerial(id.serial), value: recordBytes(denied(id.nodeId, id.notAfter.getTime(), this.now(), 'renewed')) },
          { op: 'put', key: keys.nodeCertificate(id.nodeId), value: recordBytes(rec) },
        ],
        failure: [],
      });
      if (!r.succeeded) {
        if (attempt >= TXN_ATTEMPTS) throw new JoinFailedError('the cluster records kept changing while the certificate was renewed; retry');
        continue;
      }
      this.stats.renewed += 1;
      this.notify({ kind: 'renew', nodeId: id.nodeId, role, serial: rec.serial, replacedSerial: id.serial });
      return { t: 'issued', certPem, caPem: ca.certificatePem, nodeId: id.nodeId, role };
    }
  }

  private notify(info: JoinInfo): void {
    try {
      this.o.onJoin?.(info);
    } catch {
      // the callback's problem, not the joiner's
    }
  }
}

function remoteKey(socket: Socket): string {
  return `${socket.remoteAddress ?? ''}|${socket.remotePort ?? ''}`;
}

function denied(nodeId: string, notAfterMs: number, deniedAtMs: number, reason: string): DeniedRecord {
  return deniedRecordSchema.parse({ nodeId, notAfterMs, deniedAtMs, reason });
}

function csrKeyDigest(csrPem: string): string {
  return createHash('sha256').update(spkiOfCsr(csrPem)).digest('hex');
}

/** Server TLS options: TLS 1.3, the manager's certificate, client certificates asked for (a renewing node sends one) but not required. */
function tlsServerOptions(creds: NodeCredentials): { cert: string; key: string; ca: string; minVersion: 'TLSv1.3'; maxVersion: 'TLSv1.3'; requestCert: true; rejectUnauthorized: false } {
  return { cert: creds.certPem, key: creds.keyPem, ca: creds.caPem, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', requestCert: true, rejectUnauthorized: false };
}

function contextOf(creds: NodeCredentials): { certPem: string; context: SecureContext; creds: NodeCredentials } {
  let role: NodeRole;
  try {
    role = parseNodeCertificate(creds.certPem).role;
  } catch (err) {
    throw new InvalidOptionsError('credentials', `JoinServer: option "credentials" must return a node certificate (${(err as Error).message})`);
  }
  if (role !== 'manager') throw new InvalidOptionsError('credentials', 'JoinServer: option "credentials" must return a manager certificate (joining nodes accept only a manager)');
  return { certPem: creds.certPem, context: createSecureContext(tlsServerOptions(creds)), creds };
}
