/**
 * Weft cluster demo — and the "how do I build a cluster" example: 3 managers
 * and 1 worker in one process, wired with the public API as separate hosts
 * would be (Raft over TCP, LevelDB, userspace data planes on 127.0.0.11-14
 * over real UDP), an encrypted overlay, the Raft leader killed under
 * traffic, a key rotation, a service resolved by name and balanced per flow. Prints a step-by-step report with timings.
 *
 *   npm run demo            (or: npx tsx examples/demo.ts)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENCRYPTION_OVERHEAD, RaftStore, RemoteStore, UserspaceDataPlane, VXLAN_OVERHEAD_IPV4, WeftNode, type ManagerAddress } from '@weft/core';
import type { Store } from '@weft/interface';
import { LevelStorage } from '@weft/raft/level';
import { Report } from './support/report';
import { askOnce, describeLoop, pingLoop, pingUntil, udpEcho, whoAmI, type LoopResult } from './support/traffic';

/** What the demo saw, for examples/demo.test.ts. */
export interface DemoReport {
  lines: string[];
  leaderBefore: string;
  leaderAfter: string;
  failover: LoopResult;
  generations: [before: number, after: number];
  rotation: LoopResult;
  dir: string;
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** "data plane udp 127.0.0.11:4789 (sealed :4790)", with the ports really bound. */
function describePlane(node: WeftNode): string {
  const { address, vxlanPort, encryptedPort } = node.dataPlane.info;
  return `data plane udp ${address}:${vxlanPort} (sealed :${encryptedPort})`;
}

/** A TCP port free a moment ago. A real deployment uses fixed ports (Swarm: 2377); picking free ones lets the demo run beside anything. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Opens the node's data plane and starts the node; if either fails, closes what was opened. */
async function startNode(id: string, role: 'manager' | 'worker', host: string, store: Store): Promise<WeftNode> {
  let dataPlane: UserspaceDataPlane | undefined;
  try {
    // Port 0: any free UDP ports (defaults 4789 plain, 4790 sealed); the node advertises the real ones.
    dataPlane = await UserspaceDataPlane.open({ nodeId: id, address: host, vxlanPort: 0, encryptedPort: 0 });
    return await WeftNode.start({ id, role, store, dataPlane, keyDrainMs: 100 });
  } catch (err) {
    await dataPlane?.close();
    await store.close();
    throw err;
  }
}

/** Runs the demo; `print` gets each report line. Rejects (after cleaning up) if any step fails. */
export async function main(print: (line: string) => void = () => undefined): Promise<DemoReport> {
  const report = new Report(print);
  const dir = mkdtempSync(join(tmpdir(), 'weft-demo-'));
  const nodes = new Map<string, WeftNode>();
  const raft = new Map<string, RaftStore>(); // each manager's Raft replica, to find the leader
  const cleanup = async (): Promise<void> => {
    // Stores first, so a write still in flight (a heartbeat, a key ack) fails at once rather than
    // waiting out its request timeout for a quorum that is shutting down too; then the nodes (idempotent).
    await Promise.allSettled([...nodes.values()].map((node) => node.store.close()));
    await Promise.allSettled([...nodes.values()].map((node) => node.close()));
    rmSync(dir, { recursive: true, force: true });
  };
  report.say('Weft cluster demo: 3 managers + 1 worker in one process, each as its own host would run it');
  try {
    // Every manager knows every manager's Raft and store addresses up front.
    const managers: ManagerAddress[] = [];
    for (const [i, id] of ['m1', 'm2', 'm3'].entries()) {
      const host = `127.0.0.${11 + i}`;
      managers.push({ id, raft: { host, port: await freePort(host) }, store: { host, port: await freePort(host) } });
    }
    /** The manager whose replica leads, waiting (bounded) through an election. */
    const awaitLeader = async (ids: string[]): Promise<string> => {
      const t0 = performance.now();
      for (;;) {
        const leader = ids.find((id) => raft.get(id)?.isLeader);
        if (leader !== undefined) return leader;
        if (performance.now() - t0 > 15_000) throw new Error(`no Raft leader among ${ids.join(', ')} within 15 s`);
        await pause(10);
      }
    };

    const leaderBefore = await report.step('start managers m1-m3 (Raft over TCP, LevelDB)', async (note) => {
      const started = await Promise.allSettled(
        managers.map(async (m) => {
          const storage = await LevelStorage.open(join(dir, m.id));
          const store = await RaftStore.open({ id: m.id, managers, stores: storage, electionTimeoutMs: 500, heartbeatIntervalMs: 50 }).catch(async (err: unknown) => {
            await storage.close();
            throw err;
          });
          raft.set(m.id, store);
          nodes.set(m.id, await startNode(m.id, 'manager', m.raft.host, store));
        }),
      );
      const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      const leader = await awaitLeader([...raft.keys()]);
      note(`LevelDB in ${dir}; Raft leader ${leader} (term ${raft.get(leader)!.node.status().term})`);
      for (const m of managers) note(`${m.id}: Raft ${m.raft.host}:${m.raft.port}, store :${m.store.port}, ${describePlane(nodes.get(m.id)!)}`);
      return leader;
    });

    const w1 = await report.step('start worker w1 (the managers\' store over TCP)', async (note) => {
      // A worker runs no replica: RemoteStore fails over between the managers' store servers.
      const node = await startNode('w1', 'worker', '127.0.0.14', new RemoteStore({ endpoints: managers.map((m) => m.store), requestTimeoutMs: 5000 }));
      nodes.set('w1', node);
      note(`w1: store via m1/m2/m3, ${describePlane(node)}`);
      return node;
    });

    await report.step('create encrypted network "demo" (on w1)', async (note) => {
      const info = await w1.createNetwork({ name: 'demo', encrypted: true, attachable: true });
      note(`VNI ${info.vni}, subnet ${info.subnet}, MTU ${info.mtu} (1500 - ${VXLAN_OVERHEAD_IPV4} VXLAN - ${ENCRYPTION_OVERHEAD} sealing)`);
    });

    await report.step('w1 before its first endpoint: nothing programmed', async (note) => {
      const programmed = (await w1.programmedState()).networks.map((n) => n.spec.name);
      note(`w1 data plane networks: [${programmed.join(', ')}] (lazy: a node programs only networks it has endpoints on)`);
    });

    // Endpoints on the three nodes that will survive the leader's crash.
    const [f1, f2] = managers.map((m) => m.id).filter((id) => id !== leaderBefore) as [string, string];
    const [a, b, c] = await report.step(`attach a on ${f1}, b on ${f2}, c on w1`, async (note) => {
      const eps = [await nodes.get(f1)!.attach('demo', { name: 'a' }), await nodes.get(f2)!.attach('demo', { name: 'b' }), await w1.attach('demo', { name: 'c' })] as const;
      note(eps.map((e) => `${e.name} ${e.ip}`).join(', '));
      const w1net = (await w1.programmedState()).networks.find((n) => n.spec.name === 'demo')!;
      note(`w1 now programs "demo": ${w1net.local.length} local + ${w1net.remote.length} remote endpoints, key generation ${w1net.spec.encryption?.sendGeneration}`);
      return eps;
    });

    await report.step('ping and UDP across nodes (sealed on the underlay)', async (note) => {
      for (const [x, y] of [[a, b], [b, c], [c, a]] as const) note(`ping ${x.name} -> ${y.name} (${y.ip}): reply in ${(await pingUntil(x, y.ip)).toFixed(2)} ms`);
      note(`udp  a -> c:7 "hello": echo "${await udpEcho(a, c, 'hello')}"`);
    });

    await report.step('service "api" with backends b and c: names and a VIP by DNS over the overlay, UDP balanced per flow', async (note) => {
      const svc = await w1.services.create({ name: 'api', networks: ['demo'] });
      const vip = svc.networks[0]!.vip!;
      for (const x of [b, c]) await w1.services.addBackend('api', x);
      const servers = [b, c].map((x) => whoAmI(x, 7070));
      try {
        // a's node programs the VIP once the service's records reach it (a watch event, milliseconds).
        const aNode = nodes.get(f1)!;
        for (let i = 0; i < 250; i++) {
          const net = (await aNode.programmedState()).networks.find((n) => n.spec.name === 'demo');
          if (net?.vips.some((v) => v.vip === vip && v.backends.length === 2)) break;
          await pause(20);
        }
        const resolved = await a.endpoint.resolve('api');
        const tasks = (await a.endpoint.resolve('tasks.api')).sort();
        note(`a asks its node's DNS (${a.endpoint.nameserver}) over the overlay: "api" -> ${resolved.join(', ')} (the VIP), "tasks.api" -> ${tasks.join(', ')}, "c" -> ${(await a.endpoint.resolve('c')).join(', ')}`);
        const answers = new Map<string, number>();
        let fromVip = 0;
        for (let i = 0; i < 8; i++) {
          const r = await askOnce(a, resolved[0]!, 7070);
          answers.set(r.text, (answers.get(r.text) ?? 0) + 1);
          if (r.from === vip) fromVip++;
        }
        note(`8 UDP flows a -> api:7070 answered by ${[...answers].sort().map(([n, k]) => `${n} x${k}`).join(', ')} (chosen per flow in a's own node; ${fromVip}/8 replies from the VIP)`);
        const at = await w1.dnsListener('demo');
        note(`host tools: dig @${at?.host} -p ${at?.port} api (w1's loopback DNS listener for "demo")`);
      } finally {
        for (const s of servers) s.close();
      }
      await w1.services.remove('api');
    });

    await report.step('inspectNetwork("demo") (excerpt)', async (note) => {
      const i = await nodes.get(f2)!.inspectNetwork('demo');
      note(`Name ${i.Name}, Driver ${i.Driver}, Subnet ${i.IPAM.Config[0]?.Subnet}, vxlanid ${i.Options['com.docker.network.driver.overlay.vxlanid_list']}, encrypted ${'encrypted' in i.Options}`);
      for (const e of Object.values(i.Containers).sort((x, y) => x.Name.localeCompare(y.Name))) note(`Containers: ${e.Name.padEnd(2)} ${e.IPv4Address.padEnd(14)} ${e.MacAddress} on ${e.Node}`);
      note(`Peers: ${i.Peers.map((p) => `${p.Name} ${p.IP}`).join(', ')}`);
    });

    const { leaderAfter, failover } = await report.step(`kill the Raft leader ${leaderBefore} under a ping loop a -> c`, async (note) => {
      const loop = pingLoop(a, c.ip);
      await pause(300);
      const t0 = performance.now();
      await nodes.get(leaderBefore)!.close(); // a crash: no detach, no leave; its records stay in the store
      const leader = await awaitLeader([f1, f2]);
      note(`${leaderBefore} stopped as in a crash (no detach, no leave): its Raft replica, store server and data plane are gone`);
      note(`new leader ${leader} (term ${raft.get(leader)!.node.status().term}) elected ${Math.round(performance.now() - t0)} ms after the crash`);
      await pause(300); // traffic keeps flowing under the new leader too
      const r = await loop.stop();
      note(`ping loop a -> c: ${describeLoop(r)}`);
      return { leaderAfter: leader, failover: r };
    });

    const { generations, rotation } = await report.step(`rotate the key of "demo" (on ${leaderAfter}) under a ping loop b -> c`, async (note) => {
      const generation = async (): Promise<number> => (await w1.programmedState()).networks.find((n) => n.spec.name === 'demo')!.spec.encryption!.sendGeneration;
      const before = await generation();
      const loop = pingLoop(b, c.ip);
      const after = await nodes.get(leaderAfter)!.rotateNetworkKey('demo'); // install, switch, retire: each acknowledged by a, b, c's nodes
      const r = await loop.stop();
      note(`w1 sends with key generation ${before} -> ${await generation()}`);
      note(`ping loop b -> c: ${describeLoop(r)}`);
      return { generations: [before, after] as [number, number], rotation: r };
    });

    await report.step('cleanup: close every node, remove the LevelDB directory', async (note) => {
      await cleanup();
      note(`${nodes.size} nodes closed, ${dir} removed`);
    });
    report.say(`Done in ${report.elapsedMs()} ms.`);
    return { lines: report.lines, leaderBefore, leaderAfter, failover, generations, rotation, dir };
  } finally {
    await cleanup(); // a no-op after a successful run
  }
}

if (require.main === module) {
  main((line) => console.log(line)).catch((err: unknown) => {
    console.error('demo failed:', err);
    process.exitCode = 1;
  });
}
