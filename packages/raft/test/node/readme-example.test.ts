/**
 * Runs the example that opens packages/raft/README.md, exactly as written
 * there (imports of '@weft/raft' are mapped to the package source), so the
 * README cannot drift from the code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import * as raft from '../../src';

test('the README example runs and prints "hello"', async () => {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  const importLine = /^import \{([^}]*)\} from '@weft\/raft';$/m;
  const names = importLine.exec(block!)?.[1];
  expect(names).toBeDefined();
  const body = block!.replace(importLine, `const {${names}} = raft;`);
  const js = ts.transpileModule(`(async () => {\n${body}\n})`, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.None } }).outputText;
  const printed: unknown[] = [];
  const fakeConsole = { log: (...args: unknown[]) => printed.push(args.join(' ')) };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const run = new Function('raft', 'console', `return ${js.trim().replace(/;$/, '')};`)(raft, fakeConsole) as () => Promise<void>;
  await run();
  expect(printed).toEqual(['hello']);
});
