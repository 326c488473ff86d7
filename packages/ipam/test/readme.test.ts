/**
 * Runs the example that opens README.md and checks each `console.log(...); // value`
 * comment against what the code printed, so the README stays true.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import * as ipam from '../src/index';

describe('README example', () => {
  it('runs and prints what its comments say', () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const source = block as string;
    expect(source.trim().split('\n').length).toBeLessThanOrEqual(10);
    const expected = source
      .split('\n')
      .filter((l) => l.startsWith('console.log('))
      .map((l) => l.slice(l.indexOf('// ') + 3).replace(/ \(.*\)$/, ''));
    expect(expected.length).toBeGreaterThanOrEqual(3);
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
    const printed: string[] = [];
    const fakeRequire = (name: string): unknown => {
      if (name !== '@weft/ipam') throw new Error(`README example imports ${name}`);
      return ipam;
    };
    const fakeConsole = { log: (...args: unknown[]) => printed.push(args.map(String).join(' ')) };
    new Function('require', 'exports', 'console', js)(fakeRequire, {}, fakeConsole);
    expect(printed).toEqual(expected);
  });
});
