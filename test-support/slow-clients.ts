/**
 * Hostile clients in a child process (so their own memory is not the
 * server's): `count` TCP connections to 127.0.0.1:`port` (or, given a path,
 * to that Unix socket), each sending
 * `prefix` and then one byte of `filler` per `everyMs` until the server
 * closes it or `maxMs` passes. Resolves, once every connection has sent its
 * prefix or been closed by the server, with a handle to read how many are still open and to
 * stop (kills the child; its sockets die with it).
 */
import { spawn, type ChildProcess } from 'node:child_process';

const CHILD = `
const net = require('node:net');
const [target, count, everyMs, maxMs, prefixHex] = process.argv.slice(1);
const where = /^[0-9]+$/.test(target) ? { host: '127.0.0.1', port: Number(target) } : { path: target };
const prefix = Buffer.from(prefixHex, 'hex');
let open = 0, ready = 0;
const stopAt = Date.now() + Number(maxMs);
for (let i = 0; i < Number(count); i++) {
  const s = net.connect(where);
  // Settled: its prefix is sent, or the server closed it first (refused); ready once every connection has settled.
  let settled = false;
  const settle = () => { if (!settled) { settled = true; if (++ready === Number(count)) process.stdout.write('ready\\n'); } };
  s.on('error', () => {});
  s.on('close', settle);
  s.on('connect', () => {
    open++;
    s.write(prefix, settle);
    const t = setInterval(() => { if (Date.now() > stopAt || s.destroyed) { clearInterval(t); s.destroy(); } else s.write(Buffer.from([0x16])); }, Number(everyMs));
    s.on('close', () => { open--; clearInterval(t); });
  });
}
process.stdin.on('data', () => process.stdout.write('open ' + open + '\\n'));
setTimeout(() => process.exit(0), Number(maxMs) + 1000);
`;

export interface SlowClients {
  /** Connections the child still has open. */
  open(): Promise<number>;
  stop(): void;
}

export async function slowClients(port: number | string, count: number, options: { everyMs: number; maxMs: number; prefix?: Uint8Array }): Promise<SlowClients> {
  const child: ChildProcess = spawn(process.execPath, ['-e', CHILD, String(port), String(count), String(options.everyMs), String(options.maxMs), Buffer.from(options.prefix ?? []).toString('hex')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  const waiters: Array<(line: string) => void> = [];
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    let i: number;
    while ((i = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, i);
      out = out.slice(i + 1);
      waiters.shift()?.(line);
    }
  });
  const next = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('slow clients: no answer from the child within 30 s')), 30_000);
      waiters.push((l) => {
        clearTimeout(t);
        resolve(l);
      });
    });
  const ready = next();
  try {
    const line = await ready;
    if (line !== 'ready') throw new Error(`slow clients: ${line}`);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    open: async () => {
      const p = next();
      child.stdin!.write('?\n');
      return Number((await p).split(' ')[1]);
    },
    stop: () => {
      child.kill('SIGKILL');
    },
  };
}
