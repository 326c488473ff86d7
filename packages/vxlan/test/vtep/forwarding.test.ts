import { parseIpv4 } from '@weft/interface';
import {
  DROP,
  FLOOD,
  Fdb,
  NeighbourTable,
  arp,
  arpRequestTarget,
  decidePortFrame,
  decideRemoteFrame,
  ethernet,
  type ForwardingView,
  type Port,
} from '../../src';

const LOCAL_MAC = '02:00:00:00:00:01';
const REMOTE_MAC = '02:00:00:00:00:02';
const port: Port = { mac: LOCAL_MAC, receive: () => undefined };
const remote = { host: '192.0.2.20', port: 4789 };

function view(over: Partial<ForwardingView> = {}): ForwardingView {
  const fdb = new Fdb(1000, 10);
  fdb.setStatic(LOCAL_MAC, { kind: 'local', port });
  fdb.setStatic(REMOTE_MAC, { kind: 'remote', address: remote });
  const neighbours = new NeighbourTable();
  neighbours.set('10.0.0.2', REMOTE_MAC);
  return { fdb, neighbours, mtu: 1450, arpSuppression: true, floodUnknownUnicast: true, ...over };
}

const frame = (dst: string, payloadBytes = 46, etherType = 0x0800, vlan = false): Uint8Array =>
  ethernet.encode({ dst, src: '02:00:00:00:00:99', etherType, ...(vlan ? { vlan: { pcp: 0, dei: false, vid: 7 } } : {}), payload: new Uint8Array(payloadBytes) });

const arpRequest = (targetIp: string): Uint8Array =>
  ethernet.encode({
    dst: 'ff:ff:ff:ff:ff:ff',
    src: '02:00:00:00:00:99',
    etherType: 0x0806,
    payload: arp.encode({ op: 'request', senderMac: '02:00:00:00:00:99', senderIp: '10.0.0.9', targetMac: '00:00:00:00:00:00', targetIp }),
  });

describe('decideRemoteFrame (frame from a remote VTEP)', () => {
  it('delivers to the local port owning the destination MAC', () => {
    expect(decideRemoteFrame(frame(LOCAL_MAC), view(), 0)).toEqual({ kind: 'local', port });
  });
  it('floods broadcast and multicast to local ports', () => {
    expect(decideRemoteFrame(frame('ff:ff:ff:ff:ff:ff'), view(), 0)).toBe(FLOOD);
    expect(decideRemoteFrame(frame('01:00:5e:00:00:01'), view(), 0)).toBe(FLOOD);
  });
  it('never forwards to another remote (split horizon) nor floods unknown unicast', () => {
    expect(decideRemoteFrame(frame(REMOTE_MAC), view(), 0)).toBe(DROP['no-fdb-entry']);
    expect(decideRemoteFrame(frame('02:00:00:00:00:77'), view(), 0)).toBe(DROP['no-fdb-entry']);
  });
  it('drops short frames as malformed, a truncated 802.1Q header too', () => {
    expect(decideRemoteFrame(new Uint8Array(13), view(), 0)).toBe(DROP['malformed-frame']);
    const tagged = frame(LOCAL_MAC, 0, 0x0800, true);
    expect(decideRemoteFrame(tagged.subarray(0, 17), view(), 0)).toBe(DROP['malformed-frame']);
    expect(decideRemoteFrame(tagged, view(), 0)).toEqual({ kind: 'local', port });
  });
  it('enforces the MTU on the payload after the (tagged) header', () => {
    expect(decideRemoteFrame(frame(LOCAL_MAC, 1450), view(), 0)).toEqual({ kind: 'local', port });
    expect(decideRemoteFrame(frame(LOCAL_MAC, 1451), view(), 0)).toBe(DROP.mtu);
    expect(decideRemoteFrame(frame(LOCAL_MAC, 1450, 0x0800, true), view(), 0)).toEqual({ kind: 'local', port });
    expect(decideRemoteFrame(frame(LOCAL_MAC, 1451, 0x0800, true), view(), 0)).toBe(DROP.mtu);
  });
});

describe('decidePortFrame (frame from a local port)', () => {
  it('sends known unicast to its remote VTEP', () => {
    expect(decidePortFrame(frame(REMOTE_MAC), view(), 0)).toEqual({ kind: 'remote', address: remote });
  });
  it('floods unknown unicast, or drops it when flooding is off', () => {
    expect(decidePortFrame(frame('02:00:00:00:00:77'), view(), 0)).toBe(FLOOD);
    expect(decidePortFrame(frame('02:00:00:00:00:77'), view({ floodUnknownUnicast: false }), 0)).toBe(DROP['no-fdb-entry']);
  });
  it('answers ARP for a known neighbour locally, floods the others', () => {
    const d = decidePortFrame(arpRequest('10.0.0.2'), view(), 0);
    expect(d).toMatchObject({ kind: 'arp-reply', neighbour: { ip: '10.0.0.2', mac: REMOTE_MAC } });
    expect(decidePortFrame(arpRequest('10.0.0.3'), view(), 0)).toBe(FLOOD);
    expect(decidePortFrame(arpRequest('10.0.0.2'), view({ arpSuppression: false }), 0)).toBe(FLOOD);
  });
  it('ignores an expired learned entry without mutating the FDB', () => {
    const v = view();
    v.fdb.learn(0x020000000077, remote, 0);
    expect(decidePortFrame(frame('02:00:00:00:00:77'), v, 1000)).toEqual({ kind: 'remote', address: remote });
    expect(decidePortFrame(frame('02:00:00:00:00:77'), v, 1001)).toBe(FLOOD);
    expect(v.fdb.size).toBe(3);
  });
});

describe('arpRequestTarget', () => {
  it('reads the target IP of a request and rejects replies and other EtherTypes', () => {
    expect(arpRequestTarget(arpRequest('10.1.2.3'), 14)).toBe(parseIpv4('10.1.2.3'));
    const reply = ethernet.encode({
      dst: REMOTE_MAC,
      src: LOCAL_MAC,
      etherType: 0x0806,
      payload: arp.encode({ op: 'reply', senderMac: LOCAL_MAC, senderIp: '10.0.0.1', targetMac: REMOTE_MAC, targetIp: '10.0.0.2' }),
    });
    expect(arpRequestTarget(reply, 14)).toBe(-1);
    expect(arpRequestTarget(frame('ff:ff:ff:ff:ff:ff'), 14)).toBe(-1);
    expect(arpRequestTarget(arpRequest('10.1.2.3').subarray(0, 41), 14)).toBe(-1);
  });
});
