import { connect, type Socket } from 'node:net';
import * as iface from '@weft/interface';
import { parseOptions } from '@weft/interface';
import { z } from 'zod';
import * as clusterPkiErrors from '../cluster/pki/errors';
import * as dataPlaneErrors from '../data-plane/errors';
import * as daemonErrors from '../daemon/errors';
import * as coreErrors from '../errors';
import * as policyErrors from '../store/remote/store-policy';
import { FrameReader, encodeFrame } from '../store/remote/frames';
import type { ControlMethod, ControlResponse, ControlResults, DaemonStats, EndpointSummary, JoinTokenInfo, NodeSummary, ParamsOf, PingResult, ReconcileSummary, WireControlError } from '../daemon/api';
import type { NetworkInfo, NetworkInspect } from '../network/inspect-network';
import type { CreateNetworkOptions } from '../network/network-options';
import type { NodeInfo } from '../node/node-status';

/** Options of {@link WeftClient.connect}. */
export interface WeftClientOptions {
  /** The node process's control socket (`<data dir>/weft.sock` for nodes run by `weft`). */
  readonly socketPath: string;
  /** A call not answered within this time rejects with NodeUnreachableError (ms, default 60000). */
  readonly timeoutMs?: number;
}

const optionsSchema = z.object({
  socketPath: z.string().min(1).max(107, 'must be at most 107 bytes (the limit of a Unix socket path)'),
  timeoutMs: z.number().int().min(1).default(60_000),
});

type ErrorClass = abstract new (...args: never[]) => Error;

/** Every error class a node process may answer with, by name: the client rethrows the same class. */
const knownErrors: ReadonlyMap<string, ErrorClass> = (() => {
  const out = new Map<string, ErrorClass>();
  for (const ns of [iface, coreErrors, clusterPkiErrors, dataPlaneErrors, daemonErrors, policyErrors] as Record<string, unknown>[]) {
    for (const [name, v] of Object.entries(ns)) {
      if (typeof v === 'function' && v.prototype instanceof Error) out.set(name, v as ErrorClass);
    }
  }
  return out;
})();

/**
 * An error from the node process as an instance of the same class on this
 * side (so `instanceof NetworkNotFoundError` works across the socket), with
 * its message, code and plain fields; an unknown class becomes a
 * {@link RemoteNodeError}.
 */
function errorFromWire(w: WireControlError): Error {
  const cls = knownErrors.get(w.name);
  if (cls === undefined) return new daemonErrors.RemoteNodeError(w.name, w.code, w.message);
  const e = Object.create(cls.prototype as object) as Error & Record<string, unknown>;
  Object.defineProperty(e, 'message', { value: w.message, writable: true, configurable: true });
  Object.defineProperty(e, 'name', { value: w.name, writable: true, configurable: true });
  Object.defineProperty(e, 'code', { value: w.code, writable: true, configurable: true });
  for (const [k, v] of Object.entries(w.fields ?? {})) Object.defineProperty(e, k, { value: v, writable: true, configurable: true, enumerable: true });
  Error.captureStackTrace(e, errorFromWire);
  return e;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * A program's handle on a node process run by `weft` (or any process that
 * serves `NodeDaemon`'s control socket): the same operations as the `weft`
 * command, typed. Errors the node answers with are rethrown as the same
 * classes (`NetworkNotFoundError`, `QuorumLostError`, ...).
 *
 * ```ts
 * const client = await WeftClient.connect({ socketPath: '/var/lib/weft/weft.sock' });
 * await client.createNetwork({ name: 'backend', encrypted: true });
 * await client.close();
 * ```
 */
export class WeftClient {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  private failure: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly o: z.output<typeof optionsSchema>,
  ) {
    const reader = new FrameReader();
    socket.on('data', (chunk: Buffer) => {
      let messages: unknown[];
      try {
        messages = reader.push(chunk);
      } catch (err) {
        this.fail(new daemonErrors.NodeUnreachableError(o.socketPath, `malformed answer: ${(err as Error).message}`));
        return;
      }
      for (const m of messages) {
        const r = m as ControlResponse;
        const p = this.pending.get(r.id);
        if (p === undefined) continue;
        this.pending.delete(r.id);
        clearTimeout(p.timer);
        if ('error' in r) p.reject(errorFromWire(r.error));
        else p.resolve(r.result);
      }
    });
    socket.on('error', (err) => this.fail(new daemonErrors.NodeUnreachableError(o.socketPath, err.message)));
    socket.on('close', () => this.fail(new daemonErrors.NodeUnreachableError(o.socketPath, 'the connection closed')));
  }

  /**
   * Connects to a node process's control socket.
   * @throws InvalidOptionsError naming the bad option; NodeUnreachableError when nothing answers there.
   */
  static async connect(options: WeftClientOptions): Promise<WeftClient> {
    const o = parseOptions(optionsSchema, options, 'WeftClient');
    const socket = connect(o.socketPath);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new daemonErrors.NodeUnreachableError(o.socketPath, `no connection within ${o.timeoutMs} ms`));
      }, o.timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new daemonErrors.NodeUnreachableError(o.socketPath, err.code === 'ENOENT' ? 'no such socket' : err.code === 'ECONNREFUSED' ? 'nothing listens there' : err.message));
      });
    });
    return new WeftClient(socket, o);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }

  /** Sends one request; resolves with its answer or rejects with the node's error. */
  call<M extends ControlMethod>(method: M, params: ParamsOf<M>): Promise<ControlResults[M]> {
    if (this.closed) return Promise.reject(new daemonErrors.NodeUnreachableError(this.o.socketPath, 'the client is closed'));
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<ControlResults[M]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new daemonErrors.NodeUnreachableError(this.o.socketPath, `no answer to ${method} within ${this.o.timeoutMs} ms`));
      }, this.o.timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.socket.write(encodeFrame({ id, method, params }));
    });
  }

  /** Who the node is, its role, addresses and certificate. */
  info(): Promise<NodeSummary> {
    return this.call('info', {});
  }
  /** The node's counters: Raft, store and join servers, data plane, peers per network. */
  stats(): Promise<DaemonStats> {
    return this.call('stats', {});
  }
  /**
   * Reconciles the node's data plane now: the kernel plane reads back its
   * namespaces, removes what the desired state (from the store) does not
   * have and restores what is missing; the report lists every change (none
   * when the kernel already matched). The userspace plane answers
   * `supported: false`.
   */
  reconcile(): Promise<ReconcileSummary> {
    return this.call('reconcile', {});
  }
  /** Creates an overlay network (options as `WeftNode.createNetwork`). */
  createNetwork(options: CreateNetworkOptions): Promise<NetworkInfo> {
    return this.call('network.create', options as ParamsOf<'network.create'>);
  }
  listNetworks(): Promise<NetworkInfo[]> {
    return this.call('network.ls', {});
  }
  inspectNetwork(network: string): Promise<NetworkInspect> {
    return this.call('network.inspect', { network });
  }
  async removeNetwork(network: string): Promise<void> {
    await this.call('network.rm', { network });
  }
  /** The cluster's nodes (ask a manager). */
  listNodes(): Promise<NodeInfo[]> {
    return this.call('node.ls', {});
  }
  /** Removes a node from the cluster (`force` for one that is still up). */
  async removeNode(node: string, options: { readonly force?: boolean } = {}): Promise<void> {
    await this.call('node.rm', { node, force: options.force ?? false });
  }
  async promoteNode(node: string): Promise<void> {
    await this.call('node.promote', { node });
  }
  async demoteNode(node: string): Promise<void> {
    await this.call('node.demote', { node });
  }
  /** The join token of a role; `rotate` makes a new one (the old one stops working). */
  joinToken(role: 'manager' | 'worker', options: { readonly rotate?: boolean } = {}): Promise<JoinTokenInfo> {
    return this.call('join-token', { role, rotate: options.rotate ?? false });
  }
  /**
   * Attaches an endpoint to a network: a userspace endpoint living in the node
   * process, or — on a node with the kernel data plane — the container whose
   * network namespace is `netns` (a veth named `interfaceName`, default eth0),
   * with `resolvConf` (an absolute file path) written to name the network's
   * embedded DNS server.
   */
  attachEndpoint(
    network: string,
    name: string,
    options: { readonly aliases?: string[]; readonly ip?: string; readonly netns?: string; readonly interfaceName?: string; readonly resolvConf?: string } = {},
  ): Promise<EndpointSummary> {
    return this.call('endpoint.attach', { network, name, ...options });
  }
  listEndpoints(): Promise<EndpointSummary[]> {
    return this.call('endpoint.ls', {});
  }
  /** Pings `target` (a name or address on the endpoint's network) from one of the node's endpoints. */
  ping(endpoint: string, target: string, options: { readonly count?: number; readonly intervalMs?: number; readonly timeoutMs?: number } = {}): Promise<PingResult> {
    return this.call('endpoint.ping', { endpoint, target, ...options });
  }
  async detachEndpoint(endpoint: string): Promise<void> {
    await this.call('endpoint.rm', { endpoint });
  }

  /**
   * This node leaves the cluster gracefully (as `docker swarm leave`): its
   * endpoints are detached, a manager hands leadership off and leaves the Raft
   * membership (refused when that would break quorum), it is marked removed;
   * then the node process stops.
   */
  async leave(): Promise<void> {
    await this.call('leave', {});
  }

  /** Closes the connection; calls in flight reject with NodeUnreachableError. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new daemonErrors.NodeUnreachableError(this.o.socketPath, 'the client is closed'));
    await new Promise<void>((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.end();
      setTimeout(() => {
        this.socket.destroy();
        resolve();
      }, 1000).unref();
    });
  }
}
