/**
 * RaftKv over real RaftNodes (memory transport and stores, 3 voters): writes
 * through the log, linearizable reads on any member, watches on a follower.
 */
import { cmp, jsonOf, kv, StoreClosedError, textOf, type Store, type WatchEvent } from '@weft/interface';
import { KvStore, RaftKv } from '../../src/kv';
import { RaftNode } from '../../src/node';
import { memoryStores } from '../../src/storage';
import { Prng } from '../../src/testing';
import { MemoryTransportNetwork } from '../../src/transport';

const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Member {
  id: string;
  node: RaftNode;
  kv: RaftKv;
}

async function startCluster(ids: string[]): Promise<Member[]> {
  const network = new MemoryTransportNetwork({ seed: 11 });
  const members: Member[] = [];
  for (const [i, id] of ids.entries()) {
    const store = new KvStore();
    const node = await RaftNode.create({
      id,
      peers: ids,
      stateMachine: store,
      transport: network.transport(id),
      stores: memoryStores(),
      electionTimeoutMs: 150,
      heartbeatIntervalMs: 15,
      requestTimeoutMs: 3000,
      random: new Prng(100 + i).asFunction(),
    });
    node.start();
    members.push({ id, node, kv: new RaftKv(node, store) });
  }
  return members;
}

async function waitForLeader(members: Member[]): Promise<Member> {
  for (let i = 0; i < 500; i++) {
    const leaders = members.filter((m) => m.node.isLeader);
    if (leaders.length === 1 && members.every((m) => m.node.leader === leaders[0]?.id)) return leaders[0] as Member;
    await sleep(10);
  }
  throw new Error('no leader elected within 5 s');
}

describe('RaftKv over RaftNode', () => {
  let members: Member[] = [];

  beforeAll(async () => {
    members = await startCluster(['a', 'b', 'c']);
  });

  afterAll(async () => {
    for (const m of members) await m.node.close();
  });

  it('writes through the leader and reads linearizably on every member', async () => {
    const leader = await waitForLeader(members);
    const put = await leader.kv.put('net/blue', 'vni 4097');
    expect(put.op).toBe('put');
    const first = put.revision;
    for (const m of members) {
      const kv = await m.kv.get('net/blue');
      expect({ id: m.id, value: text(kv?.value), modRevision: kv?.modRevision }).toEqual({ id: m.id, value: 'vni 4097', modRevision: first });
    }
    await leader.kv.put('net/red', 'vni 4098');
    const follower = members.find((m) => m !== leader) as Member;
    const range = await follower.kv.prefix('net/');
    expect((await follower.kv.range({ start: 'net/c', end: 'net/s' })).kvs.map((x) => x.key)).toEqual(['net/red']);
    expect(range.kvs.map((x) => x.key)).toEqual(['net/blue', 'net/red']);
    expect(range.revision).toBe(first + 1);
  });

  it('runs compare-and-swap txns through the log: exactly one of two racing allocations wins', async () => {
    const leader = await waitForLeader(members);
    const claim = (owner: string) =>
      leader.kv.txn({ compare: [cmp.version('ip/10.0.0.2', 'equal', 0)], success: [{ op: 'put', key: 'ip/10.0.0.2', value: new TextEncoder().encode(owner) }] });
    const [x, y] = await Promise.all([claim('c1'), claim('c2')]);
    expect([x.succeeded, y.succeeded].sort()).toEqual([false, true]);
    const winner = x.succeeded ? 'c1' : 'c2';
    const follower = members.find((m) => m !== leader) as Member;
    expect(text((await follower.kv.get('ip/10.0.0.2'))?.value)).toBe(winner);
    const del = await leader.kv.delete('ip/10.0.0.2', { prevKv: true });
    expect(del.deleted).toBe(1);
    expect(text(del.prevKvs?.[0]?.value)).toBe(winner);
  });

  it('delivers watch events on a follower in revision order', async () => {
    const leader = await waitForLeader(members);
    const follower = members.find((m) => m !== leader) as Member;
    const seen: WatchEvent[] = [];
    const w = await follower.kv.watch('svc/', (evs) => seen.push(...evs));
    const r1 = await leader.kv.put('svc/web', '1');
    const r2 = await leader.kv.put('svc/web', '2');
    await leader.kv.put('other', 'x');
    const r3 = await leader.kv.delete('svc/web');
    await follower.kv.get('svc/web'); // read barrier: the follower has applied everything above
    w.cancel();
    expect(seen.map((e) => [e.type, e.revision])).toEqual([
      ['put', r1.revision],
      ['put', r2.revision],
      ['delete', r3.revision],
    ]);
  });

  it('propagates the node errors: a put on a follower rejects with NotLeaderError', async () => {
    const leader = await waitForLeader(members);
    const follower = members.find((m) => m !== leader) as Member;
    await expect(follower.kv.put('k', 'v')).rejects.toMatchObject({ name: 'NotLeaderError', code: 'ERR_RAFT_NOT_LEADER' });
  });

  it('reads and writes JSON and text without decoding by hand; txns built with kv/cmp', async () => {
    const leader = await waitForLeader(members);
    const follower = members.find((m) => m !== leader) as Member;
    await leader.kv.putJson('cfg/net', { vni: 4097, subnet: '10.0.0.0/24' });
    expect(await follower.kv.getJson<{ vni: number }>('cfg/net')).toEqual({ vni: 4097, subnet: '10.0.0.0/24' });
    expect(await follower.kv.getText('cfg/net')).toBe('{"vni":4097,"subnet":"10.0.0.0/24"}');
    expect(await follower.kv.getJson('cfg/missing')).toBeUndefined();
    expect(await follower.kv.getText('cfg/missing')).toBeUndefined();
    const t = await leader.kv.txn({
      compare: [cmp.missing('cfg/owner')],
      success: [kv.put('cfg/owner', 'a'), kv.get('cfg/net')],
      failure: [kv.get('cfg/owner')],
    });
    expect(t.succeeded).toBe(true);
    const read = t.results[1];
    expect(read?.op === 'range' && jsonOf(read.kvs[0]!)).toEqual({ vni: 4097, subnet: '10.0.0.0/24' });
    const again = await leader.kv.txn({ compare: [cmp.missing('cfg/owner')], failure: [kv.get('cfg/owner')] });
    expect(again.succeeded).toBe(false);
    expect(again.results[0]?.op === 'range' && textOf(again.results[0].kvs[0]!)).toBe('a');
  });

  it('is a Store: watch from a revision replays, and close() ends its watches and refuses requests', async () => {
    const leader = await waitForLeader(members);
    const follower = members.find((m) => m !== leader) as Member;
    const first = await leader.kv.put('w/a', '1');
    await leader.kv.put('w/a', '2');
    await follower.kv.get('w/a'); // the follower has applied both
    const client: Store = new RaftKv(follower.node, follower.kv.store);
    const seen: string[] = [];
    const errors: unknown[] = [];
    const w = await client.watch('w/', (evs) => seen.push(...evs.map((e) => textOf(e.kv))), { fromRevision: first.revision, onError: (e) => errors.push(e) });
    expect(seen).toEqual(['1', '2']);
    await client.close();
    expect(w.active).toBe(false);
    await leader.kv.put('w/a', '3');
    await follower.kv.get('w/a');
    expect(seen).toEqual(['1', '2']);
    expect(errors).toEqual([]);
    await expect(client.get('w/a')).rejects.toBeInstanceOf(StoreClosedError);
    await expect(client.put('w/a', '4')).rejects.toBeInstanceOf(StoreClosedError);
    await expect(client.watch('w/', () => undefined)).rejects.toBeInstanceOf(StoreClosedError);
    await client.close(); // idempotent
    expect(textOf((await follower.kv.get('w/a'))!)).toBe('3'); // the node itself is still running
  });

  it('refuses a node or store that is not one, naming the argument', () => {
    const store = new KvStore();
    expect(() => new RaftKv({} as never, store)).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', field: 'node' }));
    expect(() => new RaftKv(members[0]!.node, {} as never)).toThrow(expect.objectContaining({ name: 'InvalidOptionsError', field: 'store' }));
  });
});
