import type { Underlay } from '@weft/interface';
import type { EncryptedUnderlayCounters } from '@weft/crypto';
import { DROP_REASONS, emptyCounters, type Vtep, type VtepCounters } from '@weft/vxlan';
import type { CleartextGuard } from './cleartext-guard';
import type { EncryptedDemux } from './encrypted-demux';
import type { NetworkStack } from './network-stack';
import { addServiceCounters, emptyServiceCounters, putServiceCounters, type ServiceCounters } from './service-counters';

/** The numeric fields of `VtepCounters` (everything but `drops`). */
const VTEP_FIELDS = ['rxPackets', 'rxBytes', 'rxDelivered', 'rxDropped', 'txPackets', 'txBytes', 'localDelivered', 'flooded', 'arpSuppressed', 'learned'] as const;

/** Writes `c` into `out` as `<prefix>.<field>` and `<prefix>.drops.<reason>`. */
export function putVtepCounters(out: Record<string, number>, prefix: string, c: VtepCounters): void {
  for (const f of VTEP_FIELDS) out[`${prefix}.${f}`] = c[f];
  for (const r of DROP_REASONS) out[`${prefix}.drops.${r}`] = c.drops[r];
}

/** Adds `c` into `into` (field by field, drops by reason). */
export function addVtepCounters(into: VtepCounters, c: VtepCounters): void {
  for (const f of VTEP_FIELDS) into[f] += c[f];
  for (const r of DROP_REASONS) into.drops[r] += c.drops[r];
}

/** Zeroed `EncryptedUnderlayCounters`. */
export function emptyEspCounters(): EncryptedUnderlayCounters {
  return { txPackets: 0, txNoPeer: 0, txSequenceExhausted: 0, rxPackets: 0, rxUnknownPeer: 0, rxMalformed: 0, rxUnknownSpi: 0, rxAuthFailed: 0, rxReplayed: 0 };
}

/** Adds every numeric field of `c` into `into`. */
export function addNumbers<T extends object>(into: T, c: T): void {
  const target = into as Record<string, number>;
  for (const [k, v] of Object.entries(c)) if (typeof v === 'number') target[k] = (target[k] ?? 0) + v;
}

/** Writes every numeric field of `c` into `out` as `<prefix>.<field>`. */
export function putNumbers(out: Record<string, number>, prefix: string, c: object): void {
  for (const [k, v] of Object.entries(c)) if (typeof v === 'number') out[`${prefix}.${k}`] = v;
}

/** The numeric `counters` of an underlay that has them (`UdpUnderlay`), else undefined. */
export function underlayCounters(underlay: unknown): object | undefined {
  const c = (underlay as { counters?: unknown }).counters;
  return typeof c === 'object' && c !== null ? c : undefined;
}

/** Everything {@link collectCounters} reads. */
export interface CounterSources {
  readonly plainVtep: Vtep;
  /** The live networks. */
  readonly networks: Iterable<{ readonly id: string; readonly vni: number; readonly current: NetworkStack; readonly services: { readonly counters: ServiceCounters } }>;
  /** Final counters of encrypted stacks already disposed (kept so the totals never go down). */
  readonly retiredVtep: VtepCounters;
  readonly retiredEsp: EncryptedUnderlayCounters;
  /** Final service-shim counters of networks already removed. */
  readonly retiredServices: ServiceCounters;
  readonly demux: EncryptedDemux;
  readonly guard: CleartextGuard;
  readonly plainSocket: Underlay;
  readonly sealedSocket: Underlay;
}

/** The flat counter record `UserspaceDataPlane.counters()` documents. */
export function collectCounters(src: CounterSources): Record<string, number> {
  const out: Record<string, number> = {};
  putVtepCounters(out, 'plain', src.plainVtep.counters);
  const vtepSum = emptyCounters();
  addVtepCounters(vtepSum, src.retiredVtep);
  const espSum = emptyEspCounters();
  addNumbers(espSum, src.retiredEsp);
  const serviceSum = emptyServiceCounters();
  addServiceCounters(serviceSum, src.retiredServices);
  for (const n of src.networks) {
    const { segment, sealed, vtep } = n.current;
    putVtepCounters(out, `net.${n.id}.segment`, segment.counters);
    putServiceCounters(out, `net.${n.id}.`, n.services.counters);
    addServiceCounters(serviceSum, n.services.counters);
    if (sealed === undefined) continue;
    const v = vtep.counters;
    const e = sealed.enc.counters;
    putVtepCounters(out, `net.${n.id}.vtep`, v);
    putNumbers(out, `net.${n.id}.esp`, e);
    out[`net.${n.id}.cleartextDropped`] = src.guard.droppedFor(n.vni);
    addVtepCounters(vtepSum, v);
    addNumbers(espSum, e);
  }
  putVtepCounters(out, 'encrypted', vtepSum);
  putNumbers(out, 'esp', espSum);
  putServiceCounters(out, '', serviceSum);
  putNumbers(out, 'demux', src.demux.counters);
  putNumbers(out, 'guard', src.guard.counters);
  const plainSocket = underlayCounters(src.plainSocket);
  if (plainSocket !== undefined) putNumbers(out, 'underlay.plain', plainSocket);
  const sealedSocket = underlayCounters(src.sealedSocket);
  if (sealedSocket !== undefined) putNumbers(out, 'underlay.encrypted', sealedSocket);
  return out;
}
