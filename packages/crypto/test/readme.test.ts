import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import * as weftCrypto from '../src';

describe('README example', () => {
  it('runs and prints what its comments say', () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    expect(block!.trim().split('\n')).toHaveLength(10);
    const js = ts.transpileModule(block!, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
    const printed: string[] = [];
    const fakeRequire = (name: string) => {
      if (name !== '@weft/crypto') throw new Error(`README example imports ${name}`);
      return weftCrypto;
    };
    const fakeConsole = { log: (...args: unknown[]) => printed.push(args.join(' ')) };
    new Function('require', 'exports', 'console', js)(fakeRequire, {}, fakeConsole);
    // The expected output is taken from the README's own trailing comments.
    const promised = block!
      .split('\n')
      .filter((l) => l.includes('console.log'))
      .map((l) => /\/\/ (\S+)\s*$/.exec(l)?.[1]);
    expect(printed).toEqual(promised);
    expect(printed).toEqual(['hello', 'ERR_REPLAY', 'world']);
  });
});
