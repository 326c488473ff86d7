import { Network } from './network';

describe('RawNode basics', () => {
  it('elects a leader by timeout and replicates a proposal to every node', () => {
    const net = new Network(['a', 'b', 'c']);
    net.flush();
    net.tick(30);
    const leaders = net.leaders();
    expect(leaders).toHaveLength(1);
    const l = leaders[0] as string;
    net.propose(l, 'x=1');
    net.tick(2);
    for (const id of ['a', 'b', 'c']) expect(net.peer(id).applied).toEqual(['x=1']);
    const st = net.node(l).status();
    expect(st.commit).toBe(5); // 3 bootstrap conf entries, the leader's empty entry, x=1
  });
});
