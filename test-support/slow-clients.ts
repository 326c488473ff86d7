/**
 * Hostile clients in a child process (so their own memory is not the
 * server's): `count` TCP connections to 127.0.0.1:`port`, each sending
 * `prefix` and then one byte of `filler` per `everyMs` until the server
 * closes it or `maxMs` passes. Resolves, once every connection is open and
 * has sent its prefix, with a handle to read how many are still open and to
 * stop (kills the child; its sockets die with it).
 */
import { spawn, type ChildProcess } from 'node:child_process';

const CHILD = `
const net = require('node:net');
const [port, count, everyMs, maxMs, prefixHex] = process.argv.slice(1);
const prefix = Buffer.from(prefixHex, 'hex');
let open = 0, ready = 0;
const stopAt = Date.now() + Number(maxMs);
for (let i = 0; i < Number(count); i++) {
  const s = net.connect({ host: '127.0.0.1', port: Number(port) });
  s.on('error', () => {});
  s.on('connect', () => {
    open++;
    s.write(prefix, () => { if (++ready === Number(count)) process.stdout.write('ready\\n'); });
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

export async function slowClients(port: number, count: number, options: { everyMs: number; maxMs: number; prefix?: Uint8Array }): Promise<SlowClients> {
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
