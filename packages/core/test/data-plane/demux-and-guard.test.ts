/** The encrypted-port demultiplexer and the plain-port cleartext guard, on their own. */
import type { SocketAddress, Underlay } from '@weft/interface';
import { MemoryNetwork } from '@weft/vxlan';
import { CleartextGuard, EncryptedDemux, type Accepting } from '../../src/data-plane';
import { vxlanEcho } from './helpers';

class Owner implements Accepting {
  got: number[] = [];
  constructor(private readonly claims: (p: Uint8Array) => boolean) {}
  accepts(packet: Uint8Array): boolean {
    return this.claims(packet);
  }
}

describe('EncryptedDemux', () => {
  it('hands a packet to every network that accepts it, counts collisions and unclaimed packets, and forgets closed ports', async () => {
    const network = new MemoryNetwork({ autoDeliver: false });
    const shared = network.attach({ host: '192.0.2.1', port: 4790 });
    const sender = network.attach({ host: '192.0.2.2' });
    const demux = new EncryptedDemux(shared);
    const ports: Underlay[] = [];
    const attach = (claims: (p: Uint8Array) => boolean): Owner =>
      demux.attach((inner) => {
        const o = new Owner(claims);
        inner.onReceive((p) => o.got.push(p[0]!));
        ports.push(inner);
        return o;
      });
    const odd = attach((p) => p[0]! % 2 === 1);
    const three = attach((p) => p[0] === 3);
    for (const b of [1, 2, 3]) sender.send(Uint8Array.of(b), shared.local);
    network.flush();
    expect(odd.got).toEqual([1, 3]);
    expect(three.got).toEqual([3]);
    expect(demux.counters).toEqual({ rxPackets: 3, claimed: 2, unclaimed: 1, multiple: 1 });
    await ports[1]!.close();
    sender.send(Uint8Array.of(3), shared.local);
    network.flush();
    expect(three.got).toEqual([3]);
    expect(odd.got).toEqual([1, 3, 3]);
    expect(() => ports[1]!.send(Uint8Array.of(1), sender.local)).toThrow(/closed/);
    ports[0]!.send(Uint8Array.of(9), sender.local); // sends through the shared socket
    const seen: SocketAddress[] = [];
    sender.onReceive((_p, from) => seen.push(from));
    network.flush();
    expect(seen).toEqual([shared.local]);
    await demux.close();
    await sender.close();
  });
});

describe('CleartextGuard', () => {
  it('never sends, and never passes up, VXLAN for a fenced VNI; everything else passes', async () => {
    const network = new MemoryNetwork({ autoDeliver: false });
    const socket = network.attach({ host: '192.0.2.1', port: 4789 });
    const peer = network.attach({ host: '192.0.2.2', port: 4789 });
    const guard = new CleartextGuard(socket);
    const up: number[] = [];
    guard.onReceive((p) => up.push(p[6]!)); // low VNI byte
    const outside: number[] = [];
    peer.onReceive((p) => outside.push(p[6]!));
    guard.fence([0x1001]);
    guard.send(vxlanEcho(0x1001, '02:00:00:00:00:01', '10.0.0.1'), peer.local);
    guard.send(vxlanEcho(0x1002, '02:00:00:00:00:01', '10.0.0.1'), peer.local);
    peer.send(vxlanEcho(0x1001, '02:00:00:00:00:01', '10.0.0.1'), socket.local);
    peer.send(vxlanEcho(0x1002, '02:00:00:00:00:01', '10.0.0.1'), socket.local);
    peer.send(Uint8Array.of(1, 2, 3), socket.local); // not VXLAN at all: the VTEP's business
    network.flush();
    expect(outside).toEqual([0x02]);
    expect(up).toEqual([0x02, undefined]);
    expect(guard.counters).toEqual({ rxEncryptedVni: 1, txEncryptedVni: 1 });
    expect(guard.droppedFor(0x1001)).toBe(1);
    guard.fence([]);
    peer.send(vxlanEcho(0x1001, '02:00:00:00:00:01', '10.0.0.1'), socket.local);
    network.flush();
    expect(up).toEqual([0x02, undefined, 0x01]);
    await guard.close();
    await peer.close();
  });
});
