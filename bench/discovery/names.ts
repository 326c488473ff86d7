/**
 * The names both DNS servers of the `dns queries/s` row serve: 1,000
 * endpoint-like names (`ep-0000` … `ep-0999`), each with one IPv4 address in
 * 10.20.0.0/16, as endpoint records of one network (for Weft's `dnsScopeOf`),
 * as a hosts file (for dnsmasq's `--addn-hosts`) and as a dnsperf query file.
 */
import type { EndpointRecord, NetworkRecord } from '@weft/core';
import { macForIpv4, parseIpv4 } from '@weft/interface';

/** How many names. */
export const NAME_COUNT = 1000;
/** The network the Weft server serves them on. */
export const NETWORK_ID = 'bench-dns-net';

/** Name `i`. */
export function nameOf(i: number): string {
  return `ep-${String(i).padStart(4, '0')}`;
}

/** Address of name `i`: 10.20.0.2 upwards (skipping .0 and the gateway .1). */
export function ipOf(i: number): string {
  const n = i + 2;
  return `10.20.${n >> 8}.${n & 255}`;
}

/** The network record (as `networks/<id>` holds it). */
export function networkRecord(): NetworkRecord {
  return {
    id: NETWORK_ID,
    name: 'bench-dns',
    driver: 'overlay',
    scope: 'swarm',
    vni: 4321,
    subnet: '10.20.0.0/16',
    gateway: '10.20.0.1',
    mtu: 1450,
    encrypted: false,
    attachable: true,
    internal: false,
    ingress: false,
    labels: {},
    createdAt: '2026-12-02T00:00:00.000Z',
    dnsAddress: '10.20.255.254',
  };
}

/** The endpoint records of the network (as `endpoints/<networkId>/<id>` hold them), by id. */
export function endpointRecords(): Map<string, EndpointRecord> {
  const out = new Map<string, EndpointRecord>();
  for (let i = 0; i < NAME_COUNT; i++) {
    const id = `e${String(i).padStart(4, '0')}`;
    const ip = ipOf(i);
    out.set(id, {
      id,
      networkId: NETWORK_ID,
      name: nameOf(i),
      aliases: [],
      ip,
      prefixLength: 16,
      mac: macForIpv4(parseIpv4(ip)),
      nodeId: `node-${i % 3}`,
      requestId: `req-${id}`,
      createdAt: '2026-12-02T00:00:00.000Z',
    });
  }
  return out;
}

/** The same names as a hosts file (`/etc/hosts` format) for dnsmasq. */
export function hostsFile(): string {
  let out = '';
  for (let i = 0; i < NAME_COUNT; i++) out += `${ipOf(i)} ${nameOf(i)}\n`;
  return out;
}

/**
 * A dnsperf query file: every name `copies` times, type A, shuffled with a
 * fixed seed (xorshift32 + Fisher–Yates), so every run sends the same order.
 */
export function queryFile(copies: number, seed = 0x5eed1234): string {
  const lines: string[] = [];
  for (let c = 0; c < copies; c++) for (let i = 0; i < NAME_COUNT; i++) lines.push(`${nameOf(i)} A`);
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  for (let i = lines.length - 1; i > 0; i--) {
    const j = next() % (i + 1);
    [lines[i], lines[j]] = [lines[j]!, lines[i]!];
  }
  return lines.join('\n') + '\n';
}
