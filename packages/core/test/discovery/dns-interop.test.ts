/**
 * Resolvers nobody here wrote, against the loopback listener: BIND's `dig`
 * (UDP, TCP, PTR via -x, TC and the retry over TCP) and node's c-ares
 * `dns.promises.Resolver`.
 */
import { execFile } from 'node:child_process';
import { promises as dns } from 'node:dns';
import type { SocketAddress } from '@weft/interface';
import { commandCapability, describeWith } from '../../../../test-support/capabilities';
import type { DnsServer } from '../../src/discovery/dns-server';
import { manyIpv4, ServerRegistry, testScopes } from './helpers';

const registry = new ServerRegistry();
let server: DnsServer;
let at: SocketAddress;
let refusing: SocketAddress;

beforeAll(async () => {
  server = registry.create({ scopeOf: testScopes().scopeOf });
  at = await server.listen('net1', { host: '127.0.0.1', port: 0 });
  refusing = await server.listen('not-served', { host: '127.0.0.1', port: 0 });
});
afterAll(() => registry.closeAll());

/** Runs dig against the listener (bounded: +time/+tries and a process timeout). */
function dig(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('dig', [`@${at.host}`, '-p', String(at.port), '+time=2', '+tries=1', ...args], { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`dig ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

/** The answer section's records as `type data` lines. */
function answers(out: string): string[] {
  const section = /;; ANSWER SECTION:\n([\s\S]*?)(?:\n\n|$)/.exec(out)?.[1] ?? '';
  return section
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.split(/\s+/))
    .map((f) => `${f[3]} ${f[4]}`);
}

/** The header flags dig prints (`qr aa rd`), and the status. */
function header(out: string): { flags: string[]; status: string } {
  const flags = /;; flags: ([a-z ]*);/.exec(out)?.[1]?.trim().split(/\s+/) ?? [];
  const status = /status: ([A-Z]+)/.exec(out)?.[1] ?? '';
  return { flags, status };
}

describeWith(commandCapability('dig', ['-v']), 'dig against the loopback listener', () => {
  it('resolves A over UDP, authoritative', async () => {
    const out = await dig('+notcp', 'web', 'A');
    expect(header(out)).toEqual({ flags: ['qr', 'aa', 'rd'], status: 'NOERROR' });
    expect(answers(out)).toEqual(['A 10.0.1.2']);
  });

  it('resolves A and AAAA over TCP', async () => {
    expect(answers(await dig('+tcp', 'tasks.svc', 'A'))).toEqual(['A 10.0.1.21', 'A 10.0.1.22', 'A 10.0.1.23']);
    expect(answers(await dig('+tcp', 'DB', 'AAAA'))).toEqual(['AAAA fd00::3']);
  });

  it('gets NODATA for a missing family and for other types, NXDOMAIN for an unnamed internal address', async () => {
    const nodata = await dig('web', 'AAAA');
    expect(header(nodata).status).toBe('NOERROR');
    expect(answers(nodata)).toEqual([]);
    expect(header(await dig('web', 'MX')).status).toBe('NOERROR');
    expect(header(await dig('-x', '10.0.1.99')).status).toBe('NXDOMAIN');
  });

  it('resolves PTR with dig -x, IPv4 and IPv6', async () => {
    expect(answers(await dig('-x', '10.0.1.3'))).toEqual(['PTR db.', 'PTR db-alias.']);
    expect(answers(await dig('+tcp', '-x', 'fd00::3'))).toEqual(['PTR db.']);
  });

  it('sees TC on the 200-address answer over UDP, and gets all 200 when it retries over TCP', async () => {
    const truncated = await dig('+ignore', '+notcp', 'tasks.big', 'A');
    expect(header(truncated).flags).toContain('tc');
    expect(answers(truncated)).toEqual([]);
    const whole = await dig('tasks.big', 'A');
    expect(header(whole).flags).not.toContain('tc');
    expect(answers(whole)).toEqual(manyIpv4(200).map((ip) => `A ${ip}`));
    expect(answers(await dig('+tcp', 'tasks.big', 'A'))).toHaveLength(200);
  });

  it('gets SERVFAIL for an external name (no upstream) and REFUSED from a listener of a network not served', async () => {
    expect(header(await dig('example.com', 'A')).status).toBe('SERVFAIL');
    const out = await new Promise<string>((resolve, reject) =>
      execFile('dig', [`@${refusing.host}`, '-p', String(refusing.port), '+time=2', '+tries=1', 'web', 'A'], { timeout: 15_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
    expect(header(out).status).toBe('REFUSED');
  });

  it('keeps the case it asked with (the answer\'s question section, as dig prints it)', async () => {
    const out = await dig('WeB', 'A');
    expect(out).toMatch(/^;WeB\.\s+IN\s+A$/m);
    expect(answers(out)).toEqual(['A 10.0.1.2']);
  });
});

describe('node dns.promises.Resolver (c-ares) against the loopback listener', () => {
  const resolver = (to: SocketAddress = at): dns.Resolver => {
    const r = new dns.Resolver({ timeout: 2000, tries: 1 });
    r.setServers([`${to.host}:${to.port}`]);
    return r;
  };

  it('resolve4 / resolve6, ENODATA for a missing family', async () => {
    const r = resolver();
    expect(await r.resolve4('web')).toEqual(['10.0.1.2']);
    expect(await r.resolve6('db')).toEqual(['fd00::3']);
    await expect(r.resolve6('web')).rejects.toMatchObject({ code: 'ENODATA' });
    await expect(r.resolve4('v6only')).rejects.toMatchObject({ code: 'ENODATA' });
  });

  it('reverse, and ENOTFOUND for an unnamed internal address', async () => {
    const r = resolver();
    expect(await r.reverse('10.0.1.3')).toEqual(['db', 'db-alias']);
    expect(await r.reverse('fd00::3')).toEqual(['db']);
    await expect(r.reverse('10.0.1.99')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('gets all 200 addresses (c-ares retries over TCP on TC)', async () => {
    const before = server.counters();
    expect(await resolver().resolve4('tasks.big')).toEqual(manyIpv4(200));
    const after = server.counters();
    expect(after.truncated).toBe(before.truncated + 1);
    expect(after.tcpConnections).toBe(before.tcpConnections + 1);
  });

  it('rotates a rotate name between answers', async () => {
    const r = resolver();
    const a = await r.resolve4('svc');
    const b = await r.resolve4('svc');
    expect(new Set(a)).toEqual(new Set(b));
    expect(b).toEqual([...a.slice(1), a[0]]);
  });

  it('ESERVFAIL for an external name without upstream, EREFUSED from a network not served', async () => {
    await expect(resolver().resolve4('example.com')).rejects.toMatchObject({ code: 'ESERVFAIL' });
    await expect(resolver(refusing).resolve4('web')).rejects.toMatchObject({ code: 'EREFUSED' });
  });
});
