import { Ipam } from '@weft/ipam';
import { cmp, formatIpv4, kv, parseIpv4, parseOptions, textOf, type TxnOp } from '@weft/interface';
import { NameConflictError } from '../errors';
import type { CoreContext } from '../node/context';
import { newId } from '../node/context';
import { encodeRecord, parseRecord, parseVersioned } from '../records/codec';
import {
  clusterRecordSchema,
  nodeRecordSchema,
  type ClusterRecord,
  type KeysRecord,
  type NetworkRecord,
} from '../records/schemas';
import { Conflict, retryConflicts } from '../store/retry';
import { overlayMtu } from './mtu';
import { createNetworkOptionsSchema, type CreateNetworkOptions } from './network-options';
import { nextVni } from './vni';

/** Extra fields only core itself sets (the ingress network at cluster init). */
export interface InternalNetworkFields {
  readonly ingress?: boolean;
}

/**
 * The address a network's embedded DNS answers at: the last usable IPv4
 * address of the subnet (the one before broadcast), or the one before it when
 * that is the gateway. Reserved in the network's pool as an auxiliary address,
 * so no endpoint is ever given it. None for IPv6 subnets and for subnets
 * smaller than /28 (they need every address for endpoints; their endpoints get no DNS).
 */
export function dnsAddressFor(subnet: string, gateway: string | null): string | undefined {
  if (subnet.includes(':')) return undefined;
  const [base, bits] = subnet.split('/') as [string, string];
  const prefix = Number(bits);
  if (!(prefix <= 28)) return undefined;
  const broadcast = (parseIpv4(base) | (prefix === 0 ? 0xffffffff : (1 << (32 - prefix)) - 1)) >>> 0;
  let candidate = broadcast - 1;
  if (gateway !== null && formatIpv4(candidate) === gateway) candidate -= 1;
  return formatIpv4(candidate);
}

/** Bytes of a new network secret. */
export const NETWORK_SECRET_BYTES = 32;

/**
 * Creates an overlay network: a unique name, the next serial VNI, a subnet
 * from the cluster's pools (or the one asked for, refused when it overlaps),
 * a per-network address pool, the overlay MTU, and for encrypted networks a
 * fresh secret — all in one txn, so a network is created whole or not at all.
 * @throws InvalidOptionsError, NameConflictError, OverlapError, PoolExhaustedError (from @weft/ipam).
 */
export async function createNetwork(ctx: CoreContext, options: CreateNetworkOptions, internal: InternalNetworkFields = {}): Promise<NetworkRecord> {
  const o = parseOptions(createNetworkOptionsSchema, options, 'createNetwork');
  const k = ctx.keys;
  /** The network an earlier attempt tried to write; after an unknown outcome it may exist. */
  let attempted: NetworkRecord | undefined;
  return retryConflicts('createNetwork', async () => {
    if (attempted !== undefined) {
      const mine = await ctx.store.get(k.networkName(o.name));
      if (mine !== undefined && textOf(mine) === attempted.id) return attempted;
    }
    const [clusterKv, nameKv, cursorKv, subnetsKv, vnis, nodes] = await Promise.all([
      ctx.store.get(k.cluster()),
      ctx.store.get(k.networkName(o.name)),
      ctx.store.get(k.vniCursor()),
      ctx.store.get(k.subnets()),
      ctx.store.range({ prefix: k.vnis() }),
      ctx.store.range({ prefix: k.nodes() }),
    ]);
    if (nameKv !== undefined) throw new NameConflictError('network', o.name, textOf(nameKv));
    const cluster = parseVersioned(clusterRecordSchema, clusterKv);
    if (cluster === undefined) throw new Conflict('the cluster record is not there yet');
    const c: ClusterRecord = cluster.value;

    const subnets = subnetsKv === undefined ? new Ipam({ defaultPools: c.defaultPools }) : Ipam.restore(textOf(subnetsKv));
    const pool = subnets.requestPool({
      ...(o.subnet !== undefined ? { subnet: o.subnet } : {}),
      ...(o.gateway !== undefined ? { gateway: o.gateway } : {}),
    });
    const addresses = new Ipam({ defaultPools: [] });
    const dnsAddress = dnsAddressFor(pool.subnet, pool.gateway);
    addresses.requestPool({ subnet: pool.subnet, gateway: pool.gateway, ...(dnsAddress !== undefined ? { auxAddresses: { dns: dnsAddress } } : {}) });

    const inUse = new Set(vnis.kvs.map((x) => Number(x.key.slice(x.key.lastIndexOf('/') + 1))));
    const cursor = cursorKv === undefined ? undefined : Number(textOf(cursorKv));
    const vni = nextVni(cursor, c.vniStart, inUse);
    if (vni === undefined) throw new Conflict('every VNI is in use');

    const nodeRecords = nodes.kvs.map((x) => parseRecord(nodeRecordSchema, x)).filter((n) => n !== undefined);
    const mtu =
      o.mtu ??
      overlayMtu({
        underlayMtus: nodeRecords.map((n) => n.dataPlane.underlayMtu),
        ipv6Underlay: nodeRecords.some((n) => n.dataPlane.address.includes(':')),
        encrypted: o.encrypted,
      });

    const id = newId(ctx);
    const record: NetworkRecord = {
      id,
      name: o.name,
      driver: 'overlay',
      scope: 'swarm',
      vni,
      subnet: pool.subnet,
      gateway: pool.gateway,
      mtu,
      encrypted: o.encrypted,
      attachable: internal.ingress ? false : o.attachable,
      internal: o.internal,
      ingress: internal.ingress ?? false,
      labels: o.labels,
      createdAt: new Date(ctx.now()).toISOString(),
      ...(dnsAddress !== undefined ? { dnsAddress } : {}),
    };
    const puts: TxnOp[] = [
      kv.put(k.network(id), encodeRecord(record)),
      kv.put(k.networkName(o.name), id),
      kv.put(k.vni(vni), id),
      kv.put(k.vniCursor(), String(vni)),
      kv.put(k.subnets(), subnets.snapshot()),
      kv.put(k.pool(id), addresses.snapshot()),
    ];
    if (o.encrypted) {
      const keys: KeysRecord = {
        networkId: id,
        suite: o.suite,
        keys: [{ generation: 1, secret: Buffer.from(ctx.randomBytes(NETWORK_SECRET_BYTES)).toString('base64url') }],
        sendGeneration: 1,
        rotatedAtMs: ctx.now(),
      };
      puts.push(kv.put(k.networkKeys(id), encodeRecord(keys)));
    }
    attempted = record;
    const r = await ctx.store.txn({
      compare: [
        cmp.missing(k.networkName(o.name)),
        cmp.missing(k.vni(vni)),
        cmp.modRevision(k.vniCursor(), 'equal', cursorKv?.modRevision ?? 0),
        cmp.modRevision(k.subnets(), 'equal', subnetsKv?.modRevision ?? 0),
      ],
      success: puts,
      failure: [kv.get(k.networkName(o.name))],
    });
    if (!r.succeeded) {
      const existing = r.results[0];
      if (existing?.op === 'range' && existing.kvs[0] !== undefined) throw new NameConflictError('network', o.name, textOf(existing.kvs[0]));
      throw new Conflict('a concurrent network create or remove');
    }
    return record;
  });
}

