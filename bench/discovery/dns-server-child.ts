/**
 * Child process of the `dns queries/s` row: Weft's embedded `DnsServer`
 * answering the 1,000 names of bench/discovery/names.ts from a real
 * `dnsScopeOf` view, on one loopback listener (UDP + TCP), no upstreams —
 * in a process of its own so that, like dnsmasq, it shares no thread with
 * dnsperf or the bench.
 *
 * Protocol (line-based): prints `listening {"host","port"}` on stdout once
 * bound; on each `counters` line on stdin prints `counters {...}`; closes the
 * server and exits 0 when stdin ends (the parent closed it or died), on
 * SIGTERM, or on a `close` line.
 *
 * Usage: node --import tsx bench/discovery/dns-server-child.ts
 */
import { createInterface } from 'node:readline';
import { dnsScopeOf } from '@weft/core';
import { DnsServer } from '../../packages/core/src/discovery/dns-server';
import { endpointRecords, networkRecord, NETWORK_ID } from './names';

async function main(): Promise<void> {
  const scope = dnsScopeOf({ network: networkRecord(), endpoints: endpointRecords(), services: [], backends: new Map() });
  const server = new DnsServer({ scopeOf: (id) => (id === NETWORK_ID ? scope : undefined) });
  let closing: Promise<void> | undefined;
  const shutdown = (code: number): void => {
    closing ??= server.close().finally(() => process.exit(code));
  };
  process.once('SIGTERM', () => shutdown(0));
  process.once('SIGINT', () => shutdown(0));
  try {
    const at = await server.listen(NETWORK_ID, { host: '127.0.0.1', port: 0 });
    process.stdout.write(`listening ${JSON.stringify(at)}\n`);
  } catch (err) {
    process.stderr.write(`dns-server-child: ${String(err)}\n`);
    shutdown(1);
    return;
  }
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line === 'counters') process.stdout.write(`counters ${JSON.stringify(server.counters())}\n`);
    else if (line === 'close') shutdown(0);
  });
  lines.on('close', () => shutdown(0));
}

void main();
