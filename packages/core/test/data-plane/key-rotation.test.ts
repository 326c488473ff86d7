/**
 * Key updates through setNetworkKeys: the pure plan, the control plane's
 * install → activate → retire rounds under continuous two-way pings (nothing
 * lost), a plane that jumps over missed rotations, and refusals.
 */
import { DataPlaneError, isWeftError } from '@weft/interface';
import { MemoryNetwork, type Endpoint } from '@weft/vxlan';
import { KeyTransitionError, planKeySteps, type UserspaceDataPlane } from '../../src/data-plane';
import { keys, net, pairOn, PlaneRegistry, secret, sleep, countersOf } from './helpers';

describe('planKeySteps', () => {
  it('maps one control-plane round to one phase', () => {
    expect(planKeySteps({ generations: [1], send: 1 }, { generations: [1, 2], send: 1 })).toEqual([{ phase: 'install', generation: 2 }]);
    expect(planKeySteps({ generations: [1, 2], send: 1 }, { generations: [1, 2], send: 2 })).toEqual([{ phase: 'activate', generation: 2 }]);
    expect(planKeySteps({ generations: [1, 2], send: 2 }, { generations: [2], send: 2 })).toEqual([{ phase: 'retire', generation: 1 }]);
    expect(planKeySteps({ generations: [2], send: 2 }, { generations: [2], send: 2 })).toEqual([]);
  });

  it('jumps over missed rotations in an order the key ring accepts', () => {
    expect(planKeySteps({ generations: [1], send: 1 }, { generations: [3], send: 3 })).toEqual([
      { phase: 'install', generation: 3 },
      { phase: 'activate', generation: 3 },
      { phase: 'retire', generation: 1 },
    ]);
    expect(planKeySteps({ generations: [1], send: 1 }, { generations: [2, 3], send: 2 })).toEqual([
      { phase: 'install', generation: 2 },
      { phase: 'install', generation: 3 },
      { phase: 'activate', generation: 2 },
      { phase: 'retire', generation: 1 },
    ]);
  });

  it('retires first when that frees the SPI byte a new generation needs', () => {
    expect(planKeySteps({ generations: [1, 2], send: 2 }, { generations: [2, 257], send: 2 })).toEqual([
      { phase: 'retire', generation: 1 },
      { phase: 'install', generation: 257 },
    ]);
  });

  it.each([
    ['an older send generation', { generations: [1, 2], send: 2 }, { generations: [1, 2], send: 1 }, /cannot go back/],
    ['a generation older than an installed one', { generations: [1, 3], send: 1 }, { generations: [1, 2, 3], send: 1 }, /only installs newer/],
    ['dropping a generation newer than the send one', { generations: [1, 2], send: 1 }, { generations: [1], send: 1 }, /not older than the send/],
    ['two live generations sharing the SPI byte', { generations: [1], send: 1 }, { generations: [1, 257], send: 1 }, /same low 8 bits/],
  ])('refuses %s', (_what, from, to, message) => {
    expect(() => planKeySteps(from, to, 'n1')).toThrow(KeyTransitionError);
    expect(() => planKeySteps(from, to, 'n1')).toThrow(message);
  });
});

/** Pings `from` → `to` one after another until stopped or `max` are done; counts outcomes. */
function pinger(from: Endpoint, to: Endpoint, max: number): { stop: () => Promise<{ ok: number; failed: string[] }> } {
  let running = true;
  const failed: string[] = [];
  let ok = 0;
  const done = (async () => {
    for (let i = 0; i < max && running; i++) {
      try {
        await from.ping(to.ip, { timeoutMs: 2000 }); // generous: a lost packet never answers, a slow machine only answers late
        ok++;
      } catch (err) {
        failed.push(`${i}: ${(err as Error).message}`);
      }
      await sleep(2);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return { ok, failed };
    },
  };
}

describe('UserspaceDataPlane key rotation', () => {
  const registry = new PlaneRegistry();
  let network: MemoryNetwork;
  let a: UserspaceDataPlane;
  let b: UserspaceDataPlane;
  const spec = net('sealed', 4097, { encryption: keys([1], 1) });

  beforeEach(async () => {
    network = new MemoryNetwork({ latencyMs: 1, jitterMs: 2, seed: 7 }); // packets in flight across every phase switch
    a = await registry.memory(network, 'node-a', '192.0.2.1');
    b = await registry.memory(network, 'node-b', '192.0.2.2');
  });
  afterEach(() => registry.closeAll());

  const both = async (encryption: ReturnType<typeof keys>): Promise<void> => {
    await a.setNetworkKeys('sealed', encryption);
    await sleep(15); // the other node follows later, as a control plane's acknowledged rounds would
    await b.setNetworkKeys('sealed', encryption);
    await sleep(15);
  };

  it('loses nothing under continuous pings through two install → activate → retire rotations', async () => {
    const { ea, eb } = await pairOn(spec, a, b, '10.9.1.2', '10.9.1.3');
    const ab = pinger(ea, eb, 2000);
    const ba = pinger(eb, ea, 2000);
    await sleep(15);
    for (const [old, next] of [
      [1, 2],
      [2, 3],
    ] as const) {
      await both(keys([old, next], old)); // install
      await both(keys([old, next], next)); // activate
      await sleep(20); // drain what is in flight under the old key
      await both(keys([next], next)); // retire
    }
    const [r1, r2] = [await ab.stop(), await ba.stop()];
    expect(r1.failed).toEqual([]);
    expect(r2.failed).toEqual([]);
    expect(r1.ok + r2.ok).toBeGreaterThan(20);
    for (const p of [a, b]) {
      const c = await countersOf(p);
      expect([c('esp.rxAuthFailed'), c('esp.rxUnknownSpi'), c('esp.rxReplayed'), c('esp.rxUnknownPeer'), c('demux.unclaimed')]).toEqual([0, 0, 0, 0, 0]);
      const programmed = (await p.programmed()).networks[0]!.spec.encryption!;
      expect(programmed.keys.map((k) => k.generation)).toEqual([3]);
      expect(programmed.keys[0]!.secret).toEqual(secret(3));
      expect(programmed.sendGeneration).toBe(3);
    }
  });

  it('the same test catches loss: retiring on one node before the other activated drops packets', async () => {
    const { ea, eb } = await pairOn(spec, a, b, '10.9.1.2', '10.9.1.3');
    await ea.ping(eb.ip, { timeoutMs: 2000 });
    await a.setNetworkKeys('sealed', keys([2], 2)); // a jumps alone: b still sends (and only accepts) generation 1
    await expect(ea.ping(eb.ip, { timeoutMs: 200 })).rejects.toMatchObject({ name: 'PingTimeoutError' });
    const cb = await countersOf(b);
    expect(cb('demux.unclaimed')).toBeGreaterThan(0); // b has no SA for a's generation-2 SPI
  });

  it('a plane that missed two rotations jumps from {1} to {3} and interoperates with one that went through every phase', async () => {
    const c = await registry.memory(network, 'node-c', '192.0.2.3');
    const { ea, eb: ec } = await pairOn(spec, a, c, '10.9.1.2', '10.9.1.4');
    await expect(ea.ping(ec.ip, { timeoutMs: 2000 })).resolves.toBeGreaterThanOrEqual(0);
    // a goes through every phase of two rotations; c is away (no traffic).
    for (const step of [keys([1, 2], 1), keys([1, 2], 2), keys([2], 2), keys([2, 3], 2), keys([2, 3], 3), keys([3], 3)]) await a.setNetworkKeys('sealed', step);
    await c.setNetworkKeys('sealed', keys([3], 3)); // one call
    expect((await c.programmed()).networks[0]!.spec.encryption).toEqual(keys([3], 3));
    await expect(ea.ping(ec.ip, { timeoutMs: 2000 })).resolves.toBeGreaterThanOrEqual(0);
    await expect(ec.ping(ea.ip, { timeoutMs: 2000 })).resolves.toBeGreaterThanOrEqual(0);
  });

  it('refuses impossible or misdirected key updates and changes nothing', async () => {
    await a.ensureNetwork(net('sealed', 4097, { encryption: keys([2, 3], 3) }));
    await a.ensureNetwork(net('plain', 4096));
    const before = await a.programmed();
    const cases: Array<[string, Parameters<UserspaceDataPlane['setNetworkKeys']>[1], string]> = [
      ['sealed', keys([2, 3], 2), 'ERR_KEY_TRANSITION'], // back to an older send generation
      ['sealed', { suite: 'aes-256-gcm', keys: [{ generation: 3, secret: secret(99) }], sendGeneration: 3 }, 'ERR_KEY_TRANSITION'], // a live generation's secret changed
      ['plain', keys([1], 1), 'ERR_KEY_TRANSITION'], // not an encrypted network
      ['nope', keys([1], 1), 'ERR_UNKNOWN_NETWORK'],
      ['sealed', keys([3], 4), 'ERR_INVALID_OPTIONS'], // send generation not among the keys
    ];
    for (const [id, enc, code] of cases) {
      const err = await a.setNetworkKeys(id, enc).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isWeftError(err, code)).toBe(true);
      if (code !== 'ERR_INVALID_OPTIONS') expect(err).toBeInstanceOf(DataPlaneError);
    }
    expect(await a.programmed()).toEqual(before);
  });
});
