/**
 * Weft nodes on an etcd you already run, instead of the embedded Raft
 * store: a manager and a worker, each with its own `EtcdStore` (from
 * `@weft/core/etcd`; install `etcd3` alongside), userspace data planes on
 * 127.0.0.21-22. They share a network, ping and exchange UDP; then the
 * example detaches, removes the network and deletes its keys from etcd.
 *
 *   npx tsx examples/etcd-store.ts http://127.0.0.1:2379
 *   WEFT_ETCD_URL=http://127.0.0.1:2379 npx tsx examples/etcd-store.ts
 */
import { randomBytes } from 'node:crypto';
import { UserspaceDataPlane, WeftNode } from '@weft/core';
import { EtcdStore } from '@weft/core/etcd';
import { Report } from './support/report';
import { pingUntil, udpEcho } from './support/traffic';

/** What the example saw, for its test. */
export interface EtcdExampleReport {
  lines: string[];
  namespace: string;
  /** Keys the run wrote under its namespace (before deleting them). */
  keysWritten: number;
  udpReply: string;
}

/** Starts a node whose shared state is etcd. */
async function startNode(id: string, role: 'manager' | 'worker', host: string, url: string, namespace: string): Promise<WeftNode> {
  const store = await EtcdStore.connect({ endpoints: [url], namespace });
  const dataPlane = await UserspaceDataPlane.open({ nodeId: id, address: host, vxlanPort: 0, encryptedPort: 0 }).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  return WeftNode.start({ id, role, store, dataPlane }).catch(async (err: unknown) => {
    await dataPlane.close();
    await store.close();
    throw err;
  });
}

/** Runs the example against the etcd at `url` (`http://host:port`). */
export async function main(url: string, print: (line: string) => void = () => undefined): Promise<EtcdExampleReport> {
  const report = new Report(print);
  // Each run in its own etcd prefix, deleted at the end (a deployment would use one fixed prefix, e.g. 'weft/').
  const namespace = `weft-example-${randomBytes(4).toString('hex')}/`;
  report.say(`Weft on etcd at ${url}, keys under "${namespace}"`);
  const nodes: WeftNode[] = [];
  let wiped = false;
  /** Deletes every key of this run (once its nodes are stopped, so no heartbeat writes one back). */
  const wipe = async (): Promise<number> => {
    const admin = await EtcdStore.connect({ endpoints: [url], namespace });
    try {
      const { deleted } = await admin.delete({ prefix: '' }); // '' is the namespace's root: nothing outside it
      wiped = true;
      return deleted;
    } finally {
      await admin.close();
    }
  };
  try {
    const [m1, w1] = await report.step('start manager m1 and worker w1, each with an EtcdStore', async (note) => {
      nodes.push(await startNode('m1', 'manager', '127.0.0.21', url, namespace));
      nodes.push(await startNode('w1', 'worker', '127.0.0.22', url, namespace));
      note(nodes.map((n) => `${n.id} (${n.role}) data plane udp ${n.dataPlane.info.address}:${n.dataPlane.info.vxlanPort}`).join(', '));
      return nodes as [WeftNode, WeftNode];
    });

    const udpReply = await report.step('network "shop", endpoints on both nodes, ping and UDP', async (note) => {
      const net = await w1.createNetwork({ name: 'shop', attachable: true });
      const [a, b] = [await m1.attach('shop', { name: 'a' }), await w1.attach('shop', { name: 'b' })];
      note(`VNI ${net.vni}, subnet ${net.subnet}: a ${a.ip} on m1, b ${b.ip} on w1`);
      note(`ping a -> b: reply in ${(await pingUntil(a, b.ip)).toFixed(2)} ms; b -> a: ${(await pingUntil(b, a.ip)).toFixed(2)} ms`);
      const reply = await udpEcho(a, b, 'order #1');
      note(`udp a -> b:7 "order #1": echo "${reply}"`);
      return reply;
    });

    const keysWritten = await report.step('what Weft keeps in etcd', async (note) => {
      const r = await m1.store.range({ prefix: '' }); // keys relative to the namespace
      const kinds = new Map<string, number>();
      for (const kv of r.kvs) {
        const kind = kv.key.split('/')[1] ?? kv.key; // weft/<kind>/...
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      }
      note(`${r.kvs.length} keys at revision ${r.revision}: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}`);
      return r.kvs.length;
    });

    await report.step('detach, remove the network, stop the nodes, delete the keys', async (note) => {
      const attached = nodes.flatMap((n) => n.attachments());
      for (const a of attached) await a.detach();
      await m1.removeNetwork('shop');
      await Promise.all(nodes.map((n) => n.close())); // each closes its own EtcdStore
      note(`detached ${attached.length} endpoints, removed "shop", stopped ${nodes.length} nodes, deleted ${await wipe()} keys under "${namespace}"`);
    });
    report.say(`Done in ${report.elapsedMs()} ms.`);
    return { lines: report.lines, namespace, keysWritten, udpReply };
  } finally {
    await Promise.allSettled(nodes.map((n) => n.close())); // idempotent
    if (!wiped) await wipe().catch(() => undefined);
  }
}

if (require.main === module) {
  const url = process.argv[2] ?? process.env.WEFT_ETCD_URL;
  if (url === undefined) {
    console.error('usage: npx tsx examples/etcd-store.ts http://HOST:PORT   (or set WEFT_ETCD_URL)');
    process.exitCode = 2;
  } else {
    main(url, (line) => console.log(line)).catch((err: unknown) => {
      console.error('example failed:', err);
      process.exitCode = 1;
    });
  }
}
