/**
 * Encrypted networks on the kernel plane: their VNIs get an nftables guard
 * in the host namespace that drops (and counts) cleartext VXLAN both ways —
 * injected from another host, or sent from this one — with no local
 * endpoint needed (CVE-2023-28841/28842). These planes run their host side
 * in another namespace (`hostNetns`), where the encrypted relay's sockets
 * cannot be bound, so attaching to an encrypted network is refused (the
 * relay itself: weft-mixed-encrypted.test.ts and relay.test.ts). The table is
 * named after the plane's prefix, repaired by reconcile, removed with the
 * last encrypted network and by close().
 */
import { UnsupportedFeatureError, LinuxStateError } from '@weft/linux';
import type { NetworkSpec } from '@weft/interface';
import { describeWith, netnsCapability } from '../../../test-support/capabilities';
import { until } from '../../../test-support/wait';
import { KernelLab, localEp, network, type Host } from './hosts';

const encryption = { suite: 'aes-256-gcm', keys: [{ generation: 1, secret: new Uint8Array(32).fill(3) }], sendGeneration: 1 };

/** Sends one VXLAN-looking UDP datagram (flags I, `vni`, a dummy inner frame) from `from` to `to`:4789; returns python's exit status and stderr. */
function sendVxlan(k: KernelLab, from: Host, to: string, vni: number): { status: number; stderr: string } {
  const py = `import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.sendto(bytes.fromhex('08000000%06x00' % ${vni}) + bytes(60), ('${to}', 4789))\n`;
  return k.tryExec(from.ns, 'python3', ['-c', py]);
}

describeWith(netnsCapability(), 'KernelDataPlane cleartext guard (nftables)', () => {
  const k = new KernelLab('wg');
  let h1: Host;
  let h2: Host;
  const ov = () => `198.19.${k.lab.subnetIndex}`;
  beforeAll(() => {
    [h1, h2] = k.hosts(1500);
  });
  afterAll(() => k.cleanup());

  it('drops cleartext VXLAN of an encrypted VNI arriving and leaving, refuses attach, and goes with the network', async () => {
    const b = await k.plane(h2, 'b');
    const E = 5000 + k.lab.subnetIndex;
    const enc: NetworkSpec = { ...network('net-secret', E, ov()), encryption };
    await b.ensureNetwork(network('net-plain', E + 1, ov()));
    expect(await b.guardState()).toBeUndefined();
    await b.ensureNetwork(enc);
    expect(b.mtuOf('net-secret')).toBe(1500 - 50 - 32);
    const g = await b.guardState();
    expect(g).toMatchObject({ input: [E], output: [E], dropped: { [E]: 0 } });
    expect(k.exec(h2.ns, 'nft', ['list', 'tables'])).toMatch(new RegExp(`table inet ${b.namePrefix}\\b`));

    // injected from another host: dropped and counted; another VNI is not
    expect(sendVxlan(k, h1, h2.address, E).status).toBe(0);
    await until(async () => ((await b.guardState())?.dropped[E] ?? 0) >= 1, 'the guard to count the injected packet', 5_000);
    expect(sendVxlan(k, h1, h2.address, E + 1).status).toBe(0);
    expect((await b.guardState())?.dropped[E]).toBe(1);
    // sent from this host in cleartext: refused at output (EPERM) and counted
    const out = sendVxlan(k, h2, h1.address, E);
    expect(out.status).not.toBe(0);
    expect(out.stderr).toMatch(/PermissionError|Operation not permitted/);
    expect((await b.guardState())?.dropped[E]).toBe(2);

    // no attach on an encrypted network without the relay (hostNetns is not this process's namespace); nothing created
    await expect(b.addLocalEndpoint('net-secret', localEp('e1', `${ov()}.1`, '02:42:c6:15:00:01', k.container('c1').path))).rejects.toBeInstanceOf(UnsupportedFeatureError);
    expect(b.ownedNamespaces()).toEqual([]);
    await expect(b.setNetworkKeys('net-plain', encryption)).rejects.toBeInstanceOf(LinuxStateError);
    await expect(b.setNetworkKeys('net-secret', { ...encryption, keys: [...encryption.keys, { generation: 2, secret: new Uint8Array(32).fill(4) }] })).resolves.toBeUndefined();

    // reconcile repairs the table when it is removed behind the plane's back, then changes nothing
    k.exec(h2.ns, 'nft', ['delete', 'table', 'inet', b.namePrefix]);
    const r = await b.reconcile();
    expect(r.changes.map((c) => `${c.action} ${c.kind}`)).toEqual(['add guard']);
    expect((await b.guardState())?.input).toEqual([E]);
    expect(await b.reconcile()).toEqual({ changes: [], errors: [] });

    // another node's plane on the same host keeps its hands off b's table
    const other = await k.plane(h2, 'b-other', { vxlanPort: 4790, encryptedPort: 4791 });
    expect(await other.reconcile()).toEqual({ changes: [], errors: [] });
    await other.close();
    expect((await b.guardState())?.input).toEqual([E]);

    // the last encrypted network gone: the table goes
    await b.removeNetwork('net-secret');
    expect(await b.guardState()).toBeUndefined();
    await b.ensureNetwork(enc);
    expect(await b.guardState()).toBeDefined();
    await b.close();
    expect(k.exec(h2.ns, 'nft', ['list', 'tables'])).not.toMatch(new RegExp(`table inet ${b.namePrefix}\\b`));
  });
});
