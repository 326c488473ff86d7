import { execFile } from 'node:child_process';
import { promises as dnsPromises } from 'node:dns';
import { promisify } from 'node:util';
import type { EndpointUdpSocket } from '@weft/vxlan';
import type { Attachment, WeftNode } from '../../src';
import { LocalCluster } from '../../src/testing';
import { commandCapability, describeWith } from '../../../../test-support/capabilities';
import { ep, eventually } from '../support/traffic';

const run = promisify(execFile);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** `dig` against a loopback listener; returns its stdout. Bounded: dig's own timeouts and a process timeout. */
async function dig(at: { host: string; port: number }, ...args: string[]): Promise<string> {
  const { stdout } = await run('dig', [`@${at.host}`, '-p', String(at.port), '+time=2', '+tries=1', ...args], { timeout: 10_000 });
  return stdout;
}

/** The VIPs programmed on a node's data plane for a network, as `ip:state` lists. */
async function vipBackends(node: WeftNode, networkId: string): Promise<string[]> {
  const net = (await node.programmedState()).networks.find((n) => n.spec.id === networkId);
  return net?.vips.flatMap((v) => v.backends.map((b) => `${b.ip}:${b.state}`)) ?? [];
}

/** A UDP "who are you" server on a backend: replies to every datagram with the backend's name. */
function whoami(a: Attachment, port: number): EndpointUdpSocket {
  const s = ep(a).bind(port);
  s.on('message', (_d: Uint8Array, r: { address: string; port: number }) => s.send(text(a.name), r.address, r.port));
  return s;
}

/** One client flow: a socket with a fixed source port; `ask` sends one datagram to ip:port and resolves with the reply and its source. */
class Flow {
  private waiting: ((v: { name: string; from: string }) => void) | undefined;
  constructor(readonly socket: EndpointUdpSocket) {
    socket.on('message', (d: Uint8Array, r: { address: string }) => {
      const w = this.waiting;
      this.waiting = undefined;
      w?.({ name: new TextDecoder().decode(d), from: r.address });
    });
  }
  /** Sends until a reply comes (at most 5 tries of 400 ms). */
  async ask(ip: string, port: number): Promise<{ name: string; from: string }> {
    for (let i = 0; i < 5; i++) {
      const got = new Promise<{ name: string; from: string } | undefined>((resolve) => {
        const t = setTimeout(() => {
          this.waiting = undefined;
          resolve(undefined);
        }, 400);
        this.waiting = (v) => {
          clearTimeout(t);
          resolve(v);
        };
      });
      this.socket.send(text('who'), ip, port);
      const r = await got;
      if (r !== undefined) return r;
    }
    throw new Error(`no reply from ${ip}:${port} to flow ${this.socket.port}`);
  }
}

/**
 * Service discovery across a whole cluster (3 managers + 2 workers in one
 * process, memory underlay): names resolved by real DNS queries over the
 * overlay to the asker's own node, loopback listeners for host tools, VIPs
 * balanced client-side, and answers that follow the records within 1 s.
 */
describe('discovery in a cluster', () => {
  let cluster: LocalCluster;
  beforeAll(async () => {
    cluster = await LocalCluster.start({
      managers: 3,
      workers: 2,
      control: 'memory',
      underlay: 'memory',
      storage: 'memory',
      node: { heartbeatIntervalMs: 50, orphanGraceMs: 800 },
    });
    await cluster.node('m1').createNetwork({ name: 'alpha', attachable: true });
    await cluster.node('m1').createNetwork({ name: 'beta', attachable: true });
  }, 60_000);
  afterAll(async () => {
    await cluster?.close();
  });

  describe('names and scoping', () => {
    const eps: Record<string, Attachment> = {};
    beforeAll(async () => {
      eps.web = await cluster.node('w1').attach('alpha', { name: 'web', aliases: ['www'] });
      eps.db = await cluster.node('w2').attach('beta', { name: 'db' });
      eps.sharedA = await cluster.node('m1').attach('alpha', { name: 'shared' });
      eps.sharedB = await cluster.node('m2').attach('beta', { name: 'shared' });
      eps.clientA = await cluster.node('m3').attach('alpha', { name: 'client-a' });
      eps.clientB = await cluster.node('w1').attach('beta', { name: 'client-b' });
      for (const id of cluster.nodes.keys()) await cluster.node(id).reconciled();
    }, 30_000);
    afterAll(async () => {
      for (const a of Object.values(eps)) await a.detach();
    });

    it('an endpoint resolves names and aliases of its own network by a real query over the overlay, case-insensitively', async () => {
      const before = (await cluster.node('m3').dataPlane.counters())['dns.queries'] ?? 0;
      const served = cluster.node('m3').dns.counters().answeredLocal;
      expect(await ep(eps.clientA!).resolve('web')).toEqual([eps.web!.ip]);
      expect(await ep(eps.clientA!).resolve('WWW.')).toEqual([eps.web!.ip]);
      // The query left the endpoint as a UDP datagram to the network's DNS address and its own node answered it.
      expect((await cluster.node('m3').dataPlane.counters())['dns.queries']).toBeGreaterThanOrEqual(before + 2);
      expect(cluster.node('m3').dns.counters().answeredLocal).toBeGreaterThanOrEqual(served + 2);
      expect(ep(eps.clientA!).nameserver).toBe((await cluster.node('m1').inspectNetwork('alpha')).IPAM.Config[0]?.AuxiliaryAddresses?.dns);
    });

    it('a name on two networks resolves to the address on the asker’s network; a name only on the other network does not resolve', async () => {
      expect(await ep(eps.clientA!).resolve('shared')).toEqual([eps.sharedA!.ip]);
      expect(await ep(eps.clientB!).resolve('shared')).toEqual([eps.sharedB!.ip]);
      // Not internal to alpha: with no upstream configured the answer is SERVFAIL, at once.
      await expect(ep(eps.clientA!).resolve('db')).rejects.toMatchObject({ name: 'DnsServerFailureError' });
      await expect(ep(eps.clientB!).resolve('web')).rejects.toMatchObject({ name: 'DnsServerFailureError' });
      expect(await ep(eps.clientB!).resolve('db')).toEqual([eps.db!.ip]);
    });

    it('ping and UDP by name', async () => {
      expect(await ep(eps.clientA!).ping('web', { timeoutMs: 2000 })).toBeGreaterThanOrEqual(0);
      const server = ep(eps.web!).bind(7100);
      const client = ep(eps.clientA!).bind(0);
      try {
        const got = new Promise<string>((resolve) => server.on('message', (_d: Uint8Array, r: { address: string }) => resolve(r.address)));
        await client.sendTo(text('hello'), 'www', 7100);
        expect(await got).toBe(eps.clientA!.ip);
      } finally {
        server.close();
        client.close();
      }
    });

    it('node’s dns.Resolver on a node’s loopback listener gets that network’s names, PTRs and nothing of the other network', async () => {
      const at = await cluster.node('m3').dnsListener('alpha');
      expect(at).toBeDefined();
      // m3 is not active on beta: no listener for it.
      expect(await cluster.node('m3').dnsListener('beta')).toBeUndefined();
      const r = new dnsPromises.Resolver({ timeout: 2000, tries: 1 });
      r.setServers([`${at!.host}:${at!.port}`]);
      expect(await r.resolve4('web')).toEqual([eps.web!.ip]);
      expect(await r.resolve4('Shared')).toEqual([eps.sharedA!.ip]);
      await expect(r.resolve6('web')).rejects.toMatchObject({ code: 'ENODATA' });
      expect(await r.reverse(eps.web!.ip)).toEqual(['web']);
      await expect(r.resolve4('db')).rejects.toMatchObject({ code: 'ESERVFAIL' });
    });

    describeWith(commandCapability('dig', ['-v']), 'dig', () => {
      it('dig over UDP and TCP, and PTR, against the loopback listener', async () => {
        const at = (await cluster.node('w1').dnsListener('alpha'))!;
        expect((await dig(at, 'web', 'A', '+short')).trim()).toBe(eps.web!.ip);
        expect((await dig(at, 'www', 'A', '+tcp', '+short')).trim()).toBe(eps.web!.ip);
        expect((await dig(at, '-x', eps.sharedA!.ip, '+short')).trim()).toBe('shared.');
        const full = await dig(at, 'web', 'AAAA');
        expect(full).toContain('status: NOERROR');
        expect(full).toContain('ANSWER: 0');
        // w1 is on beta too, with its own listener: there `web` is not a name, `db` is.
        const beta = (await cluster.node('w1').dnsListener('beta'))!;
        expect(beta.port).not.toBe(at.port);
        expect(await dig(beta, 'web', 'A')).toContain('status: SERVFAIL');
        expect((await dig(beta, 'db', 'A', '+short')).trim()).toBe(eps.db!.ip);
      });
    });
  });

  it('a service: its name resolves to the VIP, tasks.<service> to the backends; flows from several clients spread over 3 backends on 3 nodes, stick, move only off a removed backend, and a new backend gets only new flows', async () => {
    const m1 = cluster.node('m1');
    const backends = [
      await cluster.node('w1').attach('alpha', { name: 'api-1' }),
      await cluster.node('w2').attach('alpha', { name: 'api-2' }),
      await cluster.node('m1').attach('alpha', { name: 'api-3' }),
    ];
    const clients = [await cluster.node('m2').attach('alpha', { name: 'c1' }), await cluster.node('m3').attach('alpha', { name: 'c2' })];
    const servers = backends.map((b) => whoami(b, 5000));
    const flows: Flow[] = [];
    let extra: Attachment | undefined;
    try {
      const svc = await m1.services.create({ name: 'api', networks: ['alpha'] });
      const vip = svc.networks[0]!.vip!;
      for (const b of backends) await m1.services.addBackend('api', b);
      for (const c of ['m2', 'm3']) await eventually(async () => (await vipBackends(cluster.node(c), svc.networks[0]!.networkId)).length === 3, `VIP on ${c}`);

      expect(await ep(clients[0]!).resolve('api')).toEqual([vip]);
      expect((await ep(clients[1]!).resolve('tasks.api')).sort()).toEqual(backends.map((b) => b.ip).sort());

      for (const c of clients) for (let i = 0; i < 12; i++) flows.push(new Flow(ep(c).bind(0)));
      const pinned = new Map<Flow, string>();
      for (const f of flows) {
        const first = await f.ask(vip, 5000);
        expect(first.from).toBe(vip); // replies come back from the VIP
        for (let i = 0; i < 2; i++) expect((await f.ask(vip, 5000)).name).toBe(first.name); // the flow sticks
        pinned.set(f, first.name);
      }
      expect(new Set(pinned.values())).toEqual(new Set(['api-1', 'api-2', 'api-3']));

      // Remove api-1: only its flows move, on their next packet.
      await m1.services.removeBackend('api', backends[0]!);
      for (const c of ['m2', 'm3']) await eventually(async () => (await vipBackends(cluster.node(c), svc.networks[0]!.networkId)).length === 2, `removal on ${c}`, 1000);
      for (const [f, name] of pinned) {
        const now = (await f.ask(vip, 5000)).name;
        if (name === 'api-1') expect(now).not.toBe('api-1');
        else expect(now).toBe(name);
        pinned.set(f, now);
      }

      // A new backend: no existing flow moves; new flows reach it.
      extra = await cluster.node('w2').attach('alpha', { name: 'api-4' });
      servers.push(whoami(extra, 5000));
      await m1.services.addBackend('api', extra);
      for (const c of ['m2', 'm3']) await eventually(async () => (await vipBackends(cluster.node(c), svc.networks[0]!.networkId)).length === 3, `api-4 on ${c}`);
      for (const [f, name] of pinned) expect((await f.ask(vip, 5000)).name).toBe(name);
      const fresh: Flow[] = [];
      for (const c of clients) for (let i = 0; i < 12; i++) fresh.push(new Flow(ep(c).bind(0)));
      flows.push(...fresh);
      const freshNames = new Set<string>();
      for (const f of fresh) freshNames.add((await f.ask(vip, 5000)).name);
      expect(freshNames.has('api-4')).toBe(true);
      expect(freshNames.has('api-1')).toBe(false);

      // Draining api-2: its flows finish there, no new flow goes to it, and DNS leaves it out.
      await m1.services.drainBackend('api', backends[1]!);
      await eventually(async () => (await vipBackends(cluster.node('m2'), svc.networks[0]!.networkId)).includes(`${backends[1]!.ip}:draining`), 'draining on m2');
      await eventually(async () => (await vipBackends(cluster.node('m3'), svc.networks[0]!.networkId)).includes(`${backends[1]!.ip}:draining`), 'draining on m3');
      for (const [f, name] of pinned) expect((await f.ask(vip, 5000)).name).toBe(name);
      const later: Flow[] = [];
      for (const c of clients) for (let i = 0; i < 12; i++) later.push(new Flow(ep(c).bind(0)));
      flows.push(...later);
      for (const f of later) expect((await f.ask(vip, 5000)).name).not.toBe('api-2');
      expect((await ep(clients[0]!).resolve('tasks.api')).sort()).toEqual([backends[2]!.ip, extra.ip].sort());
      // The balancer really did the work on the clients' nodes.
      expect((await cluster.node('m2').dataPlane.counters())['lb.rewrittenOut']).toBeGreaterThan(0);
      expect((await cluster.node('m2').dataPlane.counters())['lb.moved']).toBeGreaterThan(0);
      await m1.services.remove('api');
    } finally {
      for (const f of flows) f.socket.close();
      for (const s of servers) s.close();
      for (const a of [...backends, ...clients, ...(extra ? [extra] : [])]) await a.detach().catch(() => undefined);
    }
  }, 60_000);

  describe('a dnsrr service with 60 backends', () => {
    let tasks: Attachment[] = [];
    let client: Attachment;
    let want: string[];
    beforeAll(async () => {
      const m1 = cluster.node('m1');
      const ids = ['m1', 'm2', 'm3', 'w1', 'w2'];
      tasks = await Promise.all(Array.from({ length: 60 }, (_, i) => cluster.node(ids[i % ids.length]!).attach('alpha', { name: `big-${i}` })));
      client = await cluster.node('m2').attach('alpha', { name: 'big-client' });
      await m1.services.create({ name: 'big', networks: ['alpha'], mode: 'dnsrr' });
      await Promise.all(tasks.map((t) => m1.services.addBackend('big', t)));
      want = tasks.map((t) => t.ip).sort();
    }, 30_000);
    afterAll(async () => {
      await cluster.node('m1').services.remove('big').catch(() => undefined);
      await Promise.all([...tasks, client].map((t) => t?.detach().catch(() => undefined)));
    });

    it('tasks.<service> and the dnsrr name come whole over the overlay (the endpoint asks with EDNS0)', async () => {
      await eventually(async () => (await ep(client).resolve('tasks.big').catch(() => [])).length === 60, 'all 60 over the overlay');
      expect((await ep(client).resolve('tasks.big')).sort()).toEqual(want);
      expect((await ep(client).resolve('big')).sort()).toEqual(want);
    });

    describeWith(commandCapability('dig', ['-v']), 'dig', () => {
      it('over plain UDP the answer is truncated (TC); dig retries over TCP and gets all 60', async () => {
        const at = (await cluster.node('m2').dnsListener('alpha'))!;
        await eventually(async () => (await dig(at, 'tasks.big', 'A', '+tcp', '+short')).trim().split('\n').length === 60, 'all 60 on m2');
        expect(await dig(at, 'tasks.big', 'A', '+noedns', '+ignore', '+notcp')).toMatch(/flags:[^;]*\btc\b/);
        expect((await dig(at, 'tasks.big', 'A', '+noedns', '+short')).trim().split('\n').sort()).toEqual(want);
      });
    });
  });

  it('freshness: after a detach, a backend removal and a node’s death, within 1 s no node answers the old address, under continuous querying from several nodes', async () => {
    const m1 = cluster.node('m1');
    const victim = await cluster.node('w1').attach('alpha', { name: 'victim', aliases: ['victim-alias'] });
    const rr = [await cluster.node('m1').attach('alpha', { name: 'rr-1' }), await cluster.node('m2').attach('alpha', { name: 'rr-2' })];
    const onDoomed = await cluster.node('w2').attach('alpha', { name: 'doomed' });
    const askers = [await cluster.node('m1').attach('alpha', { name: 'q1' }), await cluster.node('m2').attach('alpha', { name: 'q2' }), await cluster.node('m3').attach('alpha', { name: 'q3' })];
    await m1.services.create({ name: 'rr', networks: ['alpha'], mode: 'dnsrr' });
    for (const b of [...rr, onDoomed]) await m1.services.addBackend('rr', b);
    for (const id of ['m1', 'm2', 'm3']) await cluster.node(id).reconciled();

    /** Every answer seen: when it arrived and which addresses it held. */
    const seen: { at: number; ips: string[] }[] = [];
    let stop = false;
    const names = ['victim', 'victim-alias', 'rr', 'tasks.rr', 'doomed'];
    const deadline = Date.now() + 40_000;
    const loops = askers.map(async (a) => {
      for (let i = 0; i < 200_000 && !stop && Date.now() < deadline; i++) {
        for (const n of names) {
          const ips = await ep(a)
            .resolve(n, { timeoutMs: 300, attempts: 1 })
            .catch(() => [] as string[]);
          seen.push({ at: Date.now(), ips });
        }
        // The memory underlay delivers in microtasks: let timers and watches run between rounds.
        await new Promise((r) => setTimeout(r, 2));
      }
    });
    const lastSeen = (ip: string): number => {
      let last = 0;
      for (const s of seen) if (s.at > last && s.ips.includes(ip)) last = s.at;
      return last;
    };
    const answeredAfter = (t: number): number => {
      let n = 0;
      for (const s of seen) if (s.at > t && s.ips.length > 0) n++;
      return n;
    };
    try {
      await eventually(() => lastSeen(victim.ip) > 0 && lastSeen(onDoomed.ip) > 0 && lastSeen(rr[0]!.ip) > 0, 'every name answered once');

      const detachAt = Date.now();
      await victim.detach();
      const removeAt = Date.now();
      await m1.services.removeBackend('rr', rr[0]!);
      await cluster.crash('w2');
      // The node's death: managers reclaim its endpoints once its heartbeat stops for orphanGraceMs; measured from when the record is gone.
      const doomedKey = `weft/endpoints/${onDoomed.networkId}/${onDoomed.id}`;
      await eventually(async () => (await m1.store.get(doomedKey)) === undefined, 'the dead node’s endpoint reclaimed', 15_000);
      const reclaimedAt = Date.now();
      await new Promise((r) => setTimeout(r, 1500));
      stop = true;
      await Promise.all(loops);

      expect(answeredAfter(reclaimedAt + 1000)).toBeGreaterThan(10); // the queries kept coming
      expect(lastSeen(victim.ip)).toBeLessThanOrEqual(detachAt + 1000);
      expect(lastSeen(rr[0]!.ip)).toBeLessThanOrEqual(removeAt + 1000);
      expect(lastSeen(onDoomed.ip)).toBeLessThanOrEqual(reclaimedAt + 1000);
      // The rest is still answered.
      expect(lastSeen(rr[1]!.ip)).toBeGreaterThan(reclaimedAt + 1000);
    } finally {
      stop = true;
      await Promise.all(loops);
      await m1.services.remove('rr').catch(() => undefined);
      for (const a of [...rr, ...askers]) await a.detach().catch(() => undefined);
    }
  }, 60_000);
});
