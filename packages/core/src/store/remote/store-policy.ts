import { InvalidOptionsError, textOf, type Store } from '@weft/interface';
import { PermissionDeniedError } from '../../errors';
import { KeyLayout } from '../../records/keys';
import type { ControlPeer } from './control-tls';
import type { ClientMessage } from './wire';

/**
 * Decides whether a connected node may make a request of a `StoreServer`;
 * rejects with PermissionDeniedError when not. `peer` is the node the TLS
 * certificate names (undefined on plain TCP); `store` is the store served.
 */
export type StoreAuthorizer = (peer: ControlPeer | undefined, request: ClientMessage, store: Store) => Promise<void>;

type Selector = { key: string } | { prefix: string } | { start: string; end?: string };

/**
 * The worker's view of the store, as Swarm's dispatcher gives a worker only
 * what it needs: managers may do anything; a worker (by its certificate) may
 * read the cluster's metadata (cluster, networks and their names, nodes and
 * their status, services and their names, address pools, endpoint names,
 * the removed-node list, desired roles and availabilities, the managers registry, the certificate deny list), its own endpoint index, and — only for networks it
 * has an endpoint on — their endpoint records, keys, key acknowledgements and
 * service backends; it may write its own node record and heartbeat
 * (and, leaving, its own removed mark and delete its status record), attach
 * and detach its own endpoints (pool, endpoint record with its own node id,
 * name index, its index entry, the endpoint's backend entries) and
 * acknowledge keys as itself. Everything else — other networks' keys,
 * another node's records, creating networks or services, Raft-only state —
 * is refused. A peer without a certificate (plain TCP) is not judged: run
 * plain TCP only where every client is trusted.
 * @throws InvalidOptionsError (field `keys`) when `keys` is not a KeyLayout.
 */
export function workerStorePolicy(keys: KeyLayout): StoreAuthorizer {
  if (!(keys instanceof KeyLayout)) throw new InvalidOptionsError('keys', 'workerStorePolicy: option "keys" must be a KeyLayout (e.g. new KeyLayout("weft/"))');
  const r = keys.root;
  const metadataPrefixes = [
    keys.networks(),
    `${r}network-names/`,
    keys.nodes(),
    keys.nodeStatuses(),
    keys.removedNodes(),
    keys.roles(),
    keys.availabilities(),
    keys.managers(),
    keys.joinServices(),
    // The certificate deny list (serials are not secret): a worker refuses a deny-listed manager too.
    keys.deniedSerials(),
    keys.services(),
    `${r}service-names/`,
    `${r}ipam/pools/`,
    `${r}endpoint-names/`,
  ];
  const metadataKeys = new Set([keys.cluster(), keys.leader()]);
  /** The network id a per-network key belongs to, for the prefixes only active nodes may read. */
  const perNetwork = (key: string): string | undefined => {
    for (const p of [`${r}endpoints/`, `${r}keys/`, `${r}key-acks/`, `${r}service-backends/`]) {
      if (key.startsWith(p)) {
        const rest = key.slice(p.length);
        const id = rest.split('/')[0]!;
        return id.length > 0 ? id : undefined;
      }
    }
    return undefined;
  };

  return async (peer, m, store) => {
    if (peer === undefined || peer.role === 'manager') return;
    const me = peer.nodeId;
    const ownIndex = keys.nodeEndpoints(me);
    let active: Set<string> | undefined;
    const activeNetworks = async (): Promise<Set<string>> => {
      if (active !== undefined) return active;
      const refs = await store.range({ prefix: ownIndex });
      active = new Set<string>();
      for (const kv of refs.kvs) {
        try {
          const v = JSON.parse(textOf(kv)) as { networkId?: unknown };
          if (typeof v.networkId === 'string') active.add(v.networkId);
        } catch {
          // not core's record: ignore
        }
      }
      return active;
    };
    const deny = (what: string): never => {
      throw new PermissionDeniedError(me, what);
    };

    /** The node id in the JSON record at `key` now (undefined: absent or not a record). */
    const ownerNow = async (key: string): Promise<string | undefined> => {
      const kv = await store.get(key);
      if (kv === undefined) return undefined;
      try {
        const v = JSON.parse(textOf(kv)) as { nodeId?: unknown };
        return typeof v.nodeId === 'string' ? v.nodeId : '';
      } catch {
        return '';
      }
    };
    const endpointPrefix = `${r}endpoints/`;
    const backendsPrefix = `${r}service-backends/`;
    /** May the worker read every key `key` (or, with `prefix`, every key under it)? */
    const readable = async (key: string, prefix: boolean): Promise<boolean> => {
      if (!prefix && metadataKeys.has(key)) return true;
      if (metadataPrefixes.some((p) => key.startsWith(p))) return true;
      if (key.startsWith(ownIndex)) return true;
      const net = perNetwork(key);
      if (net !== undefined && (await activeNetworks()).has(net)) return true;
      // Its own endpoint record before it is active on the network (an attach's txn reads the key its request id names).
      if (!prefix && key.startsWith(endpointPrefix)) {
        const owner = await ownerNow(key);
        return owner === undefined || owner === me;
      }
      return false;
    };
    const readableSelector = async (s: Selector): Promise<boolean> => {
      if ('key' in s) return readable(s.key, false);
      if ('prefix' in s) return readable(s.prefix, true);
      return false; // key ranges: core never asks them of a worker
    };
    const writable = async (op: 'put' | 'delete', s: Selector, value?: string): Promise<boolean> => {
      if (!('key' in s) && !('prefix' in s)) return false;
      const key = 'key' in s ? s.key : s.prefix;
      const exact = 'key' in s;
      if (exact && (key === keys.node(me) || key === keys.heartbeat(me))) return true;
      // `leave()`: a worker marks itself removed and drops its status record (it can only ever shut itself out).
      if (exact && ((op === 'put' && key === keys.removedNode(me)) || (op === 'delete' && key === keys.nodeStatus(me)))) return true;
      if (key.startsWith(ownIndex)) return true;
      if (exact && key.startsWith(`${r}ipam/pools/`)) return true;
      if (key.startsWith(`${r}endpoint-names/`) && exact) return true;
      if (exact && key.startsWith(`${r}key-acks/`) && key.endsWith(`/${me}`)) return true;
      if (exact && key.startsWith(endpointPrefix)) {
        if (op === 'put') {
          try {
            return (JSON.parse(Buffer.from(value ?? '', 'base64').toString('utf8')) as { nodeId?: unknown }).nodeId === me;
          } catch {
            return false;
          }
        }
        const owner = await ownerNow(key);
        return owner === undefined || owner === me;
      }
      if (!exact && op === 'delete' && key.startsWith(backendsPrefix)) {
        // An endpoint's backend entries (`service-backends/<net>/<endpoint>/`), deleted by its detach.
        const [net, endpoint, rest] = key.slice(backendsPrefix.length).split('/');
        if (net === undefined || endpoint === undefined || rest !== '') return false;
        const owner = await ownerNow(keys.endpoint(net, endpoint));
        return owner === undefined || owner === me;
      }
      return false;
    };

    switch (m.t) {
      case 'hello':
      case 'cancel':
        return;
      case 'get':
        if (!(await readable(m.key, false))) deny(`read ${m.key}`);
        return;
      case 'range':
      case 'watch':
        if (!(await readableSelector(m.keys))) deny(`${m.t === 'watch' ? 'watch' : 'read'} ${JSON.stringify(m.keys)}`);
        return;
      case 'txn':
        for (const c of m.compare) {
          // A compare reads one fact about a key: allowed where reading, or deleting (an absent or own record), is.
          if (!(await readable(c.key, false)) && !(await writable('delete', { key: c.key }))) deny(`compare ${c.key}`);
        }
        for (const o of [...m.success, ...m.failure]) {
          if (o.op === 'range') {
            if (!(await readableSelector(o.keys))) deny(`read ${JSON.stringify(o.keys)}`);
          } else if (o.op === 'put') {
            if (!(await writable('put', { key: o.key }, o.value))) deny(`write ${o.key}`);
          } else if (!(await writable('delete', o.keys))) deny(`delete ${JSON.stringify(o.keys)}`);
        }
        return;
    }
  };
}
