import { execFileSync } from 'node:child_process';
import { describeWith, netnsCapability } from '../../../../test-support/capabilities';
import { NetnsLab } from '../../../../test-support/netns';

function exists(args: string[]): boolean {
  try {
    execFileSync('ip', args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describeWith(netnsCapability(), 'test-support NetnsLab', () => {
  it('creates a namespace and veth pair, reports failures with the command, and removes everything', async () => {
    const lab = new NetnsLab('wt');
    let ns = '';
    let rootName = '';
    try {
      ns = lab.addNamespace();
      const s = lab.subnetIndex;
      rootName = lab.addVeth(ns, `198.18.${s}.1/30`, `198.18.${s}.2/30`).rootName;
      expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).toContain(ns);
      expect(exists(['link', 'show', rootName])).toBe(true);
      expect(await lab.execAsync(ns, 'ping', ['-c', '1', '-W', '2', `198.18.${s}.1`])).toMatch(/1 received/);
      expect(() => lab.exec(ns, 'ip', ['link', 'set', 'nonexistent0', 'up'])).toThrow(/`ip netns exec .* ip link set nonexistent0 up` failed/);
      await expect(lab.execAsync(ns, 'false', [])).rejects.toThrow(/failed/);
      expect(lab.tryExec(ns, 'false', []).status).not.toBe(0);
      const child = lab.spawn(ns, 'sleep', ['30']);
      const exited = new Promise((r) => child.once('exit', r));
      lab.cleanup();
      await exited;
    } finally {
      lab.cleanup();
    }
    expect(lab.liveNamespaces).toEqual([]);
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(ns);
    expect(exists(['link', 'show', rootName])).toBe(false);
  });
});
