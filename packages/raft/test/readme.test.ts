/**
 * Runs every ```ts block of packages/raft/README.md exactly as written there
 * (imports of '@weft/raft', '@weft/raft/level', '@weft/raft/testing' and
 * '@weft/interface' are mapped to the sources; `node:` modules are required),
 * and checks that each `console.log(...); // <text>` prints <text>, in order.
 * The Errors section must list every error code the package defines.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';
import ts from 'typescript';
import * as iface from '@weft/interface';
import * as raft from '../src';
import * as level from '../src/level';
import * as testing from '../src/testing';

const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);

const modules: Record<string, unknown> = {
  '@weft/raft': raft,
  '@weft/raft/level': level,
  '@weft/raft/testing': testing,
  '@weft/interface': iface,
};

function load(name: string): unknown {
  if (name in modules) return modules[name];
  if (name.startsWith('node:')) return require(name);
  throw new Error(`README imports ${name}, which the test does not map`);
}

/** `import { a, type B, c as d } from 'm';` → `const { a, c: d } = __import('m');` */
function rewriteImports(code: string): string {
  return code.replace(/^import (type )?\{([^}]*)\} from '([^']+)';$/gm, (_all, typeOnly: string | undefined, names: string, from: string) => {
    if (typeOnly) return '';
    const bindings = names
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n.length > 0 && !n.startsWith('type '))
      .map((n) => n.replace(/^(\w+) as (\w+)$/, '$1: $2'));
    return `const { ${bindings.join(', ')} } = __import(${JSON.stringify(from)});`;
  });
}

/** The `// text` comments after `console.log(...)` calls, in source order. */
function expectedOutput(code: string): string[] {
  return [...code.matchAll(/console\.log\(.*\);\s*\/\/ (.*)$/gm)].map((m) => (m[1] as string).trim());
}

async function run(code: string): Promise<string[]> {
  const body = rewriteImports(code);
  const js = ts.transpileModule(`(async () => {\n${body}\n})`, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.None } }).outputText;
  const printed: string[] = [];
  const fakeConsole = { log: (...args: unknown[]) => printed.push(format(...args)) };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const fn = new Function('__import', 'console', `return ${js.trim().replace(/;$/, '')};`)(load, fakeConsole) as () => Promise<void>;
  await fn();
  return printed;
}

describe('packages/raft/README.md', () => {
  it('has the opening example, a kv/cmp/txn example, and no relative links', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    expect(readme.trimStart().startsWith('# @weft/raft\n\n```ts')).toBe(true);
    expect(blocks.some((b) => /\bcmp\./.test(b) && /\bkv\./.test(b) && /\.txn\(/.test(b))).toBe(true);
    expect(readme).not.toMatch(/\]\((?!https:\/\/)/);
  });

  it.each(blocks.map((b, i) => [i + 1, b] as const))('block %i runs and prints what its comments say', async (_i, code) => {
    const expected = expectedOutput(code);
    expect(expected.length).toBeGreaterThan(0);
    expect(await run(code)).toEqual(expected);
  });

  it('lists every error code of the package in its Errors section', () => {
    const errors = readme.slice(readme.indexOf('## Errors'));
    const codes = new Set<string>();
    for (const mod of [raft, testing]) {
      for (const value of Object.values(mod)) {
        if (typeof value === 'function' && value.prototype instanceof raft.RaftError) {
          codes.add(new (value as new (...a: unknown[]) => raft.RaftError)('x').code);
        }
      }
    }
    codes.add(new raft.RaftError('x').code);
    expect(codes.size).toBeGreaterThan(20);
    for (const code of codes) expect(errors).toContain(`\`${code}\``);
  });
});
