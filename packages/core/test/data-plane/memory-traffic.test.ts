/**
 * Two planes over an in-process vxlan MemoryNetwork: endpoints on plain and
 * encrypted networks ping each other and exchange UDP; cleartext VXLAN for
 * an encrypted VNI, and a packet sealed under one network's key naming
 * another network's VNI, are dropped and counted.
 */
import { SecurityAssociation, KeyRing } from '@weft/crypto';
import { MemoryNetwork, type Endpoint } from '@weft/vxlan';
import type { UserspaceDataPlane } from '../../src/data-plane';
import { keys, local, net, pairOn, PlaneRegistry, secret, udpExchange, until, vxlanEcho, countersOf } from './helpers';

describe('UserspaceDataPlane over a MemoryNetwork', () => {
  const registry = new PlaneRegistry();
  let network: MemoryNetwork;
  let a: UserspaceDataPlane;
  let b: UserspaceDataPlane;

  beforeEach(async () => {
    network = new MemoryNetwork();
    a = await registry.memory(network, 'node-a', '192.0.2.1');
    b = await registry.memory(network, 'node-b', '192.0.2.2');
  });
  afterEach(() => registry.closeAll());

  it('plain network: endpoints ping each other and exchange UDP both ways', async () => {
    const { ea, eb } = await pairOn(net('plain', 4096), a, b, '10.9.0.2', '10.9.0.3');
    expect(await ea.ping(eb.ip, { timeoutMs: 2000 })).toBeGreaterThanOrEqual(0);
    expect(await eb.ping(ea.ip, { timeoutMs: 2000 })).toBeGreaterThanOrEqual(0);
    const msg = new TextEncoder().encode('over the plain overlay');
    expect(await udpExchange(ea, eb, msg)).toEqual(msg);
    expect(await udpExchange(eb, ea, msg)).toEqual(msg);
    const ca = await countersOf(a);
    expect(ca('plain.txPackets')).toBeGreaterThan(0);
    expect(ca('encrypted.txPackets')).toBe(0);
    expect(ca('esp.txPackets')).toBe(0);
  });

  it('encrypted network: traffic is sealed on the encrypted port and never leaves in cleartext', async () => {
    const plainBefore = (await countersOf(a))('plain.txPackets');
    const { ea, eb } = await pairOn(net('sealed', 4097, { mtu: 1418, encryption: keys([1], 1) }), a, b, '10.9.1.2', '10.9.1.3');
    expect(await ea.ping(eb.ip, { timeoutMs: 2000 })).toBeGreaterThanOrEqual(0);
    expect(await eb.ping(ea.ip, { timeoutMs: 2000 })).toBeGreaterThanOrEqual(0);
    const msg = new TextEncoder().encode('sealed');
    expect(await udpExchange(ea, eb, msg)).toEqual(msg);
    expect(await udpExchange(eb, ea, msg)).toEqual(msg);
    const ca = await countersOf(a);
    const cb = await countersOf(b);
    expect(ca('plain.txPackets')).toBe(plainBefore); // nothing of the sealed network left on the plain port
    expect(ca('guard.txEncryptedVni')).toBe(0);
    expect(ca('esp.txPackets')).toBe(3); // A's echo request, its echo reply, its datagram (ARP is answered locally)
    expect(cb('esp.rxPackets')).toBe(ca('esp.txPackets'));
    expect(cb('demux.unclaimed')).toBe(0);
    expect(cb('esp.rxAuthFailed') + cb('esp.rxUnknownSpi') + cb('esp.rxReplayed')).toBe(0);
  });

  it('a plain and two encrypted networks side by side share the two ports', async () => {
    const p = await pairOn(net('p', 4096), a, b, '10.9.0.2', '10.9.0.3');
    const s = await pairOn(net('s', 4097, { encryption: keys([1], 1) }), a, b, '10.9.0.2', '10.9.0.3'); // same IPs: separate networks
    const t = await pairOn(net('t', 4098, { encryption: { suite: 'xsalsa20-poly1305', keys: [{ generation: 1, secret: secret(9) }], sendGeneration: 1 } }), a, b, '10.9.0.2', '10.9.0.3');
    await Promise.all([p, s, t].map(({ ea, eb }) => ea.ping(eb.ip, { timeoutMs: 2000 })));
    for (const { eb } of [p, s, t]) expect(eb.counters.echoRequestsAnswered).toBe(1);
    const cb = await countersOf(b);
    expect(cb('demux.claimed')).toBe(2); // the two sealed echo requests, each to its own network
    expect(cb('net.s.esp.rxPackets')).toBe(1);
    expect(cb('net.t.esp.rxPackets')).toBe(1);
    expect(cb('demux.multiple') + cb('demux.unclaimed') + cb('esp.rxAuthFailed')).toBe(0);
  });

  it('drops and counts cleartext VXLAN for an encrypted VNI on the plain port, on a plane with a single endpoint', async () => {
    // Node A alone: one endpoint on the encrypted network, one on a plain one (the control).
    await a.ensureNetwork(net('sealed', 4097, { encryption: keys([1], 1) }));
    await a.ensureNetwork(net('plain', 4096));
    const sealedEp = (await a.addLocalEndpoint('sealed', local('s1', '10.9.1.2'))).handle!;
    const plainEp = (await a.addLocalEndpoint('plain', local('p1', '10.9.0.2'))).handle!;
    const attacker = network.attach({ host: '198.51.100.7' });
    const plainPort = { host: a.info.address, port: a.info.vxlanPort };
    try {
      attacker.send(vxlanEcho(4097, sealedEp.mac, sealedEp.ip), plainPort);
      attacker.send(vxlanEcho(4096, plainEp.mac, plainEp.ip), plainPort);
      attacker.send(vxlanEcho(4097, sealedEp.mac, sealedEp.ip), { host: a.info.address, port: a.info.encryptedPort });
      await until(() => plainEp.counters.echoRequestsAnswered === 1, 'the plain control frame');
      await until(async () => (await countersOf(a))('demux.unclaimed') === 1, 'the cleartext on the encrypted port');
    } finally {
      await attacker.close();
    }
    const c = await countersOf(a);
    expect(c('guard.rxEncryptedVni')).toBe(1);
    expect(c('net.sealed.cleartextDropped')).toBe(1);
    expect(c('plain.rxPackets')).toBe(1); // only the control reached the plain VTEP
    expect(sealedEp.counters.rxFrames).toBe(0);
  });

  it('drops and counts a packet sealed under one network key that names another VNI', async () => {
    // Networks red (encrypted), blue (encrypted) and green (plain) on A; a member of red (node-x) forges.
    await a.ensureNetwork(net('red', 4101, { encryption: keys([1], 1) }));
    await a.ensureNetwork(net('blue', 4102, { encryption: { suite: 'aes-256-gcm', keys: [{ generation: 1, secret: secret(200) }], sendGeneration: 1 } }));
    await a.ensureNetwork(net('green', 4103));
    const red = (await a.addLocalEndpoint('red', local('r1', '10.9.0.2'))).handle!;
    const blue = (await a.addLocalEndpoint('blue', local('b1', '10.9.0.3'))).handle!;
    const green = (await a.addLocalEndpoint('green', local('g1', '10.9.0.4'))).handle!;
    const forger = network.attach({ host: '192.0.2.66' });
    const x = local('x1', '10.9.0.66');
    const xEpoch = '0123456789abcdef';
    await a.addRemoteEndpoint('red', { id: 'x1', ip: x.ip, mac: x.mac, peer: { id: 'node-x', address: '192.0.2.66', vxlanPort: 4789, encryptedPort: forger.local.port, epoch: xEpoch } });
    const pair = new KeyRing({ secret: secret(1), generation: 1 }).pairKey(1, 'node-x', 'node-a', xEpoch, a.info.epoch);
    const sa = new SecurityAssociation({ spi: pair.spi, suite: pair.suite, key: pair.key, salt: pair.salt });
    const to = { host: a.info.address, port: a.info.encryptedPort };
    const send = (target: Endpoint, vni: number): void => forger.send(sa.seal(vxlanEcho(vni, target.mac, target.ip)), to);
    try {
      send(red, 4101); // control: red's own VNI is delivered
      send(blue, 4102);
      send(green, 4103);
      await until(() => red.counters.echoRequestsAnswered === 1, 'the control frame');
      await until(async () => (await countersOf(a))('net.red.vtep.drops.unknown-vni') === 2, 'the forged frames to be counted');
    } finally {
      await forger.close();
    }
    const c = await countersOf(a);
    expect(c('net.red.esp.rxPackets')).toBe(3); // all three opened under red's key...
    expect(c('net.red.vtep.rxDelivered')).toBe(1); // ...only red's own VNI went anywhere
    expect(c('encrypted.drops.unknown-vni')).toBe(2);
    expect(c('net.blue.esp.rxPackets')).toBe(0);
    expect(blue.counters.rxFrames).toBe(0);
    expect(green.counters.rxFrames).toBe(0);
  });
});
