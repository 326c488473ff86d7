/**
 * What an npm user gets (issue 8): every package is `npm pack`ed, and the
 * tarballs are checked as files (LICENSE, README.md, the exports map's
 * targets; package.json metadata; README links that work on the npm page),
 * then installed — with their registry dependencies from the local npm cache
 * (`--prefer-offline`) and the optional peers a user of every entry installs —
 * into two fresh projects: a strict NodeNext ESM one (`"type": "module"`) and
 * a CommonJS one. In each: `tsc` (strict, no `skipLibCheck`) type-checks a
 * consumer of every entry and each package README's first code block
 * (as-is for ESM; wrapped in an async `main` for CommonJS), the compiled
 * blocks run under node and print what their `// value` comments say, every
 * entry resolves and loads under both `require` and `import`, and importing
 * `@weft/raft` (and `@weft/raft/testing`) loads no `classic-level` while
 * `@weft/raft/level` does.
 *
 * Slow (about a minute). Needs `npm run build` first; CI builds before
 * testing. Scratch directories live in the OS temp dir and are removed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWith } from '../../test-support/capabilities';
import { builtCapability, packageEntries, workspaceRoot as root } from '../../test-support/package-entries';

/**
 * Known problems of `@weft/core`, which others are writing right now: still
 * checked, reported with console.warn instead of failing; delete a line once
 * the lead has fixed it (the test warns when one passes).
 */
const corePending: Record<string, string> = {};

const entries = packageEntries();
const dirs = [...new Set(entries.map((e) => e.dir))];
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command with a bounded time and an environment free of the outer npm's `npm_*` settings. */
function run(cmd: string, args: readonly string[], cwd: string, timeoutMs: number): Run {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'INIT_CWD'));
  const r = spawnSync(cmd, args, { cwd, env: { ...env, npm_config_update_notifier: 'false' }, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  const timedOut = r.error !== undefined ? `\n(${String(r.error)})` : '';
  return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + timedOut };
}

function mustRun(cmd: string, args: readonly string[], cwd: string, timeoutMs: number): Run {
  const r = run(cmd, args, cwd, timeoutMs);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

interface PackedFile {
  readonly path: string;
}
interface Packed {
  readonly name: string;
  readonly filename: string;
  readonly files: readonly PackedFile[];
}

interface ShippedPackageJson {
  name: string;
  license?: string;
  homepage?: string;
  repository?: { type?: string; url?: string; directory?: string };
  bugs?: { url?: string };
  keywords?: string[];
  sideEffects?: boolean;
  main?: string;
  module?: string;
  types?: string;
  exports?: Record<string, string | Record<string, Record<string, string>>>;
  peerDependencies?: Record<string, string>;
}

/** The first fenced TypeScript block of a README, or undefined. */
export function firstCodeBlock(readme: string): string | undefined {
  return /```(?:ts|typescript)\n([\s\S]*?)```/.exec(readme)?.[1];
}

/** Leading comments and import statements, and the rest. */
function splitImports(block: string): { head: string[]; body: string[] } {
  const lines = block.replace(/\n+$/, '').split('\n');
  const head: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    if (line.trim() === '' || line.trim().startsWith('//')) {
      head.push(line);
      i++;
    } else if (/^import\b/.test(line)) {
      for (; i < lines.length; i++) {
        head.push(lines[i] as string);
        if ((lines[i] as string).trimEnd().endsWith(';')) {
          i++;
          break;
        }
      }
    } else break;
  }
  return { head, body: lines.slice(i) };
}

/** The block as a CommonJS module: imports stay on top, the rest (which may use top-level await) runs in `main`. */
export function asCommonJs(block: string): string {
  const { head, body } = splitImports(block);
  return [
    ...head,
    'async function main(): Promise<void> {',
    ...body.map((l) => (l === '' ? l : `  ${l}`)),
    '}',
    'main().catch((err: unknown) => {',
    '  console.error(err);',
    '  process.exitCode = 1;',
    '});',
    '',
  ].join('\n');
}

/** For each `console.log` line of the block, in order: the `// value` comment it ends with, if any. */
export function expectedOutputs(block: string): (string | undefined)[] {
  return block
    .split('\n')
    .filter((l) => l.includes('console.log('))
    .map((l) => {
      const at = l.lastIndexOf(' // ');
      return at < 0 ? undefined : l.slice(at + 4).trim();
    });
}

/** Differences between what a block printed and its comments (a comment may go on after the value: `// 10.0.0.3 (serial: ...)`). */
export function outputProblems(block: string, stdout: string): string[] {
  const expected = expectedOutputs(block);
  const printed = stdout.replace(/\n$/, '').split('\n');
  if (printed.length !== expected.length) return [`printed ${printed.length} line(s) for ${expected.length} console.log call(s):\n${stdout}`];
  return expected.flatMap((want, i) => {
    const got = (printed[i] as string).trimEnd();
    return want === undefined || (got !== '' && want.startsWith(got)) ? [] : [`line ${i + 1}: printed ${JSON.stringify(got)}, README says ${JSON.stringify(want)}`];
  });
}

/** Links a README on the npm page cannot follow: relative paths (npm renders no repository files). */
export function relativeLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\[[^\]]*\]\(([^)\s]+)[^)]*\)/g)].map((m) => m[1] as string).filter((url) => !/^(https?:|mailto:|#)/.test(url));
}

/** Prints a pending problem (or that it is fixed) to stderr, where CI logs show it. */
function reportPending(key: string, problems: readonly string[]): void {
  const text = problems.length > 0 ? `${corePending[key]}\n  ${problems.join('\n  ').replace(/\n/g, '\n  ')}` : `now passes: delete it from corePending in ${__filename}`;
  process.stderr.write(`core: pending (${key}): ${text}\n`);
}

/** What loading `@weft/raft` pulled in: classic-level modules in the require cache and its native addon among the loaded shared objects. */
const LEVEL_PROBE = `
const levelLoaded = () => ({
  modules: Object.keys(cache()).filter((k) => /[\\\\/]node_modules[\\\\/](classic-level|level)[\\\\/]/.test(k)).length,
  addon: process.report.getReport().sharedObjects.filter((s) => /classic-level/.test(s)),
});
await load('@weft/raft');
await load('@weft/raft/testing');
const before = levelLoaded();
const level = await load('@weft/raft/level');
console.log(JSON.stringify({ before, after: levelLoaded(), levelStorage: typeof level.LevelStorage }));
`;

function levelProbe(mode: 'require' | 'import'): string {
  return mode === 'require'
    ? `(async () => { const cache = () => require.cache; const load = async (s) => require(s);\n${LEVEL_PROBE}\n})();`
    : `import { createRequire } from 'node:module'; const cache = () => createRequire(import.meta.url).cache; const load = (s) => import(s);\n${LEVEL_PROBE}`;
}

function loadEveryEntry(mode: 'require' | 'import'): string {
  const list = JSON.stringify(entries.map((e) => e.entry));
  return mode === 'require'
    ? `const out = {}; for (const e of ${list}) { require.resolve(e); out[e] = Object.keys(require(e)).length; } console.log(JSON.stringify(out));`
    : `const out = {}; for (const e of ${list}) { out[e] = Object.keys(await import(e)).filter((k) => k !== 'default').length; } console.log(JSON.stringify(out));`;
}

describeWith(builtCapability(), 'packed tarballs', () => {
  let work = '';
  let tgzDir = '';
  let packed: Packed[] = [];
  /** The tarball's package.json and README, by package directory name. */
  const shipped = new Map<string, { pj: ShippedPackageJson; readme: string; license: string; packed: Packed }>();

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'weft-packaging-'));
    tgzDir = join(work, 'tarballs');
    mkdirSync(tgzDir);
    packed = JSON.parse(mustRun('npm', ['pack', '--workspaces', '--json', '--pack-destination', tgzDir], root, 120_000).stdout) as Packed[];
    for (const p of packed) {
      const dir = entries.find((e) => e.pkg === p.name)?.dir ?? p.name;
      const into = join(work, 'unpacked', dir);
      mkdirSync(into, { recursive: true });
      mustRun('tar', ['-xzf', join(tgzDir, p.filename), '-C', into], work, 60_000);
      const file = (name: string): string => (existsSync(join(into, 'package', name)) ? readFileSync(join(into, 'package', name), 'utf8') : '');
      shipped.set(dir, { pj: JSON.parse(file('package.json')) as ShippedPackageJson, readme: file('README.md'), license: file('LICENSE'), packed: p });
    }
  }, 180_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('packs every package', () => {
    expect(packed.map((p) => p.name).sort()).toEqual([...new Set(entries.map((e) => e.pkg))].sort());
  });

  describe.each(dirs)('%s tarball', (dir) => {
    it('holds LICENSE (Apache-2.0), README.md, package.json and every file its main/module/types/exports name', () => {
      const s = shipped.get(dir);
      expect(s).toBeDefined();
      const files = new Set(s?.packed.files.map((f) => f.path));
      const targets = Object.values(s?.pj.exports ?? {}).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t).flatMap((c) => Object.values(c))));
      const named = [s?.pj.main, s?.pj.module, s?.pj.types, ...targets].filter((t): t is string => t !== undefined).map((t) => t.replace(/^\.\//, ''));
      const missing = ['LICENSE', 'README.md', 'package.json', ...named].filter((f) => !files.has(f));
      expect(missing).toEqual([]);
      expect(s?.license).toMatch(/Apache License\s+Version 2\.0/);
    });

    it('package.json has repository, homepage, bugs, keywords, license and sideEffects; exports list types first', () => {
      const pj = shipped.get(dir)?.pj as ShippedPackageJson;
      const problems: string[] = [];
      if (pj.repository?.type !== 'git' || !pj.repository.url?.startsWith('git+https://') || pj.repository.directory !== `packages/${dir}`) problems.push(`repository ${JSON.stringify(pj.repository)}`);
      if (!pj.homepage?.startsWith('https://') || !pj.homepage.includes(`packages/${dir}`)) problems.push(`homepage ${JSON.stringify(pj.homepage)}`);
      if (!pj.bugs?.url?.startsWith('https://')) problems.push(`bugs ${JSON.stringify(pj.bugs)}`);
      if (!Array.isArray(pj.keywords) || pj.keywords.length === 0) problems.push(`keywords ${JSON.stringify(pj.keywords)}`);
      const repeated = new Set(pj.keywords).size !== pj.keywords?.length ? [`keywords repeat: ${JSON.stringify(pj.keywords)}`] : [];
      if (`keywords ${pj.name}` in corePending) reportPending(`keywords ${pj.name}`, repeated);
      else problems.push(...repeated);
      if (pj.license !== 'Apache-2.0') problems.push(`license ${JSON.stringify(pj.license)}`);
      if (pj.sideEffects !== false) problems.push(`sideEffects ${JSON.stringify(pj.sideEffects)}`);
      for (const [subpath, target] of Object.entries(pj.exports ?? {})) {
        if (typeof target === 'string') continue;
        for (const [condition, targets] of Object.entries(target)) {
          if (Object.keys(targets)[0] !== 'types') problems.push(`exports["${subpath}"].${condition}: "types" must come first`);
        }
      }
      expect(problems).toEqual([]);
    });

    it('README opens with a TypeScript example, and its links work on the npm page (no relative links)', () => {
      const readme = shipped.get(dir)?.readme ?? '';
      expect(firstCodeBlock(readme)).toBeDefined();
      expect(relativeLinks(readme)).toEqual([]);
    });
  });

  describe.each(['module', 'commonjs'] as const)('installed into a fresh %s project', (type) => {
    let project = '';
    let typecheck: Run = { status: null, stdout: '', stderr: '' };
    const blocks = new Map<string, string>();

    beforeAll(() => {
      project = join(work, type === 'module' ? 'esm-project' : 'cjs-project');
      mkdirSync(join(project, 'src'), { recursive: true });
      const ours = Object.fromEntries(packed.map((p) => [p.name, `file:${join(tgzDir, p.filename)}`]));
      const peers: Record<string, string> = {};
      for (const s of shipped.values()) for (const [n, range] of Object.entries(s.pj.peerDependencies ?? {})) if (!(n in ours)) peers[n] = range;
      writeFileSync(
        join(project, 'package.json'),
        JSON.stringify({ name: `weft-scratch-${type}`, private: true, type, dependencies: { ...ours, ...peers }, overrides: ours }, null, 2),
      );
      mustRun('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], project, 300_000);

      const imports = entries.map((e, i) => `import * as entry${i} from '${e.entry}';`);
      writeFileSync(join(project, 'src', 'consumer.ts'), `${imports.join('\n')}\nexport const all: object[] = [${entries.map((_, i) => `entry${i}`).join(', ')}];\n`);
      for (const [dir, s] of shipped) {
        const block = firstCodeBlock(s.readme);
        if (block === undefined) continue;
        blocks.set(dir, block);
        writeFileSync(join(project, 'src', `readme-${dir}.ts`), type === 'module' ? block : asCommonJs(block));
      }
      writeFileSync(
        join(project, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            target: 'ES2022',
            lib: ['ES2022'],
            strict: true,
            skipLibCheck: false,
            outDir: 'dist',
            rootDir: 'src',
            types: ['node'],
            typeRoots: [join(root, 'node_modules', '@types')],
          },
          include: ['src'],
        }),
      );
      typecheck = run(process.execPath, [tsc, '-p', join(project, 'tsconfig.json')], project, 300_000);
    }, 600_000);

    it('installs our packages from the tarballs, never from a registry', () => {
      const lock = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8')) as { packages: Record<string, { resolved?: string }> };
      const weft = Object.entries(lock.packages).filter(([path]) => /node_modules\/@weft\//.test(path));
      expect(weft.length).toBe(packed.length);
      for (const [path, info] of weft) expect([path, info.resolved?.startsWith('file:')]).toEqual([path, true]);
      expect(readdirSync(join(project, 'node_modules', '@weft')).length).toBe(packed.length);
    });

    it('type-checks every entry and every README block: strict, NodeNext, no skipLibCheck', () => {
      const errors = `${typecheck.stdout}${typecheck.stderr}`.split('\n').filter((l) => /error TS\d+/.test(l));
      const tolerated: string[] = [];
      for (const key of Object.keys(corePending).filter((k) => k.startsWith('README @weft/'))) {
        const inFile = errors.filter((l) => l.startsWith(`src/readme-${key.slice('README @weft/'.length)}.ts`));
        if (inFile.length > 0) reportPending(key, inFile);
        tolerated.push(...inFile);
      }
      expect(errors.filter((l) => !tolerated.includes(l))).toEqual([]);
    });

    it.each(dirs)('runs the first code block of the %s README', (dir) => {
      const block = blocks.get(dir);
      expect(block).toBeDefined();
      const compiled = join(project, 'dist', `readme-${dir}.js`);
      const r = existsSync(compiled) ? run(process.execPath, [compiled], project, 120_000) : { status: null, stdout: '', stderr: `${compiled} was not emitted` };
      const problems = r.status === 0 ? outputProblems(block ?? '', r.stdout) : [`exited ${r.status}: ${r.stderr.trim().split('\n').slice(0, 8).join('\n')}`];
      const key = `README ${shipped.get(dir)?.pj.name}`;
      if (key in corePending) {
        reportPending(key, problems);
        return;
      }
      expect(problems).toEqual([]);
    }, 150_000);

    it.each(['require', 'import'] as const)('every entry resolves and loads with %s', (mode) => {
      const r = mustRun(process.execPath, [`--input-type=${mode === 'require' ? 'commonjs' : 'module'}`, '-e', loadEveryEntry(mode)], project, 60_000);
      const counts = JSON.parse(r.stdout) as Record<string, number>;
      expect(Object.keys(counts).sort()).toEqual(entries.map((e) => e.entry).sort());
      for (const [entry, n] of Object.entries(counts)) expect([entry, n > 0]).toEqual([entry, true]);
    }, 90_000);

    it.each(['require', 'import'] as const)('%s of @weft/raft and @weft/raft/testing loads no classic-level; @weft/raft/level does', (mode) => {
      const r = mustRun(process.execPath, [`--input-type=${mode === 'require' ? 'commonjs' : 'module'}`, '-e', levelProbe(mode)], project, 60_000);
      const seen = JSON.parse(r.stdout) as { before: { modules: number; addon: string[] }; after: { modules: number; addon: string[] }; levelStorage: string };
      expect(seen.before).toEqual({ modules: 0, addon: [] });
      expect(seen.levelStorage).toBe('function');
      expect(seen.after.modules).toBeGreaterThan(0);
      expect(seen.after.addon.length).toBeGreaterThan(0);
    }, 90_000);
  });
});

describe('README block helpers', () => {
  const block = [
    '// x.mts',
    "import { a,",
    "  type B } from '@weft/a';",
    "import { c } from '@weft/c';",
    '',
    'const v = await a();',
    'console.log(v); // 10.0.0.3 (serial: not reused at once)',
    "console.log(`${v}`);",
  ].join('\n');

  it('wrap a block for CommonJS with its imports on top', () => {
    const cjs = asCommonJs(block);
    expect(cjs.indexOf("import { c } from '@weft/c';")).toBeLessThan(cjs.indexOf('async function main'));
    expect(cjs).toContain('  const v = await a();');
  });

  it('compare printed lines with the // comments', () => {
    expect(outputProblems(block, '10.0.0.3\nanything\n')).toEqual([]);
    expect(outputProblems(block, '10.0.0.4\nanything\n')).toEqual(['line 1: printed "10.0.0.4", README says "10.0.0.3 (serial: not reused at once)"']);
    expect(outputProblems(block, '10.0.0.3\n')[0]).toMatch(/printed 1 line/);
  });

  it('find relative links', () => {
    expect(relativeLinks('[a](https://x/y) [b](../../docs/raft.md) [c](#errors) [d](docs/x.md "t")')).toEqual(['../../docs/raft.md', 'docs/x.md']);
  });
});
