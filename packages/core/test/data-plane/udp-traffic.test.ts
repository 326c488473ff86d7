/**
 * Two planes on real UDP sockets on loopback (127.0.0.2 and 127.0.0.3, ports
 * picked by the kernel): plain and encrypted networks carry pings and UDP;
 * cleartext VXLAN injected from a raw node:dgram socket, and a frame sealed
 * under one network's key naming another VNI, are dropped and counted;
 * closing releases every socket.
 */
import { createSocket, type Socket } from 'node:dgram';
import { KeyRing, SecurityAssociation } from '@weft/crypto';
import type { UserspaceDataPlane } from '../../src/data-plane';
import { keys, local, net, pairOn, PlaneRegistry, secret, udpExchange, until, vxlanEcho, countersOf } from './helpers';

const handles = (kind: string): number => process.getActiveResourcesInfo().filter((r) => r === kind).length;

async function rawSocket(host: string): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, host, () => resolve());
  });
  return s;
}

const sendRaw = (s: Socket, packet: Uint8Array, host: string, port: number): Promise<void> =>
  new Promise((resolve, reject) => s.send(packet, port, host, (err) => (err ? reject(err) : resolve())));

describe('UserspaceDataPlane over UDP on loopback', () => {
  const registry = new PlaneRegistry();
  const raws: Socket[] = [];
  let a: UserspaceDataPlane;
  let b: UserspaceDataPlane;

  beforeEach(async () => {
    a = await registry.open({ nodeId: 'node-a', address: '127.0.0.2', vxlanPort: 0, encryptedPort: 0 });
    b = await registry.open({ nodeId: 'node-b', address: '127.0.0.3', vxlanPort: 0, encryptedPort: 0 });
  });
  afterEach(async () => {
    for (const s of raws.splice(0)) await new Promise<void>((r) => s.close(() => r()));
    await registry.closeAll();
  });

  it('binds two real sockets per plane and advertises their ports', () => {
    expect(a.info).toMatchObject({ kind: 'userspace', address: '127.0.0.2', underlayMtu: 1500 });
    expect(a.info.vxlanPort).toBeGreaterThan(0);
    expect(a.info.encryptedPort).toBeGreaterThan(0);
    expect(a.info.encryptedPort).not.toBe(a.info.vxlanPort);
  });

  it('plain network: ping and UDP both ways', async () => {
    const { ea, eb } = await pairOn(net('plain', 4096), a, b, '10.9.0.2', '10.9.0.3');
    expect(await ea.ping(eb.ip, { timeoutMs: 2000 })).toBeGreaterThanOrEqual(0);
    expect(await eb.ping(ea.ip, { timeoutMs: 2000 })).toBeGreaterThanOrEqual(0);
    const msg = new TextEncoder().encode('plain over loopback');
    expect(await udpExchange(ea, eb, msg)).toEqual(msg);
    expect(await udpExchange(eb, ea, msg)).toEqual(msg);
    expect((await countersOf(b))('underlay.plain.received')).toBeGreaterThanOrEqual(3);
  });

  it('encrypted network: ping and UDP both ways, all of it through the encrypted port', async () => {
    const { ea, eb } = await pairOn(net('sealed', 4097, { encryption: keys([1], 1) }), a, b, '10.9.1.2', '10.9.1.3');
    expect(await ea.ping(eb.ip, { timeoutMs: 2000 })).toBeGreaterThanOrEqual(0);
    expect(await eb.ping(ea.ip, { timeoutMs: 2000 })).toBeGreaterThanOrEqual(0);
    const msg = new TextEncoder().encode('sealed over loopback');
    expect(await udpExchange(ea, eb, msg)).toEqual(msg);
    expect(await udpExchange(eb, ea, msg)).toEqual(msg);
    const [ca, cb] = [await countersOf(a), await countersOf(b)];
    expect(ca('underlay.plain.sent')).toBe(0);
    expect(ca('underlay.encrypted.sent')).toBe(3);
    expect(cb('esp.rxPackets')).toBe(3);
    expect(cb('demux.unclaimed')).toBe(0);
  });

  it('cleartext VXLAN from a raw socket for the encrypted VNI is dropped and counted on a plane with one endpoint', async () => {
    await a.ensureNetwork(net('sealed', 4097, { encryption: keys([1], 1) }));
    await a.ensureNetwork(net('plain', 4096));
    const sealedEp = (await a.addLocalEndpoint('sealed', local('s1', '10.9.1.2'))).handle!;
    const plainEp = (await a.addLocalEndpoint('plain', local('p1', '10.9.0.2'))).handle!;
    const raw = await rawSocket('127.0.0.9');
    raws.push(raw);
    await sendRaw(raw, vxlanEcho(4097, sealedEp.mac, sealedEp.ip), '127.0.0.2', a.info.vxlanPort);
    await sendRaw(raw, vxlanEcho(4096, plainEp.mac, plainEp.ip), '127.0.0.2', a.info.vxlanPort); // control
    await sendRaw(raw, vxlanEcho(4097, sealedEp.mac, sealedEp.ip), '127.0.0.2', a.info.encryptedPort);
    await until(() => plainEp.counters.echoRequestsAnswered === 1, 'the control frame');
    await until(async () => (await countersOf(a))('demux.unclaimed') === 1, 'the cleartext on the encrypted port');
    const c = await countersOf(a);
    expect(c('guard.rxEncryptedVni')).toBe(1);
    expect(c('net.sealed.cleartextDropped')).toBe(1);
    expect(c('plain.drops.unknown-vni')).toBe(0); // the guard took it before the VTEP
    expect(sealedEp.counters.rxFrames).toBe(0);
  });

  it('a frame sealed under one network key but naming another VNI is dropped and counted', async () => {
    const red = await pairOn(net('red', 4101, { encryption: keys([1], 1) }), a, b, '10.9.0.2', '10.9.0.3');
    await a.ensureNetwork(net('blue', 4102, { encryption: { suite: 'chacha20-poly1305', keys: [{ generation: 5, secret: secret(77) }], sendGeneration: 5 } }));
    const blue = (await a.addLocalEndpoint('blue', local('blue-a', '10.9.0.5'))).handle!;
    await red.ea.ping(red.eb.ip, { timeoutMs: 2000 }); // real traffic first
    // node-b holds red's key; it forges from another port of its host (accepted by SPI, as a per-flow source port would be).
    const raw = await rawSocket('127.0.0.3');
    raws.push(raw);
    const k = new KeyRing({ secret: secret(1), generation: 1 }).pairKey(1, 'node-b', 'node-a', b.info.epoch, a.info.epoch);
    const sa = new SecurityAssociation({ spi: k.spi, suite: k.suite, key: k.key, salt: k.salt, nextSequence: 1_000 });
    await sendRaw(raw, sa.seal(vxlanEcho(4102, blue.mac, blue.ip)), '127.0.0.2', a.info.encryptedPort);
    await sendRaw(raw, sa.seal(vxlanEcho(4101, red.ea.mac, red.ea.ip)), '127.0.0.2', a.info.encryptedPort); // control
    await until(() => red.ea.counters.echoRequestsAnswered === 1, 'the control frame');
    await until(async () => (await countersOf(a))('net.red.vtep.drops.unknown-vni') === 1, 'the forged frame to be counted');
    expect(blue.counters.rxFrames).toBe(0);
    expect((await countersOf(a))('net.blue.esp.rxPackets')).toBe(0);
  });

  it('with per-flow source ports (sourcePorts), sealed traffic from pool ports is still recognised by SPI', async () => {
    const c = await registry.open({ nodeId: 'node-c', address: '127.0.0.4', vxlanPort: 0, encryptedPort: 0, sourcePorts: 2 });
    const d = await registry.open({ nodeId: 'node-d', address: '127.0.0.5', vxlanPort: 0, encryptedPort: 0, sourcePorts: 2 });
    const s = await pairOn(net('sealed', 4097, { encryption: keys([1], 1) }), c, d, '10.9.1.2', '10.9.1.3');
    const p = await pairOn(net('plain', 4096), c, d, '10.9.0.2', '10.9.0.3');
    for (const { ea, eb } of [s, p]) {
      await expect(ea.ping(eb.ip, { timeoutMs: 2000 })).resolves.toBeGreaterThanOrEqual(0);
      await expect(eb.ping(ea.ip, { timeoutMs: 2000 })).resolves.toBeGreaterThanOrEqual(0);
    }
    const cd = await countersOf(d);
    expect(cd('esp.rxPackets')).toBe(2);
    expect(cd('esp.rxUnknownPeer') + cd('demux.unclaimed')).toBe(0);
  });

  it('close() releases both sockets of both planes, leaves no timer, and is idempotent', async () => {
    const timers = handles('Timeout');
    const { ea, eb } = await pairOn(net('sealed', 4097, { encryption: keys([1], 1) }), a, b, '10.9.1.2', '10.9.1.3');
    await ea.ping(eb.ip, { timeoutMs: 2000 });
    const pending = ea.ping('10.9.1.77', { timeoutMs: 5000 }).catch((e: Error) => e.name); // unresolvable: ARP retries and a ping timer
    expect(handles('Timeout')).toBeGreaterThan(timers); // so the check below can fail
    const before = handles('UDPWrap');
    await Promise.all([a.close(), a.close(), b.close()]);
    await b.close();
    expect(before - handles('UDPWrap')).toBe(4);
    expect(await pending).toBe('EndpointClosedError');
    // Our timers (the 5 s ping, ARP retries) would hold for seconds; allow the runner's own a moment.
    await until(() => handles('Timeout') <= timers, 'no timer of ours left', 1000);
    await expect(a.ensureNetwork(net('x', 5000))).rejects.toMatchObject({ name: 'DataPlaneClosedError', code: 'ERR_DATA_PLANE_CLOSED' });
    await expect(a.removeNetwork('sealed')).resolves.toBeUndefined(); // removal stays idempotent
    expect((await a.programmed()).networks).toEqual([]);
  });
});
