/** Runs bench/core/scale-child.ts in a process of its own (with --expose-gc) and returns its result. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ScaleResult } from './scale-child';

const CHILD = join(__dirname, 'scale-child.ts');

export async function scaleRun(config: { managers: number; workers: number; networks: number; endpoints: number; inFlight: number; boundMs: number }): Promise<ScaleResult> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: join(__dirname, '..', '..'),
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), config.boundMs + 120_000);
  try {
    let result: ScaleResult | undefined;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    for await (const line of createInterface({ input: child.stdout! })) {
      if (line.startsWith('result ')) result = JSON.parse(line.slice('result '.length)) as ScaleResult;
    }
    const code = await exited;
    if (result === undefined) throw new Error(`core scale child exited with code ${String(code)} and no result`);
    return result;
  } finally {
    clearTimeout(killer);
    child.kill('SIGKILL');
  }
}
