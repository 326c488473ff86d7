import { EncryptedUnderlay, KeyRing } from '../src';
import { EPOCH_A, EPOCH_B } from './support/epochs';
import { TestUdpUnderlay } from './support/udp-underlay';

describe('EncryptedUnderlay over real UDP on loopback', () => {
  const open: EncryptedUnderlay[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((u) => u.close()));
  });

  it('exchanges sealed datagrams through node:dgram sockets, across a rotation', async () => {
    const [ua, ub] = await Promise.all([TestUdpUnderlay.bind(), TestUdpUnderlay.bind()]);
    const ringA = new KeyRing({ secret: new Uint8Array(32).fill(9) });
    const ringB = new KeyRing({ secret: new Uint8Array(32).fill(9) });
    const a = new EncryptedUnderlay({ underlay: ua, keyRing: ringA, localId: 'a', localEpoch: EPOCH_A });
    const b = new EncryptedUnderlay({ underlay: ub, keyRing: ringB, localId: 'b', localEpoch: EPOCH_B });
    open.push(a, b);
    a.addPeer('b', ub.local, EPOCH_B);
    b.addPeer('a', ua.local, EPOCH_A);
    const got: number[] = [];
    b.onReceive((p) => got.push(Buffer.from(p).readUInt16BE(0)));
    const send = (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const p = Buffer.alloc(200);
        p.writeUInt16BE(i, 0);
        a.send(p, ub.local);
      }
    };
    const waitFor = async (n: number) => {
      for (let i = 0; i < 500 && got.length < n; i++) await new Promise((r) => setTimeout(r, 5));
    };
    send(0, 100);
    await waitFor(100);
    for (const r of [ringA, ringB]) r.install(1, new Uint8Array(32).fill(10));
    for (const r of [ringA, ringB]) r.activate(1);
    send(100, 200);
    await waitFor(200);
    for (const r of [ringA, ringB]) r.retire(0);
    send(200, 250);
    await waitFor(250);
    expect(got.sort((x, y) => x - y)).toEqual([...Array(250).keys()]);
    expect(b.counters).toMatchObject({ rxPackets: 250, rxAuthFailed: 0, rxReplayed: 0, rxUnknownSpi: 0, rxMalformed: 0 });
    expect(ua.errors + ub.errors).toBe(0);
  });
});
