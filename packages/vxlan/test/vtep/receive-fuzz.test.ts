/**
 * Fuzzing the receive path: random bytes, truncated and bit-flipped real
 * packets. No exception escapes the VTEP or the endpoint, and every received
 * packet is either delivered or counted under exactly one drop reason.
 */
import fc from 'fast-check';
import {
  DROP_REASONS,
  Endpoint,
  Vtep,
  arp,
  ethernet,
  icmpv4,
  ipv4,
  udp,
  writeVxlanHeader,
  type DropReason,
  type Underlay,
  type SocketAddress,
  type VtepCounters,
} from '../../src';

const RX_REASONS: DropReason[] = ['bad-header', 'unknown-vni', 'malformed-frame', 'mtu', 'no-fdb-entry', 'no-local-port', 'port-error', 'closed'];

class InjectUnderlay implements Underlay {
  readonly local = { host: '192.0.2.1', port: 4789 };
  handler: ((p: Uint8Array, from: SocketAddress) => void) | undefined;
  sent = 0;
  send(): void {
    this.sent++;
  }
  onReceive(h: (p: Uint8Array, from: SocketAddress) => void): void {
    this.handler = h;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  inject(p: Uint8Array): void {
    this.handler!(p, { host: '192.0.2.9', port: 4789 });
  }
}

function rig(learning = false) {
  const underlay = new InjectUnderlay();
  const vtep = new Vtep({ underlay, learning, mtu: 1450 });
  const seg = vtep.addSegment(77, { flood: [{ host: '192.0.2.9', port: 4789 }] });
  const ep = new Endpoint({ mac: '02:00:00:00:77:01', ip: '10.77.0.1' }).attach(seg);
  const port = ep.bind(9999);
  port.on('message', () => undefined);
  return { underlay, vtep, seg, ep };
}

function checkInvariants(c: VtepCounters, injected: number): void {
  expect(c.rxPackets).toBe(injected);
  expect(c.rxDelivered + c.rxDropped).toBe(injected);
  expect(RX_REASONS.reduce((n, r) => n + c.drops[r], 0)).toBe(c.rxDropped);
  expect(c.drops['port-error']).toBe(0); // the endpoint never threw
  for (const r of DROP_REASONS) expect(c.drops[r]).toBeGreaterThanOrEqual(0);
}

function outer(vni: number, frame: Uint8Array): Uint8Array {
  const p = new Uint8Array(8 + frame.length);
  writeVxlanHeader(vni, p, 0);
  p.set(frame, 8);
  return p;
}

/** Real-shaped packets for VNI 77: ARP request for the endpoint, ICMP echo, UDP to a bound port. */
function seeds(): Uint8Array[] {
  const src = '02:00:00:00:77:09';
  const a = arp.encode({ op: 'request', senderMac: src, senderIp: '10.77.0.9', targetMac: '00:00:00:00:00:00', targetIp: '10.77.0.1' });
  const ip = (protocol: number, payload: Uint8Array) =>
    ipv4.encode({ tos: 0, id: 1, df: true, mf: false, fragmentOffset: 0, ttl: 64, protocol, src: '10.77.0.9', dst: '10.77.0.1', payload });
  const icmp = icmpv4.encode({ type: 8, code: 0, id: 1, seq: 1, payload: new Uint8Array(32).fill(7) });
  const u = udp.encode({ srcPort: 1234, dstPort: 9999, payload: new Uint8Array(100).fill(1) }, undefined, 0, { src: '10.77.0.9', dst: '10.77.0.1' });
  return [
    outer(77, ethernet.encode({ dst: 'ff:ff:ff:ff:ff:ff', src, etherType: 0x0806, payload: a })),
    outer(77, ethernet.encode({ dst: '02:00:00:00:77:01', src, etherType: 0x0800, payload: ip(1, icmp) })),
    outer(77, ethernet.encode({ dst: '02:00:00:00:77:01', src, etherType: 0x0800, payload: ip(17, u) })),
    outer(77, ethernet.encode({ dst: '02:00:00:00:77:01', src, vlan: { pcp: 0, dei: false, vid: 5 }, etherType: 0x0800, payload: ip(17, u) })),
  ];
}

describe('Vtep receive path fuzzing', () => {
  it('survives random bytes and counts every drop', async () => {
    const r = rig();
    let injected = 0;
    try {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 0, maxLength: 1600 }), (bytes) => {
          r.underlay.inject(bytes);
          injected++;
          checkInvariants(r.vtep.counters, injected);
        }),
        { numRuns: 1000, seed: 20261121 },
      );
    } finally {
      await r.ep.close();
      await r.vtep.close();
    }
  });

  it('survives random inner frames behind a valid header (VNI 77 and unknown VNIs), with learning on', async () => {
    const r = rig(true);
    let injected = 0;
    try {
      fc.assert(
        fc.property(fc.constantFrom(77, 77, 78, 0xffffff), fc.uint8Array({ minLength: 0, maxLength: 1500 }), fc.boolean(), (vni, frame, toMe) => {
          if (toMe && frame.length >= 6) frame.set([2, 0, 0, 0, 0x77, 1], 0);
          r.underlay.inject(outer(vni, frame));
          injected++;
          checkInvariants(r.vtep.counters, injected);
        }),
        { numRuns: 1000, seed: 7 },
      );
      expect(r.vtep.counters.drops['unknown-vni']).toBeGreaterThan(0);
    } finally {
      await r.ep.close();
      await r.vtep.close();
    }
  });

  it('survives every truncation and random bit flips of real packets', async () => {
    const r = rig(true);
    let injected = 0;
    try {
      for (const p of seeds()) {
        for (let len = 0; len <= p.length; len++) {
          r.underlay.inject(p.slice(0, len));
          injected++;
        }
      }
      checkInvariants(r.vtep.counters, injected);
      fc.assert(
        fc.property(fc.constantFrom(...seeds()), fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), (p, flips) => {
          const copy = p.slice();
          for (const f of flips) copy[f % copy.length]! ^= 1 << (f % 8);
          r.underlay.inject(copy);
          injected++;
          checkInvariants(r.vtep.counters, injected);
        }),
        { numRuns: 2000, seed: 42 },
      );
      // The untouched seeds were all delivered and answered (ARP reply, echo reply).
      expect(r.ep.counters.echoRequestsAnswered).toBeGreaterThan(0);
      expect(r.ep.counters.udpReceived).toBeGreaterThan(0);
    } finally {
      await r.ep.close();
      await r.vtep.close();
    }
  });
});
