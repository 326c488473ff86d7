/**
 * Every ```ts block in README.md and packages/<name>/README.md type-checks and
 * runs. Each is written to its own .mts file under .tmp/ in the repository
 * (so `@weft/*` resolves through the root tsconfig's paths to the packages'
 * sources); all are type-checked as written in one `tsc` run against those
 * sources, then each is run with `node --import tsx`, bounded by a timeout,
 * and must exit 0. The blocks are found when the test runs, so new or changed
 * examples are covered without touching this file. A block that is
 * deliberately not runnable is preceded by `<!-- not-run: reason -->` and
 * skipped with its reason printed.
 *
 * One rewrite before running: the package sources are CommonJS to tsx, and
 * Node's ESM loader cannot see names they re-export with `export *`, so
 * `import { A, B } from '@weft/x'` runs as a destructuring of the module's
 * default export (its `module.exports`), which holds the same names. The
 * type-check sees the imports exactly as the README writes them.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { execFileSync } from 'node:child_process';

const root = join(__dirname, '..');
const TIMEOUT_MS = 60_000;

jest.setTimeout(TIMEOUT_MS + 10_000);

interface Block {
  /** README path relative to the repository root, and the block's first line there. */
  where: string;
  code: string;
  /** Set when the block is marked `<!-- not-run: reason -->`. */
  notRun?: string;
}

function readmes(): string[] {
  const pkgs = join(root, 'packages');
  const inPackages = readdirSync(pkgs)
    .map((p) => join(pkgs, p, 'README.md'))
    .filter((f) => existsSync(f));
  return [join(root, 'README.md'), ...inPackages];
}

/** The ```ts blocks of a Markdown file, with the `not-run` marker that precedes a block (blank lines between allowed). */
function tsBlocks(file: string, text: string): Block[] {
  const lines = text.split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i]!)) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    let j = start - 1;
    while (j >= 0 && lines[j]!.trim() === '') j--;
    const marker = j >= 0 ? /^<!--\s*not-run:\s*(.*?)\s*-->$/.exec(lines[j]!.trim()) : null;
    out.push({ where: `${relative(root, file)}:${start + 1}`, code: body.join('\n') + '\n', ...(marker ? { notRun: marker[1] || 'no reason given' } : {}) });
  }
  return out;
}

/** The block with its named `@weft/*` imports turned into destructured default imports (see the file comment). */
function runnable(code: string): string {
  let n = 0;
  return code.replace(/^import\s+\{([^}]*)\}\s+from\s+'(@weft\/[\w-]+(?:\/[\w-]+)?)';?[ \t]*$/gm, (_all, list: string, spec: string) => {
    const names = list
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== '' && !x.startsWith('type '))
      .map((x) => x.replace(/\s+as\s+/, ': '));
    const ns = `__weft${n++}`;
    return `import ${ns} from '${spec}'; const { ${names.join(', ')} } = ${ns} as any;`;
  });
}

/** Type-checks `files` (as written) against the packages' sources; throws with tsc's output. */
function typecheck(dir: string, files: string[]): void {
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: join(root, 'tsconfig.base.json'),
      // The root tsconfig's paths: every package and subpath entry (`@weft/raft/level`, ...) resolves to its sources.
      compilerOptions: { noEmit: true, types: ['node'], baseUrl: root, paths: (JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as { compilerOptions: { paths: Record<string, string[]> } }).compilerOptions.paths },
      files,
    }),
  );
  try {
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  } catch (err) {
    const out = (err as { stdout?: string }).stdout ?? String(err);
    throw new Error(`README blocks do not type-check:\n${out.replace(/\S*block-(\d+)\.mts\((\d+),(\d+)\)/g, (_m, i: string, line: string, col: string) => `${blocks[Number(i)]!.where} block line ${line}, col ${col}`)}`);
  }
}

function run(file: string): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', file],
      { cwd: root, timeout: TIMEOUT_MS, killSignal: 'SIGKILL', encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string; signal?: string }) | null;
        resolve({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, signal: e?.signal ?? null, stdout, stderr });
      },
    );
  });
}

const blocks = readmes().flatMap((f) => tsBlocks(f, readFileSync(f, 'utf8')));

describe('README code blocks run', () => {
  let dir: string;
  beforeAll(() => {
    mkdirSync(join(root, '.tmp'), { recursive: true });
    dir = mkdtempSync(join(root, '.tmp', 'readme-examples-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds the examples', () => {
    expect(blocks.filter((b) => b.notRun === undefined).length).toBeGreaterThanOrEqual(4);
  });

  it('type-check as written', () => {
    const files: string[] = [];
    for (const [i, b] of blocks.entries()) {
      if (b.notRun !== undefined) continue;
      const f = join(dir, `block-${i}.mts`);
      writeFileSync(f, b.code);
      files.push(f);
    }
    typecheck(dir, files);
  });

  for (const [i, block] of blocks.entries()) {
    if (block.notRun !== undefined) {
      // eslint-disable-next-line no-console
      console.warn(`not running the block at ${block.where}: ${block.notRun}`);
      continue;
    }
    it(`${block.where} exits 0`, async () => {
      const file = join(dir, `run-${i}.mts`);
      writeFileSync(file, runnable(block.code));
      const r = await run(file);
      if (r.code !== 0) throw new Error(`${block.where} exited ${r.code}${r.signal ? ` (${r.signal}, timeout ${TIMEOUT_MS} ms?)` : ''}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
      expect(r.code).toBe(0);
    });
  }
});
