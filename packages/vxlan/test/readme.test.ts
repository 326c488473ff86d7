/**
 * Runs the example that opens README.md as written (two VTEPs on loopback
 * UDP, one endpoint each, a ping across VNI 42) and checks what it printed,
 * so the README stays true.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import * as vxlan from '../src/index';

describe('README example', () => {
  it('runs as written and prints the round-trip time', async () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const source = block as string;
    expect(source.trim().split('\n').length).toBeLessThanOrEqual(10);
    // The example is an ES module with top-level await: run its CommonJS form inside an async function.
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
    const printed: string[] = [];
    const fakeRequire = (name: string): unknown => {
      if (name !== '@weft/vxlan') throw new Error(`README example imports ${name}`);
      return vxlan;
    };
    const fakeConsole = { log: (...args: unknown[]) => printed.push(args.map(String).join(' ')) };
    const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
    await new AsyncFunction('require', 'exports', 'console', js)(fakeRequire, {}, fakeConsole);
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/^VNI 42: 10\.0\.0\.2 answers in \d+\.\d\d ms$/);
  });
});
