/**
 * A 3-member etcd cluster on 127.0.0.1 (Debian's etcd-server, `/usr/bin/etcd`)
 * with data directories in a temp directory, as the baseline of the raft
 * benchmark. `destroy()` kills the members and removes the directory.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './process-cluster';

/** Path of the etcd binary, or undefined when it is not installed. */
export function findEtcd(): string | undefined {
  for (const p of ['/usr/bin/etcd', 'etcd']) {
    const r = spawnSync(p, ['--version'], { stdio: 'ignore', timeout: 10_000 });
    if (r.status === 0) return p;
  }
  return undefined;
}

/**
 * Mutual TLS for an {@link EtcdCluster}: the CA every member and client must
 * chain to, and one certificate per member (used for both its client and its
 * peer URLs, so it needs serverAuth + clientAuth and an IP SAN 127.0.0.1).
 */
export interface EtcdClusterTls {
  caPem: string;
  members: { certPem: string; keyPem: string }[];
}

export class EtcdCluster {
  readonly dir = mkdtempSync(join(tmpdir(), `weft-etcd-${process.pid}-`));
  readonly clientUrls: string[] = [];
  private readonly procs: ChildProcess[] = [];
  private logs = '';
  /** Peer URLs of the members, in member order. */
  readonly peerUrls: string[] = [];
  /** Kills the members if this process exits without destroy(). */
  private readonly onExit = (): void => {
    for (const p of this.procs) p.kill('SIGKILL');
  };

  /**
   * @param tls mutual TLS on client and peer URLs (https://, etcd's
   *   --client-cert-auth and --peer-client-cert-auth: a client or peer
   *   without a certificate from `tls.caPem` is refused); absent: plain http.
   */
  constructor(
    private readonly binary: string,
    private readonly tls?: EtcdClusterTls,
  ) {
    process.on('exit', this.onExit);
  }

  async start(): Promise<void> {
    const names = ['e1', 'e2', 'e3'];
    const peerPorts = [await freePort(), await freePort(), await freePort()];
    const clientPorts = [await freePort(), await freePort(), await freePort()];
    const scheme = this.tls === undefined ? 'http' : 'https';
    const initial = names.map((n, i) => `${n}=${scheme}://127.0.0.1:${peerPorts[i]}`).join(',');
    let caFile = '';
    if (this.tls !== undefined) {
      caFile = join(this.dir, 'ca.pem');
      writeFileSync(caFile, this.tls.caPem);
    }
    names.forEach((name, i) => {
      const client = `${scheme}://127.0.0.1:${clientPorts[i]}`;
      const peer = `${scheme}://127.0.0.1:${peerPorts[i]}`;
      this.clientUrls.push(client);
      this.peerUrls.push(peer);
      const tlsFlags: string[] = [];
      if (this.tls !== undefined) {
        const m = this.tls.members[i]!;
        const cert = join(this.dir, `${name}.pem`);
        const key = join(this.dir, `${name}-key.pem`);
        writeFileSync(cert, m.certPem);
        writeFileSync(key, m.keyPem, { mode: 0o600 });
        tlsFlags.push(
          '--cert-file', cert, '--key-file', key, '--trusted-ca-file', caFile, '--client-cert-auth',
          '--peer-cert-file', cert, '--peer-key-file', key, '--peer-trusted-ca-file', caFile, '--peer-client-cert-auth',
        );
      }
      const p = spawn(
        this.binary,
        [
          '--name', name,
          '--data-dir', join(this.dir, name),
          '--listen-client-urls', client,
          '--advertise-client-urls', client,
          '--listen-peer-urls', peer,
          '--initial-advertise-peer-urls', peer,
          '--initial-cluster', initial,
          '--initial-cluster-state', 'new',
          '--initial-cluster-token', `weft-bench-${process.pid}`,
          '--log-level', 'error',
          ...tlsFlags,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      p.stderr!.on('data', (d: Buffer) => (this.logs = (this.logs + d.toString()).slice(-4000)));
      this.procs.push(p);
    });
  }

  /** Process ids of the members (for /proc CPU accounting). */
  pids(): number[] {
    return this.procs.map((p) => p.pid).filter((pid): pid is number => pid !== undefined);
  }

  /** Recent stderr of the members. */
  log(): string {
    return this.logs;
  }

  async destroy(): Promise<void> {
    await Promise.all(
      this.procs.map(
        (p) =>
          new Promise<void>((r) => {
            if (p.exitCode !== null || p.signalCode !== null) return r();
            p.once('exit', () => r());
            p.kill('SIGKILL');
          }),
      ),
    );
    process.off('exit', this.onExit);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
