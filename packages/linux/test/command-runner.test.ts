import { execFileSync } from 'node:child_process';
import { DataPlaneError, isWeftError } from '@weft/interface';
import {
  CAP_NET_ADMIN,
  CommandRunner,
  KernelDataPlane,
  LinuxCommandError,
  MissingCapabilityError,
  hasCapability,
  readEffectiveCapabilities,
} from '@weft/linux';
import { allOf, commandCapability, describeWith, netnsCapability } from '../../../test-support/capabilities';
import { NetnsLab } from '../../../test-support/netns';

const NET_ADMIN_ONLY = 1n << BigInt(CAP_NET_ADMIN);

describe('capability check', () => {
  it('reads CapEff from /proc/self/status text', () => {
    const status = 'Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t0000000000001000\nCapBnd:\t000001ffffffffff\n';
    const set = readEffectiveCapabilities(status);
    expect(set).toBe(0x1000n);
    expect(hasCapability(set, CAP_NET_ADMIN)).toBe(true);
    expect(hasCapability(set, 21)).toBe(false);
    expect(readEffectiveCapabilities('no such line')).toBe(0n);
  });

  it('refuses to construct without CAP_NET_ADMIN, naming it, before running anything', () => {
    let err: unknown;
    try {
      new CommandRunner({ capabilityReader: () => 0n });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MissingCapabilityError);
    expect(isWeftError(err, 'ERR_LINUX_MISSING_CAPABILITY')).toBe(true);
    expect((err as MissingCapabilityError).capability).toBe('CAP_NET_ADMIN');
    expect((err as Error).message).toMatch(/CAP_NET_ADMIN/);
  });

  it('names CAP_SYS_ADMIN when only CAP_NET_ADMIN is held (namespaces need it)', () => {
    expect(() => new CommandRunner({ capabilityReader: () => NET_ADMIN_ONLY })).toThrow(expect.objectContaining({ capability: 'CAP_SYS_ADMIN' }));
  });

  it('KernelDataPlane.open rejects with the typed error and creates nothing', async () => {
    const before = existsNamespaces('weft-nocap');
    await expect(
      KernelDataPlane.open({ nodeId: 'nocap', underlayAddress: '198.18.0.1', capabilityReader: () => 0n }),
    ).rejects.toMatchObject({ name: 'MissingCapabilityError', capability: 'CAP_NET_ADMIN' });
    expect(existsNamespaces('weft-nocap')).toEqual(before);
  });

  describeWith(allOf(netnsCapability(), commandCapability('setpriv', ['--version'])), 'a really unprivileged process', () => {
    it("the status of a process run as nobody (setpriv) fails the check", async () => {
      const status = execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', 'cat', '/proc/self/status'], { encoding: 'utf8' });
      const set = readEffectiveCapabilities(status);
      expect(hasCapability(set, CAP_NET_ADMIN)).toBe(false);
      await expect(
        KernelDataPlane.open({ nodeId: 'nocap', underlayAddress: '198.18.0.1', capabilityReader: () => readEffectiveCapabilities(status) }),
      ).rejects.toBeInstanceOf(MissingCapabilityError);
      // and root's own status passes it
      expect(() => new CommandRunner()).not.toThrow();
    });
  });
});

function existsNamespaces(prefix: string): string[] {
  try {
    return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.startsWith(prefix));
  } catch {
    return [];
  }
}

describeWith(netnsCapability(), 'CommandRunner in a real namespace', () => {
  const lab = new NetnsLab('wr');
  let ns = '';
  let path = '';
  beforeAll(() => {
    ns = lab.addNamespace();
    path = `/var/run/netns/${ns}`;
  });
  afterAll(() => lab.cleanup());

  it('runs ip -batch inside the namespace via nsenter, reads back with -json, and counts every spawn', async () => {
    const r = new CommandRunner();
    expect(r.spawns).toBe(0);
    await r.ipBatch(['link add wra type veth peer name wrb', 'link set wra mtu 1400', 'link set wra up'], { netns: path });
    expect(r.spawns).toBe(1);
    const links = await r.ipJson<{ ifname: string; mtu: number }[]>(['link', 'show'], { netns: path });
    expect(r.spawns).toBe(2);
    expect(links.find((l) => l.ifname === 'wra')?.mtu).toBe(1400);
    // not in this process's namespace
    expect(() => execFileSync('ip', ['link', 'show', 'wra'], { stdio: 'ignore' })).toThrow();
    await r.ipBatch([], { netns: path });
    expect(r.spawns).toBe(2);
    const fdb = await r.bridgeJson<unknown[]>(['fdb', 'show', 'dev', 'wra'], { netns: path });
    expect(Array.isArray(fdb)).toBe(true);
    expect(r.spawns).toBe(3);
  });

  it('a hostNetns runner runs its host-side commands in that namespace', async () => {
    const r = new CommandRunner({ hostNetns: path });
    const links = await r.ipJson<{ ifname: string }[]>(['link', 'show']);
    expect(links.map((l) => l.ifname)).toContain('wra');
    expect(r.spawns).toBe(1);
  });

  it('a failing command rejects with LinuxCommandError carrying the command, exit code, stderr and script', async () => {
    const r = new CommandRunner();
    const err = await r.ipBatch(['link set nonexistent0 up'], { netns: path }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LinuxCommandError);
    const e = err as LinuxCommandError;
    expect(e.command).toBe(`nsenter --net=${path} ip -batch -`);
    expect(e.exitCode).not.toBe(0);
    expect(e.exitCode).not.toBeNull();
    expect(e.stderr).toMatch(/nonexistent0/);
    expect(e.input).toEqual(['link set nonexistent0 up']);
    expect(e).toBeInstanceOf(DataPlaneError);
    // a namespace that does not exist
    await expect(r.ipJson(['link'], { netns: '/var/run/netns/no-such-weft-ns' })).rejects.toBeInstanceOf(LinuxCommandError);
    // a binary that cannot be started
    await expect(r.run(['/nonexistent/weft-binary'])).rejects.toMatchObject({ exitCode: null });
  });

  it('tolerateMissing makes removals of what is already gone succeed, and only those', async () => {
    const r = new CommandRunner();
    await r.ipBatch(['link del nothere0', 'neigh del 198.18.77.9 dev wra'], { netns: path, tolerateMissing: true });
    await r.bridgeBatch(['fdb del 02:00:00:00:00:09 dev wra self'], { netns: path, tolerateMissing: true });
    await expect(r.ipBatch(['link add wrc type bogus-kind'], { netns: path, tolerateMissing: true })).rejects.toBeInstanceOf(LinuxCommandError);
  });

  it('nft runs a script in the namespace', async () => {
    const r = new CommandRunner();
    await r.nft('add table inet weft_runner_test\n', { netns: path });
    const out = execFileSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'tables'], { encoding: 'utf8' });
    expect(out).toMatch(/weft_runner_test/);
    await expect(r.nft('add chain inet no_such_table c\n', { netns: path })).rejects.toBeInstanceOf(LinuxCommandError);
  });
});
