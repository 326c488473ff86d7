import type { ProgrammedState, RemoteEndpointSpec } from '@weft/interface';
import { desiredState, type ClusterView } from '../../src/reconcile/desired-state';
import { ProgrammedMirror } from '../../src/reconcile/mirror';
import { planReconcile } from '../../src/reconcile/plan';
import type { EndpointRecord, KeysRecord, NetworkRecord, NodeRecord } from '../../src/records/schemas';

const node = (id: string, address: string): NodeRecord => ({
  id,
  role: 'worker',
  dataPlane: { kind: 'userspace', address, vxlanPort: 4789, encryptedPort: 4790, underlayMtu: 1500, epoch: '00000000000000a1' },
  labels: {},
  startedAt: '2026-01-01T00:00:00.000Z',
});
const network = (id: string, vni: number, encrypted = false): NetworkRecord => ({
  id,
  name: `net-${id}`,
  driver: 'overlay',
  scope: 'swarm',
  vni,
  subnet: '10.0.1.0/24',
  gateway: '10.0.1.1',
  mtu: 1450,
  encrypted,
  attachable: true,
  internal: false,
  ingress: false,
  labels: {},
  createdAt: '2026-01-01T00:00:00.000Z',
});
let seq = 0;
const endpoint = (networkId: string, nodeId: string, ip: string, id = `ep${++seq}`): EndpointRecord => ({
  id,
  networkId,
  name: id,
  aliases: [],
  ip,
  prefixLength: 24,
  mac: '02:42:0a:00:01:02',
  nodeId,
  requestId: `r-${id}`,
  createdAt: '2026-01-01T00:00:00.000Z',
});

function view(parts: { networks: NetworkRecord[]; nodes: NodeRecord[]; endpoints: EndpointRecord[]; me: string; keys?: KeysRecord[] }): ClusterView {
  const localEndpoints = new Map(parts.endpoints.filter((e) => e.nodeId === parts.me).map((e) => [e.id, e]));
  const active = new Set([...localEndpoints.values()].map((e) => e.networkId));
  const networkEndpoints = new Map<string, Map<string, EndpointRecord>>();
  for (const e of parts.endpoints) {
    if (!active.has(e.networkId)) continue;
    if (!networkEndpoints.has(e.networkId)) networkEndpoints.set(e.networkId, new Map());
    networkEndpoints.get(e.networkId)!.set(e.id, e);
  }
  return {
    networks: new Map(parts.networks.map((n) => [n.id, n])),
    nodes: new Map(parts.nodes.map((n) => [n.id, n])),
    localEndpoints,
    networkEndpoints,
    keys: new Map((parts.keys ?? []).map((k) => [k.networkId, k])),
  };
}

const nodes = [node('a', '127.0.0.1'), node('b', '127.0.0.2'), node('c', '127.0.0.3')];
const empty: ProgrammedState = { networks: [] };

describe('desiredState (lazy activation)', () => {
  it('has no network at all on a node with no local endpoint', () => {
    const v = view({ networks: [network('n1', 4096)], nodes, endpoints: [endpoint('n1', 'b', '10.0.1.2'), endpoint('n1', 'c', '10.0.1.3')], me: 'a' });
    expect(desiredState(v, 'a')).toEqual(empty);
  });

  it('holds local endpoints, every remote endpoint of the network, and one flood entry per remote node', () => {
    const eps = [endpoint('n1', 'a', '10.0.1.2'), endpoint('n1', 'b', '10.0.1.3'), endpoint('n1', 'b', '10.0.1.4'), endpoint('n1', 'c', '10.0.1.5')];
    const d = desiredState(view({ networks: [network('n1', 4096)], nodes, endpoints: eps, me: 'a' }), 'a');
    expect(d.networks).toHaveLength(1);
    const n = d.networks[0]!;
    expect(n.spec).toMatchObject({ id: 'n1', vni: 4096, mtu: 1450 });
    expect(n.local.map((l) => l.ip)).toEqual(['10.0.1.2']);
    expect(n.remote.map((r) => r.ip).sort()).toEqual(['10.0.1.3', '10.0.1.4', '10.0.1.5']);
    expect(n.flood.map((p) => p.id)).toEqual(['b', 'c']);
  });

  it('gives every remote endpoint of a node one peer object, the same in every pass while the node record is unchanged', () => {
    const eps = [endpoint('n1', 'a', '10.0.1.2'), endpoint('n1', 'b', '10.0.1.3'), endpoint('n1', 'b', '10.0.1.4'), endpoint('n1', 'c', '10.0.1.5')];
    const v = view({ networks: [network('n1', 4096)], nodes, endpoints: eps, me: 'a' });
    const n = desiredState(v, 'a').networks[0]!;
    const onB = n.remote.filter((r) => r.peer.id === 'b');
    expect(onB).toHaveLength(2);
    expect(onB[0]!.peer).toBe(onB[1]!.peer);
    expect(n.flood.find((p) => p.id === 'b')).toBe(onB[0]!.peer);
    expect(desiredState(v, 'a').networks[0]!.remote.find((r) => r.peer.id === 'b')!.peer).toBe(onB[0]!.peer);
    // A record changed in place (not the view's way, but possible for a caller's own ClusterView): new facts, new object.
    nodes[1]!.dataPlane.epoch = '00000000000000b2';
    try {
      const peer = desiredState(v, 'a').networks[0]!.remote.find((r) => r.peer.id === 'b')!.peer;
      expect(peer).toEqual({ id: 'b', address: '127.0.0.2', vxlanPort: 4789, encryptedPort: 4790, epoch: '00000000000000b2' });
      expect(onB[0]!.peer.epoch).toBe('00000000000000a1');
    } finally {
      nodes[1]!.dataPlane.epoch = '00000000000000a1';
    }
  });

  it('never programs an encrypted network without its keys (no cleartext by construction)', () => {
    const v = view({ networks: [network('n1', 4096, true)], nodes, endpoints: [endpoint('n1', 'a', '10.0.1.2')], me: 'a' });
    expect(desiredState(v, 'a')).toEqual(empty);
    const keys: KeysRecord = {
      networkId: 'n1',
      suite: 'aes-256-gcm',
      keys: [{ generation: 1, secret: Buffer.alloc(32, 7).toString('base64url') }],
      sendGeneration: 1,
      rotatedAtMs: 0,
    };
    const withKeys = desiredState(view({ networks: [network('n1', 4096, true)], nodes, endpoints: [endpoint('n1', 'a', '10.0.1.2')], me: 'a', keys: [keys] }), 'a');
    expect(withKeys.networks[0]!.spec.encryption).toMatchObject({ suite: 'aes-256-gcm', sendGeneration: 1 });
    expect(withKeys.networks[0]!.spec.encryption!.keys[0]!.secret).toEqual(new Uint8Array(32).fill(7));
  });
});

describe('planReconcile', () => {
  const base = [endpoint('n1', 'a', '10.0.1.2', 'l1'), endpoint('n1', 'b', '10.0.1.3', 'r1'), endpoint('n1', 'c', '10.0.1.4', 'r2')];
  const want = desiredState(view({ networks: [network('n1', 4096)], nodes, endpoints: base, me: 'a' }), 'a');

  it('programs a network from nothing with one call per record', () => {
    const ops = planReconcile(want, empty);
    expect(ops.map((o) => o.op)).toEqual(['ensureNetwork', 'addLocalEndpoint', 'addRemoteEndpoint', 'addRemoteEndpoint']);
  });

  it('makes zero calls when programmed equals desired', () => {
    const mirror = new ProgrammedMirror();
    for (const op of planReconcile(want, empty)) mirror.apply(op);
    expect(mirror.state()).toEqual(want);
    expect(planReconcile(want, mirror.state())).toEqual([]);
  });

  it('makes one call per changed record: a detach, a re-attach of the same address on another node', () => {
    const mirror = new ProgrammedMirror();
    for (const op of planReconcile(want, empty)) mirror.apply(op);
    // r1 (10.0.1.3 on b) detached; the same address re-attached on c as r3.
    const next = [base[0]!, base[2]!, endpoint('n1', 'c', '10.0.1.3', 'r3')];
    const want2 = desiredState(view({ networks: [network('n1', 4096)], nodes, endpoints: next, me: 'a' }), 'a');
    const ops = planReconcile(want2, mirror.state());
    expect(ops).toEqual([
      { op: 'removeRemoteEndpoint', networkId: 'n1', endpointId: 'r1' },
      { op: 'addRemoteEndpoint', networkId: 'n1', endpoint: expect.objectContaining({ id: 'r3', ip: '10.0.1.3', peer: expect.objectContaining({ id: 'c' }) }) as RemoteEndpointSpec },
    ]);
    for (const op of ops) mirror.apply(op);
    expect(mirror.state().networks[0]!.flood.map((p) => p.id)).toEqual(['c']);
    expect(planReconcile(want2, mirror.state())).toEqual([]);
  });

  it('keeps one peer object per node in the mirror after a read-back that copied it per endpoint', () => {
    const mirror = new ProgrammedMirror();
    const copied: ProgrammedState = {
      networks: want.networks.map((n) => ({ ...n, remote: [...n.remote, { ...n.remote[0]!, id: 'r9', ip: '10.0.1.9' }].map((r) => ({ ...r, peer: { ...r.peer } })) })),
    };
    mirror.reset(copied);
    const remote = mirror.state().networks[0]!.remote;
    const onB = remote.filter((r) => r.peer.id === 'b');
    expect(onB.map((r) => r.id)).toEqual(['r1', 'r9']);
    expect(onB[0]!.peer).toBe(onB[1]!.peer);
    expect(mirror.state()).toEqual(copied);
  });

  it('removes the whole network in one call when the last local endpoint goes', () => {
    const mirror = new ProgrammedMirror();
    for (const op of planReconcile(want, empty)) mirror.apply(op);
    const want2 = desiredState(view({ networks: [network('n1', 4096)], nodes, endpoints: base.slice(1), me: 'a' }), 'a');
    expect(planReconcile(want2, mirror.state())).toEqual([{ op: 'removeNetwork', networkId: 'n1' }]);
  });

  it('replaces a remote endpoint whose node moved to another underlay address', () => {
    const mirror = new ProgrammedMirror();
    for (const op of planReconcile(want, empty)) mirror.apply(op);
    const moved = [node('a', '127.0.0.1'), node('b', '127.0.0.9'), node('c', '127.0.0.3')];
    const want2 = desiredState(view({ networks: [network('n1', 4096)], nodes: moved, endpoints: base, me: 'a' }), 'a');
    const ops = planReconcile(want2, mirror.state());
    expect(ops).toHaveLength(1);
    expect(ops[0]).toMatchObject({ op: 'addRemoteEndpoint', endpoint: { id: 'r1', peer: { address: '127.0.0.9' } } });
  });

  it('changes keys with one setNetworkKeys call', () => {
    const keys = (send: number, gens: number[]): KeysRecord => ({
      networkId: 'n1',
      suite: 'aes-256-gcm',
      keys: gens.map((g) => ({ generation: g, secret: Buffer.alloc(32, g).toString('base64url') })),
      sendGeneration: send,
      rotatedAtMs: 0,
    });
    const at = (k: KeysRecord): ProgrammedState =>
      desiredState(view({ networks: [network('n1', 4096, true)], nodes, endpoints: base, me: 'a', keys: [k] }), 'a');
    const mirror = new ProgrammedMirror();
    for (const op of planReconcile(at(keys(1, [1])), empty)) mirror.apply(op);
    const ops = planReconcile(at(keys(1, [1, 2])), mirror.state());
    expect(ops.map((o) => o.op)).toEqual(['setNetworkKeys']);
  });
});

describe('planEndpoints (a change to a few endpoint records, without diffing the network)', () => {
  const { planEndpoints } = require('../../src/reconcile/plan') as typeof import('../../src/reconcile/plan');
  const { desiredEndpoint } = require('../../src/reconcile/desired-state') as typeof import('../../src/reconcile/desired-state');
  const base = [endpoint('n1', 'a', '10.0.1.2', 'l1'), endpoint('n1', 'b', '10.0.1.3', 'r1'), endpoint('n1', 'c', '10.0.1.4', 'r2')];
  const programmed = (): ProgrammedMirror => {
    const m = new ProgrammedMirror();
    for (const op of planReconcile(desiredState(view({ networks: [network('n1', 4096)], nodes, endpoints: base, me: 'a' }), 'a'), empty)) m.apply(op);
    return m;
  };
  /** The targeted plan for `changed` and the whole-network diff, both from the view of `next` against the programmed base. */
  const both = (next: EndpointRecord[], changed: string[]) => {
    const m = programmed();
    const v = view({ networks: [network('n1', 4096)], nodes, endpoints: next, me: 'a' });
    return { targeted: planEndpoints('n1', changed, (id) => desiredEndpoint(v, 'a', 'n1', id), m), whole: planReconcile(desiredState(v, 'a'), m.state()) };
  };

  it('plans exactly what the whole-network diff plans for the changed remote records, and nothing for the rest', () => {
    const { targeted, whole } = both([base[0]!, base[2]!, endpoint('n1', 'c', '10.0.1.5', 'r3')], ['r1', 'r3']);
    expect(targeted).toEqual(whole);
    expect(both(base, ['r2']).targeted).toEqual([]);
  });

  it('plans local endpoints too: one added, one removed while another stays, one replaced by a remote endpoint on its address', () => {
    const l2 = endpoint('n1', 'a', '10.0.1.6', 'l2');
    const added = both([...base, l2], ['l2']);
    expect(added.targeted).toEqual([{ op: 'addLocalEndpoint', networkId: 'n1', endpoint: expect.objectContaining({ id: 'l2', ip: '10.0.1.6' }) }]);
    expect(added.targeted).toEqual(added.whole);
    // l1 goes and a remote endpoint takes its address: the removal comes first.
    const moved = both([l2, base[1]!, base[2]!, endpoint('n1', 'c', '10.0.1.2', 'r4')], ['l1', 'l2', 'r4']);
    expect(moved.targeted?.map((o) => o.op)).toEqual(['removeLocalEndpoint', 'addLocalEndpoint', 'addRemoteEndpoint']);
  });

  it('gives up (undefined) when the network is not programmed, or would be left with no local endpoint', () => {
    const m = programmed();
    expect(planEndpoints('n2', ['x'], () => undefined, m)).toBeUndefined();
    expect(planEndpoints('n1', ['l1'], () => undefined, m)).toBeUndefined();
  });

  it('an own endpoint whose node-endpoints entry has not arrived is not programmed (as in desiredState)', () => {
    const half = endpoint('n1', 'a', '10.0.1.7', 'l3');
    const v = view({ networks: [network('n1', 4096)], nodes, endpoints: base, me: 'a' });
    (v.networkEndpoints.get('n1') as Map<string, EndpointRecord>).set(half.id, half);
    expect(desiredEndpoint(v, 'a', 'n1', 'l3')).toBeUndefined();
    expect(desiredState(v, 'a').networks[0]!.local.map((l) => l.id)).toEqual(['l1']);
  });
});
