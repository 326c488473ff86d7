/**
 * Data-plane epochs: a peer that restarts (a new plane, the same address, a
 * new epoch) is refused until core re-adds its endpoints with the new epoch,
 * then interoperates; traffic of its previous run stays refused. A network
 * taken down and programmed again on the same plane (same epoch, same keys)
 * never repeats a (key, IV) pair.
 */
import type { SocketAddress, Underlay } from '@weft/interface';
import { MemoryNetwork } from '@weft/vxlan';
import { DEFAULT_ENCRYPTED_PORT, memoryUnderlayFactory, type UnderlayFactory, type UserspaceDataPlane } from '../../src/data-plane';
import { planReconcile } from '../../src/reconcile/plan';
import { apply, countersOf, keys, local, net, pairOn, PlaneRegistry, remoteOf, until } from './helpers';

/** A factory whose encrypted-port sockets record every datagram they send, and can send raw bytes (as an attacker on that host). */
function recording(factory: UnderlayFactory): { factory: UnderlayFactory; sent: Uint8Array[]; raw: (packet: Uint8Array, to: SocketAddress) => void } {
  const sent: Uint8Array[] = [];
  let sealed: Underlay | undefined;
  return {
    sent,
    raw: (packet, to) => sealed!.send(Uint8Array.from(packet), to),
    factory: async (at) => {
      const u = await factory(at);
      if (at.port !== DEFAULT_ENCRYPTED_PORT) return u;
      sealed = u;
      const send = u.send.bind(u);
      return Object.assign(u, {
        send: (packet: Uint8Array, to: SocketAddress, flowHash?: number) => {
          sent.push(Uint8Array.from(packet));
          send(packet, to, flowHash);
        },
      });
    },
  };
}

/** SPI ‖ IV of a sealed packet: the key and the nonce's varying part. */
const nonceOf = (p: Uint8Array): string => Buffer.from(p.subarray(0, 4)).toString('hex') + '/' + Buffer.from(p.subarray(8, 16)).toString('hex');

describe('UserspaceDataPlane epochs', () => {
  const registry = new PlaneRegistry();
  afterEach(() => registry.closeAll());
  const spec = net('sealed', 4097, { encryption: keys([1], 1) });

  it('a peer restarting with a new epoch is refused until core re-adds its endpoints, then interoperates; its old traffic stays refused', async () => {
    const network = new MemoryNetwork();
    const a = await registry.open({ nodeId: 'node-a', address: '192.0.2.1', underlay: memoryUnderlayFactory(network) });
    const first = recording(memoryUnderlayFactory(network));
    const b = await registry.open({ nodeId: 'node-b', address: '192.0.2.2', underlay: first.factory });
    const { ea, eb, la, lb } = await pairOn(spec, a, b, '10.9.1.2', '10.9.1.3');
    await expect(ea.ping(eb.ip, { timeoutMs: 2000 })).resolves.toBeGreaterThanOrEqual(0);
    await expect(eb.ping(ea.ip, { timeoutMs: 2000 })).resolves.toBeGreaterThanOrEqual(0);
    const oldTraffic = [...first.sent];
    expect(oldTraffic.length).toBeGreaterThan(0);

    // node-b restarts: a new plane on the same address and ports, with a new epoch, programmed from the records.
    await b.close();
    const second = recording(memoryUnderlayFactory(network));
    const b2 = await registry.open({ nodeId: 'node-b', address: '192.0.2.2', underlay: second.factory });
    expect(b2.info.epoch).not.toBe(b.info.epoch);
    expect(b2.info.encryptedPort).toBe(b.info.encryptedPort);
    await b2.ensureNetwork(spec);
    const eb2 = (await b2.addLocalEndpoint(spec.id, lb)).handle!;
    await b2.addRemoteEndpoint(spec.id, remoteOf(a, la));

    // node-a still knows node-b's old epoch: nothing gets through either way, and nothing is misread.
    const before = await countersOf(a);
    await expect(eb2.ping(ea.ip, { timeoutMs: 300 })).rejects.toMatchObject({ name: 'PingTimeoutError' });
    await expect(ea.ping(eb2.ip, { timeoutMs: 300 })).rejects.toMatchObject({ name: 'PingTimeoutError' });
    const refused = await countersOf(a);
    expect(refused('demux.unclaimed')).toBeGreaterThan(before('demux.unclaimed')); // b2's SPIs are not node-a's to open
    expect(refused('esp.rxPackets')).toBe(before('esp.rxPackets'));
    expect((await countersOf(b2))('demux.unclaimed')).toBeGreaterThan(0); // and a's, sealed for b's old epoch, not b2's

    // Core's loop on node-a: the node record now carries the new epoch, so the remote endpoint differs and is re-added.
    const have = await a.programmed();
    const want = { networks: [{ ...have.networks[0]!, remote: [remoteOf(b2, lb)], flood: [remoteOf(b2, lb).peer] }] };
    const ops = planReconcile(want, have);
    expect(ops).toEqual([{ op: 'addRemoteEndpoint', networkId: spec.id, endpoint: remoteOf(b2, lb) }]);
    await apply(a, ops);
    expect(await a.programmed()).toEqual(want); // programmed() reports the peer's epoch as registered
    expect(planReconcile(want, await a.programmed())).toEqual([]);
    await expect(ea.ping(eb2.ip, { timeoutMs: 2000 })).resolves.toBeGreaterThanOrEqual(0);
    await expect(eb2.ping(ea.ip, { timeoutMs: 2000 })).resolves.toBeGreaterThanOrEqual(0);

    // The previous run's packets, replayed from node-b's address, are refused: their keys are gone.
    const settled = await countersOf(a);
    for (const p of oldTraffic) second.raw(p, { host: a.info.address, port: a.info.encryptedPort });
    await until(async () => (await countersOf(a))('demux.unclaimed') === settled('demux.unclaimed') + oldTraffic.length, 'the replayed packets to be dropped');
    const after = await countersOf(a);
    expect(after('esp.rxPackets')).toBe(settled('esp.rxPackets'));
    expect(ea.counters.echoRequestsAnswered).toBe(2); // one before the restart, one after
  });

  it('a network taken down and programmed again on both nodes resumes its sequence numbers: no (key, IV) pair repeats', async () => {
    const network = new MemoryNetwork();
    const rec = recording(memoryUnderlayFactory(network));
    const a = await registry.open({ nodeId: 'node-a', address: '192.0.2.1', underlay: rec.factory });
    const b = await registry.open({ nodeId: 'node-b', address: '192.0.2.2', underlay: memoryUnderlayFactory(network) });
    for (let round = 0; round < 3; round++) {
      const { ea, eb, la } = await pairOn(spec, a, b, '10.9.1.2', '10.9.1.3');
      await expect(ea.ping(eb.ip, { timeoutMs: 2000 })).resolves.toBeGreaterThanOrEqual(0);
      await expect(eb.ping(ea.ip, { timeoutMs: 2000 })).resolves.toBeGreaterThanOrEqual(0);
      // node-a's last endpoint leaves (lazy deactivation: the network goes); node-b drops node-a's endpoint.
      await a.removeNetwork(spec.id);
      await b.removeRemoteEndpoint(spec.id, la.id);
      await b.removeLocalEndpoint(spec.id, `${spec.id}-b`);
    }
    const packets = rec.sent;
    expect(packets.length).toBe(6); // per round: a's echo request and its reply to b's
    expect(new Set(packets.map((p) => nonceOf(p).slice(0, 8))).size).toBe(1); // one key: same epochs, same secret
    expect(new Set(packets.map(nonceOf)).size).toBe(packets.length); // every IV once
    const c = await countersOf(b);
    expect(c('esp.rxReplayed') + c('esp.rxAuthFailed') + c('demux.unclaimed')).toBe(0);
  });

  it('refuses to program a network again with a send generation it already retired (its sequence numbers are forgotten)', async () => {
    const network = new MemoryNetwork();
    const a = await registry.open({ nodeId: 'node-a', address: '192.0.2.1', underlay: memoryUnderlayFactory(network) });
    await a.ensureNetwork(spec);
    await a.addLocalEndpoint(spec.id, local('e1', '10.9.1.2'));
    for (const step of [keys([1, 2], 1), keys([1, 2], 2), keys([2], 2)]) await a.setNetworkKeys(spec.id, step);
    await a.removeNetwork(spec.id);
    await expect(a.ensureNetwork(spec)).rejects.toMatchObject({ name: 'KeyTransitionError', code: 'ERR_KEY_TRANSITION', message: expect.stringMatching(/retired earlier/) });
    expect((await a.programmed()).networks).toEqual([]);
    await a.ensureNetwork(net('sealed', 4097, { encryption: keys([2], 2) })); // the live generation is fine
    await a.removeNetwork(spec.id);
    await a.ensureNetwork(net('sealed', 4097, { encryption: keys([1], 1, 'chacha20-poly1305') })); // another suite: other keys, other marks
  });
});
